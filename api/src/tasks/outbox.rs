//! The notification outbox: rows written in the same transaction as the
//! event that causes them, claimed by the scheduler under a lease, handed to
//! a provider, retried with backoff and dead-lettered after the store's
//! maximum attempts. Delivery is idempotent per notification, so a worker
//! that dies after sending but before recording it never sends twice.
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Duration, Utc};
use entity::{customer, notification, notification_delivery};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    Statement, Value,
};
use uuid::Uuid;

use super::rules::{render, NotificationCategory, NotificationChannel, NotificationStatus};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{self as customer_rules, Channel, LogKind},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    paging::{self, Page, PageArgs},
};

/// A message to put in the outbox.
pub struct NewNotification {
    /// Store.
    pub store_id: Uuid,
    /// Channel.
    pub channel: NotificationChannel,
    /// Why it is sent.
    pub category: NotificationCategory,
    /// Template name (or the literal text).
    pub template: String,
    /// Template variables.
    pub variables: serde_json::Value,
    /// A staff recipient (in-app).
    pub staff_id: Option<Uuid>,
    /// A customer recipient.
    pub customer: Option<customer::Model>,
    /// The task it is about.
    pub task_id: Option<Uuid>,
    /// Unique per message: the same key is never enqueued twice.
    pub dedupe_key: String,
    /// Not before.
    pub not_before: DateTime<Utc>,
}

impl NewNotification {
    /// An in-app message to a staff member: internal, due at once, to no
    /// customer. `dedupe_key` makes a repeat of the same notice a no-op.
    pub fn in_app(
        store_id: Uuid,
        to: Uuid,
        template: &str,
        variables: serde_json::Value,
        task_id: Option<Uuid>,
        dedupe_key: String,
        now: DateTime<Utc>,
    ) -> Self {
        NewNotification {
            store_id,
            channel: NotificationChannel::InApp,
            category: NotificationCategory::Internal,
            template: template.to_string(),
            variables,
            staff_id: Some(to),
            customer: None,
            task_id,
            dedupe_key,
            not_before: now,
        }
    }
}

/// Puts a message in the outbox; a repeated dedupe key is ignored. Marketing
/// to a customer without marketing consent is recorded as SUPPRESSED and
/// never sent. Returns whether a row was written.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    n: NewNotification,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    Ok(enqueue_many(db, vec![n], now).await? > 0)
}

