//! The after-sales figures of issue #15 (PostgreSQL):
//! - `servicedata`: on top of `salesdata`, 1,200,000 vehicles (one per
//!   customer, a second for every fifth), 5,000,000 delivered repair orders
//!   over their lives, each vehicle's service forecast from its last visit,
//!   and for 100,000 of them their readings and an open maintenance
//!   reminder;
//! - `service`: a store manager's "vehicles due for service in the next 30
//!   days" and a vehicle's service history over HTTP (latency percentiles,
//!   SQL statements per request), then a night's batch of 100,000 readings
//!   re-predicted by two concurrent passes (time, and each forecast taken
//!   exactly once).
use std::time::Instant;

use api::ids::{self, NodeKind};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::{sales::time_query, Server};

/// Vehicles re-predicted after the night's readings.
const NIGHTLY: i64 = 100_000;

pub(crate) async fn timed(
    db: &sea_orm::DatabaseConnection,
    what: &str,
    sql: &str,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let r = db.execute_unprepared(sql).await?;
    println!(
        "{what}: {} rows in {:.1}s",
        r.rows_affected(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Vehicles, repair orders, forecasts, readings and reminders in bulk SQL.
pub async fn data(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == sea_orm::DbBackend::Postgres,
        "the service data phase needs PostgreSQL"
    );
    let t0 = Instant::now();
    timed(
        db,
        "vehicles",
        "INSERT INTO vehicle (id, store_id, vin, brand, model, trim, colour, plate, purchase_date, \
           delivery_date, owner_id, warranty_ends_on, warranty_km, created_at, updated_at) \
         SELECT gen_random_uuid(), c.store_id, 'LBNCH' || lpad((c.n * 10 + k)::text, 12, '0'), '长安福特', \
           (ARRAY['锐界','蒙迪欧','福克斯','探险者'])[1 + (c.n % 4)], NULL, NULL, \
           '渝B' || lpad((c.n * 10 + k)::text, 8, '0'), dd.d, dd.d, c.id, \
           (dd.d + interval '3 years')::date, 100000, now(), now() \
         FROM (SELECT id, store_id, row_number() OVER (ORDER BY id) AS n FROM customer) c \
         CROSS JOIN generate_series(1, 2) k \
         CROSS JOIN LATERAL (SELECT (current_date - (120 + (c.n * 37 + k * 101) % 1700)::int)::date AS d) dd \
         WHERE k = 1 OR c.n % 5 = 0",
    )
    .await?;
    // Visits spread over each car's life, about 4.2 per car: 5,000,000.
    timed(
        db,
        "repair orders",
        "INSERT INTO repair_order (id, store_id, customer_id, vehicle_id, advisor_id, kind, mileage_in, \
           complaint, diagnosis, inspection, measurements, jobs, parts, labour_fen, parts_fen, total_fen, \
           warranty_fen, paid_fen, payment_method, promised_at, status, repeat_of_id, fixed_first_time, \
           opened_at, done_at, delivered_at, created_at, updated_at) \
         SELECT gen_random_uuid(), v.store_id, v.owner_id, v.id, c.responsible_staff_id, \
           CASE WHEN j = 1 THEN 'FIRST_SERVICE' WHEN j % 3 = 0 THEN 'REPAIR' ELSE 'MAINTENANCE' END, \
           j * 7000 + (v.n % 900), '定期保养', NULL, NULL, NULL, \
           '[{\"description\":\"更换机油机滤\",\"hundredths\":150,\"rate_fen\":12000,\"under_warranty\":false}]'::json, \
           '[{\"part_no\":\"FL-820S\",\"name\":\"机油滤清器\",\"quantity\":1,\"unit_price_fen\":9000,\"under_warranty\":false}]'::json, \
           18000, 9000, 27000, 0, 27000, 'WECHAT', NULL, 'DELIVERED', NULL, true, o.at, o.at, o.at, o.at, o.at \
         FROM (SELECT id, store_id, owner_id, delivery_date, row_number() OVER (ORDER BY id) AS n FROM vehicle \
               WHERE vin LIKE 'LBNCH%') v \
         JOIN customer c ON c.id = v.owner_id \
         CROSS JOIN generate_series(1, 5) j \
         CROSS JOIN LATERAL (SELECT v.delivery_date + (j * (current_date - v.delivery_date) / 5) * interval '1 day' \
           - interval '30 days' + interval '2 hours' AS at) o \
         WHERE j <= 4 OR v.n % 6 = 0",
    )
    .await?;
    timed(
        db,
        "forecasts",
        "INSERT INTO service_forecast (vehicle_id, store_id, daily_m, last_service_on, last_service_km, \
           services, due_on, due_km, basis, stale, updated_at) \
         SELECT vehicle_id, store_id, 40000, max(opened_at)::date, max(mileage_in), count(*)::int, \
           (max(opened_at) + interval '6 months')::date, max(mileage_in) + 5000, 'TIME', false, now() \
         FROM repair_order GROUP BY vehicle_id, store_id",
    )
    .await?;
    // The night's cars: their visits' readings, an open maintenance
    // reminder each.
    timed(
        db,
        "night's cars",
        &format!(
            "CREATE TABLE bench_night AS SELECT v.id, v.store_id, v.owner_id, v.model \
             FROM vehicle v WHERE v.vin LIKE 'LBNCH%' ORDER BY v.id LIMIT {NIGHTLY}"
        ),
    )
    .await?;
    timed(
        db,
        "their readings",
        "INSERT INTO mileage_reading (id, store_id, vehicle_id, km, read_on, source, recorded_by, created_at) \
         SELECT gen_random_uuid(), r.store_id, r.vehicle_id, r.mileage_in, r.opened_at::date, 'SERVICE', NULL, now() \
         FROM repair_order r JOIN bench_night n ON n.id = r.vehicle_id",
    )
    .await?;
    timed(
        db,
        "their reminders",
        "INSERT INTO task (id, store_id, kind, title, reason, customer_id, subject_type, subject_id, vehicle_id, \
           assignee_id, assignee_role, earliest_at, due_at, latest_at, status, outcome, rule, rule_key, \
           escalation_level, max_escalation_level, escalated_at, created_by, completed_by, completed_at, \
           created_at, updated_at) \
         SELECT gen_random_uuid(), n.store_id, 'MAINTENANCE_REMINDER', '保养提醒：' || n.model, 'bench', \
           n.owner_id, 'Vehicle', n.id, n.id, NULL, 'SERVICE_ADVISOR', \
           f.due_on - interval '14 days', f.due_on - interval '14 days' + interval '1 day' - interval '1 second', \
           f.due_on + interval '1 day' - interval '1 second', 'OPEN', NULL, 'maintenance_reminder', \
           'maintenance_reminder:' || n.id, 0, 1, NULL, NULL, NULL, NULL, now(), now() \
         FROM bench_night n JOIN service_forecast f ON f.vehicle_id = n.id",
    )
    .await?;
    db.execute_unprepared("VACUUM ANALYZE").await?;
    let vehicles = entity::vehicle::Entity::find().count(db).await?;
    let orders = entity::repair_order::Entity::find().count(db).await?;
    println!(
        "service data ready in {:.1}s: {vehicles} vehicles, {orders} repair orders",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct Busiest {
    id: Uuid,
}

/// The due list, the history and the night's re-prediction.
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
        "vehiclesDueForService, next 30 days, first 50 (depth 5)",
        "{ vehiclesDueForService(withinDays: 30, first: 50) { edges { cursor node { dueOn dueKm basis services vehicle { vin plate model owner { name mobile } } } } } }",
        |_| json!({}),
        requests,
    )
    .await?;
    // Each manager reads the history of their store's car with the most
    // visits.
    let mut cars = Vec::new();
    for m in &managers {
        let row = Busiest::find_by_statement(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT r.vehicle_id AS id FROM repair_order r JOIN staff s ON s.store_id = r.store_id \
             WHERE s.username = $1 GROUP BY r.vehicle_id ORDER BY count(*) DESC, r.vehicle_id LIMIT 1",
            [m.as_str().into()],
        ))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no repair orders: run servicedata"))?;
        cars.push(ids::encode(NodeKind::Vehicle, row.id).to_string());
    }
    time_query(
        srv,
        &mt,
        "serviceHistory of a vehicle, first 20 with totalCount (depth 4)",
        "query($v: ID!) { serviceHistory(vehicleId: $v, first: 20) { totalCount edges { node { id kind status mileageIn totalFen openedAt advisor { name } jobs { description amountFen } parts { partNo amountFen } } } } }",
        |i| json!({"v": cars[i]}),
        requests,
    )
    .await?;
    Ok(())
}

/// A night's readings for 100,000 cars, then two concurrent passes.
pub async fn repredict(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    timed(
        db,
        "night's readings",
        "INSERT INTO mileage_reading (id, store_id, vehicle_id, km, read_on, source, recorded_by, created_at) \
         SELECT gen_random_uuid(), n.store_id, n.id, f.last_service_km + 1500 + (abs(hashtext(n.id::text)) % 4000), \
           current_date, 'OTHER', NULL, now() \
         FROM bench_night n JOIN service_forecast f ON f.vehicle_id = n.id",
    )
    .await?;
    timed(
        db,
        "marked stale",
        "UPDATE service_forecast SET stale = true WHERE vehicle_id IN (SELECT id FROM bench_night)",
    )
    .await?;
    let now = chrono::Utc::now();
    let t = Instant::now();
    let (a, b) = tokio::join!(
        api::customers::forecast::repredict_stale(db, now, api::customers::forecast::BATCH),
        api::customers::forecast::repredict_stale(db, now, api::customers::forecast::BATCH),
    );
    let (a, b) = (
        a.map_err(|e| anyhow::anyhow!("{e:?}"))?,
        b.map_err(|e| anyhow::anyhow!("{e:?}"))?,
    );
    let secs = t.elapsed().as_secs_f64();
    let row = Count::find_by_statement(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM task t JOIN bench_night n ON n.id = t.vehicle_id \
             JOIN service_forecast f ON f.vehicle_id = n.id \
             WHERE t.rule = 'maintenance_reminder' AND t.updated_at >= now() - interval '10 minutes' \
               AND f.basis = 'MILEAGE'",
        ))
        .one(db)
        .await?;
    let moved = row.map_or(0, |r| r.n);
    println!(
        "re-predicted {} forecasts ({a} + {b} by two passes, each once) in {secs:.1}s: {:.0}/s; {moved} reminders now follow a mileage-led service",
        a + b,
        (a + b) as f64 / secs
    );
    anyhow::ensure!(a + b == NIGHTLY as u64, "every stale forecast exactly once");
    Ok(())
}
