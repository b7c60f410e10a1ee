//! Customer care's vocabulary and rules: complaint deadlines by severity,
//! SLA clocks, what closing needs, the tasks complaints create, revisit
//! scripts, and survey questionnaires with their scoring. Pure: no
//! database.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    auth::Role,
    error::{ApiError, UserError, UserErrorCode},
    labels::labeled_enum,
    org::rules::StoreSettings,
    tasks::rules::{days_window, TaskKind, TaskSpec, Window},
};

labeled_enum! {
    /// How a complaint reached the store.
    ComplaintChannel {
        Phone = "PHONE" ("Phone", "电话"),
        WalkIn = "WALK_IN" ("Walk-in", "到店"),
        Revisit = "REVISIT" ("Revisit", "回访"),
        Survey = "SURVEY" ("Survey", "满意度调查"),
        OemHotline = "OEM_HOTLINE" ("OEM hotline", "厂家热线"),
        SocialMedia = "SOCIAL_MEDIA" ("Social media", "社交媒体"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// What a complaint is about.
    ComplaintCategory {
        Sales = "SALES" ("Sales", "销售"),
        Service = "SERVICE" ("Service and repair", "维修服务"),
        Parts = "PARTS" ("Parts", "配件"),
        ProductQuality = "PRODUCT_QUALITY" ("Product quality", "产品质量"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// Why the customer complains, as the trade names it.
    ComplaintCause {
        NotEnoughAttention = "NOT_ENOUGH_ATTENTION" ("Not enough attention", "不够重视"),
        NotListenedTo = "NOT_LISTENED_TO" ("Not listened to", "没有倾听"),
        PassedAround = "PASSED_AROUND" ("Passed from desk to desk", "推诿扯皮"),
        PromiseBroken = "PROMISE_BROKEN" ("Promise broken", "承诺未兑现"),
        NotFixedFirstTime = "NOT_FIXED_FIRST_TIME" ("Not fixed the first time", "一次未修好"),
        Unprofessional = "UNPROFESSIONAL" ("Staff not professional", "员工不专业"),
        Price = "PRICE" ("Price", "价格"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// How serious a complaint is; it sets the deadlines.
    Severity {
        Minor = "MINOR" ("Minor", "轻微"),
        Normal = "NORMAL" ("Normal", "一般"),
        Severe = "SEVERE" ("Severe", "严重"),
    }
}

labeled_enum! {
    /// Where a complaint stands.
    ComplaintStatus {
        Open = "OPEN" ("Waiting for a response", "待响应"),
        InProgress = "IN_PROGRESS" ("Being handled", "处理中"),
        Resolved = "RESOLVED" ("Resolved", "已解决"),
        Closed = "CLOSED" ("Closed", "已结案"),
    }
}

labeled_enum! {
    /// The store department a complaint names.
    Department {
        Sales = "SALES" ("Sales", "销售部"),
        Service = "SERVICE" ("Service", "售后服务部"),
        Parts = "PARTS" ("Parts", "配件部"),
        Care = "CARE" ("Customer care", "客服部"),
        Management = "MANAGEMENT" ("Management", "管理层"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// What an entry of a complaint's action log records.
    ComplaintActionKind {
        Opened = "OPENED" ("Opened", "受理"),
        Note = "NOTE" ("Note", "处理记录"),
        Responded = "RESPONDED" ("First response", "首次响应"),
        Reassigned = "REASSIGNED" ("Handed to another owner", "转交"),
        Resolved = "RESOLVED" ("Resolved", "解决"),
        Reopened = "REOPENED" ("Reopened", "重新处理"),
        Closed = "CLOSED" ("Closed", "结案"),
        OutcomeRated = "OUTCOME_RATED" ("Customer rated the outcome", "客户评价处理结果"),
    }
}

labeled_enum! {
    /// The state of one deadline.
    SlaState {
        Running = "RUNNING" ("Running", "计时中"),
        DueSoon = "DUE_SOON" ("Due soon", "即将到期"),
        Overdue = "OVERDUE" ("Overdue", "已超时"),
        Met = "MET" ("Met", "按时完成"),
        Missed = "MISSED" ("Missed", "超时完成"),
    }
}

labeled_enum! {
    /// How a revisit reaches the customer.
    RevisitMethod {
        Phone = "PHONE" ("Phone", "电话"),
        Sms = "SMS" ("SMS", "短信"),
        Email = "EMAIL" ("Email", "邮件"),
        Letter = "LETTER" ("Letter", "信函"),
        Lounge = "LOUNGE" ("Lounge interview", "休息区面访"),
    }
}

labeled_enum! {
    /// Which event a questionnaire asks about.
    SurveyKind {
        AfterSale = "AFTER_SALE" ("After a sale", "销售满意度"),
        AfterService = "AFTER_SERVICE" ("After a service visit", "售后满意度"),
    }
}

labeled_enum! {
    /// How a question is answered.
    QuestionKind {
        Score = "SCORE" ("Score 1-10", "评分（1-10）"),
        YesNo = "YES_NO" ("Yes or no", "是/否"),
        Text = "TEXT" ("Free text", "文字"),
    }
}

/// The rule name of a complaint's first response.
pub const COMPLAINT_RESPONSE: &str = "complaint_response";
/// The rule name of a complaint's resolution.
pub const COMPLAINT_RESOLUTION: &str = "complaint_resolution";
/// The rule name of the revisit that ends a complaint.
pub const COMPLAINT_REVISIT: &str = "complaint_revisit";
/// The key of the overall-satisfaction question every questionnaire has.
pub const OVERALL: &str = "overall";
/// The highest score of a SCORE question.
pub const MAX_SCORE: i32 = 10;

/// Response and resolution deadlines of a complaint received at
/// `received_at`, from the store's hours for its severity.
pub fn deadlines(
    s: &StoreSettings,
    severity: Severity,
    received_at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let (respond, resolve) = match severity {
        Severity::Minor => (
            s.complaint_minor_response_hours,
            s.complaint_minor_resolution_hours,
        ),
        Severity::Normal => (s.complaint_response_hours, s.complaint_resolution_hours),
        Severity::Severe => (
            s.complaint_severe_response_hours,
            s.complaint_severe_resolution_hours,
        ),
    };
    (
        received_at + Duration::hours(respond as i64),
        received_at + Duration::hours(resolve.max(respond) as i64),
    )
}

/// The state of a deadline running from `start` to `due`, met at `done`
/// (if it was): due soon in the last quarter of its time.
pub fn sla_state(
    start: DateTime<Utc>,
    due: DateTime<Utc>,
    done: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaState {
    match done {
        Some(at) if at <= due => SlaState::Met,
        Some(_) => SlaState::Missed,
        None if now > due => SlaState::Overdue,
        None if (due - now) * 4 <= due - start => SlaState::DueSoon,
        None => SlaState::Running,
    }
}

/// Whether a complaint was or is handled past one of its deadlines.
pub fn overdue(
    response_due: DateTime<Utc>,
    resolution_due: DateTime<Utc>,
    responded: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    responded.unwrap_or(now) > response_due || resolved.unwrap_or(now) > resolution_due
}

/// The task that carries a complaint's deadline: due at `due`, for its
/// owner, escalating to the store manager when missed and to the OEM
/// `complaint_oem_escalation_hours` later. Titles name the severity and
/// category, never the customer.
pub fn complaint_task(
    s: &StoreSettings,
    rule: &'static str,
    received_at: DateTime<Utc>,
    due: DateTime<Utc>,
    severity: Severity,
    category: ComplaintCategory,
) -> TaskSpec {
    let (what, title) = if rule == COMPLAINT_RESPONSE {
        ("respond to", "投诉响应")
    } else {
        ("resolve", "投诉处理")
    };
    TaskSpec {
        kind: TaskKind::ComplaintResponse,
        rule,
        title: format!(
            "{title}：{}·{}",
            severity.label_zh(),
            category.label_zh()
        ),
        reason: format!(
            "A {} complaint about {}: {what} it by the deadline, or it escalates to the store manager and then the OEM.",
            severity.label_en().to_lowercase(),
            category.label_en().to_lowercase()
        ),
        window: Window {
            earliest: received_at.min(due),
            due,
            latest: due,
        },
        queue: Some(Role::CareAgent),
        max_escalation: 2,
        escalation_wait_hours: Some(s.complaint_oem_escalation_hours),
    }
}

/// The revisit that ends a complaint: within `complaint_revisit_days` of
/// closing it (care agents).
pub fn complaint_revisit(s: &StoreSettings, tz: Tz, closed_on: NaiveDate) -> TaskSpec {
    let days = s.complaint_revisit_days as i64;
    TaskSpec {
        kind: TaskKind::Revisit,
        rule: COMPLAINT_REVISIT,
        title: "投诉结案回访".into(),
        reason: format!(
            "A complaint was closed on {closed_on}: ask the customer whether they are satisfied with the outcome, within {days} days."
        ),
        window: days_window(s, tz, closed_on, 0, days, days),
        queue: Some(Role::CareAgent),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

/// What closing a complaint needs: a resolution, and for a severe one an
/// improvement and prevention plan.
pub fn check_close(
    status: ComplaintStatus,
    severity: Severity,
    resolution: Option<&str>,
    plan: Option<&str>,
) -> Result<(), ApiError> {
    if status == ComplaintStatus::Closed {
        return Err(ApiError::field(
            "complaintId",
            UserErrorCode::Conflict,
            "the complaint is closed already",
        ));
    }
    if resolution.is_none_or(|r| r.trim().is_empty()) {
        return Err(ApiError::field(
            "resolution",
            UserErrorCode::Required,
            "say how the complaint was resolved before closing it",
        ));
    }
    if severity == Severity::Severe && plan.is_none_or(|p| p.trim().is_empty()) {
        return Err(ApiError::field(
            "improvementPlan",
            UserErrorCode::Required,
            "a severe complaint closes only with an improvement and prevention plan",
        ));
    }
    Ok(())
}

/// A question of a questionnaire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Stable key answers refer to (`overall` for overall satisfaction).
    pub key: String,
    /// The question as asked.
    pub text: String,
    /// How it is answered.
    pub kind: String,
    /// Whether an answer is needed.
    pub required: bool,
}

impl Question {
    fn new(key: &str, text: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            key: key.into(),
            text: text.into(),
            kind: kind.as_str().into(),
            required,
        }
    }

    /// How it is answered.
    pub fn kind(&self) -> QuestionKind {
        QuestionKind::parse(&self.kind).unwrap_or(QuestionKind::Text)
    }
}

/// The questionnaire a store uses when neither it nor its OEM has one.
pub fn default_questions(kind: SurveyKind) -> Vec<Question> {
    use QuestionKind::*;
    let mut q = vec![Question::new(OVERALL, "总体满意度", Score, true)];
    match kind {
        SurveyKind::AfterSale => q.extend([
            Question::new("convenience", "购车过程是否便利", Score, false),
            Question::new("courtesy", "销售顾问的礼貌与热情", Score, false),
            Question::new("handover", "交车讲解是否清楚", Score, false),
        ]),
        SurveyKind::AfterService => q.extend([
            Question::new("convenience", "预约与接待是否便利", Score, false),
            Question::new("courtesy", "服务顾问的礼貌与热情", Score, false),
            Question::new("charged", "是否按约定收费", YesNo, false),
            Question::new("fixedFirstTime", "车辆是否一次修好", YesNo, false),
        ]),
    }
    q.push(Question::new("comments", "其他意见与建议", Text, false));
    q
}

/// Checks a questionnaire: 1 to 30 questions with unique keys, an
/// `overall` SCORE question among them.
pub fn check_questions(questions: &[Question]) -> Result<(), ApiError> {
    let bad = |msg: &str| ApiError::field("questions", UserErrorCode::Invalid, msg);
    if questions.is_empty() || questions.len() > 30 {
        return Err(bad("a questionnaire has 1 to 30 questions"));
    }
    let mut keys = std::collections::HashSet::new();
    for q in questions {
        if q.key.trim().is_empty() || q.key.len() > 40 || q.text.trim().is_empty() {
            return Err(bad(
                "every question has a key (up to 40 characters) and a text",
            ));
        }
        if !keys.insert(q.key.as_str()) {
            return Err(bad("question keys are unique"));
        }
    }
    if !questions
        .iter()
        .any(|q| q.key == OVERALL && q.kind() == QuestionKind::Score)
    {
        return Err(bad(
            "a questionnaire asks for the overall score (key `overall`, SCORE)",
        ));
    }
    Ok(())
}

/// One answer, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The question's key.
    pub key: String,
    /// A SCORE answer, 1 to 10.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub score: Option<i32>,
    /// A YES_NO answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub yes: Option<bool>,
    /// A TEXT answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
}

/// A scored survey.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// The overall score, 1 to 10.
    pub overall: i32,
    /// The customer satisfaction index, 0 to 100: the mean of the scores
    /// times ten.
    pub csi: f64,
}

/// Scores answers against their questions; every mistake is named by its
/// place (`answers.2.score`).
pub fn score(questions: &[Question], answers: &[Answer]) -> Result<Scored, ApiError> {
    let mut errors = Vec::new();
    let at = |i: usize, f: &str| format!("answers.{i}.{f}");
    let mut seen = std::collections::HashSet::new();
    for (i, a) in answers.iter().enumerate() {
        let Some(q) = questions.iter().find(|q| q.key == a.key) else {
            errors.push(UserError::at(
                &at(i, "key"),
                UserErrorCode::Invalid,
                format!("the questionnaire has no question `{}`", a.key),
            ));
            continue;
        };
        if !seen.insert(a.key.as_str()) {
            errors.push(UserError::at(
                &at(i, "key"),
                UserErrorCode::Duplicate,
                "each question is answered once",
            ));
        }
        let fits = match q.kind() {
            QuestionKind::Score => a.score.is_some_and(|s| (1..=MAX_SCORE).contains(&s)),
            QuestionKind::YesNo => a.yes.is_some(),
            QuestionKind::Text => a.text.as_deref().is_some_and(|t| t.chars().count() <= 2000),
        };
        if !fits {
            let (field, msg) = match q.kind() {
                QuestionKind::Score => ("score", format!("a score from 1 to {MAX_SCORE}")),
                QuestionKind::YesNo => ("yes", "yes or no".to_string()),
                QuestionKind::Text => ("text", "text of up to 2,000 characters".to_string()),
            };
            errors.push(UserError::at(
                &at(i, field),
                UserErrorCode::OutOfRange,
                format!("`{}` is answered with {msg}", q.key),
            ));
        }
    }
    for q in questions.iter().filter(|q| q.required) {
        if !answers.iter().any(|a| a.key == q.key) {
            errors.push(UserError::at(
                "answers",
                UserErrorCode::Required,
                format!("`{}` ({}) needs an answer", q.key, q.text),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::User(errors));
    }
    let scores: Vec<i32> = answers
        .iter()
        .filter(|a| {
            questions
                .iter()
                .any(|q| q.key == a.key && q.kind() == QuestionKind::Score)
        })
        .filter_map(|a| a.score)
        .collect();
    let overall = answers
        .iter()
        .find(|a| a.key == OVERALL)
        .and_then(|a| a.score)
        .unwrap_or(MAX_SCORE);
    let csi = if scores.is_empty() {
        f64::from(overall) * 10.0
    } else {
        f64::from(scores.iter().sum::<i32>()) * 10.0 / scores.len() as f64
    };
    Ok(Scored { overall, csi })
}

/// Whether an overall score opens a complaint by itself.
pub fn opens_complaint(s: &StoreSettings, overall: i32) -> bool {
    overall < s.survey_complaint_below
}

/// What the agent says and asks on a revisit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The opening and purpose of the call.
    pub opening: &'static str,
    /// The questionnaire to ask, if the revisit type has one.
    pub survey: Option<SurveyKind>,
}

/// The script of a revisit by the rule that created it.
pub fn script(rule: Option<&str>) -> Script {
    match rule {
        Some("delivery_revisit") => Script {
            opening: "您好，我是本店客户关怀专员。感谢您选择我们，想了解一下新车使用情况和您对购车过程的感受，大约占用您两分钟。",
            survey: Some(SurveyKind::AfterSale),
        },
        Some("service_revisit") => Script {
            opening: "您好，我是本店客户关怀专员。您的车辆前几天在本店做了维修保养，想确认车辆是否一切正常，并请您对这次服务做个评价。",
            survey: Some(SurveyKind::AfterService),
        },
        Some(COMPLAINT_REVISIT) => Script {
            opening: "您好，关于您之前反映的问题，我们已经处理完毕。想确认一下您对处理结果是否满意，还有没有需要我们改进的地方。",
            survey: None,
        },
        Some("claim_revisit") => Script {
            opening: "您好，这里是厂家客户服务中心。您的车辆近期做过一次保修维修，想确认维修效果是否良好。",
            survey: None,
        },
        _ => Script {
            opening: "您好，我是本店客户关怀专员，想了解一下您最近的用车情况，以及对我们服务的意见。",
            survey: None,
        },
    }
}

/// Whether one more unanswered attempt closes the revisit as unreachable.
pub fn gives_up(s: &StoreSettings, failed_attempts: u64) -> bool {
    failed_attempts >= s.revisit_max_attempts as u64
}

labeled_enum! {
    /// Where a customer is in their life with the store.
    Stage {
        Prospect = "PROSPECT" ("Prospect", "潜在客户"),
        NewOwner = "NEW_OWNER" ("New owner", "新车主"),
        Developing = "DEVELOPING" ("Developing", "成长期"),
        Loyal = "LOYAL" ("Loyal", "忠诚客户"),
        Declining = "DECLINING" ("Declining", "衰退期"),
        Lost = "LOST" ("Lost", "流失客户"),
    }
}

labeled_enum! {
    /// Why a customer may be drifting away.
    Risk {
        OverdueService = "OVERDUE_SERVICE" ("Overdue for service", "保养逾期未回厂"),
        OpenComplaint = "OPEN_COMPLAINT" ("Unresolved complaint", "投诉未解决"),
        LowSatisfaction = "LOW_SATISFACTION" ("Low satisfaction", "满意度低"),
        WarrantyEnding = "WARRANTY_ENDING" ("Warranty about to end", "保修即将到期"),
    }
}

labeled_enum! {
    /// The Pareto segment of a customer by revenue within the store.
    Segment {
        A = "A" ("A: the top 20% of revenue", "A 核心客户"),
        B = "B" ("B: the next 30%", "B 重要客户"),
        C = "C" ("C: the rest", "C 一般客户"),
    }
}

labeled_enum! {
    /// Why a customer left, as a win-back attempt finds out.
    LeaveReason {
        Price = "PRICE" ("Price", "价格"),
        Distance = "DISTANCE" ("Distance", "距离远"),
        ServiceQuality = "SERVICE_QUALITY" ("Service quality", "服务质量"),
        SoldCar = "SOLD_CAR" ("Sold the car", "已卖车"),
        Moved = "MOVED" ("Moved away", "搬迁"),
        Other = "OTHER" ("Other", "其他"),
    }
}

labeled_enum! {
    /// How a win-back attempt ended.
    WinBackResult {
        WonBack = "WON_BACK" ("Won back", "已挽回"),
        Pending = "PENDING" ("Still deciding", "待跟进"),
        Lost = "LOST" ("Lost for good", "确认流失"),
    }
}

/// The rule name of a win-back contact.
pub const WIN_BACK: &str = "win_back";

/// What the retention pass knows of a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StandingFacts {
    /// Vehicles they own.
    pub vehicles: i32,
    /// The earliest delivery of one of them.
    pub first_delivery: Option<NaiveDate>,
    /// Their last service visit.
    pub last_visit: Option<NaiveDate>,
    /// Service visits in the last 12 months.
    pub visits_12m: i32,
    /// Service visits in the last 24 months.
    pub visits_24m: i32,
    /// The soonest predicted next service of their cars.
    pub next_service_due: Option<NaiveDate>,
    /// Complaints not yet resolved.
    pub open_complaints: i32,
    /// A survey in the last 12 months below the store's threshold.
    pub low_satisfaction: bool,
    /// The soonest warranty end still ahead.
    pub warranty_ends: Option<NaiveDate>,
    /// Cars bought here.
    pub cars_bought: i32,
    /// What they paid for them, fen.
    pub sales_revenue_fen: i64,
    /// Service revenue, fen, in all.
    pub service_revenue_fen: i64,
    /// Service revenue, fen, in the last 12 months.
    pub service_revenue_12m_fen: i64,
}

fn months_after(d: NaiveDate, months: i32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(months.max(0) as u32))
        .unwrap_or(NaiveDate::MAX)
}

/// The risks a customer shows today.
pub fn risks(s: &StoreSettings, f: &StandingFacts, today: NaiveDate) -> Vec<Risk> {
    let mut out = Vec::new();
    let margin = Duration::days(s.retention_margin_days as i64);
    if f.next_service_due.is_some_and(|d| d + margin < today) {
        out.push(Risk::OverdueService);
    }
    if f.open_complaints > 0 {
        out.push(Risk::OpenComplaint);
    }
    if f.low_satisfaction {
        out.push(Risk::LowSatisfaction);
    }
    let horizon = today + Duration::days(s.warranty_ending_days as i64);
    if f.warranty_ends.is_some_and(|e| e >= today && e <= horizon) {
        out.push(Risk::WarrantyEnding);
    }
    out
}

/// The lifecycle stage from the customer's history: no car is a prospect;
/// no visit for `lapsed_after_months` is lost; overdue for service past
/// the margin is declining; in the first year a new owner; with
/// `loyal_visits` visits in two years loyal; otherwise developing.
pub fn stage(s: &StoreSettings, f: &StandingFacts, today: NaiveDate) -> Stage {
    if f.vehicles == 0 {
        return Stage::Prospect;
    }
    let since = f.last_visit.or(f.first_delivery);
    if since.is_some_and(|d| months_after(d, s.lapsed_after_months) <= today) {
        return Stage::Lost;
    }
    let margin = Duration::days(s.retention_margin_days as i64);
    if f.next_service_due.is_some_and(|d| d + margin < today) {
        return Stage::Declining;
    }
    if f.first_delivery
        .is_some_and(|d| months_after(d, 12) > today)
    {
        return Stage::NewOwner;
    }
    if f.visits_24m >= s.loyal_visits {
        return Stage::Loyal;
    }
    Stage::Developing
}

/// Lifetime value as the trade counts it (DOMAIN.md): the cars a customer
/// is likely to buy in a lifetime times their average price (the store's
/// assumed price if they bought none here), plus the finance income on
/// them, plus parts and service for the years counted at this year's rate.
pub fn lifetime_value_fen(s: &StoreSettings, f: &StandingFacts) -> i64 {
    let price = if f.cars_bought > 0 {
        f.sales_revenue_fen / i64::from(f.cars_bought)
    } else {
        s.ltv_car_price_yuan as i64 * 100
    };
    let cars_tenths = s.ltv_lifetime_cars_tenths as i64;
    let cars = price.saturating_mul(cars_tenths) / 10;
    let finance = cars.saturating_mul(s.ltv_finance_permille as i64) / 1000;
    let service = f
        .service_revenue_12m_fen
        .saturating_mul(s.ltv_service_years as i64);
    cars.saturating_add(finance).saturating_add(service)
}

/// Pareto segments by revenue: the customers bringing the top 20 % of
/// customers by revenue are A, the next 30 % B, the rest (and everyone
/// who brought nothing) C. `revenues` in any order; the answer in the same
/// order.
pub fn segments(revenues: &[i64]) -> Vec<Segment> {
    let mut order: Vec<usize> = (0..revenues.len()).collect();
    order.sort_by(|&a, &b| revenues[b].cmp(&revenues[a]).then(a.cmp(&b)));
    let n = revenues.len();
    let (a, b) = (n.div_ceil(5), n / 2);
    let mut out = vec![Segment::C; n];
    for (rank, &i) in order.iter().enumerate() {
        if revenues[i] <= 0 {
            continue;
        }
        out[i] = if rank < a {
            Segment::A
        } else if rank < b {
            Segment::B
        } else {
            Segment::C
        };
    }
    out
}

/// The win-back contact for a customer newly at risk (care agents, within
/// `win_back_days`). The title names the risks, never the customer.
pub fn win_back(s: &StoreSettings, tz: Tz, today: NaiveDate, risks: &[Risk]) -> TaskSpec {
    let days = s.win_back_days as i64;
    let what = risks
        .iter()
        .map(|r| r.label_zh())
        .collect::<Vec<_>>()
        .join("、");
    TaskSpec {
        kind: TaskKind::WinBack,
        rule: WIN_BACK,
        title: format!("客户挽回：{what}"),
        reason: format!(
            "The daily retention pass found this customer at risk ({}): call, find out why and win them back; record the attempt.",
            risks
                .iter()
                .map(|r| r.label_en().to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        window: days_window(s, tz, today, 0, days, days),
        queue: Some(Role::CareAgent),
        max_escalation: 1,
        escalation_wait_hours: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn deadlines_follow_severity_settings() {
        let s = StoreSettings::default();
        assert_eq!(deadlines(&s, Severity::Normal, t(0)), (t(24), t(72)));
        assert_eq!(deadlines(&s, Severity::Severe, t(0)), (t(4), t(24)));
        assert_eq!(deadlines(&s, Severity::Minor, t(0)), (t(48), t(168)));
        let quick = StoreSettings {
            complaint_response_hours: 2,
            ..Default::default()
        };
        assert_eq!(deadlines(&quick, Severity::Normal, t(0)).0, t(2));
    }

    #[test]
    fn sla_clocks() {
        assert_eq!(sla_state(t(0), t(24), None, t(1)), SlaState::Running);
        assert_eq!(sla_state(t(0), t(24), None, t(19)), SlaState::DueSoon);
        assert_eq!(sla_state(t(0), t(24), None, t(25)), SlaState::Overdue);
        assert_eq!(sla_state(t(0), t(24), Some(t(24)), t(30)), SlaState::Met);
        assert_eq!(sla_state(t(0), t(24), Some(t(25)), t(30)), SlaState::Missed);
        assert!(overdue(t(24), t(72), Some(t(25)), Some(t(30)), t(40)));
        assert!(!overdue(t(24), t(72), Some(t(2)), None, t(40)));
        assert!(overdue(t(24), t(72), Some(t(2)), None, t(73)));
    }

    #[test]
    fn closing_needs_a_resolution_and_for_severe_a_plan() {
        let open = ComplaintStatus::Resolved;
        assert!(check_close(open, Severity::Normal, None, None).is_err());
        assert!(check_close(open, Severity::Normal, Some(" "), None).is_err());
        assert!(check_close(open, Severity::Normal, Some("refunded"), None).is_ok());
        assert!(check_close(open, Severity::Severe, Some("refunded"), None).is_err());
        assert!(check_close(open, Severity::Severe, Some("refunded"), Some("training")).is_ok());
    }

    #[test]
    fn lifecycle_follows_the_history() {
        let s = StoreSettings::default();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let owner = StandingFacts {
            vehicles: 1,
            first_delivery: Some(d(2026, 1, 10)),
            next_service_due: Some(d(2026, 7, 10)),
            ..Default::default()
        };
        assert_eq!(
            stage(&s, &StandingFacts::default(), d(2026, 2, 1)),
            Stage::Prospect
        );
        assert_eq!(stage(&s, &owner, d(2026, 2, 1)), Stage::NewOwner);
        assert_eq!(
            stage(&s, &owner, d(2026, 8, 9)),
            Stage::NewOwner,
            "30 days of margin"
        );
        assert_eq!(stage(&s, &owner, d(2026, 8, 10)), Stage::Declining);
        assert_eq!(stage(&s, &owner, d(2027, 1, 10)), Stage::Lost);
        assert_eq!(risks(&s, &owner, d(2026, 8, 10)), [Risk::OverdueService]);
        let loyal = StandingFacts {
            first_delivery: Some(d(2023, 1, 10)),
            last_visit: Some(d(2026, 6, 1)),
            visits_24m: 3,
            next_service_due: Some(d(2026, 12, 1)),
            ..owner.clone()
        };
        assert_eq!(stage(&s, &loyal, d(2026, 7, 1)), Stage::Loyal);
        assert_eq!(
            stage(
                &s,
                &StandingFacts {
                    visits_24m: 2,
                    ..loyal
                },
                d(2026, 7, 1)
            ),
            Stage::Developing
        );
    }

    #[test]
    fn value_and_segments() {
        let s = StoreSettings::default();
        let f = StandingFacts {
            cars_bought: 1,
            sales_revenue_fen: 200_000 * 100,
            service_revenue_12m_fen: 3_000 * 100,
            ..Default::default()
        };
        // 3 cars × 200,000 + 3 % finance + 10 years × 3,000 yuan.
        assert_eq!(lifetime_value_fen(&s, &f), 648_000 * 100);
        let seg = segments(&[50, 0, 900, 10, 300, 20, 5, 1, 2, 3]);
        assert_eq!(seg[2], Segment::A);
        assert_eq!(seg[4], Segment::A);
        assert_eq!(seg[0], Segment::B);
        assert_eq!(seg[1], Segment::C);
    }

    #[test]
    fn surveys_score_and_name_bad_answers() {
        let q = default_questions(SurveyKind::AfterService);
        check_questions(&q).unwrap();
        let a = |k: &str, s: i32| Answer {
            key: k.into(),
            score: Some(s),
            yes: None,
            text: None,
        };
        let ok = score(&q, &[a("overall", 8), a("courtesy", 6)]).unwrap();
        assert_eq!(ok.overall, 8);
        assert!((ok.csi - 70.0).abs() < 1e-9);
        let Err(ApiError::User(e)) = score(&q, &[a("overall", 11), a("nope", 3)]) else {
            panic!("expected user errors")
        };
        assert_eq!(e.len(), 2);
        assert!(
            score(&q, &[a("courtesy", 6)]).is_err(),
            "overall is required"
        );
        assert!(opens_complaint(&StoreSettings::default(), 5));
        assert!(!opens_complaint(&StoreSettings::default(), 6));
    }
}
