//! The customer log: an append-only timeline every domain writes to.
use chrono::{DateTime, Utc};
use entity::customer_log;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::rules::{Channel, LogKind};
use crate::{
    error::ApiResult,
    paging::{self, Cursor, Keys, Page, PageArgs},
};

/// One event to add to a customer's timeline.
pub struct LogEvent {
    /// The store the entry belongs to (the customer's).
    pub store_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// What happened.
    pub kind: LogKind,
    /// How.
    pub channel: Channel,
    /// Who, if a person.
    pub staff_id: Option<Uuid>,
    /// What, in a sentence.
    pub summary: String,
    /// The result, if any.
    pub outcome: Option<String>,
    /// The record it is about: (type name, id).
    pub subject: Option<(&'static str, Uuid)>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Appends an entry (inside the caller's transaction).
pub async fn append<C: ConnectionTrait>(
    db: &C,
    e: LogEvent,
    now: DateTime<Utc>,
) -> ApiResult<customer_log::Model> {
    let model = customer_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(e.store_id),
        customer_id: Set(e.customer_id),
        kind: Set(e.kind.as_str().to_string()),
        channel: Set(e.channel.as_str().to_string()),
        staff_id: Set(e.staff_id),
        summary: Set(e.summary),
        outcome: Set(e.outcome),
        subject_type: Set(e.subject.map(|s| s.0.to_string())),
        subject_id: Set(e.subject.map(|s| s.1)),
        occurred_at: Set(e.occurred_at),
        created_at: Set(now),
    };
    Ok(customer_log::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// A page of a customer's timeline, newest first. The caller has already
/// checked that the actor may see the customer.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<customer_log::Model>> {
    let select =
        customer_log::Entity::find().filter(customer_log::Column::CustomerId.eq(customer_id));
    paging::fetch(
        db,
        select,
        Keys {
            at: Some(customer_log::Column::OccurredAt),
            id: customer_log::Column::Id,
        },
        args,
        |m| Cursor {
            at: Some(m.occurred_at),
            id: m.id,
        },
        want_total,
    )
    .await
}

/// The latest contact with each customer (for "last contact" on lists).
pub async fn latest_for<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> ApiResult<Option<customer_log::Model>> {
    use sea_orm::QueryOrder;
    Ok(customer_log::Entity::find()
        .filter(customer_log::Column::CustomerId.eq(customer_id))
        .order_by_desc(customer_log::Column::OccurredAt)
        .order_by_desc(customer_log::Column::Id)
        .one(db)
        .await?)
}