/// `enqueue` for many messages in one statement.
pub async fn enqueue_many<C: ConnectionTrait>(
    db: &C,
    items: Vec<NewNotification>,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    if items.is_empty() {
        return Ok(0);
    }
    let rows: Vec<notification::Model> = items
        .into_iter()
        .map(|n| {
            let suppressed = n.category == NotificationCategory::Marketing
                && n.customer.as_ref().is_some_and(|c| !c.marketing_consent);
            let address = match (n.channel, &n.customer) {
                (NotificationChannel::Sms | NotificationChannel::Wechat, Some(c)) => {
                    Some(c.mobile.clone())
                }
                _ => None,
            };
            let status = if suppressed {
                NotificationStatus::Suppressed
            } else {
                NotificationStatus::Pending
            };
            notification::Model {
                id: Uuid::now_v7(),
                store_id: n.store_id,
                channel: n.channel.as_str().into(),
                category: n.category.as_str().into(),
                template: n.template,
                variables: n.variables,
                recipient_staff_id: n.staff_id,
                recipient_customer_id: n.customer.map(|c| c.id),
                address,
                task_id: n.task_id,
                dedupe_key: n.dedupe_key,
                status: status.as_str().into(),
                attempts: 0,
                next_attempt_at: n.not_before,
                lease_until: None,
                last_error: None,
                sent_at: None,
                read_at: None,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    if db.get_database_backend() == DbBackend::Postgres {
        return insert_as_json(db, &rows).await;
    }
    let mut written = 0;
    // 250 rows × 20 columns stays under SQLite's bind limit.
    for chunk in rows.chunks(250) {
        let chunk = chunk.iter().cloned().map(notification::ActiveModel::from);
        written += notification::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(notification::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// PostgreSQL: thousands of new messages as one JSON parameter unpacked by
/// `json_to_recordset`, instead of a statement with 20 parameters per row
/// (which PostgreSQL parses and plans far more slowly).
async fn insert_as_json<C: ConnectionTrait>(
    db: &C,
    rows: &[notification::Model],
) -> ApiResult<u64> {
    const SQL: &str = "INSERT INTO notification (id, store_id, channel, category, template, variables, \
        recipient_staff_id, recipient_customer_id, address, task_id, dedupe_key, status, attempts, \
        next_attempt_at, created_at, updated_at) \
        SELECT id, store_id, channel, category, template, variables, recipient_staff_id, \
        recipient_customer_id, address, task_id, dedupe_key, status, 0, next_attempt_at, created_at, updated_at \
        FROM json_to_recordset($1::json) AS x(id uuid, store_id uuid, channel text, category text, \
        template text, variables json, recipient_staff_id uuid, recipient_customer_id uuid, address text, \
        task_id uuid, dedupe_key text, status text, next_attempt_at timestamptz, created_at timestamptz, \
        updated_at timestamptz) \
        ON CONFLICT (dedupe_key) DO NOTHING";
    let mut written = 0;
    for chunk in rows.chunks(5000) {
        let records: Vec<serde_json::Value> = chunk
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "store_id": r.store_id,
                    "channel": r.channel,
                    "category": r.category,
                    "template": r.template,
                    "variables": r.variables,
                    "recipient_staff_id": r.recipient_staff_id,
                    "recipient_customer_id": r.recipient_customer_id,
                    "address": r.address,
                    "task_id": r.task_id,
                    "dedupe_key": r.dedupe_key,
                    "status": r.status,
                    "next_attempt_at": r.next_attempt_at,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                })
            })
            .collect();
        let json = serde_json::Value::Array(records).to_string();
        written += db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                SQL,
                [Value::from(json)],
            ))
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// Which rows a claim takes: the first `limit` rows matching `cond` in
/// `order`, identified by `key`. `$1..$n` placeholders.
pub struct Pick<'a> {
    /// The key column.
    pub key: &'a str,
    /// SQL condition.
    pub cond: &'a str,
    /// SQL order (an indexed column, so that the claim walks the index).
    pub order: &'a str,
    /// At most this many rows.
    pub limit: u64,
}

/// What a claim does to the rows it takes.
pub enum Take<'a> {
    /// `UPDATE … SET` these assignments.
    Update(&'a str),
    /// Delete them (taking items off a queue).
    Delete,
}

/// Runs `UPDATE table SET .. | DELETE FROM table` `WHERE key IN (picked
/// rows) RETURNING *`. On PostgreSQL the picked rows are locked with SKIP
/// LOCKED, so concurrent workers each take different rows, each exactly
/// once; SQLite serialises writers, so the plain form is already exclusive.
pub async fn take_returning<C, E>(
    db: &C,
    entity: E,
    take: Take<'_>,
    pick: Pick<'_>,
    values: Vec<Value>,
) -> ApiResult<Vec<E::Model>>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let table = entity.table_name();
    let key = pick.key;
    let rows = first_rows(db, table, &pick);
    let sql = match take {
        Take::Update(set) => {
            format!("UPDATE {table} SET {set} WHERE {key} IN ({rows}) RETURNING *")
        }
        Take::Delete => format!("DELETE FROM {table} WHERE {key} IN ({rows}) RETURNING *"),
    };
    Ok(E::find()
        .from_raw_sql(statement(db.get_database_backend(), &sql, values))
        .all(db)
        .await?)
}

/// A raw statement written with PostgreSQL's `$n` placeholders (each used
/// once, in order), rewritten to `?` for SQLite.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The keys of the picked rows, locked on PostgreSQL (skipping rows another
/// worker holds).
fn first_rows<C: ConnectionTrait>(db: &C, table: &str, p: &Pick<'_>) -> String {
    let lock = if db.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    format!(
        "SELECT {} FROM {table} WHERE {} ORDER BY {} LIMIT {}{lock}",
        p.key, p.cond, p.order, p.limit
    )
}

