//! Tasks in the database, through the actor's scope.
use std::collections::HashMap;

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{customer, staff, task, task_reminder, vehicle, ByPosition};
use sea_orm::{
    sea_query::{Asterisk, Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Iterable, JoinType,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    events::{self, TaskChange},
    outbox::{self, NewNotification},
    rules::{self, TaskKind, TaskSpec, TaskStatus, Window},
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, LogKind},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::{rules::StoreSettings, store as org},
    paging::{self, Cursor, Keys, Page, PageArgs},
    rows,
};

const LIVE: [&str; 2] = ["OPEN", "OVERDUE"];

/// The tasks the actor may see: managers their store's, other store staff
/// their own and their role queue's, network roles their stores'.
pub fn visible(actor: &Actor) -> Condition {
    match actor.reach() {
        Reach::Store(s) if actor.role == Role::StoreManager => {
            Condition::all().add(task::Column::StoreId.eq(s))
        }
        Reach::Store(_) => mine(actor),
        _ => Condition::all().add(task::Column::StoreId.in_subquery(actor.store_ids_query())),
    }
}

/// Tasks for the actor to do: assigned to them, or waiting in their role's
/// queue in their store.
pub fn mine(actor: &Actor) -> Condition {
    let mut c = Condition::any().add(task::Column::AssigneeId.eq(actor.staff_id));
    if let Some(store) = actor.store_id {
        c = c.add(
            Condition::all()
                .add(task::Column::AssigneeId.is_null())
                .add(task::Column::StoreId.eq(store))
                .add(task::Column::AssigneeRole.eq(actor.role.as_str())),
        );
    }
    c
}

/// A task by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<task::Model>> {
    Ok(task::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// The record a task is about.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    /// Type name (Vehicle, Lead, RepairOrder, Complaint, …).
    pub kind: &'static str,
    /// Its id.
    pub id: Uuid,
}

/// Who and what rule-derived tasks are about.
#[derive(Clone, Copy, Debug)]
pub struct RuleTarget {
    /// The store.
    pub store_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// The vehicle, if any.
    pub vehicle_id: Option<Uuid>,
    /// The record the event happened to.
    pub subject: Subject,
    /// Who caused the event.
    pub created_by: Option<Uuid>,
    /// The person the work goes to (otherwise the rule's role queue).
    pub assignee_id: Option<Uuid>,
    /// For rules that fire again and again about one subject (a lead's
    /// next follow-up): which firing, part of the unique rule key.
    pub step: Option<i32>,
}

/// A task to insert: what differs between the ways tasks are born (rules,
/// by hand, as the next step, demo and bench data). Every other column
/// starts the same: open, not reminded, not escalated, not completed.
pub struct NewTask {
    /// Store.
    pub store_id: Uuid,
    /// Customer.
    pub customer_id: Uuid,
    /// Kind.
    pub kind: TaskKind,
    /// Title.
    pub title: String,
    /// Why it exists.
    pub reason: String,
    /// The record it is about: (type name, id).
    pub subject: Option<(String, Uuid)>,
    /// Vehicle.
    pub vehicle_id: Option<Uuid>,
    /// A person.
    pub assignee_id: Option<Uuid>,
    /// Or a role queue.
    pub queue: Option<Role>,
    /// When.
    pub window: Window,
    /// The rule that made it; with the subject it forms the unique rule key.
    pub rule: Option<&'static str>,
    /// Which firing of a repeating rule (part of the rule key).
    pub step: Option<i32>,
    /// When to remind the assignee.
    pub remind_at: Option<DateTime<Utc>>,
    /// Highest escalation level.
    pub max_escalation: i32,
    /// Hours at one escalation level before the next (the store's default
    /// when none).
    pub escalation_wait_hours: Option<i32>,
    /// Who caused it.
    pub created_by: Option<Uuid>,
}

