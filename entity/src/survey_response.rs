//! A customer's answers to a satisfaction survey about one sale or service
//! visit, with the staff member it rates.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_response")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub customer_id: Uuid,
    pub template_id: Option<Uuid>,
    pub kind: String,
    pub event_type: Option<String>,
    pub event_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub method: String,
    pub answers: Json,
    pub overall: i32,
    pub csi: f64,
    pub recorded_by: Uuid,
    pub answered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