/// Claims up to `limit` messages that are due, or whose worker's `lease`
/// ran out (it died mid-batch).
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
    lease: Duration,
) -> ApiResult<Vec<notification::Model>> {
    // Two claims, each walking ix_notification_due in order: one condition
    // with OR would make PostgreSQL sort every pending message per batch.
    let take = |cond: &'static str, order: &'static str, limit: u64| {
        take_returning(
            db,
            notification::Entity,
            Take::Update(
                "status = 'SENDING', lease_until = $2, attempts = attempts + 1, updated_at = $1",
            ),
            Pick {
                key: "id",
                cond,
                order,
                limit,
            },
            vec![now.into(), (now + lease).into()],
        )
    };
    let mut claimed = take(
        "status = 'SENDING' AND lease_until < $1",
        "lease_until",
        limit,
    )
    .await?;
    let left = limit.saturating_sub(claimed.len() as u64);
    if left > 0 {
        claimed.extend(
            take(
                "status = 'PENDING' AND next_attempt_at <= $1",
                "next_attempt_at",
                left,
            )
            .await?,
        );
    }
    Ok(claimed)
}

/// What became of one claimed message.
pub enum Outcome {
    /// Delivered.
    Sent,
    /// Failed; retry later, or give up after `max_attempts`.
    Failed(String),
    /// Not now (quiet hours): back to the queue without using an attempt.
    Deferred(DateTime<Utc>),
}

/// Records the outcome of a claimed message, only while the claim is still
/// this worker's (same attempt number, still SENDING).
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    n: &notification::Model,
    outcome: Outcome,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> ApiResult<NotificationStatus> {
    let mut q = notification::Entity::update_many()
        .col_expr(
            notification::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now));
    let status = match outcome {
        Outcome::Sent => {
            q = q.col_expr(notification::Column::SentAt, Expr::value(now));
            NotificationStatus::Sent
        }
        Outcome::Failed(err) => {
            q = q.col_expr(notification::Column::LastError, Expr::value(err));
            if n.attempts >= max_attempts {
                NotificationStatus::Dead
            } else {
                q = q.col_expr(
                    notification::Column::NextAttemptAt,
                    Expr::value(now + super::rules::backoff(n.attempts)),
                );
                NotificationStatus::Pending
            }
        }
        Outcome::Deferred(until) => {
            q = q
                .col_expr(notification::Column::NextAttemptAt, Expr::value(until))
                .col_expr(notification::Column::Attempts, Expr::value(n.attempts - 1));
            NotificationStatus::Pending
        }
    };
    q.col_expr(notification::Column::Status, Expr::value(status.as_str()))
        .filter(notification::Column::Id.eq(n.id))
        .filter(notification::Column::Status.eq(NotificationStatus::Sending.as_str()))
        .filter(notification::Column::Attempts.eq(n.attempts))
        .exec(db)
        .await?;
    Ok(status)
}

/// Sends messages somewhere: SMS gateway, mail server, WeChat.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Delivers one message. Must be idempotent per `n.id`.
    async fn deliver(
        &self,
        db: &sea_orm::DatabaseConnection,
        n: &notification::Model,
        body: &str,
    ) -> Result<(), String>;
}

/// The built-in provider: records each delivery in `notification_delivery`
/// (one row per notification, so a repeat is a no-op). WeChat templates need
/// an account this build does not have: they fail and end as dead letters,
/// visible to managers.
#[derive(Default)]
pub struct LocalProvider {
    /// Simulated network latency per message.
    pub delay: std::time::Duration,
}

#[async_trait::async_trait]
impl Provider for LocalProvider {
    async fn deliver(
        &self,
        db: &sea_orm::DatabaseConnection,
        n: &notification::Model,
        body: &str,
    ) -> Result<(), String> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let channel = NotificationChannel::parse(&n.channel);
        if channel == Some(NotificationChannel::Wechat) {
            return Err("WeChat template messages are not configured for this store".into());
        }
        if matches!(
            channel,
            Some(NotificationChannel::Sms | NotificationChannel::Email)
        ) && n.address.is_none()
        {
            return Err("the recipient has no address for this channel".into());
        }
        let row = notification_delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            notification_id: Set(n.id),
            channel: Set(n.channel.clone()),
            address: Set(n.address.clone()),
            body: Set(body.to_string()),
            delivered_at: Set(Utc::now()),
        };
        notification_delivery::Entity::insert(row)
            .on_conflict(
                OnConflict::column(notification_delivery::Column::NotificationId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::error!(error = %e, "recording a delivery failed");
                "could not record the delivery".to_string()
            })
    }
}

