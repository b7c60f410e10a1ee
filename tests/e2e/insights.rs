//! Reports, plans and targets, checked against a data set whose answers
//! are worked out by hand below. The facts are written straight into the
//! tables (with the times a report buckets by); every answer is read over
//! GraphQL as a manager would.
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{spawn_app, TestApp};

/// Shanghai local time as UTC.
fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap() - chrono::Duration::hours(8)
}

fn minutes(t: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    t + chrono::Duration::minutes(m)
}

pub(crate) struct Ids {
    cq: Uuid,
    cd: Uuid,
    sales1: Uuid,
    sales2: Uuid,
    advisor: Uuid,
    care: Uuid,
    manager: Uuid,
}

async fn ids(app: &TestApp) -> Ids {
    let db = &app.state.db;
    let store = |code: &'static str| async move {
        entity::store::Entity::find()
            .filter(entity::store::Column::Code.eq(code))
            .one(db)
            .await
            .expect("store")
            .expect("demo store")
            .id
    };
    let staff = |u: &'static str| async move {
        entity::staff::Entity::find()
            .filter(entity::staff::Column::Username.eq(u))
            .one(db)
            .await
            .expect("staff")
            .expect("demo staff")
            .id
    };
    Ids {
        cq: store("CQ001").await,
        cd: store("CD002").await,
        sales1: staff("cq.sales1").await,
        sales2: staff("cq.sales2").await,
        advisor: staff("cq.advisor").await,
        care: staff("cq.care").await,
        manager: staff("cq.manager").await,
    }
}

async fn customer(app: &TestApp, store: Uuid, n: u32, staff: Uuid, created: DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    entity::customer::ActiveModel {
        id: Set(id),
        store_id: Set(store),
        name: Set(format!("报表客户{n}")),
        mobile: Set(format!("+86139{n:08}")),
        gender: Set("UNKNOWN".into()),
        city: Set(None),
        source: Set("WALK_IN".into()),
        lifecycle_stage: Set("OWNER".into()),
        marketing_consent: Set(false),
        sharing_consent: Set(false),
        responsible_staff_id: Set(Some(staff)),
        merged_into_id: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
    }
    .insert(&app.state.db)
    .await
    .expect("customer");
    id
}

async fn vehicle(app: &TestApp, store: Uuid, owner: Uuid, n: u32, model: &str) -> Uuid {
    let id = Uuid::now_v7();
    let t = at(2026, 1, 1, 9, 0);
    entity::vehicle::ActiveModel {
        id: Set(id),
        store_id: Set(store),
        vin: Set(crate::support::valid_vin(900 + n)),
        brand: Set("长安福特".into()),
        model: Set(model.into()),
        trim: Set(None),
        colour: Set(None),
        plate: Set(None),
        purchase_date: Set(None),
        delivery_date: Set(None),
        owner_id: Set(owner),
        warranty_ends_on: Set(None),
        warranty_km: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&app.state.db)
    .await
    .expect("vehicle");
    id
}

/// A lead: (store, customer, consultant, created, channel, grade, model,
/// minutes to first response, status, lost reason).
#[allow(clippy::too_many_arguments)]
async fn lead(
    app: &TestApp,
    store: Uuid,
    customer: Uuid,
    consultant: Uuid,
    created: DateTime<Utc>,
    channel: &str,
    grade: &str,
    model: &str,
    responded_after: Option<i64>,
    status: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    entity::lead::ActiveModel {
        id: Set(id),
        store_id: Set(store),
        customer_id: Set(customer),
        consultant_id: Set(Some(consultant)),
        channel: Set(channel.into()),
        source_id: Set(None),
        external_id: Set(None),
        source_detail: Set(None),
        campaign: Set(None),
        interest_model: Set(Some(model.into())),
        budget_yuan: Set(None),
        purchase_timing: Set(None),
        trade_in: Set(false),
        trade_in_model: Set(None),
        grade: Set(grade.into()),
        status: Set(status.into()),
        first_response_due_at: Set(minutes(created, 15)),
        first_responded_at: Set(responded_after.map(|m| minutes(created, m))),
        last_contact_at: Set(None),
        next_follow_up_at: Set(None),
        follow_ups: Set(0),
        lost_reason: Set((status == "LOST").then(|| "PRICE".into())),
        lost_to_brand: Set(None),
        lost_to_model: Set(None),
        lost_note: Set(None),
        closed_at: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
    }
    .insert(&app.state.db)
    .await
    .expect("lead");
    id
}

async fn drive(app: &TestApp, store: Uuid, lead: Uuid, customer: Uuid, consultant: Uuid) {
    let car = entity::demo_car::Entity::find()
        .filter(entity::demo_car::Column::StoreId.eq(store))
        .one(&app.state.db)
        .await
        .expect("demo car")
        .expect("a demo car");
    let t = at(2026, 11, 4, 10, 0);
    entity::test_drive::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store),
        lead_id: Set(lead),
        customer_id: Set(customer),
        demo_car_id: Set(car.id),
        consultant_id: Set(consultant),
        starts_at: Set(t),
        ends_at: Set(minutes(t, 30)),
        licence_no: Set("500101199001011234".into()),
        agreement_signed_at: Set(Some(t)),
        route: Set(None),
        start_km: Set(None),
        end_km: Set(None),
        feedback: Set(None),
        rating: Set(None),
        status: Set("DONE".into()),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&app.state.db)
    .await
    .expect("test drive");
}

