//! Load driver and data generator (not run in CI).
//!
//! `cargo run --release -p bench -- --database-url postgres://postgres@127.0.0.1:5432/postgres`
//! builds a fresh `crm_bench` database with 1,000,000 open tasks (100
//! stores, 20,000 staff with 50 tasks each), then measures:
//! 1. "my day" latency over HTTP (p50/p95/p99 of sequential requests);
//! 2. scheduler throughput: reminders generated, tasks marked overdue and
//!    messages delivered per second;
//! 3. with `--phases salesdata,leads,hooks` (see `sales`): lead reads at
//!    1 M customers / 3 M leads and webhook leads per second;
//! 4. with `--phases servicedata,service` after `salesdata` (see `service`):
//!    the due-for-service list and a service history at 1.2 M vehicles / 5 M
//!    repair orders, and the re-prediction of 100,000 forecasts;
//! 5. with `--phases caredata,care` after `servicedata` (see `care`): the
//!    complaint board and CSI per staff member, and the daily retention
//!    pass over 1 M customers by two workers;
//! 6. with `--phases caredata,reports` on the network of `compare.sh`
//!    (see `reports`): every manager's report over a year, for one store,
//!    the group and the OEM.
use std::{sync::Arc, time::Instant};

mod care;
mod compare;
mod network;
mod reports;
mod sales;
mod service;

use api::{
    tasks::{
        rules::{TaskKind, Window},
        scheduler::Scheduler,
        store::{insert_tasks, NewTask},
    },
    Config, SystemClock,
};
use chrono::{Duration, Utc};
use clap::Parser;
use entity::{customer, staff, store};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// Customers each generated consultant is responsible for (their tasks are
/// about them, so a consultant sees every customer of their "my day").
const CUSTOMERS_PER_CONSULTANT: usize = 5;

#[derive(Parser)]
struct Args {
    /// An administrative PostgreSQL (or SQLite) URL; the bench creates its own database.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Open tasks to generate.
    #[arg(long, default_value_t = 1_000_000)]
    tasks: usize,
    /// Open tasks per staff member.
    #[arg(long, default_value_t = 50)]
    per_staff: usize,
    /// Stores to spread them over.
    #[arg(long, default_value_t = 100)]
    stores: usize,
    /// "My day" requests to time.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Scheduler batch size.
    #[arg(long, default_value_t = 1000)]
    batch: u64,
    /// Scheduler claim lanes.
    #[arg(long, default_value_t = 4)]
    lanes: u64,
    /// Messages to deliver when timing the outbox.
    #[arg(long, default_value_t = 100_000)]
    deliver: u64,
    /// What to run, comma-separated, in this order: data, myday, remind,
    /// overdue, deliver, salesdata, leads, hooks, servicedata, service,
    /// caredata, care; or `network` (the data set of the comparison with
    /// PostGraphile, see `bench/compare.sh`) and then `compare` alone.
    /// Without `data` or `network` the bench
    /// reuses an existing `crm_bench` (e.g. one copied from a template
    /// database).
    #[arg(long, default_value = "data,myday,remind,overdue,deliver")]
    phases: String,
    /// Customers in the network after `salesdata` (each with 3 leads), or
    /// in `network`.
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    /// Webhook leads to send in `hooks` (each sent twice).
    #[arg(long, default_value_t = 20_000)]
    hook_leads: usize,
    /// Webhook requests in flight.
    #[arg(long, default_value_t = 32)]
    hook_concurrency: usize,
    /// `compare`: the CRM's GraphQL endpoint (a `serve` process).
    #[arg(long, default_value = "http://127.0.0.1:18080/graphql")]
    ours: String,
    /// `compare`: PostGraphile's GraphQL endpoint.
    #[arg(long, default_value = "http://127.0.0.1:5678/graphql")]
    theirs: String,
    /// `compare`: wrk connection counts, comma-separated.
    #[arg(long, default_value = "32,64")]
    connections: String,
    /// `compare`: seconds per wrk run.
    #[arg(long, default_value_t = 25)]
    seconds: u32,
    /// `latency`/`compare`: a file with the latencies measured on the small
    /// network: written by `latency`, compared with by `compare`.
    #[arg(long)]
    flat_baseline: Option<std::path::PathBuf>,
}

