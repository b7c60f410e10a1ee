//! `compare`: the CRM and PostGraphile 5 side by side over the `network`
//! data set (issue #17). Both servers run as their own processes (started
//! by `bench/compare.sh`); this phase signs in, checks that both give the
//! same answers, counts SQL statements per request, drives each read with
//! wrk at each connection count, and prints the table.
use std::{path::PathBuf, process::Command, time::Duration};

use api::ids;
use serde_json::{json, Value};

/// Where the two servers are and how hard to push them.
pub struct Setup {
    /// Customers in the generated network.
    pub customers: u64,
    /// Only time ours, one request at a time (`latency`).
    pub latency_only: bool,
    /// Sequential requests per read when timing latency.
    pub requests: usize,
    /// Where `latency` keeps its figures for `compare` to set beside.
    pub flat_baseline: Option<PathBuf>,
    /// The CRM's GraphQL endpoint.
    pub ours: String,
    /// PostGraphile's GraphQL endpoint.
    pub theirs: String,
    /// The bench database (for statement counts).
    pub database_url: String,
    /// wrk connection counts.
    pub connections: Vec<u32>,
    /// Seconds per wrk run.
    pub seconds: u32,
}

/// The row-number uuid the generator gives row `n` of kind `k`.
fn row_id(k: char, n: u64) -> String {
    format!("{k}0000000-0000-4000-8000-{n:012x}")
}

/// One read, as each system asks it.
struct Read {
    name: &'static str,
    ours: Value,
    theirs: Value,
    /// Whose token: the store manager (false) or the consultant (true).
    consultant: bool,
    /// The answer of each, reduced to what both must agree on.
    canon_ours: fn(&Value) -> Value,
    canon_theirs: fn(&Value) -> Value,
}

fn uuid_of(global: &Value) -> Value {
    global
        .as_str()
        .and_then(ids::decode_any)
        .map(|(_, u)| json!(u.to_string()))
        .unwrap_or(Value::Null)
}

fn vehicles_ours(c: &Value) -> Value {
    let mut v: Vec<Value> = c["vehicles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            json!([
                uuid_of(&v["id"]),
                v["vin"],
                v["model"],
                v["plate"],
                v["currentMileageKm"]
            ])
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    json!(v)
}

