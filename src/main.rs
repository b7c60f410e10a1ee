//! `dealer-crm`: serve (default), migrate, seed, schema.
use std::sync::Arc;

use api::{Config, SystemClock};
use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "dealer-crm", version, about = "CRM for automotive 4S stores")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve GraphQL, GraphiQL and the console (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the demo OEM, stores, staff and customers (once) and exit.
    Seed,
    /// Print the GraphQL schema (SDL); schema.graphql is this output.
    Schema,
    /// Run the scheduler (overdue, reminders, escalations, outbox delivery)
    /// without serving HTTP. Any number may run against one PostgreSQL.
    Worker {
        /// Milliseconds between ticks.
        #[arg(long, default_value_t = 5000)]
        interval_ms: u64,
        /// Run one tick and exit.
        #[arg(long)]
        once: bool,
        /// Exit after this many ticks in a row found nothing to do (0 = never).
        #[arg(long, default_value_t = 0)]
        exit_when_idle: u32,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", api::graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            api::init_tracing(config.log_format);
            let db = api::db::connect(&config.database_url, 2).await?;
            api::db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Seed => {
            api::init_tracing(config.log_format);
            let db = api::db::connect(&config.database_url, 2).await?;
            api::db::migrate(&db).await?;
            let seeded =
                api::seed::seed_demo(&db, chrono_now(), config.seed_customers_per_store).await?;
            println!(
                "{}",
                if seeded {
                    "demo data seeded"
                } else {
                    "demo data already present"
                }
            );
            print!("{}", api::seed::demo_logins_text());
            Ok(())
        }
        Command::Serve => serve(config).await,
        Command::Worker {
            interval_ms,
            once,
            exit_when_idle,
        } => worker(config, interval_ms, once, exit_when_idle).await,
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    api::Clock::now(&SystemClock)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    api::init_tracing(config.log_format);
    let bind = config.bind;
    let state = api::prepare(config, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    if api::seed::is_seeded(&state.db).await? && state.config.app_env == api::AppEnv::Development {
        println!("{}", api::seed::demo_logins_text());
    }
    println!("Dealer CRM listening on http://{addr}  (GraphiQL: http://{addr}/graphql)");
    tracing::info!(%addr, "listening");
    api::serve_on(listener, state).await
}

async fn worker(
    config: Config,
    interval_ms: u64,
    once: bool,
    exit_when_idle: u32,
) -> anyhow::Result<()> {
    api::init_tracing(config.log_format);
    let mut config = config;
    config.seed_demo = Some(false);
    let state = api::prepare(config, Arc::new(SystemClock)).await?;
    // Subscribers connected to `serve` hear what this worker does.
    api::tasks::events::start_relay(&state.db, false);
    let scheduler = api::tasks::scheduler::Scheduler::for_app(&state);
    let mut idle = 0;
    loop {
        let r = scheduler
            .tick()
            .await
            .map_err(|e| anyhow::anyhow!("scheduler tick failed: {e:?}"))?;
        use api::sales::intake;
        let leads = intake::drain(&state.db, state.clock.now(), intake::BATCH)
            .await
            .map_err(|e| anyhow::anyhow!("lead intake failed: {e:?}"))?;
        // One line per tick with work, for operators and tests to add up.
        let busy = r != api::tasks::scheduler::TickReport::default();
        if busy {
            println!(
                "tick overdue={} escalated={} reminded={} sent={} retried={} dead={} deferred={}",
                r.overdue, r.escalated, r.reminded, r.sent, r.retried, r.dead, r.deferred
            );
        }
        if leads != intake::IntakeReport::default() {
            println!("intake made={} failed={}", leads.made, leads.failed);
        }
        use api::customers::forecast;
        let forecasts = forecast::repredict_stale(&state.db, state.clock.now(), forecast::BATCH)
            .await
            .map_err(|e| anyhow::anyhow!("service forecast pass failed: {e:?}"))?;
        if forecasts > 0 {
            println!("forecasts repredicted={forecasts}");
        }
        let retention = api::care::retention::run_due(&state.db, state.clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("retention pass failed: {e:?}"))?;
        if retention.stores > 0 {
            println!(
                "retention stores={} customers={} flagged={}",
                retention.stores, retention.customers, retention.flagged
            );
        }
        if busy || leads.made > 0 || forecasts > 0 || retention.stores > 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        if once || (exit_when_idle > 0 && idle >= exit_when_idle) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(interval_ms)).await;
    }
}
