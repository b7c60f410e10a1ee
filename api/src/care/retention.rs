//! Retention: the daily pass that reads each store's history in a few
//! grouped statements, keeps every customer's standing (lifecycle stage,
//! risks, value, Pareto segment) and hands a win-back contact to care for
//! each customer newly at risk; win-back attempts with the reason for
//! leaving, cost and result; the value list.
//!
//! The pass claims one store at a time (its `retention_run` row, locked
//! with SKIP LOCKED on PostgreSQL) and does the store's whole day in that
//! transaction, so any number of workers do each store once a day and a
//! crash loses nothing: the store is taken again.
use std::collections::HashMap;

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    complaint, customer, customer_standing, retention_run, service_forecast, store,
    survey_response, task, vehicle, win_back_attempt,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::rules::{
    self, LeaveReason, Risk, Segment, Stage, StandingFacts, WinBackResult, WIN_BACK,
};
use crate::{
    auth::Actor,
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, LogKind},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::{
        rules::{self as org_rules, StoreSettings},
        store as org,
    },
    tasks::{
        events::{self, TaskChange},
        outbox::{self, Pick, Take},
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// What one run of the pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Stores whose day was done.
    pub stores: u64,
    /// Customers whose standing was refreshed.
    pub customers: u64,
    /// Customers newly at risk (each given a win-back contact).
    pub flagged: u64,
}

/// Does every store whose day has come, one store per transaction.
pub async fn run_due(db: &DatabaseConnection, now: DateTime<Utc>) -> ApiResult<PassReport> {
    enrol_stores(db, now).await?;
    let mut report = PassReport::default();
    for _ in 0..100_000 {
        match store_day(db, now).await? {
            Some((customers, flagged)) => {
                report.stores += 1;
                report.customers += customers;
                report.flagged += flagged;
            }
            None => break,
        }
    }
    Ok(report)
}

