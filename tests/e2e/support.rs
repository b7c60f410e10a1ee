//! `spawn_app()` and GraphQL helpers for the end-to-end tests.
use std::sync::Arc;

use api::{Config, ManualClock};
use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};

/// Keeps the test's database alive (and removes it afterwards where cheap).
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres,
}

/// A running server with its own database and a clock the test controls.
pub struct TestApp {
    pub state: api::AppState,
    /// The database URL, for helper processes.
    pub db_url: String,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    _db: TestDb,
}

/// A signed-in client.
pub struct Session<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub refresh_token: String,
}

async fn database() -> (String, TestDb) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("crm_test_{}", uuid::Uuid::now_v7().simple());
            let conn = Database::connect(admin.as_str())
                .await
                .expect("connect to TEST_DATABASE_URL");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = match admin.rfind('/') {
                Some(i) if i > "postgres://".len() => &admin[..i],
                _ => admin.as_str(),
            };
            (format!("{base}/{name}"), TestDb::Postgres)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (url, TestDb::Sqlite(dir))
        }
    }
}

/// Starts the server on 127.0.0.1:<random> with the demo organisation
/// (no generated customers) and a clock fixed at 2026-11-23 10:00 Shanghai.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with settings changed by `tune` (limits, intervals).
pub async fn spawn_app_with(tune: impl FnOnce(&mut Config)) -> TestApp {
    let (url, guard) = database().await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap());
    let mut cfg = Config::for_database(&url);
    cfg.scheduler_batch = 50;
    cfg.seed_demo = Some(true);
    cfg.seed_customers_per_store = 0;
    cfg.graphql_max_depth = 10;
    cfg.ws_session_check_secs = 1;
    tune(&mut cfg);
    let state = api::prepare(cfg, Arc::new(clock.clone()))
        .await
        .expect("prepare app");
    let kept = state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = api::serve_on(listener, state).await;
    });
    TestApp {
        state: kept,
        db_url: url.clone(),
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        clock,
        _db: guard,
    }
}

impl TestApp {
    /// Runs one scheduler tick at the test clock's time.
    pub async fn tick(&self) -> api::tasks::scheduler::TickReport {
        api::tasks::scheduler::Scheduler::for_app(&self.state)
            .tick()
            .await
            .expect("tick")
    }

    /// Runs the daily retention pass at the test clock's time.
    pub async fn retention(&self) -> api::care::retention::PassReport {
        api::care::retention::run_due(&self.state.db, api::Clock::now(&self.clock))
            .await
            .expect("retention pass")
    }

    /// SQL statements the server has run so far (from `/metrics`).
    pub async fn statements(&self) -> u64 {
        let m = self.get("/metrics").await.text().await.expect("metrics");
        m.lines()
            .filter(|l| l.starts_with("db_statements_total"))
            .filter_map(|l| l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()))
            .sum::<f64>() as u64
    }

    /// A plain GET of `path` (e.g. `/healthz`).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// Sends one GraphQL request and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({
                "query": query,
                "variables": variables,
            }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        resp.json().await.expect("JSON response")
    }

    /// Logs in a demo account (password demo1234).
    pub async fn login(&self, username: &str) -> Session<'_> {
        self.login_with(username, "demo1234").await
    }

    /// Logs in with a given password; panics unless it works.
    pub async fn login_with(&self, username: &str, password: &str) -> Session<'_> {
        let r = self
            .gql(
                None,
                "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken refreshToken userErrors { code message } } }",
                json!({"l": username, "p": password}),
            )
            .await;
        let token = r["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login {username} failed: {r}"))
            .to_string();
        let refresh_token = r["data"]["login"]["refreshToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Session {
            app: self,
            token,
            refresh_token,
        }
    }
}

impl Session<'_> {
    /// A query or mutation as this user; returns the whole response.
    pub async fn q(&self, query: &str, variables: Value) -> Value {
        self.app.gql(Some(&self.token), query, variables).await
    }

    /// Like `q`, but fails the test on any GraphQL error and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let r = self.q(query, variables).await;
        assert!(r.get("errors").is_none(), "unexpected errors: {r}");
        r["data"].clone()
    }

    /// Creates a customer and returns its id; fails on userErrors.
    pub async fn create_customer(&self, name: &str, mobile: &str, sharing: bool) -> String {
        let d = self
            .data(
                "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } userErrors { code message } } }",
                json!({"i": {"name": name, "mobile": mobile, "sharingConsent": sharing}}),
            )
            .await;
        d["createCustomer"]["customer"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createCustomer failed: {d}"))
            .to_string()
    }

    /// The global id of a demo staff member by username.
    pub async fn staff_id(&self, username: &str) -> String {
        let d = self
            .data(
                "{ staffMembers(first: 100) { edges { node { id username } } } }",
                json!({}),
            )
            .await;
        d["staffMembers"]["edges"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["node"]["username"] == username))
            .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no staff {username} in {d}"))
    }
}

/// The `code`s of a payload's userErrors.
pub fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The `extensions.code` of the first GraphQL error.
pub fn error_code(r: &Value) -> String {
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_string()
}

/// A VIN with a valid check digit (the server's own rule) for a number.
pub fn valid_vin(n: u32) -> String {
    let mut v: Vec<char> = format!("LVSHFAMB0CE{n:06}").chars().collect();
    let body: String = v.iter().collect();
    v[8] = api::customers::rules::vin_check_digit(&body).unwrap_or('0');
    v.into_iter().collect()
}
