//! Tasks, "my day", notifications and live task events over GraphQL.
use async_graphql::{Context, Object, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use entity::{notification, task};
use futures_util::{Stream, StreamExt};

use super::{
    events::{self, TaskChange, TaskEvent},
    outbox::{self, NotificationFilter, SendCustomerMessageInput},
    rules::{NotificationCategory, NotificationChannel, NotificationStatus, TaskKind, TaskStatus},
    store::{
        self as tasks, AnswerHandoverRequestInput, CancelTaskInput, CompleteTaskInput,
        CreateTaskInput, ReassignTaskInput, ReassignTasksInput, RequestCustomerHandoverInput,
        TaskFilter,
    },
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::graphql::{Customer, CustomerLogEntry, Vehicle},
    error::{into_payload, UserError},
    graphql::{
        connection::{page_args, to_connection, wants_total, Conn},
        context::{payload, CtxExt},
        loaders::{load_one, CustomerKey, LastContactOf, StaffKey, StoreKey, VehicleKey},
    },
    ids::{self, NodeKind},
    org::graphql::{Staff, Store},
};

/// A dated piece of follow-up work.
pub struct Task(pub task::Model);

/// Shown instead of a task's free text to staff who may not see its
/// customer (beyond the consent line): staff may have typed the customer's
/// name or story into it.
const HIDDEN: &str = "Hidden: the customer has not consented to sharing";

impl Task {
    /// Whether the actor may see the task's customer, and so the texts
    /// written about them. Store staff other than consultants see every
    /// customer of their store; everyone else is asked through the scoped
    /// (batched, cached) customer loader.
    async fn shows_customer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let actor = ctx.actor()?;
        if actor.role != Role::SalesConsultant
            && matches!(actor.reach(), Reach::Store(s) if s == self.0.store_id)
        {
            return Ok(true);
        }
        Ok(load_one(ctx.loader()?, CustomerKey(self.0.customer_id))
            .await?
            .is_some())
    }

    /// `text` when the actor may see the customer, otherwise `hidden`.
    async fn guarded<'a>(
        &'a self,
        ctx: &Context<'_>,
        text: &'a str,
        hidden: &'a str,
    ) -> async_graphql::Result<&'a str> {
        Ok(if self.shows_customer(ctx).await? {
            text
        } else {
            hidden
        })
    }
}

#[Object]
impl Task {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Task, self.0.id)
    }
    /// Kind of work.
    async fn kind(&self) -> TaskKind {
        TaskKind::parse(&self.0.kind).unwrap_or(TaskKind::Custom)
    }
    /// Short title. Staff who may not see the customer get the kind's name.
    async fn title(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let kind = TaskKind::parse(&self.0.kind).unwrap_or(TaskKind::Custom);
        let label = kind.label_zh();
        Ok(self.guarded(ctx, &self.0.title, label).await?.to_string())
    }
    /// Why the task exists (hidden from staff who may not see the customer).
    async fn reason(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        self.guarded(ctx, &self.0.reason, HIDDEN).await
    }
    /// Where it stands.
    async fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.0.status).unwrap_or(TaskStatus::Open)
    }
    /// Not before.
    async fn earliest_at(&self) -> DateTime<Utc> {
        self.0.earliest_at
    }
    /// Due.
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }
    /// Too late after.
    async fn latest_at(&self) -> DateTime<Utc> {
        self.0.latest_at
    }
    /// What came of it (hidden from staff who may not see the customer).
    async fn outcome(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        match self.0.outcome.as_deref() {
            Some(o) => Ok(Some(self.guarded(ctx, o, HIDDEN).await?)),
            None => Ok(None),
        }
    }
    /// The store rule that created it (null for hand-made tasks).
    async fn rule(&self) -> Option<&str> {
        self.0.rule.as_deref()
    }
    /// How far it has been escalated (0 none, 1 store manager, 2 group/OEM).
    async fn escalation_level(&self) -> i32 {
        self.0.escalation_level
    }
    /// The customer (null if you may not see them).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }
    /// The vehicle it is about.
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        match self.0.vehicle_id {
            Some(id) => Ok(load_one(ctx.loader()?, VehicleKey(id)).await?.map(Vehicle)),
            None => Ok(None),
        }
    }
    /// The last contact with the customer, to pick up where it left off
    /// (null when you may not see the customer).
    async fn last_contact(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<CustomerLogEntry>> {
        // The loader is scoped: a customer you may not see has no last contact.
        Ok(ctx
            .loader()?
            .load_one(LastContactOf(self.0.customer_id))
            .await?
            .map(CustomerLogEntry))
    }
    /// The person doing it.
    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        match self.0.assignee_id {
            Some(id) => Ok(ctx.loader()?.load_one(StaffKey(id)).await?.map(Staff)),
            None => Ok(None),
        }
    }
    /// The role queue it waits in, when no one person has it.
    async fn queue(&self) -> Option<Role> {
        match self.0.assignee_id {
            Some(_) => None,
            None => self.0.assignee_role.as_deref().and_then(Role::parse),
        }
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was completed.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
}

