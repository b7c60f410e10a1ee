//! Six months of demo history per store: leads with their test drives and
//! orders, repair orders, complaints and after-service surveys, so the
//! console's dashboard and reports show a store at work on first run.
//! Deterministic (the demo's seeded random numbers).
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use entity::{complaint, demo_car, lead, repair_order, sales_order, survey_response, test_drive};
use rand::{rngs::StdRng, Rng};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

/// A demo customer as the history generator needs them.
pub struct DemoCustomer {
    /// The customer.
    pub id: Uuid,
    /// Their car and its model, if they have one.
    pub car: Option<(Uuid, &'static str)>,
    /// Their consultant.
    pub responsible: Option<Uuid>,
}

/// Who works the demo store.
pub struct People<'a> {
    /// The store.
    pub store: Uuid,
    /// Its sales consultants.
    pub consultants: &'a [Uuid],
    /// Its service advisor.
    pub advisor: Uuid,
    /// Its care agent (owns complaints).
    pub care: Uuid,
}

const CHANNELS: [&str; 6] = [
    "WALK_IN",
    "PHONE",
    "WEBSITE",
    "CAR_PORTAL",
    "REFERRAL",
    "SOCIAL_MEDIA",
];
const GRADES: [&str; 4] = ["H", "A", "B", "C"];
const MODELS: [&str; 4] = ["锐界", "蒙迪欧", "探险者", "福克斯"];
const LOST: [&str; 4] = [
    "BOUGHT_COMPETITOR",
    "PRICE",
    "NO_BUDGET",
    "NO_LONGER_INTERESTED",
];
const CAUSES: [&str; 4] = [
    "NOT_ENOUGH_ATTENTION",
    "PROMISE_BROKEN",
    "NOT_FIXED_FIRST_TIME",
    "PRICE",
];

/// A random instant in the `back`-th month before `now`'s (0: this month,
/// up to an hour before now).
fn in_month(rng: &mut StdRng, now: DateTime<Utc>, back: u32) -> DateTime<Utc> {
    let first = now
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(back)))
        .unwrap_or(now.date_naive());
    let start = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default());
    let end = if back == 0 {
        now - Duration::hours(1)
    } else {
        start + Duration::days(28)
    };
    let span = (end - start).num_minutes().max(1);
    start + Duration::minutes(rng.gen_range(0..span)) + Duration::hours(1)
}

/// `count` instants of a month, in order.
fn sorted_times(rng: &mut StdRng, now: DateTime<Utc>, back: u32, count: u32) -> Vec<DateTime<Utc>> {
    let mut at: Vec<DateTime<Utc>> = (0..count).map(|_| in_month(rng, now, back)).collect();
    at.sort();
    at
}

