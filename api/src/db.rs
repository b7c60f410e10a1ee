//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// Opens a pool for `url` and applies the per-connection settings each
/// backend needs.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let mut db = Database::connect(opts).await?;
    // Every statement is counted and timed: /metrics shows database load,
    // and tests prove nested lists are batched (no N+1).
    db.set_metric_callback(|info| {
        let outcome = if info.failed { "error" } else { "ok" };
        metrics::counter!("db_statements_total", "outcome" => outcome).increment(1);
        metrics::histogram!("db_statement_duration_seconds").record(info.elapsed.as_secs_f64());
    });
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the single writer.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        db.execute_unprepared("PRAGMA synchronous=NORMAL").await?;
    }
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Whether the database answers (for /readyz).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
