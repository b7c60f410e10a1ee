//! The reports' reads: each groups one fact table (leads, repair orders,
//! complaints, tasks, claims, surveys, standings) in the database by the
//! row's key and local day, so a report over a network reads aggregates,
//! never its rows; the days are then folded into days, weeks or months.
use std::collections::{BTreeMap, HashMap};

use async_graphql::{Enum, InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use entity::{
    complaint, lead, repair_order, sales_order, staff, store, survey_response, task, test_drive,
    vehicle, warranty_claim,
};
use sea_orm::{
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr},
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, Select,
};
use uuid::Uuid;

use super::rules::{self, Period};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::rules::CustomerSource,
    error::{ApiError, ApiResult},
    ids::{self, NodeKind},
    org::{self, rules::DealerGrade},
    sales::rules::LeadGrade,
};

/// Who reads reports: managers of a store, a group or the network.
pub const REPORT_READERS: [Role; 4] = [
    Role::StoreManager,
    Role::GroupManager,
    Role::OemStaff,
    Role::Admin,
];

/// The longest period one report covers.
const MAX_DAYS: i64 = 366;

/// What every report is sliced by.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ReportFilter {
    /// First local day of the period (inclusive).
    pub from: NaiveDate,
    /// Last local day of the period (inclusive), at most a year after
    /// `from`.
    pub to: NaiveDate,
    /// How rows are bucketed when grouped by period.
    #[graphql(default)]
    pub period: Period,
    /// Only these stores (within your reach).
    pub store_ids: Option<Vec<ID>>,
    /// Only stores of this dealer grade.
    pub dealer_grade: Option<DealerGrade>,
    /// Only stores in this city.
    pub city: Option<String>,
    /// Only leads from this channel (sales funnel).
    pub channel: Option<CustomerSource>,
    /// Only leads of this intent grade (sales funnel).
    pub grade: Option<LeadGrade>,
    /// Only this model: the lead's model of interest, the serviced car's
    /// model.
    pub model: Option<String>,
}

/// How a report's rows are grouped.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportBy {
    /// One row per day, week or month (`filter.period`).
    Period,
    /// One row per store.
    Store,
    /// One row per staff member (consultant, advisor, complaint owner,
    /// task assignee).
    Staff,
    /// One row per lead channel.
    Channel,
    /// One row per intent grade.
    Grade,
    /// One row per car model.
    Model,
    /// One row per complaint cause.
    Cause,
    /// One row per complaint category.
    Category,
    /// One row per department complained about.
    Department,
    /// One row per lost reason.
    LostReason,
}

/// A report's key: what one row is about.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct ReportKey {
    /// The store's or staff member's global id, the enum value, the model,
    /// or the period's first day (`YYYY-MM-DD`).
    pub key: String,
    /// What a person reads: the name, the value, or `2026-11`,
    /// `2026-W48`, `2026-11-23`.
    pub label: String,
}

/// The checked scope of one report run.
pub(crate) struct Scope {
    /// The ids of the stores the rows may come from.
    pub stores: SelectStatement,
    /// Start and end (exclusive) instants of the period.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds the report's zone is ahead of UTC.
    pub offset: i32,
    pub period: Period,
    pub backend: DbBackend,
}

fn bad(msg: &str) -> ApiError {
    ApiError::BadInput(msg.into())
}

