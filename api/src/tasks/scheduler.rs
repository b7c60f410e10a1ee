//! The scheduler: marks tasks overdue, escalates, reminds, and delivers the
//! outbox. Each step claims rows with one conditional UPDATE … RETURNING
//! (rows locked with SKIP LOCKED on PostgreSQL) and writes the messages it
//! causes in the same transaction, so with any number of workers each task
//! fires exactly once and a crash mid-batch loses nothing: the transaction
//! rolls back and the next tick takes the rows again.
use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::{notification, staff, store, task};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{
    events::{self, TaskChange},
    outbox::{self, NewNotification, Outcome, Provider},
    rules::{self, NotificationCategory, NotificationChannel, NotificationStatus},
};
use crate::{
    auth::Role,
    clock::Clock,
    customers::store as customers,
    error::ApiResult,
    org::{rules::StoreSettings, store as org},
    AppState,
};

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Tasks newly overdue.
    pub overdue: u64,
    /// Tasks escalated a level further.
    pub escalated: u64,
    /// Tasks whose reminder went out.
    pub reminded: u64,
    /// Messages delivered.
    pub sent: u64,
    /// Messages that failed and will be retried.
    pub retried: u64,
    /// Messages that failed for good.
    pub dead: u64,
    /// Messages held back by quiet hours.
    pub deferred: u64,
}

/// A scheduler over one database.
#[derive(Clone)]
pub struct Scheduler {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    provider: Arc<dyn Provider>,
    batch: u64,
}