/// What a phone or tablet shows on start.
pub struct MyDay(tasks::MyDay);

#[Object]
impl MyDay {
    /// Past due, oldest first.
    async fn overdue(&self) -> Vec<Task> {
        self.0.overdue.iter().cloned().map(Task).collect()
    }
    /// Due before the end of today (store time).
    async fn due_today(&self) -> Vec<Task> {
        self.0.due_today.iter().cloned().map(Task).collect()
    }
    /// Due in the coming days.
    async fn upcoming(&self) -> Vec<Task> {
        self.0.upcoming.iter().cloned().map(Task).collect()
    }
}

/// A message in the outbox or in-app inbox.
pub struct Notification(pub notification::Model);

#[Object]
impl Notification {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Notification, self.0.id)
    }
    /// Channel.
    async fn channel(&self) -> Option<NotificationChannel> {
        NotificationChannel::parse(&self.0.channel)
    }
    /// Why it is sent.
    async fn category(&self) -> Option<NotificationCategory> {
        NotificationCategory::parse(&self.0.category)
    }
    /// Where it stands.
    async fn status(&self) -> Option<NotificationStatus> {
        NotificationStatus::parse(&self.0.status)
    }
    /// The text.
    async fn body(&self) -> String {
        outbox::body_of(&self.0)
    }
    /// Delivery attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The last delivery error.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Next attempt.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// When it was delivered.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    /// When the recipient read it (in-app).
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    /// The task it is about.
    async fn task_id(&self) -> Option<ID> {
        self.0.task_id.map(|t| ids::encode(NodeKind::Task, t))
    }
    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One store's outbox in numbers.
pub struct OutboxSummary(outbox::OutboxCounts);

#[Object]
impl OutboxSummary {
    /// The store.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        Ok(ctx
            .loader()?
            .load_one(StoreKey(self.0.store_id))
            .await?
            .map(Store))
    }
    /// Waiting to be sent.
    async fn pending(&self) -> u64 {
        self.0.pending
    }
    /// Being sent now.
    async fn sending(&self) -> u64 {
        self.0.sending
    }
    /// Delivered.
    async fn sent(&self) -> u64 {
        self.0.sent
    }
    /// Failed for good: the store manager retries or clears them.
    async fn dead(&self) -> u64 {
        self.0.dead
    }
    /// Not sent: no marketing consent.
    async fn suppressed(&self) -> u64 {
        self.0.suppressed
    }
    /// When the oldest dead letter was queued.
    async fn oldest_dead_at(&self) -> Option<DateTime<Utc>> {
        self.0.oldest_dead_at
    }
}

/// One assignee's (or queue's) live work.
#[derive(SimpleObject)]
pub struct Workload {
    /// The staff member (null for a role queue).
    pub staff: Option<Staff>,
    /// The role queue, for unassigned work.
    pub queue: Option<Role>,
    /// Live tasks.
    pub open: u64,
    /// Of which overdue.
    pub overdue: u64,
}

/// A task event for a subscriber.
#[derive(SimpleObject)]
pub struct TaskEventPayload {
    /// What happened.
    pub change: TaskChange,
    /// The task's id.
    pub task_id: ID,
    /// The task as it is now (null if no longer visible).
    pub task: Option<Task>,
}

payload!(
    /// Result of createTask.
    CreateTaskPayload { task: Task }
);
payload!(
    /// Result of cancelTask.
    CancelTaskPayload { task: Task }
);
payload!(
    /// Result of reassignTask.
    ReassignTaskPayload { task: Task }
);
payload!(
    /// Result of sendCustomerMessage.
    SendCustomerMessagePayload { notification: Notification }
);

