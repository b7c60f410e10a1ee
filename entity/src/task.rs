//! A dated piece of follow-up work about a customer.
use sea_orm::entity::prelude::*;

crate::by_position! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "task")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub store_id: Uuid,
        pub kind: String,
        pub title: String,
        pub reason: String,
        pub customer_id: Uuid,
        pub subject_type: Option<String>,
        pub subject_id: Option<Uuid>,
        pub vehicle_id: Option<Uuid>,
        pub assignee_id: Option<Uuid>,
        pub assignee_role: Option<String>,
        pub earliest_at: DateTimeUtc,
        pub due_at: DateTimeUtc,
        pub latest_at: DateTimeUtc,
        pub status: String,
        pub outcome: Option<String>,
        pub rule: Option<String>,
        pub rule_key: Option<String>,
        pub escalation_level: i32,
        pub max_escalation_level: i32,
        pub escalated_at: Option<DateTimeUtc>,
        pub escalation_wait_hours: Option<i32>,
        pub created_by: Option<Uuid>,
        pub completed_by: Option<Uuid>,
        pub completed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
