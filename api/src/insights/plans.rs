//! Work plans with their live actual counts, monthly staff targets, and
//! the staff scorecard that sets each person's month against them.
use std::collections::BTreeMap;

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    customer, repair_order, sales_order, sales_quota, staff, staff_target, survey_response, task,
    work_plan,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    rules::{self, PlanMethod, PlanStatus, WorkPlanKind},
    store::{grouped, joined, names_of, scope, GroupKey, ReportFilter, ReportKey, REPORT_READERS},
};
use crate::{
    auth::{Actor, Role},
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org,
};

/// A work plan with its actual count and status.
#[derive(SimpleObject, Clone, Debug)]
pub struct WorkPlan {
    /// Global id.
    pub id: ID,
    /// What it plans.
    pub kind: WorkPlanKind,
    /// Its name.
    pub title: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive).
    pub ends_on: NaiveDate,
    /// How customers are reached.
    pub method: PlanMethod,
    /// How many are planned.
    pub target_count: i32,
    /// The least that counts as done.
    pub minimum_count: i32,
    /// What is done.
    pub content: String,
    /// Why.
    pub purpose: String,
    /// The staff member it is for (none: the whole store).
    pub owner_id: Option<ID>,
    /// How many are done so far: revisit tasks done, campaign contacts done
    /// or car entries in the plan's days (the owner's, when it has one).
    pub actual_count: i64,
    /// actual ÷ target.
    pub progress: Option<f64>,
    /// On track, behind, achieved, met or missed, today.
    pub status: PlanStatus,
}

/// A new work plan.
#[derive(InputObject, Clone, Debug)]
pub struct CreateWorkPlanInput {
    /// What it plans.
    pub kind: WorkPlanKind,
    /// Its name (1–100 characters).
    pub title: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive), within a year of the first.
    pub ends_on: NaiveDate,
    /// How customers are reached.
    pub method: PlanMethod,
    /// How many are planned (1–100,000).
    pub target_count: i32,
    /// The least that counts as done (0 to the target).
    pub minimum_count: i32,
    /// What is done (at most 2,000 characters, no phone numbers).
    #[graphql(default)]
    pub content: String,
    /// Why (at most 2,000 characters, no phone numbers).
    #[graphql(default)]
    pub purpose: String,
    /// The staff member it is for, in your store.
    pub owner_id: Option<ID>,
}

/// Changes to a work plan; fields left out keep their value.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateWorkPlanInput {
    /// The plan.
    pub id: ID,
    /// Its name.
    pub title: Option<String>,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// How many are planned.
    pub target_count: Option<i32>,
    /// The least that counts as done.
    pub minimum_count: Option<i32>,
    /// What is done.
    pub content: Option<String>,
    /// Why.
    pub purpose: Option<String>,
}

fn field(f: &str, code: UserErrorCode, msg: &str) -> ApiError {
    ApiError::field(f, code, msg.to_string())
}

/// Plan texts are read by managers above the store: they describe work,
/// never a customer, so a run of seven or more digits (a phone number) is
/// refused.
fn plain_text(name: &str, s: &str, max: usize) -> ApiResult<String> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(field(
            name,
            UserErrorCode::Invalid,
            &format!("at most {max} characters"),
        ));
    }
    let mut run = 0;
    for c in s.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 7 {
            return Err(field(
                name,
                UserErrorCode::Invalid,
                "no phone numbers or other customer data in a plan",
            ));
        }
    }
    Ok(s.to_string())
}

fn checked(
    title: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    target: i32,
    minimum: i32,
) -> ApiResult<String> {
    let title = plain_text("title", title, 100)?;
    if title.is_empty() {
        return Err(field(
            "title",
            UserErrorCode::Required,
            "a plan needs a title",
        ));
    }
    if ends_on < starts_on || (ends_on - starts_on).num_days() > 366 {
        return Err(field(
            "endsOn",
            UserErrorCode::Invalid,
            "endsOn is on or after startsOn, within a year",
        ));
    }
    if !(1..=100_000).contains(&target) {
        return Err(field(
            "targetCount",
            UserErrorCode::OutOfRange,
            "targetCount is 1 to 100,000",
        ));
    }
    if !(0..=target).contains(&minimum) {
        return Err(field(
            "minimumCount",
            UserErrorCode::OutOfRange,
            "minimumCount is 0 to the target",
        ));
    }
    Ok(title)
}

