//! Complaints: recorded by care agents (or opened by a low survey score or
//! a revisit), handled by an owner against response and resolution
//! deadlines carried by engine tasks, escalated by the engine to the store
//! manager and then the OEM when a deadline is missed, logged action by
//! action, and closed with a resolution (and for severe ones an improvement
//! plan) and a closing revisit. OEM staff see and act on the complaints
//! that reached them.
use std::collections::HashMap;

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{complaint, complaint_action, task};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::rules::{
    self, ComplaintActionKind, ComplaintCategory, ComplaintCause, ComplaintChannel,
    ComplaintStatus, Department, Severity, COMPLAINT_RESOLUTION, COMPLAINT_RESPONSE,
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, LogKind},
        vehicles,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::{rules as org_rules, store as org},
    paging::{self, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// Store roles that handle complaints.
const HANDLERS: [Role; 3] = [Role::CareAgent, Role::StoreManager, Role::ServiceAdvisor];
/// The deadline rules of a complaint.
const DEADLINES: [&str; 2] = [COMPLAINT_RESPONSE, COMPLAINT_RESOLUTION];

/// The ids of complaints whose deadline tasks climbed to the OEM, as a
/// sub-query.
fn escalated_to_oem() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(task::Column::SubjectId)
        .from(task::Entity)
        .and_where(task::Column::Rule.is_in(DEADLINES))
        .and_where(task::Column::EscalationLevel.gte(2))
        .to_owned()
}

/// The complaints the actor may see: a store's handlers their store's; a
/// group manager the group's; OEM staff those escalated to the OEM or
/// received through its hotline, across the network.
pub fn visible(actor: &Actor) -> ApiResult<Condition> {
    use complaint::Column as C;
    Ok(match actor.reach() {
        Reach::Store(s) => {
            actor.require(&HANDLERS)?;
            Condition::all().add(C::StoreId.eq(s))
        }
        Reach::Group(_) => {
            actor.require(&[Role::GroupManager])?;
            Condition::all().add(C::StoreId.in_subquery(actor.store_ids_query()))
        }
        Reach::Oem(_) => {
            actor.require(&[Role::OemStaff, Role::Admin])?;
            Condition::all()
                .add(C::StoreId.in_subquery(actor.store_ids_query()))
                .add(
                    Condition::any()
                        .add(C::Channel.eq(ComplaintChannel::OemHotline.as_str()))
                        .add(C::Id.in_subquery(escalated_to_oem())),
                )
        }
    })
}

/// A complaint by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<complaint::Model>> {
    Ok(complaint::Entity::find_by_id(id)
        .filter(visible(actor)?)
        .one(db)
        .await?)
}

/// Where a complaint stands.
pub fn status(c: &complaint::Model) -> ComplaintStatus {
    ComplaintStatus::parse(&c.status).unwrap_or(ComplaintStatus::Open)
}

/// How serious it is.
pub fn severity(c: &complaint::Model) -> Severity {
    Severity::parse(&c.severity).unwrap_or(Severity::Normal)
}

/// What a complaint says, as the store records it.
#[derive(InputObject, Clone, Debug)]
pub struct ComplaintDraft {
    /// The complaint in the customer's own words.
    pub content: String,
    /// What it is about.
    pub category: ComplaintCategory,
    /// Why the customer complains.
    #[graphql(default_with = "ComplaintCause::Other")]
    pub cause: ComplaintCause,
    /// How serious it is (sets the deadlines).
    #[graphql(default_with = "Severity::Normal")]
    pub severity: Severity,
    /// The department it names.
    pub department: Option<Department>,
    /// The staff member it names.
    pub staff_id: Option<ID>,
    /// The repair order it is about.
    pub repair_order_id: Option<ID>,
}

/// Recording a complaint.
#[derive(InputObject, Clone, Debug)]
pub struct OpenComplaintInput {
    /// The customer.
    pub customer_id: ID,
    /// The vehicle it is about.
    pub vehicle_id: Option<ID>,
    /// How it reached the store.
    pub channel: ComplaintChannel,
    /// When the customer complained (default now; not in the future).
    pub received_at: Option<DateTime<Utc>>,
    /// What the customer says.
    pub complaint: ComplaintDraft,
    /// Who handles it (default you): care agents, service advisors or the
    /// store manager of the store.
    pub owner_id: Option<ID>,
}

