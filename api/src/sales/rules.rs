//! The sales vocabulary and its arithmetic: grades and their cadence, the
//! first-response clock in business hours, test-drive slots, the order's
//! states, commission. Pure: no database.
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{
    auth::Role,
    labels::labeled_enum,
    org::rules::StoreSettings,
    tasks::rules::{days_window, local_day, open_day, TaskKind, TaskSpec, Window},
};

labeled_enum! {
    /// How likely and how soon a lead buys (common Chinese dealer practice).
    LeadGrade {
        H = "H" ("H: buys within 7 days", "H级（7天内购买）"),
        A = "A" ("A: buys within 15 days", "A级（15天内购买）"),
        B = "B" ("B: buys within 30 days", "B级（30天内购买）"),
        C = "C" ("C: buys later", "C级（30天以上）"),
    }
}

labeled_enum! {
    /// Where a lead stands.
    LeadStatus {
        New = "NEW" ("New, not yet contacted", "新线索"),
        Contacted = "CONTACTED" ("Being followed up", "跟进中"),
        TestDriven = "TEST_DRIVEN" ("Test driven", "已试驾"),
        Ordered = "ORDERED" ("Ordered", "已下订"),
        Won = "WON" ("Won: delivered", "已成交"),
        Lost = "LOST" ("Lost", "已战败"),
    }
}

labeled_enum! {
    /// When the customer means to buy, as they said.
    PurchaseTiming {
        Within7Days = "WITHIN_7_DAYS" ("Within 7 days", "7天内"),
        Within15Days = "WITHIN_15_DAYS" ("Within 15 days", "15天内"),
        Within30Days = "WITHIN_30_DAYS" ("Within 30 days", "30天内"),
        Later = "LATER" ("Later", "30天以上"),
        Unknown = "UNKNOWN" ("Not said", "未说明"),
    }
}

