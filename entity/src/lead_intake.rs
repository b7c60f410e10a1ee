//! A lead posted to the webhook, waiting to become a lead (or become one
//! already: then `body` is cleared and `lead_id` names it).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_intake")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_id: Uuid,
    pub external_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub lead_id: Option<Uuid>,
    pub received_at: DateTimeUtc,
    pub not_before: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
