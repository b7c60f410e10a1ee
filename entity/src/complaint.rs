//! A customer's complaint: what they said, through which channel, its
//! category, cause and severity, who handles it, its response and
//! resolution deadlines, and how it ended.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaint")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub customer_id: Uuid,
    pub vehicle_id: Option<Uuid>,
    pub repair_order_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub department: String,
    pub channel: String,
    pub received_at: DateTimeUtc,
    pub content: String,
    pub category: String,
    pub cause: String,
    pub severity: String,
    pub owner_id: Uuid,
    pub status: String,
    pub response_due_at: DateTimeUtc,
    pub resolution_due_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub improvement_plan: Option<String>,
    pub outcome_satisfaction: Option<i32>,
    pub survey_response_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