/// A complaint about to be stored, checked.
pub struct NewComplaint {
    /// The store.
    pub store_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// The vehicle.
    pub vehicle_id: Option<Uuid>,
    /// The channel.
    pub channel: ComplaintChannel,
    /// When it came in.
    pub received_at: DateTime<Utc>,
    /// The customer's words.
    pub content: String,
    /// Category.
    pub category: ComplaintCategory,
    /// Cause.
    pub cause: ComplaintCause,
    /// Severity.
    pub severity: Severity,
    /// Department.
    pub department: Department,
    /// Staff named.
    pub staff_id: Option<Uuid>,
    /// Repair order.
    pub repair_order_id: Option<Uuid>,
    /// Owner.
    pub owner_id: Uuid,
    /// The survey that opened it.
    pub survey_response_id: Option<Uuid>,
}

/// Checks a draft against the store: the staff member and repair order it
/// names must be the store's.
pub async fn check_draft<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    store_id: Uuid,
    d: &ComplaintDraft,
    path: &str,
) -> ApiResult<(String, Option<Uuid>, Option<Uuid>)> {
    let at = |f: &str| {
        if path.is_empty() {
            f.to_string()
        } else {
            format!("{path}.{f}")
        }
    };
    let content = text_rules::text(&d.content, &at("content"), 4000)?;
    let staff = match &d.staff_id {
        Some(s) => {
            let id = ids::decode_field(s, NodeKind::Staff, &at("staffId"))?;
            let found = org::staff_by_id(db, id).await?;
            if found.is_none_or(|s| s.store_id != Some(store_id)) {
                return Err(ApiError::field(
                    &at("staffId"),
                    UserErrorCode::NotFound,
                    "no such staff member in this store",
                ));
            }
            Some(id)
        }
        None => None,
    };
    let order = match &d.repair_order_id {
        Some(o) => {
            let id = ids::decode_field(o, NodeKind::RepairOrder, &at("repairOrderId"))?;
            if crate::service::orders::find(db, actor, id).await?.is_none() {
                return Err(ApiError::field(
                    &at("repairOrderId"),
                    UserErrorCode::NotFound,
                    "no such repair order",
                ));
            }
            Some(id)
        }
        None => None,
    };
    Ok((content, staff, order))
}

/// The department a complaint names by default.
fn department_of(category: ComplaintCategory) -> Department {
    match category {
        ComplaintCategory::Sales => Department::Sales,
        ComplaintCategory::Service | ComplaintCategory::ProductQuality => Department::Service,
        ComplaintCategory::Parts => Department::Parts,
        ComplaintCategory::Other => Department::Care,
    }
}

/// Records a complaint from a care agent's or advisor's input.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: OpenComplaintInput,
) -> ApiResult<(complaint::Model, Vec<task::Model>)> {
    actor.require(&HANDLERS)?;
    let store_id = actor.own_store()?;
    let cid = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    let c = customers::find_writable(db, actor, cid, "customerId").await?;
    let vehicle_id = match &input.vehicle_id {
        Some(v) => {
            let id = ids::decode_field(v, NodeKind::Vehicle, "vehicleId")?;
            let v = vehicles::find(db, actor, id).await?;
            if v.is_none_or(|v| v.owner_id != c.id) {
                return Err(ApiError::field(
                    "vehicleId",
                    UserErrorCode::NotFound,
                    "no such vehicle of this customer",
                ));
            }
            Some(id)
        }
        None => None,
    };
    let received_at = input.received_at.unwrap_or(now);
    if received_at > now {
        return Err(ApiError::field(
            "receivedAt",
            UserErrorCode::OutOfRange,
            "a complaint is received in the past, not the future",
        ));
    }
    let (content, staff_id, repair_order_id) =
        check_draft(db, actor, store_id, &input.complaint, "complaint").await?;
    let owner_id = match &input.owner_id {
        Some(o) => owner(db, store_id, o).await?,
        None => actor.staff_id,
    };
    let d = &input.complaint;
    let new = NewComplaint {
        store_id,
        customer_id: c.id,
        vehicle_id,
        channel: input.channel,
        received_at,
        content,
        category: d.category,
        cause: d.cause,
        severity: d.severity,
        department: d.department.unwrap_or(department_of(d.category)),
        staff_id,
        repair_order_id,
        owner_id,
        survey_response_id: None,
    };
    let txn = db.begin().await?;
    let made = insert(&txn, new, actor.staff_id, now).await?;
    txn.commit().await?;
    events::publish_all(&made.1, TaskChange::Created);
    Ok(made)
}

