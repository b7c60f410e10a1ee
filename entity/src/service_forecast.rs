//! A vehicle's next service, predicted from time and mileage.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_forecast")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vehicle_id: Uuid,
    pub store_id: Uuid,
    pub daily_m: i32,
    pub last_service_on: Option<Date>,
    pub last_service_km: Option<i32>,
    pub services: i32,
    pub due_on: Option<Date>,
    pub due_km: Option<i32>,
    pub basis: Option<String>,
    pub stale: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
