//! Who may see which customer, and the reads and hand-overs built on it:
//! the part of the customers domain that the follow-up engine and the
//! loaders use. It imports no domain above it (never the engine), so that
//! `customers::store` can hand work to the engine without a circle.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{customer, staff, vehicle};
use sea_orm::{
    sea_query::{Expr, SelectStatement},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, RelationDef, Select,
};
use uuid::Uuid;

use super::{
    log::{self, LogEvent},
    rules::{self, Channel, LogKind},
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    error::{ApiError, ApiResult, UserErrorCode},
};

/// The customers the actor may see (merged records included, for lookups
/// by id that follow a merge).
pub fn visible(actor: &Actor) -> Condition {
    match actor.reach() {
        Reach::Store(store) => {
            let mut c = Condition::all().add(customer::Column::StoreId.eq(store));
            if actor.role == Role::SalesConsultant {
                c = c.add(customer::Column::ResponsibleStaffId.eq(actor.staff_id));
            }
            c
        }
        Reach::Group(_) | Reach::Oem(_) => Condition::all()
            .add(customer::Column::StoreId.in_subquery(actor.store_ids_query()))
            .add(customer::Column::SharingConsent.eq(true)),
    }
}

/// The ids of live customers the actor may see, as a sub-query for other
/// tables (vehicles) to filter by.
pub fn visible_ids(actor: &Actor) -> SelectStatement {
    customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(visible(actor))
        .filter(customer::Column::MergedIntoId.is_null())
        .into_query()
}

/// The records about customers (leads, orders, repair orders, claims) the
/// actor may see: those of the customers the actor may see. Said per reach
/// so that an index answers it: store staff other than consultants see
/// their whole store (every customer of it, merged ones' records having
/// moved to the survivor); consultants and the network the records of the
/// customers they may see.
pub fn records<Col: ColumnTrait>(actor: &Actor, store: Col, customer: Col) -> Condition {
    match actor.reach() {
        Reach::Store(s) if actor.role != Role::SalesConsultant => Condition::all().add(store.eq(s)),
        _ => Condition::all().add(customer.in_subquery(visible_ids(actor))),
    }
}