/// A store's staff member who may own complaints.
async fn owner<C: ConnectionTrait>(db: &C, store_id: Uuid, id: &ID) -> ApiResult<Uuid> {
    let uuid = ids::decode_field(id, NodeKind::Staff, "ownerId")?;
    let s = org::staff_by_id(db, uuid).await?;
    let ok = s.is_some_and(|s| {
        s.store_id == Some(store_id)
            && s.active
            && Role::parse(&s.role).is_some_and(|r| HANDLERS.contains(&r))
    });
    if !ok {
        return Err(ApiError::field(
            "ownerId",
            UserErrorCode::NotFound,
            "complaints go to the store's care agents, service advisors or manager",
        ));
    }
    Ok(uuid)
}

/// Stores a checked complaint with its deadline tasks, first action and log
/// entry, in the caller's transaction. Returns the complaint and the tasks
/// created (for the caller to announce after commit).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    n: NewComplaint,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<(complaint::Model, Vec<task::Model>)> {
    let settings = org::settings(db, n.store_id).await?;
    let (respond_by, resolve_by) = rules::deadlines(&settings, n.severity, n.received_at);
    let row = complaint::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(n.store_id),
        customer_id: Set(n.customer_id),
        vehicle_id: Set(n.vehicle_id),
        repair_order_id: Set(n.repair_order_id),
        staff_id: Set(n.staff_id),
        department: Set(n.department.as_str().into()),
        channel: Set(n.channel.as_str().into()),
        received_at: Set(n.received_at),
        content: Set(n.content),
        category: Set(n.category.as_str().into()),
        cause: Set(n.cause.as_str().into()),
        severity: Set(n.severity.as_str().into()),
        owner_id: Set(n.owner_id),
        status: Set(ComplaintStatus::Open.as_str().into()),
        response_due_at: Set(respond_by),
        resolution_due_at: Set(resolve_by),
        responded_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        resolution: Set(None),
        improvement_plan: Set(None),
        outcome_satisfaction: Set(None),
        survey_response_id: Set(n.survey_response_id),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let c = complaint::Entity::insert(row)
        .exec_with_returning(db)
        .await?;
    act(db, &c, by, ComplaintActionKind::Opened, None, now).await?;
    let about = target(&c, by, Some(c.owner_id));
    let (sev, cat) = (n.severity, n.category);
    let specs = vec![
        rules::complaint_task(
            &settings,
            COMPLAINT_RESPONSE,
            c.received_at,
            respond_by,
            sev,
            cat,
        ),
        rules::complaint_task(
            &settings,
            COMPLAINT_RESOLUTION,
            c.received_at,
            resolve_by,
            sev,
            cat,
        ),
    ];
    let made = tasks::create_with_settings(db, &settings, &about, specs, now).await?;
    log::append(
        db,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.customer_id,
            kind: LogKind::Complaint,
            channel: channel_of(n.channel),
            staff_id: Some(by),
            summary: format!(
                "Complaint ({}, {}): {}",
                n.severity.label_en(),
                n.category.label_en(),
                n.channel.label_en()
            ),
            outcome: None,
            subject: Some(("Complaint", c.id)),
            occurred_at: c.received_at,
        },
        now,
    )
    .await?;
    Ok((c, made))
}

/// What the engine's complaint tasks are about, and whom they go to
/// (otherwise the rule's queue).
fn target(c: &complaint::Model, by: Uuid, assignee: Option<Uuid>) -> RuleTarget {
    RuleTarget {
        store_id: c.store_id,
        customer_id: c.customer_id,
        vehicle_id: c.vehicle_id,
        subject: Subject {
            kind: "Complaint",
            id: c.id,
        },
        created_by: Some(by),
        assignee_id: assignee,
        step: None,
    }
}