fn vehicles_theirs(c: &Value) -> Value {
    let mut v: Vec<Value> = c["vehiclesByOwnerId"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let km = &v["mileageReadingsByVehicleId"]["nodes"][0]["km"];
            json!([v["rowId"], v["vin"], v["model"], v["plate"], km])
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    json!(v)
}

fn customer_ours(c: &Value) -> Value {
    let log: Vec<Value> = c["log"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!([uuid_of(&e["id"]), e["summary"], e["staff"]["name"]]))
        .collect();
    json!([
        uuid_of(&c["id"]),
        c["name"],
        c["mobile"],
        vehicles_ours(c),
        log
    ])
}

fn customer_theirs(c: &Value) -> Value {
    let log: Vec<Value> = c["customerLogsByCustomerId"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!([e["rowId"], e["summary"], e["staffByStaffId"]["name"]]))
        .collect();
    json!([c["rowId"], c["name"], c["mobile"], vehicles_theirs(c), log])
}

fn reads(store: &str, customer: &str, mobile: &str, consultant: &str) -> Vec<Read> {
    let store_gid = ids::encode(ids::NodeKind::Store, store.parse().unwrap_or_default()).0;
    let customer_gid = ids::encode(
        ids::NodeKind::Customer,
        customer.parse().unwrap_or_default(),
    )
    .0;
    vec![
        Read {
            name: "Q1: newest 20 customers of a store, with vehicles",
            ours: json!({"query": "query Q1($store: ID) { customers(first: 20, filter: {storeId: $store}) { nodes { id name mobile vehicles { id vin model plate } } } }", "variables": {"store": store_gid}}),
            theirs: json!({"query": "query Q1($store: UUID!) { allCustomers(first: 20, condition: {storeId: $store, mergedIntoId: null}, orderBy: ROW_ID_DESC) { nodes { rowId name mobile vehiclesByOwnerId(orderBy: ROW_ID_ASC) { nodes { rowId vin model plate } } } } }", "variables": {"store": store}}),
            consultant: false,
            canon_ours: |r| {
                json!(r["data"]["customers"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(customer_ours)
                    .collect::<Vec<_>>())
            },
            canon_theirs: |r| {
                json!(r["data"]["allCustomers"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(customer_theirs)
                    .collect::<Vec<_>>())
            },
        },
        Read {
            name: "Q2: customer by mobile, vehicles, last 5 log entries",
            ours: json!({"query": "query Q2($m: String!) { customerByPhone(phone: $m) { id name mobile vehicles { id vin model plate } log(first: 5) { nodes { id summary occurredAt } } } }", "variables": {"m": mobile}}),
            theirs: json!({"query": "query Q2($store: UUID!, $m: String!) { allCustomers(first: 1, condition: {storeId: $store, mobile: $m, mergedIntoId: null}) { nodes { rowId name mobile vehiclesByOwnerId(orderBy: ROW_ID_ASC) { nodes { rowId vin model plate } } customerLogsByCustomerId(first: 5, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) { nodes { rowId summary occurredAt } } } } }", "variables": {"store": store, "m": mobile}}),
            consultant: false,
            canon_ours: |r| customer_ours(&r["data"]["customerByPhone"]),
            canon_theirs: |r| customer_theirs(&r["data"]["allCustomers"]["nodes"][0]),
        },
        Read {
            name: "Q3: customer 360 by id (vehicles, mileage, last 10 log entries with staff)",
            ours: json!({"query": "query Q3($id: ID!) { customer(id: $id) { id name mobile lifecycleStage vehicles { id vin model plate currentMileageKm } log(first: 10) { nodes { id kind summary occurredAt staff { name } } } } }", "variables": {"id": customer_gid}}),
            theirs: json!({"query": "query Q3($id: UUID!, $store: UUID!) { allCustomers(first: 1, condition: {rowId: $id, storeId: $store}) { nodes { rowId name mobile lifecycleStage vehiclesByOwnerId(orderBy: ROW_ID_ASC) { nodes { rowId vin model plate mileageReadingsByVehicleId(first: 1, orderBy: [READ_ON_DESC, ROW_ID_DESC]) { nodes { km } } } } customerLogsByCustomerId(first: 10, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) { nodes { rowId kind summary occurredAt staffByStaffId { name } } } } } }", "variables": {"id": customer, "store": store}}),
            consultant: false,
            canon_ours: |r| customer_ours(&r["data"]["customer"]),
            canon_theirs: |r| customer_theirs(&r["data"]["allCustomers"]["nodes"][0]),
        },
        Read {
            name: "my day: a consultant's open tasks with customer and vehicle",
            ours: json!({"query": "query MyDay { myDay { overdue { ...T } dueToday { ...T } upcoming { ...T } } } fragment T on Task { id kind title status dueAt customer { id name mobile } vehicle { id plate } }"}),
            theirs: json!({"query": "query MyDay($me: UUID!) { allTasks(condition: {assigneeId: $me, status: \"OPEN\"}, orderBy: [DUE_AT_ASC, ROW_ID_ASC]) { nodes { rowId kind title status dueAt customerByCustomerId { rowId name mobile } vehicleByVehicleId { rowId plate } } } }", "variables": {"me": consultant}}),
            consultant: true,
            canon_ours: |r| {
                let mut t: Vec<Value> = ["overdue", "dueToday", "upcoming"]
                    .iter()
                    .flat_map(|s| {
                        r["data"]["myDay"][s]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    })
                    .map(|t| {
                        json!([
                            uuid_of(&t["id"]),
                            t["title"],
                            uuid_of(&t["customer"]["id"]),
                            t["customer"]["name"],
                            t["vehicle"]["plate"]
                        ])
                    })
                    .collect();
                t.sort_by_key(|x| x.to_string());
                json!(t)
            },
            // Ours holds the open tasks due by the end of the seventh day
            // ahead in the store's zone (Shanghai, UTC+8 all year);
            // PostGraphile (no range filter in the amber preset) all open
            // ones, cut here.
            canon_theirs: |r| {
                let local = chrono::Utc::now() + chrono::Duration::hours(8);
                let horizon = (local.date_naive() + chrono::Duration::days(8))
                    .and_hms_opt(0, 0, 0)
                    .map(|d| d.and_utc() - chrono::Duration::hours(8))
                    .unwrap_or_default();
                let mut t: Vec<Value> = r["data"]["allTasks"]["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|t| {
                        t["dueAt"]
                            .as_str()
                            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                            .is_some_and(|d| d < horizon)
                    })
                    .map(|t| {
                        json!([
                            t["rowId"],
                            t["title"],
                            t["customerByCustomerId"]["rowId"],
                            t["customerByCustomerId"]["name"],
                            t["vehicleByVehicleId"]["plate"]
                        ])
                    })
                    .collect();
                t.sort_by_key(|x| x.to_string());
                json!(t)
            },
        },
    ]
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<Value> {
    let mut req = http.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Ok(req.send().await?.json().await?)
}

/// Transactions committed in the bench database so far (every statement
/// outside a transaction is one).
async fn commits(db: &sea_orm::DatabaseConnection) -> anyhow::Result<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no database statistics"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Statements per request: a sample sent one at a time, counted by
/// PostgreSQL (its statistics reach the view once the sessions go idle).
async fn statements(
    db: &sea_orm::DatabaseConnection,
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<f64> {
    const SAMPLE: i64 = 200;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let before = commits(db).await?;
    for _ in 0..SAMPLE {
        post(http, url, token, body).await?;
    }
    tokio::time::sleep(Duration::from_secs(11)).await;
    let after = commits(db).await?;
    // The two reads of the view are themselves one commit each.
    Ok((after - before - 1) as f64 / SAMPLE as f64)
}

/// What one wrk run measured.
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    bad: u64,
}

fn wrk(
    url: &str,
    body: &Value,
    token: Option<&str>,
    connections: u32,
    seconds: u32,
) -> anyhow::Result<Run> {
    let dir = std::env::temp_dir().join(format!("crm-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file: PathBuf = dir.join("body.json");
    std::fs::write(&file, serde_json::to_vec(body)?)?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/wrk-post.lua");
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
            script,
            url,
            "--",
        ])
        .arg(&file)
        .arg(token.unwrap_or(""))
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("wrk printed no summary: {text}"))?;
    let v: Value = serde_json::from_str(line)?;
    let n = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(Run {
        rps: n("requests") / (n("micros") / 1e6),
        p50_ms: n("p50") / 1000.0,
        p99_ms: n("p99") / 1000.0,
        bad: (n("non2xx") + n("errors")) as u64,
    })
}

/// p50 and p99 of sequential requests (after a warm-up), in ms.
async fn latency(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    for _ in 0..50 {
        post(http, url, Some(token), body).await?;
    }
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        post(http, url, Some(token), body).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok((crate::pct(&lat, 0.5), crate::pct(&lat, 0.99)))
}

/// Ours, one request at a time, on this network; beside the small
/// network's figures when there are some.
async fn flatness(
    setup: &Setup,
    http: &reqwest::Client,
    reads: &[Read],
    manager: &str,
    consultant: &str,
) -> anyhow::Result<()> {
    let mut now = serde_json::Map::new();
    for r in reads {
        let token = if r.consultant { consultant } else { manager };
        let (p50, p99) = latency(http, &setup.ours, token, &r.ours, setup.requests).await?;
        now.insert(r.name.to_string(), json!([p50, p99]));
    }
    let before: Option<Value> = match &setup.flat_baseline {
        Some(f) if !setup.latency_only => std::fs::read(f)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        _ => None,
    };
    println!(
        "\nLatency, {} sequential requests per read, {} customers:\n",
        setup.requests, setup.customers
    );
    match &before {
        Some(_) => {
            println!("| read | small p50 / p99 ms | this p50 / p99 ms | ratio p50 / p99 |");
            println!("|---|---|---|---|");
        }
        None => {
            println!("| read | p50 ms | p99 ms |");
            println!("|---|---|---|");
        }
    }
    for r in reads {
        let v = &now[r.name];
        let (p50, p99) = (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0));
        match before.as_ref().map(|b| &b[r.name]) {
            Some(b) => {
                let (b50, b99) = (
                    b[0].as_f64().unwrap_or(f64::NAN),
                    b[1].as_f64().unwrap_or(f64::NAN),
                );
                println!(
                    "| {} | {b50:.2} / {b99:.2} | {p50:.2} / {p99:.2} | **{:.2}× / {:.2}×** |",
                    r.name,
                    p50 / b50,
                    p99 / b99
                );
            }
            None => println!("| {} | {p50:.2} | {p99:.2} |", r.name),
        }
    }
    if let (true, Some(f)) = (setup.latency_only, &setup.flat_baseline) {
        std::fs::write(f, serde_json::to_vec(&Value::Object(now))?)?;
    }
    Ok(())
}

/// Runs the comparison and prints the table.
pub async fn run(setup: &Setup) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let ours = crate::Server {
        base: setup.ours.trim_end_matches("/graphql").to_string(),
        http: http.clone(),
    };
    let tokens = ours.login_all(&["n0.m".into(), "n0.c1".into()]).await?;
    let (manager, consultant) = (tokens[0].clone(), tokens[1].clone());
    // A customer of store 0 (the manager's); consultant 1 of store 0.
    let n = setup.customers / 200 + 21;
    let reads = reads(
        &row_id('5', 0),
        &row_id('c', n),
        &format!("+86139{n:08}"),
        &row_id('e', 1),
    );
    if setup.latency_only {
        return flatness(setup, &http, &reads, &manager, &consultant).await;
    }
    let db = sea_orm::Database::connect(&setup.database_url).await?;
    println!(
        "| read | system | conns | req/s | p50 ms | p99 ms | statements/req | ours ÷ theirs |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &reads {
        let token = Some(if r.consultant {
            consultant.as_str()
        } else {
            manager.as_str()
        });
        let a = post(&http, &setup.ours, token, &r.ours).await?;
        let b = post(&http, &setup.theirs, None, &r.theirs).await?;
        anyhow::ensure!(a.get("errors").is_none(), "{}: ours failed: {a}", r.name);
        anyhow::ensure!(
            b.get("errors").is_none(),
            "{}: PostGraphile failed: {b}",
            r.name
        );
        let (ca, cb) = ((r.canon_ours)(&a), (r.canon_theirs)(&b));
        anyhow::ensure!(
            ca == cb && ca.as_array().is_some_and(|x| !x.is_empty()),
            "{}: the answers differ\nours:   {ca}\ntheirs: {cb}",
            r.name
        );
        let st_ours = statements(&db, &http, &setup.ours, token, &r.ours).await?;
        let st_theirs = statements(&db, &http, &setup.theirs, None, &r.theirs).await?;
        for &c in &setup.connections {
            let o = wrk(&setup.ours, &r.ours, token, c, setup.seconds)?;
            let t = wrk(&setup.theirs, &r.theirs, None, c, setup.seconds)?;
            anyhow::ensure!(
                o.bad == 0 && t.bad == 0,
                "{}: failed requests under load (ours {}, theirs {})",
                r.name,
                o.bad,
                t.bad
            );
            println!(
                "| {} | ours | {c} | {:.0} | {:.2} | {:.2} | {st_ours:.2} | **{:.2}×** |",
                r.name,
                o.rps,
                o.p50_ms,
                o.p99_ms,
                o.rps / t.rps
            );
            println!(
                "| | PostGraphile 5 | {c} | {:.0} | {:.2} | {:.2} | {st_theirs:.2} | |",
                t.rps, t.p50_ms, t.p99_ms
            );
        }
    }
    flatness(setup, &http, &reads, &manager, &consultant).await
}
