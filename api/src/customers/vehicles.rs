//! Vehicles, their ownership history and mileage readings. A vehicle is
//! visible to whoever may see its current owner.
use std::collections::HashMap;

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{mileage_reading, vehicle, vehicle_ownership};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    forecast,
    log::{self, LogEvent},
    rules::{self, Channel, LogKind, MileageSource, WarrantyStatus},
    store as customers,
};
use crate::{
    auth::{Actor, Role},
    error::{ApiError, ApiResult, UserError, UserErrorCode},
    idempotency,
    ids::{self, NodeKind},
    org::{
        rules::{self as org_rules, StoreSettings},
        store as org,
    },
    paging,
    tasks::{
        events::{self, TaskChange},
        rules as task_rules, store as tasks,
    },
};

/// Highest odometer reading accepted, in km.
const MAX_KM: i32 = 2_000_000;

pub use super::directory::find_vehicle as find;
use super::directory::vehicle_visible as visible;

/// Vehicles by id, for DataLoader batches.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, vehicle::Model>> {
    let rows = vehicle::Entity::find()
        .filter(vehicle::Column::Id.is_in(ids.iter().copied()))
        .filter(visible(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|v| (v.id, v)).collect())
}

/// A vehicle by VIN among those the actor may see.
pub async fn by_vin<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    raw: &str,
) -> ApiResult<Option<vehicle::Model>> {
    let vin = rules::normalize_vin(raw).map_err(|m| ApiError::BadInput(m.into()))?;
    Ok(vehicle::Entity::find()
        .filter(vehicle::Column::Vin.eq(vin))
        .filter(visible(actor))
        .order_by_desc(vehicle::Column::UpdatedAt)
        .one(db)
        .await?)
}

/// The vehicles of many owners (already visible), for DataLoader batches.
pub async fn of_owners<C: ConnectionTrait>(
    db: &C,
    owners: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<vehicle::Model>>> {
    let rows = vehicle::Entity::find()
        .filter(vehicle::Column::OwnerId.is_in(owners.iter().copied()))
        .order_by_asc(vehicle::Column::Id)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.owner_id))
}

/// Ownership periods of many vehicles, oldest first.
pub async fn ownership_of<C: ConnectionTrait>(
    db: &C,
    vehicles: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<vehicle_ownership::Model>>> {
    let rows = vehicle_ownership::Entity::find()
        .filter(vehicle_ownership::Column::VehicleId.is_in(vehicles.iter().copied()))
        .order_by_asc(vehicle_ownership::Column::StartedOn)
        .order_by_asc(vehicle_ownership::Column::Id)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.vehicle_id))
}

pub use super::forecast::mileage_of;

/// A vehicle to add to a customer.
#[derive(InputObject, Clone, Debug)]
pub struct CreateVehicleInput {
    /// The owner.
    pub owner_id: ID,
    /// 17-character VIN with a valid check digit.
    pub vin: String,
    /// Brand, e.g. 长安福特.
    pub brand: String,
    /// Model, e.g. 蒙迪欧.
    pub model: String,
    /// Trim level.
    pub trim: Option<String>,
    /// Colour.
    pub colour: Option<String>,
    /// Licence plate.
    pub plate: Option<String>,
    /// Date of purchase.
    pub purchase_date: Option<NaiveDate>,
    /// Date of delivery (starts warranty and service life).
    pub delivery_date: Option<NaiveDate>,
    /// Odometer at the time of adding, in km.
    pub mileage_km: Option<i32>,
    /// A client-chosen key: retrying with the same key never creates twice.
    pub idempotency_key: Option<String>,
}

/// Changes to a vehicle; fields left out keep their value.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateVehicleInput {
    /// The vehicle.
    pub id: ID,
    /// Brand.
    pub brand: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Trim (empty clears).
    pub trim: Option<String>,
    /// Colour (empty clears).
    pub colour: Option<String>,
    /// Plate (empty clears).
    pub plate: Option<String>,
    /// Purchase date.
    pub purchase_date: Option<NaiveDate>,
    /// Delivery date.
    pub delivery_date: Option<NaiveDate>,
}

const CREATE_VEHICLE: &str = "createVehicle";

fn not_future(d: Option<NaiveDate>, today: NaiveDate, field: &str) -> ApiResult<()> {
    match d {
        Some(d) if d > today => Err(ApiError::field(
            field,
            UserErrorCode::OutOfRange,
            format!("{field} is in the future"),
        )),
        _ => Ok(()),
    }
}

