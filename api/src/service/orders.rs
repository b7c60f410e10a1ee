//! Repair orders from check-in to delivery: the mileage in, the customer's
//! complaint and the advisor's diagnosis, job and part lines with their
//! totals, the workshop's states, and the close that writes the service
//! history and hands the engine the revisit and the next maintenance.
use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{repair_order, service_appointment, vehicle};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::campaigns;
use super::rules::{
    self, AppointmentStatus, Job, JobInput, Part, PartInput, RepairKind, RepairStatus,
    ServicePayment,
};
use crate::{
    auth::{Actor, Role},
    customers::{
        directory, forecast,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, LogKind, MileageSource},
        vehicles,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    idempotency,
    ids::{self, NodeKind},
    org::{rules as org_rules, store as org},
    paging::{self, Cursor, Keys, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        rules as task_rules,
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// Who opens and works repair orders.
pub const WORKSHOP: [Role; 2] = [Role::ServiceAdvisor, Role::StoreManager];

/// The repair orders the actor may see: those of the customers the actor
/// may see.
pub fn visible(actor: &Actor) -> sea_orm::Condition {
    directory::records(
        actor,
        repair_order::Column::StoreId,
        repair_order::Column::CustomerId,
    )
}

/// A repair order by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<repair_order::Model>> {
    Ok(repair_order::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// Repair orders by id (already visible ones only), for loaders.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, repair_order::Model>> {
    let rows = repair_order::Entity::find()
        .filter(repair_order::Column::Id.is_in(ids.iter().copied()))
        .filter(visible(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// The order's state.
pub fn status(o: &repair_order::Model) -> RepairStatus {
    RepairStatus::parse(&o.status).unwrap_or(RepairStatus::Open)
}

/// The order's kind.
pub fn kind(o: &repair_order::Model) -> RepairKind {
    RepairKind::parse(&o.kind).unwrap_or(RepairKind::Repair)
}

/// The order's labour lines.
pub fn jobs(o: &repair_order::Model) -> Vec<Job> {
    serde_json::from_value(o.jobs.clone()).unwrap_or_default()
}

/// The order's part lines.
pub fn parts(o: &repair_order::Model) -> Vec<Part> {
    serde_json::from_value(o.parts.clone()).unwrap_or_default()
}

/// A measurement the technician took.
#[derive(Serialize, Deserialize, SimpleObject, InputObject, Clone, Debug, PartialEq)]
#[graphql(input_name = "MeasurementInput")]
pub struct Measurement {
    /// What was measured, e.g. 前刹车片厚度.
    pub name: String,
    /// The value as read, e.g. 3.5.
    pub value: String,
    /// Unit, e.g. mm.
    pub unit: Option<String>,
}

/// The order's measurements.
pub fn measurements(o: &repair_order::Model) -> Vec<Measurement> {
    o.measurements
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// A vehicle checked in.
#[derive(InputObject, Clone, Debug)]
pub struct OpenRepairOrderInput {
    /// The vehicle (or give `appointmentId`).
    pub vehicle_id: Option<ID>,
    /// The appointment being checked in: it names the vehicle.
    pub appointment_id: Option<ID>,
    /// What the visit is for.
    pub kind: RepairKind,
    /// Odometer at check-in, km.
    pub mileage_in: i32,
    /// The odometer reads lower than a reading on file and that is right
    /// (a replaced instrument cluster, a mistyped earlier reading).
    #[graphql(default)]
    pub mileage_correction: bool,
    /// The customer's complaint, in their own words.
    pub complaint: String,
    /// When the car is promised back.
    pub promised_at: Option<DateTime<Utc>>,
    /// An earlier visit this one comes back for (the same complaint).
    pub repeat_of_id: Option<ID>,
    /// The recall or campaign whose work this visit does (an appointment
    /// booked for one brings it along).
    pub campaign_id: Option<ID>,
    /// A client-chosen key: retrying with the same key never creates twice.
    pub idempotency_key: Option<String>,
}

const OPEN_ORDER: &str = "openRepairOrder";

/// The earlier visit a comeback repeats: the same vehicle, delivered, at
/// most `repeat_repair_days` before.
async fn repeat_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    v: &vehicle::Model,
    days: i32,
    now: DateTime<Utc>,
) -> ApiResult<repair_order::Model> {
    let field = "repeatOfId";
    let id = ids::decode_field(id, NodeKind::RepairOrder, field)?;
    let first = find(db, actor, id)
        .await?
        .filter(|o| o.vehicle_id == v.id)
        .ok_or_else(|| {
            ApiError::field(
                field,
                UserErrorCode::NotFound,
                "no such visit of this vehicle",
            )
        })?;
    if status(&first) != RepairStatus::Delivered {
        return Err(ApiError::field(
            field,
            UserErrorCode::Invalid,
            "only a finished visit can be come back to",
        ));
    }
    if !rules::is_repeat(first.delivered_at, now, days) {
        return Err(ApiError::field(
            field,
            UserErrorCode::OutOfRange,
            format!("the visit is more than {days} days ago: this is a new repair"),
        ));
    }
    Ok(first)
}

/// The appointment a check-in answers, booked for this store.
async fn appointment<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<service_appointment::Model> {
    let field = "appointmentId";
    let id = ids::decode_field(id, NodeKind::ServiceAppointment, field)?;
    let a = super::appointments::find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such appointment"))?;
    if a.status != AppointmentStatus::Booked.as_str() {
        return Err(ApiError::field(
            field,
            UserErrorCode::Conflict,
            format!("the appointment is {}", a.status.to_lowercase()),
        ));
    }
    Ok(a)
}

/// Checks a vehicle in: a new open repair order, the mileage reading, the
/// appointment (if any) checked in, a comeback marking its first visit
/// "not fixed first time", and the customer's log.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: OpenRepairOrderInput,
) -> ApiResult<repair_order::Model> {
    actor.require(&WORKSHOP)?;
    let key = idempotency::check_key(input.idempotency_key.as_deref())?;
    if let Some(k) = &key {
        if let Some(id) = idempotency::earlier(db, actor, OPEN_ORDER, k).await? {
            return find(db, actor, id).await?.ok_or(ApiError::NotFound);
        }
    }
    let booked = match &input.appointment_id {
        Some(id) => Some(appointment(db, actor, id).await?),
        None => None,
    };
    let v = match (&input.vehicle_id, &booked) {
        (Some(id), _) => vehicles::find_writable(db, actor, id, "vehicleId").await?,
        (None, Some(a)) => vehicles::find(db, actor, a.vehicle_id)
            .await?
            .ok_or_else(|| {
                ApiError::field("appointmentId", UserErrorCode::NotFound, "no such vehicle")
            })?,
        (None, None) => {
            return Err(ApiError::field(
                "vehicleId",
                UserErrorCode::Required,
                "name the vehicle or the appointment",
            ))
        }
    };
    if booked.as_ref().is_some_and(|a| a.vehicle_id != v.id) {
        return Err(ApiError::field(
            "appointmentId",
            UserErrorCode::Invalid,
            "the appointment is for another vehicle",
        ));
    }
    let complaint = text_rules::text(&input.complaint, "complaint", 2000)?;
    vehicles::check_km(input.mileage_in, "mileageIn")?;
    let (settings, tz) = org::calendar(db, v.store_id).await?;
    let today = org_rules::local_day(tz, now);
    let readings = vehicles::mileage_of(db, &[v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    let backwards = vehicles::goes_backwards(&readings, today, input.mileage_in);
    if backwards && !input.mileage_correction {
        let last = readings.iter().map(|r| r.km).max().unwrap_or(0);
        return Err(ApiError::field(
            "mileageIn",
            UserErrorCode::OutOfRange,
            format!(
                "lower than the {last} km on file: odometers do not run back (set mileageCorrection if this reading is right)"
            ),
        ));
    }
    let repeat = match &input.repeat_of_id {
        Some(id) => Some(repeat_of(db, actor, id, &v, settings.repeat_repair_days, now).await?),
        None => None,
    };
    let campaign = match (
        &input.campaign_id,
        booked.as_ref().and_then(|a| a.campaign_id),
    ) {
        (Some(c), _) => Some(campaigns::campaign_id(c)?),
        (None, c) => c,
    };
    let campaign = match campaign {
        Some(c) => Some(campaigns::for_vehicle(db, c, v.id).await?),
        None => None,
    };
    let advisor = match &booked {
        Some(a) => a.advisor_id,
        None => actor.staff_id,
    };
    let row = repair_order::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(v.store_id),
        customer_id: Set(v.owner_id),
        vehicle_id: Set(v.id),
        advisor_id: Set(advisor),
        kind: Set(input.kind.as_str().into()),
        mileage_in: Set(input.mileage_in),
        complaint: Set(complaint),
        diagnosis: Set(None),
        inspection: Set(None),
        measurements: Set(None),
        jobs: Set(serde_json::json!([])),
        parts: Set(serde_json::json!([])),
        labour_fen: Set(0),
        parts_fen: Set(0),
        total_fen: Set(0),
        warranty_fen: Set(0),
        paid_fen: Set(0),
        payment_method: Set(None),
        promised_at: Set(input.promised_at),
        status: Set(RepairStatus::Open.as_str().into()),
        repeat_of_id: Set(repeat.as_ref().map(|r| r.id)),
        fixed_first_time: Set(None),
        opened_at: Set(now),
        done_at: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let o = repair_order::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    let mut moved = Vec::new();
    if !backwards {
        let r = vehicles::insert_reading(
            &txn,
            actor,
            &v,
            input.mileage_in,
            today,
            MileageSource::Service,
            now,
        )
        .await?;
        let mut all = readings;
        all.push(r);
        moved = forecast::refresh(&txn, (&settings, tz), &v, &all, now).await?;
    }
    if let Some(a) = &booked {
        super::appointments::checked_in(&txn, a, o.id, now).await?;
    }
    if let Some(cv) = &campaign {
        let closed = campaigns::booked(&txn, cv, Some(o.id), actor.staff_id, now).await?;
        moved.extend(closed);
    }
    if let Some(first) = &repeat {
        repair_order::Entity::update_many()
            .col_expr(repair_order::Column::FixedFirstTime, Expr::value(false))
            .col_expr(repair_order::Column::UpdatedAt, Expr::value(now))
            .filter(repair_order::Column::Id.eq(first.id))
            .exec(&txn)
            .await?;
    }
    log::append(
        &txn,
        LogEvent {
            store_id: o.store_id,
            customer_id: o.customer_id,
            kind: LogKind::Repair,
            channel: Channel::InPerson,
            staff_id: Some(actor.staff_id),
            summary: format!(
                "Checked in for {} at {} km",
                input.kind.label_en(),
                o.mileage_in
            ),
            outcome: repeat
                .as_ref()
                .map(|_| "A comeback for an earlier visit".into()),
            subject: Some(("RepairOrder", o.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    if let Some(k) = &key {
        idempotency::remember(&txn, actor, OPEN_ORDER, k, o.id, now).await?;
    }
    txn.commit().await?;
    events::publish_all(&moved, TaskChange::Changed);
    Ok(o)
}

/// A repair order the actor may work on: visible, in their store, and the
/// actor in the workshop.
async fn writable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<repair_order::Model> {
    actor.require(&WORKSHOP)?;
    actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::RepairOrder, "orderId")?;
    find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field("orderId", UserErrorCode::NotFound, "no such order"))
}

/// Writes `m` if the order is still in the state it was read in: two hands
/// never both move it.
async fn save<C: ConnectionTrait>(
    db: &C,
    o: &repair_order::Model,
    mut m: repair_order::ActiveModel,
    now: DateTime<Utc>,
) -> ApiResult<repair_order::Model> {
    m.updated_at = Set(now);
    let rows = repair_order::Entity::update_many()
        .set(m)
        .filter(repair_order::Column::Id.eq(o.id))
        .filter(repair_order::Column::Status.eq(o.status.clone()))
        .filter(repair_order::Column::UpdatedAt.eq(o.updated_at))
        .exec_with_returning(db)
        .await?;
    rows.into_iter().next().ok_or_else(|| {
        ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "the order changed meanwhile; reload it",
        )
    })
}

/// The workshop's findings and lines; fields left out keep their value,
/// lists given replace the order's.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateRepairOrderInput {
    /// The order.
    pub order_id: ID,
    /// The advisor's diagnosis.
    pub diagnosis: Option<String>,
    /// The technician's inspection.
    pub inspection: Option<String>,
    /// The technician's measurements.
    pub measurements: Option<Vec<Measurement>>,
    /// Labour lines.
    pub jobs: Option<Vec<JobInput>>,
    /// Part lines.
    pub parts: Option<Vec<PartInput>>,
    /// When the car is promised back.
    pub promised_at: Option<DateTime<Utc>>,
}

fn line_error(list: &str, i: usize, field: &str, msg: &str) -> ApiError {
    ApiError::field(
        &format!("{list}.{i}.{field}"),
        UserErrorCode::OutOfRange,
        msg,
    )
}

/// Checked labour lines.
fn job_lines(input: &[JobInput]) -> ApiResult<Vec<Job>> {
    let mut out = Vec::with_capacity(input.len());
    for (i, j) in input.iter().enumerate() {
        if let Some((field, msg)) = rules::job_problem(j) {
            return Err(line_error("jobs", i, field, msg));
        }
        out.push(Job {
            description: text_rules::text(&j.description, &format!("jobs.{i}.description"), 200)?,
            hundredths: rules::hundredths(j.hours),
            rate_fen: j.rate_fen,
            under_warranty: j.under_warranty,
        });
    }
    Ok(out)
}

/// Checked part lines.
fn part_lines(input: &[PartInput]) -> ApiResult<Vec<Part>> {
    let mut out = Vec::with_capacity(input.len());
    for (i, p) in input.iter().enumerate() {
        if let Some((field, msg)) = rules::part_problem(p) {
            return Err(line_error("parts", i, field, msg));
        }
        out.push(Part {
            part_no: text_rules::text(&p.part_no, &format!("parts.{i}.partNo"), 40)?,
            name: text_rules::text(&p.name, &format!("parts.{i}.name"), 100)?,
            quantity: p.quantity,
            unit_price_fen: p.unit_price_fen,
            under_warranty: p.under_warranty,
        });
    }
    Ok(out)
}

/// Most lines on one order.
const MAX_LINES: usize = 200;

/// Records findings and lines on an open order; totals follow the lines.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: UpdateRepairOrderInput,
) -> ApiResult<repair_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if input.jobs.as_ref().is_some_and(|j| j.len() > MAX_LINES)
        || input.parts.as_ref().is_some_and(|p| p.len() > MAX_LINES)
    {
        return Err(ApiError::field(
            "jobs",
            UserErrorCode::OutOfRange,
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let jobs = match &input.jobs {
        Some(j) => job_lines(j)?,
        None => jobs(&o),
    };
    let parts = match &input.parts {
        Some(p) => part_lines(p)?,
        None => parts(&o),
    };
    let measured = match &input.measurements {
        Some(ms) => {
            let mut out = Vec::with_capacity(ms.len());
            for (i, m) in ms.iter().enumerate().take(MAX_LINES) {
                out.push(Measurement {
                    name: text_rules::text(&m.name, &format!("measurements.{i}.name"), 100)?,
                    value: text_rules::text(&m.value, &format!("measurements.{i}.value"), 50)?,
                    unit: text_rules::opt_text(
                        m.unit.as_deref(),
                        &format!("measurements.{i}.unit"),
                        20,
                    )?,
                });
            }
            Some(out)
        }
        None => None,
    };
    let diagnosis = text_rules::opt_text(input.diagnosis.as_deref(), "diagnosis", 4000)?;
    let inspection = text_rules::opt_text(input.inspection.as_deref(), "inspection", 4000)?;
    if !status(&o).is_open() {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            format!("the order is {}", o.status.to_lowercase()),
        ));
    }
    let t = rules::totals(&jobs, &parts);
    let mut m: repair_order::ActiveModel = o.clone().into();
    if diagnosis.is_some() {
        m.diagnosis = Set(diagnosis);
    }
    if inspection.is_some() {
        m.inspection = Set(inspection);
    }
    if let Some(ms) = measured {
        m.measurements = Set(Some(serde_json::to_value(ms).unwrap_or_default()));
    }
    if input.promised_at.is_some() {
        m.promised_at = Set(input.promised_at);
    }
    m.jobs = Set(serde_json::to_value(&jobs).unwrap_or_default());
    m.parts = Set(serde_json::to_value(&parts).unwrap_or_default());
    m.labour_fen = Set(t.labour);
    m.parts_fen = Set(t.parts);
    m.total_fen = Set(t.total);
    m.warranty_fen = Set(t.warranty);
    save(db, &o, m, now).await
}

/// Moving an order through the workshop.
#[derive(InputObject, Clone, Debug)]
pub struct SetRepairOrderStatusInput {
    /// The order.
    pub order_id: ID,
    /// IN_PROGRESS, WAITING_FOR_PARTS or DONE.
    pub status: RepairStatus,
}

/// Moves an order one step through the workshop.
pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SetRepairOrderStatusInput,
) -> ApiResult<repair_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if !status(&o).may_move_to(input.status) {
        return Err(ApiError::field(
            "status",
            UserErrorCode::Invalid,
            format!(
                "an order cannot go from {} to {}",
                o.status,
                input.status.as_str()
            ),
        ));
    }
    if input.status == RepairStatus::Done && jobs(&o).is_empty() && parts(&o).is_empty() {
        return Err(ApiError::field(
            "status",
            UserErrorCode::Invalid,
            "record the work done before finishing the order",
        ));
    }
    let mut m: repair_order::ActiveModel = o.clone().into();
    m.status = Set(input.status.as_str().into());
    m.done_at = Set((input.status == RepairStatus::Done).then_some(now));
    save(db, &o, m, now).await
}

/// Handing the car back.
#[derive(InputObject, Clone, Debug)]
pub struct DeliverRepairOrderInput {
    /// The order, DONE.
    pub order_id: ID,
    /// What the customer paid now, fen (the rest is a receivable).
    #[graphql(default)]
    pub paid_fen: i64,
    /// How they paid (required when they paid anything).
    pub payment_method: Option<ServicePayment>,
}

/// Closes a finished order: the car is handed back and paid for (or left
/// on account). The service history gains the visit, the customer's log
/// the close, and the engine the revisit within the store's 0–3 days, the
/// next maintenance reminder and, for a warranty repair, the claim's
/// filing deadline.
pub async fn deliver<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: DeliverRepairOrderInput,
) -> ApiResult<repair_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if status(&o) != RepairStatus::Done {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "only a DONE order is handed back",
        ));
    }
    let owed = o.total_fen - o.warranty_fen;
    check_payment(input.paid_fen, owed, input.payment_method)?;
    let v = vehicles::find(db, actor, o.vehicle_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (settings, tz) = org::calendar(db, o.store_id).await?;
    let today = org_rules::local_day(tz, now);
    let readings = vehicles::mileage_of(db, &[v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    let mut m: repair_order::ActiveModel = o.clone().into();
    m.status = Set(RepairStatus::Delivered.as_str().into());
    m.delivered_at = Set(Some(now));
    m.paid_fen = Set(input.paid_fen);
    m.payment_method = Set(input.payment_method.map(|p| p.as_str().to_string()));
    if o.fixed_first_time.is_none() {
        m.fixed_first_time = Set(Some(true));
    }
    let txn = db.begin().await?;
    let o = save(&txn, &o, m, now).await?;
    let about = RuleTarget {
        store_id: o.store_id,
        customer_id: o.customer_id,
        vehicle_id: Some(o.vehicle_id),
        subject: Subject {
            kind: "RepairOrder",
            id: o.id,
        },
        created_by: Some(actor.staff_id),
        assignee_id: None,
        step: None,
    };
    let mut specs = vec![task_rules::after_service(&settings, tz, today, &v.model)];
    if kind(&o) == RepairKind::Warranty || o.warranty_fen > 0 {
        specs.push(task_rules::claim_deadline(&settings, tz, today, &v.model));
    }
    let mut made = tasks::create_with_settings(&txn, &settings, &about, specs, now).await?;
    let (done, next) = forecast::serviced(
        &txn,
        (&settings, tz),
        &v,
        (today, o.mileage_in),
        &readings,
        o.id,
        actor.staff_id,
        now,
    )
    .await?;
    made.extend(next);
    campaigns::done_by(&txn, o.id, now).await?;
    log::append(
        &txn,
        LogEvent {
            store_id: o.store_id,
            customer_id: o.customer_id,
            kind: LogKind::Repair,
            channel: Channel::InPerson,
            staff_id: Some(actor.staff_id),
            summary: format!(
                "{} done at {} km: ¥{} ({} under warranty)",
                kind(&o).label_en(),
                o.mileage_in,
                yuan_text(o.total_fen),
                yuan_text(o.warranty_fen)
            ),
            outcome: Some(format!(
                "Paid ¥{}, owing ¥{}",
                yuan_text(o.paid_fen),
                yuan_text(owed - o.paid_fen)
            )),
            subject: Some(("RepairOrder", o.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    events::publish_all(&done, TaskChange::Completed);
    Ok(o)
}

/// Fen as yuan text: 12345 → "123.45".
pub fn yuan_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

fn check_payment(paid: i64, owed: i64, method: Option<ServicePayment>) -> ApiResult<()> {
    if paid < 0 || paid > owed {
        return Err(ApiError::field(
            "paidFen",
            UserErrorCode::OutOfRange,
            format!("the payment must be between 0 and the {owed} fen owed"),
        ));
    }
    if paid > 0 && method.is_none() {
        return Err(ApiError::field(
            "paymentMethod",
            UserErrorCode::Required,
            "say how the customer paid",
        ));
    }
    Ok(())
}

/// A later payment of what a delivered order still owes.
#[derive(InputObject, Clone, Debug)]
pub struct RecordRepairPaymentInput {
    /// The order.
    pub order_id: ID,
    /// Amount, fen.
    pub amount_fen: i64,
    /// How.
    pub payment_method: ServicePayment,
}

/// Collects (part of) an order's receivable.
pub async fn record_payment<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordRepairPaymentInput,
) -> ApiResult<repair_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if status(&o) != RepairStatus::Delivered {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "payments after delivery only; the rest is paid at delivery",
        ));
    }
    let owing = o.total_fen - o.warranty_fen - o.paid_fen;
    if input.amount_fen <= 0 {
        return Err(ApiError::field(
            "amountFen",
            UserErrorCode::OutOfRange,
            "the amount must be more than 0",
        ));
    }
    check_payment(input.amount_fen, owing, Some(input.payment_method))?;
    let mut m: repair_order::ActiveModel = o.clone().into();
    m.paid_fen = Set(o.paid_fen + input.amount_fen);
    m.payment_method = Set(Some(input.payment_method.as_str().into()));
    save(db, &o, m, now).await
}

/// Cancelling an order opened by mistake.
#[derive(InputObject, Clone, Debug)]
pub struct CancelRepairOrderInput {
    /// The order, OPEN.
    pub order_id: ID,
}

/// Cancels an order on which no work started.
pub async fn cancel<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CancelRepairOrderInput,
) -> ApiResult<repair_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if status(&o) != RepairStatus::Open {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "only an order on which no work started is cancelled",
        ));
    }
    let mut m: repair_order::ActiveModel = o.clone().into();
    m.status = Set(RepairStatus::Cancelled.as_str().into());
    save(db, &o, m, now).await
}

