//! A staff member's targets for a month (units sold stay in `sales_quota`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_target")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub staff_id: Uuid,
    pub month: String,
    pub tasks_done: Option<i32>,
    pub service_revenue_fen: Option<i64>,
    pub new_customers: Option<i32>,
    pub receivables_fen: Option<i64>,
    pub csi: Option<f64>,
    pub set_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