/// Result of completeTask.
#[derive(SimpleObject)]
pub struct CompleteTaskPayload {
    /// The completed task.
    pub task: Option<Task>,
    /// The next task, when one was scheduled.
    pub next_task: Option<Task>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

payload!(
    /// Result of answerHandoverRequest.
    AnswerHandoverRequestPayload { task: Task }
);

/// Result of requestCustomerHandover.
#[derive(SimpleObject)]
pub struct RequestCustomerHandoverPayload {
    /// Whether the request waits in the store manager's queue.
    pub requested: bool,
    /// Why nothing was requested.
    pub user_errors: Vec<UserError>,
}

/// Result of reassignTasks.
#[derive(SimpleObject)]
pub struct ReassignTasksPayload {
    /// How many tasks moved.
    pub moved: u64,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Result of retryNotifications.
#[derive(SimpleObject)]
pub struct RetryPayload {
    /// How many dead letters went back in the queue.
    pub requeued: u64,
}

/// Result of markNotificationsRead.
#[derive(SimpleObject)]
pub struct MarkReadPayload {
    /// How many were marked.
    pub marked: u64,
}

/// Task queries.
#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// Your open work in one round trip: overdue, due today, upcoming.
    /// `upcomingDays` (default 7, at most 60) is how far ahead "upcoming" looks.
    async fn my_day(
        &self,
        ctx: &Context<'_>,
        upcoming_days: Option<i32>,
    ) -> async_graphql::Result<MyDay> {
        let days = upcoming_days.unwrap_or(7);
        if !(0..=60).contains(&days) {
            return Err(crate::error::ApiError::BadInput(
                "upcomingDays must be between 0 and 60".into(),
            )
            .into());
        }
        let days = i64::from(days);
        let mut day = tasks::my_day(ctx.db()?, ctx.actor()?, ctx.now()?, days).await?;
        // What the day's statement read ahead, the loader need not read.
        let primed = &ctx.loader()?.loader().primed;
        let customers = std::mem::take(&mut day.customers);
        primed.put(customers.into_iter().map(|c| (CustomerKey(c.id), c)));
        let vehicles = std::mem::take(&mut day.vehicles);
        primed.put(vehicles.into_iter().map(|v| (VehicleKey(v.id), v)));
        Ok(MyDay(day))
    }

    /// Tasks you may see, latest due first.
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Task>> {
        let page = tasks::list(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Task))
    }

    /// Live and overdue work per staff member and queue (store managers).
    async fn workload(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Workload>> {
        let rows = tasks::workload(ctx.reports_db()?, ctx.actor()?).await?;
        let loader = ctx.loader()?;
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let staff = match w.staff_id {
                Some(id) => loader.load_one(StaffKey(id)).await?.map(Staff),
                None => None,
            };
            out.push(Workload {
                staff,
                queue: w.queue.as_deref().and_then(Role::parse),
                open: w.open,
                overdue: w.overdue,
            });
        }
        Ok(out)
    }

    /// Message counts per store and status, dead letters included, for the
    /// stores you oversee (store, group and OEM managers, admins); no texts.
    async fn outbox_summary(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OutboxSummary>> {
        Ok(outbox::summary(ctx.db()?, ctx.actor()?)
            .await?
            .into_iter()
            .map(OutboxSummary)
            .collect())
    }

    /// Your store's outbox, dead letters included (store managers only: the
    /// messages carry customers' names and texts).
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        filter: Option<NotificationFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Notification>> {
        let page = outbox::list(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Notification))
    }

    /// Your in-app messages, newest first.
    async fn my_notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] unread_only: bool,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Notification>> {
        let page = outbox::inbox(
            ctx.db()?,
            ctx.actor()?,
            unread_only,
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Notification))
    }
}

/// Task changes.
#[derive(Default)]
pub struct TaskMutation;

