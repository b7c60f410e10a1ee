//! Task vocabulary, due windows in the store's time zone, the rules that
//! turn events into tasks, retry backoff, quiet hours and message templates.
//! Pure: no database.
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::{auth::Role, labels::labeled_enum, org::rules::StoreSettings};

labeled_enum! {
    /// What kind of work a task is.
    TaskKind {
        FollowUp = "FOLLOW_UP" ("Follow-up", "跟进"),
        Revisit = "REVISIT" ("Revisit", "回访"),
        MaintenanceReminder = "MAINTENANCE_REMINDER" ("Maintenance reminder", "保养提醒"),
        ClaimDeadline = "CLAIM_DEADLINE" ("Claim deadline", "索赔期限"),
        ComplaintResponse = "COMPLAINT_RESPONSE" ("Complaint response", "投诉响应"),
        WinBack = "WIN_BACK" ("Win-back", "客户挽回"),
        HandoverRequest = "HANDOVER_REQUEST" ("Customer handover request", "客户移交申请"),
        CampaignContact = "CAMPAIGN_CONTACT" ("Recall or campaign contact", "召回/活动邀约"),
        Custom = "CUSTOM" ("Custom", "自定义"),
    }
}

labeled_enum! {
    /// Where a task stands.
    TaskStatus {
        Open = "OPEN" ("Open", "待办"),
        Overdue = "OVERDUE" ("Overdue", "已逾期"),
        Done = "DONE" ("Done", "已完成"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
    }
}

labeled_enum! {
    /// How a notification reaches its recipient.
    NotificationChannel {
        InApp = "IN_APP" ("In-app", "站内消息"),
        Sms = "SMS" ("SMS", "短信"),
        Email = "EMAIL" ("Email", "邮件"),
        Wechat = "WECHAT" ("WeChat template", "微信模板消息"),
    }
}

labeled_enum! {
    /// Why a message is sent; marketing needs the customer's consent.
    NotificationCategory {
        Internal = "INTERNAL" ("Internal", "内部"),
        Service = "SERVICE" ("Service", "服务通知"),
        Marketing = "MARKETING" ("Marketing", "营销"),
    }
}

labeled_enum! {
    /// Where a notification stands in the outbox.
    NotificationStatus {
        Pending = "PENDING" ("Waiting to send", "待发送"),
        Sending = "SENDING" ("Sending", "发送中"),
        Sent = "SENT" ("Sent", "已发送"),
        Dead = "DEAD" ("Failed for good", "发送失败"),
        Suppressed = "SUPPRESSED" ("Not sent: no consent", "未发送（无营销授权）"),
    }
}

impl TaskStatus {
    /// Whether work on the task is still owed.
    pub fn is_live(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::Overdue)
    }
}

/// When a task may be done, is due, and is too late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Not before.
    pub earliest: DateTime<Utc>,
    /// Due.
    pub due: DateTime<Utc>,
    /// Too late after.
    pub latest: DateTime<Utc>,
}

pub use crate::org::rules::{day_end, day_start, local_day, zone};

fn closed(s: &StoreSettings, day: NaiveDate) -> bool {
    s.closed_weekdays & (1 << day.weekday().num_days_from_monday()) != 0
}

/// The day itself, or (when the store moves work off closed days) the next
/// day the store is open.
pub fn open_day(s: &StoreSettings, day: NaiveDate) -> NaiveDate {
    let mut d = day;
    if s.move_off_closed_days == 1 {
        for _ in 0..7 {
            if !closed(s, d) {
                break;
            }
            d += Duration::days(1);
        }
    }
    d
}

/// A window counted in local days from `from`: earliest at the start of day
/// `from + start`, due at the end of day `from + due`, latest at the end of
/// day `from + latest` (never before due). Due and latest move off closed days.
pub fn days_window(
    s: &StoreSettings,
    tz: Tz,
    from: NaiveDate,
    start: i64,
    due: i64,
    latest: i64,
) -> Window {
    let due_day = open_day(s, from + Duration::days(due));
    let due_at = day_end(tz, due_day);
    let latest_at = day_end(tz, open_day(s, from + Duration::days(latest))).max(due_at);
    let earliest_at = day_start(tz, from + Duration::days(start)).min(due_at);
    Window {
        earliest: earliest_at,
        due: due_at,
        latest: latest_at,
    }
}

