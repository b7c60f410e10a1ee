//! Where a customer stands, as the daily retention pass last saw them:
//! lifecycle stage, risks, value and segment.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_standing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    pub store_id: Uuid,
    pub stage: String,
    pub segment: String,
    pub risks: String,
    pub at_risk: bool,
    pub at_risk_since: Option<Date>,
    pub last_visit_on: Option<Date>,
    pub visits_12m: i32,
    pub vehicles: i32,
    pub sales_revenue_fen: i64,
    pub service_revenue_fen: i64,
    pub revenue_fen: i64,
    pub ltv_fen: i64,
    pub computed_on: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