/// Creates a work plan in the manager's store.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateWorkPlanInput,
) -> ApiResult<WorkPlan> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let title = checked(
        &input.title,
        input.starts_on,
        input.ends_on,
        input.target_count,
        input.minimum_count,
    )?;
    let content = plain_text("content", &input.content, 2000)?;
    let purpose = plain_text("purpose", &input.purpose, 2000)?;
    let owner = ids::decode_opt(input.owner_id.as_ref(), NodeKind::Staff, "ownerId")?;
    if let Some(o) = owner {
        let found = staff::Entity::find_by_id(o)
            .filter(staff::Column::StoreId.eq(store_id))
            .filter(staff::Column::Active.eq(true))
            .one(db)
            .await?;
        if found.is_none() {
            return Err(field(
                "ownerId",
                UserErrorCode::NotFound,
                "no active staff member with that id in your store",
            ));
        }
    }
    let row = work_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        kind: Set(input.kind.as_str().into()),
        title: Set(title),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        method: Set(input.method.as_str().into()),
        target_count: Set(input.target_count),
        minimum_count: Set(input.minimum_count),
        content: Set(content),
        purpose: Set(purpose),
        owner_id: Set(owner),
        created_by: Set(actor.staff_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    with_actuals(db, now, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Changes a work plan of the manager's store.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: UpdateWorkPlanInput,
) -> ApiResult<WorkPlan> {
    let plan = own_plan(db, actor, &input.id).await?;
    let ends_on = input.ends_on.unwrap_or(plan.ends_on);
    let target = input.target_count.unwrap_or(plan.target_count);
    let minimum = input.minimum_count.unwrap_or(plan.minimum_count);
    let title = checked(
        input.title.as_deref().unwrap_or(&plan.title),
        plan.starts_on,
        ends_on,
        target,
        minimum,
    )?;
    let mut row: work_plan::ActiveModel = plan.clone().into();
    row.title = Set(title);
    row.ends_on = Set(ends_on);
    row.target_count = Set(target);
    row.minimum_count = Set(minimum);
    if let Some(c) = &input.content {
        row.content = Set(plain_text("content", c, 2000)?);
    }
    if let Some(p) = &input.purpose {
        row.purpose = Set(plain_text("purpose", p, 2000)?);
    }
    row.updated_at = Set(now);
    let row = row.update(db).await?;
    with_actuals(db, now, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Deletes a work plan of the manager's store; answers its id.
pub async fn delete<C: ConnectionTrait>(db: &C, actor: &Actor, id: &ID) -> ApiResult<ID> {
    let plan = own_plan(db, actor, id).await?;
    work_plan::Entity::delete_by_id(plan.id).exec(db).await?;
    Ok(id.clone())
}

async fn own_plan<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<work_plan::Model> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::WorkPlan, "id")?;
    work_plan::Entity::find_by_id(id)
        .filter(work_plan::Column::StoreId.eq(store_id))
        .one(db)
        .await?
        .ok_or_else(|| field("id", UserErrorCode::NotFound, "no such plan in your store"))
}

/// The plans of the stores in reach that overlap [from, to], newest
/// first, each with its actual count.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<WorkPlan>> {
    actor.require(&REPORT_READERS)?;
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::BadInput(
            "`to` is on or after `from`, within a year".into(),
        ));
    }
    let rows = work_plan::Entity::find()
        .filter(work_plan::Column::StoreId.in_subquery(actor.store_ids_query()))
        .filter(work_plan::Column::StartsOn.lte(to))
        .filter(work_plan::Column::EndsOn.gte(from))
        .order_by_desc(work_plan::Column::StartsOn)
        .order_by_desc(work_plan::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    with_actuals(db, now, rows).await
}