fn channel_of(c: ComplaintChannel) -> Channel {
    match c {
        ComplaintChannel::Phone | ComplaintChannel::OemHotline | ComplaintChannel::Revisit => {
            Channel::Phone
        }
        ComplaintChannel::WalkIn => Channel::InPerson,
        ComplaintChannel::Survey | ComplaintChannel::SocialMedia | ComplaintChannel::Other => {
            Channel::System
        }
    }
}

/// Appends an entry to a complaint's action log.
async fn act<C: ConnectionTrait>(
    db: &C,
    c: &complaint::Model,
    by: Uuid,
    kind: ComplaintActionKind,
    note: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    complaint_action::Entity::insert(complaint_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        complaint_id: Set(c.id),
        store_id: Set(c.store_id),
        staff_id: Set(by),
        kind: Set(kind.as_str().into()),
        note: Set(note),
        at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A step in handling a complaint: any of a note, a new owner, and a move
/// to IN_PROGRESS (the first response), RESOLVED or CLOSED.
#[derive(InputObject, Clone, Debug)]
pub struct AdvanceComplaintInput {
    /// The complaint.
    pub complaint_id: ID,
    /// IN_PROGRESS: responded to the customer; RESOLVED; CLOSED.
    pub status: Option<ComplaintStatus>,
    /// What was done, for the action log.
    pub note: Option<String>,
    /// Hand it to another care agent, service advisor or the manager.
    pub owner_id: Option<ID>,
    /// How it was resolved (needed to resolve or close).
    pub resolution: Option<String>,
    /// The improvement and prevention plan (needed to close a severe one).
    pub improvement_plan: Option<String>,
    /// The customer's satisfaction with the outcome, 1 to 10, if they said.
    pub outcome_satisfaction: Option<i32>,
}

/// Who may act on a complaint: its store's handlers, and OEM staff on one
/// that reached the OEM. Group managers only read.
fn may_act(actor: &Actor, c: &complaint::Model) -> ApiResult<()> {
    match actor.reach() {
        Reach::Store(s) if s == c.store_id => actor.require(&HANDLERS),
        Reach::Oem(_) => actor.require(&[Role::OemStaff]),
        _ => Err(ApiError::Forbidden),
    }
}

/// Handles a complaint one step: notes, hand-overs, the first response,
/// resolution and closing. Responding closes the response task; resolving
/// closes both deadline tasks; closing needs a resolution (and a plan for a
/// severe complaint) and creates the closing revisit.
pub async fn advance<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: AdvanceComplaintInput,
) -> ApiResult<complaint::Model> {
    let id = ids::decode_field(&input.complaint_id, NodeKind::Complaint, "complaintId")?;
    let c = find(db, actor, id).await?.ok_or_else(|| {
        ApiError::field("complaintId", UserErrorCode::NotFound, "no such complaint")
    })?;
    may_act(actor, &c)?;
    let note = text_rules::opt_text(input.note.as_deref(), "note", 2000)?;
    let resolution = text_rules::opt_text(input.resolution.as_deref(), "resolution", 4000)?;
    let plan = text_rules::opt_text(input.improvement_plan.as_deref(), "improvementPlan", 4000)?;
    if let Some(s) = input.outcome_satisfaction {
        if !(1..=rules::MAX_SCORE).contains(&s) {
            return Err(ApiError::field(
                "outcomeSatisfaction",
                UserErrorCode::OutOfRange,
                "a score from 1 to 10",
            ));
        }
    }
    let from = status(&c);
    if from == ComplaintStatus::Closed {
        return Err(ApiError::field(
            "complaintId",
            UserErrorCode::Conflict,
            "the complaint is closed",
        ));
    }
    let new_owner = match &input.owner_id {
        Some(o) => Some(owner(db, c.store_id, o).await?),
        None => None,
    };
    let to = input.status;
    let resolution = resolution.or(c.resolution.clone());
    let plan = plan.or(c.improvement_plan.clone());
    match to {
        Some(ComplaintStatus::Open) => {
            return Err(ApiError::field(
                "status",
                UserErrorCode::Invalid,
                "a complaint goes to IN_PROGRESS, RESOLVED or CLOSED",
            ))
        }
        Some(ComplaintStatus::InProgress) if from != ComplaintStatus::Open => {
            return Err(ApiError::field(
                "status",
                UserErrorCode::Invalid,
                "the complaint has had its first response already",
            ))
        }
        Some(ComplaintStatus::Resolved) if resolution.is_none() => {
            return Err(ApiError::field(
                "resolution",
                UserErrorCode::Required,
                "say how the complaint was resolved",
            ))
        }
        Some(ComplaintStatus::Closed) => {
            rules::check_close(from, severity(&c), resolution.as_deref(), plan.as_deref())?
        }
        _ => {}
    }
    if to.is_none() && note.is_none() && new_owner.is_none() && plan == c.improvement_plan {
        return Err(ApiError::field(
            "note",
            UserErrorCode::Required,
            "say what was done, or move the complaint on",
        ));
    }
    let (settings, tz) = org::calendar(db, c.store_id).await?;
    let mut m: complaint::ActiveModel = c.clone().into();
    m.updated_at = Set(now);
    m.resolution = Set(resolution.clone());
    m.improvement_plan = Set(plan.clone());
    if let Some(s) = input.outcome_satisfaction {
        m.outcome_satisfaction = Set(Some(s));
    }
    if let Some(o) = new_owner {
        m.owner_id = Set(o);
    }
    let responded = c.responded_at.or(to.map(|_| now));
    m.responded_at = Set(responded);
    if let Some(to) = to {
        m.status = Set(to.as_str().into());
        if matches!(to, ComplaintStatus::Resolved | ComplaintStatus::Closed) {
            m.resolved_at = Set(c.resolved_at.or(Some(now)));
        }
        if to == ComplaintStatus::Closed {
            m.closed_at = Set(Some(now));
        }
    }
    let txn = db.begin().await?;
    let rows = complaint::Entity::update_many()
        .set(m)
        .filter(complaint::Column::Id.eq(c.id))
        .filter(complaint::Column::UpdatedAt.eq(c.updated_at))
        .exec_with_returning(&txn)
        .await?;
    let after = rows.into_iter().next().ok_or_else(|| {
        ApiError::field(
            "complaintId",
            UserErrorCode::Conflict,
            "the complaint changed meanwhile; reload it",
        )
    })?;
    let by = actor.staff_id;
    if let Some(n) = note {
        act(&txn, &after, by, ComplaintActionKind::Note, Some(n), now).await?;
    }
    let mut moved = Vec::new();
    if let Some(o) = new_owner.filter(|o| *o != c.owner_id) {
        act(&txn, &after, by, ComplaintActionKind::Reassigned, None, now).await?;
        moved = tasks::give_subject_to(&txn, c.id, o, now).await?;
    }
    let mut done = Vec::new();
    let mut made = Vec::new();
    if c.responded_at.is_none() && responded.is_some() {
        act(&txn, &after, by, ComplaintActionKind::Responded, None, now).await?;
        done.extend(
            tasks::done_for_subject_rules(&txn, c.id, &[COMPLAINT_RESPONSE], "responded", by, now)
                .await?,
        );
    }
    if matches!(
        to,
        Some(ComplaintStatus::Resolved | ComplaintStatus::Closed)
    ) && c.resolved_at.is_none()
    {
        act(
            &txn,
            &after,
            by,
            ComplaintActionKind::Resolved,
            resolution,
            now,
        )
        .await?;
        done.extend(
            tasks::done_for_subject_rules(&txn, c.id, &DEADLINES, "resolved", by, now).await?,
        );
    }
    if to == Some(ComplaintStatus::Closed) {
        act(&txn, &after, by, ComplaintActionKind::Closed, None, now).await?;
        let about = target(&c, by, None);
        let spec = rules::complaint_revisit(&settings, tz, org_rules::local_day(tz, now));
        made = tasks::create_with_settings(&txn, &settings, &about, vec![spec], now).await?;
    }
    if let Some(s) = input.outcome_satisfaction {
        act(
            &txn,
            &after,
            by,
            ComplaintActionKind::OutcomeRated,
            Some(format!("{s}/10")),
            now,
        )
        .await?;
    }
    if let Some(to) = to {
        log::append(
            &txn,
            LogEvent {
                store_id: c.store_id,
                customer_id: c.customer_id,
                kind: LogKind::Complaint,
                channel: Channel::System,
                staff_id: Some(by),
                summary: format!("Complaint: {}", to.label_en()),
                outcome: None,
                subject: Some(("Complaint", c.id)),
                occurred_at: now,
            },
            now,
        )
        .await?;
    }
    txn.commit().await?;
    events::publish_all(&moved, TaskChange::Assigned);
    events::publish_all(&done, TaskChange::Completed);
    events::publish_all(&made, TaskChange::Created);
    Ok(after)
}

/// Records the customer's satisfaction with how their complaint ended (the
/// closing revisit), in the caller's transaction.
pub async fn rate_outcome<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    score: i32,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(c) = complaint::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    complaint::Entity::update_many()
        .col_expr(complaint::Column::OutcomeSatisfaction, Expr::value(score))
        .col_expr(complaint::Column::UpdatedAt, Expr::value(now))
        .filter(complaint::Column::Id.eq(id))
        .exec(db)
        .await?;
    act(
        db,
        &c,
        by,
        ComplaintActionKind::OutcomeRated,
        Some(format!("{score}/10")),
        now,
    )
    .await
}