/// Filters of the repair order list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct RepairOrderFilter {
    /// Only these states.
    pub status: Option<Vec<RepairStatus>>,
    /// Only this advisor's.
    pub advisor_id: Option<ID>,
}

/// The orders the actor may see, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &RepairOrderFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<repair_order::Model>> {
    let mut q = repair_order::Entity::find().filter(visible(actor));
    if let Some(s) = &filter.status {
        q = q.filter(repair_order::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(a) = &filter.advisor_id {
        let a = ids::decode_field(a, NodeKind::Staff, "advisorId")?;
        q = q.filter(repair_order::Column::AdvisorId.eq(a));
    }
    page(db, q, args, want_total).await
}

async fn page<C: ConnectionTrait>(
    db: &C,
    q: sea_orm::Select<repair_order::Entity>,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<repair_order::Model>> {
    paging::fetch(
        db,
        q,
        Keys {
            at: Some(repair_order::Column::OpenedAt),
            id: repair_order::Column::Id,
        },
        args,
        |m| Cursor {
            at: Some(m.opened_at),
            id: m.id,
        },
        want_total,
    )
    .await
}

/// A vehicle's (or a customer's) service history: its visits, newest
/// first, cancelled ones left out. The vehicle or customer is visible
/// already; its orders are filtered again all the same.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    of: Subject,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<repair_order::Model>> {
    let col = if of.kind == "Customer" {
        repair_order::Column::CustomerId
    } else {
        repair_order::Column::VehicleId
    };
    let q = repair_order::Entity::find()
        .filter(col.eq(of.id))
        .filter(repair_order::Column::Status.ne(RepairStatus::Cancelled.as_str()))
        .filter(visible(actor));
    page(db, q, args, want_total).await
}

/// A month's workshop figures for a store.
#[derive(SimpleObject, Clone, Debug, Default)]
pub struct ServiceMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Cars checked in.
    pub car_entries: i64,
    /// Visits handed back.
    pub delivered: i64,
    /// Revenue of the visits handed back, fen (warranty included).
    pub revenue_fen: i64,
    /// Of it, what the OEM pays under warranty, fen.
    pub warranty_fen: i64,
    /// What customers still owe on them, fen.
    pub receivable_fen: i64,
    /// Visits handed back that were not come back to for the same
    /// complaint within the store's days, as a share of those handed back
    /// (None: none handed back).
    pub first_time_fix_rate: Option<f64>,
    /// Visits handed back by their promised time, as a share of those
    /// with a promise.
    pub on_time_rate: Option<f64>,
}