labeled_enum! {
    /// Why a lead was lost.
    LostReason {
        BoughtCompetitor = "BOUGHT_COMPETITOR" ("Bought a competitor's car", "购买竞品"),
        Price = "PRICE" ("Price", "价格原因"),
        NoBudget = "NO_BUDGET" ("No budget", "预算不足"),
        Unreachable = "UNREACHABLE" ("Unreachable", "无法联系"),
        NoLongerInterested = "NO_LONGER_INTERESTED" ("No longer interested", "放弃购买"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// Where a test drive stands.
    TestDriveStatus {
        Booked = "BOOKED" ("Booked", "已预约"),
        Done = "DONE" ("Driven", "已试驾"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
    }
}

labeled_enum! {
    /// Where an order stands: draft → confirmed → deposit paid → ready →
    /// delivered, or cancelled.
    OrderStatus {
        Draft = "DRAFT" ("Draft", "草稿"),
        Confirmed = "CONFIRMED" ("Confirmed", "已确认"),
        DepositPaid = "DEPOSIT_PAID" ("Deposit paid", "已付定金"),
        Ready = "READY" ("Ready for delivery", "待交车"),
        Delivered = "DELIVERED" ("Delivered", "已交车"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
    }
}

labeled_enum! {
    /// How the car is paid for.
    PaymentMethod {
        Cash = "CASH" ("Full payment", "全款"),
        Loan = "LOAN" ("Loan", "贷款"),
    }
}

/// The rule name of a new lead's first contact.
pub const FIRST_RESPONSE: &str = "lead_first_response";
/// The rule name of a lead's next follow-up.
pub const NEXT_FOLLOW_UP: &str = "lead_follow_up";

/// Longest test drive.
pub const MAX_DRIVE_MINUTES: i64 = 240;
/// Highest price, deposit or discount accepted, in yuan.
pub const MAX_YUAN: i64 = 100_000_000;

impl LeadStatus {
    /// Whether the lead is still being worked.
    pub fn is_open(self) -> bool {
        !matches!(self, LeadStatus::Won | LeadStatus::Lost)
    }

    /// How far along the funnel (a lead only moves forward by itself).
    pub fn rank(self) -> u8 {
        match self {
            LeadStatus::New => 0,
            LeadStatus::Contacted => 1,
            LeadStatus::TestDriven => 2,
            LeadStatus::Ordered => 3,
            LeadStatus::Won | LeadStatus::Lost => 4,
        }
    }

    /// The further of the two.
    pub fn forward(self, to: LeadStatus) -> LeadStatus {
        if to.rank() > self.rank() {
            to
        } else {
            self
        }
    }
}

impl PurchaseTiming {
    /// The grade the timing suggests, when none is given.
    pub fn grade(self) -> LeadGrade {
        match self {
            PurchaseTiming::Within7Days => LeadGrade::H,
            PurchaseTiming::Within15Days => LeadGrade::A,
            PurchaseTiming::Within30Days => LeadGrade::B,
            PurchaseTiming::Later | PurchaseTiming::Unknown => LeadGrade::C,
        }
    }

    /// The grade of a lead a portal or the website posted: as `grade`,
    /// except that one without a timing is B, not C (the person asked to
    /// be contacted).
    pub fn posted_grade(self) -> LeadGrade {
        match self {
            PurchaseTiming::Unknown => LeadGrade::B,
            t => t.grade(),
        }
    }
}

/// Days between follow-ups of a grade (store settings).
pub fn cadence_days(s: &StoreSettings, g: LeadGrade) -> i32 {
    match g {
        LeadGrade::H => s.follow_up_days_h,
        LeadGrade::A => s.follow_up_days_a,
        LeadGrade::B => s.follow_up_days_b,
        LeadGrade::C => s.follow_up_days_c,
    }
}

/// Days within which a lead of this grade expects to buy (C: none).
pub fn horizon_days(s: &StoreSettings, g: LeadGrade) -> Option<i32> {
    match g {
        LeadGrade::H => Some(s.purchase_horizon_days_h),
        LeadGrade::A => Some(s.purchase_horizon_days_a),
        LeadGrade::B => Some(s.purchase_horizon_days_b),
        LeadGrade::C => None,
    }
}

/// `hour` o'clock (0 to 24) of a local day, in UTC.
fn at_hour(tz: Tz, day: NaiveDate, hour: i32) -> DateTime<Utc> {
    let (day, hour) = if hour >= 24 {
        (day + Duration::days(1), 0)
    } else {
        (day, hour.max(0) as u32)
    };
    let local = day.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN));
    match tz.from_local_datetime(&local).earliest() {
        Some(x) => x.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

/// When a lead that arrived at `at` must have had its first contact:
/// `lead_first_response_minutes` of business hours (opening to closing
/// hour, open weekdays), so a lead from the website at 23:00 is due the
/// next morning, not in the night.
pub fn first_response_due(s: &StoreSettings, tz: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    // A closed showroom answers no leads: closed days are skipped whatever
    // the store's setting for moving due dates.
    let open_days = StoreSettings {
        move_off_closed_days: 1,
        ..s.clone()
    };
    let mut left = Duration::minutes(s.lead_first_response_minutes as i64);
    let mut day = local_day(tz, at);
    for _ in 0..400 {
        day = open_day(&open_days, day);
        let start = at_hour(tz, day, s.opening_hour).max(at);
        let close = at_hour(tz, day, s.closing_hour);
        if start < close {
            if start + left <= close {
                return start + left;
            }
            left -= close - start;
        }
        day += Duration::days(1);
    }
    at + Duration::minutes(s.lead_first_response_minutes as i64)
}

/// The task for a new lead's first contact, from its arrival to its
/// deadline.
pub fn first_response(from: DateTime<Utc>, due: DateTime<Utc>, model: Option<&str>) -> TaskSpec {
    TaskSpec {
        kind: TaskKind::FollowUp,
        rule: FIRST_RESPONSE,
        title: format!("新线索首次联系：{}", model.unwrap_or("意向车型待确认")),
        reason: "A new lead: make the first contact before the deadline.".into(),
        window: Window {
            earliest: from.min(due),
            due,
            latest: due,
        },
        queue: Some(Role::SalesConsultant),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// The next follow-up of a lead of grade `g`, counted from `today` by the
/// grade's cadence. Texts name the grade and model only: task texts are read
/// beyond the consent line.
pub fn next_follow_up(
    s: &StoreSettings,
    tz: Tz,
    g: LeadGrade,
    today: NaiveDate,
    model: Option<&str>,
) -> TaskSpec {
    let days = cadence_days(s, g) as i64;
    TaskSpec {
        kind: TaskKind::FollowUp,
        rule: NEXT_FOLLOW_UP,
        title: format!(
            "{}级线索跟进：{}",
            g.as_str(),
            model.unwrap_or("意向车型待确认")
        ),
        reason: format!(
            "Grade {} lead: follow up every {days} days until it is won or lost.",
            g.as_str()
        ),
        window: days_window(s, tz, today, 0, days, days),
        queue: Some(Role::SalesConsultant),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// Whether an open lead has gone without contact for the dormant period.
pub fn is_dormant(s: &StoreSettings, last_contact: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_contact > Duration::days(s.lead_dormant_days as i64)
}

/// The instant before which an open lead's last contact makes it dormant.
pub fn dormant_before(s: &StoreSettings, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(s.lead_dormant_days as i64)
}

/// The quarter hours a drive from `start` to `end` occupies; both ends on a
/// quarter hour, at most 4 hours.
pub fn slots(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, String> {
    crate::org::rules::quarter_hours(start, end, MAX_DRIVE_MINUTES, "a test drive")
}

impl OrderStatus {
    /// Whether the order may move from `self` to `to` by `advanceSalesOrder`
    /// (delivery and cancellation have their own mutations).
    pub fn may_advance_to(self, to: OrderStatus) -> bool {
        matches!(
            (self, to),
            (OrderStatus::Draft, OrderStatus::Confirmed)
                | (OrderStatus::Confirmed, OrderStatus::DepositPaid)
                | (OrderStatus::DepositPaid, OrderStatus::Ready)
                | (OrderStatus::Confirmed, OrderStatus::Ready)
        )
    }

    /// Whether the order is still going somewhere.
    pub fn is_live(self) -> bool {
        !matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }
}

/// A consultant's commission on a sale: the store's amount per car plus
/// its permille of the net price.
pub fn commission(s: &StoreSettings, price: i64, discount: i64) -> i64 {
    s.commission_per_unit_yuan as i64
        + (price - discount).max(0) * s.commission_permille as i64 / 1000
}

/// The checklist a store uses until it sets its own (a common PDI form).
pub const DEFAULT_PDI: [&str; 8] = [
    "外观漆面无划痕 Exterior paint without scratches",
    "随车工具与备胎齐全 Tools and spare wheel present",
    "灯光与电气功能正常 Lights and electrics work",
    "轮胎气压正常 Tyre pressures correct",
    "机油与各液位正常 Oil and fluid levels correct",
    "无故障码 No fault codes",
    "内饰清洁无损 Interior clean and undamaged",
    "随车文件齐全 Papers and manuals present",
];

/// A `YYYY-MM` month, checked.
pub fn month(raw: &str) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", raw.trim()), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((first, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_lead_without_a_timing_is_b() {
        assert_eq!(PurchaseTiming::Unknown.posted_grade(), LeadGrade::B);
        assert_eq!(PurchaseTiming::Unknown.grade(), LeadGrade::C);
        assert_eq!(PurchaseTiming::Within7Days.posted_grade(), LeadGrade::H);
        assert_eq!(PurchaseTiming::Later.posted_grade(), LeadGrade::C);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn first_response_runs_in_business_hours() {
        let s = StoreSettings::default();
        let tz = chrono_tz::Asia::Shanghai;
        // 10:00 local → 10:15 local.
        assert_eq!(
            first_response_due(&s, tz, utc("2026-11-30T02:00:00Z")),
            utc("2026-11-30T02:15:00Z")
        );
        // 23:00 local → 09:15 next morning.
        assert_eq!(
            first_response_due(&s, tz, utc("2026-11-30T15:00:00Z")),
            utc("2026-12-01T01:15:00Z")
        );
        // 17:55 local → 5 minutes today, 10 tomorrow: 09:10.
        assert_eq!(
            first_response_due(&s, tz, utc("2026-11-30T09:55:00Z")),
            utc("2026-12-01T01:10:00Z")
        );
        // Closed on Tuesdays: Monday 23:00 → Wednesday 09:15.
        let closed = StoreSettings {
            closed_weekdays: 2,
            ..s.clone()
        };
        assert_eq!(
            first_response_due(&closed, tz, utc("2026-11-30T15:00:00Z")),
            utc("2026-12-02T01:15:00Z")
        );
    }

    #[test]
    fn cadence_follows_the_grade() {
        let s = StoreSettings::default();
        let tz = chrono_tz::Asia::Shanghai;
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("day");
        let h = next_follow_up(&s, tz, LeadGrade::H, today, Some("锐界"));
        assert_eq!(local_day(tz, h.window.due), today + Duration::days(1));
        let c = next_follow_up(&s, tz, LeadGrade::C, today, None);
        assert_eq!(local_day(tz, c.window.due), today + Duration::days(14));
    }

    #[test]
    fn slots_are_quarter_hours() {
        let s = slots(utc("2026-12-01T02:00:00Z"), utc("2026-12-01T03:00:00Z")).expect("ok");
        assert_eq!(s.len(), 4);
        assert!(slots(utc("2026-12-01T02:05:00Z"), utc("2026-12-01T03:00:00Z")).is_err());
        assert!(slots(utc("2026-12-01T03:00:00Z"), utc("2026-12-01T03:00:00Z")).is_err());
        assert!(slots(utc("2026-12-01T00:00:00Z"), utc("2026-12-01T05:00:00Z")).is_err());
    }

    #[test]
    fn orders_move_forward_only() {
        assert!(OrderStatus::Draft.may_advance_to(OrderStatus::Confirmed));
        assert!(!OrderStatus::Draft.may_advance_to(OrderStatus::Ready));
        assert!(!OrderStatus::Ready.may_advance_to(OrderStatus::Confirmed));
        assert_eq!(
            LeadStatus::Ordered.forward(LeadStatus::Contacted),
            LeadStatus::Ordered
        );
    }

    #[test]
    fn commission_and_months() {
        let s = StoreSettings {
            commission_permille: 5,
            ..StoreSettings::default()
        };
        assert_eq!(commission(&s, 200_000, 10_000), 300 + 950);
        assert!(month("2026-13").is_none());
        assert_eq!(
            month("2026-12").map(|m| m.1),
            NaiveDate::from_ymd_opt(2027, 1, 1)
        );
    }
}
