//! Service appointments: a vehicle booked with an advisor for a time, the
//! advisor's quarter hours held so that nobody books them twice, check-in
//! (which opens the repair order) and cancelling.
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{advisor_slot, service_appointment};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    campaigns,
    rules::{self, AppointmentSource, AppointmentStatus},
};
use crate::{
    auth::{Actor, Role},
    customers::{
        directory,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, LogKind},
        vehicles,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::rules as org_rules,
    paging::{self, Cursor, Keys, Page, PageArgs},
    tasks::events::{self, TaskChange},
};

/// The appointments the actor may see: those of the customers the actor
/// may see.
pub fn visible(actor: &Actor) -> sea_orm::Condition {
    directory::records(
        actor,
        service_appointment::Column::StoreId,
        service_appointment::Column::CustomerId,
    )
}

/// An appointment by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<service_appointment::Model>> {
    Ok(service_appointment::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// The appointment's state.
pub fn status(a: &service_appointment::Model) -> AppointmentStatus {
    AppointmentStatus::parse(&a.status).unwrap_or(AppointmentStatus::Booked)
}

/// A booking.
#[derive(InputObject, Clone, Debug)]
pub struct BookServiceInput {
    /// The vehicle.
    pub vehicle_id: ID,
    /// The advisor; default the one booking (an advisor).
    pub advisor_id: Option<ID>,
    /// How the booking came about.
    pub source: AppointmentSource,
    /// Start, on a quarter hour.
    pub starts_at: DateTime<Utc>,
    /// End, on a quarter hour, at most 8 hours later.
    pub ends_at: DateTime<Utc>,
    /// What the customer says the car needs.
    pub concern: Option<String>,
    /// The recall or campaign the car is booked in for (the source becomes
    /// CAMPAIGN).
    pub campaign_id: Option<ID>,
}

async fn advisor<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    store: Uuid,
    id: Option<&ID>,
) -> ApiResult<Uuid> {
    let Some(id) = id else {
        if actor.role == Role::ServiceAdvisor {
            return Ok(actor.staff_id);
        }
        return Err(ApiError::field(
            "advisorId",
            UserErrorCode::Required,
            "name the service advisor",
        ));
    };
    let id = ids::decode_field(id, NodeKind::Staff, "advisorId")?;
    let s = crate::org::store::staff_by_id(db, id).await?;
    match s {
        Some(s)
            if s.store_id == Some(store) && s.active && s.role == Role::ServiceAdvisor.as_str() =>
        {
            Ok(s.id)
        }
        _ => Err(ApiError::field(
            "advisorId",
            UserErrorCode::NotFound,
            "no active service advisor of this store has that id",
        )),
    }
}