/// Checks the caller and the filter, and fixes the report's stores, its
/// instants and its zone (the caller's store's, or the first store in
/// reach for group and OEM staff).
pub(crate) async fn scope<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &ReportFilter,
) -> ApiResult<Scope> {
    actor.require(&REPORT_READERS)?;
    if f.to < f.from || (f.to - f.from).num_days() >= MAX_DAYS {
        return Err(bad("`to` is on or after `from`, less than a year later"));
    }
    let mut cond = Condition::all().add(store::Column::Id.in_subquery(actor.store_ids_query()));
    if let Some(ids) = &f.store_ids {
        if ids.len() > 500 {
            return Err(bad("at most 500 storeIds"));
        }
        let ids = ids
            .iter()
            .map(|id| {
                ids::decode(id, NodeKind::Store).ok_or_else(|| bad("storeIds holds a non-Store id"))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        cond = cond.add(store::Column::Id.is_in(ids));
    }
    if let Some(g) = f.dealer_grade {
        cond = cond.add(store::Column::Grade.eq(g.as_str()));
    }
    if let Some(c) = &f.city {
        cond = cond.add(store::Column::City.eq(c.trim()));
    }
    let mut stores = Query::select();
    stores
        .column(store::Column::Id)
        .from(store::Entity)
        .cond_where(cond);
    let zone = zone_for(db, actor).await?;
    let start = org::rules::day_start(zone, f.from);
    let end = org::rules::day_start(zone, f.to + chrono::Duration::days(1));
    Ok(Scope {
        stores,
        start,
        end,
        offset: zone
            .offset_from_utc_datetime(&start.naive_utc())
            .fix()
            .local_minus_utc(),
        period: f.period,
        backend: db.get_database_backend(),
    })
}

/// The zone a report's days are counted in: a store's staff carry their
/// store's; above a store, the first store in reach.
async fn zone_for<C: ConnectionTrait>(db: &C, actor: &Actor) -> ApiResult<Tz> {
    if let Reach::Store(_) = actor.reach() {
        return Ok(actor.zone);
    }
    let first = store::Entity::find()
        .filter(store::Column::Id.in_subquery(actor.store_ids_query()))
        .order_by_asc(store::Column::Id)
        .one(db)
        .await?;
    Ok(first
        .and_then(|s| s.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai))
}

/// `"table"."column"`, for the hand-written date arithmetic.
pub(crate) fn qualified<E: EntityTrait>(e: E, col: impl ColumnTrait) -> String {
    format!("\"{}\".\"{}\"", e.table_name(), col.as_str())
}

/// Seconds since 1970 of a timestamp column, on either database.
fn epoch(backend: DbBackend, col: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(EXTRACT(EPOCH FROM {col}) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {col}) AS INTEGER)"),
    }
}

impl Scope {
    /// The local day number (days since 1970 in the report's zone) of a
    /// timestamp column.
    fn day_of(&self, col: &str) -> SimpleExpr {
        Expr::cust(format!(
            "CAST(({} + {}) / 86400 AS BIGINT)",
            epoch(self.backend, col),
            self.offset
        ))
    }

    /// Seconds from column `a` to column `b`.
    fn seconds_between(&self, a: &str, b: &str) -> SimpleExpr {
        Expr::cust(format!(
            "({} - {})",
            epoch(self.backend, b),
            epoch(self.backend, a)
        ))
    }

    /// Rows of `select` from the stores (by `store`) whose `at` falls in
    /// the period.
    pub(crate) fn within<E: EntityTrait>(
        &self,
        select: Select<E>,
        store: impl ColumnTrait,
        at: impl ColumnTrait,
    ) -> Select<E> {
        select
            .filter(store.in_subquery(self.stores.clone()))
            .filter(at.gte(self.start))
            .filter(at.lt(self.end))
    }
}

/// 1 where `cond` holds, summed: how many rows meet it.
pub(crate) fn count_if(cond: impl Into<Condition>) -> SimpleExpr {
    sum(Expr::case(cond.into(), 1).finally(0).into())
}

/// A 64-bit sum on both databases (PostgreSQL sums bigints as numeric).
pub(crate) fn sum(e: SimpleExpr) -> SimpleExpr {
    Func::cast_as(Func::sum(e), Alias::new("BIGINT")).into()
}

/// Rows counted.
pub(crate) fn rows() -> SimpleExpr {
    Func::cast_as(Func::count(Expr::col(Asterisk)), Alias::new("BIGINT")).into()
}

/// What a grouped row is keyed by in the database.
pub(crate) enum GroupKey {
    /// A store or staff id, named afterwards.
    Id(SimpleExpr, NodeKind),
    /// A text value (enum, model).
    Text(SimpleExpr),
    /// The local day of a timestamp column (`"table"."col"`).
    Day(String),
}

/// One grouped row as read.
struct Grouped {
    id: Option<Uuid>,
    text: Option<String>,
    day: Option<i64>,
    m: Vec<i64>,
}