async fn order(
    app: &TestApp,
    store: Uuid,
    lead: Uuid,
    customer: Uuid,
    consultant: Uuid,
    delivered: Option<DateTime<Utc>>,
) {
    let t = at(2026, 11, 5, 10, 0);
    entity::sales_order::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store),
        lead_id: Set(lead),
        customer_id: Set(customer),
        consultant_id: Set(consultant),
        model: Set("锐界".into()),
        trim: Set(None),
        colour: Set(None),
        price_yuan: Set(200_000),
        discount_yuan: Set(0),
        deposit_yuan: Set(0),
        payment: Set("CASH".into()),
        loan_provider: Set(None),
        loan_term_months: Set(None),
        down_payment_yuan: Set(None),
        insurance: Set(None),
        trade_in: Set(None),
        accessories: Set(None),
        commission_yuan: Set(0),
        status: Set(if delivered.is_some() {
            "DELIVERED"
        } else {
            "CONFIRMED"
        }
        .into()),
        pdi: Set(None),
        pdi_completed_at: Set(None),
        vehicle_id: Set(None),
        delivered_at: Set(delivered),
        cancel_reason: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&app.state.db)
    .await
    .expect("order");
}

/// A repair order: (opened, status, total, paid, fixed first time,
/// promised after hours, done after hours).
#[allow(clippy::too_many_arguments)]
async fn repair(
    app: &TestApp,
    ids: &Ids,
    customer: Uuid,
    car: Uuid,
    opened: DateTime<Utc>,
    status: &str,
    total: i64,
    paid: i64,
    fixed: Option<bool>,
    promised_h: Option<i64>,
    done_h: Option<i64>,
) -> Uuid {
    let id = Uuid::now_v7();
    let h = |n: i64| opened + chrono::Duration::hours(n);
    entity::repair_order::ActiveModel {
        id: Set(id),
        store_id: Set(ids.cq),
        customer_id: Set(customer),
        vehicle_id: Set(car),
        advisor_id: Set(ids.advisor),
        kind: Set("MAINTENANCE".into()),
        mileage_in: Set(10_000),
        complaint: Set("保养".into()),
        diagnosis: Set(None),
        inspection: Set(None),
        measurements: Set(None),
        jobs: Set(json!([])),
        parts: Set(json!([])),
        labour_fen: Set(total),
        parts_fen: Set(0),
        total_fen: Set(total),
        warranty_fen: Set(0),
        paid_fen: Set(paid),
        payment_method: Set(None),
        promised_at: Set(promised_h.map(h)),
        status: Set(status.into()),
        repeat_of_id: Set(None),
        fixed_first_time: Set(fixed),
        opened_at: Set(opened),
        done_at: Set(done_h.map(h)),
        delivered_at: Set((status == "DELIVERED").then(|| h(done_h.unwrap_or(4) + 1))),
        created_at: Set(opened),
        updated_at: Set(opened),
    }
    .insert(&app.state.db)
    .await
    .expect("repair order");
    id
}

async fn survey(app: &TestApp, ids: &Ids, customer: Uuid, ro: Uuid, day: u32, csi: f64) {
    entity::survey_response::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(ids.cq),
        customer_id: Set(customer),
        template_id: Set(None),
        kind: Set("AFTER_SERVICE".into()),
        event_type: Set(Some("REPAIR_ORDER".into())),
        event_id: Set(Some(ro)),
        staff_id: Set(Some(ids.advisor)),
        task_id: Set(None),
        method: Set("PHONE".into()),
        answers: Set(json!([])),
        overall: Set(9),
        csi: Set(csi),
        recorded_by: Set(ids.care),
        answered_at: Set(at(2026, 11, day, 15, 0)),
    }
    .insert(&app.state.db)
    .await
    .expect("survey");
}

/// A complaint received at `received`: response due in 2 h, resolution
/// in 48 h; answered and resolved after the given minutes.
async fn complaint(
    app: &TestApp,
    ids: &Ids,
    customer: Uuid,
    received: DateTime<Utc>,
    cause: &str,
    responded: Option<i64>,
    resolved: Option<i64>,
) -> Uuid {
    let id = Uuid::now_v7();
    entity::complaint::ActiveModel {
        id: Set(id),
        store_id: Set(ids.cq),
        customer_id: Set(customer),
        vehicle_id: Set(None),
        repair_order_id: Set(None),
        staff_id: Set(None),
        department: Set("SERVICE".into()),
        channel: Set("PHONE".into()),
        received_at: Set(received),
        content: Set("等待太久".into()),
        category: Set("SERVICE".into()),
        cause: Set(cause.into()),
        severity: Set("NORMAL".into()),
        owner_id: Set(ids.care),
        status: Set(if resolved.is_some() {
            "RESOLVED"
        } else {
            "OPEN"
        }
        .into()),
        response_due_at: Set(minutes(received, 120)),
        resolution_due_at: Set(minutes(received, 48 * 60)),
        responded_at: Set(responded.map(|m| minutes(received, m))),
        resolved_at: Set(resolved.map(|m| minutes(received, m))),
        closed_at: Set(None),
        resolution: Set(None),
        improvement_plan: Set(None),
        outcome_satisfaction: Set(None),
        survey_response_id: Set(None),
        created_by: Set(ids.care),
        created_at: Set(received),
        updated_at: Set(received),
    }
    .insert(&app.state.db)
    .await
    .expect("complaint");
    id
}

