//! A vehicle known to a store, owned by one of its customers.
use sea_orm::entity::prelude::*;

crate::by_position! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vehicle")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub store_id: Uuid,
        pub vin: String,
        pub brand: String,
        pub model: String,
        pub trim: Option<String>,
        pub colour: Option<String>,
        pub plate: Option<String>,
        pub purchase_date: Option<Date>,
        pub delivery_date: Option<Date>,
        pub owner_id: Uuid,
        pub warranty_ends_on: Option<Date>,
        pub warranty_km: Option<i32>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
