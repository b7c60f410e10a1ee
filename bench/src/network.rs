//! `network`: the data set of the side-by-side comparison (issue #17), in
//! bulk SQL on PostgreSQL, on top of the demo seed: 100 stores with a
//! manager and 20 consultants each, 1,000,000 customers (`--customers`; 10,000 per store,
//! each with a responsible consultant), 1,200,000 vehicles with a mileage
//! reading each, 5,000,000 customer log entries, a lead per customer, a
//! repair order per vehicle, and 1,000,000 tasks of which 50,000 are open
//! (25 per consultant, for "my day", at any size).
//!
//! Ids are made from row numbers (`n` → `…-8000-<n in hex>`), so children
//! are generated without reading their parents back, and tables that do
//! not depend on each other load on separate connections at once.
use std::time::Instant;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

/// The tables loaded in bulk: their secondary indexes are dropped for the
/// load and built again after it (much faster than keeping them up to date
/// row by row).
const BULK: &[&str] = &[
    "customer",
    "vehicle",
    "customer_log",
    "lead",
    "mileage_reading",
    "repair_order",
    "task",
];

/// Runs one bulk insert with foreign-key triggers off (the generator's rows
/// are consistent by construction) and prints its time.
async fn timed(db: &DatabaseConnection, what: &str, sql: &str) -> anyhow::Result<()> {
    let t = Instant::now();
    let txn = db.begin().await?;
    txn.execute_unprepared("SET LOCAL session_replication_role = replica")
        .await?;
    let r = txn.execute_unprepared(sql).await?;
    txn.commit().await?;
    println!(
        "{what}: {} rows in {:.1}s",
        r.rows_affected(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Drops the secondary indexes of the bulk tables (not those behind a
/// primary key or unique constraint) and returns how to build them again.
async fn drop_indexes(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, String)>> {
    let list = BULK
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(",");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i \
                 WHERE i.schemaname = 'public' AND i.tablename IN ({list}) AND NOT EXISTS \
                   (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)"
            ),
        ))
        .await?;
    let mut defs = Vec::new();
    for r in rows {
        let (table, name, def): (String, String, String) = (
            r.try_get("", "tablename")?,
            r.try_get("", "indexname")?,
            r.try_get("", "indexdef")?,
        );
        db.execute_unprepared(&format!("DROP INDEX \"{name}\""))
            .await?;
        defs.push((table, def));
    }
    Ok(defs)
}

/// Builds the dropped indexes again, two at a time.
async fn build_indexes(db: &DatabaseConnection, defs: Vec<(String, String)>) -> anyhow::Result<()> {
    let t = Instant::now();
    let n = defs.len();
    let (a, b): (Vec<_>, Vec<_>) = defs.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let run = |part: Vec<(usize, (String, String))>| async move {
        for (_, (_, def)) in part {
            let txn = db.begin().await?;
            txn.execute_unprepared("SET LOCAL maintenance_work_mem = '512MB'")
                .await?;
            txn.execute_unprepared(&def).await?;
            txn.commit().await?;
        }
        anyhow::Ok(())
    };
    let (x, y) = tokio::join!(run(a), run(b));
    x?;
    y?;
    println!("indexes: {n} built in {:.1}s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Stores in the network.
pub const STORES: i64 = 100;
/// Consultants per store.
pub const CONSULTANTS: i64 = 20;

/// A deterministic uuid for row `n` of kind `k` (one hex digit).
fn id(k: char, n: &str) -> String {
    format!("('{k}0000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid")
}

/// Generates the network of `customers` (a multiple of 100; 1,000,000 by
/// default) into an empty, migrated and seeded database.
#[allow(non_snake_case)]
pub async fn data(db: &DatabaseConnection, CUSTOMERS: i64) -> anyhow::Result<()> {
    anyhow::ensure!(
        db.get_database_backend() == sea_orm::DbBackend::Postgres,
        "the network data set needs PostgreSQL"
    );
    let t0 = Instant::now();
    let indexes = drop_indexes(db).await?;
    let per_store = CUSTOMERS / STORES;
    let (store, staff, customer, vehicle) = (
        id('5', "s"),
        id('e', "s * 100 + k"),
        id('c', "n"),
        id('a', "v"),
    );
    // The consultant responsible for customer n (n counts from 0; store n / per_store).
    let consultant = id(
        'e',
        &format!("(n / {per_store}) * 100 + 1 + n % {CONSULTANTS}"),
    );
    timed(
        db,
        "stores",
        &format!(
            "INSERT INTO store (id, oem_id, group_id, code, name, grade, city, time_zone, settings, created_at, updated_at) \
             SELECT {store}, t.oem_id, t.group_id, 'N' || lpad(s::text, 4, '0'), '网络门店' || s, t.grade, \
               (ARRAY['重庆','成都','北京','上海','广州'])[1 + s % 5], t.time_zone, t.settings, now(), now() \
             FROM generate_series(0, {}) s, (SELECT * FROM store ORDER BY code LIMIT 1) t",
            STORES - 1
        ),
    )
    .await?;
    // k = 0 is the store manager, 1..=20 the consultants.
    timed(
        db,
        "staff",
        &format!(
            "INSERT INTO staff (id, oem_id, group_id, store_id, team_id, username, mobile, name, role, active, \
               password_hash, created_at, updated_at, deactivated_at) \
             SELECT {staff}, t.oem_id, NULL, {store}, NULL, \
               CASE WHEN k = 0 THEN 'n' || s || '.m' ELSE 'n' || s || '.c' || k END, NULL, \
               CASE WHEN k = 0 THEN '店长' || s ELSE '顾问' || s || '-' || k END, \
               CASE WHEN k = 0 THEN 'STORE_MANAGER' ELSE 'SALES_CONSULTANT' END, true, t.password_hash, now(), now(), NULL \
             FROM generate_series(0, {}) s CROSS JOIN generate_series(0, {CONSULTANTS}) k, \
               (SELECT * FROM staff ORDER BY username LIMIT 1) t",
            STORES - 1
        ),
    )
    .await?;
    timed(
        db,
        "customers",
        &format!(
            "INSERT INTO customer (id, store_id, name, mobile, gender, city, source, lifecycle_stage, marketing_consent, \
               sharing_consent, responsible_staff_id, merged_into_id, created_at, updated_at) \
             SELECT {customer}, {}, '客户' || n, '+86139' || lpad(n::text, 8, '0'), \
               (ARRAY['MALE','FEMALE','UNKNOWN'])[1 + n % 3], '重庆', \
               (ARRAY['WALK_IN','PHONE','WEBSITE','REFERRAL'])[1 + n % 4], 'DEVELOPING', n % 2 = 0, n % 10 = 0, \
               {consultant}, NULL, now() - make_interval(secs => {CUSTOMERS} - n), now() \
             FROM generate_series(0, {}) n",
            id('5', &format!("n / {per_store}")),
            CUSTOMERS - 1
        ),
    )
    .await?;
    // Vehicle v belongs to customer v % CUSTOMERS: everyone has one, every
    // fifth customer a second.
    let owner = format!("v % {CUSTOMERS}");
    let vehicles = format!(
        "INSERT INTO vehicle (id, store_id, vin, brand, model, trim, colour, plate, purchase_date, delivery_date, \
           owner_id, warranty_ends_on, warranty_km, created_at, updated_at) \
         SELECT {vehicle}, {}, 'LNET' || lpad(v::text, 13, '0'), '长安福特', \
           (ARRAY['锐界','蒙迪欧','福克斯','探险者'])[1 + v % 4], NULL, '白', '渝N' || lpad(v::text, 7, '0'), \
           current_date - (v % 1500), current_date - (v % 1500), {}, current_date - (v % 1500) + 1095, 100000, now(), now() \
         FROM generate_series(0, {}) v WHERE v < {CUSTOMERS} OR (v - {CUSTOMERS}) * 5 < {CUSTOMERS}",
        id('5', &format!("({owner}) / {per_store}")),
        id('c', &owner),
        CUSTOMERS + CUSTOMERS / 5 - 1
    );
    // Five entries per customer, written by their consultant over a year.
    let log = format!(
        "INSERT INTO customer_log (id, store_id, customer_id, kind, channel, staff_id, summary, outcome, subject_type, \
           subject_id, occurred_at, created_at) \
         SELECT {}, {}, {customer}, (ARRAY['CONTACT','VISIT','CONTACT','NOTE','CONTACT'])[1 + j], \
           (ARRAY['PHONE','IN_PERSON','SMS','SYSTEM','WECHAT'])[1 + j], {consultant}, '第' || j || '次跟进', NULL, NULL, NULL, \
           now() - make_interval(days => (5 - j) * 60 + n % 50), now() \
         FROM generate_series(0, {}) n CROSS JOIN generate_series(0, 4) j",
        id('b', "n * 5 + j"),
        id('5', &format!("n / {per_store}")),
        CUSTOMERS - 1
    );
    // A lead per customer (won for owners).
    let leads = format!(
        "INSERT INTO lead (id, store_id, customer_id, consultant_id, channel, source_id, external_id, source_detail, \
           campaign, interest_model, budget_yuan, purchase_timing, trade_in, trade_in_model, grade, status, \
           first_response_due_at, first_responded_at, last_contact_at, next_follow_up_at, follow_ups, lost_reason, \
           lost_to_brand, lost_to_model, lost_note, closed_at, created_at, updated_at) \
         SELECT {}, {}, {customer}, {consultant}, 'WALK_IN', NULL, NULL, NULL, NULL, '锐界', 250000, NULL, false, NULL, \
           'B', 'WON', now() - interval '400 days', now() - interval '400 days', now() - interval '380 days', NULL, 3, \
           NULL, NULL, NULL, NULL, now() - interval '380 days', now() - interval '400 days', now() \
         FROM generate_series(0, {}) n",
        id('d', "n"),
        id('5', &format!("n / {per_store}")),
        CUSTOMERS - 1
    );
    let (a, b, c) = tokio::join!(
        timed(db, "vehicles", &vehicles),
        timed(db, "log entries", &log),
        timed(db, "leads", &leads),
    );
    a?;
    b?;
    c?;
    let readings = format!(
        "INSERT INTO mileage_reading (id, store_id, vehicle_id, km, read_on, source, recorded_by, created_at) \
         SELECT {}, store_id, id, 1000 + (v % 1500) * 30, current_date - 10, 'SERVICE', NULL, now() \
         FROM (SELECT id, store_id, ('x' || right(id::text, 12))::bit(48)::bigint AS v FROM vehicle \
               WHERE id::text LIKE 'a0000000-%') x",
        id('f', "v"),
    );
    let orders = format!(
        "INSERT INTO repair_order (id, store_id, customer_id, vehicle_id, advisor_id, kind, mileage_in, complaint, \
           diagnosis, inspection, measurements, jobs, parts, labour_fen, parts_fen, total_fen, warranty_fen, paid_fen, \
           payment_method, promised_at, status, repeat_of_id, fixed_first_time, opened_at, done_at, delivered_at, \
           created_at, updated_at) \
         SELECT {}, store_id, owner_id, id, {}, 'MAINTENANCE', 5000, '常规保养', NULL, NULL, NULL, '[]', '[]', \
           30000, 50000, 80000, 0, 80000, 'CARD', now() - interval '90 days', 'DELIVERED', NULL, true, \
           now() - interval '90 days', now() - interval '90 days', now() - interval '90 days', \
           now() - interval '90 days', now() - interval '90 days' \
         FROM (SELECT id, store_id, owner_id, ('x' || right(store_id::text, 12))::bit(48)::bigint AS s FROM vehicle \
               WHERE id::text LIKE 'a0000000-%') x",
        id('9', "('x' || right(id::text, 12))::bit(48)::bigint"),
        id('e', "s * 100"),
    );
    // k tasks per customer (k = 1 from 500 customers a store up): each
    // consultant has 25 open ones whatever the network's size, due within
    // ten days either side of now; the rest are done.
    let k = if per_store >= 500 { 1 } else { 500 / per_store };
    let open = format!("n % {per_store} >= {per_store} - {}", 25 * CONSULTANTS / k);
    let due = "now() + make_interval(hours => ((n * 7 + j * 37) % 480) - 240)";
    let tasks = format!(
        "INSERT INTO task (id, store_id, kind, title, reason, customer_id, subject_type, subject_id, vehicle_id, \
           assignee_id, assignee_role, earliest_at, due_at, latest_at, status, outcome, rule, rule_key, \
           escalation_level, max_escalation_level, escalated_at, escalation_wait_hours, created_by, completed_by, \
           completed_at, created_at, updated_at) \
         SELECT {}, {}, 'FOLLOW_UP', '跟进', '定期回访', {customer}, NULL, NULL, {}, {consultant}, NULL, \
           {due} - interval '1 day', {due}, {due}, \
           CASE WHEN {open} THEN 'OPEN' ELSE 'DONE' END, CASE WHEN {open} THEN NULL ELSE '已回访' END, \
           NULL, NULL, 0, 1, NULL, NULL, NULL, NULL, \
           CASE WHEN {open} THEN NULL ELSE now() - interval '30 days' END, now() - interval '40 days', now() \
         FROM generate_series(0, {}) n CROSS JOIN generate_series(0, {}) j",
        id('7', &format!("n * {k} + j")),
        id('5', &format!("n / {per_store}")),
        id('a', "n"),
        CUSTOMERS - 1,
        k - 1
    );
    let (a, b, c) = tokio::join!(
        timed(db, "mileage readings", &readings),
        timed(db, "repair orders", &orders),
        timed(db, "tasks", &tasks),
    );
    a?;
    b?;
    c?;
    build_indexes(db, indexes).await?;
    db.execute_unprepared("VACUUM ANALYZE").await?;
    println!(
        "network: {CUSTOMERS} customers in {STORES} stores generated in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
