//! The customer log: an append-only timeline every domain writes to.
use chrono::{DateTime, Utc};
use entity::{customer_log, staff};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::rules::{Channel, LogKind};
use crate::{
    auth::Actor,
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
    paging::fetch(db, of(customer_id), TIMELINE, args, cursor, want_total).await
}

/// A customer's entries.
fn of(customer_id: Uuid) -> sea_orm::Select<customer_log::Entity> {
    customer_log::Entity::find().filter(customer_log::Column::CustomerId.eq(customer_id))
}

/// The log's order: newest first.
const TIMELINE: Keys<customer_log::Column> = Keys {
    at: Some(customer_log::Column::OccurredAt),
    id: customer_log::Column::Id,
};

fn cursor(m: &customer_log::Model) -> Cursor {
    Cursor {
        at: Some(m.occurred_at),
        id: m.id,
    }
}

/// `page`, each entry with its author in the same statement (scoped as
/// the staff loader scopes them: `org::store::named_staff`).
pub async fn page_with_staff<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    customer_id: Uuid,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<(customer_log::Model, Option<staff::Model>)>> {
    use sea_orm::{JoinType, QuerySelect};
    let scope = actor.clone();
    let author = customer_log::Entity::belongs_to(staff::Entity)
        .from(customer_log::Column::StaffId)
        .to(staff::Column::Id)
        .on_condition(move |_, _| crate::org::store::named_staff(&scope));
    paging::fetch_with(
        db,
        of(customer_id),
        TIMELINE,
        args,
        |(m, _): &(customer_log::Model, Option<staff::Model>)| cursor(m),
        want_total,
        |q| async move {
            // An entry has one author at most: its "group" is that author.
            let rows = crate::rows::all_grouped(
                db,
                q.join(JoinType::LeftJoin, author.into())
                    .select_also(staff::Entity),
            )
            .await?;
            Ok(rows.into_iter().map(|(e, mut by)| (e, by.pop())).collect())
        },
    )
    .await
}

/// Kinds that record keeping rather than contact with the customer.
const NOT_CONTACT: &str =
    "'CREATED','UPDATED','ASSIGNED','MERGED','MILEAGE','VEHICLE_ADDED','VEHICLE_TRANSFERRED'";

/// The latest contact with each of many customers, in one query (a window
/// function, the same SQL on SQLite and PostgreSQL).
pub async fn latest_of<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, customer_log::Model>> {
    use sea_orm::{DbBackend, Statement};
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let backend = db.get_database_backend();
    let marks: Vec<String> = (1..=ids.len())
        .map(|i| {
            if backend == DbBackend::Postgres {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        })
        .collect();
    let sql = format!(
        "SELECT id, store_id, customer_id, kind, channel, staff_id, summary, outcome, subject_type, subject_id, occurred_at, created_at \
         FROM (SELECT customer_log.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY occurred_at DESC, id DESC) AS rn \
         FROM customer_log WHERE customer_id IN ({}) AND kind NOT IN ({NOT_CONTACT})) ranked WHERE rn = 1",
        marks.join(", ")
    );
    let values: Vec<sea_orm::Value> = ids.iter().map(|u| (*u).into()).collect();
    let rows = customer_log::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.customer_id, r)).collect())
}