/// A task of `kind` for cq.care: due, done (or open) and its escalation.
#[allow(clippy::too_many_arguments)]
async fn task(
    app: &TestApp,
    ids: &Ids,
    customer: Uuid,
    kind: &str,
    due: DateTime<Utc>,
    done: Option<DateTime<Utc>>,
    subject: Option<Uuid>,
    level: i32,
) {
    entity::task::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(ids.cq),
        kind: Set(kind.into()),
        title: Set("回访".into()),
        reason: Set("报表".into()),
        customer_id: Set(customer),
        subject_type: Set(subject.map(|_| "COMPLAINT".into())),
        subject_id: Set(subject),
        vehicle_id: Set(None),
        assignee_id: Set(Some(ids.care)),
        assignee_role: Set(None),
        earliest_at: Set(due),
        due_at: Set(due),
        latest_at: Set(due),
        status: Set(if done.is_some() { "DONE" } else { "OPEN" }.into()),
        outcome: Set(None),
        rule: Set(None),
        rule_key: Set(None),
        escalation_level: Set(level),
        max_escalation_level: Set(2),
        escalated_at: Set(None),
        escalation_wait_hours: Set(None),
        created_by: Set(None),
        completed_by: Set(done.map(|_| ids.care)),
        completed_at: Set(done),
        created_at: Set(due),
        updated_at: Set(due),
    }
    .insert(&app.state.db)
    .await
    .expect("task");
}

#[allow(clippy::too_many_arguments)]
async fn claim(
    app: &TestApp,
    ids: &Ids,
    ro: Uuid,
    car: Uuid,
    customer: Uuid,
    day: u32,
    late: bool,
    status: &str,
    paid: Option<i64>,
) {
    let t = at(2026, 11, day, 10, 0);
    let on = NaiveDate::from_ymd_opt(2026, 11, day).expect("day");
    entity::warranty_claim::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(ids.cq),
        repair_order_id: Set(ro),
        vehicle_id: Set(car),
        customer_id: Set(customer),
        model: Set("锐界".into()),
        failed_part: Set("水泵".into()),
        cause: Set("渗漏".into()),
        labour_fen: Set(0),
        parts_fen: Set(0),
        total_fen: Set(30_000),
        serviced_on: Set(on),
        file_by: Set(on + chrono::Duration::days(10)),
        submitted_at: Set((status != "DRAFT").then_some(t)),
        late: Set(late),
        status: Set(status.into()),
        tracking_no: Set(None),
        reject_reason: Set(None),
        paid_fen: Set(paid),
        decided_at: Set(None),
        decided_by: Set(None),
        created_by: Set(ids.advisor),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&app.state.db)
    .await
    .expect("claim");
}

async fn standing(
    app: &TestApp,
    store: Uuid,
    customer: Uuid,
    stage: &str,
    segment: &str,
    revenue: i64,
) {
    entity::customer_standing::ActiveModel {
        customer_id: Set(customer),
        store_id: Set(store),
        stage: Set(stage.into()),
        segment: Set(segment.into()),
        risks: Set("[]".into()),
        at_risk: Set(false),
        at_risk_since: Set(None),
        last_visit_on: Set(None),
        visits_12m: Set(1),
        vehicles: Set(1),
        sales_revenue_fen: Set(0),
        service_revenue_fen: Set(revenue),
        revenue_fen: Set(revenue),
        ltv_fen: Set(revenue * 2),
        computed_on: Set(NaiveDate::from_ymd_opt(2026, 11, 23).expect("day")),
    }
    .insert(&app.state.db)
    .await
    .expect("standing");
}