impl NewTask {
    /// The task row, and its reminder's queue row if it has one.
    fn into_rows(
        self,
        now: DateTime<Utc>,
    ) -> (task::ActiveModel, Option<task_reminder::ActiveModel>) {
        let id = Uuid::now_v7();
        let reminder = self.remind_at.map(|at| task_reminder::ActiveModel {
            task_id: Set(id),
            remind_at: Set(at),
        });
        let rule_key = match (self.rule, &self.subject, self.step) {
            (Some(rule), Some((_, id)), None) => Some(format!("{rule}:{id}")),
            (Some(rule), Some((_, id)), Some(n)) => Some(format!("{rule}:{id}:{n}")),
            _ => None,
        };
        let (subject_type, subject_id) = self.subject.unzip();
        let row = task::ActiveModel {
            id: Set(id),
            store_id: Set(self.store_id),
            kind: Set(self.kind.as_str().into()),
            title: Set(self.title),
            reason: Set(self.reason),
            customer_id: Set(self.customer_id),
            subject_type: Set(subject_type),
            subject_id: Set(subject_id),
            vehicle_id: Set(self.vehicle_id),
            assignee_id: Set(self.assignee_id),
            assignee_role: Set(self.queue.map(|r| r.as_str().to_string())),
            earliest_at: Set(self.window.earliest),
            due_at: Set(self.window.due),
            latest_at: Set(self.window.latest),
            status: Set(TaskStatus::Open.as_str().into()),
            outcome: Set(None),
            rule: Set(self.rule.map(String::from)),
            rule_key: Set(rule_key),
            escalation_level: Set(0),
            max_escalation_level: Set(self.max_escalation),
            escalation_wait_hours: Set(self.escalation_wait_hours),
            escalated_at: Set(None),
            created_by: Set(self.created_by),
            completed_by: Set(None),
            completed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        (row, reminder)
    }
}

/// Inserts tasks and queues their reminders, in the caller's transaction. A
/// task whose rule key exists already is skipped: a rule never creates the
/// same task twice, whoever calls it and however often. Returns the tasks
/// written now.
pub async fn insert_tasks<C: ConnectionTrait>(
    db: &C,
    tasks: Vec<NewTask>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let rows: Vec<_> = tasks.into_iter().map(|t| t.into_rows(now)).collect();
    let mut written = Vec::with_capacity(rows.len());
    // 26 columns × 500 rows stays under both databases' bind limits.
    for chunk in rows.chunks(500) {
        let made = task::Entity::insert_many(chunk.iter().map(|(t, _)| t.clone()))
            .on_conflict(
                OnConflict::column(task::Column::RuleKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning(db)
            .await?;
        let ids: std::collections::HashSet<Uuid> = made.iter().map(|t| t.id).collect();
        let reminders: Vec<_> = chunk
            .iter()
            .filter_map(|(_, r)| r.clone())
            .filter(|r| matches!(&r.task_id, sea_orm::ActiveValue::Set(id) if ids.contains(id)))
            .collect();
        task_reminder::Entity::insert_many(reminders)
            .exec_without_returning(db)
            .await?;
        written.extend(made);
    }
    Ok(written)
}

/// `insert_tasks` for one task without a rule (which therefore cannot clash).
async fn insert_task<C: ConnectionTrait>(
    db: &C,
    task: NewTask,
    now: DateTime<Utc>,
) -> ApiResult<task::Model> {
    insert_tasks(db, vec![task], now)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("task not written")))
}

/// Creates the tasks a rule derived, inside the caller's transaction. The
/// unique rule key (rule + subject) means a rule never creates the same task
/// twice, whoever calls it and however often. Returns the tasks created now.
pub async fn create_from_rules<C: ConnectionTrait>(
    db: &C,
    about: &RuleTarget,
    specs: Vec<TaskSpec>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let settings = org::settings(db, about.store_id).await?;
    create_with_settings(db, &settings, about, specs, now).await
}

/// `create_from_rules` for a caller that has read the store's settings.
pub async fn create_with_settings<C: ConnectionTrait>(
    db: &C,
    settings: &StoreSettings,
    about: &RuleTarget,
    specs: Vec<TaskSpec>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let work = specs.into_iter().map(|spec| (*about, spec)).collect();
    create_for_many(db, settings, work, now).await
}

/// Rule-derived tasks about many customers at once (a daily pass), in the
/// caller's transaction; like `create_with_settings` for each pair.
pub async fn create_for_many<C: ConnectionTrait>(
    db: &C,
    settings: &StoreSettings,
    work: Vec<(RuleTarget, TaskSpec)>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let tasks = work
        .into_iter()
        .map(|(about, spec)| NewTask {
            store_id: about.store_id,
            customer_id: about.customer_id,
            kind: spec.kind,
            title: spec.title,
            reason: spec.reason,
            subject: Some((about.subject.kind.to_string(), about.subject.id)),
            vehicle_id: about.vehicle_id,
            assignee_id: about.assignee_id,
            queue: spec.queue.filter(|_| about.assignee_id.is_none()),
            window: spec.window,
            rule: Some(spec.rule),
            step: about.step,
            remind_at: rules::remind_at(settings, spec.window.due, now),
            max_escalation: spec.max_escalation,
            escalation_wait_hours: spec.escalation_wait_hours,
            created_by: about.created_by,
        })
        .collect();
    insert_tasks(db, tasks, now).await
}

/// A delivered car: the store's rules derive its revisit and first-service
/// reminder. Called in the transaction that records the delivery.
pub async fn on_delivery<C: ConnectionTrait>(
    db: &C,
    v: &vehicle::Model,
    delivered: NaiveDate,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let Some(store) = org::store_by_id(db, v.store_id).await? else {
        return Ok(Vec::new());
    };
    let settings = StoreSettings::from_json(&store.settings);
    let tz = rules::zone(&store.time_zone);
    // Titles name the model only: the plate and VIN identify the owner, and
    // task texts are read by staff beyond the consent line.
    let label = v.model.clone();
    let specs = rules::after_delivery(&settings, tz, delivered, rules::local_day(tz, now), &label);
    let about = RuleTarget {
        store_id: v.store_id,
        customer_id: v.owner_id,
        vehicle_id: Some(v.id),
        subject: Subject {
            kind: "Vehicle",
            id: v.id,
        },
        created_by,
        assignee_id: None,
        step: None,
    };
    create_from_rules(db, &about, specs, now).await
}

/// Work about a vehicle follows its current owner (a transfer): its live
/// tasks move to the new owner, except the revisit of the sale, which stays
/// with the buyer it was for. Returns the moved tasks.
pub async fn follow_vehicle<C: ConnectionTrait>(
    db: &C,
    vehicle_id: Uuid,
    new_owner: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let about_the_car = Condition::all()
        .add(task::Column::VehicleId.eq(vehicle_id))
        .add(task::Column::Status.is_in(LIVE))
        .add(
            Condition::any()
                .add(task::Column::Rule.is_null())
                .add(task::Column::Rule.ne(rules::DELIVERY_REVISIT)),
        );
    move_to_customer(db, about_the_car, new_owner, now).await
}

/// A merge: every task of the retired record (done ones too, for the
/// history) moves to the survivor. Returns the live ones that moved.
pub async fn follow_merge<C: ConnectionTrait>(
    db: &C,
    merged: Uuid,
    survivor: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let all = Condition::all().add(task::Column::CustomerId.eq(merged));
    let moved = move_to_customer(db, all, survivor, now).await?;
    Ok(moved
        .into_iter()
        .filter(|t| LIVE.contains(&t.status.as_str()))
        .collect())
}

async fn move_to_customer<C: ConnectionTrait>(
    db: &C,
    which: Condition,
    customer: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::CustomerId, Expr::value(customer))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .exec_with_returning(db)
        .await?)
}

/// A subject's live tasks.
fn live_about(subject_id: Uuid) -> Condition {
    Condition::all()
        .add(task::Column::SubjectId.eq(subject_id))
        .add(task::Column::Status.is_in(LIVE))
}

/// A subject's live task of one rule, if any (for the domain that owns
/// the subject).
pub async fn live_for_subject_rule<C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    rule: &str,
) -> ApiResult<Option<task::Model>> {
    Ok(task::Entity::find()
        .filter(live_about(subject_id))
        .filter(task::Column::Rule.eq(rule))
        .one(db)
        .await?)
}