/// A licence plate as typed: at most 20 characters, upper case.
fn plate(raw: Option<&str>) -> ApiResult<Option<String>> {
    Ok(rules::opt_text(raw, "plate", 20)?.map(|p| p.to_uppercase()))
}

/// An odometer value in range.
pub fn check_km(km: i32, field: &str) -> ApiResult<()> {
    if (0..=MAX_KM).contains(&km) {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            UserErrorCode::OutOfRange,
            "mileage must be between 0 and 2,000,000 km",
        ))
    }
}

/// Adds a vehicle to a customer the actor may write. A VIN already on file
/// in the store gives DUPLICATE naming that vehicle.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateVehicleInput,
) -> ApiResult<vehicle::Model> {
    let key = idempotency::check_key(input.idempotency_key.as_deref())?;
    if let Some(k) = &key {
        if let Some(id) = idempotency::earlier(db, actor, CREATE_VEHICLE, k).await? {
            return find(db, actor, id).await?.ok_or(ApiError::NotFound);
        }
    }
    let owner_id = ids::decode_field(&input.owner_id, NodeKind::Customer, "ownerId")?;
    let owner = customers::find_writable(db, actor, owner_id, "ownerId").await?;
    let vin = rules::normalize_vin(&input.vin)
        .map_err(|m| ApiError::field("vin", UserErrorCode::InvalidVin, m));
    let texts = rules::collect(vec![
        vin,
        rules::text(&input.brand, "brand", 50),
        rules::text(&input.model, "model", 50),
    ])?;
    let today = org::today_at(db, owner.store_id, now).await?;
    not_future(input.purchase_date, today, "purchaseDate")?;
    not_future(input.delivery_date, today, "deliveryDate")?;
    if let Some(km) = input.mileage_km {
        check_km(km, "mileageKm")?;
    }
    let model = vehicle::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(owner.store_id),
        vin: Set(texts[0].clone()),
        brand: Set(texts[1].clone()),
        model: Set(texts[2].clone()),
        trim: Set(rules::opt_text(input.trim.as_deref(), "trim", 50)?),
        colour: Set(rules::opt_text(input.colour.as_deref(), "colour", 30)?),
        plate: Set(plate(input.plate.as_deref())?),
        purchase_date: Set(input.purchase_date),
        delivery_date: Set(input.delivery_date),
        warranty_ends_on: Set(None),
        warranty_km: Set(None),
        owner_id: Set(owner.id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let v = match vehicle::Entity::insert(model)
        .exec_with_returning(&txn)
        .await
    {
        Ok(v) => v,
        Err(e) if ApiError::is_unique_violation(&e) => {
            drop(txn);
            return Err(duplicate_vin(db, owner.store_id, &texts[0]).await?);
        }
        Err(e) => return Err(e.into()),
    };
    let (v, follow_ups) = added(&txn, actor, v, input.mileage_km, today, now).await?;
    if let Some(k) = &key {
        idempotency::remember(&txn, actor, CREATE_VEHICLE, k, v.id, now).await?;
    }
    txn.commit().await?;
    events::publish_all(&follow_ups, TaskChange::Created);
    Ok(v)
}

/// What follows the insert of a vehicle, in the caller's transaction: its
/// ownership, first reading, the log entry and, when it is delivered, the
/// delivery's warranty and follow-up work. Returns the vehicle as stored
/// and the tasks created.
async fn added<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    v: vehicle::Model,
    mileage_km: Option<i32>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<(vehicle::Model, Vec<entity::task::Model>)> {
    let since = v.delivery_date.or(v.purchase_date).unwrap_or(today);
    open_ownership(txn, &v, v.owner_id, since, now).await?;
    if let Some(km) = mileage_km {
        let source = if v.delivery_date == Some(today) {
            MileageSource::Delivery
        } else {
            MileageSource::Other
        };
        insert_reading(txn, actor, &v, km, today, source, now).await?;
    }
    log::append(
        txn,
        LogEvent {
            store_id: v.store_id,
            customer_id: v.owner_id,
            kind: LogKind::VehicleAdded,
            channel: Channel::System,
            staff_id: Some(actor.staff_id),
            summary: format!("{} {} ({}) added", v.brand, v.model, v.vin),
            outcome: None,
            subject: Some(("Vehicle", v.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    match v.delivery_date {
        Some(d) => delivered(txn, actor, v, d, now).await,
        None => {
            forecast_anew(txn, &v, now).await?;
            Ok((v, Vec::new()))
        }
    }
}

/// The vehicle's next service predicted anew from what is stored.
async fn forecast_anew<C: ConnectionTrait>(
    txn: &C,
    v: &vehicle::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::task::Model>> {
    let cal = org::calendar(txn, v.store_id).await?;
    let readings = mileage_of(txn, &[v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    forecast::refresh(txn, (&cal.0, cal.1), v, &readings, now).await
}

/// A delivery recorded: the buyer becomes an owner (a prospect moves to
/// NEW_OWNER by itself), the warranty starts (the store's years and km)
/// and the engine derives the delivery's work. The one path every delivery
/// takes, whether typed on a vehicle or handed over on a sales order.
async fn delivered<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    v: vehicle::Model,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<(vehicle::Model, Vec<entity::task::Model>)> {
    customers::became_owner(db, v.owner_id, now).await?;
    let warranty = rules::Warranty::of(&org::settings(db, v.store_id).await?);
    let mut m: vehicle::ActiveModel = v.into();
    m.warranty_ends_on = Set(Some(warranty.ends_on(on)));
    m.warranty_km = Set(Some(warranty.km));
    let v = m.update(db).await?;
    let tasks = tasks::on_delivery(db, &v, on, Some(actor.staff_id), now).await?;
    forecast_anew(db, &v, now).await?;
    Ok((v, tasks))
}

/// A new car handed over on a sale, in the caller's transaction: the
/// vehicle is created for the buyer, or (when the store already has this
/// VIN on the buyer's record without a delivery) linked, and then goes the
/// way of every delivery. Returns the vehicle and the tasks created.
pub async fn deliver_new<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    buyer: &entity::customer::Model,
    car: NewCar<'_>,
    now: DateTime<Utc>,
) -> ApiResult<(vehicle::Model, Vec<entity::task::Model>)> {
    let vin = rules::normalize_vin(car.vin)
        .map_err(|m| ApiError::field("vin", UserErrorCode::InvalidVin, m))?;
    let plate = plate(car.plate)?;
    check_km(car.km, "mileageKm")?;
    let existing = vehicle::Entity::find()
        .filter(vehicle::Column::StoreId.eq(buyer.store_id))
        .filter(vehicle::Column::Vin.eq(&vin))
        .one(txn)
        .await?;
    match existing {
        Some(v) if v.owner_id == buyer.id && v.delivery_date.is_none() => {
            let mut m: vehicle::ActiveModel = v.into();
            m.delivery_date = Set(Some(car.on));
            m.purchase_date = Set(Some(car.on));
            if plate.is_some() {
                m.plate = Set(plate);
            }
            m.updated_at = Set(now);
            let v = m.update(txn).await?;
            insert_reading(txn, actor, &v, car.km, car.on, MileageSource::Delivery, now).await?;
            delivered(txn, actor, v, car.on, now).await
        }
        Some(v) => {
            let id = ids::encode(NodeKind::Vehicle, v.id);
            Err(UserError::duplicate(
                "vin",
                "this VIN is already on file for another customer or was delivered before",
                id,
            )
            .into())
        }
        None => {
            let model = vehicle::ActiveModel {
                id: Set(Uuid::now_v7()),
                store_id: Set(buyer.store_id),
                vin: Set(vin),
                brand: Set(car.brand.to_string()),
                model: Set(car.model.to_string()),
                trim: Set(car.trim.map(String::from)),
                colour: Set(car.colour.map(String::from)),
                plate: Set(plate),
                purchase_date: Set(Some(car.on)),
                delivery_date: Set(Some(car.on)),
                warranty_ends_on: Set(None),
                warranty_km: Set(None),
                owner_id: Set(buyer.id),
                created_at: Set(now),
                updated_at: Set(now),
            };
            let v = vehicle::Entity::insert(model)
                .exec_with_returning(txn)
                .await
                .map_err(|e| {
                    ApiError::on_unique(e, || {
                        UserError::at("vin", UserErrorCode::Conflict, "this VIN was just taken")
                    })
                })?;
            added(txn, actor, v, Some(car.km), car.on, now).await
        }
    }
}

/// The car of a sale, as handed over.
pub struct NewCar<'a> {
    /// VIN as typed.
    pub vin: &'a str,
    /// Plate as typed.
    pub plate: Option<&'a str>,
    /// Odometer at handover.
    pub km: i32,
    /// Day of handover (store time).
    pub on: NaiveDate,
    /// Brand.
    pub brand: &'a str,
    /// Model.
    pub model: &'a str,
    /// Trim.
    pub trim: Option<&'a str>,
    /// Colour.
    pub colour: Option<&'a str>,
}

async fn duplicate_vin<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    vin: &str,
) -> ApiResult<ApiError> {
    let existing = vehicle::Entity::find()
        .filter(vehicle::Column::StoreId.eq(store_id))
        .filter(vehicle::Column::Vin.eq(vin))
        .one(db)
        .await?;
    Ok(match existing {
        Some(v) => {
            let id = ids::encode(NodeKind::Vehicle, v.id);
            UserError::duplicate(
                "vin",
                format!("a vehicle with this VIN already exists: {}", id.0),
                id,
            )
            .into()
        }
        None => ApiError::field(
            "vin",
            UserErrorCode::Conflict,
            "this VIN was just taken; try again",
        ),
    })
}

async fn open_ownership<C: ConnectionTrait>(
    db: &C,
    v: &vehicle::Model,
    owner: Uuid,
    since: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    vehicle_ownership::Entity::insert(vehicle_ownership::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(v.store_id),
        vehicle_id: Set(v.id),
        customer_id: Set(owner),
        started_on: Set(since),
        ended_on: Set(None),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Stores one odometer reading (checked by the caller).
pub async fn insert_reading<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    v: &vehicle::Model,
    km: i32,
    on: NaiveDate,
    source: MileageSource,
    now: DateTime<Utc>,
) -> ApiResult<mileage_reading::Model> {
    Ok(
        mileage_reading::Entity::insert(mileage_reading::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(v.store_id),
            vehicle_id: Set(v.id),
            km: Set(km),
            read_on: Set(on),
            source: Set(source.as_str().into()),
            recorded_by: Set(Some(actor.staff_id)),
            created_at: Set(now),
        })
        .exec_with_returning(db)
        .await?,
    )
}

/// A vehicle the actor may write (its owner visible, the actor in a store).
pub async fn find_writable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    field: &str,
) -> ApiResult<vehicle::Model> {
    actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::Vehicle, field)?;
    find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such vehicle"))
}

/// Changes a vehicle the actor may write.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: UpdateVehicleInput,
) -> ApiResult<vehicle::Model> {
    let v = find_writable(db, actor, &input.id, "id").await?;
    let first_delivery = v.delivery_date.is_none() && input.delivery_date.is_some();
    let today = org::today_at(db, v.store_id, now).await?;
    not_future(input.purchase_date, today, "purchaseDate")?;
    not_future(input.delivery_date, today, "deliveryDate")?;
    let mut m: vehicle::ActiveModel = v.into();
    if let Some(b) = &input.brand {
        m.brand = Set(rules::text(b, "brand", 50)?);
    }
    if let Some(x) = &input.model {
        m.model = Set(rules::text(x, "model", 50)?);
    }
    if let Some(x) = &input.trim {
        m.trim = Set(rules::opt_text(Some(x), "trim", 50)?);
    }
    if let Some(x) = &input.colour {
        m.colour = Set(rules::opt_text(Some(x), "colour", 30)?);
    }
    if let Some(x) = &input.plate {
        m.plate = Set(plate(Some(x))?);
    }
    if input.purchase_date.is_some() {
        m.purchase_date = Set(input.purchase_date);
    }
    if input.delivery_date.is_some() {
        m.delivery_date = Set(input.delivery_date);
    }
    m.updated_at = Set(now);
    let txn = db.begin().await?;
    let v = m.update(&txn).await?;
    // A delivery date recorded now starts the car's follow-up work.
    let (v, follow_ups) = match (first_delivery, v.delivery_date) {
        (true, Some(d)) => delivered(&txn, actor, v, d, now).await?,
        _ => (v, Vec::new()),
    };
    txn.commit().await?;
    events::publish_all(&follow_ups, TaskChange::Created);
    Ok(v)
}

/// An odometer reading.
#[derive(InputObject, Clone, Debug)]
pub struct RecordMileageInput {
    /// The vehicle.
    pub vehicle_id: ID,
    /// Odometer, in km.
    pub km: i32,
    /// Day of the reading; default today. Never in the future.
    pub read_on: Option<NaiveDate>,
    /// Who read it.
    #[graphql(default_with = "MileageSource::Customer")]
    pub source: MileageSource,
}

/// One line of a bulk import of readings.
#[derive(InputObject, Clone, Debug)]
pub struct MileageLineInput {
    /// The vehicle's VIN.
    pub vin: String,
    /// Odometer, in km.
    pub km: i32,
    /// Day of the reading; default today. Never in the future.
    pub read_on: Option<NaiveDate>,
}

/// Readings in bulk (a night's telematics or DMS export).
#[derive(InputObject, Clone, Debug)]
pub struct RecordMileageReadingsInput {
    /// At most 5,000 lines.
    pub readings: Vec<MileageLineInput>,
    /// Who read them.
    #[graphql(default_with = "MileageSource::Other")]
    pub source: MileageSource,
}

/// What a bulk import did.
#[derive(SimpleObject, Clone, Debug)]
pub struct MileageImport {
    /// Lines recorded.
    pub recorded: i32,
    /// Lines refused, each naming its line (`readings.3.vin`); the others
    /// are recorded all the same.
    pub user_errors: Vec<UserError>,
}

/// Most lines in one import.
const MAX_IMPORT: usize = 5000;

/// Records readings of the store's vehicles by VIN, line by line: a bad
/// line is refused by name and the rest recorded. The vehicles' next
/// services are re-predicted by the forecast pass (woken by the caller).
pub async fn record_readings<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordMileageReadingsInput,
) -> ApiResult<MileageImport> {
    actor.require(&[Role::ServiceAdvisor, Role::StoreManager])?;
    let store = actor.own_store()?;
    if input.readings.len() > MAX_IMPORT {
        return Err(ApiError::field(
            "readings",
            UserErrorCode::OutOfRange,
            format!("at most {MAX_IMPORT} lines at a time"),
        ));
    }
    let today = org::today_at(db, store, now).await?;
    let vins: Vec<String> = input
        .readings
        .iter()
        .filter_map(|l| rules::normalize_vin(&l.vin).ok())
        .collect();
    let mut cars: HashMap<String, vehicle::Model> = HashMap::new();
    for chunk in vins.chunks(1000) {
        let found = vehicle::Entity::find()
            .filter(vehicle::Column::StoreId.eq(store))
            .filter(vehicle::Column::Vin.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        cars.extend(found.into_iter().map(|v| (v.vin.clone(), v)));
    }
    let ids: Vec<Uuid> = cars.values().map(|v| v.id).collect();
    let mut on_file = HashMap::new();
    for chunk in ids.chunks(1000) {
        on_file.extend(mileage_of(db, chunk).await?);
    }
    let mut rejected = Vec::new();
    let mut rows = Vec::new();
    let mut touched: Vec<(Uuid, Uuid)> = Vec::new();
    for (i, line) in input.readings.iter().enumerate() {
        let at = |f: &str, code, msg: &str| UserError::at(&format!("readings.{i}.{f}"), code, msg);
        let v = match rules::normalize_vin(&line.vin) {
            Err(m) => {
                rejected.push(at("vin", UserErrorCode::InvalidVin, m));
                continue;
            }
            Ok(vin) => match cars.get(&vin) {
                Some(v) => v,
                None => {
                    rejected.push(at(
                        "vin",
                        UserErrorCode::NotFound,
                        "no vehicle of this store has this VIN",
                    ));
                    continue;
                }
            },
        };
        let on = line.read_on.unwrap_or(today);
        if !(0..=MAX_KM).contains(&line.km) {
            rejected.push(at(
                "km",
                UserErrorCode::OutOfRange,
                "mileage must be between 0 and 2,000,000 km",
            ));
            continue;
        }
        if on > today {
            rejected.push(at(
                "readOn",
                UserErrorCode::OutOfRange,
                "readOn is in the future",
            ));
            continue;
        }
        let known = on_file.entry(v.id).or_default();
        if goes_backwards(known, on, line.km) {
            rejected.push(at(
                "km",
                UserErrorCode::OutOfRange,
                "odometer readings cannot go backwards in time",
            ));
            continue;
        }
        let r = mileage_reading::Model {
            id: Uuid::now_v7(),
            store_id: v.store_id,
            vehicle_id: v.id,
            km: line.km,
            read_on: on,
            source: input.source.as_str().into(),
            recorded_by: Some(actor.staff_id),
            created_at: now,
        };
        known.push(r.clone());
        touched.push((v.id, v.store_id));
        rows.push(mileage_reading::ActiveModel::from(r));
    }
    touched.sort();
    touched.dedup();
    let recorded = rows.len() as i32;
    let txn = db.begin().await?;
    // 8 columns × 1,000 rows stays under both databases' bind limits.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        mileage_reading::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    forecast::mark_stale(&txn, &touched, now).await?;
    txn.commit().await?;
    Ok(MileageImport {
        recorded,
        user_errors: rejected,
    })
}

/// Whether a reading of `km` on `on` contradicts the readings on file: an
/// earlier one higher, or a later one lower (odometers do not run back).
pub fn goes_backwards(readings: &[mileage_reading::Model], on: NaiveDate, km: i32) -> bool {
    readings
        .iter()
        .any(|r| (r.read_on <= on && r.km > km) || (r.read_on > on && r.km < km))
}

/// Records a reading; odometers do not run backwards, so a reading lower
/// than an earlier one (or higher than a later one) is refused.
pub async fn record_mileage<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordMileageInput,
) -> ApiResult<mileage_reading::Model> {
    let v = find_writable(db, actor, &input.vehicle_id, "vehicleId").await?;
    check_km(input.km, "km")?;
    let (settings, tz) = org::calendar(db, v.store_id).await?;
    let today = org_rules::local_day(tz, now);
    let on = input.read_on.unwrap_or(today);
    not_future(Some(on), today, "readOn")?;
    let readings = mileage_of(db, &[v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    if goes_backwards(&readings, on, input.km) {
        return Err(ApiError::field(
            "km",
            UserErrorCode::OutOfRange,
            "odometer readings cannot go backwards in time",
        ));
    }
    let txn = db.begin().await?;
    let r = insert_reading(&txn, actor, &v, input.km, on, input.source, now).await?;
    let mut moved = first_service_follows(&txn, (&settings, tz), &v, &readings, &r, now).await?;
    let mut all = readings;
    all.push(r.clone());
    moved.extend(forecast::refresh(&txn, (&settings, tz), &v, &all, now).await?);
    log::append(
        &txn,
        LogEvent {
            store_id: v.store_id,
            customer_id: v.owner_id,
            kind: LogKind::Mileage,
            channel: Channel::System,
            staff_id: Some(actor.staff_id),
            summary: format!("{} km on {} ({})", input.km, on, v.vin),
            outcome: None,
            subject: Some(("Vehicle", v.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    events::publish_all(&moved, TaskChange::Changed);
    Ok(r)
}

/// A new (newest) reading of a delivered car brings its first-service
/// reminder forward when the car reached the first-service range, or will
/// at its pace before the reminder is due (`rules::first_service_by`).
async fn first_service_follows<C: ConnectionTrait>(
    txn: &C,
    (settings, tz): (&StoreSettings, chrono_tz::Tz),
    v: &vehicle::Model,
    earlier: &[mileage_reading::Model],
    r: &mileage_reading::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::task::Model>> {
    let Some(delivered) = v.delivery_date else {
        return Ok(Vec::new());
    };
    if earlier.iter().any(|e| e.read_on > r.read_on) {
        return Ok(Vec::new());
    }
    let baseline = earlier.iter().map(|e| e.km).min().unwrap_or(r.km).min(r.km);
    let Some(day) = task_rules::first_service_by(settings, delivered, r.read_on, r.km - baseline)
    else {
        return Ok(Vec::new());
    };
    let today = org_rules::local_day(tz, now);
    let due = org_rules::day_end(tz, task_rules::open_day(settings, day.max(today)));
    let rule = task_rules::FIRST_SERVICE_REMINDER;
    tasks::bring_forward(txn, settings, v.id, rule, due, now).await
}

/// A change of owner.
#[derive(InputObject, Clone, Debug)]
pub struct TransferVehicleInput {
    /// The vehicle.
    pub vehicle_id: ID,
    /// The new owner, a customer of the same store.
    pub new_owner_id: ID,
    /// Day of the change; default today.
    pub on: Option<NaiveDate>,
}

/// Moves a vehicle to a new owner, closing the current ownership period.
pub async fn transfer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: TransferVehicleInput,
) -> ApiResult<vehicle::Model> {
    let v = find_writable(db, actor, &input.vehicle_id, "vehicleId").await?;
    let new_owner_id = ids::decode_field(&input.new_owner_id, NodeKind::Customer, "newOwnerId")?;
    let new_owner = customers::find_writable(db, actor, new_owner_id, "newOwnerId").await?;
    if new_owner.store_id != v.store_id {
        return Err(ApiError::field(
            "newOwnerId",
            UserErrorCode::NotFound,
            "no such customer",
        ));
    }
    if new_owner.id == v.owner_id {
        return Err(ApiError::field(
            "newOwnerId",
            UserErrorCode::Invalid,
            "the vehicle already belongs to this customer",
        ));
    }
    let today = org::today_at(db, v.store_id, now).await?;
    let on = input.on.unwrap_or(today);
    not_future(Some(on), today, "on")?;
    let history = ownership_of(db, &[v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    if history.iter().any(|o| o.started_on > on) {
        return Err(ApiError::field(
            "on",
            UserErrorCode::OutOfRange,
            "the current owner's period started after that day",
        ));
    }
    let old_owner = v.owner_id;
    let txn = db.begin().await?;
    for o in history.into_iter().filter(|o| o.ended_on.is_none()) {
        let mut m: vehicle_ownership::ActiveModel = o.into();
        m.ended_on = Set(Some(on));
        m.update(&txn).await?;
    }
    let mut m: vehicle::ActiveModel = v.clone().into();
    m.owner_id = Set(new_owner.id);
    m.updated_at = Set(now);
    let v = m.update(&txn).await?;
    open_ownership(&txn, &v, new_owner.id, on, now).await?;
    let moved = tasks::follow_vehicle(&txn, v.id, new_owner.id, now).await?;
    for (customer_id, summary) in [
        (
            old_owner,
            // No name: the seller's log is read by staff who may not see the buyer.
            format!("{} ({}) passed to a new owner", v.model, v.vin),
        ),
        (new_owner.id, format!("{} ({}) taken over", v.model, v.vin)),
    ] {
        log::append(
            &txn,
            LogEvent {
                store_id: v.store_id,
                customer_id,
                kind: LogKind::VehicleTransferred,
                channel: Channel::System,
                staff_id: Some(actor.staff_id),
                summary,
                outcome: None,
                subject: Some(("Vehicle", v.id)),
                occurred_at: now,
            },
            now,
        )
        .await?;
    }
    txn.commit().await?;
    events::publish_all(&moved, TaskChange::Changed);
    Ok(v)
}

/// A car's warranty on a day at a mileage, as the service desk reads it.
#[derive(SimpleObject, Clone, Debug)]
pub struct WarrantyCoverage {
    /// Covered, or why not.
    pub status: WarrantyStatus,
    /// Whether repairs on that day at that mileage are under warranty.
    pub covered: bool,
    /// The day asked about (the store's today unless given).
    pub on: NaiveDate,
    /// The mileage asked about (the latest reading unless given).
    pub mileage_km: Option<i32>,
    /// The first day no longer covered (the anniversary of delivery).
    pub ends_on: Option<NaiveDate>,
    /// The last covered odometer reading, km.
    pub ends_km: Option<i32>,
    /// Covered days left, counting `on`.
    pub days_left: Option<i64>,
    /// Covered kilometres left.
    pub km_left: Option<i32>,
}

/// The warranty of `v` on `on` (default: the store's today) at `km`
/// (default: `latest`, the newest reading); whichever of time and mileage
/// ends first (`rules::warranty_status`).
pub async fn warranty<C: ConnectionTrait>(
    db: &C,
    v: &vehicle::Model,
    on: Option<NaiveDate>,
    km: Option<i32>,
    latest: Option<i32>,
    now: DateTime<Utc>,
) -> ApiResult<WarrantyCoverage> {
    if let Some(k) = km {
        check_km(k, "mileageKm")?;
    }
    let on = match on {
        Some(d) => d,
        None => org::today_at(db, v.store_id, now).await?,
    };
    let km = km.or(latest);
    let status = rules::warranty_status(v.warranty_ends_on, v.warranty_km, on, km);
    let covered = status == WarrantyStatus::Covered;
    Ok(WarrantyCoverage {
        status,
        covered,
        on,
        mileage_km: km,
        ends_on: v.warranty_ends_on,
        ends_km: v.warranty_km,
        days_left: v
            .warranty_ends_on
            .filter(|_| covered)
            .map(|end| (end - on).num_days()),
        km_left: v
            .warranty_km
            .zip(km)
            .filter(|_| covered)
            .map(|(limit, k)| limit - k),
    })
}
