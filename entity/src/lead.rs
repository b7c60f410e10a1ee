//! A sales opportunity: a customer interested in buying, from one channel.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lead")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub customer_id: Uuid,
    pub consultant_id: Option<Uuid>,
    pub channel: String,
    pub source_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub source_detail: Option<String>,
    pub campaign: Option<String>,
    pub interest_model: Option<String>,
    pub budget_yuan: Option<i64>,
    pub purchase_timing: Option<String>,
    pub trade_in: bool,
    pub trade_in_model: Option<String>,
    pub grade: String,
    pub status: String,
    pub first_response_due_at: DateTimeUtc,
    pub first_responded_at: Option<DateTimeUtc>,
    pub last_contact_at: Option<DateTimeUtc>,
    pub next_follow_up_at: Option<DateTimeUtc>,
    pub follow_ups: i32,
    pub lost_reason: Option<String>,
    pub lost_to_brand: Option<String>,
    pub lost_to_model: Option<String>,
    pub lost_note: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
