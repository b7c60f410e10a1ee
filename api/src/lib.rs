//! The dealership CRM server: GraphQL over axum and sea-orm.
//!
//! `build_app` gives the router; `prepare` opens the database and makes it
//! ready; `serve` runs until SIGTERM or Ctrl-C.
pub mod auth;
pub mod care;
pub mod clock;
pub mod config;
pub mod console;
pub mod customers;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod insights;
pub mod labels;
pub mod org;
pub mod paging;
pub mod rows;
pub mod sales;
pub mod seed;
pub mod seed_history;
pub mod service;
pub mod tasks;

use std::sync::Arc;

use chrono::Duration;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{AppEnv, Config, LogFormat};

/// Everything a request needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Where reports read: the read replica's pool when one is configured,
    /// else the same pool as `db`.
    pub reports: DatabaseConnection,
    /// Configuration.
    pub config: Arc<Config>,
    /// Token keys and lifetimes.
    pub keys: Arc<auth::actor::TokenKeys>,
    /// Source of "now".
    pub clock: Arc<dyn Clock>,
    /// Prometheus registry.
    pub metrics: PrometheusHandle,
    /// Where notifications are delivered.
    pub provider: Arc<dyn tasks::outbox::Provider>,
    /// Password hashing pool, login throttles and request rate limits.
    pub guards: Arc<auth::guard::Guards>,
    /// Wakes the lead intake worker when the webhook accepts a lead.
    pub lead_intake: Arc<tokio::sync::Notify>,
    /// Wakes the service forecast pass when readings come in bulk.
    pub forecasts: Arc<tokio::sync::Notify>,
    /// Signed-in staff, so that a request need not read its staff row.
    pub actors: Arc<auth::actor::ActorCache>,
    /// Parsed GraphQL documents by hash (and persisted queries).
    pub documents: Arc<http::documents::Documents>,
}

/// Opens and migrates the database, seeds demo data when configured and
/// empty, and resolves secrets.
pub async fn prepare(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let secret = config.resolve_jwt_secret()?;
    let db = db::connect(&config.database_url, config.db_max_connections).await?;
    db::migrate(&db).await?;
    if config.should_seed_demo()
        && seed::seed_demo(&db, clock.now(), config.seed_customers_per_store).await?
    {
        let now = clock.now();
        customers::forecast::repredict_stale(&db, now, customers::forecast::BATCH)
            .await
            .map_err(|e| anyhow::anyhow!("predicting the demo's services: {e:?}"))?;
    }
    let keys = auth::actor::TokenKeys::new(
        &secret,
        Duration::minutes(config.access_token_minutes),
        Duration::days(config.refresh_token_days),
    );
    let provider = Arc::new(tasks::outbox::LocalProvider {
        delay: std::time::Duration::from_millis(config.local_provider_delay_ms),
    });
    let guards = Arc::new(auth::guard::Guards::from_config(&config));
    let actors = Arc::new(auth::actor::ActorCache::new(
        std::time::Duration::from_secs(config.actor_cache_secs),
    ));
    // Reports read the replica when there is one; the schema comes with
    // the primary's stream, so nothing is migrated there.
    // Without one, PostgreSQL reports get a small pool of their own on the
    // primary, planned per run (`db::Plans`); SQLite shares the pool.
    let reports = match config.read_replica_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => db::connect_for_reports(url, config.db_max_connections).await?,
        None if db.get_database_backend() == sea_orm::DbBackend::Postgres => {
            db::connect_for_reports(&config.database_url, config.db_max_connections.clamp(1, 4))
                .await?
        }
        None => db.clone(),
    };
    Ok(AppState {
        reports,
        actors,
        documents: Default::default(),
        guards,
        db,
        config: Arc::new(config),
        keys: Arc::new(keys),
        clock,
        metrics: http::metrics_handle(),
        provider,
        lead_intake: Arc::new(tokio::sync::Notify::new()),
        forecasts: Arc::new(tokio::sync::Notify::new()),
    })
}

/// The HTTP application for a prepared state.
pub fn build_app(state: AppState) -> axum::Router {
    let schema = graphql::build_schema(
        Some(state.clone()),
        state.config.graphql_max_depth,
        state.config.graphql_max_complexity,
    );
    http::router(http::HttpState { app: state, schema })
}

/// Serves on `listener` until shutdown is signalled; runs the lead intake
/// worker and the service forecast pass beside it, and the scheduler and
/// the daily retention pass when configured.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    tasks::events::start_relay(&state.db, true);
    auth::actor::listen_for_changes(&state.db, state.actors.clone());
    let interval = state.config.scheduler_interval_secs;
    let scheduler = (interval > 0).then(|| {
        let s = tasks::scheduler::Scheduler::for_app(&state);
        tokio::spawn(s.run(std::time::Duration::from_secs(interval)))
    });
    // The daily retention pass runs with the scheduler (each store once a
    // day, whichever process gets there first).
    let retention = (interval > 0).then(|| {
        tokio::spawn(care::retention::run(
            state.db.clone(),
            state.clock.clone(),
            std::time::Duration::from_secs(60),
        ))
    });
    let intake = tokio::spawn(sales::intake::run(
        state.db.clone(),
        state.clock.clone(),
        state.lead_intake.clone(),
    ));
    let forecasts = tokio::spawn(customers::forecast::run(
        state.db.clone(),
        state.clock.clone(),
        state.forecasts.clone(),
        std::time::Duration::from_secs(60),
    ));
    let app = build_app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    for s in [scheduler, retention].into_iter().flatten() {
        s.abort();
    }
    intake.abort();
    forecasts.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Sets up logging: text or JSON lines, filtered by RUST_LOG.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = match format {
        LogFormat::Json => fmt().with_env_filter(filter).json().try_init(),
        LogFormat::Text => fmt().with_env_filter(filter).try_init(),
    };
}
