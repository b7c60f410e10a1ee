//! The arithmetic of reports, plans and trends. Pure: no database.
use async_graphql::Enum;
use chrono::{Datelike, Duration, Months, NaiveDate};

use crate::labels::labeled_enum;

labeled_enum! {
    /// What a work plan plans.
    WorkPlanKind {
        Revisit = "REVISIT" ("Revisit plan: revisit tasks done", "回访计划"),
        CustomerEvent = "CUSTOMER_EVENT" ("Customer event: campaign contacts done", "客户活动计划"),
        ServicePlan = "SERVICE_PLAN" ("Service plan: car entries", "服务计划"),
    }
}

labeled_enum! {
    /// How a plan reaches customers.
    PlanMethod {
        Phone = "PHONE" ("Phone", "电话"),
        Sms = "SMS" ("SMS", "短信"),
        Wechat = "WECHAT" ("WeChat", "微信"),
        Visit = "VISIT" ("Store visit", "到店"),
        Event = "EVENT" ("Event", "活动"),
        Other = "OTHER" ("Other", "其他"),
    }
}

/// How report rows are bucketed in time.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Period {
    /// One row per local day.
    Day,
    /// One row per ISO week (Monday first).
    Week,
    /// One row per calendar month.
    #[default]
    Month,
}

/// The first day of the bucket `day` falls in.
pub fn bucket_start(period: Period, day: NaiveDate) -> NaiveDate {
    match period {
        Period::Day => day,
        Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Period::Month => day.with_day(1).unwrap_or(day),
    }
}

/// A bucket's name as managers read it: `2026-11-23`, `2026-W48`, `2026-11`.
pub fn bucket_label(period: Period, start: NaiveDate) -> String {
    match period {
        Period::Day => start.format("%Y-%m-%d").to_string(),
        Period::Week => {
            let w = start.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => start.format("%Y-%m").to_string(),
    }
}

/// The day number since 1970-01-01 of `day` (what the database's local-day
/// expression gives).
pub fn epoch_day(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The date of a day number since 1970-01-01.
pub fn from_epoch_day(n: i64) -> NaiveDate {
    NaiveDate::default() + Duration::days(n)
}

/// `part / whole`, rounded to four places; none when there is no whole.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// `sum / n`, rounded to one place; none when n is 0.
pub fn mean1(sum: f64, n: i64) -> Option<f64> {
    (n > 0).then(|| (sum / n as f64 * 10.0).round() / 10.0)
}

/// The months `YYYY-MM` from `first` for `n` months.
pub fn months_from(first: NaiveDate, n: u32) -> Vec<NaiveDate> {
    (0..n)
        .filter_map(|i| first.with_day(1)?.checked_add_months(Months::new(i)))
        .collect()
}

/// The first day of `YYYY-MM`.
pub fn parse_month(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
}

/// One month of a store's trend against the months before it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// The month's value.
    pub value: i64,
    /// Mean of the `trailing` months before it (none for the first).
    pub trailing_mean: Option<f64>,
    /// Whether the value fell `alert_percent` or more below that mean.
    pub alert: bool,
}

/// Each value against the mean of up to `trailing` values before it: an
/// alert when it is `alert_percent` % or more below that mean. A month
/// with no months before it raises no alert.
pub fn trend(values: &[i64], trailing: usize, alert_percent: i32) -> Vec<TrendPoint> {
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let before = &values[i.saturating_sub(trailing)..i];
            let trailing_mean = (!before.is_empty())
                .then(|| before.iter().sum::<i64>() as f64 / before.len() as f64);
            let alert = trailing_mean.is_some_and(|m| {
                m > 0.0 && (value as f64) <= m * (1.0 - f64::from(alert_percent) / 100.0)
            });
            TrendPoint {
                value,
                trailing_mean: trailing_mean.map(|m| (m * 10.0).round() / 10.0),
                alert,
            }
        })
        .collect()
}

/// Where a work plan stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanStatus {
    /// Not started yet.
    NotStarted,
    /// At or above the target's pace for the days gone.
    OnTrack,
    /// Below the target's pace.
    Behind,
    /// The target is reached.
    Achieved,
    /// Ended at or above the minimum, below the target.
    Met,
    /// Ended below the minimum.
    Missed,
}

/// A plan's status on `today`: its pace is the target spread evenly over
/// its days (inclusive), so on day 10 of 30 a target of 30 expects 10.
pub fn plan_status(
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    today: NaiveDate,
    target: i64,
    minimum: i64,
    actual: i64,
) -> PlanStatus {
    if actual >= target {
        return PlanStatus::Achieved;
    }
    if today < starts_on {
        return PlanStatus::NotStarted;
    }
    if today > ends_on {
        return if actual >= minimum {
            PlanStatus::Met
        } else {
            PlanStatus::Missed
        };
    }
    let days = (ends_on - starts_on).num_days() + 1;
    let gone = (today - starts_on).num_days() + 1;
    // actual / target >= gone / days, in integers.
    if actual * days >= target * gone {
        PlanStatus::OnTrack
    } else {
        PlanStatus::Behind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn buckets_start_on_monday_and_the_first() {
        assert_eq!(bucket_start(Period::Week, d("2026-11-29")), d("2026-11-23"));
        assert_eq!(bucket_start(Period::Week, d("2026-11-23")), d("2026-11-23"));
        assert_eq!(
            bucket_start(Period::Month, d("2026-11-29")),
            d("2026-11-01")
        );
        assert_eq!(bucket_label(Period::Week, d("2026-11-23")), "2026-W48");
        assert_eq!(from_epoch_day(epoch_day(d("2026-11-23"))), d("2026-11-23"));
    }

    #[test]
    fn a_month_far_below_its_trailing_mean_alerts() {
        let t = trend(&[100, 100, 100, 79, 90], 3, 20);
        assert!(!t[0].alert && t[0].trailing_mean.is_none());
        assert!(!t[2].alert);
        assert!(t[3].alert, "79 is 21 % below 100");
        assert_eq!(t[4].trailing_mean, Some(93.0));
        assert!(!t[4].alert);
    }

    #[test]
    fn plans_are_paced_over_their_days() {
        let (s, e) = (d("2026-11-01"), d("2026-11-30"));
        assert_eq!(
            plan_status(s, e, d("2026-11-10"), 30, 20, 10),
            PlanStatus::OnTrack
        );
        assert_eq!(
            plan_status(s, e, d("2026-11-10"), 30, 20, 9),
            PlanStatus::Behind
        );
        assert_eq!(
            plan_status(s, e, d("2026-11-10"), 30, 20, 30),
            PlanStatus::Achieved
        );
        assert_eq!(
            plan_status(s, e, d("2026-12-01"), 30, 20, 20),
            PlanStatus::Met
        );
        assert_eq!(
            plan_status(s, e, d("2026-12-01"), 30, 20, 19),
            PlanStatus::Missed
        );
        assert_eq!(
            plan_status(s, e, d("2026-10-31"), 30, 20, 0),
            PlanStatus::NotStarted
        );
    }
}
