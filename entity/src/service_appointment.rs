//! A booked service visit: a vehicle, an advisor and a time.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_appointment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub customer_id: Uuid,
    pub vehicle_id: Uuid,
    pub advisor_id: Uuid,
    pub source: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub concern: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub status: String,
    pub repair_order_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