impl Scheduler {
    /// A scheduler working in batches of `batch` rows.
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        provider: Arc<dyn Provider>,
        batch: u64,
    ) -> Self {
        Scheduler {
            db,
            clock,
            provider,
            batch: batch.clamp(1, 10_000),
        }
    }

    /// The scheduler of a running app.
    pub fn for_app(st: &AppState) -> Self {
        Scheduler::new(
            st.db.clone(),
            st.clock.clone(),
            st.provider.clone(),
            st.config.scheduler_batch,
        )
    }

    /// Runs every step once, each until it has nothing left (bounded).
    pub async fn tick(&self) -> ApiResult<TickReport> {
        let mut r = TickReport::default();
        for _ in 0..1000 {
            let n = self.overdue_batch().await?;
            r.overdue += n;
            if n < self.batch {
                break;
            }
        }
        r.escalated += self.escalate().await?;
        for _ in 0..1000 {
            let n = self.remind_batch().await?;
            r.reminded += n;
            if n < self.batch {
                break;
            }
        }
        for _ in 0..1000 {
            let (claimed, d) = self.dispatch_batch().await?;
            r.sent += d.sent;
            r.retried += d.retried;
            r.dead += d.dead;
            r.deferred += d.deferred;
            if claimed < self.batch {
                break;
            }
        }
        Ok(r)
    }

    /// Ticks every `interval` until the process ends; errors are logged and
    /// the next tick tries again.
    pub async fn run(self, interval: StdDuration) {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            match self.tick().await {
                Ok(r) if r != TickReport::default() => tracing::info!(?r, "scheduler tick"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = ?e, "scheduler tick failed"),
            }
        }
    }

    async fn overdue_batch(&self) -> ApiResult<u64> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let rows = outbox::update_returning(
            &txn,
            task::Entity,
            "status = 'OVERDUE', escalation_level = CASE WHEN max_escalation_level > 0 THEN 1 ELSE 0 END, escalated_at = $1, updated_at = $1",
            "status = 'OPEN' AND due_at < $1",
            "due_at, id",
            self.batch,
            vec![now.into()],
        )
        .await?;
        let ctx = Context::load(&txn, &rows).await?;
        let mut out = Vec::new();
        for t in &rows {
            let vars = ctx.vars(t);
            if t.escalation_level >= 1 {
                for m in ctx.store_managers(t.store_id) {
                    out.push(ctx.in_app(
                        t,
                        m,
                        "task_overdue_manager",
                        &vars,
                        format!("overdue:{}:{}", t.id, m),
                        now,
                    ));
                }
            }
            for s in ctx.workers(t) {
                out.push(ctx.in_app(
                    t,
                    s,
                    "task_overdue_assignee",
                    &vars,
                    format!("overdue-self:{}:{}", t.id, s),
                    now,
                ));
            }
        }
        outbox::enqueue_many(&txn, out, now).await?;
        txn.commit().await?;
        events::publish_all(&rows, TaskChange::Overdue);
        Ok(rows.len() as u64)
    }

    async fn escalate(&self) -> ApiResult<u64> {
        let now = self.clock.now();
        let candidates = task::Entity::find()
            .filter(task::Column::Status.eq("OVERDUE"))
            .filter(task::Column::EscalationLevel.gte(1))
            .filter(
                Expr::col(task::Column::EscalationLevel)
                    .lt(Expr::col(task::Column::MaxEscalationLevel)),
            )
            .filter(task::Column::EscalatedAt.lte(now - Duration::hours(1)))
            .limit(self.batch)
            .all(&self.db)
            .await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let txn = self.db.begin().await?;
        let ctx = Context::load(&txn, &candidates).await?;
        let (mut out, mut done) = (Vec::new(), Vec::new());
        for t in candidates {
            let wait = Duration::hours(ctx.settings(t.store_id).task_escalation_hours as i64);
            if t.escalated_at.is_some_and(|at| at + wait > now) {
                continue;
            }
            let moved = task::Entity::update_many()
                .col_expr(
                    task::Column::EscalationLevel,
                    Expr::value(t.escalation_level + 1),
                )
                .col_expr(task::Column::EscalatedAt, Expr::value(now))
                .col_expr(task::Column::UpdatedAt, Expr::value(now))
                .filter(task::Column::Id.eq(t.id))
                .filter(task::Column::Status.eq("OVERDUE"))
                .filter(task::Column::EscalationLevel.eq(t.escalation_level))
                .exec(&txn)
                .await?;
            if moved.rows_affected != 1 {
                continue;
            }
            let level = t.escalation_level + 1;
            let vars = ctx.vars(&t);
            for s in ctx.network_targets(t.store_id) {
                out.push(ctx.in_app(
                    &t,
                    s,
                    "task_escalated",
                    &vars,
                    format!("escalated:{}:{level}:{s}", t.id),
                    now,
                ));
            }
            done.push(t);
        }
        outbox::enqueue_many(&txn, out, now).await?;
        txn.commit().await?;
        events::publish_all(&done, TaskChange::Escalated);
        Ok(done.len() as u64)
    }

    async fn remind_batch(&self) -> ApiResult<u64> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let rows = outbox::update_returning(
            &txn,
            task::Entity,
            "reminded_at = $1, updated_at = $1",
            "status = 'OPEN' AND reminded_at IS NULL AND remind_at <= $1",
            "remind_at, id",
            self.batch,
            vec![now.into()],
        )
        .await?;
        let ctx = Context::load(&txn, &rows).await?;
        let mut out = Vec::new();
        for t in &rows {
            let vars = ctx.vars(t);
            for s in ctx.workers(t) {
                out.push(ctx.in_app(
                    t,
                    s,
                    "task_reminder",
                    &vars,
                    format!("remind:{}:{}", t.id, s),
                    now,
                ));
            }
        }
        outbox::enqueue_many(&txn, out, now).await?;
        txn.commit().await?;
        events::publish_all(&rows, TaskChange::Reminded);
        Ok(rows.len() as u64)
    }

    async fn dispatch_batch(&self) -> ApiResult<(u64, TickReport)> {
        let now = self.clock.now();
        let claimed = outbox::claim(&self.db, now, self.batch).await?;
        let mut r = TickReport::default();
        if claimed.is_empty() {
            return Ok((0, r));
        }
        let store_ids: Vec<Uuid> = claimed.iter().map(|n| n.store_id).collect();
        let stores = org::system_stores(&self.db, &store_ids).await?;
        for n in &claimed {
            let store = stores.get(&n.store_id);
            let settings = store
                .map(|s| StoreSettings::from_json(&s.settings))
                .unwrap_or_default();
            let tz = rules::zone(store.map(|s| s.time_zone.as_str()).unwrap_or(""));
            let outcome = match quiet_for(n, &settings, tz, now) {
                Some(until) => Outcome::Deferred(until),
                None => match self
                    .provider
                    .deliver(&self.db, n, &outbox::body_of(n))
                    .await
                {
                    Ok(()) => Outcome::Sent,
                    Err(e) => Outcome::Failed(e),
                },
            };
            let deferred = matches!(outcome, Outcome::Deferred(_));
            match outbox::finish(
                &self.db,
                n,
                outcome,
                settings.notification_max_attempts,
                now,
            )
            .await?
            {
                NotificationStatus::Sent => r.sent += 1,
                NotificationStatus::Dead => r.dead += 1,
                _ if deferred => r.deferred += 1,
                _ => r.retried += 1,
            }
        }
        Ok((claimed.len() as u64, r))
    }
}

/// Customer-facing SMS and WeChat wait for the end of the store's quiet hours.
fn quiet_for(
    n: &notification::Model,
    s: &StoreSettings,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let channel = NotificationChannel::parse(&n.channel);
    let to_customer = n.recipient_customer_id.is_some();
    if to_customer
        && matches!(
            channel,
            Some(NotificationChannel::Sms | NotificationChannel::Wechat)
        )
    {
        rules::quiet_until(s, tz, now)
    } else {
        None
    }
}

