//! A 4S store (dealer): the tenant of every business row. `settings` holds the store's typed settings as JSON.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub oem_id: Uuid,
    pub group_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub grade: String,
    pub city: String,
    pub time_zone: String,
    pub settings: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
