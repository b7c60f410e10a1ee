//! All settings, from flags or environment variables, in one typed struct.
use std::{net::SocketAddr, path::PathBuf};

use base64::Engine;
use rand::RngCore;

/// Where the server runs. Production refuses unsafe defaults.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local use: generated secrets, demo data on first run.
    Development,
    /// Real stores: secrets must be given, no demo data unless asked.
    Production,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The server's configuration. Every field has a flag and an env variable.
#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// sqlite://FILE?mode=rwc (embedded) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://dealer-crm.db?mode=rwc"
    )]
    pub database_url: String,
    /// development or production.
    #[arg(long, env = "APP_ENV", value_enum, default_value = "development")]
    pub app_env: AppEnv,
    /// Secret that signs access tokens (at least 32 characters). Required in production.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Where the generated development secret is kept between runs.
    #[arg(long, env = "JWT_SECRET_FILE", default_value = ".dealer-crm-secret")]
    pub jwt_secret_file: PathBuf,
    /// Lifetime of an access token, in minutes.
    #[arg(long, env = "ACCESS_TOKEN_MINUTES", default_value_t = 15)]
    pub access_token_minutes: i64,
    /// Lifetime of a refresh token, in days.
    #[arg(long, env = "REFRESH_TOKEN_DAYS", default_value_t = 30)]
    pub refresh_token_days: i64,
    /// text or json.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Seed the demo OEM, stores, staff and customers when the database is empty
    /// (default: yes in development, no in production).
    #[arg(long, env = "SEED_DEMO")]
    pub seed_demo: Option<bool>,
    /// Customers generated per demo store.
    #[arg(long, env = "SEED_CUSTOMERS_PER_STORE", default_value_t = 150)]
    pub seed_customers_per_store: u32,
    /// Largest database connection pool.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// Serve introspection (schema-aware tools, GraphiQL's docs); default
    /// yes in development, no in production.
    #[arg(long, env = "GRAPHQL_INTROSPECTION")]
    pub graphql_introspection: Option<bool>,
    /// Serve GraphiQL at GET /graphql; default yes in development, no in
    /// production.
    #[arg(long, env = "GRAPHIQL")]
    pub graphiql: Option<bool>,
    /// Deepest GraphQL query accepted.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = 12)]
    pub graphql_max_depth: usize,
    /// Largest GraphQL query complexity accepted.
    #[arg(long, env = "GRAPHQL_MAX_COMPLEXITY", default_value_t = 5000)]
    pub graphql_max_complexity: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,
    /// A request taking longer than this is cut off, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds between scheduler ticks inside `serve` (0 = run no scheduler
    /// there; use `dealer-crm worker`).
    #[arg(long, env = "SCHEDULER_INTERVAL_SECS", default_value_t = 30)]
    pub scheduler_interval_secs: u64,
    /// Rows the scheduler claims per statement.
    #[arg(long, env = "SCHEDULER_BATCH", default_value_t = 500)]
    pub scheduler_batch: u64,
    /// Concurrent claim lanes per scheduler step on PostgreSQL (SKIP LOCKED
    /// gives each lane different rows); SQLite always uses one.
    #[arg(long, env = "SCHEDULER_LANES", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=32))]
    pub scheduler_lanes: u64,
    /// Seconds a worker may hold a claimed message before another worker may
    /// take it over (the worker is presumed dead).
    #[arg(long, env = "NOTIFICATION_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub notification_lease_secs: u64,
    /// Simulated network latency of the built-in provider, per message (for
    /// demos and crash tests; 0 in production).
    #[arg(long, env = "LOCAL_PROVIDER_DELAY_MS", default_value_t = 0)]
    pub local_provider_delay_ms: u64,
    /// Threads that check and hash passwords (argon2id, about 19 MiB each).
    #[arg(long, env = "PASSWORD_HASH_THREADS", default_value_t = 2)]
    pub password_hash_threads: usize,
    /// Password checks that may wait for a thread; more are RATE_LIMITED.
    #[arg(long, env = "PASSWORD_HASH_QUEUE", default_value_t = 64)]
    pub password_hash_queue: usize,
    /// Wrong passwords per account answered without delay.
    #[arg(long, env = "LOGIN_ACCOUNT_FREE_FAILURES", default_value_t = 5)]
    pub login_account_free_failures: u32,
    /// Wrong passwords per account that lock it for `LOGIN_LOCK_MINUTES`.
    #[arg(long, env = "LOGIN_ACCOUNT_LOCK_AFTER", default_value_t = 10)]
    pub login_account_lock_after: u32,
    /// Wrong passwords per client address answered without delay.
    #[arg(long, env = "LOGIN_ADDRESS_FREE_FAILURES", default_value_t = 20)]
    pub login_address_free_failures: u32,
    /// Wrong passwords per client address that lock it for `LOGIN_LOCK_MINUTES`.
    #[arg(long, env = "LOGIN_ADDRESS_LOCK_AFTER", default_value_t = 50)]
    pub login_address_lock_after: u32,
    /// How long a lock lasts, and how long failures are remembered.
    #[arg(long, env = "LOGIN_LOCK_MINUTES", default_value_t = 15)]
    pub login_lock_minutes: u32,
    /// GraphQL requests per minute per signed-in user (per address before
    /// sign-in); 0 = no limit.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests a user may send at once above the steady rate.
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = 120)]
    pub rate_limit_burst: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Seconds between checks that a live subscription's session still
    /// stands (revocations in this process end it at once).
    #[arg(long, env = "WS_SESSION_CHECK_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_session_check_secs: u64,
    /// Seconds a signed-in staff member's account is trusted without
    /// reading it again (deactivation still takes effect at once, in every
    /// process on PostgreSQL); 0 reads it on every request.
    #[arg(long, env = "ACTOR_CACHE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub actor_cache_secs: u64,
    /// A streaming replica of `DATABASE_URL` (PostgreSQL): reports read
    /// there, off the primary's back; they may trail it by the replica's
    /// lag. Unset: everything reads the primary.
    #[arg(long, env = "READ_REPLICA_URL", hide_env_values = true)]
    pub read_replica_url: Option<String>,
}