/// Everything needed to word and route messages about a batch of tasks,
/// loaded in a few queries.
struct Context {
    stores: HashMap<Uuid, store::Model>,
    customers: HashMap<Uuid, entity::customer::Model>,
    staff: Vec<staff::Model>,
    names: HashMap<Uuid, String>,
}

impl Context {
    async fn load<C: sea_orm::ConnectionTrait>(
        db: &C,
        tasks: &[task::Model],
    ) -> ApiResult<Context> {
        if tasks.is_empty() {
            return Ok(Context {
                stores: HashMap::new(),
                customers: HashMap::new(),
                staff: Vec::new(),
                names: HashMap::new(),
            });
        }
        let store_ids: Vec<Uuid> = tasks.iter().map(|t| t.store_id).collect();
        let stores = org::system_stores(db, &store_ids).await?;
        let customer_ids: Vec<Uuid> = tasks.iter().map(|t| t.customer_id).collect();
        let customers = customers::system_by_ids(db, &customer_ids).await?;
        let list: Vec<store::Model> = stores.values().cloned().collect();
        let staff = org::staff_around(db, &list).await?;
        let assignees: Vec<Uuid> = tasks.iter().filter_map(|t| t.assignee_id).collect();
        let names = org::system_staff(db, &assignees)
            .await?
            .into_iter()
            .map(|(id, s)| (id, s.name))
            .collect();
        Ok(Context {
            stores,
            customers,
            staff,
            names,
        })
    }

    fn settings(&self, store: Uuid) -> StoreSettings {
        self.stores
            .get(&store)
            .map(|s| StoreSettings::from_json(&s.settings))
            .unwrap_or_default()
    }

    fn vars(&self, t: &task::Model) -> serde_json::Value {
        let store = self.stores.get(&t.store_id);
        let tz = rules::zone(store.map(|s| s.time_zone.as_str()).unwrap_or(""));
        let assignee = match (t.assignee_id, &t.assignee_role) {
            (Some(id), _) => self.names.get(&id).cloned().unwrap_or_default(),
            (None, Some(role)) => Role::parse(role)
                .map(|r| format!("{}队列", label_zh(r)))
                .unwrap_or_default(),
            _ => String::new(),
        };
        serde_json::json!({
            "title": t.title,
            "customer": self.customers.get(&t.customer_id).map(|c| c.name.clone()).unwrap_or_default(),
            "assignee": assignee,
            "due": t.due_at.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
            "store": store.map(|s| s.name.clone()).unwrap_or_default(),
        })
    }

    fn store_managers(&self, store: Uuid) -> Vec<Uuid> {
        self.staff
            .iter()
            .filter(|s| s.store_id == Some(store) && s.role == Role::StoreManager.as_str())
            .map(|s| s.id)
            .collect()
    }

    /// Whoever should act: the assignee, or everyone in the role queue.
    fn workers(&self, t: &task::Model) -> Vec<Uuid> {
        match (t.assignee_id, &t.assignee_role) {
            (Some(id), _) => vec![id],
            (None, Some(role)) => self
                .staff
                .iter()
                .filter(|s| s.store_id == Some(t.store_id) && &s.role == role)
                .map(|s| s.id)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Beyond the store: its dealer group's managers, or the OEM's staff.
    fn network_targets(&self, store: Uuid) -> Vec<Uuid> {
        let Some(s) = self.stores.get(&store) else {
            return Vec::new();
        };
        let group: Vec<Uuid> = self
            .staff
            .iter()
            .filter(|x| {
                s.group_id.is_some()
                    && x.group_id == s.group_id
                    && x.role == Role::GroupManager.as_str()
            })
            .map(|x| x.id)
            .collect();
        if !group.is_empty() {
            return group;
        }
        self.staff
            .iter()
            .filter(|x| x.oem_id == s.oem_id && x.role == Role::OemStaff.as_str())
            .map(|x| x.id)
            .collect()
    }

    fn in_app(
        &self,
        t: &task::Model,
        to: Uuid,
        template: &str,
        vars: &serde_json::Value,
        key: String,
        now: DateTime<Utc>,
    ) -> NewNotification {
        NewNotification {
            store_id: t.store_id,
            channel: NotificationChannel::InApp,
            category: NotificationCategory::Internal,
            template: template.to_string(),
            variables: vars.clone(),
            staff_id: Some(to),
            customer: None,
            task_id: Some(t.id),
            dedupe_key: key,
            not_before: now,
        }
    }
}

fn label_zh(r: Role) -> &'static str {
    Role::labels()
        .into_iter()
        .find(|l| l.value == r.as_str())
        .map(|l| l.zh_cn)
        .unwrap_or("")
}