/// The data set. CQ001 (Shanghai), November 2026 unless said otherwise:
/// - leads: L1 walk-in H 锐界, answered in 10 min, driven, delivered;
///   L2 website A 锐界, answered in 30 min (late), driven, ordered;
///   L3 website B 探险者, not answered; L4 (15 Oct, cq.sales2) walk-in C,
///   answered in 5 min, lost on price; one CD002 lead (5 Nov).
/// - repair orders: R1 5 Nov delivered 1,000 yuan paid in full, fixed,
///   promised 8 h done in 7 h; R2 6 Nov delivered 500 yuan paid 200,
///   not fixed, promised 3 h done in 5 h; R3 20 Nov open; R4 10 Oct
///   delivered 800 yuan; R5 7 Nov cancelled; R6 15 Sep delivered 4,000
///   yuan. After-service CSI 90 (6 Nov) and 80 (7 Nov).
/// - complaints: K1 1 Nov answered in 1 h, resolved in 24 h; K2 10 Nov
///   answered in 3 h, unresolved (overdue), escalated; K3 22 Nov open.
/// - revisits (cq.care): due 5, 6, 10 Nov; done on the 5th, on the 8th,
///   open. A campaign contact done on 12 Nov.
/// - claims: 6 Nov on time, paid 300 yuan; 7 Nov late, rejected; 8 Nov
///   draft.
/// - standings: revenue 1,000 / 200 / 100 / 0 yuan in CQ001.
pub(crate) async fn seed(app: &TestApp) -> Ids {
    let ids = ids(app).await;
    let nov1 = at(2026, 11, 1, 9, 0);
    let c1 = customer(app, ids.cq, 1, ids.sales1, nov1).await;
    let c2 = customer(app, ids.cq, 2, ids.sales1, nov1).await;
    let c3 = customer(app, ids.cq, 3, ids.sales1, nov1).await;
    let c4 = customer(app, ids.cq, 4, ids.sales2, at(2026, 10, 1, 9, 0)).await;
    let c5 = customer(app, ids.cd, 5, ids.manager, nov1).await;
    let cd_sales = entity::staff::Entity::find()
        .filter(entity::staff::Column::Username.eq("cd.sales1"))
        .one(&app.state.db)
        .await
        .expect("staff")
        .expect("cd.sales1")
        .id;
    let l1 = lead(
        app,
        ids.cq,
        c1,
        ids.sales1,
        at(2026, 11, 2, 10, 0),
        "WALK_IN",
        "H",
        "锐界",
        Some(10),
        "WON",
    )
    .await;
    drive(app, ids.cq, l1, c1, ids.sales1).await;
    order(
        app,
        ids.cq,
        l1,
        c1,
        ids.sales1,
        Some(at(2026, 11, 15, 10, 0)),
    )
    .await;
    let l2 = lead(
        app,
        ids.cq,
        c2,
        ids.sales1,
        at(2026, 11, 3, 10, 0),
        "WEBSITE",
        "A",
        "锐界",
        Some(30),
        "ORDERED",
    )
    .await;
    drive(app, ids.cq, l2, c2, ids.sales1).await;
    order(app, ids.cq, l2, c2, ids.sales1, None).await;
    lead(
        app,
        ids.cq,
        c3,
        ids.sales1,
        at(2026, 11, 10, 10, 0),
        "WEBSITE",
        "B",
        "探险者",
        None,
        "NEW",
    )
    .await;
    lead(
        app,
        ids.cq,
        c4,
        ids.sales2,
        at(2026, 10, 15, 10, 0),
        "WALK_IN",
        "C",
        "锐界",
        Some(5),
        "LOST",
    )
    .await;
    lead(
        app,
        ids.cd,
        c5,
        cd_sales,
        at(2026, 11, 5, 10, 0),
        "WALK_IN",
        "H",
        "锐界",
        None,
        "NEW",
    )
    .await;

    let v1 = vehicle(app, ids.cq, c1, 1, "锐界").await;
    let v2 = vehicle(app, ids.cq, c2, 2, "探险者").await;
    let r1 = repair(
        app,
        &ids,
        c1,
        v1,
        at(2026, 11, 5, 9, 0),
        "DELIVERED",
        100_000,
        100_000,
        Some(true),
        Some(8),
        Some(7),
    )
    .await;
    let r2 = repair(
        app,
        &ids,
        c2,
        v2,
        at(2026, 11, 6, 9, 0),
        "DELIVERED",
        50_000,
        20_000,
        Some(false),
        Some(3),
        Some(5),
    )
    .await;
    repair(
        app,
        &ids,
        c1,
        v1,
        at(2026, 11, 20, 9, 0),
        "OPEN",
        0,
        0,
        None,
        None,
        None,
    )
    .await;
    let r4 = repair(
        app,
        &ids,
        c2,
        v2,
        at(2026, 10, 10, 9, 0),
        "DELIVERED",
        80_000,
        80_000,
        None,
        None,
        Some(4),
    )
    .await;
    repair(
        app,
        &ids,
        c2,
        v2,
        at(2026, 11, 7, 9, 0),
        "CANCELLED",
        0,
        0,
        None,
        None,
        None,
    )
    .await;
    repair(
        app,
        &ids,
        c1,
        v1,
        at(2026, 9, 15, 9, 0),
        "DELIVERED",
        400_000,
        400_000,
        None,
        None,
        Some(4),
    )
    .await;
    survey(app, &ids, c1, r1, 6, 90.0).await;
    survey(app, &ids, c2, r2, 7, 80.0).await;

    complaint(
        app,
        &ids,
        c1,
        at(2026, 11, 1, 10, 0),
        "WAITED_TOO_LONG",
        Some(60),
        Some(24 * 60),
    )
    .await;
    let k2 = complaint(
        app,
        &ids,
        c2,
        at(2026, 11, 10, 10, 0),
        "NOT_LISTENED_TO",
        Some(180),
        None,
    )
    .await;
    complaint(
        app,
        &ids,
        c3,
        at(2026, 11, 22, 10, 0),
        "WAITED_TOO_LONG",
        None,
        None,
    )
    .await;
    task(
        app,
        &ids,
        c2,
        "COMPLAINT_RESPONSE",
        at(2026, 11, 10, 12, 0),
        None,
        Some(k2),
        1,
    )
    .await;

    task(
        app,
        &ids,
        c1,
        "REVISIT",
        at(2026, 11, 5, 18, 0),
        Some(at(2026, 11, 5, 11, 0)),
        None,
        0,
    )
    .await;
    task(
        app,
        &ids,
        c2,
        "REVISIT",
        at(2026, 11, 6, 18, 0),
        Some(at(2026, 11, 8, 11, 0)),
        None,
        0,
    )
    .await;
    task(
        app,
        &ids,
        c3,
        "REVISIT",
        at(2026, 11, 10, 18, 0),
        None,
        None,
        0,
    )
    .await;
    task(
        app,
        &ids,
        c3,
        "CAMPAIGN_CONTACT",
        at(2026, 11, 12, 18, 0),
        Some(at(2026, 11, 12, 11, 0)),
        None,
        0,
    )
    .await;

    claim(app, &ids, r1, v1, c1, 6, false, "PAID", Some(30_000)).await;
    claim(app, &ids, r2, v2, c2, 7, true, "REJECTED", None).await;
    claim(app, &ids, r4, v2, c2, 8, false, "DRAFT", None).await;

    standing(app, ids.cq, c1, "LOYAL", "A", 100_000).await;
    standing(app, ids.cq, c2, "DEVELOPING", "B", 20_000).await;
    standing(app, ids.cq, c3, "NEW_OWNER", "C", 10_000).await;
    standing(app, ids.cq, c4, "PROSPECT", "C", 0).await;
    ids
}