/// Cancels a subject's live tasks when they no longer make sense (a lost
/// lead, a withdrawn complaint). For the domain that owns the subject.
/// Returns the tasks as they are now.
pub async fn cancel_for_subject<C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    why: &str,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(
            task::Column::Status,
            Expr::value(TaskStatus::Cancelled.as_str()),
        )
        .col_expr(task::Column::Outcome, Expr::value(why))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(live_about(subject_id))
        .exec_with_returning(db)
        .await?)
}

/// Closes a subject's live tasks as done, because the work they asked for
/// happened elsewhere (a lead's follow-up was logged). For the domain that
/// owns the subject. Returns the tasks closed.
pub async fn done_for_subject<C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    outcome: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done.as_str()))
        .col_expr(task::Column::Outcome, Expr::value(outcome))
        .col_expr(task::Column::CompletedBy, Expr::value(by))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(live_about(subject_id))
        .exec_with_returning(db)
        .await?)
}

/// Brings a subject's open tasks of one rule forward so that they are due
/// by `due` (a mileage reading shows the first service comes sooner);
/// tasks due earlier already stay. Their reminders follow (the store's
/// `settings`, which the caller has read). For the domain that owns the
/// subject. Returns the tasks moved.
pub async fn bring_forward<C: ConnectionTrait>(
    db: &C,
    settings: &StoreSettings,
    subject_id: Uuid,
    rule: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let earliest = Expr::case(Expr::col(task::Column::EarliestAt).gt(due), due)
        .finally(Expr::col(task::Column::EarliestAt));
    let moved = task::Entity::update_many()
        .col_expr(task::Column::DueAt, Expr::value(due))
        .col_expr(task::Column::EarliestAt, earliest.into())
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(live_about(subject_id))
        .filter(task::Column::Status.eq(TaskStatus::Open.as_str()))
        .filter(task::Column::Rule.eq(rule))
        .filter(task::Column::DueAt.gt(due))
        .exec_with_returning(db)
        .await?;
    requeue_reminders(db, settings, &moved, now).await?;
    Ok(moved)
}

/// Tasks whose due time moved get their reminder anew.
async fn requeue_reminders<C: ConnectionTrait>(
    db: &C,
    settings: &StoreSettings,
    moved: &[task::Model],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if moved.is_empty() {
        return Ok(());
    }
    task_reminder::Entity::delete_many()
        .filter(task_reminder::Column::TaskId.is_in(moved.iter().map(|t| t.id)))
        .exec(db)
        .await?;
    let reminders: Vec<task_reminder::ActiveModel> = moved
        .iter()
        .filter_map(|t| {
            rules::remind_at(settings, t.due_at, now).map(|at| task_reminder::ActiveModel {
                task_id: Set(t.id),
                remind_at: Set(at),
            })
        })
        .collect();
    if !reminders.is_empty() {
        task_reminder::Entity::insert_many(reminders)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// A vehicle's open tasks of one rule, not yet overdue.
fn open_for_vehicle(vehicle_id: Uuid, rule: &str) -> Condition {
    Condition::all()
        .add(task::Column::VehicleId.eq(vehicle_id))
        .add(task::Column::Status.eq(TaskStatus::Open.as_str()))
        .add(task::Column::Rule.eq(rule))
}

/// Moves a vehicle's open tasks of one rule to a new window (a reading
/// changed the predicted service), earlier or later; their reminders follow.
/// For the domain that owns the vehicle. Returns the tasks moved.
pub async fn reschedule_for_vehicle<C: ConnectionTrait>(
    db: &C,
    settings: &StoreSettings,
    vehicle_id: Uuid,
    rule: &str,
    window: rules::Window,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let moved = task::Entity::update_many()
        .col_expr(task::Column::EarliestAt, Expr::value(window.earliest))
        .col_expr(task::Column::DueAt, Expr::value(window.due))
        .col_expr(task::Column::LatestAt, Expr::value(window.latest))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(open_for_vehicle(vehicle_id, rule))
        .filter(task::Column::DueAt.ne(window.due))
        .exec_with_returning(db)
        .await?;
    requeue_reminders(db, settings, &moved, now).await?;
    Ok(moved)
}

/// Closes a vehicle's live tasks of the given rules as done, because the
/// work they asked for happened (the car came in for its service).
/// Returns the tasks closed.
pub async fn done_for_vehicle<C: ConnectionTrait>(
    db: &C,
    vehicle_id: Uuid,
    rules: &[&str],
    outcome: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let which = Condition::all().add(task::Column::VehicleId.eq(vehicle_id));
    done_where(db, which, rules, outcome, by, now).await
}

/// Closes a subject's live tasks of the given rules as done (a claim
/// filed answers its filing deadline, not the visit's revisit).
pub async fn done_for_subject_rules<C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    rules: &[&str],
    outcome: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    let which = Condition::all().add(task::Column::SubjectId.eq(subject_id));
    done_where(db, which, rules, outcome, by, now).await
}

async fn done_where<C: ConnectionTrait>(
    db: &C,
    which: Condition,
    rules: &[&str],
    outcome: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done.as_str()))
        .col_expr(task::Column::Outcome, Expr::value(outcome))
        .col_expr(task::Column::CompletedBy, Expr::value(by))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .filter(task::Column::Status.is_in(LIVE))
        .filter(task::Column::Rule.is_in(rules.iter().copied()))
        .exec_with_returning(db)
        .await?)
}

/// Gives a subject's live tasks to another person (a lead reassigned).
/// Returns the tasks as they are now.
pub async fn give_subject_to<C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(to))
        .col_expr(
            task::Column::AssigneeRole,
            Expr::value(Option::<String>::None),
        )
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(live_about(subject_id))
        .exec_with_returning(db)
        .await?)
}

