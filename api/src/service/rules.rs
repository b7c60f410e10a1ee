//! After-sales vocabulary and arithmetic: appointment sources, repair order
//! kinds and states, job and part lines with their totals in fen, warranty
//! claim states, the first-time-fix rule. Pure: no database.
use async_graphql::{InputObject, SimpleObject};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::labels::labeled_enum;

labeled_enum! {
    /// How a service appointment came about.
    AppointmentSource {
        Reminder = "REMINDER" ("Maintenance reminder", "保养提醒"),
        Phone = "PHONE" ("Phone", "电话预约"),
        WalkIn = "WALK_IN" ("Walk-in", "直接到店"),
        Campaign = "CAMPAIGN" ("Recall or campaign", "召回/服务活动"),
    }
}

labeled_enum! {
    /// Where a service appointment stands.
    AppointmentStatus {
        Booked = "BOOKED" ("Booked", "已预约"),
        CheckedIn = "CHECKED_IN" ("Checked in", "已到店"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
    }
}

labeled_enum! {
    /// What a workshop visit is for.
    RepairKind {
        Maintenance = "MAINTENANCE" ("Maintenance", "定期保养"),
        FirstService = "FIRST_SERVICE" ("First service", "首保"),
        Repair = "REPAIR" ("Repair", "一般维修"),
        Warranty = "WARRANTY" ("Warranty repair", "保修"),
        Accident = "ACCIDENT" ("Accident repair", "事故车"),
        Recall = "RECALL" ("Recall", "召回"),
    }
}

labeled_enum! {
    /// Where a repair order stands.
    RepairStatus {
        Open = "OPEN" ("Open", "已开单"),
        InProgress = "IN_PROGRESS" ("In progress", "维修中"),
        WaitingForParts = "WAITING_FOR_PARTS" ("Waiting for parts", "待料"),
        Done = "DONE" ("Done", "完工"),
        Delivered = "DELIVERED" ("Delivered to the customer", "已交车"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
    }
}

labeled_enum! {
    /// How the customer paid their part of a repair order.
    ServicePayment {
        Cash = "CASH" ("Cash", "现金"),
        Card = "CARD" ("Bank card", "刷卡"),
        Wechat = "WECHAT" ("WeChat Pay", "微信支付"),
        Alipay = "ALIPAY" ("Alipay", "支付宝"),
        Transfer = "TRANSFER" ("Bank transfer", "转账"),
        Insurance = "INSURANCE" ("Insurance", "保险理赔"),
        Account = "ACCOUNT" ("On account (receivable)", "挂账"),
    }
}

labeled_enum! {
    /// Where a warranty claim stands with the OEM.
    ClaimStatus {
        Draft = "DRAFT" ("Draft", "草稿"),
        Submitted = "SUBMITTED" ("Submitted", "已申报"),
        PartShipped = "PART_SHIPPED" ("Old part shipped", "旧件已寄出"),
        PartReceived = "PART_RECEIVED" ("Old part received", "旧件已签收"),
        Approved = "APPROVED" ("Approved", "已批准"),
        Rejected = "REJECTED" ("Rejected", "已驳回"),
        Paid = "PAID" ("Paid", "已结算"),
    }
}

labeled_enum! {
    /// What an OEM campaign is.
    CampaignKind {
        Recall = "RECALL" ("Recall", "召回"),
        ServiceCampaign = "SERVICE_CAMPAIGN" ("Service campaign", "服务活动"),
    }
}

labeled_enum! {
    /// Where a car named by a campaign stands.
    CampaignVehicleStatus {
        Affected = "AFFECTED" ("To contact and book", "待联系"),
        Booked = "BOOKED" ("Booked", "已预约"),
        Done = "DONE" ("Done", "已完成"),
    }
}

/// The VINs of a pasted list or a CSV file, each with its line (0-based):
/// a CSV whose first line names a `vin` column is read by that column;
/// otherwise every comma-, semicolon- or space-separated word of every
/// line is a VIN. Blank lines are skipped.
pub fn vin_list(text: &str) -> Vec<(usize, String)> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let header: Vec<String> = first
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_lowercase())
        .collect();
    if let Some(col) = header.iter().position(|h| h == "vin") {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.trim_start().as_bytes());
        return r
            .records()
            .enumerate()
            .filter_map(|(i, rec)| {
                let v = rec.ok()?.get(col)?.to_string();
                (!v.is_empty()).then_some((i + 1, v))
            })
            .collect();
    }
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| {
            line.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(move |w| (i, w.to_string()))
        })
        .collect()
}

