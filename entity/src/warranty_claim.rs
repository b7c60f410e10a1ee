//! A warranty claim a store files with the OEM from a warranty repair.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranty_claim")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub repair_order_id: Uuid,
    pub vehicle_id: Uuid,
    pub customer_id: Uuid,
    pub model: String,
    pub failed_part: String,
    pub cause: String,
    pub labour_fen: i64,
    pub parts_fen: i64,
    pub total_fen: i64,
    pub serviced_on: Date,
    pub file_by: Date,
    pub submitted_at: Option<DateTimeUtc>,
    pub late: bool,
    pub status: String,
    pub tracking_no: Option<String>,
    pub reject_reason: Option<String>,
    pub paid_fen: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