impl FromQueryResult for Grouped {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        let names = res.column_names();
        let mut m = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.starts_with('m') {
                m.push(res.try_get_by_index::<Option<i64>>(i)?.unwrap_or(0));
            }
        }
        let has = |n: &str| names.iter().any(|c| c == n);
        Ok(Grouped {
            id: if has("k_id") {
                res.try_get("", "k_id")?
            } else {
                None
            },
            text: if has("k_text") {
                res.try_get("", "k_text")?
            } else {
                None
            },
            day: if has("k_day") {
                res.try_get("", "k_day")?
            } else {
                None
            },
            m,
        })
    }
}

/// Sums per row key, in key order (periods oldest first; others by label).
pub(crate) type Rows = Vec<(ReportKey, Vec<i64>)>;

/// Runs `select` grouped by `key` with `metrics` (each a 64-bit integer),
/// folds local days into the scope's periods, and names ids.
pub(crate) async fn grouped<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    select: Select<E>,
    key: &GroupKey,
    metrics: Vec<SimpleExpr>,
) -> ApiResult<Rows> {
    let mut q = select.select_only();
    match key {
        GroupKey::Id(e, _) => q = q.column_as(e.clone(), "k_id").group_by(e.clone()),
        GroupKey::Text(e) => q = q.column_as(e.clone(), "k_text").group_by(e.clone()),
        GroupKey::Day(col) => {
            let e = scope.day_of(col);
            q = q.column_as(e.clone(), "k_day").group_by(e);
        }
    }
    for (i, m) in metrics.into_iter().enumerate() {
        q = q.column_as(m, format!("m{i}"));
    }
    let found = q.into_model::<Grouped>().all(db).await?;
    // (id, key text) → (label, sums); ids are named after the fold.
    let mut folded: BTreeMap<(Option<Uuid>, String), (String, Vec<i64>)> = BTreeMap::new();
    for g in found {
        let (k, label) = match (key, g.day) {
            (GroupKey::Day(_), Some(day)) => {
                let start = rules::bucket_start(scope.period, rules::from_epoch_day(day));
                (
                    (None, start.format("%Y-%m-%d").to_string()),
                    rules::bucket_label(scope.period, start),
                )
            }
            (GroupKey::Id(..), _) => ((g.id, String::new()), String::new()),
            _ => {
                let text = g.text.unwrap_or_else(|| "NONE".into());
                ((None, text.clone()), text)
            }
        };
        let (_, sums) = folded.entry(k).or_insert((label, Vec::new()));
        sums.resize(g.m.len().max(sums.len()), 0);
        for (s, v) in sums.iter_mut().zip(g.m) {
            *s += v;
        }
    }
    let names = match key {
        GroupKey::Id(_, kind) => {
            let ids: Vec<Uuid> = folded.keys().filter_map(|(id, _)| *id).collect();
            names_of(db, *kind, &ids).await?
        }
        _ => HashMap::new(),
    };
    let mut out: Rows = folded
        .into_iter()
        .map(|((id, text), (label, m))| {
            let key = match (key, id) {
                (GroupKey::Id(_, kind), Some(id)) => ReportKey {
                    key: ids::encode(*kind, id).0,
                    label: names.get(&id).cloned().unwrap_or_default(),
                },
                (GroupKey::Id(..), None) => ReportKey {
                    key: "NONE".into(),
                    label: "—".into(),
                },
                _ => ReportKey { key: text, label },
            };
            (key, m)
        })
        .collect();
    in_report_order(&mut out, matches!(key, GroupKey::Day(_)));
    Ok(out)
}

/// Periods in time order (their keys are first days, `YYYY-MM-DD`), other
/// rows by what they are called.
fn in_report_order(rows: &mut Rows, by_period: bool) {
    if by_period {
        rows.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    } else {
        rows.sort_by(|a, b| a.0.label.cmp(&b.0.label).then(a.0.key.cmp(&b.0.key)));
    }
}

