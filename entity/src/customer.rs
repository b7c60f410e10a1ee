//! A customer of one store (the store owns the record, not the employee).
use sea_orm::entity::prelude::*;

crate::by_position! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub store_id: Uuid,
        pub name: String,
        pub mobile: String,
        pub gender: String,
        pub city: Option<String>,
        pub source: String,
        pub lifecycle_stage: String,
        pub marketing_consent: bool,
        pub sharing_consent: bool,
        pub responsible_staff_id: Option<Uuid>,
        pub merged_into_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