/// A merge: messages still waiting for the retired record go out as the
/// survivor's (same address, same text).
pub async fn follow_merge<C: ConnectionTrait>(
    db: &C,
    merged: Uuid,
    survivor: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    Ok(notification::Entity::update_many()
        .col_expr(
            notification::Column::RecipientCustomerId,
            Expr::value(survivor),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::RecipientCustomerId.eq(merged))
        .exec(db)
        .await?
        .rows_affected)
}

/// The text a message carries.
pub fn body_of(n: &notification::Model) -> String {
    render(&n.template, &n.variables)
}

/// Filters for the store's outbox.
#[derive(InputObject, Clone, Debug, Default)]
pub struct NotificationFilter {
    /// Only this status (DEAD for the dead-letter list).
    pub status: Option<NotificationStatus>,
    /// Only this channel.
    pub channel: Option<NotificationChannel>,
}

/// The messages themselves (texts to customers, names in staff notices)
/// are for the store manager of their store only; staff beyond the store
/// get counts (`summary`).
fn outbox_scope(actor: &Actor) -> ApiResult<Condition> {
    match actor.reach() {
        Reach::Store(s) if actor.role == Role::StoreManager => {
            Ok(Condition::all().add(notification::Column::StoreId.eq(s)))
        }
        _ => Err(ApiError::Forbidden),
    }
}

/// Message counts of one store by status.
#[derive(Clone, Debug, Default)]
pub struct OutboxCounts {
    /// The store.
    pub store_id: Uuid,
    /// Waiting to be sent.
    pub pending: u64,
    /// Claimed by a worker.
    pub sending: u64,
    /// Delivered.
    pub sent: u64,
    /// Failed for good (dead letters).
    pub dead: u64,
    /// Not sent for lack of consent.
    pub suppressed: u64,
    /// The oldest dead letter, if any.
    pub oldest_dead_at: Option<DateTime<Utc>>,
}

/// Counts per store and status for every store the actor oversees (store
/// manager: their store; group, OEM, admin: their network). No message
/// text, recipient or customer ever leaves through here.
pub async fn summary<C: ConnectionTrait>(db: &C, actor: &Actor) -> ApiResult<Vec<OutboxCounts>> {
    actor.require(&[
        Role::StoreManager,
        Role::GroupManager,
        Role::OemStaff,
        Role::Admin,
    ])?;
    let rows: Vec<(Uuid, String, i64, Option<DateTime<Utc>>)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::StoreId)
        .column(notification::Column::Status)
        .column_as(Expr::col(notification::Column::Id).count(), "n")
        .column_as(Expr::col(notification::Column::CreatedAt).min(), "oldest")
        .filter(notification::Column::StoreId.in_subquery(actor.store_ids_query()))
        .group_by(notification::Column::StoreId)
        .group_by(notification::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_store: std::collections::BTreeMap<Uuid, OutboxCounts> = Default::default();
    for (store_id, status, n, oldest) in rows {
        let c = by_store.entry(store_id).or_insert_with(|| OutboxCounts {
            store_id,
            ..Default::default()
        });
        let n = u64::try_from(n).unwrap_or(0);
        match NotificationStatus::parse(&status) {
            Some(NotificationStatus::Pending) => c.pending += n,
            Some(NotificationStatus::Sending) => c.sending += n,
            Some(NotificationStatus::Sent) => c.sent += n,
            Some(NotificationStatus::Dead) => {
                c.dead += n;
                c.oldest_dead_at = oldest;
            }
            Some(NotificationStatus::Suppressed) => c.suppressed += n,
            None => {}
        }
    }
    Ok(by_store.into_values().collect())
}

/// The outbox of the store the actor manages, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &NotificationFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<notification::Model>> {
    let mut q = notification::Entity::find().filter(outbox_scope(actor)?);
    if let Some(s) = f.status {
        q = q.filter(notification::Column::Status.eq(s.as_str()));
    }
    if let Some(c) = f.channel {
        q = q.filter(notification::Column::Channel.eq(c.as_str()));
    }
    paging::by_id(db, q, notification::Column::Id, args, want_total).await
}

