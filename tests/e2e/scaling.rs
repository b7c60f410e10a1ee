//! Past one machine: API processes share nothing but PostgreSQL. Two real
//! `dealer-crm serve` processes over one database, a client alternating
//! between them as a load balancer would send it.
use std::{process::Stdio, time::Duration};

use serde_json::{json, Value};

use crate::support::{spawn_app, TestApp};

const SECRET: &str = "scaling-test-secret-scaling-test-secret-0123";

/// A `dealer-crm serve` process on the test's database; its base URL.
async fn serve(app: &TestApp) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dealer-crm"))
        .arg("serve")
        .env("DATABASE_URL", &app.db_url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", SECRET)
        .env("SEED_DEMO", "false")
        .env("SCHEDULER_INTERVAL_SECS", "0")
        .env("DB_MAX_CONNECTIONS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if let Ok(r) = app.http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return (child, base);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve on {base} did not become ready");
}

async fn gql(http: &reqwest::Client, base: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(format!("{base}/graphql")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> (String, String) {
    let r = gql(
        http,
        base,
        None,
        json!({"query": "mutation($u: String!) { login(input: {login: $u, password: \"demo1234\"}) { accessToken refreshToken } }", "variables": {"u": user}}),
    )
    .await;
    let l = &r["data"]["login"];
    match (l["accessToken"].as_str(), l["refreshToken"].as_str()) {
        (Some(a), Some(r)) => (a.to_string(), r.to_string()),
        _ => panic!("login {user} failed: {r}"),
    }
}

#[tokio::test]
async fn two_api_processes_behind_one_address_share_nothing_but_postgresql() {
    let app = spawn_app().await;
    if !app.db_url.starts_with("postgres") {
        // SQLite is the one-process set-up (its file is the whole state).
        return;
    }
    let (_a, a) = serve(&app).await;
    let (_b, b) = serve(&app).await;

    // Signed in on one, served by the other; a refresh from the first
    // process's sign-in works on the second.
    let (manager, refresh) = login(&app.http, &a, "cq.manager").await;
    let me = gql(
        &app.http,
        &b,
        Some(&manager),
        json!({"query": "{ me { username } }"}),
    )
    .await;
    assert_eq!(me["data"]["me"]["username"], "cq.manager", "{me}");
    let r = gql(
        &app.http,
        &b,
        None,
        json!({"query": "mutation($t: String!) { refresh(input: {refreshToken: $t}) { accessToken } }", "variables": {"t": refresh}}),
    )
    .await;
    let manager = r["data"]["refresh"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("refresh on the other process failed: {r}"))
        .to_string();

    // Written on one, read on the other.
    let made = gql(
        &app.http,
        &a,
        Some(&manager),
        json!({"query": "mutation { createCustomer(input: {name: \"两地客户\", mobile: \"13800009999\"}) { customer { id } userErrors { message } } }"}),
    )
    .await;
    let id = made["data"]["createCustomer"]["customer"]["id"].clone();
    assert!(id.is_string(), "{made}");
    let seen = gql(
        &app.http,
        &b,
        Some(&manager),
        json!({"query": "{ customerByPhone(phone: \"13800009999\") { id name } }"}),
    )
    .await;
    assert_eq!(seen["data"]["customerByPhone"]["id"], id, "{seen}");

    // A persisted query known to one process only: the other asks for the
    // text (as Apollo clients expect), then knows it too.
    let query = "query Persisted { me { username } }";
    let hash = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(query.as_bytes()))
    };
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let first = gql(
        &app.http,
        &a,
        Some(&manager),
        json!({"query": query, "extensions": ext}),
    )
    .await;
    assert_eq!(first["data"]["me"]["username"], "cq.manager", "{first}");
    let miss = gql(&app.http, &b, Some(&manager), json!({"extensions": ext})).await;
    assert_eq!(
        miss["errors"][0]["message"], "PersistedQueryNotFound",
        "{miss}"
    );
    gql(
        &app.http,
        &b,
        Some(&manager),
        json!({"query": query, "extensions": ext}),
    )
    .await;
    let hit = gql(&app.http, &b, Some(&manager), json!({"extensions": ext})).await;
    assert_eq!(hit["data"]["me"]["username"], "cq.manager", "{hit}");

    // A consultant active on B (B now trusts their account for a while) is
    // deactivated through A: B turns them away at once, told by PostgreSQL.
    let (sales, _) = login(&app.http, &a, "cq.sales2").await;
    let ok = gql(
        &app.http,
        &b,
        Some(&sales),
        json!({"query": "{ me { username } }"}),
    )
    .await;
    assert_eq!(ok["data"]["me"]["username"], "cq.sales2", "{ok}");
    let staff = gql(
        &app.http,
        &a,
        Some(&manager),
        json!({"query": "{ staffMembers(first: 50) { nodes { id username } } }"}),
    )
    .await;
    let find = |u: &str| {
        staff["data"]["staffMembers"]["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|s| s["username"] == u))
            .map(|s| s["id"].clone())
            .unwrap_or_else(|| panic!("no {u} in {staff}"))
    };
    let gone = gql(
        &app.http,
        &a,
        Some(&manager),
        json!({"query": "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { message } } }",
               "variables": {"i": {"staffId": find("cq.sales2"), "reassignToId": find("cq.sales1")}}}),
    )
    .await;
    assert_eq!(
        gone["data"]["deactivateStaff"]["userErrors"],
        json!([]),
        "{gone}"
    );
    let mut refused = Value::Null;
    for _ in 0..40 {
        refused = gql(
            &app.http,
            &b,
            Some(&sales),
            json!({"query": "{ me { username } }"}),
        )
        .await;
        if refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "the other process still served a deactivated account: {refused}"
    );
}

/// A private PostgreSQL primary with a streaming replica, started for one
/// test from the machine's server binaries (run as `postgres` when the
/// test runs as root); stopped and removed when dropped.
struct Replicated {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    primary: u16,
    replica: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The newest PostgreSQL server binaries on the machine.
fn pg_bin() -> Option<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("pg_ctl").exists() && b.join("pg_basebackup").exists())
        .collect();
    found.sort();
    found.pop()
}