/// Several grouped reads of one report joined on their row key: each key
/// once, the sums of each read side by side (`widths[i]` zeros where read
/// `i` has no row for it), in report order.
pub(crate) fn joined(parts: Vec<Rows>, widths: &[usize], by_period: bool) -> Rows {
    let total: usize = widths.iter().sum();
    let mut by_key: BTreeMap<String, (ReportKey, Vec<i64>)> = BTreeMap::new();
    let mut at = 0;
    for (part, width) in parts.into_iter().zip(widths) {
        for (key, m) in part {
            let (_, sums) = by_key
                .entry(key.key.clone())
                .or_insert_with(|| (key, vec![0; total]));
            for (s, v) in sums[at..at + width].iter_mut().zip(m) {
                *s = v;
            }
        }
        at += width;
    }
    let mut out: Rows = by_key.into_values().collect();
    in_report_order(&mut out, by_period);
    out
}

/// Names of stores or staff by id (one statement).
pub(crate) async fn names_of<C: ConnectionTrait>(
    db: &C,
    kind: NodeKind,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = match kind {
        NodeKind::Store => {
            store::Entity::find()
                .select_only()
                .column(store::Column::Id)
                .column(store::Column::Name)
                .filter(store::Column::Id.is_in(ids.iter().copied()))
                .into_tuple()
                .all(db)
                .await?
        }
        _ => {
            staff::Entity::find()
                .select_only()
                .column(staff::Column::Id)
                .column(staff::Column::Name)
                .filter(staff::Column::Id.is_in(ids.iter().copied()))
                .into_tuple()
                .all(db)
                .await?
        }
    };
    Ok(rows.into_iter().collect())
}

/// Refuses the slices a report cannot honour, rather than ignoring them.
fn only_slices(f: &ReportFilter, channel_grade: bool, model: bool) -> ApiResult<()> {
    if !channel_grade && (f.channel.is_some() || f.grade.is_some()) {
        return Err(bad("`channel` and `grade` slice the sales funnel only"));
    }
    if !model && f.model.is_some() {
        return Err(bad("this report cannot be sliced by `model`"));
    }
    Ok(())
}

fn unsupported(by: ReportBy) -> ApiError {
    bad(&format!("this report cannot be grouped by {by:?}"))
}

// ---------------------------------------------------------------- sales

/// One row of the sales funnel: leads created in the period and how far
/// they got.
#[derive(SimpleObject, Clone, Debug)]
pub struct FunnelRow {
    /// What the row is about.
    pub key: ReportKey,
    /// Leads created.
    pub leads: i64,
    /// Of which contacted (first response given).
    pub contacted: i64,
    /// Of which test-driven.
    pub test_driven: i64,
    /// Of which ordered (an order not cancelled).
    pub ordered: i64,
    /// Of which delivered.
    pub delivered: i64,
    /// Of which lost.
    pub lost: i64,
    /// contacted ÷ leads.
    pub contact_rate: Option<f64>,
    /// test-driven ÷ leads.
    pub test_drive_rate: Option<f64>,
    /// ordered ÷ leads.
    pub order_rate: Option<f64>,
    /// delivered ÷ leads: the conversion.
    pub conversion_rate: Option<f64>,
    /// Mean minutes from a lead's arrival to its first response.
    pub mean_first_response_minutes: Option<f64>,
    /// Share of responded leads answered within the store's first-response
    /// time.
    pub responded_in_time_rate: Option<f64>,
}

