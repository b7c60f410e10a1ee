//! The customer-care figures of issue #16 (PostgreSQL):
//! - `caredata`: on top of `servicedata`, a satisfaction survey for every
//!   repair order of the last 180 days (rating its advisor) and a complaint
//!   from every 20th customer, a fifth of them still open;
//! - `care`: a store manager's complaint board (open complaints with their
//!   SLA clocks, owner and customer) and CSI per staff member for last
//!   month over HTTP (latency percentiles, SQL statements per request),
//!   then the daily retention pass over every customer by two concurrent
//!   workers (time, and each store done exactly once).
use std::time::Instant;

use chrono::Datelike;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{sales::time_query, service::timed, Server};

/// Surveys and complaints in bulk SQL.
pub async fn data(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == sea_orm::DbBackend::Postgres,
        "the care data phase needs PostgreSQL"
    );
    let t0 = Instant::now();
    timed(
        db,
        "surveys",
        "INSERT INTO survey_response (id, store_id, customer_id, template_id, kind, event_type, event_id, \
           staff_id, task_id, method, answers, overall, csi, recorded_by, answered_at) \
         SELECT gen_random_uuid(), r.store_id, r.customer_id, NULL, 'AFTER_SERVICE', 'RepairOrder', r.id, \
           r.advisor_id, NULL, 'PHONE', \
           json_build_array(json_build_object('key', 'overall', 'score', s.o)), s.o, s.o * 10.0, \
           r.advisor_id, r.opened_at + interval '2 days' \
         FROM repair_order r \
         CROSS JOIN LATERAL (SELECT 4 + (abs(hashtext(r.id::text)) % 7) AS o) s \
         WHERE r.opened_at >= current_date - 180",
    )
    .await?;
    timed(
        db,
        "complaints",
        "INSERT INTO complaint (id, store_id, customer_id, vehicle_id, repair_order_id, staff_id, department, \
           channel, received_at, content, category, cause, severity, owner_id, status, response_due_at, \
           resolution_due_at, responded_at, resolved_at, closed_at, resolution, improvement_plan, \
           outcome_satisfaction, survey_response_id, created_by, created_at, updated_at) \
         SELECT gen_random_uuid(), c.store_id, c.id, NULL, NULL, NULL, 'SERVICE', 'PHONE', t.at, \
           '等待时间太长', 'SERVICE', 'NOT_ENOUGH_ATTENTION', 'NORMAL', m.id, \
           CASE WHEN c.n % 5 = 0 THEN 'OPEN' ELSE 'CLOSED' END, \
           t.at + interval '24 hours', t.at + interval '72 hours', \
           CASE WHEN c.n % 5 = 0 THEN NULL ELSE t.at + interval '3 hours' END, \
           CASE WHEN c.n % 5 = 0 THEN NULL ELSE t.at + interval '2 days' END, \
           CASE WHEN c.n % 5 = 0 THEN NULL ELSE t.at + interval '3 days' END, \
           CASE WHEN c.n % 5 = 0 THEN NULL ELSE '致歉并免费复检' END, NULL, NULL, NULL, m.id, t.at, t.at \
         FROM (SELECT id, store_id, row_number() OVER (ORDER BY id) AS n FROM customer) c \
         JOIN LATERAL (SELECT id FROM staff WHERE store_id = c.store_id AND role = 'STORE_MANAGER' LIMIT 1) m ON true \
         CROSS JOIN LATERAL (SELECT now() - ((c.n * 7919) % (365 * 24)) * interval '1 hour' AS at) t \
         WHERE c.n % 20 = 0",
    )
    .await?;
    db.execute_unprepared("VACUUM ANALYZE survey_response, complaint")
        .await?;
    println!("care data ready in {:.1}s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// The complaint board, CSI per staff member, and the retention pass.
pub async fn reads(
    srv: &Server,
    db: &sea_orm::DatabaseConnection,
    requests: usize,
) -> anyhow::Result<()> {
    let managers: Vec<String> = (0..20).map(|i| format!("b{i}.m")).collect();
    let mt = srv.login_all(&managers).await?;
    time_query(
        srv,
        &mt,
        "complaint board: open complaints, first 50, SLA clocks, owner and customer (depth 4)",
        "{ complaints(first: 50, filter: {status: [OPEN, IN_PROGRESS]}) { totalCount edges { node { id status severity receivedAt responseDueAt resolutionDueAt responseClock resolutionClock overdue escalationLevel owner { name } customer { name } } } } }",
        |_| json!({}),
        requests,
    )
    .await?;
    let today = chrono::Utc::now().date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let last_month_end = first - chrono::Duration::days(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    let q = format!(
        "{{ csi(from: \"{last_month_start}\", to: \"{last_month_end}\", by: STAFF) {{ staff {{ name }} responses csi overall lowScores }} }}"
    );
    time_query(
        srv,
        &mt,
        "CSI per staff member for last month (depth 3)",
        &q,
        |_| json!({}),
        requests,
    )
    .await?;
    // The daily pass over every customer, by two workers at once.
    db.execute_unprepared("DELETE FROM retention_run").await?;
    let now = chrono::Utc::now();
    let t = Instant::now();
    let (a, b) = tokio::join!(
        api::care::retention::run_due(db, now),
        api::care::retention::run_due(db, now),
    );
    let (a, b) = (
        a.map_err(|e| anyhow::anyhow!("{e:?}"))?,
        b.map_err(|e| anyhow::anyhow!("{e:?}"))?,
    );
    let secs = t.elapsed().as_secs_f64();
    println!(
        "retention pass: {} stores ({} + {} by two workers), {} customers, {} newly at risk, in {secs:.1}s",
        a.stores + b.stores,
        a.stores,
        b.stores,
        a.customers + b.customers,
        a.flagged + b.flagged
    );
    let stores = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM store",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    anyhow::ensure!(
        (a.stores + b.stores) as i64 == stores,
        "every store exactly once"
    );
    // A second pass the same day finds nothing to do.
    let again = api::care::retention::run_due(db, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    anyhow::ensure!(again.stores == 0, "once a day");
    Ok(())
}