/// Counts what fulfils each plan (one statement per plan: plans are few).
async fn with_actuals<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    plans: Vec<work_plan::Model>,
) -> ApiResult<Vec<WorkPlan>> {
    let mut out = Vec::with_capacity(plans.len());
    // Each store's zone is read once, however many plans it has.
    let mut zones: std::collections::HashMap<Uuid, chrono_tz::Tz> = Default::default();
    for p in plans {
        let tz = match zones.get(&p.store_id) {
            Some(tz) => *tz,
            None => {
                let tz = org::store::zone_of(db, p.store_id).await?;
                zones.insert(p.store_id, tz);
                tz
            }
        };
        let start = org::rules::day_start(tz, p.starts_on);
        let end = org::rules::day_start(tz, p.ends_on + chrono::Duration::days(1));
        let kind = WorkPlanKind::parse(&p.kind).unwrap_or(WorkPlanKind::Revisit);
        let actual = match kind {
            WorkPlanKind::Revisit | WorkPlanKind::CustomerEvent => {
                let k = if kind == WorkPlanKind::Revisit {
                    "REVISIT"
                } else {
                    "CAMPAIGN_CONTACT"
                };
                let mut q = task::Entity::find()
                    .filter(task::Column::StoreId.eq(p.store_id))
                    .filter(task::Column::Kind.eq(k))
                    .filter(task::Column::Status.eq("DONE"))
                    .filter(task::Column::CompletedAt.gte(start))
                    .filter(task::Column::CompletedAt.lt(end));
                if let Some(o) = p.owner_id {
                    q = q.filter(task::Column::AssigneeId.eq(o));
                }
                sea_orm::PaginatorTrait::count(q, db).await?
            }
            WorkPlanKind::ServicePlan => {
                let mut q = repair_order::Entity::find()
                    .filter(repair_order::Column::StoreId.eq(p.store_id))
                    .filter(repair_order::Column::Status.ne("CANCELLED"))
                    .filter(repair_order::Column::OpenedAt.gte(start))
                    .filter(repair_order::Column::OpenedAt.lt(end));
                if let Some(o) = p.owner_id {
                    q = q.filter(repair_order::Column::AdvisorId.eq(o));
                }
                sea_orm::PaginatorTrait::count(q, db).await?
            }
        } as i64;
        let today = org::rules::local_day(tz, now);
        out.push(WorkPlan {
            id: ids::encode(NodeKind::WorkPlan, p.id),
            kind,
            title: p.title,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            method: PlanMethod::parse(&p.method).unwrap_or(PlanMethod::Other),
            target_count: p.target_count,
            minimum_count: p.minimum_count,
            content: p.content,
            purpose: p.purpose,
            owner_id: p.owner_id.map(|o| ids::encode(NodeKind::Staff, o)),
            actual_count: actual,
            progress: rules::rate(actual, i64::from(p.target_count)),
            status: rules::plan_status(
                p.starts_on,
                p.ends_on,
                today,
                i64::from(p.target_count),
                i64::from(p.minimum_count),
                actual,
            ),
        });
    }
    Ok(out)
}

// ------------------------------------------------------------- targets

/// A staff member's targets for a month; a field left out has no target.
#[derive(InputObject, Clone, Debug)]
pub struct SetStaffTargetInput {
    /// The staff member, in your store.
    pub staff_id: ID,
    /// `YYYY-MM`.
    pub month: String,
    /// Tasks to get done.
    pub tasks_done: Option<i32>,
    /// Service revenue to bring in, in fen.
    pub service_revenue_fen: Option<i64>,
    /// New customers to take on.
    pub new_customers: Option<i32>,
    /// Receivables to collect, in fen.
    pub receivables_fen: Option<i64>,
    /// CSI to reach (0–100).
    pub csi: Option<f64>,
}