/// The sales funnel of the leads created in the period.
pub async fn sales_funnel<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &ReportFilter,
    by: ReportBy,
) -> ApiResult<Vec<FunnelRow>> {
    use lead::Column as L;
    let scope = scope(db, actor, f).await?;
    let key = match by {
        ReportBy::Period => GroupKey::Day(qualified(lead::Entity, L::CreatedAt)),
        ReportBy::Store => GroupKey::Id(Expr::col((lead::Entity, L::StoreId)), NodeKind::Store),
        ReportBy::Staff => {
            GroupKey::Id(Expr::col((lead::Entity, L::ConsultantId)), NodeKind::Staff)
        }
        ReportBy::Channel => GroupKey::Text(Expr::col((lead::Entity, L::Channel))),
        ReportBy::Grade => GroupKey::Text(Expr::col((lead::Entity, L::Grade))),
        ReportBy::Model => GroupKey::Text(Expr::col((lead::Entity, L::InterestModel))),
        ReportBy::LostReason => GroupKey::Text(Expr::col((lead::Entity, L::LostReason))),
        other => return Err(unsupported(other)),
    };
    let mut q = scope.within(lead::Entity::find(), L::StoreId, L::CreatedAt);
    if let Some(c) = f.channel {
        q = q.filter(L::Channel.eq(c.as_str()));
    }
    if let Some(g) = f.grade {
        q = q.filter(L::Grade.eq(g.as_str()));
    }
    if let Some(m) = &f.model {
        q = q.filter(L::InterestModel.eq(m.trim()));
    }
    // The leads that got a test drive, an order, a delivery: each an
    // uncorrelated subquery over the report's stores, which PostgreSQL
    // hashes once (a correlated EXISTS ran once per lead: 1.27 s over the
    // OEM's million leads, 0.56 s this way).
    let drove = L::Id.in_subquery(
        Query::select()
            .column(test_drive::Column::LeadId)
            .from(test_drive::Entity)
            .and_where(test_drive::Column::Status.eq("DONE"))
            .and_where(test_drive::Column::StoreId.in_subquery(scope.stores.clone()))
            .to_owned(),
    );
    let order = |delivered: bool| {
        let mut s = Query::select();
        s.column(sales_order::Column::LeadId)
            .from(sales_order::Entity)
            .and_where(sales_order::Column::Status.ne("CANCELLED"))
            .and_where(sales_order::Column::StoreId.in_subquery(scope.stores.clone()));
        if delivered {
            s.and_where(sales_order::Column::DeliveredAt.is_not_null());
        }
        L::Id.in_subquery(s.to_owned())
    };
    let responded = L::FirstRespondedAt.is_not_null();
    let wait = scope.seconds_between(
        &qualified(lead::Entity, L::CreatedAt),
        &qualified(lead::Entity, L::FirstRespondedAt),
    );
    let metrics = vec![
        rows(),
        count_if(responded.clone()),
        count_if(drove),
        count_if(order(false)),
        count_if(order(true)),
        count_if(L::Status.eq("LOST")),
        sum(Expr::case(responded.clone(), wait).finally(0).into()),
        count_if(
            Condition::all().add(responded).add(
                Expr::col((lead::Entity, L::FirstRespondedAt))
                    .lte(Expr::col((lead::Entity, L::FirstResponseDueAt))),
            ),
        ),
    ];
    let rows = grouped(db, &scope, q, &key, metrics).await?;
    Ok(rows
        .into_iter()
        .map(|(key, m)| FunnelRow {
            key,
            leads: m[0],
            contacted: m[1],
            test_driven: m[2],
            ordered: m[3],
            delivered: m[4],
            lost: m[5],
            contact_rate: rules::rate(m[1], m[0]),
            test_drive_rate: rules::rate(m[2], m[0]),
            order_rate: rules::rate(m[3], m[0]),
            conversion_rate: rules::rate(m[4], m[0]),
            mean_first_response_minutes: rules::mean1(m[6] as f64 / 60.0, m[1]),
            responded_in_time_rate: rules::rate(m[7], m[1]),
        })
        .collect())
}

// -------------------------------------------------------------- service

/// One row of the service report: car entries in the period and how the
/// work went.
#[derive(SimpleObject, Clone, Debug)]
pub struct ServiceRow {
    /// What the row is about.
    pub key: ReportKey,
    /// Repair orders opened (car entries), cancelled ones left out.
    pub car_entries: i64,
    /// Of which delivered back to the customer.
    pub delivered: i64,
    /// Revenue of the delivered orders, in fen.
    pub revenue_fen: i64,
    /// Paid by the customer so far, in fen.
    pub paid_fen: i64,
    /// Delivered orders fixed the first time ÷ delivered orders.
    pub first_time_fix_rate: Option<f64>,
    /// Orders finished by the time promised ÷ orders with a promise.
    pub on_time_rate: Option<f64>,
    /// After-service surveys answered in the period.
    pub surveys: i64,
    /// Their mean CSI (0–100).
    pub csi: Option<f64>,
}

