//! Each vehicle's next service (`service_forecast`): predicted from its
//! delivery, its last service and its readings (`rules::predict_service`),
//! kept by every reading and every closed service visit, with the
//! maintenance reminder that follows it through the engine. The list of
//! vehicles due for service reads it.
use std::collections::HashMap;

use async_graphql::SimpleObject;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{mileage_reading, service_forecast, task, vehicle};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::rules::{self, ServiceBasis, ServiceFacts};
use crate::{
    auth::{Actor, Role},
    error::{ApiError, ApiResult},
    org::rules::{self as org_rules, StoreSettings},
    org::store as org,
    paging::{self, Cursor},
    tasks::{
        events::{self, TaskChange},
        outbox::{self, Pick, Take},
        rules as task_rules,
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// Mileage readings of many vehicles, newest first.
pub async fn mileage_of<C: ConnectionTrait>(
    db: &C,
    vehicles: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<mileage_reading::Model>>> {
    let rows = mileage_reading::Entity::find()
        .filter(mileage_reading::Column::VehicleId.is_in(vehicles.iter().copied()))
        .order_by_desc(mileage_reading::Column::ReadOn)
        .order_by_desc(mileage_reading::Column::Id)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.vehicle_id))
}

/// The facts of one vehicle for the prediction.
pub fn facts(
    v: &vehicle::Model,
    last: Option<&service_forecast::Model>,
    readings: &[mileage_reading::Model],
) -> ServiceFacts {
    ServiceFacts {
        delivered: v.delivery_date,
        last_service: last.and_then(|f| f.last_service_on.zip(f.last_service_km)),
        readings: readings.iter().map(|r| (r.read_on, r.km)).collect(),
    }
}

/// The forecast row for `v` from `facts`.
fn row(
    s: &StoreSettings,
    v: &vehicle::Model,
    facts: &ServiceFacts,
    services: i32,
    now: DateTime<Utc>,
) -> (service_forecast::ActiveModel, Option<NaiveDate>) {
    let p = rules::predict_service(s, facts);
    let row = service_forecast::ActiveModel {
        vehicle_id: Set(v.id),
        store_id: Set(v.store_id),
        daily_m: Set(p.daily_m),
        last_service_on: Set(facts.last_service.map(|l| l.0)),
        last_service_km: Set(facts.last_service.map(|l| l.1)),
        services: Set(services),
        due_on: Set(p.due_on),
        due_km: Set(p.due_km),
        basis: Set(p.basis.map(|b| b.as_str().to_string())),
        stale: Set(false),
        updated_at: Set(now),
    };
    (row, p.due_on)
}

/// Writes forecast rows, replacing what was there.
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    rows: Vec<service_forecast::ActiveModel>,
) -> ApiResult<()> {
    use service_forecast::Column as F;
    // 11 columns × 1,000 rows stays under both databases' bind limits.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        service_forecast::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(F::VehicleId)
                    .update_columns([
                        F::DailyM,
                        F::LastServiceOn,
                        F::LastServiceKm,
                        F::Services,
                        F::DueOn,
                        F::DueKm,
                        F::Basis,
                        F::Stale,
                        F::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The stored forecast of a vehicle.
pub async fn of<C: ConnectionTrait>(
    db: &C,
    vehicle_id: Uuid,
) -> ApiResult<Option<service_forecast::Model>> {
    Ok(service_forecast::Entity::find_by_id(vehicle_id)
        .one(db)
        .await?)
}

/// Forecasts of many vehicles (already visible), for DataLoader batches.
pub async fn of_vehicles<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, service_forecast::Model>> {
    let rows = service_forecast::Entity::find()
        .filter(service_forecast::Column::VehicleId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.vehicle_id, r)).collect())
}

/// A new reading (or a changed delivery): the vehicle's forecast again, and
/// a maintenance reminder already made moves with it. Returns the tasks
/// moved.
pub async fn refresh<C: ConnectionTrait>(
    db: &C,
    (settings, tz): (&StoreSettings, Tz),
    v: &vehicle::Model,
    readings: &[mileage_reading::Model],
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let last = of(db, v.id).await?;
    let facts = facts(v, last.as_ref(), readings);
    let services = last.as_ref().map_or(0, |f| f.services);
    let (r, due_on) = row(settings, v, &facts, services, now);
    upsert(db, vec![r]).await?;
    match due_on {
        Some(day) if services > 0 => {
            let today = org_rules::local_day(tz, now);
            let spec = task_rules::maintenance_reminder(settings, tz, day, today, &v.model);
            let rule = task_rules::MAINTENANCE_REMINDER;
            tasks::reschedule_for_vehicle(db, settings, v.id, rule, spec.window, now).await
        }
        _ => Ok(Vec::new()),
    }
}

/// A service visit closed: the vehicle's last service is now (`on`, `km`),
/// the reminders it answered are done, and the next service's reminder is
/// made (about the visit `visit`). Returns the tasks closed and made.
#[allow(clippy::too_many_arguments)]
pub async fn serviced<C: ConnectionTrait>(
    db: &C,
    (settings, tz): (&StoreSettings, Tz),
    v: &vehicle::Model,
    (on, km): (NaiveDate, i32),
    readings: &[mileage_reading::Model],
    visit: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<task::Model>, Vec<task::Model>)> {
    let last = of(db, v.id).await?;
    let mut facts = facts(v, last.as_ref(), readings);
    facts.last_service = Some((on, km));
    let services = last.as_ref().map_or(0, |f| f.services) + 1;
    let (r, due_on) = row(settings, v, &facts, services, now);
    upsert(db, vec![r]).await?;
    let answered = [
        task_rules::FIRST_SERVICE_REMINDER,
        task_rules::MAINTENANCE_REMINDER,
    ];
    let done = tasks::done_for_vehicle(db, v.id, &answered, "serviced", by, now).await?;
    let made = match due_on {
        Some(day) => {
            let today = org_rules::local_day(tz, now);
            let spec = task_rules::maintenance_reminder(settings, tz, day, today, &v.model);
            let about = RuleTarget {
                store_id: v.store_id,
                customer_id: v.owner_id,
                vehicle_id: Some(v.id),
                subject: Subject {
                    kind: "RepairOrder",
                    id: visit,
                },
                created_by: Some(by),
                assignee_id: None,
                step: None,
            };
            tasks::create_with_settings(db, settings, &about, vec![spec], now).await?
        }
        None => Vec::new(),
    };
    Ok((done, made))
}

/// A vehicle due for service, as the due list shows it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ServiceDue {
    /// The vehicle (`vehicle`).
    #[graphql(skip)]
    pub vehicle_id: Uuid,
    /// The predicted day.
    pub due_on: NaiveDate,
    /// The odometer at which it is due.
    pub due_km: Option<i32>,
    /// Whether time or mileage comes first.
    pub basis: Option<ServiceBasis>,
    /// Kilometres a day the prediction assumes.
    pub daily_km: f64,
    /// The last service day, if any.
    pub last_service_on: Option<NaiveDate>,
    /// Services on record.
    pub services: i32,
}