const FUNNEL: &str = "query($f: ReportFilter!, $by: ReportBy!) { salesFunnel(filter: $f, by: $by) { key { key label } leads contacted testDriven ordered delivered lost contactRate conversionRate meanFirstResponseMinutes respondedInTimeRate } }";

fn row<'a>(rows: &'a Value, label: &str) -> &'a Value {
    rows.as_array()
        .and_then(|r| r.iter().find(|r| r["key"]["label"] == label))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn reports_give_the_known_answers_of_a_seeded_store() {
    let app = spawn_app().await;
    seed(&app).await;
    let m = app.login("cq.manager").await;
    let oct_nov = json!({"from": "2026-10-01", "to": "2026-11-30"});

    // The funnel by month.
    let d = m.data(FUNNEL, json!({"f": oct_nov, "by": "PERIOD"})).await;
    let f = &d["salesFunnel"];
    assert_eq!(f.as_array().map(Vec::len), Some(2), "{d}");
    let oct = row(f, "2026-10");
    assert_eq!(
        (
            oct["leads"].clone(),
            oct["contacted"].clone(),
            oct["lost"].clone(),
            oct["meanFirstResponseMinutes"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(5.0)),
        "{d}"
    );
    let nov = row(f, "2026-11");
    assert_eq!(nov["key"]["key"], "2026-11-01");
    assert_eq!(
        [
            &nov["leads"],
            &nov["contacted"],
            &nov["testDriven"],
            &nov["ordered"],
            &nov["delivered"],
            &nov["lost"]
        ],
        [
            &json!(3),
            &json!(2),
            &json!(2),
            &json!(2),
            &json!(1),
            &json!(0)
        ],
        "{d}"
    );
    assert_eq!(nov["conversionRate"], 0.3333);
    assert_eq!(nov["meanFirstResponseMinutes"], 20.0);
    assert_eq!(nov["respondedInTimeRate"], 0.5);
    // By channel, and sliced to H leads.
    let d = m.data(FUNNEL, json!({"f": oct_nov, "by": "CHANNEL"})).await;
    assert_eq!(row(&d["salesFunnel"], "WALK_IN")["leads"], 2, "{d}");
    assert_eq!(row(&d["salesFunnel"], "WEBSITE")["leads"], 2, "{d}");
    let h = json!({"from": "2026-10-01", "to": "2026-11-30", "grade": "H"});
    let d = m.data(FUNNEL, json!({"f": h, "by": "STAFF"})).await;
    let rows = d["salesFunnel"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{d}");
    assert_eq!(rows[0]["key"]["label"], "销售顾问 李娜");
    assert_eq!(rows[0]["delivered"], 1);
    // By week: 2 Nov (Monday) starts week 45.
    let d = m
        .data(FUNNEL, json!({"f": {"from": "2026-11-01", "to": "2026-11-30", "period": "WEEK"}, "by": "PERIOD"}))
        .await;
    let labels: Vec<&str> = d["salesFunnel"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["key"]["label"].as_str())
        .collect();
    assert_eq!(labels, ["2026-W45", "2026-W46"], "{d}");

    // The workshop.
    let d = m
        .data(
            "query($f: ReportFilter!) { serviceReport(filter: $f) { key { label } carEntries delivered revenueFen paidFen firstTimeFixRate onTimeRate surveys csi } }",
            json!({"f": oct_nov}),
        )
        .await;
    let s = &d["serviceReport"];
    assert_eq!(
        row(s, "2026-11"),
        &json!({"key": {"label": "2026-11"}, "carEntries": 3, "delivered": 2, "revenueFen": 150000, "paidFen": 120000, "firstTimeFixRate": 0.5, "onTimeRate": 0.5, "surveys": 2, "csi": 85.0}),
        "{d}"
    );
    assert_eq!(row(s, "2026-10")["revenueFen"], 80000, "{d}");
    let d = m
        .data(
            "query($f: ReportFilter!) { serviceReport(filter: $f, by: MODEL) { key { label } carEntries } }",
            json!({"f": oct_nov}),
        )
        .await;
    assert_eq!(row(&d["serviceReport"], "锐界")["carEntries"], 2, "{d}");
    assert_eq!(row(&d["serviceReport"], "探险者")["carEntries"], 2, "{d}");

    // Complaints.
    let d = m
        .data(
            "query($f: ReportFilter!, $by: ReportBy!) { complaintReport(filter: $f, by: $by) { key { label } complaints respondedInTime resolved resolvedInTime withinSlaRate overdue escalated } }",
            json!({"f": oct_nov, "by": "PERIOD"}),
        )
        .await;
    assert_eq!(
        row(&d["complaintReport"], "2026-11"),
        &json!({"key": {"label": "2026-11"}, "complaints": 3, "respondedInTime": 1, "resolved": 1, "resolvedInTime": 1, "withinSlaRate": 0.3333, "overdue": 1, "escalated": 1}),
        "{d}"
    );
    let d = m
        .data(
            "query($f: ReportFilter!, $by: ReportBy!) { complaintReport(filter: $f, by: $by) { key { label } complaints } }",
            json!({"f": oct_nov, "by": "CAUSE"}),
        )
        .await;
    assert_eq!(
        row(&d["complaintReport"], "WAITED_TOO_LONG")["complaints"],
        2,
        "{d}"
    );

    // Revisits and claims.
    let d = m
        .data(
            "query($f: ReportFilter!) { followUpReport(filter: $f) { key { label } revisitsDue revisitsDone revisitsOnTime revisitOnTimeRate claims claimsFiledOnTime claimsApproved claimApprovalRate claimsPaidFen } }",
            json!({"f": oct_nov}),
        )
        .await;
    assert_eq!(
        row(&d["followUpReport"], "2026-11"),
        &json!({"key": {"label": "2026-11"}, "revisitsDue": 3, "revisitsDone": 2, "revisitsOnTime": 1, "revisitOnTimeRate": 0.3333, "claims": 3, "claimsFiledOnTime": 1, "claimsApproved": 1, "claimApprovalRate": 0.5, "claimsPaidFen": 30000}),
        "{d}"
    );

    // Customer value: the top quarter (one customer) brings 100,000 of
    // 130,000.
    let d = m
        .data(
            "{ customerValueReport(topShare: 0.25) { customers revenueFen topCustomers topRevenueFen topRevenueShare byStage { key { key } customers } bySegment { key { key } customers revenueFen } } }",
            json!({}),
        )
        .await;
    let v = &d["customerValueReport"];
    assert_eq!(
        (
            v["customers"].clone(),
            v["revenueFen"].clone(),
            v["topCustomers"].clone(),
            v["topRevenueFen"].clone(),
            v["topRevenueShare"].clone()
        ),
        (
            json!(4),
            json!(130000),
            json!(1),
            json!(100000),
            json!(0.7692)
        ),
        "{d}"
    );
    let seg_c = v["bySegment"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["key"]["key"] == "C"))
        .cloned();
    assert_eq!(seg_c.map(|r| r["customers"].clone()), Some(json!(2)), "{d}");

    // Bad slices are refused, and nothing is stored by asking.
    let r = m
        .q(
            FUNNEL,
            json!({"f": {"from": "2026-11-30", "to": "2026-11-01"}, "by": "PERIOD"}),
        )
        .await;
    assert_eq!(crate::support::error_code(&r), "BAD_USER_INPUT", "{r}");
    let r = m.q(FUNNEL, json!({"f": oct_nov, "by": "CAUSE"})).await;
    assert_eq!(crate::support::error_code(&r), "BAD_USER_INPUT", "{r}");
    // A slice a report cannot honour is refused, not ignored.
    let r = m
        .q(
            "query($f: ReportFilter!) { complaintReport(filter: $f) { complaints } }",
            json!({"f": {"from": "2026-11-01", "to": "2026-11-30", "grade": "H"}}),
        )
        .await;
    assert_eq!(crate::support::error_code(&r), "BAD_USER_INPUT", "{r}");
}

#[tokio::test]
async fn reports_follow_reach_and_slices_above_the_store() {
    let app = spawn_app().await;
    seed(&app).await;
    let nov = json!({"from": "2026-11-01", "to": "2026-11-30"});
    // The OEM sees both stores, by store, and can slice by dealer grade.
    let oem = app.login("oem.staff").await;
    let d = oem.data(FUNNEL, json!({"f": nov, "by": "STORE"})).await;
    let leads: Vec<i64> = d["salesFunnel"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["leads"].as_i64())
        .collect();
    assert_eq!(leads.iter().sum::<i64>(), 4, "{d}");
    assert_eq!(leads.len(), 2, "{d}");
    let cq = app.state.db.clone();
    let cq_store = entity::store::Entity::find()
        .filter(entity::store::Column::Code.eq("CQ001"))
        .one(&cq)
        .await
        .expect("store")
        .expect("CQ001");
    let graded = json!({"from": "2026-11-01", "to": "2026-11-30", "dealerGrade": cq_store.grade, "city": cq_store.city});
    let d = oem.data(FUNNEL, json!({"f": graded, "by": "STORE"})).await;
    assert_eq!(d["salesFunnel"].as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(d["salesFunnel"][0]["leads"], 3, "{d}");
    // A store manager's reach is the store, whatever the filter names.
    let m = app.login("cq.manager").await;
    let d = m.data(FUNNEL, json!({"f": nov, "by": "STORE"})).await;
    assert_eq!(d["salesFunnel"].as_array().map(Vec::len), Some(1), "{d}");
    // Consultants and advisors read no reports.
    for who in ["cq.sales1", "cq.advisor"] {
        let s = app.login(who).await;
        let r = s.q(FUNNEL, json!({"f": nov, "by": "PERIOD"})).await;
        assert_eq!(crate::support::error_code(&r), "FORBIDDEN", "{who}: {r}");
    }
}

#[tokio::test]
async fn store_trend_alerts_on_a_month_below_its_trailing_mean_by_the_stores_setting() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let m = app.login("cq.manager").await;
    const TREND: &str = "{ storeTrend(months: 3) { alert alertPercent trailingMonths months { month carEntries revenueFen revenueMean revenueAlert carEntriesAlert } } }";
    let d = m.data(TREND, json!({})).await;
    let t = &d["storeTrend"];
    assert_eq!(t["trailingMonths"], 3);
    let months: Vec<&str> = t["months"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["month"].as_str())
        .collect();
    assert_eq!(months, ["2026-09", "2026-10", "2026-11"], "{d}");
    // October's 80,000 is 40 % below the mean of Jul–Sep (133,333.3).
    assert_eq!(
        t["months"][1],
        json!({"month": "2026-10", "carEntries": 1, "revenueFen": 80000, "revenueMean": 133333.3, "revenueAlert": true, "carEntriesAlert": false}),
        "{d}"
    );
    assert_eq!(t["months"][2]["revenueAlert"], false, "{d}");
    assert_eq!(t["alert"], true, "{d}");
    // At 50 % the same month raises nothing.
    let store = api::ids::encode(api::ids::NodeKind::Store, ids.cq).0;
    let r = m
        .data(
            "mutation($s: ID!) { updateStore(input: {storeId: $s, settings: {trendAlertPercent: 50}}) { userErrors { code } } }",
            json!({"s": store}),
        )
        .await;
    assert_eq!(r["updateStore"]["userErrors"], json!([]), "{r}");
    let d = m.data(TREND, json!({})).await;
    assert_eq!(d["storeTrend"]["alertPercent"], 50);
    assert_eq!(d["storeTrend"]["alert"], false, "{d}");
}

#[tokio::test]
async fn plans_count_the_work_that_fulfils_them_and_targets_meet_the_scorecard() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let m = app.login("cq.manager").await;
    const CREATE: &str = "mutation($i: CreateWorkPlanInput!) { createWorkPlan(input: $i) { plan { id title actualCount progress status } userErrors { field code } } }";
    let plan = |kind: &str, target: i32| json!({"i": {"kind": kind, "title": format!("{kind} 十一月"), "startsOn": "2026-11-01", "endsOn": "2026-11-30", "method": "PHONE", "targetCount": target, "minimumCount": 2, "content": "首保回访", "purpose": "提升满意度"}});
    // Two revisits done of four by the 23rd of 30 days: behind.
    let d = m.data(CREATE, plan("REVISIT", 4)).await;
    assert_eq!(d["createWorkPlan"]["plan"]["actualCount"], 2, "{d}");
    assert_eq!(d["createWorkPlan"]["plan"]["status"], "BEHIND", "{d}");
    let revisit = d["createWorkPlan"]["plan"]["id"].clone();
    // Three car entries of three: achieved.
    let d = m.data(CREATE, plan("SERVICE_PLAN", 3)).await;
    assert_eq!(d["createWorkPlan"]["plan"]["status"], "ACHIEVED", "{d}");
    let d = m.data(CREATE, plan("CUSTOMER_EVENT", 2)).await;
    assert_eq!(d["createWorkPlan"]["plan"]["actualCount"], 1, "{d}");
    // Lowering the target to two puts the revisit plan on track.
    let d = m
        .data(
            "mutation($i: UpdateWorkPlanInput!) { updateWorkPlan(input: $i) { plan { targetCount status } userErrors { code } } }",
            json!({"i": {"id": revisit, "targetCount": 2, "minimumCount": 1}}),
        )
        .await;
    assert_eq!(
        d["updateWorkPlan"]["plan"],
        json!({"targetCount": 2, "status": "ACHIEVED"}),
        "{d}"
    );
    // A phone number in a plan, a minimum above the target: refused, and
    // nothing is stored.
    let mut bad = plan("REVISIT", 4);
    bad["i"]["content"] = json!("联系 13800001234");
    let d = m.data(CREATE, bad).await;
    assert_eq!(
        d["createWorkPlan"]["userErrors"][0]["field"],
        json!(["input", "content"]),
        "{d}"
    );
    let mut bad = plan("REVISIT", 4);
    bad["i"]["minimumCount"] = json!(5);
    let d = m.data(CREATE, bad).await;
    assert_eq!(
        d["createWorkPlan"]["userErrors"][0]["code"], "OUT_OF_RANGE",
        "{d}"
    );
    let d = m
        .data(
            "{ workPlans(from: \"2026-11-01\", to: \"2026-11-30\") { title } }",
            json!({}),
        )
        .await;
    assert_eq!(d["workPlans"].as_array().map(Vec::len), Some(3), "{d}");
    // The group sees the store's plans; a consultant writes none.
    let g = app.login("group.manager").await;
    let d = g
        .data(
            "{ workPlans(from: \"2026-11-01\", to: \"2026-11-30\") { title } }",
            json!({}),
        )
        .await;
    assert_eq!(d["workPlans"].as_array().map(Vec::len), Some(3), "{d}");
    let s = app.login("cq.sales1").await;
    let r = s.q(CREATE, plan("REVISIT", 4)).await;
    assert_eq!(crate::support::error_code(&r), "FORBIDDEN", "{r}");

    // Targets against the month.
    let advisor = api::ids::encode(api::ids::NodeKind::Staff, ids.advisor).0;
    let sales1 = api::ids::encode(api::ids::NodeKind::Staff, ids.sales1).0;
    let d = m
        .data(
            "mutation($i: SetStaffTargetInput!) { setStaffTarget(input: $i) { target { serviceRevenueFen csi } userErrors { code } } }",
            json!({"i": {"staffId": advisor, "month": "2026-11", "serviceRevenueFen": 300000, "csi": 90.0}}),
        )
        .await;
    assert_eq!(
        d["setStaffTarget"]["target"],
        json!({"serviceRevenueFen": 300000, "csi": 90.0}),
        "{d}"
    );
    m.data(
        "mutation($i: SetSalesQuotaInput!) { setSalesQuota(input: $i) { userErrors { code } } }",
        json!({"i": {"staffId": sales1, "month": "2026-11", "units": 2}}),
    )
    .await;
    let d = m
        .data(
            "{ staffScorecard(month: \"2026-11\") { staff { key label } tasksDone tasksOnTime unitsDelivered serviceRevenueFen receivablesCollectedFen newCustomers surveys csi target { units serviceRevenueFen } attainment { measure rate } } }",
            json!({}),
        )
        .await;
    let card = &d["staffScorecard"];
    let adv = row_by_key(card, &advisor);
    assert_eq!(adv["serviceRevenueFen"], 150000, "{d}");
    assert_eq!(adv["receivablesCollectedFen"], 120000, "{d}");
    assert_eq!(adv["csi"], 85.0, "{d}");
    assert_eq!(
        adv["attainment"],
        json!([{"measure": "serviceRevenueFen", "rate": 0.5}, {"measure": "csi", "rate": 0.9444}]),
        "{d}"
    );
    let s1 = row_by_key(card, &sales1);
    assert_eq!(s1["unitsDelivered"], 1, "{d}");
    assert_eq!(s1["newCustomers"], 3, "{d}");
    assert_eq!(
        s1["attainment"],
        json!([{"measure": "units", "rate": 0.5}]),
        "{d}"
    );
    let care = row_by_key(
        card,
        &api::ids::encode(api::ids::NodeKind::Staff, ids.care).0,
    );
    assert_eq!(
        (care["tasksDone"].clone(), care["tasksOnTime"].clone()),
        (json!(3), json!(2)),
        "{d}"
    );
    let bad = m
        .data(
            "mutation($i: SetStaffTargetInput!) { setStaffTarget(input: $i) { userErrors { field code } } }",
            json!({"i": {"staffId": advisor, "month": "2026-11", "csi": 120.0}}),
        )
        .await;
    assert_eq!(
        bad["setStaffTarget"]["userErrors"][0]["field"],
        json!(["input", "csi"]),
        "{bad}"
    );
}

fn row_by_key<'a>(rows: &'a Value, key: &str) -> &'a Value {
    rows.as_array()
        .and_then(|r| r.iter().find(|r| r["staff"]["key"] == key))
        .unwrap_or(&Value::Null)
}
