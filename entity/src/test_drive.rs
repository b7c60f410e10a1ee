//! A booked or driven test drive.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "test_drive")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub lead_id: Uuid,
    pub customer_id: Uuid,
    pub demo_car_id: Uuid,
    pub consultant_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub licence_no: String,
    pub agreement_signed_at: Option<DateTimeUtc>,
    pub route: Option<String>,
    pub start_km: Option<i32>,
    pub end_km: Option<i32>,
    pub feedback: Option<String>,
    pub rating: Option<i32>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