/// A task created by hand.
#[derive(InputObject, Clone, Debug)]
pub struct CreateTaskInput {
    /// The customer it is about.
    pub customer_id: ID,
    /// Kind (default CUSTOM).
    #[graphql(default_with = "TaskKind::Custom")]
    pub kind: TaskKind,
    /// Short title (at most 100 characters).
    pub title: String,
    /// Why, for whoever does it (at most 1000 characters).
    pub reason: Option<String>,
    /// When it is due; must be in the future.
    pub due_at: DateTime<Utc>,
    /// Not before (default now).
    pub earliest_at: Option<DateTime<Utc>>,
    /// Who does it (default: you). They must be able to see the customer.
    pub assignee_id: Option<ID>,
    /// The vehicle it is about.
    pub vehicle_id: Option<ID>,
    /// Store managers: when the assignee is a consultant who may not see the
    /// customer, make them the customer's responsible consultant too.
    #[graphql(default)]
    pub hand_over_customer: bool,
}

async fn active_staff_in<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    store: Uuid,
    field: &str,
) -> ApiResult<staff::Model> {
    staff::Entity::find_by_id(id)
        .filter(staff::Column::StoreId.eq(store))
        .filter(staff::Column::Active.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                field,
                UserErrorCode::NotFound,
                "no active staff member with that id in this store",
            )
        })
}

/// Refuses work for someone who may not see the customers it is about,
/// unless a store manager hands those customers over with it: nobody gets
/// a task about a customer they cannot open, or writes into a log they
/// cannot read. Returns the customers (as the actor sees them).
async fn ensure_sees<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    to: &staff::Model,
    customer_ids: &[Uuid],
    hand_over: bool,
    field: &str,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::customer::Model>> {
    let about: Vec<_> = customers::by_ids(db, actor, customer_ids)
        .await?
        .into_values()
        .collect();
    let mut blind: Vec<Uuid> = about
        .iter()
        .filter(|c| !customers::staff_sees(to, c))
        .map(|c| c.id)
        .collect();
    blind.sort_unstable();
    blind.dedup();
    if blind.is_empty() {
        return Ok(about);
    }
    if !hand_over || actor.role != Role::StoreManager {
        return Err(ApiError::field(
            field,
            UserErrorCode::NotAllowed,
            format!(
                "{} may not see {} customer(s) this work is about; a store manager can hand them over with it ({})",
                to.name,
                blind.len(),
                if field == "toStaffId" { "handOverCustomers: true" } else { "handOverCustomer: true" }
            ),
        ));
    }
    customers::hand_over(db, actor, &blind, to.id, now).await?;
    Ok(about)
}

/// Farthest ahead a task may be due: a date past it is a typing slip
/// (9999-12-31), not a plan.
const DUE_HORIZON_YEARS: i64 = 5;

fn beyond_horizon(due: DateTime<Utc>, now: DateTime<Utc>, field: &str) -> ApiResult<()> {
    if due > now + Duration::days(365 * DUE_HORIZON_YEARS) {
        return Err(ApiError::field(
            field,
            UserErrorCode::OutOfRange,
            format!("the due date is more than {DUE_HORIZON_YEARS} years ahead"),
        ));
    }
    Ok(())
}

/// Creates a task by hand for a customer the actor may write.
pub async fn create_manual<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateTaskInput,
) -> ApiResult<task::Model> {
    let cid = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    let c = customers::find_writable(db, actor, cid, "customerId").await?;
    let title = text_rules::text(&input.title, "title", 100)?;
    let reason = text_rules::opt_text(input.reason.as_deref(), "reason", 1000)?
        .unwrap_or_else(|| title.clone());
    if input.due_at <= now {
        return Err(ApiError::field(
            "dueAt",
            UserErrorCode::OutOfRange,
            "the due date is in the past",
        ));
    }
    beyond_horizon(input.due_at, now, "dueAt")?;
    let earliest = input.earliest_at.unwrap_or(now);
    if earliest > input.due_at {
        return Err(ApiError::field(
            "earliestAt",
            UserErrorCode::OutOfRange,
            "earliestAt is after dueAt",
        ));
    }
    let assignee = match ids::decode_opt(input.assignee_id.as_ref(), NodeKind::Staff, "assigneeId")?
    {
        Some(id) => Some(active_staff_in(db, id, c.store_id, "assigneeId").await?),
        None => None,
    };
    let vehicle_id =
        match ids::decode_opt(input.vehicle_id.as_ref(), NodeKind::Vehicle, "vehicleId")? {
            Some(v) => match customers::find_vehicle(db, actor, v).await? {
                Some(v) if v.owner_id == c.id => Some(v.id),
                _ => {
                    return Err(ApiError::field(
                        "vehicleId",
                        UserErrorCode::NotFound,
                        "no such vehicle of this customer",
                    ))
                }
            },
            None => None,
        };
    let settings = org::settings(db, c.store_id).await?;
    let row = NewTask {
        store_id: c.store_id,
        customer_id: c.id,
        kind: input.kind,
        title,
        reason,
        subject: None,
        vehicle_id,
        assignee_id: Some(assignee.as_ref().map_or(actor.staff_id, |a| a.id)),
        queue: None,
        window: Window {
            earliest,
            due: input.due_at,
            latest: input.due_at,
        },
        rule: None,
        step: None,
        remind_at: rules::remind_at(&settings, input.due_at, now),
        // Complaints escalate beyond the store (DOMAIN.md); other work stops at the manager.
        max_escalation: if input.kind == TaskKind::ComplaintResponse {
            2
        } else {
            1
        },
        escalation_wait_hours: None,
        created_by: Some(actor.staff_id),
    };
    let txn = db.begin().await?;
    if let Some(to) = &assignee {
        ensure_sees(
            &txn,
            actor,
            to,
            &[c.id],
            input.hand_over_customer,
            "assigneeId",
            now,
        )
        .await?;
    }
    let t = insert_task(&txn, row, now).await?;
    txn.commit().await?;
    events::publish_all(std::slice::from_ref(&t), TaskChange::Created);
    Ok(t)
}