impl Config {
    /// A configuration with every default, for tests and tools.
    pub fn for_database(url: &str) -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: url.to_string(),
            app_env: AppEnv::Development,
            jwt_secret: Some(random_secret()),
            jwt_secret_file: PathBuf::from(".dealer-crm-secret"),
            access_token_minutes: 15,
            refresh_token_days: 30,
            log_format: LogFormat::Text,
            seed_demo: Some(false),
            seed_customers_per_store: 150,
            db_max_connections: 5,
            graphql_introspection: None,
            graphiql: None,
            graphql_max_depth: 12,
            graphql_max_complexity: 5000,
            max_body_bytes: 1_048_576,
            request_timeout_secs: 30,
            scheduler_interval_secs: 0,
            scheduler_batch: 500,
            scheduler_lanes: 4,
            notification_lease_secs: 60,
            local_provider_delay_ms: 0,
            password_hash_threads: 2,
            password_hash_queue: 64,
            login_account_free_failures: 5,
            login_account_lock_after: 10,
            login_address_free_failures: 20,
            login_address_lock_after: 50,
            login_lock_minutes: 15,
            rate_limit_per_minute: 600,
            rate_limit_burst: 120,
            trust_forwarded_for: false,
            ws_session_check_secs: 15,
            actor_cache_secs: 30,
            read_replica_url: None,
        }
    }

    /// Whether introspection is served.
    pub fn introspection_enabled(&self) -> bool {
        self.graphql_introspection
            .unwrap_or(self.app_env == AppEnv::Development)
    }

    /// Whether GraphiQL is served.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(self.app_env == AppEnv::Development)
    }

    /// Whether demo data goes into an empty database.
    pub fn should_seed_demo(&self) -> bool {
        self.seed_demo
            .unwrap_or(self.app_env == AppEnv::Development)
    }

    /// The token-signing secret: given, or (development only) generated once
    /// and kept in `jwt_secret_file` so tokens survive a restart.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<String> {
        if let Some(s) = &self.jwt_secret {
            if self.app_env == AppEnv::Production && s.len() < 32 {
                anyhow::bail!("JWT_SECRET must be at least 32 characters in production");
            }
            return Ok(s.clone());
        }
        if self.app_env == AppEnv::Production {
            anyhow::bail!("JWT_SECRET is required when APP_ENV=production");
        }
        if let Ok(s) = std::fs::read_to_string(&self.jwt_secret_file) {
            let s = s.trim().to_string();
            if s.len() >= 32 {
                return Ok(s);
            }
        }
        let s = random_secret();
        write_private(&self.jwt_secret_file, &s)?;
        Ok(s)
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn write_private(path: &PathBuf, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}
