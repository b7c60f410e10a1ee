//! A repair order: one visit of a vehicle to the workshop.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "repair_order")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub customer_id: Uuid,
    pub vehicle_id: Uuid,
    pub advisor_id: Uuid,
    pub kind: String,
    pub mileage_in: i32,
    pub complaint: String,
    pub diagnosis: Option<String>,
    pub inspection: Option<String>,
    pub measurements: Option<Json>,
    pub jobs: Json,
    pub parts: Json,
    pub labour_fen: i64,
    pub parts_fen: i64,
    pub total_fen: i64,
    pub warranty_fen: i64,
    pub paid_fen: i64,
    pub payment_method: Option<String>,
    pub promised_at: Option<DateTimeUtc>,
    pub status: String,
    pub repeat_of_id: Option<Uuid>,
    pub fixed_first_time: Option<bool>,
    pub opened_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