fn may_work_on(actor: &Actor, t: &task::Model) -> bool {
    let own = t.assignee_id == Some(actor.staff_id);
    let queue = t.assignee_id.is_none()
        && actor.store_id == Some(t.store_id)
        && t.assignee_role.as_deref() == Some(actor.role.as_str());
    let manager = actor.role == Role::StoreManager && actor.store_id == Some(t.store_id);
    own || queue || manager
}

/// A live task the actor may work on, by its global id; a userError on
/// `taskId` otherwise.
pub async fn live_task<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<task::Model> {
    let uuid = ids::decode_field(id, NodeKind::Task, "taskId")?;
    let t = find(db, actor, uuid)
        .await?
        .ok_or_else(|| ApiError::field("taskId", UserErrorCode::NotFound, "no such task"))?;
    if !may_work_on(actor, &t) {
        return Err(ApiError::field(
            "taskId",
            UserErrorCode::NotAllowed,
            "this task is someone else's",
        ));
    }
    if !TaskStatus::parse(&t.status).is_some_and(TaskStatus::is_live) {
        return Err(ApiError::field(
            "taskId",
            UserErrorCode::Conflict,
            format!("the task is already {}", t.status.to_lowercase()),
        ));
    }
    Ok(t)
}

/// The next step, scheduled when a task is completed.
#[derive(InputObject, Clone, Debug)]
pub struct NextTaskInput {
    /// Title of the next task.
    pub title: String,
    /// When it is due; must be in the future.
    pub due_at: DateTime<Utc>,
    /// Kind (default FOLLOW_UP).
    #[graphql(default_with = "TaskKind::FollowUp")]
    pub kind: TaskKind,
}

/// Completing a task.
#[derive(InputObject, Clone, Debug)]
pub struct CompleteTaskInput {
    /// The task.
    pub task_id: ID,
    /// What came of it (at most 1000 characters); goes into the customer log.
    pub outcome: String,
    /// How the customer was reached (default PHONE).
    #[graphql(default_with = "Channel::Phone")]
    pub channel: Channel,
    /// Schedule the next step in the same go.
    pub next: Option<NextTaskInput>,
}

/// Completes a task: records the outcome, writes the customer log and
/// optionally schedules the next task, all in one transaction. Returns the
/// completed task and the next one.
pub async fn complete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CompleteTaskInput,
) -> ApiResult<(task::Model, Option<task::Model>)> {
    let t = live_task(db, actor, &input.task_id).await?;
    if customers::find(db, actor, t.customer_id).await?.is_none() {
        return Err(ApiError::field(
            "taskId",
            UserErrorCode::NotAllowed,
            "you may not see this task's customer; ask the store manager to hand the customer over",
        ));
    }
    let outcome = text_rules::text(&input.outcome, "outcome", 1000)?;
    if let Some(n) = &input.next {
        text_rules::text(&n.title, "next.title", 100)?;
        if n.due_at <= now {
            return Err(ApiError::field(
                "next.dueAt",
                UserErrorCode::OutOfRange,
                "the next task's due date is in the past",
            ));
        }
        beyond_horizon(n.due_at, now, "next.dueAt")?;
    }
    let txn = db.begin().await?;
    mark_done(&txn, t.id, &outcome, actor.staff_id, now).await?;
    let kind = if TaskKind::parse(&t.kind) == Some(TaskKind::Revisit) {
        LogKind::Revisit
    } else {
        LogKind::Task
    };
    log::append(
        &txn,
        LogEvent {
            store_id: t.store_id,
            customer_id: t.customer_id,
            kind,
            channel: input.channel,
            staff_id: Some(actor.staff_id),
            summary: t.title.clone(),
            outcome: Some(outcome),
            subject: Some(("Task", t.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    let next = match input.next {
        Some(n) => {
            let settings = org::settings(&txn, t.store_id).await?;
            let row = NewTask {
                store_id: t.store_id,
                customer_id: t.customer_id,
                kind: n.kind,
                title: n.title.trim().to_string(),
                reason: format!("Next step after: {}", t.title),
                subject: t.subject_type.clone().zip(t.subject_id),
                vehicle_id: t.vehicle_id,
                assignee_id: Some(actor.staff_id),
                queue: None,
                window: Window {
                    earliest: now,
                    due: n.due_at,
                    latest: n.due_at,
                },
                rule: None,
                step: None,
                remind_at: rules::remind_at(&settings, n.due_at, now),
                max_escalation: t.max_escalation_level,
                escalation_wait_hours: t.escalation_wait_hours,
                created_by: Some(actor.staff_id),
            };
            Some(insert_task(&txn, row, now).await?)
        }
        None => None,
    };
    let done = task::Entity::find_by_id(t.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    events::publish_all(std::slice::from_ref(&done), TaskChange::Completed);
    if let Some(n) = &next {
        events::publish_all(std::slice::from_ref(n), TaskChange::Created);
    }
    Ok((done, next))
}

/// Marks a live task done with its outcome; CONFLICT when it is no longer
/// live (someone else finished it meanwhile).
pub async fn mark_done<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    outcome: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let done = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Done.as_str()))
        .col_expr(task::Column::Outcome, Expr::value(outcome))
        .col_expr(task::Column::CompletedBy, Expr::value(by))
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Status.is_in(LIVE))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(ApiError::field(
            "taskId",
            UserErrorCode::Conflict,
            "the task changed meanwhile; reload it",
        ));
    }
    Ok(())
}

/// Cancelling a task.
#[derive(InputObject, Clone, Debug)]
pub struct CancelTaskInput {
    /// The task.
    pub task_id: ID,
    /// Why (at most 500 characters).
    pub reason: String,
}

/// Cancels a live task (its assignee, its queue, or the store manager).
pub async fn cancel<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CancelTaskInput,
) -> ApiResult<task::Model> {
    let t = live_task(db, actor, &input.task_id).await?;
    let reason = text_rules::text(&input.reason, "reason", 500)?;
    task::Entity::update_many()
        .col_expr(
            task::Column::Status,
            Expr::value(TaskStatus::Cancelled.as_str()),
        )
        .col_expr(task::Column::Outcome, Expr::value(reason))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(t.id))
        .filter(task::Column::Status.is_in(LIVE))
        .exec(db)
        .await?;
    reload_and_announce(db, t.id, TaskChange::Cancelled).await
}