impl RepairStatus {
    /// Whether work on the order may still change (lines, diagnosis).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RepairStatus::Open | RepairStatus::InProgress | RepairStatus::WaitingForParts
        )
    }

    /// Whether `setRepairOrderStatus` may move the order from `self` to
    /// `to` (delivery and cancelling have their own mutations).
    pub fn may_move_to(self, to: RepairStatus) -> bool {
        use RepairStatus::*;
        matches!(
            (self, to),
            (Open, InProgress)
                | (Open, WaitingForParts)
                | (InProgress, WaitingForParts)
                | (WaitingForParts, InProgress)
                | (InProgress, Done)
                | (Done, InProgress)
        )
    }
}

impl ClaimStatus {
    /// The step after `self` that the store takes (the OEM decides and pays).
    pub fn may_move_to(self, to: ClaimStatus) -> bool {
        use ClaimStatus::*;
        matches!(
            (self, to),
            (Draft, Submitted)
                | (Submitted, PartShipped)
                | (PartShipped, PartReceived)
                | (PartReceived, Approved)
                | (PartReceived, Rejected)
                | (Submitted, Rejected)
                | (Approved, Paid)
        )
    }
}

/// A labour line: what was done, hours in hundredths and the hourly rate.
#[derive(Serialize, Deserialize, SimpleObject, Clone, Debug, PartialEq, Eq)]
#[graphql(complex)]
pub struct Job {
    /// What was done.
    pub description: String,
    /// Hours, in hundredths (`hours` shows them as a number).
    #[graphql(skip)]
    pub hundredths: i64,
    /// Rate per hour, fen.
    pub rate_fen: i64,
    /// Paid by the OEM under warranty.
    pub under_warranty: bool,
}

#[async_graphql::ComplexObject]
impl Job {
    /// Labour hours.
    async fn hours(&self) -> f64 {
        self.hundredths as f64 / 100.0
    }
    /// The line's amount, fen.
    async fn amount_fen(&self) -> i64 {
        self.amount()
    }
}

impl Job {
    /// Hours × rate, rounded to the fen.
    pub fn amount(&self) -> i64 {
        (self.hundredths * self.rate_fen + 50) / 100
    }
}

/// A part line.
#[derive(Serialize, Deserialize, SimpleObject, Clone, Debug, PartialEq, Eq)]
#[graphql(complex)]
pub struct Part {
    /// The OEM's part number.
    pub part_no: String,
    /// Name.
    pub name: String,
    /// Quantity.
    pub quantity: i32,
    /// Unit price, fen.
    pub unit_price_fen: i64,
    /// Paid by the OEM under warranty.
    pub under_warranty: bool,
}

#[async_graphql::ComplexObject]
impl Part {
    /// The line's amount, fen.
    async fn amount_fen(&self) -> i64 {
        self.amount()
    }
}

impl Part {
    /// Quantity × unit price.
    pub fn amount(&self) -> i64 {
        i64::from(self.quantity) * self.unit_price_fen
    }
}

/// A labour line as entered.
#[derive(InputObject, Clone, Debug)]
pub struct JobInput {
    /// What is done.
    pub description: String,
    /// Hours, more than 0 and at most 100, to the hundredth.
    pub hours: f64,
    /// Rate per hour, fen (0 to 1,000,000).
    pub rate_fen: i64,
    /// Paid by the OEM under warranty.
    #[graphql(default)]
    pub under_warranty: bool,
}

/// A part line as entered.
#[derive(InputObject, Clone, Debug)]
pub struct PartInput {
    /// The OEM's part number.
    pub part_no: String,
    /// Name.
    pub name: String,
    /// Quantity, 1 to 1,000.
    pub quantity: i32,
    /// Unit price, fen (0 to 100,000,000).
    pub unit_price_fen: i64,
    /// Paid by the OEM under warranty.
    #[graphql(default)]
    pub under_warranty: bool,
}

/// Why a job line is refused, if it is.
pub fn job_problem(j: &JobInput) -> Option<(&'static str, &'static str)> {
    if !j.hours.is_finite() || j.hours <= 0.0 || j.hours > 100.0 {
        return Some(("hours", "hours must be more than 0 and at most 100"));
    }
    if !(0..=1_000_000).contains(&j.rate_fen) {
        return Some(("rateFen", "the rate must be between 0 and 1,000,000 fen"));
    }
    None
}

/// Why a part line is refused, if it is.
pub fn part_problem(p: &PartInput) -> Option<(&'static str, &'static str)> {
    if !(1..=1000).contains(&p.quantity) {
        return Some(("quantity", "the quantity must be between 1 and 1,000"));
    }
    if !(0..=100_000_000).contains(&p.unit_price_fen) {
        return Some((
            "unitPriceFen",
            "the unit price must be between 0 and 100,000,000 fen",
        ));
    }
    None
}