impl ServiceDue {
    /// The list's view of a forecast row.
    pub fn of(f: &service_forecast::Model) -> Option<ServiceDue> {
        Some(ServiceDue {
            vehicle_id: f.vehicle_id,
            due_on: f.due_on?,
            due_km: f.due_km,
            basis: f.basis.as_deref().and_then(ServiceBasis::parse),
            daily_km: f64::from(f.daily_m) / 1000.0,
            last_service_on: f.last_service_on,
            services: f.services,
        })
    }
}

/// Who works the due list: the store's service advisors, care agents and
/// manager.
pub fn due_list_store(actor: &Actor) -> ApiResult<Uuid> {
    actor.require(&[Role::ServiceAdvisor, Role::CareAgent, Role::StoreManager])?;
    actor.own_store()
}

/// The store's vehicles due for service by `until` (overdue ones
/// included), soonest first, `first` at a time after `after`.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    until: NaiveDate,
    first: u64,
    after: Option<&Cursor>,
) -> ApiResult<(Vec<(Cursor, ServiceDue)>, bool)> {
    use service_forecast::Column as F;
    let mut q = service_forecast::Entity::find()
        .filter(F::StoreId.eq(store_id))
        .filter(F::DueOn.lte(until));
    if let Some(c) = after {
        let day = c.at.map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN);
        q = q.filter(
            Condition::any().add(F::DueOn.gt(day)).add(
                Condition::all()
                    .add(F::DueOn.eq(day))
                    .add(F::VehicleId.gt(c.id)),
            ),
        );
    }
    let rows = q
        .order_by_asc(F::DueOn)
        .order_by_asc(F::VehicleId)
        .limit(first + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > first;
    let items = rows
        .iter()
        .take(first as usize)
        .filter_map(|f| {
            let d = ServiceDue::of(f)?;
            let at = d.due_on.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            Some((
                Cursor {
                    at,
                    id: f.vehicle_id,
                },
                d,
            ))
        })
        .collect();
    Ok((items, more))
}

/// The page size of the due list, checked like every list's.
pub fn page_size(first: Option<i32>) -> ApiResult<u64> {
    match first {
        None => Ok(paging::DEFAULT_PAGE),
        Some(n) if (0..=paging::MAX_PAGE as i32).contains(&n) => Ok(n as u64),
        Some(_) => Err(ApiError::BadInput(format!(
            "`first` must be between 0 and {}",
            paging::MAX_PAGE
        ))),
    }
}