#[Object]
impl TaskMutation {
    /// Creates a task by hand.
    async fn create_task(
        &self,
        ctx: &Context<'_>,
        input: CreateTaskInput,
    ) -> async_graphql::Result<CreateTaskPayload> {
        CreateTaskPayload::from_result(
            tasks::create_manual(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Task,
        )
    }

    /// Completes a task: outcome, customer log and the next step in one go.
    async fn complete_task(
        &self,
        ctx: &Context<'_>,
        input: CompleteTaskInput,
    ) -> async_graphql::Result<CompleteTaskPayload> {
        let (v, user_errors) =
            into_payload(tasks::complete(ctx.db()?, ctx.actor()?, ctx.now()?, input).await)?;
        Ok(match v {
            Some((t, next)) => CompleteTaskPayload {
                task: Some(Task(t)),
                next_task: next.map(Task),
                user_errors,
            },
            None => CompleteTaskPayload {
                task: None,
                next_task: None,
                user_errors,
            },
        })
    }

    /// Cancels a task.
    async fn cancel_task(
        &self,
        ctx: &Context<'_>,
        input: CancelTaskInput,
    ) -> async_graphql::Result<CancelTaskPayload> {
        CancelTaskPayload::from_result(
            tasks::cancel(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Task,
        )
    }

    /// Hands one task to someone else (store manager).
    async fn reassign_task(
        &self,
        ctx: &Context<'_>,
        input: ReassignTaskInput,
    ) -> async_graphql::Result<ReassignTaskPayload> {
        ReassignTaskPayload::from_result(
            tasks::reassign(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Task,
        )
    }

    /// Hands all of a person's open tasks to someone else (store manager).
    async fn reassign_tasks(
        &self,
        ctx: &Context<'_>,
        input: ReassignTasksInput,
    ) -> async_graphql::Result<ReassignTasksPayload> {
        let (v, user_errors) =
            into_payload(tasks::reassign_all(ctx.db()?, ctx.actor()?, ctx.now()?, input).await)?;
        Ok(ReassignTasksPayload {
            moved: v.unwrap_or(0),
            user_errors,
        })
    }

    /// Asks the store manager for a customer another consultant holds (after
    /// createCustomer answered DUPLICATE with `heldBy`).
    async fn request_customer_handover(
        &self,
        ctx: &Context<'_>,
        input: RequestCustomerHandoverInput,
    ) -> async_graphql::Result<RequestCustomerHandoverPayload> {
        let (v, user_errors) = into_payload(
            tasks::request_handover(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
        )?;
        Ok(RequestCustomerHandoverPayload {
            requested: v.unwrap_or(false),
            user_errors,
        })
    }

    /// Approves or declines a handover request (store manager).
    async fn answer_handover_request(
        &self,
        ctx: &Context<'_>,
        input: AnswerHandoverRequestInput,
    ) -> async_graphql::Result<AnswerHandoverRequestPayload> {
        AnswerHandoverRequestPayload::from_result(
            tasks::answer_handover(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Task,
        )
    }

    /// Sends an SMS or WeChat message to a customer through the outbox.
    async fn send_customer_message(
        &self,
        ctx: &Context<'_>,
        input: SendCustomerMessageInput,
    ) -> async_graphql::Result<SendCustomerMessagePayload> {
        SendCustomerMessagePayload::from_result(
            outbox::send_to_customer(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Notification,
        )
    }

    /// Marks your in-app messages read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<MarkReadPayload> {
        if ids.len() > 500 {
            return Err(crate::error::ApiError::BadInput("at most 500 ids".into()).into());
        }
        Ok(MarkReadPayload {
            marked: outbox::mark_read(ctx.db()?, ctx.actor()?, &ids, ctx.now()?).await?,
        })
    }

    /// Puts dead letters of your store's outbox back in the queue (store
    /// managers); answers how many were requeued.
    async fn retry_notifications(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<RetryPayload> {
        if ids.len() > 500 {
            return Err(crate::error::ApiError::BadInput("at most 500 ids".into()).into());
        }
        Ok(RetryPayload {
            requeued: outbox::retry_dead(ctx.db()?, ctx.actor()?, &ids, ctx.now()?).await?,
        })
    }
}

fn concerns(actor: &Actor, e: &TaskEvent) -> bool {
    match e.assignee_id {
        Some(a) => a == actor.staff_id,
        None => {
            actor.store_id == Some(e.store_id) && e.queue.as_deref() == Some(actor.role.as_str())
        }
    }
}

/// Live updates over graphql-ws (`/graphql/ws`).
#[derive(Default)]
pub struct TaskSubscription;

#[Subscription]
impl TaskSubscription {
    /// Tells you when a task is assigned to you (or your queue) or changes.
    async fn task_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = TaskEventPayload>> {
        let actor = ctx.actor()?.clone();
        let db = ctx.db()?.clone();
        let rx = events::subscribe();
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream
            .filter(move |e| std::future::ready(concerns(&actor, e)))
            .then(move |e| {
                let db = db.clone();
                async move {
                    let found = task_by_id(&db, e.task_id).await;
                    TaskEventPayload {
                        change: e.change,
                        task_id: ids::encode(NodeKind::Task, e.task_id),
                        task: found.map(Task),
                    }
                }
            }))
    }
}

async fn task_by_id(db: &sea_orm::DatabaseConnection, id: uuid::Uuid) -> Option<task::Model> {
    use sea_orm::EntityTrait;
    task::Entity::find_by_id(id).one(db).await.ok().flatten()
}