/// Hours as typed to hundredths.
pub fn hundredths(hours: f64) -> i64 {
    (hours * 100.0).round() as i64
}

/// A repair order's money, in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Labour.
    pub labour: i64,
    /// Parts.
    pub parts: i64,
    /// Labour plus parts.
    pub total: i64,
    /// The part the OEM pays under warranty.
    pub warranty: i64,
}

impl Totals {
    /// What the customer owes: the total less warranty.
    pub fn customer(&self) -> i64 {
        self.total - self.warranty
    }
}

/// The totals of an order's lines.
pub fn totals(jobs: &[Job], parts: &[Part]) -> Totals {
    let labour: i64 = jobs.iter().map(Job::amount).sum();
    let part_sum: i64 = parts.iter().map(Part::amount).sum();
    let warranty = jobs
        .iter()
        .filter(|j| j.under_warranty)
        .map(Job::amount)
        .sum::<i64>()
        + parts
            .iter()
            .filter(|p| p.under_warranty)
            .map(Part::amount)
            .sum::<i64>();
    Totals {
        labour,
        parts: part_sum,
        total: labour + part_sum,
        warranty,
    }
}

/// A comeback: a visit for the same complaint within `repeat_days` of the
/// first visit's delivery marks the first "not fixed first time".
pub fn is_repeat(
    first_delivered: Option<DateTime<Utc>>,
    opened: DateTime<Utc>,
    repeat_days: i32,
) -> bool {
    first_delivered.is_some_and(|d| opened - d <= Duration::days(repeat_days as i64))
}

/// Whether a claim submitted on `on` misses its filing day.
pub fn claim_late(file_by: NaiveDate, on: NaiveDate) -> bool {
    on > file_by
}

/// Appointment slots: quarter hours, at most 8 hours.
pub const MAX_APPOINTMENT_MINUTES: i64 = 8 * 60;

#[cfg(test)]
mod tests {
    use super::*;

    fn job(h: f64, rate: i64, w: bool) -> Job {
        Job {
            description: "x".into(),
            hundredths: hundredths(h),
            rate_fen: rate,
            under_warranty: w,
        }
    }

    #[test]
    fn totals_add_up_in_fen_and_split_warranty() {
        let parts = vec![Part {
            part_no: "P1".into(),
            name: "机油滤清器".into(),
            quantity: 2,
            unit_price_fen: 4_550,
            under_warranty: true,
        }];
        let t = totals(&[job(1.5, 12_000, false), job(0.33, 10_000, true)], &parts);
        assert_eq!(t.labour, 18_000 + 3_300);
        assert_eq!(t.parts, 9_100);
        assert_eq!(t.total, 30_400);
        assert_eq!(t.warranty, 3_300 + 9_100);
        assert_eq!(t.customer(), 18_000);
    }

    #[test]
    fn a_repeat_counts_within_the_set_days_of_delivery() {
        let d = DateTime::parse_from_rfc3339("2026-11-01T02:00:00Z")
            .expect("time")
            .to_utc();
        assert!(is_repeat(Some(d), d + Duration::days(30), 30));
        assert!(!is_repeat(Some(d), d + Duration::days(31), 30));
        assert!(!is_repeat(None, d, 30));
    }

    #[test]
    fn a_vin_list_is_read_pasted_or_as_csv() {
        assert_eq!(
            vin_list("A1, A2\n\nA3;A4"),
            vec![
                (0, "A1".to_string()),
                (0, "A2".into()),
                (2, "A3".into()),
                (2, "A4".into())
            ]
        );
        assert_eq!(
            vin_list("model,VIN\n锐界, A1\n\"蒙迪欧,2.0T\",A2\n"),
            vec![(1, "A1".to_string()), (2, "A2".into())]
        );
    }

    #[test]
    fn orders_and_claims_move_only_along_their_steps() {
        assert!(RepairStatus::Open.may_move_to(RepairStatus::InProgress));
        assert!(!RepairStatus::Open.may_move_to(RepairStatus::Delivered));
        assert!(!RepairStatus::Delivered.may_move_to(RepairStatus::InProgress));
        assert!(ClaimStatus::PartReceived.may_move_to(ClaimStatus::Approved));
        assert!(!ClaimStatus::Draft.may_move_to(ClaimStatus::Approved));
        assert!(claim_late(
            NaiveDate::from_ymd_opt(2026, 11, 10).expect("day"),
            NaiveDate::from_ymd_opt(2026, 11, 11).expect("day")
        ));
    }
}
