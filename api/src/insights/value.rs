//! Customer value (the Pareto view, stages, segments, lifetime value) from
//! the standings the daily retention pass keeps, and a store's monthly
//! trend of car entries and service revenue with its alerts.
use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{customer_standing, repair_order};
use sea_orm::{
    sea_query::{Alias, Expr, Query},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::{
    rules::{self, Period},
    store::{grouped, qualified, rows, scope, sum, GroupKey, ReportFilter, ReportKey},
};
use crate::{
    auth::{actor::Reach, Actor},
    error::{ApiError, ApiResult},
    ids::{self, NodeKind},
    org,
};

/// Customers of one stage or segment.
#[derive(SimpleObject, Clone, Debug)]
pub struct ValueBucket {
    /// The stage or segment (key: the enum value).
    pub key: ReportKey,
    /// Customers in it.
    pub customers: i64,
    /// Their revenue so far, in fen.
    pub revenue_fen: i64,
    /// Their estimated lifetime value, in fen.
    pub ltv_fen: i64,
}

/// Who brings the revenue: the Pareto view of the customers in reach.
#[derive(SimpleObject, Clone, Debug)]
pub struct CustomerValueReport {
    /// Customers with a standing.
    pub customers: i64,
    /// Their revenue so far, in fen.
    pub revenue_fen: i64,
    /// The share of customers looked at as the top (0.2: the top 20 %).
    pub top_share: f64,
    /// How many customers that top is.
    pub top_customers: i64,
    /// Their revenue, in fen.
    pub top_revenue_fen: i64,
    /// top revenue ÷ revenue.
    pub top_revenue_share: Option<f64>,
    /// Mean estimated lifetime value, in fen.
    pub mean_ltv_fen: Option<f64>,
    /// Customers by lifecycle stage.
    pub by_stage: Vec<ValueBucket>,
    /// Customers by value segment.
    pub by_segment: Vec<ValueBucket>,
}

/// The Pareto view, stages and segments of the customers of the stores in
/// `filter` (its dates are ignored: standings are as of the last daily
/// pass). Who the top customers are is `customerValues`, which keeps the
/// consent line.
pub async fn customer_value<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    mut filter: ReportFilter,
    top_share: f64,
) -> ApiResult<CustomerValueReport> {
    if !(0.01..=1.0).contains(&top_share) {
        return Err(ApiError::BadInput("`topShare` is 0.01 to 1".into()));
    }
    filter.from = now.date_naive();
    filter.to = filter.from;
    let scope = scope(db, actor, &filter).await?;
    use customer_standing::Column as S;
    let base =
        customer_standing::Entity::find().filter(S::StoreId.in_subquery(scope.stores.clone()));
    let metrics = || {
        vec![
            rows(),
            sum(Expr::col(S::RevenueFen)),
            sum(Expr::col(S::LtvFen)),
        ]
    };
    let bucket = |(key, m): (ReportKey, Vec<i64>)| ValueBucket {
        key,
        customers: m[0],
        revenue_fen: m[1],
        ltv_fen: m[2],
    };
    let by_stage: Vec<ValueBucket> = grouped(
        db,
        &scope,
        base.clone(),
        &GroupKey::Text(Expr::col((customer_standing::Entity, S::Stage))),
        metrics(),
    )
    .await?
    .into_iter()
    .map(bucket)
    .collect();
    let by_segment: Vec<ValueBucket> = grouped(
        db,
        &scope,
        base.clone(),
        &GroupKey::Text(Expr::col((customer_standing::Entity, S::Segment))),
        metrics(),
    )
    .await?
    .into_iter()
    .map(bucket)
    .collect();
    let customers: i64 = by_stage.iter().map(|b| b.customers).sum();
    let revenue: i64 = by_stage.iter().map(|b| b.revenue_fen).sum();
    let ltv: i64 = by_stage.iter().map(|b| b.ltv_fen).sum();
    let top = ((customers as f64) * top_share).ceil() as u64;
    // The top customers' revenue: the highest `top` rows, summed in the
    // database (the standing's revenue index serves a store's order).
    let inner = base
        .select_only()
        .column(S::RevenueFen)
        .order_by_desc(S::RevenueFen)
        .limit(top)
        .into_query();
    let stmt = Query::select()
        .expr_as(
            Expr::cust("CAST(SUM(\"revenue_fen\") AS BIGINT)"),
            Alias::new("top"),
        )
        .from_subquery(inner, Alias::new("t"))
        .to_owned();
    let backend = db.get_database_backend();
    let top_revenue: i64 = match db.query_one_raw(backend.build(&stmt)).await? {
        Some(r) => r.try_get::<Option<i64>>("", "top")?.unwrap_or(0),
        None => 0,
    };
    Ok(CustomerValueReport {
        customers,
        revenue_fen: revenue,
        top_share,
        top_customers: top as i64,
        top_revenue_fen: top_revenue,
        top_revenue_share: rules::rate(top_revenue, revenue),
        mean_ltv_fen: (customers > 0).then(|| (ltv as f64 / customers as f64).round()),
        by_stage,
        by_segment,
    })
}