/// The store's workshop figures for a month (store managers and advisors).
pub async fn month<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    month: &str,
) -> ApiResult<ServiceMonth> {
    actor.require(&WORKSHOP)?;
    let store = actor.own_store()?;
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| ApiError::BadInput("`month` is YYYY-MM".into()))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let tz = org::zone_of(db, store).await?;
    let (from, to) = (
        org_rules::day_start(tz, first),
        org_rules::day_start(tz, next),
    );
    let entries = repair_order::Entity::find()
        .filter(repair_order::Column::StoreId.eq(store))
        .filter(repair_order::Column::OpenedAt.gte(from))
        .filter(repair_order::Column::OpenedAt.lt(to))
        .filter(repair_order::Column::Status.ne(RepairStatus::Cancelled.as_str()));
    let car_entries = sea_orm::PaginatorTrait::count(entries, db).await? as i64;
    let closed = repair_order::Entity::find()
        .filter(repair_order::Column::StoreId.eq(store))
        .filter(repair_order::Column::Status.eq(RepairStatus::Delivered.as_str()))
        .filter(repair_order::Column::DeliveredAt.gte(from))
        .filter(repair_order::Column::DeliveredAt.lt(to))
        .order_by_asc(repair_order::Column::Id)
        .all(db)
        .await?;
    let n = closed.len() as i64;
    let share = |hits: usize, of: usize| (of > 0).then(|| hits as f64 / of as f64);
    let fixed = closed
        .iter()
        .filter(|o| o.fixed_first_time != Some(false))
        .count();
    let promised: Vec<_> = closed.iter().filter(|o| o.promised_at.is_some()).collect();
    let kept = promised
        .iter()
        .filter(|o| o.done_at.or(o.delivered_at) <= o.promised_at)
        .count();
    Ok(ServiceMonth {
        month: month.to_string(),
        car_entries,
        delivered: n,
        revenue_fen: closed.iter().map(|o| o.total_fen).sum(),
        warranty_fen: closed.iter().map(|o| o.warranty_fen).sum(),
        receivable_fen: closed
            .iter()
            .map(|o| o.total_fen - o.warranty_fen - o.paid_fen)
            .sum(),
        first_time_fix_rate: share(fixed, closed.len()),
        on_time_rate: share(kept, promised.len()),
    })
}