/// Writes the store's history.
pub async fn seed_history<C: ConnectionTrait>(
    db: &C,
    rng: &mut StdRng,
    p: &People<'_>,
    customers: &[DemoCustomer],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if customers.is_empty() || p.consultants.is_empty() {
        return Ok(());
    }
    let car = demo_car::Entity::find()
        .filter(demo_car::Column::StoreId.eq(p.store))
        .one(db)
        .await?
        .map(|c| c.id);
    let with_cars: Vec<&DemoCustomer> = customers.iter().filter(|c| c.car.is_some()).collect();
    let (mut leads, mut drives, mut orders, mut repairs, mut complaints, mut surveys) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // Oldest month first, each month's events in time order, so ids (time
    // ordered) follow the events as they would have been recorded.
    for back in (0..6u32).rev() {
        // This month so far: a share of a month's work by the days gone.
        let share = if back == 0 {
            (f64::from(now.day()) / 30.0).min(1.0)
        } else {
            1.0
        };
        let n = |rng: &mut StdRng, lo: u32, hi: u32| {
            ((f64::from(rng.gen_range(lo..hi)) * share).ceil()) as u32
        };
        let count = n(rng, 14, 24);
        for at in sorted_times(rng, now, back, count) {
            let c = &customers[rng.gen_range(0..customers.len())];
            let consultant = c
                .responsible
                .unwrap_or(p.consultants[rng.gen_range(0..p.consultants.len())]);
            let reached = rng.gen_range(0..100);
            let status = match reached {
                0..=11 => "NEW",
                12..=49 => "CONTACTED",
                50..=64 => "TEST_DRIVEN",
                65..=74 => "ORDERED",
                75..=86 => "WON",
                _ => "LOST",
            };
            let responded = (status != "NEW").then(|| at + Duration::minutes(rng.gen_range(3..40)));
            let id = Uuid::now_v7();
            let model = MODELS[rng.gen_range(0..MODELS.len())];
            leads.push(lead::ActiveModel {
                id: Set(id),
                store_id: Set(p.store),
                customer_id: Set(c.id),
                consultant_id: Set(Some(consultant)),
                channel: Set(CHANNELS[rng.gen_range(0..CHANNELS.len())].into()),
                source_id: Set(None),
                external_id: Set(None),
                source_detail: Set(None),
                campaign: Set(None),
                interest_model: Set(Some(model.into())),
                budget_yuan: Set(Some(rng.gen_range(12..40) * 10_000)),
                purchase_timing: Set(None),
                trade_in: Set(false),
                trade_in_model: Set(None),
                grade: Set(GRADES[rng.gen_range(0..GRADES.len())].into()),
                status: Set(status.into()),
                first_response_due_at: Set(at + Duration::minutes(15)),
                first_responded_at: Set(responded),
                last_contact_at: Set(responded),
                next_follow_up_at: Set(None),
                follow_ups: Set(i32::from(responded.is_some())),
                lost_reason: Set(
                    (status == "LOST").then(|| LOST[rng.gen_range(0..LOST.len())].into())
                ),
                lost_to_brand: Set(None),
                lost_to_model: Set(None),
                lost_note: Set(None),
                closed_at: Set(matches!(status, "WON" | "LOST").then_some(at + Duration::days(9))),
                created_at: Set(at),
                updated_at: Set(at),
            });
            if let (Some(car), "TEST_DRIVEN" | "ORDERED" | "WON") = (car, status) {
                let t = (at + Duration::days(2)).min(now - Duration::minutes(30));
                drives.push(test_drive::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    store_id: Set(p.store),
                    lead_id: Set(id),
                    customer_id: Set(c.id),
                    demo_car_id: Set(car),
                    consultant_id: Set(consultant),
                    starts_at: Set(t),
                    ends_at: Set(t + Duration::minutes(30)),
                    licence_no: Set("500101199001011234".into()),
                    agreement_signed_at: Set(Some(t)),
                    route: Set(None),
                    start_km: Set(None),
                    end_km: Set(None),
                    feedback: Set(None),
                    rating: Set(Some(rng.gen_range(3..6))),
                    status: Set("DONE".into()),
                    created_at: Set(t),
                    updated_at: Set(t),
                });
            }
            if matches!(status, "ORDERED" | "WON") {
                let t = (at + Duration::days(4)).min(now - Duration::minutes(20));
                let delivered = (status == "WON")
                    .then(|| (at + Duration::days(9)).min(now - Duration::minutes(10)));
                orders.push(sales_order::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    store_id: Set(p.store),
                    lead_id: Set(id),
                    customer_id: Set(c.id),
                    consultant_id: Set(consultant),
                    model: Set(model.into()),
                    trim: Set(None),
                    colour: Set(None),
                    price_yuan: Set(rng.gen_range(15..35) * 10_000),
                    discount_yuan: Set(0),
                    deposit_yuan: Set(5_000),
                    payment: Set("CASH".into()),
                    loan_provider: Set(None),
                    loan_term_months: Set(None),
                    down_payment_yuan: Set(None),
                    insurance: Set(None),
                    trade_in: Set(None),
                    accessories: Set(None),
                    commission_yuan: Set(300),
                    status: Set(if delivered.is_some() {
                        "DELIVERED"
                    } else {
                        "CONFIRMED"
                    }
                    .into()),
                    pdi: Set(None),
                    pdi_completed_at: Set(delivered),
                    vehicle_id: Set(None),
                    delivered_at: Set(delivered),
                    cancel_reason: Set(None),
                    created_at: Set(t),
                    updated_at: Set(t),
                });
            }
        }
        let count = n(rng, 18, 30);
        for opened in sorted_times(rng, now, back, count) {
            let Some(c) = with_cars.get(rng.gen_range(0..with_cars.len().max(1))) else {
                break;
            };
            let Some((vehicle, _)) = c.car else { continue };
            let open = now - opened < Duration::hours(30);
            let total: i64 = rng.gen_range(300..3_000) * 100;
            let done = opened + Duration::hours(rng.gen_range(2..9));
            let id = Uuid::now_v7();
            repairs.push(repair_order::ActiveModel {
                id: Set(id),
                store_id: Set(p.store),
                customer_id: Set(c.id),
                vehicle_id: Set(vehicle),
                advisor_id: Set(p.advisor),
                kind: Set("MAINTENANCE".into()),
                mileage_in: Set(rng.gen_range(3_000..80_000)),
                complaint: Set("定期保养".into()),
                diagnosis: Set(None),
                inspection: Set(None),
                measurements: Set(None),
                jobs: Set(json!([])),
                parts: Set(json!([])),
                labour_fen: Set(total / 3),
                parts_fen: Set(total - total / 3),
                total_fen: Set(total),
                warranty_fen: Set(0),
                paid_fen: Set(if open {
                    0
                } else if rng.gen_bool(0.9) {
                    total
                } else {
                    total / 2
                }),
                payment_method: Set(None),
                promised_at: Set(Some(opened + Duration::hours(6))),
                status: Set(if open { "IN_PROGRESS" } else { "DELIVERED" }.into()),
                repeat_of_id: Set(None),
                fixed_first_time: Set((!open).then(|| rng.gen_bool(0.92))),
                opened_at: Set(opened),
                done_at: Set((!open).then_some(done)),
                delivered_at: Set((!open).then_some(done + Duration::hours(1))),
                created_at: Set(opened),
                updated_at: Set(opened),
            });
            if !open && rng.gen_bool(0.4) {
                let score = rng.gen_range(6..11);
                surveys.push(survey_response::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    store_id: Set(p.store),
                    customer_id: Set(c.id),
                    template_id: Set(None),
                    kind: Set("AFTER_SERVICE".into()),
                    event_type: Set(Some("REPAIR_ORDER".into())),
                    event_id: Set(Some(id)),
                    staff_id: Set(Some(p.advisor)),
                    task_id: Set(None),
                    method: Set("PHONE".into()),
                    answers: Set(json!([{"key": "overall", "score": score}])),
                    overall: Set(score),
                    csi: Set(f64::from(score) * 10.0),
                    recorded_by: Set(p.care),
                    answered_at: Set((done + Duration::days(2)).min(now - Duration::minutes(5))),
                });
            }
        }
        let count = n(rng, 1, 4);
        for received in sorted_times(rng, now, back, count) {
            let c = &customers[rng.gen_range(0..customers.len())];
            let responded = received + Duration::minutes(rng.gen_range(20..200));
            let resolved = received + Duration::hours(rng.gen_range(6..70));
            let settled = resolved < now;
            complaints.push(complaint::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(p.store),
                customer_id: Set(c.id),
                vehicle_id: Set(c.car.map(|(v, _)| v)),
                repair_order_id: Set(None),
                staff_id: Set(None),
                department: Set("SERVICE".into()),
                channel: Set("PHONE".into()),
                received_at: Set(received),
                content: Set("保养等待时间过长".into()),
                category: Set("SERVICE".into()),
                cause: Set(CAUSES[rng.gen_range(0..CAUSES.len())].into()),
                severity: Set("NORMAL".into()),
                owner_id: Set(p.care),
                status: Set(if settled { "RESOLVED" } else { "IN_PROGRESS" }.into()),
                response_due_at: Set(received + Duration::hours(2)),
                resolution_due_at: Set(received + Duration::hours(48)),
                responded_at: Set((responded < now).then_some(responded)),
                resolved_at: Set(settled.then_some(resolved)),
                closed_at: Set(None),
                resolution: Set(settled.then(|| "已致电客户致歉并改进排班".into())),
                improvement_plan: Set(None),
                outcome_satisfaction: Set(None),
                survey_response_id: Set(None),
                created_by: Set(p.care),
                created_at: Set(received),
                updated_at: Set(received),
            });
        }
    }
    for chunk in leads.chunks(200) {
        lead::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    for chunk in drives.chunks(200) {
        test_drive::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in orders.chunks(200) {
        sales_order::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in repairs.chunks(200) {
        repair_order::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in surveys.chunks(200) {
        survey_response::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    for chunk in complaints.chunks(200) {
        complaint::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}