/// Car entries, revenue, first-time fix, timeliness and, when `with_csi`
/// (the caller selected `surveys` or `csi`), CSI: a second pass over the
/// surveys, as long as the first over the repair orders.
pub async fn service_report<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &ReportFilter,
    by: ReportBy,
    with_csi: bool,
) -> ApiResult<Vec<ServiceRow>> {
    use repair_order::Column as R;
    use survey_response::Column as S;
    only_slices(f, false, true)?;
    let scope = scope(db, actor, f).await?;
    // The serviced car's model, as a scalar subquery.
    let model_of = || -> SimpleExpr {
        let q = Query::select()
            .column((vehicle::Entity, vehicle::Column::Model))
            .from(vehicle::Entity)
            .and_where(
                Expr::col((vehicle::Entity, vehicle::Column::Id))
                    .equals((repair_order::Entity, R::VehicleId)),
            )
            .to_owned();
        SimpleExpr::SubQuery(None, Box::new(q.into()))
    };
    let (orders_key, surveys_key) = match by {
        ReportBy::Period => (
            GroupKey::Day(qualified(repair_order::Entity, R::OpenedAt)),
            Some(GroupKey::Day(qualified(
                survey_response::Entity,
                S::AnsweredAt,
            ))),
        ),
        ReportBy::Store => (
            GroupKey::Id(
                Expr::col((repair_order::Entity, R::StoreId)),
                NodeKind::Store,
            ),
            Some(GroupKey::Id(
                Expr::col((survey_response::Entity, S::StoreId)),
                NodeKind::Store,
            )),
        ),
        ReportBy::Staff => (
            GroupKey::Id(
                Expr::col((repair_order::Entity, R::AdvisorId)),
                NodeKind::Staff,
            ),
            Some(GroupKey::Id(
                Expr::col((survey_response::Entity, S::StaffId)),
                NodeKind::Staff,
            )),
        ),
        ReportBy::Model => (GroupKey::Text(model_of()), None),
        other => return Err(unsupported(other)),
    };
    let mut q = scope
        .within(repair_order::Entity::find(), R::StoreId, R::OpenedAt)
        .filter(R::Status.ne("CANCELLED"));
    if let Some(m) = &f.model {
        q = q.filter(Expr::expr(model_of()).eq(m.trim()));
    }
    let delivered = R::Status.eq("DELIVERED");
    let promised = R::PromisedAt.is_not_null();
    let kept = Expr::expr(Func::coalesce([
        Expr::col((repair_order::Entity, R::DoneAt)),
        Expr::col((repair_order::Entity, R::DeliveredAt)),
    ]))
    .lte(Expr::col((repair_order::Entity, R::PromisedAt)));
    let metrics = vec![
        rows(),
        count_if(delivered.clone()),
        sum(Expr::case(delivered.clone(), Expr::col(R::TotalFen))
            .finally(0)
            .into()),
        sum(Expr::col(R::PaidFen)),
        count_if(
            Condition::all().add(delivered.clone()).add(
                Condition::any()
                    .add(R::FixedFirstTime.is_null())
                    .add(R::FixedFirstTime.eq(true)),
            ),
        ),
        count_if(promised.clone()),
        count_if(Condition::all().add(promised).add(kept)),
    ];
    let orders = grouped(db, &scope, q, &orders_key, metrics).await?;
    let mut surveys = Vec::new();
    if let Some(k) = surveys_key.filter(|_| with_csi) {
        let q = scope
            .within(survey_response::Entity::find(), S::StoreId, S::AnsweredAt)
            .filter(S::Kind.eq("AFTER_SERVICE"));
        let q = match &f.model {
            Some(m) => q.filter(
                S::EventId.in_subquery(
                    Query::select()
                        .column(R::Id)
                        .from(repair_order::Entity)
                        .and_where(Expr::expr(model_of()).eq(m.trim()))
                        .to_owned(),
                ),
            ),
            None => q,
        };
        let metrics = vec![rows(), sum(Expr::cust("ROUND(\"csi\" * 10)"))];
        surveys = grouped(db, &scope, q, &k, metrics).await?;
    }
    // A bucket with surveys and no car entry still has its row.
    Ok(
        joined(vec![orders, surveys], &[7, 2], by == ReportBy::Period)
            .into_iter()
            .map(|(key, m)| ServiceRow {
                key,
                car_entries: m[0],
                delivered: m[1],
                revenue_fen: m[2],
                paid_fen: m[3],
                first_time_fix_rate: rules::rate(m[4], m[1]),
                on_time_rate: rules::rate(m[6], m[5]),
                surveys: m[7],
                csi: rules::mean1(m[8] as f64 / 10.0, m[7]),
            })
            .collect(),
    )
}

