//! A staff member (login account) of a store, dealer group or OEM.
use sea_orm::entity::prelude::*;

crate::by_position! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "staff")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub oem_id: Uuid,
        pub group_id: Option<Uuid>,
        pub store_id: Option<Uuid>,
        pub team_id: Option<Uuid>,
        pub username: String,
        pub mobile: Option<String>,
        pub name: String,
        pub role: String,
        pub active: bool,
        pub password_hash: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub deactivated_at: Option<DateTimeUtc>,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
