//! The demo fleet and test drives. A booking writes one row per quarter
//! hour for the car and one for the consultant; the table's primary key
//! refuses a second booking of either, whatever the concurrency.
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{booking_slot, demo_car, lead, test_drive};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    leads,
    rules::{self, LeadStatus, TestDriveStatus},
};
use crate::{
    auth::{Actor, Role},
    customers::rules::{self as text_rules, Channel},
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    paging,
};

/// A demo car for the fleet.
#[derive(InputObject, Clone, Debug)]
pub struct CreateDemoCarInput {
    /// Model, e.g. 锐界.
    pub model: String,
    /// Trim.
    pub trim: Option<String>,
    /// Plate (unique in the store).
    pub plate: String,
}

/// Adds a demo car (store managers).
pub async fn create_car<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateDemoCarInput,
) -> ApiResult<demo_car::Model> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let t = text_rules::collect(vec![
        text_rules::text(&input.model, "model", 50),
        text_rules::text(&input.plate, "plate", 20).map(|p| p.to_uppercase()),
    ])?;
    let row = demo_car::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        model: Set(t[0].clone()),
        trim: Set(text_rules::opt_text(input.trim.as_deref(), "trim", 50)?),
        plate: Set(t[1].clone()),
        available: Set(true),
        created_at: Set(now),
    };
    demo_car::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            ApiError::on_unique(e, || {
                crate::error::UserError::at(
                    "plate",
                    UserErrorCode::Duplicate,
                    "the fleet has a car with this plate",
                )
            })
        })
}

/// Takes a demo car out of the fleet or puts it back (store managers).
pub async fn set_available<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    available: bool,
) -> ApiResult<demo_car::Model> {
    actor.require(&[Role::StoreManager])?;
    let car = car_in_store(db, actor, id, "demoCarId").await?;
    let mut m: demo_car::ActiveModel = car.into();
    m.available = Set(available);
    Ok(sea_orm::ActiveModelTrait::update(m, db).await?)
}

async fn car_in_store<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    field: &str,
) -> ApiResult<demo_car::Model> {
    let store_id = actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::DemoCar, field)?;
    demo_car::Entity::find_by_id(id)
        .filter(demo_car::Column::StoreId.eq(store_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such demo car"))
}

/// The store's demo fleet (store staff).
pub async fn cars<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    available: Option<bool>,
) -> ApiResult<Vec<demo_car::Model>> {
    let store_id = actor.own_store()?;
    let mut q = demo_car::Entity::find().filter(demo_car::Column::StoreId.eq(store_id));
    if let Some(a) = available {
        q = q.filter(demo_car::Column::Available.eq(a));
    }
    Ok(q.order_by_asc(demo_car::Column::Model)
        .order_by_asc(demo_car::Column::Plate)
        .all(db)
        .await?)
}