/// Filters of the complaint board.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ComplaintFilter {
    /// Only these states (default: every state).
    pub status: Option<Vec<ComplaintStatus>>,
    /// Only these severities.
    pub severity: Option<Vec<Severity>>,
    /// Only those past a deadline now (true) or within them (false).
    pub overdue: Option<bool>,
    /// Only this store's (network staff).
    pub store_id: Option<ID>,
    /// Only this customer's.
    pub customer_id: Option<ID>,
    /// Only those this staff member owns.
    pub owner_id: Option<ID>,
}

/// The complaints the actor may see, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    f: &ComplaintFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<complaint::Model>> {
    use complaint::Column as Col;
    let mut q = complaint::Entity::find().filter(visible(actor)?);
    if let Some(s) = &f.status {
        q = q.filter(Col::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(s) = &f.severity {
        q = q.filter(Col::Severity.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(s) = &f.store_id {
        q = q.filter(Col::StoreId.eq(ids::decode_field(s, NodeKind::Store, "storeId")?));
    }
    if let Some(s) = &f.customer_id {
        q = q.filter(Col::CustomerId.eq(ids::decode_field(s, NodeKind::Customer, "customerId")?));
    }
    if let Some(s) = &f.owner_id {
        q = q.filter(Col::OwnerId.eq(ids::decode_field(s, NodeKind::Staff, "ownerId")?));
    }
    if let Some(o) = f.overdue {
        // Past a deadline: not responded by the response deadline, or not
        // resolved by the resolution deadline (as of now, or when done).
        let late = Condition::any()
            .add(
                Condition::all()
                    .add(Col::RespondedAt.is_null())
                    .add(Col::ResponseDueAt.lt(now)),
            )
            .add(Expr::col(Col::RespondedAt).gt(Expr::col(Col::ResponseDueAt)))
            .add(
                Condition::all()
                    .add(Col::ResolvedAt.is_null())
                    .add(Col::ResolutionDueAt.lt(now)),
            )
            .add(Expr::col(Col::ResolvedAt).gt(Expr::col(Col::ResolutionDueAt)));
        q = q.filter(if o { late } else { late.not() });
    }
    paging::by_id(db, q, Col::Id, args, want_total).await
}

/// The action log of a complaint, oldest first.
pub async fn actions<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> ApiResult<Vec<complaint_action::Model>> {
    Ok(complaint_action::Entity::find()
        .filter(complaint_action::Column::ComplaintId.eq(id))
        .order_by_asc(complaint_action::Column::At)
        .order_by_asc(complaint_action::Column::Id)
        .all(db)
        .await?)
}

/// How far each complaint's deadlines climbed (0 none, 1 the store
/// manager, 2 the OEM), for loaders.
pub async fn escalation_levels<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, i32>> {
    let rows: Vec<(Option<Uuid>, i32)> = task::Entity::find()
        .select_only()
        .column(task::Column::SubjectId)
        .column(task::Column::EscalationLevel)
        .filter(task::Column::SubjectId.is_in(ids.iter().copied()))
        .filter(task::Column::Rule.is_in(DEADLINES))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = HashMap::new();
    for (id, level) in rows {
        if let Some(id) = id {
            let e = out.entry(id).or_insert(0);
            *e = std::cmp::max(*e, level);
        }
    }
    Ok(out)
}