/// A task a rule wants to exist.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// Kind.
    pub kind: TaskKind,
    /// The rule's name; with the subject it forms the task's unique key.
    pub rule: &'static str,
    /// Short title.
    pub title: String,
    /// Why the task exists, for the person doing it.
    pub reason: String,
    /// When.
    pub window: Window,
    /// The role queue it goes to, when no one person is named.
    pub queue: Option<Role>,
    /// Escalation levels it may climb to when overdue (1 = store manager,
    /// 2 = dealer group / OEM).
    pub max_escalation: i32,
    /// Hours an overdue task waits at one level before climbing to the
    /// next; the store's `task_escalation_hours` when none.
    pub escalation_wait_hours: Option<i32>,
}

/// When the assignee is reminded: `task_reminder_hours` before due, if that
/// is still ahead.
pub fn remind_at(
    s: &StoreSettings,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if s.task_reminder_hours == 0 {
        return None;
    }
    let at = due - Duration::hours(s.task_reminder_hours as i64);
    (at > now).then_some(at)
}

/// How a task title says that the work is late from birth.
pub const LATE_MARK: &str = "【补】";

/// The rule name of the revisit after a sale's delivery.
pub const DELIVERY_REVISIT: &str = "delivery_revisit";
/// The rule name of the first-service reminder a delivery creates.
pub const FIRST_SERVICE_REMINDER: &str = "first_service_reminder";

/// The day a car's first-service reminder should be due by, from the
/// distance driven since delivery as read on `read_on`: that day once it
/// reaches `first_service_min_km`, otherwise the day the car reaches it at
/// its pace so far. None in its first week (no pace yet) or standing still.
pub fn first_service_by(
    s: &StoreSettings,
    delivered: NaiveDate,
    read_on: NaiveDate,
    driven_km: i32,
) -> Option<NaiveDate> {
    let min = s.first_service_min_km;
    if driven_km >= min {
        return Some(read_on);
    }
    let days = (read_on - delivered).num_days();
    if days < 7 || driven_km <= 0 {
        return None;
    }
    let per_day = f64::from(driven_km) / days as f64;
    let more = (f64::from(min - driven_km) / per_day).ceil() as i64;
    Some(read_on + Duration::days(more))
}

/// The work a delivery creates: a revisit within `delivery_revisit_days`
/// (care agents) and the first-service reminder at
/// `first_service_reminder_days` (service advisors). A delivery entered
/// after its revisit window (but within `late_delivery_revisit_days`) gets
/// a revisit due on the next open day, marked late; a reminder whose day is
/// past is not created (the car is past its first-service reminder).
pub fn after_delivery(
    s: &StoreSettings,
    tz: Tz,
    delivered: NaiveDate,
    today: NaiveDate,
    vehicle: &str,
) -> Vec<TaskSpec> {
    let mut out = Vec::new();
    let revisit = days_window(
        s,
        tz,
        delivered,
        1,
        s.delivery_revisit_days as i64,
        s.delivery_revisit_days as i64,
    );
    if local_day(tz, revisit.due) >= today {
        out.push(TaskSpec {
            kind: TaskKind::Revisit,
            rule: DELIVERY_REVISIT,
            title: format!("交车回访：{vehicle}"),
            reason: format!(
                "Delivered on {delivered}: ask how the car is and how buying went, within {} days.",
                s.delivery_revisit_days
            ),
            window: revisit,
            queue: Some(Role::CareAgent),
            max_escalation: 1,
            escalation_wait_hours: None,
        });
    } else if (today - delivered).num_days() <= s.late_delivery_revisit_days as i64 {
        let due = day_end(tz, open_day(s, today + Duration::days(1)));
        out.push(TaskSpec {
            kind: TaskKind::Revisit,
            rule: DELIVERY_REVISIT,
            title: format!("{LATE_MARK}交车回访：{vehicle}"),
            reason: format!(
                "Late: delivered on {delivered} but entered on {today}, past the {}-day revisit window. Revisit as soon as possible.",
                s.delivery_revisit_days
            ),
            window: Window {
                earliest: day_start(tz, today),
                due,
                latest: due,
            },
            queue: Some(Role::CareAgent),
            max_escalation: 1,
            escalation_wait_hours: None,
        });
    }
    let reminder_day = s.first_service_reminder_days as i64;
    let last_day =
        (delivered + chrono::Months::new(s.first_service_due_months as u32) - delivered).num_days();
    let reminder = days_window(
        s,
        tz,
        delivered,
        reminder_day,
        reminder_day,
        last_day.max(reminder_day),
    );
    if local_day(tz, reminder.due) >= today {
        out.push(TaskSpec {
            kind: TaskKind::MaintenanceReminder,
            rule: FIRST_SERVICE_REMINDER,
            title: format!("首保提醒：{vehicle}"),
            reason: format!(
                "Free first service is due within {} months of delivery ({delivered}) or between {} and {} km.",
                s.first_service_due_months, s.first_service_min_km, s.first_service_max_km
            ),
            window: reminder,
            queue: Some(Role::ServiceAdvisor),
            max_escalation: 1,
            escalation_wait_hours: None,
        });
    }
    out
}