/// The horizon of "due in the next `days` days": 0 to 366.
pub fn horizon(today: NaiveDate, days: i32) -> ApiResult<NaiveDate> {
    if !(0..=366).contains(&days) {
        return Err(ApiError::BadInput(
            "`withinDays` must be between 0 and 366".into(),
        ));
    }
    Ok(today + Duration::days(days as i64))
}

/// Marks vehicles' forecasts for the re-prediction pass (new readings came
/// in bulk); a vehicle without a forecast gets one to fill.
pub async fn mark_stale<C: ConnectionTrait>(
    db: &C,
    vehicles: &[(Uuid, Uuid)],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    use service_forecast::Column as F;
    for chunk in vehicles.chunks(1000) {
        let rows = chunk
            .iter()
            .map(|&(vehicle_id, store_id)| service_forecast::ActiveModel {
                vehicle_id: Set(vehicle_id),
                store_id: Set(store_id),
                daily_m: Set(0),
                last_service_on: Set(None),
                last_service_km: Set(None),
                services: Set(0),
                due_on: Set(None),
                due_km: Set(None),
                basis: Set(None),
                stale: Set(true),
                updated_at: Set(now),
            });
        service_forecast::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(F::VehicleId)
                    .update_columns([F::Stale, F::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Rows re-predicted per transaction.
pub const BATCH: u64 = 1000;

/// Re-predicts every stale forecast, a batch at a time, and moves the
/// maintenance reminders whose service moved. Concurrent passes (every
/// `serve` process and `worker` run one) take different rows, each once.
/// Returns how many forecasts were re-predicted.
pub async fn repredict_stale(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> ApiResult<u64> {
    let mut total = 0;
    loop {
        let (n, moved) = repredict_batch(db, now, batch).await?;
        events::publish_all(&moved, TaskChange::Changed);
        total += n;
        if n < batch {
            return Ok(total);
        }
    }
}

async fn repredict_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> ApiResult<(u64, Vec<task::Model>)> {
    let txn = db.begin().await?;
    let taken = outbox::take_returning(
        &txn,
        service_forecast::Entity,
        Take::Update("stale = false"),
        Pick {
            key: "vehicle_id",
            cond: "stale = true",
            order: "stale, vehicle_id",
            limit: batch,
        },
        Vec::new(),
    )
    .await?;
    let n = taken.len() as u64;
    if taken.is_empty() {
        txn.commit().await?;
        return Ok((0, Vec::new()));
    }
    let ids: Vec<Uuid> = taken.iter().map(|f| f.vehicle_id).collect();
    let cars: std::collections::HashMap<Uuid, vehicle::Model> = vehicle::Entity::find()
        .filter(vehicle::Column::Id.is_in(ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut readings = mileage_of(&txn, &ids).await?;
    let store_ids: Vec<Uuid> = {
        let mut s: Vec<Uuid> = taken.iter().map(|f| f.store_id).collect();
        s.sort();
        s.dedup();
        s
    };
    let stores = org::system_stores(&txn, &store_ids).await?;
    let calendar = |store: Uuid| match stores.get(&store) {
        Some(s) => (
            StoreSettings::from_json(&s.settings),
            org_rules::zone(&s.time_zone),
        ),
        None => (StoreSettings::default(), chrono_tz::Asia::Shanghai),
    };
    let mut cals = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(taken.len());
    let mut moves = Vec::new();
    for old in &taken {
        let Some(v) = cars.get(&old.vehicle_id) else {
            continue;
        };
        let (s, tz) = cals
            .entry(v.store_id)
            .or_insert_with(|| calendar(v.store_id))
            .clone();
        let rs = readings.remove(&v.id).unwrap_or_default();
        let f = facts(v, Some(old), &rs);
        let (row, due_on) = row(&s, v, &f, old.services, now);
        rows.push(row);
        if let Some(day) = due_on.filter(|d| old.services > 0 && Some(*d) != old.due_on) {
            moves.push((v.id, v.model.clone(), day, s, tz));
        }
    }
    upsert(&txn, rows).await?;
    let mut moved = Vec::new();
    for (vehicle, model, day, s, tz) in moves {
        let today = org_rules::local_day(tz, now);
        let spec = task_rules::maintenance_reminder(&s, tz, day, today, &model);
        let rule = task_rules::MAINTENANCE_REMINDER;
        moved.extend(
            tasks::reschedule_for_vehicle(&txn, &s, vehicle, rule, spec.window, now).await?,
        );
    }
    txn.commit().await?;
    Ok((n, moved))
}

/// The re-prediction pass beside a server: every `every`, and whenever
/// `wake` is notified (a bulk import of readings).
pub async fn run(
    db: DatabaseConnection,
    clock: std::sync::Arc<dyn crate::Clock>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    every: std::time::Duration,
) {
    loop {
        if let Err(e) = repredict_stale(&db, clock.now(), BATCH).await {
            tracing::error!(error = ?e, "service forecast pass failed");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}
