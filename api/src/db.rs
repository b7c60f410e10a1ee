//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// Opens a pool for `url` and applies the per-connection settings each
/// backend needs.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    open(url, max_connections, Plans::Generic).await
}

/// How PostgreSQL plans a pool's prepared statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plans {
    /// One plan per statement, whatever its parameters: the hot reads.
    Generic,
    /// A plan for the values at hand, every run: reports, whose time
    /// windows and reach (one store or a whole network) change which plan
    /// is right. A generic plan read the network's repair orders store by
    /// store through an index (0.67 s) where a parallel scan takes 0.29 s;
    /// PostgreSQL's default (`auto`) still switched to it now and then.
    PerRun,
}

/// The reports' pool on the primary: the same database, planned per run.
pub async fn connect_for_reports(
    url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    open(url, max_connections, Plans::PerRun).await
}

async fn open(url: &str, max_connections: u32, plans: Plans) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A connection in use a moment ago is not pinged again before the
        // next statement (a ping is a round trip per request); one idle
        // for a while is, in case the server or a proxy dropped it.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    let local = loopback_without_sslmode(url);
    opts.map_sqlx_postgres_opts(move |o| {
        // Every statement here is a prepared statement whose plan does not
        // depend on its parameters' values (ids, a store, a time window):
        // PostgreSQL's default re-plans such a statement on every run when
        // its generic plan looks dearer, which was a third of "my day"'s
        // cost (1.2 ms of planning for 0.5 ms of work).
        let o = match plans {
            Plans::Generic => o.options([("plan_cache_mode", "force_generic_plan")]),
            Plans::PerRun => o.options([("plan_cache_mode", "force_custom_plan")]),
        };
        // TLS to a server on the same machine only costs CPU (a tenth of a
        // request's); an explicit `sslmode` in the URL is kept.
        if local {
            o.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
        } else {
            o
        }
    });
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

/// `NOTIFY channel, payload` on PostgreSQL (sent when the surrounding
/// transaction commits, if any); nothing on SQLite, which has one process.
pub async fn notify<C: ConnectionTrait>(
    db: &C,
    channel: &str,
    payload: String,
) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Hands each notification's payload on `channel` to `on`, and `None` each
/// time listening starts (what was sent while nobody listened is lost), on
/// a connection of its own that is opened again when lost. PostgreSQL
/// only: on SQLite nothing is started.
pub fn listen(
    db: &DatabaseConnection,
    channel: &'static str,
    on: impl Fn(Option<&str>) + Send + 'static,
) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        loop {
            match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen(channel).await {
                    Ok(()) => {
                        on(None);
                        loop {
                            match listener.recv().await {
                                Ok(n) => on(Some(n.payload())),
                                Err(e) => {
                                    tracing::warn!(error = %e, channel, "listener lost");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, channel, "LISTEN failed"),
                },
                Err(e) => tracing::warn!(error = %e, channel, "listener could not connect"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Whether `url` is a PostgreSQL server on this machine with no `sslmode`
/// of its own.
fn loopback_without_sslmode(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return false;
    };
    if url.contains("sslmode=") {
        return false;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1") || host.is_empty()
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

#[cfg(test)]
mod tests {
    use super::loopback_without_sslmode as local;

    #[test]
    fn tls_is_left_off_only_for_this_machine_without_an_sslmode() {
        assert!(local("postgres://postgres@127.0.0.1:5432/crm"));
        assert!(local("postgresql://u:p@localhost/crm"));
        assert!(local("postgres://u@[::1]:5432/crm"));
        assert!(local("postgres:///crm?host=/var/run/postgresql"));
        assert!(!local("postgres://u@127.0.0.1/crm?sslmode=require"));
        assert!(!local("postgres://u@db.example.com/crm"));
        assert!(!local("sqlite://crm.db?mode=rwc"));
    }
}