/// The server under test, on a random local port, and a client for it.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
}

impl Server {
    async fn start(state: &api::AppState) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(api::serve_on(listener, state.clone()));
        Ok(Server {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
        })
    }

    /// Access tokens of these users (password demo1234).
    pub async fn login_all(&self, usernames: &[String]) -> anyhow::Result<Vec<String>> {
        let mut tokens = Vec::new();
        for u in usernames {
            let r: serde_json::Value = self
                .http
                .post(format!("{}/graphql", self.base))
                .json(&json!({"query": "mutation($u: String!) { login(input: {login: $u, password: \"demo1234\"}) { accessToken } }", "variables": {"u": u}}))
                .send()
                .await?
                .json()
                .await?;
            let token = r["data"]["login"]["accessToken"].as_str();
            tokens.push(
                token
                    .ok_or_else(|| anyhow::anyhow!("login {u}: {r}"))?
                    .to_string(),
            );
        }
        Ok(tokens)
    }

    /// The store id of each token's user.
    pub async fn store_ids(&self, tokens: &[String]) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        for t in tokens {
            let r: serde_json::Value = self
                .http
                .post(format!("{}/graphql", self.base))
                .bearer_auth(t)
                .json(&json!({"query": "{ myStore { id } }"}))
                .send()
                .await?
                .json()
                .await?;
            ids.push(
                r["data"]["myStore"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        Ok(ids)
    }
}

/// The `p` quantile of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench_database(admin: &str, fresh: bool) -> anyhow::Result<String> {
    if admin.starts_with("sqlite:") {
        if fresh {
            let _ = std::fs::remove_file("crm_bench.db");
        }
        return Ok("sqlite://crm_bench.db?mode=rwc".into());
    }
    if fresh {
        let conn = Database::connect(admin).await?;
        conn.execute_unprepared("DROP DATABASE IF EXISTS crm_bench WITH (FORCE)")
            .await?;
        conn.execute_unprepared("CREATE DATABASE crm_bench").await?;
    }
    let base = &admin[..admin.rfind('/').unwrap_or(admin.len())];
    Ok(format!("{base}/crm_bench"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let phases: Vec<&str> = args.phases.split(',').map(str::trim).collect();
    let fresh = phases.contains(&"data") || phases.contains(&"network");
    let url = bench_database(&args.database_url, fresh).await?;
    if phases == ["compare"] || phases == ["latency"] {
        // The servers run on their own: nothing to prepare here.
        return compare::run(&compare::Setup {
            customers: args.customers,
            latency_only: phases == ["latency"],
            requests: args.requests,
            flat_baseline: args.flat_baseline.clone(),
            ours: args.ours.clone(),
            theirs: args.theirs.clone(),
            database_url: url,
            connections: args
                .connections
                .split(',')
                .filter_map(|c| c.trim().parse().ok())
                .collect(),
            seconds: args.seconds,
        })
        .await;
    }
    let mut cfg = Config::for_database(&url);
    cfg.seed_demo = Some(true);
    cfg.seed_customers_per_store = 0;
    cfg.db_max_connections = 20;
    cfg.scheduler_batch = args.batch;
    cfg.scheduler_lanes = args.lanes;
    cfg.request_timeout_secs = 120;
    // The bench drives many requests per token: it measures the server,
    // not the per-user request limit.
    cfg.rate_limit_per_minute = 0;
    let state = api::prepare(cfg, Arc::new(SystemClock)).await?;
    let db = state.db.clone();

    if phases.contains(&"data") {
        generate(&db, &args).await?;
    }
    if phases.contains(&"network") {
        network::data(&db, args.customers as i64).await?;
    }
    if phases.contains(&"myday") {
        my_day(&state, &args).await?;
    }
    let sched = Scheduler::for_app(&state);
    if phases.contains(&"remind") {
        remind(&sched).await?;
    }
    if phases.contains(&"overdue") {
        overdue(&sched).await?;
    }
    if phases.contains(&"deliver") {
        deliver(&sched, &args).await?;
    }
    if phases.contains(&"salesdata") {
        sales::data(&db, args.customers).await?;
    }
    if phases.contains(&"servicedata") {
        service::data(&db).await?;
    }
    if phases.contains(&"service") {
        let srv = Server::start(&state).await?;
        service::reads(&srv, &db, args.requests).await?;
        service::repredict(&db).await?;
    }
    if phases.contains(&"caredata") {
        care::data(&db).await?;
    }
    if phases.contains(&"care") {
        let srv = Server::start(&state).await?;
        care::reads(&srv, &db, args.requests).await?;
    }
    if phases.contains(&"reports") {
        let srv = Server::start(&state).await?;
        reports::reads(&srv, &db, args.requests).await?;
    }
    if phases.contains(&"leads") || phases.contains(&"hooks") {
        let srv = Server::start(&state).await?;
        if phases.contains(&"leads") {
            sales::reads(&srv, args.requests).await?;
        }
        if phases.contains(&"hooks") {
            sales::hooks(&srv, &db, args.hook_leads, args.hook_concurrency).await?;
        }
    }
    Ok(())
}

/// Stores, customers, staff and open tasks, in bulk.
async fn generate(db: &sea_orm::DatabaseConnection, args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let template_store = store::Entity::find()
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no seed store"))?;
    let template_staff = staff::Entity::find()
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no seed staff"))?;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(7);
    let staff_count = args.tasks.div_ceil(args.per_staff);
    let staff_per_store = staff_count.div_ceil(args.stores);
    let mut task_rows = Vec::with_capacity(1000);
    let mut made = 0usize;
    for s in 0..args.stores {
        let store_id = Uuid::now_v7();
        store::Entity::insert(store::ActiveModel {
            id: Set(store_id),
            code: Set(format!("B{s:04}")),
            name: Set(format!("压测门店{s}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..template_store.clone().into()
        })
        .exec(db)
        .await?;
        let mut staff_rows = Vec::new();
        for k in 0..staff_per_store {
            let username = format!("b{s}.s{k}");
            staff_rows.push(staff::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(Some(store_id)),
                group_id: Set(None),
                team_id: Set(None),
                username: Set(username),
                mobile: Set(None),
                name: Set(format!("顾问{s}-{k}")),
                role: Set("SALES_CONSULTANT".into()),
                created_at: Set(now),
                updated_at: Set(now),
                deactivated_at: Set(None),
                ..template_staff.clone().into()
            });
        }
        let staff_ids: Vec<Uuid> = staff_rows.iter().map(|r| *r.id.as_ref()).collect();
        for chunk in staff_rows.chunks(500) {
            staff::Entity::insert_many(chunk.to_vec()).exec(db).await?;
        }
        let customers: Vec<customer::ActiveModel> = (0..staff_ids.len() * CUSTOMERS_PER_CONSULTANT)
            .map(|i| customer::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(store_id),
                name: Set(format!("客户{s}-{i}")),
                mobile: Set(format!("+86137{s:03}{i:05}")),
                gender: Set("UNKNOWN".into()),
                city: Set(None),
                source: Set("WALK_IN".into()),
                lifecycle_stage: Set("LOYAL".into()),
                marketing_consent: Set(true),
                sharing_consent: Set(false),
                // Each consultant's work is about their own customers, as in a store.
                responsible_staff_id: Set(Some(staff_ids[i / CUSTOMERS_PER_CONSULTANT])),
                merged_into_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        let customer_ids: Vec<Uuid> = customers.iter().map(|c| *c.id.as_ref()).collect();
        customer::Entity::insert_many(customers).exec(db).await?;
        for (k, staff_id) in staff_ids.into_iter().enumerate() {
            let own =
                &customer_ids[k * CUSTOMERS_PER_CONSULTANT..(k + 1) * CUSTOMERS_PER_CONSULTANT];
            for _ in 0..args.per_staff {
                if made >= args.tasks {
                    break;
                }
                made += 1;
                let due = now + Duration::minutes(rng.gen_range(-10 * 1440..20 * 1440));
                task_rows.push(NewTask {
                    store_id,
                    customer_id: own[rng.gen_range(0..own.len())],
                    kind: TaskKind::FollowUp,
                    title: "跟进".into(),
                    reason: "bench".into(),
                    subject: None,
                    vehicle_id: None,
                    assignee_id: Some(staff_id),
                    queue: None,
                    window: Window {
                        earliest: due - Duration::days(1),
                        due,
                        latest: due,
                    },
                    rule: None,
                    step: None,
                    remind_at: Some(now - Duration::minutes(1)),
                    max_escalation: 1,
                    escalation_wait_hours: None,
                    created_by: None,
                });
                if task_rows.len() == 1000 {
                    insert_tasks(db, std::mem::take(&mut task_rows), now)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                }
            }
        }
    }
    insert_tasks(db, task_rows, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // What autovacuum does in a steady state; right after a bulk load
        // it would otherwise run during the measurements.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    println!(
        "generated {made} tasks, {} staff, {} stores in {:.1}s",
        staff_per_store * args.stores,
        args.stores,
        started.elapsed().as_secs_f64()
    );

    Ok(())
}

/// "My day" latency over HTTP, sequential requests by 20 consultants.
async fn my_day(state: &api::AppState, args: &Args) -> anyhow::Result<()> {
    let usernames: Vec<String> = staff::Entity::find()
        .filter(staff::Column::Username.like("b%.s0"))
        .limit(20)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| s.username)
        .collect();
    anyhow::ensure!(!usernames.is_empty(), "no bench data: run the data phase");
    let srv = Server::start(state).await?;
    let (http, url) = (&srv.http, format!("{}/graphql", srv.base));
    let tokens = srv.login_all(&usernames).await?;
    let query = "{ myDay { overdue { ...T } dueToday { ...T } upcoming { ...T } } } fragment T on Task { id kind title reason status dueAt customer { name mobile } vehicle { plate } lastContact { summary occurredAt } }";
    let mut lat = Vec::with_capacity(args.requests);
    let mut tasks_seen = 0;
    for i in 0..args.requests {
        let t0 = Instant::now();
        let r: serde_json::Value = http
            .post(&url)
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&json!({"query": query, "operationName": null}))
            .send()
            .await?
            .json()
            .await?;
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        if i == 0 {
            for s in ["overdue", "dueToday", "upcoming"] {
                tasks_seen += r["data"]["myDay"][s]
                    .as_array()
                    .map(|a| a.len())
                    .unwrap_or(0);
            }
            anyhow::ensure!(r.get("errors").is_none(), "my day failed: {r}");
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "my day ({} requests, {tasks_seen} tasks each): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.requests,
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    );

    Ok(())
}

async fn remind(sched: &Scheduler) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let reminded = sched.remind().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "reminders: {reminded} generated (task claimed + message queued) in {secs:.1}s = {:.0}/s",
        reminded as f64 / secs
    );
    Ok(())
}

async fn overdue(sched: &Scheduler) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let overdue = sched
        .mark_overdue()
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "overdue: {overdue} tasks marked and escalated to managers in {secs:.1}s = {:.0}/s",
        overdue as f64 / secs
    );
    Ok(())
}

async fn deliver(sched: &Scheduler, args: &Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let batches = (args.deliver / args.batch).max(1) as u32;
    let d = sched
        .dispatch(batches)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "delivery: {} messages sent in {secs:.1}s = {:.0}/s",
        d.sent,
        d.sent as f64 / secs
    );
    Ok(())
}