/// A customer by id, following merges to the surviving record; `None` when
/// missing or not visible (the two look the same).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<customer::Model>> {
    let mut id = id;
    for _ in 0..8 {
        let found = customer::Entity::find_by_id(id)
            .filter(visible(actor))
            .one(db)
            .await?;
        match found {
            Some(c) => match c.merged_into_id {
                Some(next) => id = next,
                None => return Ok(Some(c)),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The vehicles a customer owns now, as a join.
fn owned_vehicles() -> RelationDef {
    vehicle::Entity::belongs_to(customer::Entity)
        .from(vehicle::Column::OwnerId)
        .to(customer::Column::Id)
        .into()
}

/// The customers `select` finds, each with the vehicles they own now (by
/// id, as `vehicles::of_owners` gives them), in one statement and in the
/// select's order: a customer screen that shows the cars costs no second
/// read.
pub async fn with_vehicles<C: ConnectionTrait>(
    db: &C,
    select: Select<customer::Entity>,
) -> ApiResult<Vec<(customer::Model, Vec<vehicle::Model>)>> {
    Ok(joined_to_cars(db, select, Order::Asc).await?)
}

/// One page of customers (`page`: filtered, ordered and limited), each
/// with the vehicles they own now, in one statement: the page's ids are a
/// subquery the cars are joined to, so the limit counts customers, not
/// cars. `newest_first` is the page's own order.
pub async fn page_with_vehicles<C: ConnectionTrait>(
    db: &C,
    page: Select<customer::Entity>,
    newest_first: bool,
) -> Result<Vec<(customer::Model, Vec<vehicle::Model>)>, sea_orm::DbErr> {
    let ids = page.select_only().column(customer::Column::Id).into_query();
    let order = if newest_first {
        Order::Desc
    } else {
        Order::Asc
    };
    let select = customer::Entity::find().filter(customer::Column::Id.in_subquery(ids));
    joined_to_cars(db, select, order).await
}

/// `select` left-joined to the cars each customer owns, grouped back into
/// one entry per customer in `order` of customer id.
async fn joined_to_cars<C: ConnectionTrait>(
    db: &C,
    select: Select<customer::Entity>,
    order: Order,
) -> Result<Vec<(customer::Model, Vec<vehicle::Model>)>, sea_orm::DbErr> {
    let select = select
        .join(JoinType::LeftJoin, owned_vehicles().rev())
        .select_also(vehicle::Entity)
        .order_by(customer::Column::Id, order)
        .order_by_asc(vehicle::Column::Id);
    crate::rows::all_grouped(db, select).await
}

/// `find` with the customer's vehicles read in the same statement (a
/// merged record is followed as `find` does, its survivor's vehicles left
/// to the loader).
pub async fn find_with_vehicles<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<(customer::Model, Option<Vec<vehicle::Model>>)>> {
    let select = customer::Entity::find_by_id(id).filter(visible(actor));
    match with_vehicles(db, select).await?.into_iter().next() {
        None => Ok(None),
        Some((c, cars)) if c.merged_into_id.is_none() => Ok(Some((c, Some(cars)))),
        Some(_) => Ok(find(db, actor, id).await?.map(|c| (c, None))),
    }
}

/// Like `find`, but the actor must also be allowed to change the customer:
/// only store-level staff write customer records.
pub async fn find_writable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    field: &str,
) -> ApiResult<customer::Model> {
    actor.own_store()?;
    find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such customer"))
}

/// Customers by id, for DataLoader batches; invisible ones are left out.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, customer::Model>> {
    let rows = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .filter(visible(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// Customers by id without any scope: only for system work that no actor
/// asked for (the scheduler's messages).
pub async fn system_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, customer::Model>> {
    let rows = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// The live customer of a store with this mobile, whoever may see it.
pub async fn holder_of<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    mobile: &str,
) -> ApiResult<Option<customer::Model>> {
    Ok(customer::Entity::find()
        .filter(customer::Column::StoreId.eq(store_id))
        .filter(customer::Column::Mobile.eq(mobile))
        .filter(customer::Column::MergedIntoId.is_null())
        .one(db)
        .await?)
}

/// The live customer with this mobile in the actor's store, whether or not
/// the actor may open it (for a handover request).
pub async fn in_own_store_by_mobile<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    raw_mobile: &str,
) -> ApiResult<customer::Model> {
    let store = actor.own_store()?;
    let mobile = rules::phone_field(raw_mobile, "mobile")?;
    holder_of(db, store, &mobile).await?.ok_or_else(|| {
        ApiError::field(
            "mobile",
            UserErrorCode::NotFound,
            "no customer of this store has that mobile",
        )
    })
}

/// Whether a staff member may see a customer: store staff see their store's
/// customers, consultants only those they are responsible for.
pub fn staff_sees(s: &staff::Model, c: &customer::Model) -> bool {
    s.store_id == Some(c.store_id)
        && (s.role != Role::SalesConsultant.as_str() || c.responsible_staff_id == Some(s.id))
}

/// Makes `to` responsible for the given customers of the manager's store,
/// with a log entry each: work handed to someone comes with the customer
/// it is about. Store managers only.
pub async fn hand_over<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    customer_ids: &[Uuid],
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    actor.require(&[Role::StoreManager])?;
    let store = actor.own_store()?;
    let mut moved = 0;
    for chunk in customer_ids.chunks(500) {
        moved += customer::Entity::update_many()
            .col_expr(customer::Column::ResponsibleStaffId, Expr::value(to))
            .col_expr(customer::Column::UpdatedAt, Expr::value(now))
            .filter(customer::Column::Id.is_in(chunk.iter().copied()))
            .filter(customer::Column::StoreId.eq(store))
            .exec(db)
            .await?
            .rows_affected;
        for id in chunk {
            log::append(
                db,
                LogEvent {
                    store_id: store,
                    customer_id: *id,
                    kind: LogKind::Assigned,
                    channel: Channel::System,
                    staff_id: Some(actor.staff_id),
                    summary: "Customer handed over with their follow-up work".into(),
                    outcome: None,
                    subject: Some(("Staff", to)),
                    occurred_at: now,
                },
                now,
            )
            .await?;
        }
    }
    Ok(moved)
}

/// The vehicles the actor may see: those of customers the actor may see.
pub fn vehicle_visible(actor: &Actor) -> Condition {
    Condition::all().add(vehicle::Column::OwnerId.in_subquery(visible_ids(actor)))
}

/// A vehicle by id; `None` when missing or not visible.
pub async fn find_vehicle<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<vehicle::Model>> {
    Ok(vehicle::Entity::find_by_id(id)
        .filter(vehicle_visible(actor))
        .one(db)
        .await?)
}