/// Runs the pass every `every` until the process ends.
pub async fn run(
    db: DatabaseConnection,
    clock: std::sync::Arc<dyn crate::Clock>,
    every: std::time::Duration,
) {
    loop {
        match run_due(&db, clock.now()).await {
            Ok(r) if r.stores > 0 => tracing::info!(?r, "retention pass"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "retention pass failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Gives every store without one its pass row, due now.
async fn enrol_stores(db: &DatabaseConnection, now: DateTime<Utc>) -> ApiResult<()> {
    let known: Vec<Uuid> = retention_run::Entity::find()
        .select_only()
        .column(retention_run::Column::StoreId)
        .into_tuple()
        .all(db)
        .await?;
    let all: Vec<Uuid> = store::Entity::find()
        .select_only()
        .column(store::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let new: Vec<_> = all
        .into_iter()
        .filter(|s| !known.contains(s))
        .map(|s| retention_run::ActiveModel {
            store_id: Set(s),
            last_day: Set(None),
            next_at: Set(now),
            customers: Set(0),
            flagged: Set(0),
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    retention_run::Entity::insert_many(new)
        .on_conflict(
            OnConflict::column(retention_run::Column::StoreId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Claims one store whose day has come and does it; `None` when none is
/// left.
async fn store_day(db: &DatabaseConnection, now: DateTime<Utc>) -> ApiResult<Option<(u64, u64)>> {
    let txn = db.begin().await?;
    let taken = outbox::take_returning(
        &txn,
        retention_run::Entity,
        Take::Update("next_at = $1"),
        Pick {
            key: "store_id",
            cond: "next_at <= $2",
            order: "next_at",
            limit: 1,
        },
        vec![(now + Duration::hours(1)).into(), now.into()],
    )
    .await?;
    let Some(run) = taken.into_iter().next() else {
        txn.commit().await?;
        return Ok(None);
    };
    let (settings, tz) = org::calendar(&txn, run.store_id).await?;
    let today = org_rules::local_day(tz, now);
    let (n, made) = refresh_store(&txn, run.store_id, &settings, tz, today, now).await?;
    retention_run::Entity::update_many()
        .col_expr(retention_run::Column::LastDay, Expr::value(today))
        .col_expr(
            retention_run::Column::NextAt,
            Expr::value(org_rules::day_start(tz, today + Duration::days(1))),
        )
        .col_expr(retention_run::Column::Customers, Expr::value(n as i32))
        .col_expr(
            retention_run::Column::Flagged,
            Expr::value(made.len() as i32),
        )
        .filter(retention_run::Column::StoreId.eq(run.store_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    Ok(Some((n, made.len() as u64)))
}

#[derive(FromQueryResult)]
struct Visits {
    customer_id: Uuid,
    last_at: Option<DateTime<Utc>>,
    v12: i64,
    v24: i64,
    revenue: i64,
    rev12: i64,
}

#[derive(FromQueryResult)]
struct Sales {
    customer_id: Uuid,
    cars: i64,
    revenue: i64,
}

/// Everything the rules need about a store's customers, in a few grouped
/// statements.
async fn facts<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    settings: &StoreSettings,
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> ApiResult<HashMap<Uuid, StandingFacts>> {
    let backend = db.get_database_backend();
    let ids: Vec<Uuid> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(customer::Column::StoreId.eq(store_id))
        .filter(customer::Column::MergedIntoId.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, StandingFacts> = ids
        .into_iter()
        .map(|id| (id, StandingFacts::default()))
        .collect();
    let cars: Vec<(Uuid, Uuid, Option<NaiveDate>, Option<NaiveDate>)> = vehicle::Entity::find()
        .select_only()
        .column(vehicle::Column::Id)
        .column(vehicle::Column::OwnerId)
        .column(vehicle::Column::DeliveryDate)
        .column(vehicle::Column::WarrantyEndsOn)
        .filter(vehicle::Column::StoreId.eq(store_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut owner_of = HashMap::with_capacity(cars.len());
    for (id, owner, delivered, warranty) in cars {
        owner_of.insert(id, owner);
        if let Some(f) = out.get_mut(&owner) {
            f.vehicles += 1;
            f.first_delivery = min_date(f.first_delivery, delivered);
            f.warranty_ends = min_date(f.warranty_ends, warranty.filter(|w| *w >= today));
        }
    }
    let due: Vec<(Uuid, Option<NaiveDate>)> = service_forecast::Entity::find()
        .select_only()
        .column(service_forecast::Column::VehicleId)
        .column(service_forecast::Column::DueOn)
        .filter(service_forecast::Column::StoreId.eq(store_id))
        .into_tuple()
        .all(db)
        .await?;
    for (v, on) in due {
        if let Some(f) = owner_of.get(&v).and_then(|o| out.get_mut(o)) {
            f.next_service_due = min_date(f.next_service_due, on);
        }
    }
    let ago = |months: u32| {
        let d = today
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(NaiveDate::MIN);
        org_rules::day_start(tz, d)
    };
    let visits = Visits::find_by_statement(outbox::statement(
        backend,
        "SELECT customer_id, MAX(opened_at) AS last_at, \
           CAST(SUM(CASE WHEN opened_at >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS v12, \
           CAST(SUM(CASE WHEN opened_at >= $2 THEN 1 ELSE 0 END) AS BIGINT) AS v24, \
           CAST(SUM(total_fen) AS BIGINT) AS revenue, \
           CAST(SUM(CASE WHEN opened_at >= $3 THEN total_fen ELSE 0 END) AS BIGINT) AS rev12 \
         FROM repair_order WHERE store_id = $4 AND status IN ('DONE', 'DELIVERED') \
         GROUP BY customer_id",
        vec![
            ago(12).into(),
            ago(24).into(),
            ago(12).into(),
            store_id.into(),
        ],
    ))
    .all(db)
    .await?;
    for v in visits {
        if let Some(f) = out.get_mut(&v.customer_id) {
            f.last_visit = v.last_at.map(|t| org_rules::local_day(tz, t));
            f.visits_12m = v.v12 as i32;
            f.visits_24m = v.v24 as i32;
            f.service_revenue_fen = v.revenue;
            f.service_revenue_12m_fen = v.rev12;
        }
    }
    let sales = Sales::find_by_statement(outbox::statement(
        backend,
        "SELECT customer_id, COUNT(*) AS cars, \
           CAST(SUM(price_yuan - discount_yuan) * 100 AS BIGINT) AS revenue \
         FROM sales_order WHERE store_id = $1 AND delivered_at IS NOT NULL GROUP BY customer_id",
        vec![store_id.into()],
    ))
    .all(db)
    .await?;
    for s in sales {
        if let Some(f) = out.get_mut(&s.customer_id) {
            f.cars_bought = s.cars as i32;
            f.sales_revenue_fen = s.revenue;
        }
    }
    let open: Vec<Uuid> = complaint::Entity::find()
        .select_only()
        .column(complaint::Column::CustomerId)
        .filter(complaint::Column::StoreId.eq(store_id))
        .filter(complaint::Column::Status.is_in(["OPEN", "IN_PROGRESS"]))
        .into_tuple()
        .all(db)
        .await?;
    for c in open {
        if let Some(f) = out.get_mut(&c) {
            f.open_complaints += 1;
        }
    }
    let low: Vec<Uuid> = survey_response::Entity::find()
        .select_only()
        .column(survey_response::Column::CustomerId)
        .filter(survey_response::Column::StoreId.eq(store_id))
        .filter(survey_response::Column::AnsweredAt.gte(ago(12)))
        .filter(survey_response::Column::Overall.lt(settings.survey_complaint_below))
        .into_tuple()
        .all(db)
        .await?;
    for c in low {
        if let Some(f) = out.get_mut(&c) {
            f.low_satisfaction = true;
        }
    }
    Ok(out)
}

fn min_date(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refreshes every standing of a store for `today` and creates the
/// win-back contacts of those newly at risk. Returns the customers seen
/// and the tasks made.
async fn refresh_store<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    settings: &StoreSettings,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<(u64, Vec<task::Model>)> {
    let facts = facts(db, store_id, settings, today, tz).await?;
    let before: HashMap<Uuid, customer_standing::Model> = customer_standing::Entity::find()
        .filter(customer_standing::Column::StoreId.eq(store_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.customer_id, s))
        .collect();
    let mut ids: Vec<Uuid> = facts.keys().copied().collect();
    ids.sort();
    let revenue: Vec<i64> = ids
        .iter()
        .map(|id| {
            let f = &facts[id];
            f.sales_revenue_fen.saturating_add(f.service_revenue_fen)
        })
        .collect();
    let segments = rules::segments(&revenue);
    let mut rows = Vec::with_capacity(ids.len());
    let mut work = Vec::new();
    for ((id, seg), rev) in ids.iter().zip(segments).zip(&revenue) {
        let f = &facts[id];
        let risks = rules::risks(settings, f, today);
        let old = before.get(id);
        let since = match old.and_then(|s| s.at_risk_since) {
            Some(d) if !risks.is_empty() => Some(d),
            _ if !risks.is_empty() => {
                work.push((
                    RuleTarget {
                        store_id,
                        customer_id: *id,
                        vehicle_id: None,
                        subject: Subject {
                            kind: "Customer",
                            id: *id,
                        },
                        created_by: None,
                        assignee_id: None,
                        // One contact per spell at risk.
                        step: Some(chrono::Datelike::num_days_from_ce(&today)),
                    },
                    rules::win_back(settings, tz, today, &risks),
                ));
                Some(today)
            }
            _ => None,
        };
        let new = customer_standing::Model {
            customer_id: *id,
            store_id,
            stage: rules::stage(settings, f, today).as_str().into(),
            segment: seg.as_str().into(),
            risks: risks
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            at_risk: !risks.is_empty(),
            at_risk_since: since,
            last_visit_on: f.last_visit,
            visits_12m: f.visits_12m,
            vehicles: f.vehicles,
            sales_revenue_fen: f.sales_revenue_fen,
            service_revenue_fen: f.service_revenue_fen,
            revenue_fen: *rev,
            ltv_fen: rules::lifetime_value_fen(settings, f),
            computed_on: today,
        };
        // Most standings do not change from one day to the next: only
        // the changed ones are written (and keep the day they changed).
        let same = old.is_some_and(|o| {
            customer_standing::Model {
                computed_on: today,
                ..o.clone()
            } == new
        });
        if !same {
            rows.push(customer_standing::ActiveModel::from(new).reset_all());
        }
    }
    let n = ids.len() as u64;
    use customer_standing::Column as S;
    // 15 columns × 1,000 rows stays under both databases' bind limits.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        customer_standing::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(S::CustomerId)
                    .update_columns([
                        S::StoreId,
                        S::Stage,
                        S::Segment,
                        S::Risks,
                        S::AtRisk,
                        S::AtRiskSince,
                        S::LastVisitOn,
                        S::Visits12m,
                        S::Vehicles,
                        S::SalesRevenueFen,
                        S::ServiceRevenueFen,
                        S::RevenueFen,
                        S::LtvFen,
                        S::ComputedOn,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let made = tasks::create_for_many(db, settings, work, now).await?;
    Ok((n, made))
}

/// The standing of a customer, if visible and computed.
pub async fn standing<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    customer_id: Uuid,
) -> ApiResult<Option<customer_standing::Model>> {
    let Some(c) = customers::find(db, actor, customer_id).await? else {
        return Ok(None);
    };
    Ok(customer_standing::Entity::find_by_id(c.id).one(db).await?)
}

/// Filters of the value list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct CustomerValueFilter {
    /// Only these stages.
    pub stage: Option<Vec<Stage>>,
    /// Only these segments.
    pub segment: Option<Vec<Segment>>,
    /// Only customers at risk (true) or not (false).
    pub at_risk: Option<bool>,
    /// Only this store's (network staff).
    pub store_id: Option<ID>,
}

/// How the value list is sorted (highest first).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum CustomerValueOrder {
    /// By lifetime value.
    #[default]
    LifetimeValue,
    /// By revenue so far (sales and service).
    Revenue,
}

impl CustomerValueOrder {
    fn column(self) -> customer_standing::Column {
        match self {
            CustomerValueOrder::LifetimeValue => customer_standing::Column::LtvFen,
            CustomerValueOrder::Revenue => customer_standing::Column::RevenueFen,
        }
    }
    fn key(self, s: &customer_standing::Model) -> i64 {
        match self {
            CustomerValueOrder::LifetimeValue => s.ltv_fen,
            CustomerValueOrder::Revenue => s.revenue_fen,
        }
    }
    fn tag(self) -> &'static str {
        match self {
            CustomerValueOrder::LifetimeValue => "v",
            CustomerValueOrder::Revenue => "r",
        }
    }
}

/// The customers the actor may see, highest first by `order`, `first`
/// after the cursor (which must come from the same order). Returns the
/// rows with their cursors and whether more follow.
pub async fn by_value<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &CustomerValueFilter,
    order: CustomerValueOrder,
    first: u64,
    after: Option<&str>,
) -> ApiResult<(Vec<(String, customer_standing::Model)>, bool)> {
    use customer_standing::Column as S;
    let col = order.column();
    let mut q = customer_standing::Entity::find().filter(customers::records(
        actor,
        S::StoreId,
        S::CustomerId,
    ));
    if let Some(s) = &f.stage {
        q = q.filter(S::Stage.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(s) = &f.segment {
        q = q.filter(S::Segment.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(r) = f.at_risk {
        q = q.filter(S::AtRisk.eq(r));
    }
    if let Some(s) = &f.store_id {
        q = q.filter(S::StoreId.eq(ids::decode_field(s, NodeKind::Store, "storeId")?));
    }
    if let Some(a) = after {
        let (key, id) = decode_value_cursor(a, order.tag()).ok_or_else(|| {
            ApiError::BadInput("`after` is not a valid cursor for this order".into())
        })?;
        q = q.filter(
            Condition::any()
                .add(col.lt(key))
                .add(Condition::all().add(col.eq(key)).add(S::CustomerId.lt(id))),
        );
    }
    let rows = q
        .order_by_desc(col)
        .order_by_desc(S::CustomerId)
        .limit(first + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > first;
    Ok((
        rows.into_iter()
            .take(first as usize)
            .map(|r| {
                let c = encode_value_cursor(order.tag(), order.key(&r), r.customer_id);
                (c, r)
            })
            .collect(),
        more,
    ))
}

fn encode_value_cursor(tag: &str, key: i64, id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{tag}|{key}|{}", id.simple()))
}

fn decode_value_cursor(s: &str, tag: &str) -> Option<(i64, Uuid)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('|');
    (parts.next()? == tag).then_some(())?;
    let ltv = parts.next()?.parse().ok()?;
    let id = Uuid::parse_str(parts.next()?).ok()?;
    Some((ltv, id))
}

/// A win-back attempt.
#[derive(InputObject, Clone, Debug)]
pub struct RecordWinBackInput {
    /// The customer.
    pub customer_id: ID,
    /// Why they left (or are leaving).
    pub reason: Option<LeaveReason>,
    /// What the attempt cost (a voucher, a free service), fen.
    #[graphql(default)]
    pub cost_fen: i64,
    /// The day of the attempt (default today; not in the future).
    pub attempted_on: Option<NaiveDate>,
    /// How it ended.
    pub result: WinBackResult,
    /// Notes.
    pub note: Option<String>,
}

/// Records a win-back attempt; a final result (won back or lost) closes
/// the customer's open win-back contact.
pub async fn record_win_back<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordWinBackInput,
) -> ApiResult<win_back_attempt::Model> {
    actor.require(&[
        crate::auth::Role::CareAgent,
        crate::auth::Role::StoreManager,
        crate::auth::Role::ServiceAdvisor,
        crate::auth::Role::SalesConsultant,
    ])?;
    let cid = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    let c = customers::find_writable(db, actor, cid, "customerId").await?;
    let reason = input.reason.ok_or_else(|| {
        ApiError::field(
            "reason",
            UserErrorCode::Required,
            "say why the customer left or is leaving",
        )
    })?;
    if !(0..=100_000_000).contains(&input.cost_fen) {
        return Err(ApiError::field(
            "costFen",
            UserErrorCode::OutOfRange,
            "the cost is between 0 and 1,000,000 yuan",
        ));
    }
    let today = org::today_at(db, c.store_id, now).await?;
    let on = input.attempted_on.unwrap_or(today);
    if on > today {
        return Err(ApiError::field(
            "attemptedOn",
            UserErrorCode::OutOfRange,
            "an attempt is recorded once made, not ahead",
        ));
    }
    let note = text_rules::opt_text(input.note.as_deref(), "note", 2000)?;
    let txn = db.begin().await?;
    let open = tasks::live_for_subject_rule(&txn, c.id, WIN_BACK).await?;
    let row = win_back_attempt::Entity::insert(win_back_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(c.store_id),
        customer_id: Set(c.id),
        task_id: Set(open.as_ref().map(|t| t.id)),
        staff_id: Set(actor.staff_id),
        reason: Set(reason.as_str().into()),
        cost_fen: Set(input.cost_fen),
        attempted_on: Set(on),
        result: Set(input.result.as_str().into()),
        note: Set(note),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    let mut done = Vec::new();
    if input.result != WinBackResult::Pending {
        done = tasks::done_for_subject_rules(
            &txn,
            c.id,
            &[WIN_BACK],
            &format!("Win-back: {}", input.result.label_en()),
            actor.staff_id,
            now,
        )
        .await?;
    }
    log::append(
        &txn,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.id,
            kind: LogKind::Contact,
            channel: Channel::Phone,
            staff_id: Some(actor.staff_id),
            summary: format!("Win-back attempt: {}", reason.label_en()),
            outcome: Some(input.result.label_en().into()),
            subject: Some(("WinBackAttempt", row.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    events::publish_all(&done, TaskChange::Completed);
    Ok(row)
}

/// The win-back attempts of a customer, newest first.
pub async fn attempts<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
) -> ApiResult<Vec<win_back_attempt::Model>> {
    Ok(win_back_attempt::Entity::find()
        .filter(win_back_attempt::Column::CustomerId.eq(customer_id))
        .order_by_desc(win_back_attempt::Column::Id)
        .all(db)
        .await?)
}

/// The risks a standing row names.
pub fn risks_of(s: &customer_standing::Model) -> Vec<Risk> {
    s.risks.split(',').filter_map(Risk::parse).collect()
}