/// The task as it is now, announced to its subscribers as `change`.
async fn reload_and_announce<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    change: TaskChange,
) -> ApiResult<task::Model> {
    let t = task::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    events::publish_all(std::slice::from_ref(&t), change);
    Ok(t)
}

/// Handing one task to someone else.
#[derive(InputObject, Clone, Debug)]
pub struct ReassignTaskInput {
    /// The task.
    pub task_id: ID,
    /// The new assignee, active in the task's store, who must be able to
    /// see the task's customer.
    pub assignee_id: ID,
    /// Make a consultant who may not see the customer its responsible
    /// consultant too.
    #[graphql(default)]
    pub hand_over_customer: bool,
}

/// Reassigns one live task (store manager).
pub async fn reassign<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: ReassignTaskInput,
) -> ApiResult<task::Model> {
    actor.require(&[Role::StoreManager])?;
    let t = live_task(db, actor, &input.task_id).await?;
    let to = ids::decode_field(&input.assignee_id, NodeKind::Staff, "assigneeId")?;
    let to = active_staff_in(db, to, t.store_id, "assigneeId").await?;
    let txn = db.begin().await?;
    let about = ensure_sees(
        &txn,
        actor,
        &to,
        &[t.customer_id],
        input.hand_over_customer,
        "assigneeId",
        now,
    )
    .await?;
    task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(to.id))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    assigned_notice(&txn, &t, &about, to.id, now).await?;
    txn.commit().await?;
    events::publish_moved_away(std::slice::from_ref(&t));
    reload_and_announce(db, t.id, TaskChange::Assigned).await
}

/// An in-app message to someone who was just handed a task.
async fn assigned_notice<C: ConnectionTrait>(
    db: &C,
    t: &task::Model,
    about: &[entity::customer::Model],
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let tz = org::zone_of(db, t.store_id).await?;
    let customer = about
        .iter()
        .find(|c| c.id == t.customer_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let vars = serde_json::json!({
        "title": t.title,
        "customer": customer,
        "due": t.due_at.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
    });
    let key = format!("assigned:{}:{to}:{}", t.id, now.timestamp_millis());
    let notice =
        NewNotification::in_app(t.store_id, to, "task_assigned", vars, Some(t.id), key, now);
    outbox::enqueue(db, notice, now).await?;
    Ok(())
}

/// Moves every live task of one staff member to another (inside the
/// caller's transaction). Returns the moved tasks.
pub async fn move_all<C: ConnectionTrait>(
    db: &C,
    from: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<task::Model>> {
    Ok(task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(to))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::AssigneeId.eq(from))
        .filter(task::Column::Status.is_in(LIVE))
        .exec_with_returning(db)
        .await?)
}

/// After tasks moved from `from` to a new assignee: the previous holder is
/// told they are gone, the new one that they arrived.
pub fn announce_moved(moved: &[task::Model], from: Uuid) {
    let before: Vec<task::Model> = moved
        .iter()
        .map(|t| task::Model {
            assignee_id: Some(from),
            ..t.clone()
        })
        .collect();
    events::publish_moved_away(&before);
    events::publish_all(moved, TaskChange::Assigned);
}

/// How many live tasks a staff member holds.
pub async fn live_count<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(task::Entity::find()
        .filter(task::Column::AssigneeId.eq(staff_id))
        .filter(task::Column::Status.is_in(LIVE))
        .count(db)
        .await?)
}

/// Handing all of one person's tasks to another.
#[derive(InputObject, Clone, Debug)]
pub struct ReassignTasksInput {
    /// Whose tasks.
    pub from_staff_id: ID,
    /// To whom; they must be able to see the tasks' customers.
    pub to_staff_id: ID,
    /// Make a consultant who may not see some of those customers their
    /// responsible consultant too.
    #[graphql(default)]
    pub hand_over_customers: bool,
}

/// Reassigns every live task of a staff member (store manager).
pub async fn reassign_all<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: ReassignTasksInput,
) -> ApiResult<u64> {
    actor.require(&[Role::StoreManager])?;
    let store = actor.own_store()?;
    let from = ids::decode_field(&input.from_staff_id, NodeKind::Staff, "fromStaffId")?;
    let to = ids::decode_field(&input.to_staff_id, NodeKind::Staff, "toStaffId")?;
    staff::Entity::find_by_id(from)
        .filter(staff::Column::StoreId.eq(store))
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "fromStaffId",
                UserErrorCode::NotFound,
                "no such staff member in this store",
            )
        })?;
    let to = active_staff_in(db, to, store, "toStaffId").await?;
    let customer_ids: Vec<Uuid> = task::Entity::find()
        .select_only()
        .column(task::Column::CustomerId)
        .distinct()
        .filter(task::Column::AssigneeId.eq(from))
        .filter(task::Column::Status.is_in(LIVE))
        .into_tuple()
        .all(db)
        .await?;
    let txn = db.begin().await?;
    ensure_sees(
        &txn,
        actor,
        &to,
        &customer_ids,
        input.hand_over_customers,
        "toStaffId",
        now,
    )
    .await?;
    let moved = move_all(&txn, from, to.id, now).await?;
    if !moved.is_empty() {
        let vars = serde_json::json!({ "count": moved.len() });
        let key = format!("assigned-all:{from}:{}:{}", to.id, now.timestamp_millis());
        let notice = NewNotification::in_app(store, to.id, "tasks_assigned", vars, None, key, now);
        outbox::enqueue(&txn, notice, now).await?;
    }
    txn.commit().await?;
    announce_moved(&moved, from);
    Ok(moved.len() as u64)
}

