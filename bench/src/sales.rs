//! The sales figures of issue #14 (PostgreSQL):
//! - `salesdata`: grows the generated network to 1,000,000 customers with
//!   3 leads each (one open, one lost, one won), a store manager for the
//!   first 20 stores;
//! - `leads`: a consultant's phone view and lead list, the manager's lead
//!   board and unassigned queue over HTTP: latency percentiles and SQL
//!   statements per request;
//! - `hooks`: webhook leads per second, then every lead sent again: none
//!   lost, none doubled.
use std::{sync::Arc, time::Instant};

use chrono::Utc;
use entity::{lead, lead_source, staff, store, team};
use hmac::{Hmac, Mac};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use crate::{pct, Server};

/// Customers and leads on top of the `data` phase, in bulk SQL.
pub async fn data(db: &sea_orm::DatabaseConnection, customers: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == sea_orm::DbBackend::Postgres,
        "the sales data phase needs PostgreSQL"
    );
    let t0 = Instant::now();
    let have = entity::customer::Entity::find().count(db).await?;
    let more = customers.saturating_sub(have);
    db.execute_unprepared(&format!(
        "WITH s AS (SELECT id, store_id, row_number() OVER (ORDER BY id) - 1 AS n \
           FROM staff WHERE username LIKE 'b%.s%') \
         INSERT INTO customer (id, store_id, name, mobile, gender, city, source, lifecycle_stage, \
           marketing_consent, sharing_consent, responsible_staff_id, merged_into_id, created_at, updated_at) \
         SELECT gen_random_uuid(), s.store_id, '线索客户' || g, '+86136' || lpad(g::text, 8, '0'), 'UNKNOWN', NULL, \
           'WALK_IN', 'PROSPECT', false, false, s.id, NULL, now(), now() \
         FROM generate_series(0, {}) g \
         JOIN s ON s.n = g % (SELECT count(*) FROM staff WHERE username LIKE 'b%.s%')",
        more as i64 - 1
    ))
    .await?;
    println!(
        "customers: {} added in {:.1}s",
        more,
        t0.elapsed().as_secs_f64()
    );
    let t1 = Instant::now();
    db.execute_unprepared(
        "WITH c AS (SELECT id, store_id, responsible_staff_id, row_number() OVER () AS n \
           FROM customer WHERE responsible_staff_id IS NOT NULL) \
         INSERT INTO lead (id, store_id, customer_id, consultant_id, channel, source_id, external_id, \
           source_detail, campaign, interest_model, budget_yuan, purchase_timing, trade_in, trade_in_model, \
           grade, status, first_response_due_at, first_responded_at, last_contact_at, next_follow_up_at, \
           follow_ups, lost_reason, lost_to_brand, lost_to_model, lost_note, closed_at, created_at, updated_at) \
         SELECT gen_random_uuid(), c.store_id, c.id, c.responsible_staff_id, \
           (ARRAY['WALK_IN','PHONE','WEBSITE','CAR_PORTAL','SOCIAL_MEDIA'])[1 + ((c.n + k) % 5)], \
           NULL, NULL, NULL, NULL, (ARRAY['锐界','蒙迪欧','福克斯','探险者'])[1 + ((c.n * 7 + k) % 4)], \
           200000, 'UNKNOWN', false, NULL, \
           CASE WHEN k = 1 THEN (ARRAY['H','A','B','C'])[1 + (c.n % 4)] ELSE 'B' END, \
           CASE k WHEN 1 THEN 'CONTACTED' WHEN 2 THEN 'LOST' ELSE 'WON' END, \
           now() - k * interval '30 days', now() - k * interval '30 days' + interval '5 minutes', \
           now() - (c.n % 40) * interval '1 day', \
           CASE WHEN k = 1 THEN now() + ((c.n % 30) - 10) * interval '1 day' END, \
           3, CASE WHEN k = 2 THEN 'PRICE' END, NULL, NULL, NULL, \
           CASE WHEN k > 1 THEN now() - interval '20 days' END, \
           now() - k * interval '30 days' - (c.n % 1000) * interval '1 minute', now() \
         FROM c CROSS JOIN generate_series(1, 3) AS k",
    )
    .await?;
    let leads = lead::Entity::find().count(db).await?;
    println!("leads: {leads} in {:.1}s", t1.elapsed().as_secs_f64());
    // Managers for the first 20 stores, password demo1234 like the seed.
    let template = staff::Entity::find()
        .filter(staff::Column::Username.eq("cq.manager"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no seed manager"))?;
    let stores = store::Entity::find()
        .filter(store::Column::Code.like("B%"))
        .order_by_asc(store::Column::Code)
        .limit(20)
        .all(db)
        .await?;
    for (i, s) in stores.iter().enumerate() {
        staff::Entity::insert(staff::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(Some(s.id)),
            group_id: Set(None),
            team_id: Set(None),
            username: Set(format!("b{i}.m")),
            mobile: Set(None),
            name: Set(format!("店长{i}")),
            ..template.clone().into()
        })
        .exec(db)
        .await?;
    }
    db.execute_unprepared("VACUUM ANALYZE").await?;
    println!("sales data ready in {:.1}s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// SQL statements run so far, read off /metrics.
async fn statements(http: &reqwest::Client, base: &str) -> anyhow::Result<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("db_statements_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Times one query over HTTP, sequentially, round-robin over the tokens
/// (after one untimed warm-up request per token), and counts the SQL
/// statements each request ran.
pub async fn time_query(
    srv: &Server,
    tokens: &[String],
    name: &str,
    query: &str,
    vars: impl Fn(usize) -> Value,
    requests: usize,
) -> anyhow::Result<()> {
    let mut lat = Vec::with_capacity(requests);
    let mut counts = Vec::with_capacity(requests);
    let mut rows = 0usize;
    // One untimed request per token first: each store's first read after
    // the data generator comes from disk (up to ~120 ms here), and with 20
    // stores those 20 cold reads alone would be the p99 of 1,000.
    for (i, token) in tokens.iter().enumerate() {
        srv.http
            .post(format!("{}/graphql", srv.base))
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": vars(i)}))
            .send()
            .await?
            .error_for_status()?;
    }
    for i in 0..requests {
        let before = statements(&srv.http, &srv.base).await?;
        let t0 = Instant::now();
        let r: Value = srv
            .http
            .post(format!("{}/graphql", srv.base))
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&json!({"query": query, "variables": vars(i % tokens.len())}))
            .send()
            .await?
            .json()
            .await?;
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        counts.push(statements(&srv.http, &srv.base).await? - before);
        anyhow::ensure!(r.get("errors").is_none(), "{name} failed: {r}");
        if i == 0 {
            rows = r.to_string().matches("\"customer\"").count()
                + r.to_string().matches("\"staff\"").count();
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    counts.sort_by(|a, b| a.total_cmp(b));
    // The scheduler runs in the same process: a request's count can include
    // a tick's statements, so the median is the request's own.
    println!(
        "{name} ({requests} requests, {rows} nested rows in the first): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; SQL statements per request: median {}, max {}",
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        lat[lat.len() - 1],
        pct(&counts, 0.5),
        counts[counts.len() - 1]
    );
    Ok(())
}

/// The consultant's and the manager's reads.
pub async fn reads(srv: &Server, requests: usize) -> anyhow::Result<()> {
    let consultants: Vec<String> = (0..20).map(|i| format!("b{i}.s0")).collect();
    let managers: Vec<String> = (0..20).map(|i| format!("b{i}.m")).collect();
    let ct = srv.login_all(&consultants).await?;
    let mt = srv.login_all(&managers).await?;
    time_query(
        srv,
        &ct,
        "myLeads (depth 4)",
        "{ myLeads { open overdue groups { grade leads { id status grade nextFollowUpAt interestModel customer { name mobile } } } } }",
        |_| json!({}),
        requests,
    )
    .await?;
    time_query(
        srv,
        &ct,
        "leads, first 20 with totalCount (depth 4)",
        "{ leads(first: 20) { totalCount edges { node { id status grade channel nextFollowUpAt customer { name mobile } } } } }",
        |_| json!({}),
        requests,
    )
    .await?;
    let store_ids = srv.store_ids(&mt).await?;
    time_query(
        srv,
        &mt,
        "leadBoard (depth 3)",
        "query($s: ID!) { leadBoard(storeId: $s) { unassigned firstResponseLate dormant byStatus { key count } byGrade { key count } consultants { staff { name } open h a b c overdue } } }",
        |i| json!({"s": store_ids[i]}),
        requests,
    )
    .await?;
    time_query(
        srv,
        &mt,
        "leadBoard, counts only (depth 2)",
        "query($s: ID!) { leadBoard(storeId: $s) { unassigned firstResponseLate dormant byStatus { key count } byGrade { key count } } }",
        |i| json!({"s": store_ids[i]}),
        requests,
    )
    .await?;
    time_query(
        srv,
        &mt,
        "leads of the store, first 20 (depth 4)",
        "{ leads(first: 20, filter: {status: [CONTACTED]}) { edges { node { id grade customer { name } consultant { name } } } } }",
        |_| json!({}),
        requests,
    )
    .await?;
    Ok(())
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Webhook throughput: `n` new leads with `concurrency` in flight, then all
/// of them again; the source must hold exactly `n` leads.
pub async fn hooks(
    srv: &Server,
    db: &sea_orm::DatabaseConnection,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let store = store::Entity::find()
        .filter(store::Column::Code.eq("B0000"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no bench store: run the data phase"))?;
    let now = Utc::now();
    let team_id = Uuid::now_v7();
    team::Entity::insert(team::ActiveModel {
        id: Set(team_id),
        store_id: Set(store.id),
        name: Set(format!("压测销售组{}", now.timestamp())),
        lead_turn: Set(0),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    staff::Entity::update_many()
        .col_expr(staff::Column::TeamId, Expr::value(team_id))
        .filter(staff::Column::StoreId.eq(store.id))
        .filter(staff::Column::Role.eq("SALES_CONSULTANT"))
        .exec(db)
        .await?;
    let source_id = Uuid::now_v7();
    let secret = "bench-secret".to_string();
    lead_source::Entity::insert(lead_source::ActiveModel {
        id: Set(source_id),
        store_id: Set(store.id),
        name: Set(format!("压测门户{}", now.timestamp())),
        channel: Set("CAR_PORTAL".into()),
        team_id: Set(Some(team_id)),
        secret: Set(secret.clone()),
        active: Set(true),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    let source = api::ids::encode(api::ids::NodeKind::LeadSource, source_id).0;
    let stamp = now.timestamp() % 100_000;
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..n)
            .map(|i| {
                json!({"externalId": format!("B-{stamp}-{i}"), "name": format!("门户客户{i}"),
                       "mobile": format!("135{:03}{:05}", stamp % 1000, i), "interestModel": "锐界",
                       "purchaseTiming": "WITHIN_15_DAYS"})
                .to_string()
            })
            .collect(),
    );
    for round in ["first sending", "sent again"] {
        let t0 = Instant::now();
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (http, base, source, secret, bodies, next) = (
                srv.http.clone(),
                srv.base.clone(),
                source.clone(),
                secret.clone(),
                bodies.clone(),
                next.clone(),
            );
            workers.push(tokio::spawn(async move {
                let mut counts = (0usize, 0usize, 0usize);
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let r = http
                        .post(format!("{base}/hooks/leads"))
                        .header("content-type", "application/json")
                        .header("x-lead-source", &source)
                        .header("x-signature", sign(&secret, body))
                        .body(body.clone())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 202 => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            if v["duplicate"] == true {
                                counts.1 += 1;
                            } else {
                                counts.0 += 1;
                            }
                        }
                        _ => counts.2 += 1,
                    }
                }
                counts
            }));
        }
        let (mut new, mut dup, mut failed) = (0, 0, 0);
        for w in workers {
            let (a, b, c) = w.await?;
            new += a;
            dup += b;
            failed += c;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "webhook, {round}: {n} posts, {concurrency} in flight, in {secs:.1}s = {:.0}/s accepted; new {new}, duplicate {dup}, failed {failed}",
            n as f64 / secs
        );
        // The intake worker makes the leads behind the answers: how long
        // until every one is a lead, counted from the first post.
        loop {
            let made = lead::Entity::find()
                .filter(lead::Column::SourceId.eq(source_id))
                .count(db)
                .await?;
            if made as usize >= n {
                let all = t0.elapsed().as_secs_f64();
                println!(
                    "webhook, {round}: all {n} leads made {all:.1}s after the first post = {:.0}/s end to end",
                    n as f64 / all
                );
                break;
            }
            anyhow::ensure!(
                t0.elapsed().as_secs() < 600,
                "the intake stalled at {made} leads"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let stored = lead::Entity::find()
        .filter(lead::Column::SourceId.eq(source_id))
        .count(db)
        .await?;
    println!("webhook leads stored for the source: {stored} (sent {n}, each twice)");
    anyhow::ensure!(stored as usize == n, "leads lost or doubled");
    Ok(())
}
