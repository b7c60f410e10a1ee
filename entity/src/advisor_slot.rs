//! One booked quarter hour of a service advisor.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "advisor_slot")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub advisor_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot_at: DateTimeUtc,
    pub appointment_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