fn root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Replicated {
    /// A server binary, to run as `postgres` when the test runs as root
    /// (PostgreSQL refuses root).
    fn tool(&self, tool: &str) -> std::process::Command {
        let exe = self.bin.join(tool);
        if root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        }
    }

    /// Runs a server binary; panics with its output when it fails.
    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.tool(tool).args(args).output().expect(tool);
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start() -> Option<Replicated> {
        let bin = pg_bin()?;
        let dir =
            std::env::temp_dir().join(format!("crm-replica-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        if root() {
            let ok = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the replica directory to postgres");
        }
        let r = Replicated {
            dir,
            bin,
            primary: free_port(),
            replica: free_port(),
        };
        let (p, s) = (r.dir.join("primary"), r.dir.join("replica"));
        let (p, s) = (
            p.to_string_lossy().to_string(),
            s.to_string_lossy().to_string(),
        );
        let sock = r.dir.to_string_lossy().to_string();
        r.run(
            "initdb",
            &[
                "-D",
                &p,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let conf = |port: u16| {
            format!(
                "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock} -c fsync=off -c max_connections=40"
            )
        };
        r.run(
            "pg_ctl",
            &[
                "-D",
                &p,
                "-l",
                &format!("{p}.log"),
                "-o",
                &conf(r.primary),
                "-w",
                "start",
            ],
        );
        let port = r.primary.to_string();
        r.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &s,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        r.run(
            "pg_ctl",
            &[
                "-D",
                &s,
                "-l",
                &format!("{s}.log"),
                "-o",
                &conf(r.replica),
                "-w",
                "start",
            ],
        );
        Some(r)
    }

    fn url(&self, port: u16, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{db}")
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        for d in ["replica", "primary"] {
            let data = self.dir.join(d).to_string_lossy().to_string();
            let _ = self
                .tool("pg_ctl")
                .args(["-D", &data, "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn scalar(url: &str, sql: &str) -> Option<i64> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url).await.ok()?;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .ok()??;
    let v = row.try_get_by_index::<i64>(0).ok();
    let _ = db.close().await;
    v
}

#[tokio::test]
async fn reports_read_the_replica_when_one_is_configured() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |u| u.is_empty()) {
        // A replica is a PostgreSQL matter; the SQLite run has none.
        return;
    }
    let Some(pg) = Replicated::start() else {
        panic!("TEST_DATABASE_URL is set but no PostgreSQL server binaries were found");
    };
    let admin = pg.url(pg.primary, "postgres");
    {
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect(admin.as_str()).await.expect("primary");
        db.execute_unprepared("CREATE DATABASE crm")
            .await
            .expect("create");
    }
    let replica_admin = pg.url(pg.replica, "postgres");
    for _ in 0..100 {
        if scalar(
            &replica_admin,
            "SELECT count(*) FROM pg_database WHERE datname = 'crm'",
        )
        .await
            == Some(1)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut cfg = api::Config::for_database(&pg.url(pg.primary, "crm"));
    cfg.read_replica_url = Some(pg.url(pg.replica, "crm"));
    cfg.seed_demo = Some(true);
    cfg.seed_customers_per_store = 0;
    let state = api::prepare(cfg, std::sync::Arc::new(api::SystemClock))
        .await
        .expect("prepare on the primary, with the replica");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(api::serve_on(listener, state));
    let http = reqwest::Client::new();
    let call = |token: Option<String>, body: Value| {
        let (http, base) = (&http, &base);
        async move { gql(http, base, token.as_deref(), body).await }
    };
    let (token, _) = login(&http, &base, "cq.manager").await;
    let open_work = || {
        let call = &call;
        let token = token.clone();
        async move {
            let w = call(Some(token), json!({"query": "{ workload { open } }"})).await;
            w["data"]["workload"]
                .as_array()
                .unwrap_or_else(|| panic!("workload: {w}"))
                .iter()
                .map(|r| r["open"].as_i64().unwrap_or(0))
                .sum::<i64>()
        }
    };
    let made = call(Some(token.clone()), json!({"query": "mutation { createCustomer(input: {name: \"副本客户\", mobile: \"13800007777\"}) { customer { id } } }"})).await;
    let customer = made["data"]["createCustomer"]["customer"]["id"].clone();
    assert!(customer.is_string(), "{made}");
    let add_task = |title: &'static str| {
        let call = &call;
        let token = token.clone();
        let customer = customer.clone();
        async move {
            let t = call(Some(token), json!({"query": "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
                "variables": {"i": {"customerId": customer, "title": title, "dueAt": "2030-01-01T00:00:00Z"}}})).await;
            assert!(t["data"]["createTask"]["task"]["id"].is_string(), "{t}");
        }
    };
    add_task("第一项").await;
    let mut before = 0;
    for _ in 0..100 {
        before = open_work().await;
        if before >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(before >= 1, "the replica never showed the first task");

    // Replay paused: the primary has the new task, the report does not.
    let replica = pg.url(pg.replica, "crm");
    scalar(
        &replica,
        "SELECT 1::bigint FROM (SELECT pg_wal_replay_pause()) p",
    )
    .await;
    add_task("第二项").await;
    assert_eq!(
        open_work().await,
        before,
        "the report did not read the replica"
    );
    let live = call(
        Some(token.clone()),
        json!({"query": "{ tasks(filter: {status: [OPEN]}) { totalCount } }"}),
    )
    .await;
    assert_eq!(live["data"]["tasks"]["totalCount"], before + 1, "{live}");

    // Replay resumed: the report catches up.
    scalar(
        &replica,
        "SELECT 1::bigint FROM (SELECT pg_wal_replay_resume()) p",
    )
    .await;
    let mut after = before;
    for _ in 0..100 {
        after = open_work().await;
        if after > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(after, before + 1, "the replica never caught up");
}

/// The hot reads cost one SQL statement per level of nesting at most: the
/// signed-in account is not read again, a customer's vehicles come with
/// the customer, log entries with their authors, and "my day"'s customers
/// and cars with its tasks.
#[tokio::test]
async fn hot_reads_cost_one_statement_per_level_of_nesting() {
    let app = spawn_app().await;
    let sales = app.login("cq.sales1").await;
    let manager = app.login("cq.manager").await;
    for i in 0..3 {
        let c = sales
            .create_customer(&format!("热点客户{i}"), &format!("1380000{i:04}"), false)
            .await;
        let v = sales
            .data(
                "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } } }",
                json!({"i": {"ownerId": c, "vin": crate::support::valid_vin(700 + i), "brand": "长安福特", "model": "锐界", "mileageKm": 1000 + i}}),
            )
            .await;
        let vehicle = v["createVehicle"]["vehicle"]["id"].clone();
        sales
            .data(
                "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } } }",
                json!({"i": {"customerId": c, "summary": "电话回访"}}),
            )
            .await;
        sales
            .data(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
                json!({"i": {"customerId": c, "vehicleId": vehicle, "title": "跟进", "dueAt": "2026-11-23T08:00:00Z"}}),
            )
            .await;
    }
    // Each token's account is read once, then trusted for a while.
    sales.data("{ me { username } }", json!({})).await;
    manager.data("{ me { username } }", json!({})).await;
    let cost = |who: &'static str, query: String, want: u64| {
        let app = &app;
        let s = if who == "sales" { &sales } else { &manager };
        async move {
            let before = app.statements().await;
            let d = s.data(&query, json!({})).await;
            let n = app.statements().await - before;
            assert!(n <= want, "{query}: {n} statements (at most {want}): {d}");
            d
        }
    };
    let q1 = cost(
        "manager",
        "{ customers(first: 20) { nodes { id name vehicles { vin } } } }".into(),
        1,
    )
    .await;
    assert_eq!(q1["customers"]["nodes"].as_array().map(Vec::len), Some(3));
    assert!(
        q1["customers"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|n| n["vehicles"].as_array().map(Vec::len) == Some(1)),
        "{q1}"
    );
    // The page is counted in customers, not cars, and keeps its order both
    // ways: the same pages with and without the joined vehicles.
    for page in ["first: 2", "last: 2"] {
        let plain = manager
            .data(&format!("{{ customers({page}) {{ pageInfo {{ hasNextPage hasPreviousPage }} edges {{ cursor node {{ name }} }} }} }}"), json!({}))
            .await;
        let with_cars = cost(
            "manager",
            format!("{{ customers({page}) {{ pageInfo {{ hasNextPage hasPreviousPage }} edges {{ cursor node {{ name vehicles {{ vin }} }} }} }} }}"),
            1,
        )
        .await;
        let names = |d: &Value| -> Vec<Value> {
            d["customers"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| json!([e["cursor"], e["node"]["name"]]))
                .collect()
        };
        assert_eq!(names(&plain).len(), 2, "{plain}");
        assert_eq!(names(&plain), names(&with_cars), "{page}");
        assert_eq!(
            plain["customers"]["pageInfo"], with_cars["customers"]["pageInfo"],
            "{page}"
        );
    }
    let q2 = cost("manager", "{ customerByPhone(phone: \"13800000001\") { name vehicles { vin } log(first: 5) { nodes { summary } } } }".into(), 2).await;
    assert_eq!(
        q2["customerByPhone"]["vehicles"].as_array().map(Vec::len),
        Some(1),
        "{q2}"
    );
    let id = q1["customers"]["nodes"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let q3 = format!("{{ customer(id: \"{id}\") {{ name vehicles {{ vin currentMileageKm }} log(first: 10) {{ nodes {{ summary staff {{ name }} }} }} }} }}");
    let d3 = cost("manager", q3, 3).await;
    assert!(
        d3["customer"]["vehicles"][0]["currentMileageKm"].is_number(),
        "{d3}"
    );
    let staff_names: Vec<_> = d3["customer"]["log"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["staff"]["name"].as_str())
        .collect();
    assert!(staff_names.contains(&"销售顾问 李娜"), "{d3}");
    let day = cost("sales", "{ myDay { overdue { id } dueToday { id title customer { name } vehicle { vin } } upcoming { id } } }".into(), 1).await;
    let today = day["myDay"]["dueToday"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(today.len(), 3, "{day}");
    assert!(
        today
            .iter()
            .all(|t| t["customer"]["name"].is_string() && t["vehicle"]["vin"].is_string()),
        "{day}"
    );
}