/// The rule name of the reminder of a car's next maintenance service.
pub const MAINTENANCE_REMINDER: &str = "maintenance_reminder";
/// The rule name of the revisit after a service visit.
pub const SERVICE_REVISIT: &str = "service_revisit";
/// The rule name of a warranty claim's filing deadline.
pub const CLAIM_DEADLINE: &str = "claim_deadline";
/// The rule name of the OEM's revisit after it approves a claim.
pub const CLAIM_REVISIT: &str = "claim_revisit";

/// The reminder of a car's next service, predicted for `due_on`: due
/// `maintenance_reminder_days` before it (today at the earliest), too late
/// once the service day is past (service advisors).
pub fn maintenance_reminder(
    s: &StoreSettings,
    tz: Tz,
    due_on: NaiveDate,
    today: NaiveDate,
    vehicle: &str,
) -> TaskSpec {
    let remind_on = (due_on - Duration::days(s.maintenance_reminder_days as i64)).max(today);
    let window = days_window(s, tz, remind_on, 0, 0, (due_on - remind_on).num_days());
    TaskSpec {
        kind: TaskKind::MaintenanceReminder,
        rule: MAINTENANCE_REMINDER,
        title: format!("保养提醒：{vehicle}"),
        reason: format!(
            "The next service is predicted for {due_on} (every {} km or {} months, whichever comes first): call to book it.",
            s.maintenance_interval_km, s.maintenance_interval_months
        ),
        window,
        queue: Some(Role::ServiceAdvisor),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// The revisit after a service visit closed on `closed_on`: between
/// `service_revisit_min_days` and `service_revisit_max_days` after it (care
/// agents).
pub fn after_service(s: &StoreSettings, tz: Tz, closed_on: NaiveDate, vehicle: &str) -> TaskSpec {
    let (min, max) = (
        s.service_revisit_min_days as i64,
        s.service_revisit_max_days as i64,
    );
    TaskSpec {
        kind: TaskKind::Revisit,
        rule: SERVICE_REVISIT,
        title: format!("维修回访：{vehicle}"),
        reason: format!(
            "Serviced on {closed_on}: ask whether the car is right and how the visit went, within {max} days."
        ),
        window: days_window(s, tz, closed_on, min, max, max),
        queue: Some(Role::CareAgent),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// The day a warranty claim must be filed by: `claim_filing_days` after
/// the service.
pub fn claim_file_by(s: &StoreSettings, serviced_on: NaiveDate) -> NaiveDate {
    serviced_on + Duration::days(s.claim_filing_days as i64)
}

/// Filing a warranty claim by its deadline (warranty clerks).
pub fn claim_deadline(
    s: &StoreSettings,
    tz: Tz,
    serviced_on: NaiveDate,
    vehicle: &str,
) -> TaskSpec {
    let days = s.claim_filing_days as i64;
    TaskSpec {
        kind: TaskKind::ClaimDeadline,
        rule: CLAIM_DEADLINE,
        title: format!("索赔申报：{vehicle}"),
        reason: format!(
            "A warranty repair of {serviced_on}: file its claim with the OEM within {days} days."
        ),
        window: days_window(s, tz, serviced_on, 0, days, days),
        queue: Some(Role::WarrantyClerk),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// The rule name of contacting an owner about a recall or campaign.
pub const CAMPAIGN_CONTACT: &str = "campaign_contact";

/// Contacting the owner of a car a recall or campaign names, to book it
/// in: within 7 days of the campaign reaching the store (service
/// advisors). `title` names the campaign and the model, never the owner.
pub fn campaign_contact(s: &StoreSettings, tz: Tz, today: NaiveDate, title: String) -> TaskSpec {
    TaskSpec {
        kind: TaskKind::CampaignContact,
        rule: CAMPAIGN_CONTACT,
        title,
        reason: "The OEM named this car in a recall or campaign: call the owner and book it in."
            .into(),
        window: days_window(s, tz, today, 0, 7, 14),
        queue: Some(Role::ServiceAdvisor),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// The OEM's revisit of the customer after it approved a claim on
/// `approved_on`: within a week, by the OEM staff member who approved.
pub fn claim_revisit(s: &StoreSettings, tz: Tz, approved_on: NaiveDate, vehicle: &str) -> TaskSpec {
    TaskSpec {
        kind: TaskKind::Revisit,
        rule: CLAIM_REVISIT,
        title: format!("厂家索赔回访：{vehicle}"),
        reason: format!(
            "The OEM approved a warranty claim on {approved_on}: ask the owner whether the repair holds."
        ),
        window: days_window(s, tz, approved_on, 0, 7, 7),
        queue: Some(Role::OemStaff),
        max_escalation: 0,
        escalation_wait_hours: None,
    }
}

/// Wait before retry `attempt` (1-based): 30 s doubling, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 8) - 1;
    Duration::seconds((30i64 << exp).min(3600))
}

/// Whether `at` falls in the store's quiet hours (no SMS or calls), and if
/// so when they end.
pub fn quiet_until(s: &StoreSettings, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (start, end) = (s.quiet_hours_start as u32, s.quiet_hours_end as u32);
    if start == end {
        return None;
    }
    let local = at.with_timezone(&tz);
    let h = local.hour();
    let quiet = if start > end {
        h >= start || h < end
    } else {
        h >= start && h < end
    };
    if !quiet {
        return None;
    }
    let mut day = local.date_naive();
    if h >= end {
        day += Duration::days(1);
    }
    let end_local = day.and_time(NaiveTime::from_hms_opt(end, 0, 0).unwrap_or(NaiveTime::MIN));
    tz.from_local_datetime(&end_local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The text of a template with `{name}` placeholders filled from `vars`.
pub fn render(template: &str, vars: &serde_json::Value) -> String {
    let text = match template {
        "task_overdue_manager" => {
            "【逾期】{title}：客户 {customer}，负责人 {assignee}，已于 {due} 到期。"
        }
        "task_overdue_assignee" => {
            "【逾期】您的任务 {title}（客户 {customer}）已于 {due} 到期，请尽快处理。"
        }
        "task_escalated" => "【升级】{store} 的{title}任务逾期未处理，已升级。",
        "task_reminder" => "【提醒】{title}：客户 {customer}，{due} 到期。",
        "task_assigned" => "【新任务】{title}：客户 {customer}，{due} 到期。",
        "customer_unassigned" => "【待分配】有新客户尚无负责顾问，请在待分配客户中指派。",
        "tasks_assigned" => "【新任务】{count} 项任务已转给您。",
        "handover_approved" => "【客户移交】您的申请已批准，客户已移交给您。",
        "handover_declined" => "【客户移交】您的申请未获批准。{note}",
        other => other,
    };
    let mut out = text.to_string();
    if let Some(map) = vars.as_object() {
        for (k, v) in map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out = out.replace(&format!("{{{k}}}"), &value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> Tz {
        zone("Asia/Shanghai")
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn windows_are_whole_local_days() {
        let s = StoreSettings::default();
        let w = days_window(&s, shanghai(), d("2026-11-23"), 1, 7, 7);
        // Shanghai is UTC+8: local midnight is 16:00 UTC the day before.
        assert_eq!(w.earliest.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        assert_eq!(w.due.to_rfc3339(), "2026-11-30T15:59:59+00:00");
        assert_eq!(w.latest, w.due);
    }

    #[test]
    fn closed_days_move_due_dates_when_the_store_says_so() {
        let mut s = StoreSettings {
            closed_weekdays: 1 << 6,
            ..Default::default()
        }; // Sundays
           // 2026-11-23 is a Monday; +6 days is Sunday 29th.
        let stay = days_window(&s, shanghai(), d("2026-11-23"), 0, 6, 6);
        assert_eq!(local_day(shanghai(), stay.due), d("2026-11-29"));
        s.move_off_closed_days = 1;
        let moved = days_window(&s, shanghai(), d("2026-11-23"), 0, 6, 6);
        assert_eq!(local_day(shanghai(), moved.due), d("2026-11-30"));
    }

    #[test]
    fn the_first_service_comes_forward_with_the_distance_driven() {
        let s = StoreSettings::default();
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        // 3,000 km reached: due the day it was read.
        assert_eq!(
            first_service_by(&s, d(1, 1), d(1, 20), 3000),
            Some(d(1, 20))
        );
        // 1,000 km in 10 days: 2,000 more take 20 days.
        assert_eq!(
            first_service_by(&s, d(1, 1), d(1, 11), 1000),
            Some(d(1, 31))
        );
        // Too early to tell, or not moving.
        assert_eq!(first_service_by(&s, d(1, 1), d(1, 5), 1000), None);
        assert_eq!(first_service_by(&s, d(1, 1), d(3, 1), 0), None);
    }

    #[test]
    fn delivery_creates_a_revisit_and_a_first_service_reminder_from_settings() {
        let s = StoreSettings::default();
        let specs = after_delivery(&s, shanghai(), d("2026-11-23"), d("2026-11-23"), "蒙迪欧");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].kind, TaskKind::Revisit);
        assert_eq!(local_day(shanghai(), specs[0].window.due), d("2026-11-30"));
        assert_eq!(specs[1].kind, TaskKind::MaintenanceReminder);
        assert_eq!(local_day(shanghai(), specs[1].window.due), d("2026-12-23"));
        assert_eq!(
            local_day(shanghai(), specs[1].window.latest),
            d("2027-05-23")
        );
        let custom = StoreSettings {
            delivery_revisit_days: 3,
            ..Default::default()
        };
        let specs = after_delivery(&custom, shanghai(), d("2026-11-23"), d("2026-11-23"), "x");
        assert_eq!(local_day(shanghai(), specs[0].window.due), d("2026-11-26"));
    }

    #[test]
    fn old_deliveries_create_no_work() {
        let s = StoreSettings::default();
        assert!(after_delivery(&s, shanghai(), d("2024-01-01"), d("2026-11-23"), "x").is_empty());
    }

    #[test]
    fn a_delivery_entered_late_gets_a_late_revisit_due_tomorrow() {
        let s = StoreSettings::default();
        let specs = after_delivery(&s, shanghai(), d("2026-11-10"), d("2026-11-23"), "锐界");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].rule, DELIVERY_REVISIT);
        assert!(specs[0].title.starts_with(LATE_MARK), "{}", specs[0].title);
        assert_eq!(local_day(shanghai(), specs[0].window.due), d("2026-11-24"));
        assert_eq!(specs[1].rule, "first_service_reminder");
        let beyond = StoreSettings {
            late_delivery_revisit_days: 10,
            ..Default::default()
        };
        let specs = after_delivery(&beyond, shanghai(), d("2026-11-10"), d("2026-11-23"), "x");
        assert_eq!(specs.len(), 1, "13 days late is past a 10-day horizon");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(20), Duration::seconds(3600));
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let s = StoreSettings::default(); // 21:00 - 08:00
        let tz = shanghai();
        let at = |h: u32| {
            tz.with_ymd_and_hms(2026, 11, 23, h, 30, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(quiet_until(&s, tz, at(12)), None);
        let morning = tz
            .with_ymd_and_hms(2026, 11, 24, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(quiet_until(&s, tz, at(22)), Some(morning));
        let same_morning = tz
            .with_ymd_and_hms(2026, 11, 23, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(quiet_until(&s, tz, at(3)), Some(same_morning));
    }

    #[test]
    fn templates_fill_their_placeholders() {
        let text = render(
            "task_reminder",
            &serde_json::json!({"title": "回访", "customer": "王先生", "due": "11-30"}),
        );
        assert_eq!(text, "【提醒】回访：客户 王先生，11-30 到期。");
    }
}
