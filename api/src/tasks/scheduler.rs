//! The scheduler: marks tasks overdue, escalates, reminds, and delivers the
//! outbox. Each step claims rows with one conditional UPDATE … RETURNING
//! (rows locked with SKIP LOCKED on PostgreSQL) and writes the messages it
//! causes in the same transaction, so with any number of workers each task
//! fires exactly once and a crash mid-batch loses nothing: the transaction
//! rolls back and the next tick takes the rows again.
use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::{notification, staff, store, task, task_reminder};
use futures_util::StreamExt;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{
    events::{self, TaskChange},
    outbox::{self, NewNotification, Outcome, Pick, Provider, Take},
    rules::{self, NotificationChannel, NotificationStatus, TaskStatus},
};
use crate::{
    auth::Role,
    clock::Clock,
    customers::directory as customers,
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

/// One batch of a step: rows taken, and how many of them led to work (a
/// reminder of a task closed meanwhile is taken but dropped).
struct Step {
    claimed: u64,
    done: u64,
}

/// A scheduler over one database.
#[derive(Clone)]
pub struct Scheduler {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    provider: Arc<dyn Provider>,
    batch: u64,
    lanes: usize,
    lease: Duration,
}

impl Scheduler {
    /// The scheduler of a running app, tuned by its configuration.
    pub fn for_app(st: &AppState) -> Self {
        let c = &st.config;
        Scheduler {
            db: st.db.clone(),
            clock: st.clock.clone(),
            provider: st.provider.clone(),
            batch: c.scheduler_batch.clamp(1, 10_000),
            lanes: usize::try_from(c.scheduler_lanes).unwrap_or(1).clamp(1, 32),
            lease: Duration::seconds(i64::try_from(c.notification_lease_secs).unwrap_or(60)),
        }
    }

    /// Runs every step once, each until it has nothing left (bounded).
    pub async fn tick(&self) -> ApiResult<TickReport> {
        let mut r = TickReport {
            overdue: self.mark_overdue().await?,
            ..Default::default()
        };
        r.escalated = self.escalate().await?;
        r.reminded = self.remind().await?;
        let d = self.dispatch(1000).await?;
        Ok(TickReport {
            sent: d.sent,
            retried: d.retried,
            dead: d.dead,
            deferred: d.deferred,
            ..r
        })
    }

    /// Marks every task past due overdue, notifying as the rules say.
    pub async fn mark_overdue(&self) -> ApiResult<u64> {
        self.lanes(|| self.overdue_batch()).await
    }

    /// Sends every reminder that is due.
    pub async fn remind(&self) -> ApiResult<u64> {
        self.lanes(|| self.remind_batch()).await
    }

    /// Runs `step` in several concurrent lanes on PostgreSQL, where SKIP
    /// LOCKED gives each lane different rows; SQLite has one writer, so one
    /// lane.
    async fn lanes<F, Fut>(&self, step: F) -> ApiResult<u64>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ApiResult<Step>>,
    {
        let lanes = if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.lanes
        } else {
            1
        };
        let done = futures_util::future::join_all((0..lanes).map(|_| self.drain(&step))).await;
        done.into_iter().try_fold(0, |sum, n| Ok(sum + n?))
    }

    /// Delivers due messages, at most `max_batches` batches of them.
    pub async fn dispatch(&self, max_batches: u32) -> ApiResult<TickReport> {
        let mut r = TickReport::default();
        for _ in 0..max_batches {
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

    /// Runs `step` until a batch comes back short (bounded).
    async fn drain<F, Fut>(&self, step: F) -> ApiResult<u64>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ApiResult<Step>>,
    {
        let mut total = 0;
        for _ in 0..100_000 {
            let n = step().await?;
            total += n.done;
            if n.claimed < self.batch {
                break;
            }
        }
        Ok(total)
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

    /// One claim step: flips up to a batch of tasks with `set` where `cond`
    /// holds, words the messages each one causes, and queues them in the
    /// same transaction.
    async fn claim_tasks(
        &self,
        set: &str,
        cond: &str,
        order: &str,
        change: TaskChange,
        messages: impl Fn(
            &Context,
            &task::Model,
            &serde_json::Value,
            DateTime<Utc>,
        ) -> Vec<NewNotification>,
    ) -> ApiResult<Step> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let rows = outbox::take_returning(
            &txn,
            task::Entity,
            Take::Update(set),
            Pick {
                key: "id",
                cond,
                order,
                limit: self.batch,
            },
            vec![now.into()],
        )
        .await?;
        let ctx = Context::load(&txn, &rows).await?;
        let out = rows
            .iter()
            .flat_map(|t| messages(&ctx, t, &ctx.vars(t), now))
            .collect();
        outbox::enqueue_many(&txn, out, now).await?;
        txn.commit().await?;
        events::publish_all(&rows, change);
        let n = rows.len() as u64;
        Ok(Step {
            claimed: n,
            done: n,
        })
    }

    async fn overdue_batch(&self) -> ApiResult<Step> {
        self.claim_tasks(
            "status = 'OVERDUE', escalation_level = CASE WHEN max_escalation_level > 0 THEN 1 ELSE 0 END, \
             escalated_at = $1, updated_at = $1",
            "status = 'OPEN' AND due_at < $1",
            "due_at",
            TaskChange::Overdue,
            |ctx, t, vars, now| {
                let managers = if t.escalation_level >= 1 { ctx.store_managers(t.store_id) } else { Vec::new() };
                let to_managers = managers
                    .into_iter()
                    .map(|m| ctx.in_app(t, m, "task_overdue_manager", vars, format!("overdue:{}:{m}", t.id), now));
                let to_workers = ctx
                    .workers(t)
                    .into_iter()
                    .map(|s| ctx.in_app(t, s, "task_overdue_assignee", vars, format!("overdue-self:{}:{s}", t.id), now));
                to_managers.chain(to_workers).collect()
            },
        )
        .await
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
            let hours = t
                .escalation_wait_hours
                .unwrap_or(ctx.settings(t.store_id).task_escalation_hours);
            let wait = Duration::hours(hours as i64);
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
            let vars = ctx.network_vars(&t);
            for s in ctx.network_targets(&t) {
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

    /// Takes a batch of due reminders off the queue and, for those whose
    /// task is still open, queues a message to whoever should act. A
    /// reminder of a task closed meanwhile is simply dropped.
    async fn remind_batch(&self) -> ApiResult<Step> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let due = outbox::take_returning(
            &txn,
            task_reminder::Entity,
            Take::Delete,
            Pick {
                key: "task_id",
                cond: "remind_at <= $1",
                order: "remind_at",
                limit: self.batch,
            },
            vec![now.into()],
        )
        .await?;
        let mut tasks = Vec::with_capacity(due.len());
        for ids in due.chunks(1000) {
            tasks.extend(
                task::Entity::find()
                    .filter(task::Column::Id.is_in(ids.iter().map(|r| r.task_id)))
                    .filter(task::Column::Status.eq(TaskStatus::Open.as_str()))
                    .all(&txn)
                    .await?,
            );
        }
        let ctx = Context::load(&txn, &tasks).await?;
        let out = tasks
            .iter()
            .flat_map(|t| {
                let vars = ctx.vars(t);
                ctx.workers(t)
                    .into_iter()
                    .map(|s| {
                        ctx.in_app(
                            t,
                            s,
                            "task_reminder",
                            &vars,
                            format!("remind:{}:{s}", t.id),
                            now,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        outbox::enqueue_many(&txn, out, now).await?;
        txn.commit().await?;
        events::publish_all(&tasks, TaskChange::Reminded);
        Ok(Step {
            claimed: due.len() as u64,
            done: tasks.len() as u64,
        })
    }

    async fn dispatch_batch(&self) -> ApiResult<(u64, TickReport)> {
        let now = self.clock.now();
        let claimed = outbox::claim(&self.db, now, self.batch, self.lease).await?;
        let mut r = TickReport::default();
        if claimed.is_empty() {
            return Ok((0, r));
        }
        let stores =
            org::system_stores(&self.db, &distinct(claimed.iter().map(|n| n.store_id))).await?;
        let settings: HashMap<Uuid, (StoreSettings, chrono_tz::Tz)> = stores
            .iter()
            .map(|(id, s)| {
                (
                    *id,
                    (
                        StoreSettings::from_json(&s.settings),
                        rules::zone(&s.time_zone),
                    ),
                )
            })
            .collect();
        let fallback = (StoreSettings::default(), rules::zone(""));
        // Deliveries overlap (providers are network calls); their outcomes
        // are recorded together in one transaction. A crash before it
        // commits leaves the leases to expire: the messages are claimed
        // again and the idempotent provider does not deliver them twice.
        let jobs: Vec<_> = claimed
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, n)| {
                let (s, tz) = settings.get(&n.store_id).unwrap_or(&fallback);
                let quiet = quiet_for(&n, s, *tz, now);
                let (provider, db) = (self.provider.clone(), self.db.clone());
                async move {
                    let outcome = match quiet {
                        Some(until) => Outcome::Deferred(until),
                        None => match provider.deliver(&db, &n, &outbox::body_of(&n)).await {
                            Ok(()) => Outcome::Sent,
                            Err(e) => Outcome::Failed(e),
                        },
                    };
                    (i, outcome)
                }
            })
            .collect();
        let outcomes: Vec<(usize, Outcome)> = futures_util::stream::iter(jobs)
            .buffer_unordered(16)
            .collect()
            .await;
        let txn = self.db.begin().await?;
        for (i, outcome) in outcomes {
            let n = &claimed[i];
            let max = settings
                .get(&n.store_id)
                .unwrap_or(&fallback)
                .0
                .notification_max_attempts;
            let deferred = matches!(outcome, Outcome::Deferred(_));
            match outbox::finish(&txn, n, outcome, max, now).await? {
                NotificationStatus::Sent => r.sent += 1,
                NotificationStatus::Dead => r.dead += 1,
                _ if deferred => r.deferred += 1,
                _ => r.retried += 1,
            }
        }
        txn.commit().await?;
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
        let stores = org::system_stores(db, &distinct(tasks.iter().map(|t| t.store_id))).await?;
        let customers =
            customers::system_by_ids(db, &distinct(tasks.iter().map(|t| t.customer_id))).await?;
        let list: Vec<store::Model> = stores.values().cloned().collect();
        let staff = org::staff_around(db, &list).await?;
        let names = staff.iter().map(|s| (s.id, s.name.clone())).collect();
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
                .map(|r| format!("{}队列", r.label_zh()))
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

    /// Variables for staff beyond the store (group, OEM), who may not see
    /// the customer: the task's kind instead of its title, and no customer.
    fn network_vars(&self, t: &task::Model) -> serde_json::Value {
        let mut vars = self.vars(t);
        if let Some(map) = vars.as_object_mut() {
            let kind = rules::TaskKind::parse(&t.kind).unwrap_or(rules::TaskKind::Custom);
            map.insert("title".into(), kind.label_zh().into());
            map.remove("customer");
            map.remove("assignee");
        }
        vars
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
    /// Who hears of a task climbing beyond the store: the dealer group's
    /// managers, or the OEM's staff for a store outside a group. Complaints
    /// go to the OEM in any case (DOMAIN.md: store manager, then OEM).
    fn network_targets(&self, t: &task::Model) -> Vec<Uuid> {
        let Some(s) = self.stores.get(&t.store_id) else {
            return Vec::new();
        };
        let to_oem = t.kind == rules::TaskKind::ComplaintResponse.as_str();
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
        if !group.is_empty() && !to_oem {
            return group;
        }
        let oem = self
            .staff
            .iter()
            .filter(|x| x.oem_id == s.oem_id && x.role == Role::OemStaff.as_str())
            .map(|x| x.id);
        group.iter().copied().chain(oem).collect()
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
        NewNotification::in_app(t.store_id, to, template, vars.clone(), Some(t.id), key, now)
    }
}

fn distinct(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}
