//! Statistics on correlated columns (PostgreSQL only).
//!
//! A consultant's customers are all in one store, but the planner assumes
//! store and consultant are independent and guesses 5 rows where a
//! consultant of a 10,000-customer store has 500. With that guess it reads
//! all 500 to join a handful of tasks ("my day": 2.1 ms at 1 M customers,
//! 0.5 ms with the statistics), so the cost grew with the store instead of
//! with the answer. The same holds for leads and tasks per consultant.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATISTICS: &[(&str, &str, &str)] = &[
    (
        "st_customer_responsible",
        "customer",
        "store_id, responsible_staff_id",
    ),
    ("st_lead_consultant", "lead", "store_id, consultant_id"),
    ("st_task_assignee", "task", "store_id, assignee_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (name, table, cols) in STATISTICS {
            db.execute_unprepared(&format!(
                "CREATE STATISTICS IF NOT EXISTS {name} (dependencies, ndistinct) ON {cols} FROM {table}"
            ))
            .await?;
            db.execute_unprepared(&format!("ANALYZE {table}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        for (name, _, _) in STATISTICS {
            m.get_connection()
                .execute_unprepared(&format!("DROP STATISTICS IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