// ----------------------------------------------------------- complaints

/// One row of the complaint report.
#[derive(SimpleObject, Clone, Debug)]
pub struct ComplaintRow {
    /// What the row is about.
    pub key: ReportKey,
    /// Complaints received.
    pub complaints: i64,
    /// Of which answered within the response time.
    pub responded_in_time: i64,
    /// Of which resolved.
    pub resolved: i64,
    /// Of which resolved within the resolution time.
    pub resolved_in_time: i64,
    /// responded and resolved in time ÷ complaints: the share within SLA.
    pub within_sla_rate: Option<f64>,
    /// Unresolved and past their resolution deadline now.
    pub overdue: i64,
    /// Escalated past the store at least once.
    pub escalated: i64,
}

/// Counts, share within SLA, overdue and escalations of the complaints
/// received in the period.
pub async fn complaint_report<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    f: &ReportFilter,
    by: ReportBy,
) -> ApiResult<Vec<ComplaintRow>> {
    use complaint::Column as K;
    only_slices(f, false, false)?;
    let scope = scope(db, actor, f).await?;
    let text = |c: K| GroupKey::Text(Expr::col((complaint::Entity, c)));
    let key = match by {
        ReportBy::Period => GroupKey::Day(qualified(complaint::Entity, K::ReceivedAt)),
        ReportBy::Store => {
            GroupKey::Id(Expr::col((complaint::Entity, K::StoreId)), NodeKind::Store)
        }
        ReportBy::Staff => {
            GroupKey::Id(Expr::col((complaint::Entity, K::OwnerId)), NodeKind::Staff)
        }
        ReportBy::Cause => text(K::Cause),
        ReportBy::Category => text(K::Category),
        ReportBy::Department => text(K::Department),
        ReportBy::Channel => text(K::Channel),
        other => return Err(unsupported(other)),
    };
    let q = scope.within(complaint::Entity::find(), K::StoreId, K::ReceivedAt);
    let col = |c: K| Expr::col((complaint::Entity, c));
    let responded_in_time = Condition::all()
        .add(K::RespondedAt.is_not_null())
        .add(col(K::RespondedAt).lte(col(K::ResponseDueAt)));
    let resolved_in_time = Condition::all()
        .add(K::ResolvedAt.is_not_null())
        .add(col(K::ResolvedAt).lte(col(K::ResolutionDueAt)));
    let escalated = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(task::Entity)
            .and_where(
                Expr::col((task::Entity, task::Column::SubjectId))
                    .equals((complaint::Entity, K::Id)),
            )
            .and_where(task::Column::EscalationLevel.gt(0))
            .to_owned(),
    );
    let metrics = vec![
        rows(),
        count_if(responded_in_time.clone()),
        count_if(K::ResolvedAt.is_not_null()),
        count_if(resolved_in_time.clone()),
        count_if(
            Condition::all()
                .add(responded_in_time)
                .add(resolved_in_time),
        ),
        count_if(
            Condition::all()
                .add(K::ResolvedAt.is_null())
                .add(K::ResolutionDueAt.lt(now)),
        ),
        count_if(escalated),
    ];
    Ok(grouped(db, &scope, q, &key, metrics)
        .await?
        .into_iter()
        .map(|(key, m)| ComplaintRow {
            key,
            complaints: m[0],
            responded_in_time: m[1],
            resolved: m[2],
            resolved_in_time: m[3],
            within_sla_rate: rules::rate(m[4], m[0]),
            overdue: m[5],
            escalated: m[6],
        })
        .collect())
}

// ------------------------------------------------------ follow-up work

