//! Database migrations: one per change, append-only once landed.
pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261123_000001_foundation;
mod m20261123_000002_tasks;
mod m20261123_000003_reminder_queue;
mod m20261130_000004_sales;
mod m20261130_000005_lead_intake;
mod m20261130_000006_service;
mod m20261201_000007_campaigns;
mod m20261201_000008_care;
mod m20261201_000009_statistics;
mod m20261201_000010_plans;

/// All migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_tasks::Migration),
            Box::new(m20261123_000003_reminder_queue::Migration),
            Box::new(m20261130_000004_sales::Migration),
            Box::new(m20261130_000005_lead_intake::Migration),
            Box::new(m20261130_000006_service::Migration),
            Box::new(m20261201_000007_campaigns::Migration),
            Box::new(m20261201_000008_care::Migration),
            Box::new(m20261201_000009_statistics::Migration),
            Box::new(m20261201_000010_plans::Migration),
        ]
    }
}
