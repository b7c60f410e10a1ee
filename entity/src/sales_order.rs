//! A car order, from draft to delivery.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_order")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub lead_id: Uuid,
    pub customer_id: Uuid,
    pub consultant_id: Uuid,
    pub model: String,
    pub trim: Option<String>,
    pub colour: Option<String>,
    pub price_yuan: i64,
    pub discount_yuan: i64,
    pub deposit_yuan: i64,
    pub payment: String,
    pub loan_provider: Option<String>,
    pub loan_term_months: Option<i32>,
    pub down_payment_yuan: Option<i64>,
    pub insurance: Option<String>,
    pub trade_in: Option<String>,
    pub accessories: Option<String>,
    pub commission_yuan: i64,
    pub status: String,
    pub pdi: Option<Json>,
    pub pdi_completed_at: Option<DateTimeUtc>,
    pub vehicle_id: Option<Uuid>,
    pub delivered_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