/// One month of a store's trend.
#[derive(SimpleObject, Clone, Debug)]
pub struct TrendMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Repair orders opened (cancelled ones left out).
    pub car_entries: i64,
    /// Mean car entries of the months before it.
    pub car_entries_mean: Option<f64>,
    /// Whether car entries fell the alert percentage below that mean.
    pub car_entries_alert: bool,
    /// Revenue of the month's car entries delivered so far, in fen.
    pub revenue_fen: i64,
    /// Mean revenue of the months before it.
    pub revenue_mean: Option<f64>,
    /// Whether revenue fell the alert percentage below that mean.
    pub revenue_alert: bool,
}

/// A store's months with their alerts.
#[derive(SimpleObject, Clone, Debug)]
pub struct StoreTrend {
    /// The store.
    pub store_id: ID,
    /// The store's `trendAlertPercent`.
    pub alert_percent: i32,
    /// The store's `trendTrailingMonths`.
    pub trailing_months: i32,
    /// The months, oldest first, the current one last.
    pub months: Vec<TrendMonth>,
    /// Whether the last full month raised an alert (the current month,
    /// not over yet, never does).
    pub alert: bool,
}

/// Car entries and service revenue of a store per month for `months`
/// months up to the current one, each against the mean of the store's
/// `trendTrailingMonths` before it.
pub async fn store_trend<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    store_id: Option<ID>,
    months: i32,
) -> ApiResult<StoreTrend> {
    if !(1..=36).contains(&months) {
        return Err(ApiError::BadInput("`months` is 1 to 36".into()));
    }
    let store = match (store_id, actor.reach()) {
        (Some(id), _) => ids::decode(&id, NodeKind::Store)
            .ok_or_else(|| ApiError::BadInput("storeId is not a Store id".into()))?,
        (None, Reach::Store(s)) => s,
        (None, _) => {
            return Err(ApiError::BadInput(
                "`storeId` is needed above a store".into(),
            ))
        }
    };
    actor.require(&super::store::REPORT_READERS)?;
    if !actor.reaches_store(db, store).await? {
        return Err(ApiError::Forbidden);
    }
    let (settings, tz) = org::store::calendar(db, store).await?;
    let trailing = settings.trend_trailing_months;
    let this_month = rules::bucket_start(Period::Month, org::rules::local_day(tz, now));
    let first = this_month
        .checked_sub_months(chrono::Months::new((months - 1 + trailing) as u32))
        .unwrap_or(this_month);
    let all: Vec<NaiveDate> = rules::months_from(first, (months + trailing) as u32);
    let filter = ReportFilter {
        from: first,
        to: this_month
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(this_month),
        period: Period::Month,
        store_ids: Some(vec![ids::encode(NodeKind::Store, store)]),
        ..Default::default()
    };
    // A longer span than a report allows: two reads of at most a year.
    let mut found = std::collections::HashMap::new();
    let mut from = filter.from;
    while from <= filter.to {
        let to = from
            .checked_add_months(chrono::Months::new(12))
            .and_then(|d| d.pred_opt())
            .unwrap_or(filter.to)
            .min(filter.to);
        let part = ReportFilter {
            from,
            to,
            ..filter.clone()
        };
        let scope = scope(db, actor, &part).await?;
        use repair_order::Column as R;
        let q = scope
            .within(repair_order::Entity::find(), R::StoreId, R::OpenedAt)
            .filter(R::Status.ne("CANCELLED"));
        let rows_found = grouped(
            db,
            &scope,
            q,
            &GroupKey::Day(qualified(repair_order::Entity, R::OpenedAt)),
            vec![
                rows(),
                sum(
                    Expr::case(R::Status.eq("DELIVERED"), Expr::col(R::TotalFen))
                        .finally(0)
                        .into(),
                ),
            ],
        )
        .await?;
        for (k, m) in rows_found {
            found.insert(k.key, (m[0], m[1]));
        }
        from = to + chrono::Duration::days(1);
    }
    let entries: Vec<i64> = all
        .iter()
        .map(|d| {
            found
                .get(&d.format("%Y-%m-%d").to_string())
                .map_or(0, |v| v.0)
        })
        .collect();
    let revenue: Vec<i64> = all
        .iter()
        .map(|d| {
            found
                .get(&d.format("%Y-%m-%d").to_string())
                .map_or(0, |v| v.1)
        })
        .collect();
    let t = trailing as usize;
    let e = rules::trend(&entries, t, settings.trend_alert_percent);
    let r = rules::trend(&revenue, t, settings.trend_alert_percent);
    let mut out: Vec<TrendMonth> = all
        .iter()
        .zip(e.into_iter().zip(r))
        .skip(t)
        .map(|(d, (e, r))| TrendMonth {
            month: d.format("%Y-%m").to_string(),
            car_entries: e.value,
            car_entries_mean: e.trailing_mean,
            car_entries_alert: e.alert,
            revenue_fen: r.value,
            revenue_mean: r.trailing_mean,
            revenue_alert: r.alert,
        })
        .collect();
    // The current month is not over: it is shown, never alerted on.
    if let Some(last) = out.last_mut() {
        last.car_entries_alert = false;
        last.revenue_alert = false;
    }
    let alert = out
        .len()
        .checked_sub(2)
        .and_then(|i| out.get(i))
        .is_some_and(|m| m.car_entries_alert || m.revenue_alert);
    Ok(StoreTrend {
        store_id: ids::encode(NodeKind::Store, store),
        alert_percent: settings.trend_alert_percent,
        trailing_months: trailing,
        months: out,
        alert,
    })
}