/// The signed-in staff member's day.
pub struct MyDay {
    /// Past due, oldest first.
    pub overdue: Vec<task::Model>,
    /// Due before the end of today (store time).
    pub due_today: Vec<task::Model>,
    /// Due in the next days.
    pub upcoming: Vec<task::Model>,
    /// The customers of these tasks whom the staff member may see, read in
    /// the same statement (for the request's loader).
    pub customers: Vec<customer::Model>,
    /// The tasks' vehicles owned by those customers, likewise.
    pub vehicles: Vec<vehicle::Model>,
}

/// Most tasks "my day" lists in each section.
const MY_DAY_LIMIT: u64 = 200;

/// "My day": open work, overdue first, then due today, then upcoming, in one
/// query. Days are the store's local days.
pub async fn my_day<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    upcoming_days: i64,
) -> ApiResult<MyDay> {
    let tz = actor.zone;
    let today = rules::local_day(tz, now);
    let end_today = rules::day_end(tz, today);
    let horizon = rules::day_end(tz, today + Duration::days(upcoming_days.clamp(0, 60)));
    // Each task with its customer (if the actor may see them) and its
    // vehicle (if that customer owns it, so visible too): one statement.
    let mut q = task::Entity::find()
        .filter(mine(actor))
        .filter(task::Column::Status.is_in(LIVE))
        .filter(task::Column::DueAt.lte(horizon))
        .select_also(customer::Entity)
        .order_by_asc(task::Column::DueAt)
        .order_by_asc(task::Column::Id)
        .limit(MY_DAY_LIMIT * 3)
        .into_query();
    let about = Condition::all()
        .add(
            Expr::col((customer::Entity, customer::Column::Id))
                .equals((task::Entity, task::Column::CustomerId)),
        )
        .add(customers::visible(actor));
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        // Looked up by key for each task. As a plain join, the generic
        // plan hashed the consultant's whole book (500 customers at 1 M)
        // to find the few the day's tasks are about; `LIMIT 1` keeps the
        // planner from turning the lateral back into that join.
        let one = Query::select()
            .column(Asterisk)
            .from(customer::Entity)
            .cond_where(about)
            .limit(1)
            .to_owned();
        q.join_lateral(
            JoinType::LeftJoin,
            one,
            customer::Entity,
            Expr::cust("TRUE"),
        );
    } else {
        q.join(JoinType::LeftJoin, customer::Entity, about);
    }
    q.join(
        JoinType::LeftJoin,
        vehicle::Entity,
        Condition::all()
            .add(
                Expr::col((vehicle::Entity, vehicle::Column::Id))
                    .equals((task::Entity, task::Column::VehicleId)),
            )
            .add(
                Expr::col((vehicle::Entity, vehicle::Column::OwnerId))
                    .equals((customer::Entity, customer::Column::Id)),
            )
            .add(customer::Column::MergedIntoId.is_null()),
    );
    // The vehicle's columns beside the task's (A_) and the customer's (B_).
    for col in vehicle::Column::iter() {
        q.expr_as(
            Expr::col((vehicle::Entity, col)),
            sea_orm::sea_query::Alias::new(format!("C_{}", sea_orm::IdenStatic::as_str(&col))),
        );
    }
    let found = db.query_all_raw(backend.build(&q)).await?;
    let mut day = MyDay {
        overdue: Vec::new(),
        due_today: Vec::new(),
        upcoming: Vec::new(),
        customers: Vec::new(),
        vehicles: Vec::new(),
    };
    let (at_customer, at_vehicle) = (
        <task::Model as ByPosition>::WIDTH,
        <task::Model as ByPosition>::WIDTH + <customer::Model as ByPosition>::WIDTH,
    );
    for r in found {
        let t = rows::model_at::<task::Entity>(&r, 0, "A_")?;
        day.customers.extend(rows::optional_at::<customer::Entity>(
            &r,
            at_customer,
            "B_",
        )?);
        day.vehicles
            .extend(rows::optional_at::<vehicle::Entity>(&r, at_vehicle, "C_")?);
        let section = if t.status == TaskStatus::Overdue.as_str() || t.due_at < now {
            &mut day.overdue
        } else if t.due_at <= end_today {
            &mut day.due_today
        } else {
            &mut day.upcoming
        };
        if (section.len() as u64) < MY_DAY_LIMIT {
            section.push(t);
        }
    }
    Ok(day)
}

/// Filters for task lists.
#[derive(InputObject, Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only these statuses.
    pub status: Option<Vec<TaskStatus>>,
    /// Only this kind.
    pub kind: Option<TaskKind>,
    /// Only this assignee.
    pub assignee_id: Option<ID>,
    /// Only this customer.
    pub customer_id: Option<ID>,
}