/// The signed-in staff member's in-app messages that have been delivered.
pub async fn inbox<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    unread_only: bool,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<notification::Model>> {
    let mut q = notification::Entity::find()
        .filter(notification::Column::RecipientStaffId.eq(actor.staff_id))
        .filter(notification::Column::Channel.eq(NotificationChannel::InApp.as_str()))
        .filter(notification::Column::Status.eq(NotificationStatus::Sent.as_str()));
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    paging::by_id(db, q, notification::Column::Id, args, want_total).await
}

/// Marks the actor's own messages read; returns how many changed.
pub async fn mark_read<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[ID],
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let uuids = notification_ids(ids);
    let r = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::Id.is_in(uuids))
        .filter(notification::Column::RecipientStaffId.eq(actor.staff_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// The notifications named by global ids (others are ignored).
fn notification_ids(ids: &[ID]) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|i| ids::decode(i, NodeKind::Notification))
        .collect()
}

/// Puts dead letters of the manager's store back in the queue, to be sent
/// at once with a fresh count of attempts (the last error is kept until
/// the next attempt); returns how many were requeued. Messages that are
/// not dead are left alone.
pub async fn retry_dead<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[ID],
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let scope = outbox_scope(actor)?;
    let uuids = notification_ids(ids);
    let r = notification::Entity::update_many()
        .col_expr(
            notification::Column::Status,
            Expr::value(NotificationStatus::Pending.as_str()),
        )
        .col_expr(notification::Column::Attempts, Expr::value(0))
        .col_expr(notification::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            notification::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(scope)
        .filter(notification::Column::Id.is_in(uuids))
        .filter(notification::Column::Status.eq(NotificationStatus::Dead.as_str()))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// A message from the store to a customer.
#[derive(InputObject, Clone, Debug)]
pub struct SendCustomerMessageInput {
    /// The customer.
    pub customer_id: ID,
    /// SMS or WECHAT (to the customer's mobile).
    #[graphql(default_with = "NotificationChannel::Sms")]
    pub channel: NotificationChannel,
    /// SERVICE (appointments, reminders) or MARKETING (offers, events; only
    /// sent with the customer's marketing consent).
    pub category: NotificationCategory,
    /// The text (at most 500 characters).
    pub text: String,
    /// Send no earlier than this (default now); quiet hours still apply.
    pub send_at: Option<DateTime<Utc>>,
}

/// Queues a message to a customer and notes it in the customer log.
pub async fn send_to_customer<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SendCustomerMessageInput,
) -> ApiResult<notification::Model> {
    use sea_orm::TransactionSession;
    let id = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    let c = customers::find_writable(db, actor, id, "customerId").await?;
    if !matches!(
        input.channel,
        NotificationChannel::Sms | NotificationChannel::Wechat
    ) {
        return Err(ApiError::field(
            "channel",
            UserErrorCode::Invalid,
            "customers are reached by SMS or WeChat",
        ));
    }
    if input.category == NotificationCategory::Internal {
        return Err(ApiError::field(
            "category",
            UserErrorCode::Invalid,
            "choose SERVICE or MARKETING",
        ));
    }
    let text = customer_rules::text(&input.text, "text", 500)?;
    let key = format!("manual:{}", Uuid::now_v7());
    let txn = db.begin().await?;
    enqueue(
        &txn,
        NewNotification {
            store_id: c.store_id,
            channel: input.channel,
            category: input.category,
            template: text.clone(),
            variables: serde_json::json!({}),
            staff_id: None,
            customer: Some(c.clone()),
            task_id: None,
            dedupe_key: key.clone(),
            not_before: Ord::max(input.send_at.unwrap_or(now), now),
        },
        now,
    )
    .await?;
    log::append(
        &txn,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.id,
            kind: LogKind::Contact,
            channel: if input.channel == NotificationChannel::Wechat {
                Channel::Wechat
            } else {
                Channel::Sms
            },
            staff_id: Some(actor.staff_id),
            summary: text,
            outcome: None,
            subject: None,
            occurred_at: now,
        },
        now,
    )
    .await?;
    let row = notification::Entity::find()
        .filter(notification::Column::DedupeKey.eq(key))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    Ok(row)
}