/// Books a vehicle in with an advisor; an advisor already booked for an
/// overlapping quarter hour gives CONFLICT, decided by the database.
pub async fn book<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: BookServiceInput,
) -> ApiResult<service_appointment::Model> {
    actor.require(&[Role::ServiceAdvisor, Role::StoreManager, Role::CareAgent])?;
    let v = vehicles::find_writable(db, actor, &input.vehicle_id, "vehicleId").await?;
    let concern = text_rules::opt_text(input.concern.as_deref(), "concern", 1000)?;
    let slots = org_rules::quarter_hours(
        input.starts_at,
        input.ends_at,
        rules::MAX_APPOINTMENT_MINUTES,
        "a service appointment",
    )
    .map_err(|m| ApiError::field("startsAt", UserErrorCode::Invalid, m))?;
    if input.starts_at < now - chrono::Duration::hours(1) {
        return Err(ApiError::field(
            "startsAt",
            UserErrorCode::OutOfRange,
            "an appointment is booked for now or later",
        ));
    }
    let advisor = advisor(db, actor, v.store_id, input.advisor_id.as_ref()).await?;
    let campaign = match &input.campaign_id {
        Some(c) => Some(campaigns::for_vehicle(db, campaigns::campaign_id(c)?, v.id).await?),
        None => None,
    };
    let source = if campaign.is_some() {
        AppointmentSource::Campaign
    } else {
        input.source
    };
    let row = service_appointment::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(v.store_id),
        customer_id: Set(v.owner_id),
        vehicle_id: Set(v.id),
        advisor_id: Set(advisor),
        source: Set(source.as_str().into()),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        concern: Set(concern),
        campaign_id: Set(campaign.as_ref().map(|c| c.campaign_id)),
        status: Set(AppointmentStatus::Booked.as_str().into()),
        repair_order_id: Set(None),
        created_by: Set(actor.staff_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let a = service_appointment::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    let rows = slots.iter().map(|at| advisor_slot::ActiveModel {
        advisor_id: Set(advisor),
        slot_at: Set(*at),
        appointment_id: Set(a.id),
    });
    if let Err(e) = advisor_slot::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await
    {
        drop(txn);
        return Err(if ApiError::is_unique_violation(&e) {
            ApiError::field(
                "startsAt",
                UserErrorCode::Conflict,
                "the advisor is already booked for part of this time",
            )
        } else {
            e.into()
        });
    }
    log::append(
        &txn,
        LogEvent {
            store_id: a.store_id,
            customer_id: a.customer_id,
            kind: LogKind::Visit,
            channel: Channel::Phone,
            staff_id: Some(actor.staff_id),
            summary: format!(
                "Service booked for {} ({})",
                a.starts_at.format("%Y-%m-%d %H:%M UTC"),
                source.label_en()
            ),
            outcome: None,
            subject: Some(("ServiceAppointment", a.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    let done = match &campaign {
        Some(cv) => campaigns::booked(&txn, cv, None, actor.staff_id, now).await?,
        None => Vec::new(),
    };
    txn.commit().await?;
    events::publish_all(&done, TaskChange::Completed);
    Ok(a)
}

/// The appointment checked in by a repair order, in the caller's
/// transaction; its advisor's later quarter hours stay booked (the car is
/// in the workshop).
pub async fn checked_in<C: ConnectionTrait>(
    db: &C,
    a: &service_appointment::Model,
    order: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let mut m: service_appointment::ActiveModel = a.clone().into();
    m.status = Set(AppointmentStatus::CheckedIn.as_str().into());
    m.repair_order_id = Set(Some(order));
    m.updated_at = Set(now);
    service_appointment::Entity::update(m).exec(db).await?;
    Ok(())
}

/// Cancelling a booking.
#[derive(InputObject, Clone, Debug)]
pub struct CancelServiceAppointmentInput {
    /// The appointment, BOOKED.
    pub appointment_id: ID,
}

/// Cancels a booking; the advisor's time is free again.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CancelServiceAppointmentInput,
) -> ApiResult<service_appointment::Model> {
    actor.require(&[Role::ServiceAdvisor, Role::StoreManager, Role::CareAgent])?;
    actor.own_store()?;
    let id = ids::decode_field(
        &input.appointment_id,
        NodeKind::ServiceAppointment,
        "appointmentId",
    )?;
    let a = find(db, actor, id).await?.ok_or_else(|| {
        ApiError::field(
            "appointmentId",
            UserErrorCode::NotFound,
            "no such appointment",
        )
    })?;
    if status(&a) != AppointmentStatus::Booked {
        return Err(ApiError::field(
            "appointmentId",
            UserErrorCode::Conflict,
            format!("the appointment is {}", a.status.to_lowercase()),
        ));
    }
    let txn = db.begin().await?;
    advisor_slot::Entity::delete_many()
        .filter(advisor_slot::Column::AppointmentId.eq(a.id))
        .exec(&txn)
        .await?;
    let mut m: service_appointment::ActiveModel = a.into();
    m.status = Set(AppointmentStatus::Cancelled.as_str().into());
    m.updated_at = Set(now);
    let a = service_appointment::Entity::update(m).exec(&txn).await?;
    txn.commit().await?;
    Ok(a)
}

/// The store's appointments (or an advisor's), newest start first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    advisor: Option<Uuid>,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<service_appointment::Model>> {
    let mut q = service_appointment::Entity::find().filter(visible(actor));
    if let Some(a) = advisor {
        q = q.filter(service_appointment::Column::AdvisorId.eq(a));
    }
    paging::fetch(
        db,
        q,
        Keys {
            at: Some(service_appointment::Column::StartsAt),
            id: service_appointment::Column::Id,
        },
        args,
        |m| Cursor {
            at: Some(m.starts_at),
            id: m.id,
        },
        want_total,
    )
    .await
}