/// Demo cars by id (the actor's store), for DataLoader batches.
pub async fn cars_by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, demo_car::Model>> {
    let rows = demo_car::Entity::find()
        .filter(demo_car::Column::Id.is_in(ids.iter().copied()))
        .filter(demo_car::Column::StoreId.in_subquery(actor.store_ids_query()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// The test drives the actor may see: those of visible leads.
fn visible(actor: &Actor) -> Condition {
    leads::scope(
        actor,
        test_drive::Column::StoreId,
        test_drive::Column::CustomerId,
        None,
    )
}

/// A test drive by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<test_drive::Model>> {
    Ok(test_drive::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// The test drives of many leads (already visible), by start.
pub async fn of_leads<C: ConnectionTrait>(
    db: &C,
    leads: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, Vec<test_drive::Model>>> {
    let rows = test_drive::Entity::find()
        .filter(test_drive::Column::LeadId.is_in(leads.iter().copied()))
        .order_by_asc(test_drive::Column::StartsAt)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.lead_id))
}

/// Booking a test drive.
#[derive(InputObject, Clone, Debug)]
pub struct BookTestDriveInput {
    /// The lead.
    pub lead_id: ID,
    /// The demo car.
    pub demo_car_id: ID,
    /// Start, on a quarter hour.
    pub starts_at: DateTime<Utc>,
    /// End, on a quarter hour, at most 4 hours later.
    pub ends_at: DateTime<Utc>,
    /// The customer's driver's licence number (required).
    pub licence_no: String,
    /// The planned route.
    pub route: Option<String>,
    /// When the customer signed the test-drive agreement, if already.
    pub agreement_signed_at: Option<DateTime<Utc>>,
}

fn licence(raw: &str) -> ApiResult<String> {
    let l = raw.trim().to_uppercase();
    if l.is_empty() {
        return Err(ApiError::field(
            "licenceNo",
            UserErrorCode::Required,
            "the customer's driver's licence number is required",
        ));
    }
    if l.len() > 20 || !l.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::field(
            "licenceNo",
            UserErrorCode::Invalid,
            "a licence number is up to 20 letters and digits",
        ));
    }
    Ok(l)
}

/// Books a demo car and the lead's consultant for a slot. Either already
/// booked for an overlapping quarter hour gives CONFLICT, decided by the
/// database's primary key.
pub async fn book<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: BookTestDriveInput,
) -> ApiResult<test_drive::Model> {
    let l = leads::writable(db, actor, &input.lead_id, "leadId").await?;
    let licence_no = licence(&input.licence_no)?;
    let route = text_rules::opt_text(input.route.as_deref(), "route", 200)?;
    let slots = rules::slots(input.starts_at, input.ends_at)
        .map_err(|m| ApiError::field("startsAt", UserErrorCode::Invalid, m))?;
    if input.starts_at < now - chrono::Duration::hours(1) {
        return Err(ApiError::field(
            "startsAt",
            UserErrorCode::OutOfRange,
            "a test drive is booked for now or later",
        ));
    }
    if input.agreement_signed_at.is_some_and(|t| t > now) {
        return Err(ApiError::field(
            "agreementSignedAt",
            UserErrorCode::OutOfRange,
            "the agreement cannot be signed in the future",
        ));
    }
    let car = car_in_store(db, actor, &input.demo_car_id, "demoCarId").await?;
    if !car.available {
        return Err(ApiError::field(
            "demoCarId",
            UserErrorCode::Conflict,
            "this demo car is out of the fleet",
        ));
    }
    let consultant = leads::consultant_of(&l)?;
    let drive = test_drive::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(l.store_id),
        lead_id: Set(l.id),
        customer_id: Set(l.customer_id),
        demo_car_id: Set(car.id),
        consultant_id: Set(consultant),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        licence_no: Set(licence_no),
        agreement_signed_at: Set(input.agreement_signed_at),
        route: Set(route),
        start_km: Set(None),
        end_km: Set(None),
        feedback: Set(None),
        rating: Set(None),
        status: Set(TestDriveStatus::Booked.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let d = test_drive::Entity::insert(drive)
        .exec_with_returning(&txn)
        .await?;
    let rows = slots.iter().flat_map(|at| {
        [car.id, consultant].map(|resource| booking_slot::ActiveModel {
            resource_id: Set(resource),
            slot_at: Set(*at),
            test_drive_id: Set(d.id),
        })
    });
    if let Err(e) = booking_slot::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await
    {
        drop(txn);
        return Err(if ApiError::is_unique_violation(&e) {
            ApiError::field(
                "startsAt",
                UserErrorCode::Conflict,
                "the demo car or the consultant is already booked for part of this time",
            )
        } else {
            e.into()
        });
    }
    leads::note(
        &txn,
        &l,
        Some(actor.staff_id),
        Channel::InPerson,
        format!("Test drive of {} booked", car.model),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(d)
}

async fn writable_drive<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<(test_drive::Model, lead::Model)> {
    actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::TestDrive, "testDriveId")?;
    let d = find(db, actor, id).await?.ok_or_else(|| {
        ApiError::field("testDriveId", UserErrorCode::NotFound, "no such test drive")
    })?;
    let l = leads::writable(
        db,
        actor,
        &ids::encode(NodeKind::Lead, d.lead_id),
        "testDriveId",
    )
    .await?;
    if d.status != TestDriveStatus::Booked.as_str() {
        return Err(ApiError::field(
            "testDriveId",
            UserErrorCode::Conflict,
            "the test drive is no longer booked",
        ));
    }
    Ok((d, l))
}

/// A test drive driven.
#[derive(InputObject, Clone, Debug)]
pub struct CompleteTestDriveInput {
    /// The test drive.
    pub test_drive_id: ID,
    /// When the customer signed the agreement (required unless given at booking).
    pub agreement_signed_at: Option<DateTime<Utc>>,
    /// Odometer at the start.
    pub start_km: i32,
    /// Odometer at the end.
    pub end_km: i32,
    /// The customer's words.
    pub feedback: Option<String>,
    /// The customer's rating, 1 to 5.
    pub rating: Option<i32>,
}

/// Records the drive: agreement, mileage, feedback. The lead moves to
/// TEST_DRIVEN and the customer's log says so.
pub async fn complete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CompleteTestDriveInput,
) -> ApiResult<test_drive::Model> {
    let (d, l) = writable_drive(db, actor, &input.test_drive_id).await?;
    let signed = input
        .agreement_signed_at
        .or(d.agreement_signed_at)
        .ok_or_else(|| {
            ApiError::field(
                "agreementSignedAt",
                UserErrorCode::Required,
                "no test drive without the signed agreement",
            )
        })?;
    if signed > now {
        return Err(ApiError::field(
            "agreementSignedAt",
            UserErrorCode::OutOfRange,
            "the agreement cannot be signed in the future",
        ));
    }
    if input.start_km < 0 || input.end_km < input.start_km || input.end_km - input.start_km > 1000 {
        return Err(ApiError::field(
            "endKm",
            UserErrorCode::OutOfRange,
            "endKm must be at least startKm and at most 1,000 km more",
        ));
    }
    if input.rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(ApiError::field(
            "rating",
            UserErrorCode::OutOfRange,
            "rating is 1 to 5",
        ));
    }
    let feedback = text_rules::opt_text(input.feedback.as_deref(), "feedback", 2000)?;
    let txn = db.begin().await?;
    let mut m: test_drive::ActiveModel = d.into();
    m.agreement_signed_at = Set(Some(signed));
    m.start_km = Set(Some(input.start_km));
    m.end_km = Set(Some(input.end_km));
    m.feedback = Set(feedback.clone());
    m.rating = Set(input.rating);
    m.status = Set(TestDriveStatus::Done.as_str().into());
    m.updated_at = Set(now);
    let d = sea_orm::ActiveModelTrait::update(m, &txn).await?;
    leads::advance(&txn, &l, LeadStatus::TestDriven, now).await?;
    let rating = input
        .rating
        .map(|r| format!(", rated {r}/5"))
        .unwrap_or_default();
    leads::note(
        &txn,
        &l,
        Some(actor.staff_id),
        Channel::InPerson,
        format!(
            "Test drive done ({} km){rating}",
            input.end_km - input.start_km
        ),
        feedback,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(d)
}

/// Cancels a booked test drive; its slots are free again.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    id: &ID,
) -> ApiResult<test_drive::Model> {
    let (d, _) = writable_drive(db, actor, id).await?;
    let txn = db.begin().await?;
    booking_slot::Entity::delete_many()
        .filter(booking_slot::Column::TestDriveId.eq(d.id))
        .exec(&txn)
        .await?;
    let rows = test_drive::Entity::update_many()
        .col_expr(
            test_drive::Column::Status,
            Expr::value(TestDriveStatus::Cancelled.as_str()),
        )
        .col_expr(test_drive::Column::UpdatedAt, Expr::value(now))
        .filter(test_drive::Column::Id.eq(d.id))
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    rows.into_iter().next().ok_or(ApiError::NotFound)
}