/// A staff member's month against their targets.
#[derive(SimpleObject, Clone, Debug)]
pub struct ScorecardRow {
    /// The staff member (key: global id, label: name).
    pub staff: ReportKey,
    /// Tasks done in the month.
    pub tasks_done: i64,
    /// Of which done by their due time.
    pub tasks_on_time: i64,
    /// on time ÷ done.
    pub on_time_rate: Option<f64>,
    /// Cars delivered (sales consultants).
    pub units_delivered: i64,
    /// Service revenue of the orders delivered (advisors), in fen.
    pub service_revenue_fen: i64,
    /// Paid on those orders, in fen: receivables collected.
    pub receivables_collected_fen: i64,
    /// Customers created in the month who are in their care.
    pub new_customers: i64,
    /// Surveys that rated them.
    pub surveys: i64,
    /// Their mean CSI.
    pub csi: Option<f64>,
    /// The targets set for the month.
    pub target: StaffTargets,
    /// Each measure with a target: actual ÷ target.
    pub attainment: Vec<Attainment>,
}

/// The targets of one staff member for one month.
#[derive(SimpleObject, Clone, Debug, Default)]
pub struct StaffTargets {
    /// Units to deliver (the sales quota).
    pub units: Option<i32>,
    /// Tasks to get done.
    pub tasks_done: Option<i32>,
    /// Service revenue, in fen.
    pub service_revenue_fen: Option<i64>,
    /// New customers.
    pub new_customers: Option<i32>,
    /// Receivables to collect, in fen.
    pub receivables_fen: Option<i64>,
    /// CSI to reach.
    pub csi: Option<f64>,
}

/// One measure against its target.
#[derive(SimpleObject, Clone, Debug)]
pub struct Attainment {
    /// `units`, `tasksDone`, `serviceRevenueFen`, `newCustomers`,
    /// `receivablesFen` or `csi`.
    pub measure: String,
    /// actual ÷ target.
    pub rate: Option<f64>,
}

