//! Dealer grades and the store's typed settings with their defaults (the
//! figures in DOMAIN.md). Pure: no database.
use async_graphql::{InputObject, SimpleObject};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::labels::labeled_enum;

labeled_enum! {
    /// The OEM's classification of a store by city and size.
    DealerGrade {
        A = "A" ("Grade A", "A级"),
        B = "B" ("Grade B", "B级"),
        C = "C" ("Grade C", "C级"),
        D = "D" ("Grade D", "D级"),
        E = "E" ("Grade E", "E级"),
        F = "F" ("Grade F", "F级"),
    }
}

/// Whether `tz` is an IANA time zone name.
pub fn valid_time_zone(tz: &str) -> bool {
    tz.parse::<chrono_tz::Tz>().is_ok()
}

/// One store setting as a settings screen explains it.
#[derive(SimpleObject, Clone, Debug)]
pub struct SettingDoc {
    /// The field of `StoreSettings` (and of the patch).
    pub name: String,
    /// What it drives.
    pub description: String,
    /// The lowest value allowed.
    pub min: i32,
    /// The highest value allowed.
    pub max: i32,
    /// The value a new store starts with.
    pub default: i32,
}

/// Declares every store setting once: its type, default, allowed range and
/// meaning. From the list come the settings object, its patch input and the
/// patch's validation, so the three can never disagree.
macro_rules! store_settings {
    ($($(#[doc = $doc:literal])* $field:ident : $min:literal ..= $max:literal = $default:literal;)+) => {
        /// Every timing and threshold a store can tune. Stored as JSON; a
        /// setting missing from the stored JSON takes its default, so adding
        /// a setting needs no data migration.
        #[derive(SimpleObject, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
        #[serde(default, rename_all = "camelCase")]
        pub struct StoreSettings {
            $($(#[doc = $doc])* pub $field: i32,)+
        }

        impl Default for StoreSettings {
            fn default() -> Self {
                StoreSettings { $($field: $default,)+ }
            }
        }

        /// Settings to change; fields left out keep their value.
        #[derive(InputObject, Clone, Debug, Default)]
        pub struct StoreSettingsPatch {
            $($(#[doc = $doc])* pub $field: Option<i32>,)+
        }

        impl StoreSettings {
            /// Every setting with what it drives, its range and default: what
            /// a settings screen shows beside each value.
            pub fn catalogue() -> Vec<SettingDoc> {
                vec![$(SettingDoc {
                    name: camel(stringify!($field)),
                    description: [$($doc),*].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
                    min: $min,
                    max: $max,
                    default: $default,
                },)+]
            }

            /// Applies a patch, returning (field, message) for every value
            /// out of range; nothing changes unless all are valid.
            pub fn patched(&self, p: &StoreSettingsPatch) -> Result<StoreSettings, Vec<(String, String)>> {
                let mut next = self.clone();
                let mut errors = Vec::new();
                $(
                    if let Some(v) = p.$field {
                        if ($min..=$max).contains(&v) {
                            next.$field = v;
                        } else {
                            errors.push((camel(stringify!($field)), format!("must be between {} and {}", $min, $max)));
                        }
                    }
                )+
                errors.extend(next.inconsistencies());
                if errors.is_empty() { Ok(next) } else { Err(errors) }
            }
        }
    };
}

store_settings! {
    /// Days between follow-ups of an H lead (buys within 7 days).
    follow_up_days_h: 1..=30 = 1;
    /// Days between follow-ups of an A lead (buys within 15 days).
    follow_up_days_a: 1..=60 = 3;
    /// Days between follow-ups of a B lead (buys within 30 days).
    follow_up_days_b: 1..=90 = 7;
    /// Days between follow-ups of a C lead (buys later).
    follow_up_days_c: 1..=180 = 14;
    /// Purchase horizon of an H lead, in days.
    purchase_horizon_days_h: 1..=365 = 7;
    /// Purchase horizon of an A lead, in days.
    purchase_horizon_days_a: 1..=365 = 15;
    /// Purchase horizon of a B lead, in days.
    purchase_horizon_days_b: 1..=365 = 30;
    /// Days after delivery by which the new owner is revisited.
    delivery_revisit_days: 0..=60 = 7;
    /// A delivery entered after its revisit window still gets a revisit,
    /// due on the next open day and marked late, when it is at most this many
    /// days old (older records are history, not new sales).
    late_delivery_revisit_days: 0..=365 = 30;
    /// Days after delivery when the first-service reminder goes out.
    first_service_reminder_days: 0..=365 = 30;
    /// Months after delivery by which the free first service is due.
    first_service_due_months: 1..=24 = 6;
    /// Lowest mileage (km) at which the first service may be done.
    first_service_min_km: 0..=50000 = 3000;
    /// Mileage (km) by which the first service is due.
    first_service_max_km: 100..=50000 = 5000;
    /// Earliest day after a service visit for its revisit.
    service_revisit_min_days: 0..=30 = 0;
    /// Latest day after a service visit for its revisit.
    service_revisit_max_days: 0..=30 = 3;
    /// Warranty length in years from delivery.
    warranty_years: 0..=10 = 3;
    /// Warranty length in km from delivery.
    warranty_km: 0..=1000000 = 100000;
    /// Days after a service within which its warranty claim must be filed.
    claim_filing_days: 1..=90 = 10;
    /// Kilometres between maintenance services.
    maintenance_interval_km: 1000..=50000 = 5000;
    /// Months between maintenance services.
    maintenance_interval_months: 1..=24 = 6;
    /// Days before a predicted service that its reminder is due.
    maintenance_reminder_days: 0..=60 = 14;
    /// Kilometres a day assumed for a car until its readings show its pace.
    default_daily_km: 1..=500 = 40;
    /// A repair for the same complaint within this many days of the first
    /// visit marks that visit "not fixed first time".
    repeat_repair_days: 1..=180 = 30;
    /// Hours within which a complaint must get a first response.
    complaint_response_hours: 1..=720 = 24;
    /// Hours within which a complaint must be resolved.
    complaint_resolution_hours: 1..=2160 = 72;
    /// Hours within which a severe complaint must get a first response.
    complaint_severe_response_hours: 1..=720 = 4;
    /// Hours within which a severe complaint must be resolved.
    complaint_severe_resolution_hours: 1..=2160 = 24;
    /// Hours within which a minor complaint must get a first response.
    complaint_minor_response_hours: 1..=720 = 48;
    /// Hours within which a minor complaint must be resolved.
    complaint_minor_resolution_hours: 1..=2160 = 168;
    /// Days after closing a complaint by which the customer is revisited.
    complaint_revisit_days: 0..=30 = 3;
    /// Unanswered revisit attempts after which a revisit closes as
    /// unreachable.
    revisit_max_attempts: 1..=10 = 3;
    /// An overall survey score (1-10) below this opens a complaint (1 =
    /// never).
    survey_complaint_below: 1..=10 = 6;
    /// Hours past a missed deadline before a complaint escalates to the OEM.
    complaint_oem_escalation_hours: 1..=2160 = 48;
    /// Months without a visit after which a customer counts as lapsed.
    lapsed_after_months: 1..=60 = 12;
    /// Days past a car's predicted service without a visit before its
    /// owner counts as at risk (and declining).
    retention_margin_days: 0..=365 = 30;
    /// Days before a car's warranty ends that its owner counts as at risk.
    warranty_ending_days: 0..=365 = 60;
    /// Service visits in 24 months that make an owner loyal.
    loyal_visits: 1..=50 = 3;
    /// Days a care agent has for a win-back contact.
    win_back_days: 1..=60 = 7;
    /// Lifetime value: cars a customer buys in a lifetime, in tenths.
    ltv_lifetime_cars_tenths: 10..=100 = 30;
    /// Lifetime value: years of parts and service counted.
    ltv_service_years: 1..=40 = 10;
    /// Lifetime value: finance and insurance income per car, in permille of
    /// its price.
    ltv_finance_permille: 0..=300 = 30;
    /// Lifetime value: the car price assumed for a customer who has bought
    /// none here, in yuan.
    ltv_car_price_yuan: 10000..=5000000 = 150000;
    /// Hour (store time) from which no SMS or call goes out.
    quiet_hours_start: 0..=23 = 21;
    /// Hour (store time) until which no SMS or call goes out.
    quiet_hours_end: 0..=23 = 8;
    /// 1 to move due dates that fall on a closed weekday to the next open day.
    move_off_closed_days: 0..=1 = 0;
    /// Days the store is closed, as a bit set: 1 = Monday ... 64 = Sunday.
    closed_weekdays: 0..=127 = 0;
    /// Hours before a task is due that its assignee is reminded (0 = never).
    task_reminder_hours: 0..=168 = 24;
    /// Hours an overdue task waits at one escalation level before the next.
    task_escalation_hours: 1..=720 = 24;
    /// Delivery attempts before a notification is dead-lettered.
    notification_max_attempts: 1..=20 = 5;
    /// Hour (store time) the showroom opens: first-response clocks run in
    /// business hours only.
    opening_hour: 0..=23 = 9;
    /// Hour (store time) the showroom closes.
    closing_hour: 1..=24 = 18;
    /// Minutes of business hours within which a new lead gets its first
    /// contact.
    lead_first_response_minutes: 1..=1440 = 15;
    /// Days without contact after which an open lead counts as dormant.
    lead_dormant_days: 1..=365 = 30;
    /// A consultant's commission per delivered car, in yuan.
    commission_per_unit_yuan: 0..=100000 = 300;
    /// A consultant's commission in permille of the net price (price less
    /// discount), on top of the per-car amount.
    commission_permille: 0..=100 = 0;
    /// A month whose car entries or service revenue fall this many percent
    /// below the mean of the months before it raises the store-trend alert.
    trend_alert_percent: 1..=90 = 20;
    /// How many months before a month make the mean it is compared with.
    trend_trailing_months: 1..=12 = 3;
}

// The store's calendar: every business day in the product ("today", "in
// the future", a date a user types, a due day) is the store's local day,
// computed here and nowhere else.

/// A store's time zone; unknown names fall back to China's.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The first instant of a local day, in UTC.
pub fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

/// The last second of a local day, in UTC.
pub fn day_end(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    day_start(tz, day + Duration::days(1)) - Duration::seconds(1)
}

/// The local calendar day of an instant.
pub fn local_day(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Minutes in a booking slot: bookings (test drives, service
/// appointments) are kept per quarter hour.
pub const SLOT_MINUTES: i64 = 15;

/// The quarter hours a booking of `what` from `start` to `end` occupies:
/// both ends on a quarter hour, the end after the start, at most
/// `max_minutes` long.
pub fn quarter_hours(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max_minutes: i64,
    what: &str,
) -> Result<Vec<DateTime<Utc>>, String> {
    use chrono::Timelike;
    let aligned =
        |t: DateTime<Utc>| t.second() == 0 && t.nanosecond() == 0 && t.minute().is_multiple_of(15);
    if !aligned(start) || !aligned(end) {
        return Err(format!(
            "{what} starts and ends on a quarter hour (:00, :15, :30, :45)"
        ));
    }
    if end <= start {
        return Err("endsAt must be after startsAt".into());
    }
    if end - start > Duration::minutes(max_minutes) {
        return Err(format!("{what} lasts at most {} hours", max_minutes / 60));
    }
    let n = (end - start).num_minutes() / SLOT_MINUTES;
    Ok((0..n)
        .map(|i| start + Duration::minutes(i * SLOT_MINUTES))
        .collect())
}

/// `first_service_max_km` → `firstServiceMaxKm`, the GraphQL field name.
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl StoreSettings {
    /// Reads stored settings; anything unreadable falls back to defaults
    /// field by field rather than failing the request.
    pub fn from_json(v: &serde_json::Value) -> StoreSettings {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// The settings as stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn inconsistencies(&self) -> Vec<(String, String)> {
        let mut e = Vec::new();
        if self.first_service_min_km > self.first_service_max_km {
            e.push((
                "firstServiceMinKm".into(),
                "must not exceed firstServiceMaxKm".into(),
            ));
        }
        if self.service_revisit_min_days > self.service_revisit_max_days {
            e.push((
                "serviceRevisitMinDays".into(),
                "must not exceed serviceRevisitMaxDays".into(),
            ));
        }
        for (respond, resolve, name) in [
            (
                self.complaint_response_hours,
                self.complaint_resolution_hours,
                "complaintResolutionHours",
            ),
            (
                self.complaint_severe_response_hours,
                self.complaint_severe_resolution_hours,
                "complaintSevereResolutionHours",
            ),
            (
                self.complaint_minor_response_hours,
                self.complaint_minor_resolution_hours,
                "complaintMinorResolutionHours",
            ),
        ] {
            if resolve < respond {
                e.push((
                    name.into(),
                    "must not be shorter than its response hours".into(),
                ));
            }
        }
        if self.opening_hour >= self.closing_hour {
            e.push(("openingHour".into(), "must be before closingHour".into()));
        }
        if self.closed_weekdays == 127 {
            e.push((
                "closedWeekdays".into(),
                "the store must be open on at least one day".into(),
            ));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_domain_figures() {
        let s = StoreSettings::default();
        assert_eq!(s.delivery_revisit_days, 7);
        assert_eq!(s.first_service_reminder_days, 30);
        assert_eq!((s.warranty_years, s.warranty_km), (3, 100_000));
        assert_eq!(s.claim_filing_days, 10);
        assert_eq!(
            (
                s.follow_up_days_h,
                s.follow_up_days_a,
                s.follow_up_days_b,
                s.follow_up_days_c
            ),
            (1, 3, 7, 14)
        );
    }

    #[test]
    fn missing_fields_take_defaults() {
        let s = StoreSettings::from_json(&serde_json::json!({"deliveryRevisitDays": 5}));
        assert_eq!(s.delivery_revisit_days, 5);
        assert_eq!(s.claim_filing_days, 10);
        assert_eq!(
            StoreSettings::from_json(&serde_json::json!("junk")),
            StoreSettings::default()
        );
    }

    #[test]
    fn patch_checks_ranges_and_consistency() {
        let s = StoreSettings::default();
        let ok = s.patched(&StoreSettingsPatch {
            delivery_revisit_days: Some(5),
            ..Default::default()
        });
        assert_eq!(ok.map(|s| s.delivery_revisit_days), Ok(5));
        let bad = s.patched(&StoreSettingsPatch {
            delivery_revisit_days: Some(-1),
            ..Default::default()
        });
        assert_eq!(bad.unwrap_err()[0].0, "deliveryRevisitDays");
        let bad = s.patched(&StoreSettingsPatch {
            first_service_min_km: Some(9000),
            ..Default::default()
        });
        assert_eq!(bad.unwrap_err()[0].0, "firstServiceMinKm");
    }

    #[test]
    fn error_fields_are_graphql_names() {
        assert_eq!(camel("first_service_max_km"), "firstServiceMaxKm");
        let json = StoreSettings::default().to_json();
        assert!(json.get(camel("follow_up_days_h")).is_some());
    }

    #[test]
    fn time_zones() {
        assert!(valid_time_zone("Asia/Shanghai"));
        assert!(!valid_time_zone("Mars/Olympus"));
    }
}