/// One row of the follow-up report: revisits due and warranty claims of
/// services in the period.
#[derive(SimpleObject, Clone, Debug)]
pub struct FollowUpRow {
    /// What the row is about.
    pub key: ReportKey,
    /// Revisit tasks due in the period.
    pub revisits_due: i64,
    /// Of which done.
    pub revisits_done: i64,
    /// Of which done by their due time.
    pub revisits_on_time: i64,
    /// revisits on time ÷ revisits due.
    pub revisit_on_time_rate: Option<f64>,
    /// Warranty claims opened in the period.
    pub claims: i64,
    /// Of which submitted within the filing window.
    pub claims_filed_on_time: i64,
    /// Of which approved or paid.
    pub claims_approved: i64,
    /// approved ÷ decided (approved, paid or rejected).
    pub claim_approval_rate: Option<f64>,
    /// Paid by the OEM, in fen.
    pub claims_paid_fen: i64,
}

/// Revisits done on time and warranty claims filed on time, approved and
/// paid.
pub async fn follow_up_report<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &ReportFilter,
    by: ReportBy,
) -> ApiResult<Vec<FollowUpRow>> {
    use task::Column as T;
    use warranty_claim::Column as W;
    only_slices(f, false, true)?;
    let scope = scope(db, actor, f).await?;
    let (tasks_key, claims_key) = match by {
        ReportBy::Period => (
            Some(GroupKey::Day(qualified(task::Entity, T::DueAt))),
            GroupKey::Day(qualified(warranty_claim::Entity, W::CreatedAt)),
        ),
        ReportBy::Store => (
            Some(GroupKey::Id(
                Expr::col((task::Entity, T::StoreId)),
                NodeKind::Store,
            )),
            GroupKey::Id(
                Expr::col((warranty_claim::Entity, W::StoreId)),
                NodeKind::Store,
            ),
        ),
        ReportBy::Staff => (
            Some(GroupKey::Id(
                Expr::col((task::Entity, T::AssigneeId)),
                NodeKind::Staff,
            )),
            GroupKey::Id(
                Expr::col((warranty_claim::Entity, W::CreatedBy)),
                NodeKind::Staff,
            ),
        ),
        // Revisit tasks have no model: the claims alone.
        ReportBy::Model => (
            None,
            GroupKey::Text(Expr::col((warranty_claim::Entity, W::Model))),
        ),
        other => return Err(unsupported(other)),
    };
    let done = T::Status.eq("DONE");
    let tasks = if let Some(tasks_key) = tasks_key {
        let q = scope
            .within(task::Entity::find(), T::StoreId, T::DueAt)
            .filter(T::Kind.eq("REVISIT"))
            .filter(T::Status.ne("CANCELLED"));
        grouped(
            db,
            &scope,
            q,
            &tasks_key,
            vec![
                rows(),
                count_if(done.clone()),
                count_if(
                    Condition::all().add(done).add(
                        Expr::col((task::Entity, T::CompletedAt))
                            .lte(Expr::col((task::Entity, T::DueAt))),
                    ),
                ),
            ],
        )
        .await?
    } else {
        Vec::new()
    };
    let mut q = scope.within(warranty_claim::Entity::find(), W::StoreId, W::CreatedAt);
    if let Some(m) = &f.model {
        q = q.filter(W::Model.eq(m.trim()));
    }
    let claims = grouped(
        db,
        &scope,
        q,
        &claims_key,
        vec![
            rows(),
            count_if(
                Condition::all()
                    .add(W::SubmittedAt.is_not_null())
                    .add(W::Late.eq(false)),
            ),
            count_if(W::Status.is_in(["APPROVED", "PAID"])),
            count_if(W::Status.is_in(["APPROVED", "PAID", "REJECTED"])),
            sum(Expr::cust("COALESCE(\"paid_fen\", 0)")),
        ],
    )
    .await?;
    Ok(joined(vec![tasks, claims], &[3, 5], by == ReportBy::Period)
        .into_iter()
        .map(|(key, m)| FollowUpRow {
            key,
            revisits_due: m[0],
            revisits_done: m[1],
            revisits_on_time: m[2],
            revisit_on_time_rate: rules::rate(m[2], m[0]),
            claims: m[3],
            claims_filed_on_time: m[4],
            claims_approved: m[5],
            claim_approval_rate: rules::rate(m[5], m[6]),
            claims_paid_fen: m[7],
        })
        .collect())
}