/// Sets (or replaces) a staff member's targets for a month.
pub async fn set_target<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SetStaffTargetInput,
) -> ApiResult<StaffTargets> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let staff_id = ids::decode_field(&input.staff_id, NodeKind::Staff, "staffId")?;
    let month = input.month.trim().to_string();
    if rules::parse_month(&month).is_none() {
        return Err(field("month", UserErrorCode::Invalid, "month is YYYY-MM"));
    }
    let found = staff::Entity::find_by_id(staff_id)
        .filter(staff::Column::StoreId.eq(store_id))
        .one(db)
        .await?;
    if found.is_none() {
        return Err(field(
            "staffId",
            UserErrorCode::NotFound,
            "no staff member with that id in your store",
        ));
    }
    let neg = |name: &str, bad: bool| {
        if bad {
            Err(field(
                name,
                UserErrorCode::OutOfRange,
                "must not be negative",
            ))
        } else {
            Ok(())
        }
    };
    neg("tasksDone", input.tasks_done.is_some_and(|v| v < 0))?;
    neg(
        "serviceRevenueFen",
        input.service_revenue_fen.is_some_and(|v| v < 0),
    )?;
    neg("newCustomers", input.new_customers.is_some_and(|v| v < 0))?;
    neg(
        "receivablesFen",
        input.receivables_fen.is_some_and(|v| v < 0),
    )?;
    if input.csi.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
        return Err(field("csi", UserErrorCode::OutOfRange, "csi is 0 to 100"));
    }
    use staff_target::Column as T;
    staff_target::Entity::insert(staff_target::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        staff_id: Set(staff_id),
        month: Set(month.clone()),
        tasks_done: Set(input.tasks_done),
        service_revenue_fen: Set(input.service_revenue_fen),
        new_customers: Set(input.new_customers),
        receivables_fen: Set(input.receivables_fen),
        csi: Set(input.csi),
        set_by: Set(actor.staff_id),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([T::StaffId, T::Month])
            .update_columns([
                T::TasksDone,
                T::ServiceRevenueFen,
                T::NewCustomers,
                T::ReceivablesFen,
                T::Csi,
                T::SetBy,
                T::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(targets_of(db, Whose::Staff(staff_id), &month)
        .await?
        .remove(&staff_id)
        .unwrap_or_default())
}

/// Whose targets to read.
enum Whose<'a> {
    /// One staff member's.
    Staff(Uuid),
    /// Those of every staff member of these stores (a store-id subquery).
    Stores(&'a sea_orm::sea_query::SelectStatement),
}

/// The targets for `month` (the sales quota included), by staff member.
async fn targets_of<C: ConnectionTrait>(
    db: &C,
    whose: Whose<'_>,
    month: &str,
) -> ApiResult<BTreeMap<Uuid, StaffTargets>> {
    use sales_quota::Column as Q;
    use staff_target::Column as T;
    let (targets, quotas) = match whose {
        Whose::Staff(id) => (
            Condition::all().add(T::StaffId.eq(id)),
            Condition::all().add(Q::StaffId.eq(id)),
        ),
        Whose::Stores(stores) => (
            Condition::all().add(T::StoreId.in_subquery(stores.clone())),
            Condition::all().add(Q::StoreId.in_subquery(stores.clone())),
        ),
    };
    let mut out: BTreeMap<Uuid, StaffTargets> = BTreeMap::new();
    for t in staff_target::Entity::find()
        .filter(targets)
        .filter(T::Month.eq(month))
        .all(db)
        .await?
    {
        let e = out.entry(t.staff_id).or_default();
        e.tasks_done = t.tasks_done;
        e.service_revenue_fen = t.service_revenue_fen;
        e.new_customers = t.new_customers;
        e.receivables_fen = t.receivables_fen;
        e.csi = t.csi;
    }
    for q in sales_quota::Entity::find()
        .filter(quotas)
        .filter(Q::Month.eq(month))
        .all(db)
        .await?
    {
        out.entry(q.staff_id).or_default().units = Some(q.units);
    }
    Ok(out)
}

/// Every staff member's month (`YYYY-MM`) in the stores of `filter`
/// (its dates are ignored), against their targets: the people with work,
/// sales, service, customers, surveys or a target that month.
pub async fn scorecard<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    month: &str,
    mut filter: ReportFilter,
) -> ApiResult<Vec<ScorecardRow>> {
    let first = rules::parse_month(month.trim())
        .ok_or_else(|| ApiError::BadInput("`month` is YYYY-MM".into()))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    filter.from = first;
    filter.to = next.pred_opt().unwrap_or(first);
    let scope = scope(db, actor, &filter).await?;
    let by = |e: Expr| GroupKey::Id(e, NodeKind::Staff);
    use task::Column as T;
    let done = scope
        .within(task::Entity::find(), T::StoreId, T::CompletedAt)
        .filter(T::Status.eq("DONE"));
    let tasks = grouped(
        db,
        &scope,
        done,
        &by(Expr::col((task::Entity, T::AssigneeId))),
        vec![
            super::store::rows(),
            super::store::count_if(Condition::all().add(
                Expr::col((task::Entity, T::CompletedAt)).lte(Expr::col((task::Entity, T::DueAt))),
            )),
        ],
    )
    .await?;
    use sales_order::Column as O;
    let sales = grouped(
        db,
        &scope,
        scope
            .within(sales_order::Entity::find(), O::StoreId, O::DeliveredAt)
            .filter(O::Status.ne("CANCELLED")),
        &by(Expr::col((sales_order::Entity, O::ConsultantId))),
        vec![super::store::rows()],
    )
    .await?;
    use repair_order::Column as R;
    let service = grouped(
        db,
        &scope,
        scope
            .within(repair_order::Entity::find(), R::StoreId, R::DeliveredAt)
            .filter(R::Status.eq("DELIVERED")),
        &by(Expr::col((repair_order::Entity, R::AdvisorId))),
        vec![
            super::store::sum(Expr::col(R::TotalFen)),
            super::store::sum(Expr::col(R::PaidFen)),
        ],
    )
    .await?;
    use customer::Column as Cu;
    let customers = grouped(
        db,
        &scope,
        scope
            .within(customer::Entity::find(), Cu::StoreId, Cu::CreatedAt)
            .filter(Cu::MergedIntoId.is_null()),
        &by(Expr::col((customer::Entity, Cu::ResponsibleStaffId))),
        vec![super::store::rows()],
    )
    .await?;
    use survey_response::Column as S;
    let surveys = grouped(
        db,
        &scope,
        scope.within(survey_response::Entity::find(), S::StoreId, S::AnsweredAt),
        &by(Expr::col((survey_response::Entity, S::StaffId))),
        vec![
            super::store::rows(),
            super::store::sum(Expr::cust("ROUND(\"csi\" * 10)")),
        ],
    )
    .await?;
    // Everyone with work, sales, service, customers or surveys that month
    // (work without an assignee is nobody's row), then those with only a
    // target.
    let targets = targets_of(db, Whose::Stores(&scope.stores), month.trim()).await?;
    let mut rows: super::store::Rows = joined(
        vec![tasks, sales, service, customers, surveys],
        &[2, 1, 2, 1, 2],
        false,
    );
    rows.retain(|(k, _)| k.key != "NONE");
    let seen: Vec<Uuid> = rows
        .iter()
        .filter_map(|(k, _)| ids::decode(&k.key, NodeKind::Staff))
        .collect();
    let only_targets: Vec<Uuid> = targets
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    for (id, name) in names_of(db, NodeKind::Staff, &only_targets).await? {
        let key = ReportKey {
            key: ids::encode(NodeKind::Staff, id).0,
            label: name,
        };
        rows.push((key, vec![0; 8]));
    }
    let mut out: Vec<ScorecardRow> = rows
        .into_iter()
        .map(|(staff, m)| {
            let target = ids::decode(&staff.key, NodeKind::Staff)
                .and_then(|id| targets.get(&id).cloned())
                .unwrap_or_default();
            let row = ScorecardRow {
                staff,
                tasks_done: m[0],
                tasks_on_time: m[1],
                on_time_rate: rules::rate(m[1], m[0]),
                units_delivered: m[2],
                service_revenue_fen: m[3],
                receivables_collected_fen: m[4],
                new_customers: m[5],
                surveys: m[6],
                csi: rules::mean1(m[7] as f64 / 10.0, m[6]),
                attainment: Vec::new(),
                target,
            };
            let attainment = attainment(&row);
            ScorecardRow { attainment, ..row }
        })
        .collect();
    out.sort_by(|a, b| a.staff.label.cmp(&b.staff.label));
    Ok(out)
}

/// Each measure that has a target, actual ÷ target.
fn attainment(r: &ScorecardRow) -> Vec<Attainment> {
    let t = &r.target;
    let pairs: [(&str, Option<f64>, f64); 6] = [
        ("units", t.units.map(f64::from), r.units_delivered as f64),
        (
            "tasksDone",
            t.tasks_done.map(f64::from),
            r.tasks_done as f64,
        ),
        (
            "serviceRevenueFen",
            t.service_revenue_fen.map(|v| v as f64),
            r.service_revenue_fen as f64,
        ),
        (
            "newCustomers",
            t.new_customers.map(f64::from),
            r.new_customers as f64,
        ),
        (
            "receivablesFen",
            t.receivables_fen.map(|v| v as f64),
            r.receivables_collected_fen as f64,
        ),
        ("csi", t.csi, r.csi.unwrap_or(0.0)),
    ];
    pairs
        .into_iter()
        .filter_map(|(measure, target, actual)| {
            let target = target?;
            Some(Attainment {
                measure: measure.into(),
                rate: (target > 0.0).then(|| (actual / target * 10_000.0).round() / 10_000.0),
            })
        })
        .collect()
}