/// A page of visible tasks, latest due first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &TaskFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<task::Model>> {
    let mut q = task::Entity::find().filter(visible(actor));
    if let Some(s) = &f.status {
        q = q.filter(task::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(k) = f.kind {
        q = q.filter(task::Column::Kind.eq(k.as_str()));
    }
    if let Some(id) = &f.assignee_id {
        let s = ids::decode(id, NodeKind::Staff)
            .ok_or_else(|| ApiError::BadInput("assigneeId is not a Staff id".into()))?;
        q = q.filter(task::Column::AssigneeId.eq(s));
    }
    if let Some(id) = &f.customer_id {
        let c = ids::decode(id, NodeKind::Customer)
            .ok_or_else(|| ApiError::BadInput("customerId is not a Customer id".into()))?;
        q = q.filter(task::Column::CustomerId.eq(c));
    }
    paging::fetch(
        db,
        q,
        Keys {
            at: Some(task::Column::DueAt),
            id: task::Column::Id,
        },
        args,
        |m| Cursor {
            at: Some(m.due_at),
            id: m.id,
        },
        want_total,
    )
    .await
}

/// Open and overdue counts per assignee (None = a role queue) and queue.
pub struct Workload {
    /// The staff member, or None for a queue.
    pub staff_id: Option<Uuid>,
    /// The queue's role, for unassigned work.
    pub queue: Option<String>,
    /// Live tasks.
    pub open: u64,
    /// Of which overdue.
    pub overdue: u64,
}

/// Workload of every assignee in the manager's store.
pub async fn workload<C: ConnectionTrait>(db: &C, actor: &Actor) -> ApiResult<Vec<Workload>> {
    actor.require(&[Role::StoreManager])?;
    let store = actor.own_store()?;
    let rows: Vec<(Option<Uuid>, Option<String>, String, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeId)
        .column(task::Column::AssigneeRole)
        .column(task::Column::Status)
        .column_as(Expr::col(task::Column::Id).count(), "n")
        .filter(task::Column::StoreId.eq(store))
        .filter(task::Column::Status.is_in(LIVE))
        .group_by(task::Column::AssigneeId)
        .group_by(task::Column::AssigneeRole)
        .group_by(task::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut map: HashMap<(Option<Uuid>, Option<String>), Workload> = HashMap::new();
    for (staff_id, role, status, n) in rows {
        let queue = if staff_id.is_some() { None } else { role };
        let w = map.entry((staff_id, queue.clone())).or_insert(Workload {
            staff_id,
            queue,
            open: 0,
            overdue: 0,
        });
        w.open += u64::try_from(n).unwrap_or(0);
        if status == TaskStatus::Overdue.as_str() {
            w.overdue += u64::try_from(n).unwrap_or(0);
        }
    }
    let mut out: Vec<Workload> = map.into_values().collect();
    out.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(b.open.cmp(&a.open)));
    Ok(out)
}

/// Asking the store manager for a customer someone else holds.
#[derive(InputObject, Clone, Debug)]
pub struct RequestCustomerHandoverInput {
    /// The customer's mobile (as given when DUPLICATE answered).
    pub mobile: String,
    /// Why you should have the customer (at most 500 characters).
    pub reason: String,
}

/// Queues a handover request for the store manager: a task about the
/// customer in the manager's queue, created by the requester. Its title
/// carries no customer data. A second request by the same person for the
/// same customer while one is open changes nothing.
pub async fn request_handover<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RequestCustomerHandoverInput,
) -> ApiResult<bool> {
    let c = customers::in_own_store_by_mobile(db, actor, &input.mobile).await?;
    let reason = text_rules::text(&input.reason, "reason", 500)?;
    if customers::find(db, actor, c.id).await?.is_some() {
        return Err(ApiError::field(
            "mobile",
            UserErrorCode::Conflict,
            "you can already open this customer",
        ));
    }
    let open = task::Entity::find()
        .filter(task::Column::Kind.eq(TaskKind::HandoverRequest.as_str()))
        .filter(task::Column::CustomerId.eq(c.id))
        .filter(task::Column::CreatedBy.eq(actor.staff_id))
        .filter(task::Column::Status.is_in(LIVE))
        .one(db)
        .await?;
    if open.is_some() {
        return Ok(true);
    }
    let me = org::staff_by_id(db, actor.staff_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let settings = org::settings(db, c.store_id).await?;
    let due = now + Duration::hours(24);
    let row = NewTask {
        store_id: c.store_id,
        customer_id: c.id,
        kind: TaskKind::HandoverRequest,
        title: TaskKind::HandoverRequest.label_zh().to_string(),
        reason: format!("{} asks for this customer: {reason}", me.name),
        subject: Some(("Staff".to_string(), actor.staff_id)),
        vehicle_id: None,
        assignee_id: None,
        queue: Some(Role::StoreManager),
        window: Window {
            earliest: now,
            due,
            latest: due,
        },
        rule: None,
        step: None,
        remind_at: rules::remind_at(&settings, due, now),
        max_escalation: 1,
        escalation_wait_hours: None,
        created_by: Some(actor.staff_id),
    };
    let t = insert_task(db, row, now).await?;
    events::publish_all(std::slice::from_ref(&t), TaskChange::Created);
    Ok(true)
}

/// The store manager's answer to a handover request.
#[derive(InputObject, Clone, Debug)]
pub struct AnswerHandoverRequestInput {
    /// The HANDOVER_REQUEST task.
    pub task_id: ID,
    /// Hand the customer to the requester, or not.
    pub approve: bool,
    /// A word for the requester (at most 200 characters).
    pub note: Option<String>,
}

/// Approves (the customer moves to the requester, with a log entry) or
/// declines a handover request; either way the task is done and the
/// requester gets an in-app message without customer data.
pub async fn answer_handover<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: AnswerHandoverRequestInput,
) -> ApiResult<task::Model> {
    actor.require(&[Role::StoreManager])?;
    let t = live_task(db, actor, &input.task_id).await?;
    let requester = match (TaskKind::parse(&t.kind), t.created_by) {
        (Some(TaskKind::HandoverRequest), Some(r)) => r,
        _ => {
            return Err(ApiError::field(
                "taskId",
                UserErrorCode::Invalid,
                "this task is not a handover request",
            ))
        }
    };
    let note = text_rules::opt_text(input.note.as_deref(), "note", 200)?.unwrap_or_default();
    let txn = db.begin().await?;
    if input.approve {
        match staff::Entity::find_by_id(requester)
            .filter(staff::Column::Active.eq(true))
            .one(&txn)
            .await?
        {
            Some(_) => customers::hand_over(&txn, actor, &[t.customer_id], requester, now).await?,
            None => {
                return Err(ApiError::field(
                    "approve",
                    UserErrorCode::Conflict,
                    "the requester has left the store",
                ))
            }
        };
    }
    let outcome = if input.approve {
        "APPROVED"
    } else {
        "DECLINED"
    };
    let outcome = format!("{outcome} {note}");
    mark_done(&txn, t.id, outcome.trim(), actor.staff_id, now).await?;
    let template = if input.approve {
        "handover_approved"
    } else {
        "handover_declined"
    };
    let vars = serde_json::json!({ "note": note });
    let key = format!("handover:{}", t.id);
    let notice =
        NewNotification::in_app(t.store_id, requester, template, vars, Some(t.id), key, now);
    outbox::enqueue(&txn, notice, now).await?;
    txn.commit().await?;
    reload_and_announce(db, t.id, TaskChange::Completed).await
}
