//! Customer care over GraphQL: complaints with their SLA clocks and action
//! log, revisits with scripts and structured outcomes, surveys and CSI.
//! Thin: every decision is in the rooms beside.
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    complaint, complaint_action, customer_standing, revisit_attempt, survey_response,
    survey_template, win_back_attempt,
};

use super::{
    complaints::{self, AdvanceComplaintInput, ComplaintFilter, OpenComplaintInput},
    retention::{self, CustomerValueFilter, CustomerValueOrder, RecordWinBackInput},
    revisits::{self, RecordRevisitInput, RevisitOutcome},
    rules::{
        self, Answer, ComplaintActionKind, ComplaintCategory, ComplaintCause, ComplaintChannel,
        ComplaintStatus, Department, LeaveReason, Question, QuestionKind, RevisitMethod, Risk,
        Segment, Severity, SlaState, Stage, SurveyKind, WinBackResult,
    },
    surveys::{self, CsiBy, CsiRow, RecordSurveyInput, Recorded, SaveSurveyTemplateInput},
};
use crate::{
    customers::graphql::{Customer, Vehicle},
    error::into_payload,
    error::UserError,
    graphql::{
        connection::{page_args, to_connection, wants_total, Conn},
        context::{payload, CtxExt},
        loaders::{CustomerKey, EscalationOf},
    },
    ids::{self, NodeKind},
    org::graphql::{Staff, Store},
    org::rules::StoreSettings,
    service::graphql::RepairOrder,
    tasks::{graphql::Task, store as tasks},
};

async fn staff(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> async_graphql::Result<Option<Staff>> {
    Staff::load(ctx, id).await
}

/// Whether the reader may see the customer: free text written about a
/// complaint is shown only then.
async fn sees(ctx: &Context<'_>, customer_id: uuid::Uuid) -> async_graphql::Result<bool> {
    Ok(ctx
        .loader()?
        .load_one(CustomerKey(customer_id))
        .await?
        .is_some())
}

async fn scoped<'a>(
    ctx: &Context<'_>,
    customer_id: uuid::Uuid,
    text: Option<&'a str>,
) -> async_graphql::Result<Option<&'a str>> {
    Ok(if sees(ctx, customer_id).await? {
        text
    } else {
        None
    })
}

/// A customer's complaint, with its deadlines and how it was handled.
pub struct Complaint(pub complaint::Model);

#[Object]
impl Complaint {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Complaint, self.0.id)
    }
    /// The store.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        Store::load(ctx, self.0.store_id).await
    }
    /// The customer (null if you may not see them).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }
    /// The vehicle (null if you may not see its owner).
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        Vehicle::load(ctx, self.0.vehicle_id).await
    }
    /// The repair order it is about (null if you may not see it).
    async fn repair_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepairOrder>> {
        match self.0.repair_order_id {
            Some(id) => crate::service::graphql::order(ctx, id).await,
            None => Ok(None),
        }
    }
    /// How it reached the store.
    async fn channel(&self) -> ComplaintChannel {
        ComplaintChannel::parse(&self.0.channel).unwrap_or(ComplaintChannel::Other)
    }
    /// When the customer complained.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    /// The complaint in the customer's words (null if you may not see the
    /// customer).
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        scoped(ctx, self.0.customer_id, Some(&self.0.content)).await
    }
    /// What it is about.
    async fn category(&self) -> ComplaintCategory {
        ComplaintCategory::parse(&self.0.category).unwrap_or(ComplaintCategory::Other)
    }
    /// Why the customer complains.
    async fn cause(&self) -> ComplaintCause {
        ComplaintCause::parse(&self.0.cause).unwrap_or(ComplaintCause::Other)
    }
    /// How serious it is.
    async fn severity(&self) -> Severity {
        complaints::severity(&self.0)
    }
    /// The department it names.
    async fn department(&self) -> Department {
        Department::parse(&self.0.department).unwrap_or(Department::Other)
    }
    /// The staff member it names.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.0.staff_id).await
    }
    /// Who handles it.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.0.owner_id)).await
    }
    /// Where it stands.
    async fn status(&self) -> ComplaintStatus {
        complaints::status(&self.0)
    }
    /// The first response is due by.
    async fn response_due_at(&self) -> DateTime<Utc> {
        self.0.response_due_at
    }
    /// It must be resolved by.
    async fn resolution_due_at(&self) -> DateTime<Utc> {
        self.0.resolution_due_at
    }
    /// When the customer first heard back.
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.responded_at
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// When it was closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The response deadline's clock.
    async fn response_clock(&self, ctx: &Context<'_>) -> async_graphql::Result<SlaState> {
        let c = &self.0;
        Ok(rules::sla_state(
            c.received_at,
            c.response_due_at,
            c.responded_at,
            ctx.now()?,
        ))
    }
    /// The resolution deadline's clock.
    async fn resolution_clock(&self, ctx: &Context<'_>) -> async_graphql::Result<SlaState> {
        let c = &self.0;
        Ok(rules::sla_state(
            c.received_at,
            c.resolution_due_at,
            c.resolved_at,
            ctx.now()?,
        ))
    }
    /// Whether it is or was handled past a deadline.
    async fn overdue(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let c = &self.0;
        Ok(rules::overdue(
            c.response_due_at,
            c.resolution_due_at,
            c.responded_at,
            c.resolved_at,
            ctx.now()?,
        ))
    }
    /// How far a missed deadline took it: 0 not escalated, 1 the store
    /// manager, 2 the OEM.
    async fn escalation_level(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(ctx
            .loader()?
            .load_one(EscalationOf(self.0.id))
            .await?
            .unwrap_or(0))
    }
    /// How it was resolved (null if you may not see the customer).
    async fn resolution(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        scoped(ctx, self.0.customer_id, self.0.resolution.as_deref()).await
    }
    /// Whether an improvement and prevention plan was made.
    async fn has_improvement_plan(&self) -> bool {
        self.0.improvement_plan.is_some()
    }
    /// The improvement and prevention plan (null if you may not see the
    /// customer).
    async fn improvement_plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        scoped(ctx, self.0.customer_id, self.0.improvement_plan.as_deref()).await
    }
    /// The customer's satisfaction with the outcome, 1 to 10.
    async fn outcome_satisfaction(&self) -> Option<i32> {
        self.0.outcome_satisfaction
    }
    /// The survey that opened it.
    async fn survey(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SurveyResponse>> {
        match self.0.survey_response_id {
            Some(id) => Ok(surveys::find(ctx.db()?, ctx.actor()?, id)
                .await?
                .map(SurveyResponse)),
            None => Ok(None),
        }
    }
    /// What was done, oldest first.
    async fn actions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ComplaintAction>> {
        let shown = sees(ctx, self.0.customer_id).await?;
        Ok(complaints::actions(ctx.db()?, self.0.id)
            .await?
            .into_iter()
            .map(|a| ComplaintAction(a, shown))
            .collect())
    }
}

/// One entry of a complaint's action log.
pub struct ComplaintAction(complaint_action::Model, bool);

#[Object]
impl ComplaintAction {
    /// What happened.
    async fn kind(&self) -> ComplaintActionKind {
        ComplaintActionKind::parse(&self.0.kind).unwrap_or(ComplaintActionKind::Note)
    }
    /// The note (null if you may not see the customer).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref().filter(|_| self.1)
    }
    /// Who.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.0.staff_id)).await
    }
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A customer's answers to a satisfaction survey.
pub struct SurveyResponse(pub survey_response::Model);

#[Object]
impl SurveyResponse {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::SurveyResponse, self.0.id)
    }
    /// Which questionnaire.
    async fn kind(&self) -> SurveyKind {
        SurveyKind::parse(&self.0.kind).unwrap_or(SurveyKind::AfterService)
    }
    /// The customer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }
    /// The staff member it rates (the sale's consultant, the visit's
    /// advisor).
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.0.staff_id).await
    }
    /// The sales order or repair order it is about.
    async fn event_id(&self) -> Option<ID> {
        let kind = match self.0.event_type.as_deref()? {
            "SalesOrder" => NodeKind::SalesOrder,
            _ => NodeKind::RepairOrder,
        };
        self.0.event_id.map(|id| ids::encode(kind, id))
    }
    /// How it was taken.
    async fn method(&self) -> RevisitMethod {
        RevisitMethod::parse(&self.0.method).unwrap_or(RevisitMethod::Phone)
    }
    /// The overall score, 1 to 10.
    async fn overall(&self) -> i32 {
        self.0.overall
    }
    /// The customer satisfaction index of these answers, 0 to 100.
    async fn csi(&self) -> f64 {
        self.0.csi
    }
    /// The answers (free text is part of the customer's record: shown
    /// only to those who may see the customer).
    async fn answers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SurveyAnswer>> {
        let shown = sees(ctx, self.0.customer_id).await?;
        let answers: Vec<Answer> =
            serde_json::from_value(self.0.answers.clone()).unwrap_or_default();
        Ok(answers
            .into_iter()
            .map(|a| SurveyAnswer {
                key: a.key,
                score: a.score,
                yes: a.yes,
                text: a.text.filter(|_| shown),
            })
            .collect())
    }
    /// When it was answered.
    async fn answered_at(&self) -> DateTime<Utc> {
        self.0.answered_at
    }
}

/// One answer.
#[derive(SimpleObject, Clone, Debug)]
pub struct SurveyAnswer {
    /// The question's key.
    pub key: String,
    /// A score, 1 to 10.
    pub score: Option<i32>,
    /// Yes or no.
    pub yes: Option<bool>,
    /// Free text.
    pub text: Option<String>,
}

/// A question of a questionnaire.
#[derive(SimpleObject, Clone, Debug)]
pub struct SurveyQuestion {
    /// Stable key.
    pub key: String,
    /// The question as asked.
    pub text: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// Whether an answer is needed.
    pub required: bool,
}

fn questions(q: Vec<Question>) -> Vec<SurveyQuestion> {
    q.into_iter()
        .map(|q| SurveyQuestion {
            kind: q.kind(),
            key: q.key,
            text: q.text,
            required: q.required,
        })
        .collect()
}

/// A questionnaire.
#[derive(SimpleObject, Clone, Debug)]
pub struct SurveyTemplate {
    /// Global id (null for the built-in one).
    pub id: Option<ID>,
    /// After a sale or a service visit.
    pub kind: SurveyKind,
    /// Its name.
    pub name: String,
    /// Whose: STORE, OEM or BUILT_IN.
    pub owner: String,
    /// The questions, in order.
    pub questions: Vec<SurveyQuestion>,
}

impl SurveyTemplate {
    fn of(kind: SurveyKind, t: Option<survey_template::Model>, q: Vec<Question>) -> Self {
        match t {
            Some(t) => SurveyTemplate {
                id: Some(ids::encode(NodeKind::SurveyTemplate, t.id)),
                kind,
                owner: if t.store_id.is_some() { "STORE" } else { "OEM" }.into(),
                name: t.name,
                questions: questions(q),
            },
            None => SurveyTemplate {
                id: None,
                kind,
                name: kind.label_zh().into(),
                owner: "BUILT_IN".into(),
                questions: questions(q),
            },
        }
    }
}

/// What a revisit's agent says and asks.
#[derive(SimpleObject, Clone, Debug)]
pub struct RevisitScript {
    /// The opening and purpose of the call.
    pub opening: String,
    /// The questionnaire to ask, if the revisit has one.
    pub survey: Option<SurveyTemplate>,
    /// Attempts so far.
    pub attempts: Vec<RevisitAttempt>,
    /// Unanswered attempts after which the revisit closes as unreachable.
    pub max_attempts: i32,
}

/// One attempt at a revisit.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RevisitAttempt {
    /// How.
    pub method: RevisitMethod,
    /// Whether the customer was reached.
    pub reached: bool,
    /// When.
    pub at: DateTime<Utc>,
    #[graphql(skip)]
    staff_id: uuid::Uuid,
}

#[ComplexObject]
impl RevisitAttempt {
    /// Who tried.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.staff_id)).await
    }
}

impl From<revisit_attempt::Model> for RevisitAttempt {
    fn from(a: revisit_attempt::Model) -> Self {
        RevisitAttempt {
            method: RevisitMethod::parse(&a.method).unwrap_or(RevisitMethod::Phone),
            reached: a.reached,
            at: a.at,
            staff_id: a.staff_id,
        }
    }
}

#[ComplexObject]
impl CsiRow {
    /// The store.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        Store::load(ctx, self.store_id).await
    }
    /// The staff member rated (rows by staff; null for surveys that rate
    /// no one).
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.staff_id).await
    }
}

/// Where a customer stands, as the daily retention pass last saw them.
pub struct CustomerStanding(pub customer_standing::Model);

#[Object]
impl CustomerStanding {
    /// The customer (null if you may not see them).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }
    /// Lifecycle stage.
    async fn stage(&self) -> Stage {
        Stage::parse(&self.0.stage).unwrap_or(Stage::Prospect)
    }
    /// Pareto segment by revenue within the store.
    async fn segment(&self) -> Segment {
        Segment::parse(&self.0.segment).unwrap_or(Segment::C)
    }
    /// Why they may be drifting away.
    async fn risks(&self) -> Vec<Risk> {
        retention::risks_of(&self.0)
    }
    /// Whether they are at risk.
    async fn at_risk(&self) -> bool {
        self.0.at_risk
    }
    /// Since when they have been at risk.
    async fn at_risk_since(&self) -> Option<NaiveDate> {
        self.0.at_risk_since
    }
    /// Their last service visit.
    async fn last_visit_on(&self) -> Option<NaiveDate> {
        self.0.last_visit_on
    }
    /// Service visits in the last 12 months.
    async fn visits_per_year(&self) -> i32 {
        self.0.visits_12m
    }
    /// Vehicles they own.
    async fn vehicles(&self) -> i32 {
        self.0.vehicles
    }
    /// What their cars cost them here, fen.
    async fn sales_revenue_fen(&self) -> i64 {
        self.0.sales_revenue_fen
    }
    /// What their service visits brought, fen.
    async fn service_revenue_fen(&self) -> i64 {
        self.0.service_revenue_fen
    }
    /// Revenue in all, fen.
    async fn revenue_fen(&self) -> i64 {
        self.0.revenue_fen
    }
    /// Revenue per vehicle, fen.
    async fn revenue_per_vehicle_fen(&self) -> i64 {
        self.0.revenue_fen / i64::from(self.0.vehicles.max(1))
    }
    /// Lifetime value estimate, fen (DOMAIN.md; inputs are store settings).
    async fn lifetime_value_fen(&self) -> i64 {
        self.0.ltv_fen
    }
    /// The store day its figures last changed (the daily pass rewrites a
    /// standing only when something changed).
    async fn computed_on(&self) -> NaiveDate {
        self.0.computed_on
    }
    /// Win-back attempts, newest first.
    async fn win_backs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WinBackAttempt>> {
        let shown = sees(ctx, self.0.customer_id).await?;
        Ok(retention::attempts(ctx.db()?, self.0.customer_id)
            .await?
            .into_iter()
            .map(|a| WinBackAttempt(a, shown))
            .collect())
    }
}

/// One attempt to win a customer back.
pub struct WinBackAttempt(win_back_attempt::Model, bool);

#[Object]
impl WinBackAttempt {
    /// Why they left.
    async fn reason(&self) -> LeaveReason {
        LeaveReason::parse(&self.0.reason).unwrap_or(LeaveReason::Other)
    }
    /// What it cost, fen.
    async fn cost_fen(&self) -> i64 {
        self.0.cost_fen
    }
    /// When.
    async fn attempted_on(&self) -> NaiveDate {
        self.0.attempted_on
    }
    /// How it ended.
    async fn result(&self) -> WinBackResult {
        WinBackResult::parse(&self.0.result).unwrap_or(WinBackResult::Pending)
    }
    /// Notes (null if you may not see the customer).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref().filter(|_| self.1)
    }
    /// Who tried.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.0.staff_id)).await
    }
}

payload!(
    /// Result of recording a win-back attempt.
    WinBackPayload { attempt: WinBackAttempt }
);

payload!(
    /// Result of a change to a complaint.
    ComplaintPayload { complaint: Complaint }
);
payload!(
    /// Result of saving a questionnaire.
    SurveyTemplatePayload { template: SurveyTemplate }
);

/// Result of recording a survey.
#[derive(SimpleObject)]
pub struct SurveyPayload {
    /// The answers, scored.
    pub survey: Option<SurveyResponse>,
    /// The complaint a low score opened.
    pub complaint: Option<Complaint>,
    /// Why nothing was recorded.
    pub user_errors: Vec<UserError>,
}

impl SurveyPayload {
    fn of(r: crate::error::ApiResult<Recorded>) -> async_graphql::Result<Self> {
        let (r, user_errors) = into_payload(r)?;
        Ok(match r {
            Some(r) => SurveyPayload {
                survey: Some(SurveyResponse(r.response)),
                complaint: r.complaint.map(Complaint),
                user_errors,
            },
            None => SurveyPayload {
                survey: None,
                complaint: None,
                user_errors,
            },
        })
    }
}

/// Result of a revisit attempt.
#[derive(SimpleObject)]
pub struct RevisitPayload {
    /// The revisit task as it is now (DONE when reached or given up).
    pub task: Option<Task>,
    /// The attempt.
    pub attempt: Option<RevisitAttempt>,
    /// Attempts so far that did not reach the customer.
    pub failed_attempts: i32,
    /// The survey recorded.
    pub survey: Option<SurveyResponse>,
    /// The complaint opened (a problem raised, or a low score).
    pub complaint: Option<Complaint>,
    /// Why nothing was recorded.
    pub user_errors: Vec<UserError>,
}

impl From<RevisitOutcome> for RevisitPayload {
    fn from(r: RevisitOutcome) -> Self {
        RevisitPayload {
            task: Some(Task(r.task)),
            attempt: Some(r.attempt.into()),
            failed_attempts: i32::try_from(r.failed_attempts).unwrap_or(i32::MAX),
            survey: r.survey.map(SurveyResponse),
            complaint: r.complaint.map(Complaint),
            user_errors: Vec::new(),
        }
    }
}

/// Customer-care queries.
#[derive(Default)]
pub struct CareQuery;

#[Object]
impl CareQuery {
    /// A complaint by id.
    async fn complaint(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Complaint>> {
        let Some(id) = ids::decode(&id, NodeKind::Complaint) else {
            return Ok(None);
        };
        Ok(complaints::find(ctx.db()?, ctx.actor()?, id)
            .await?
            .map(Complaint))
    }

    /// The complaint board: complaints you may see, newest first, with
    /// their SLA clocks.
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        filter: Option<ComplaintFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<Complaint>> {
        let page = complaints::list(
            ctx.db()?,
            ctx.actor()?,
            ctx.now()?,
            &filter.unwrap_or_default(),
            &page_args(after, None, first, None),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Complaint))
    }

    /// The questionnaire in force for your store (or, for OEM staff, the
    /// network's).
    async fn survey_template(
        &self,
        ctx: &Context<'_>,
        kind: SurveyKind,
    ) -> async_graphql::Result<SurveyTemplate> {
        let actor = ctx.actor()?;
        let (t, q) = surveys::effective(ctx.db()?, actor.oem_id, actor.store_id, kind).await?;
        Ok(SurveyTemplate::of(kind, t, q))
    }

    /// The script of a revisit task you may work on: the opening, the
    /// questionnaire and the attempts so far.
    async fn revisit_script(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
    ) -> async_graphql::Result<Option<RevisitScript>> {
        let Some(id) = ids::decode(&task_id, NodeKind::Task) else {
            return Ok(None);
        };
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        let Some(t) = tasks::find(db, actor, id).await? else {
            return Ok(None);
        };
        let script = rules::script(t.rule.as_deref());
        let store = crate::org::store::store_by_id(db, t.store_id).await?;
        let survey = match script.survey {
            Some(kind) => {
                let oem = store.as_ref().map_or(actor.oem_id, |s| s.oem_id);
                let (tpl, q) = surveys::effective(db, oem, Some(t.store_id), kind).await?;
                Some(SurveyTemplate::of(kind, tpl, q))
            }
            None => None,
        };
        let settings = store.map_or_else(StoreSettings::default, |s| {
            StoreSettings::from_json(&s.settings)
        });
        Ok(Some(RevisitScript {
            opening: script.opening.into(),
            survey,
            attempts: revisits::attempts(db, t.id)
                .await?
                .into_iter()
                .map(RevisitAttempt::from)
                .collect(),
            max_attempts: settings.revisit_max_attempts,
        }))
    }

    /// Where a customer stands: lifecycle stage, risks, value and segment
    /// (null if you may not see them, or before the first daily pass).
    async fn customer_standing(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> async_graphql::Result<Option<CustomerStanding>> {
        let Some(id) = ids::decode(&customer_id, NodeKind::Customer) else {
            return Ok(None);
        };
        Ok(retention::standing(ctx.db()?, ctx.actor()?, id)
            .await?
            .map(CustomerStanding))
    }

    /// The customers you may see, highest lifetime value (or revenue)
    /// first: who brings the revenue, who is at risk, by stage and segment.
    async fn customer_values(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerValueFilter>,
        #[graphql(default)] order_by: CustomerValueOrder,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<CustomerStanding>> {
        let n = crate::customers::forecast::page_size(first)?;
        let (rows, more) = retention::by_value(
            ctx.reports_db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            order_by,
            n,
            after.as_deref(),
        )
        .await?;
        let mut c = Conn::with_additional_fields(
            after.is_some(),
            more,
            crate::graphql::connection::Counted { total_count: 0 },
        );
        c.edges.extend(
            rows.into_iter()
                .map(|(k, r)| async_graphql::connection::Edge::new(k, CustomerStanding(r))),
        );
        Ok(c)
    }

    /// Customer satisfaction (CSI) per store or per staff member rated,
    /// for surveys answered from `from` to `to` (store days, inclusive).
    async fn csi(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        #[graphql(default_with = "CsiBy::Staff")] by: CsiBy,
        kind: Option<SurveyKind>,
    ) -> async_graphql::Result<Vec<CsiRow>> {
        Ok(surveys::csi(ctx.reports_db()?, ctx.actor()?, from, to, by, kind).await?)
    }
}

/// Customer-care mutations.
#[derive(Default)]
pub struct CareMutation;

#[Object]
impl CareMutation {
    /// Records a complaint; its response and resolution deadlines follow
    /// from its severity and the store's settings.
    async fn open_complaint(
        &self,
        ctx: &Context<'_>,
        input: OpenComplaintInput,
    ) -> async_graphql::Result<ComplaintPayload> {
        ComplaintPayload::from_result(
            complaints::open(ctx.db()?, ctx.actor()?, ctx.now()?, input)
                .await
                .map(|(c, _)| c),
            Complaint,
        )
    }

    /// Handles a complaint one step: a note, a new owner, the first
    /// response (IN_PROGRESS), RESOLVED or CLOSED.
    async fn advance_complaint(
        &self,
        ctx: &Context<'_>,
        input: AdvanceComplaintInput,
    ) -> async_graphql::Result<ComplaintPayload> {
        ComplaintPayload::from_result(
            complaints::advance(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Complaint,
        )
    }

    /// Records an attempt at a revisit and, when the customer was reached,
    /// its outcome.
    async fn record_revisit(
        &self,
        ctx: &Context<'_>,
        input: RecordRevisitInput,
    ) -> async_graphql::Result<RevisitPayload> {
        let r = revisits::record(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        let (r, user_errors) = into_payload(r)?;
        Ok(match r {
            Some(r) => r.into(),
            None => RevisitPayload {
                task: None,
                attempt: None,
                failed_attempts: 0,
                survey: None,
                complaint: None,
                user_errors,
            },
        })
    }

    /// Records an attempt to win back a customer: why they left, what it
    /// cost and how it ended; WON_BACK or LOST closes their win-back
    /// contact.
    async fn record_win_back(
        &self,
        ctx: &Context<'_>,
        input: RecordWinBackInput,
    ) -> async_graphql::Result<WinBackPayload> {
        WinBackPayload::from_result(
            retention::record_win_back(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |a| WinBackAttempt(a, true),
        )
    }

    /// Records a survey taken outside a revisit (a lounge interview, a
    /// returned form).
    async fn record_survey(
        &self,
        ctx: &Context<'_>,
        input: RecordSurveyInput,
    ) -> async_graphql::Result<SurveyPayload> {
        SurveyPayload::of(surveys::record_direct(ctx.db()?, ctx.actor()?, ctx.now()?, input).await)
    }

    /// Saves a questionnaire: the store's (store managers) or the OEM
    /// network's (OEM staff); it replaces the one in force.
    async fn save_survey_template(
        &self,
        ctx: &Context<'_>,
        input: SaveSurveyTemplateInput,
    ) -> async_graphql::Result<SurveyTemplatePayload> {
        let kind = input.kind;
        SurveyTemplatePayload::from_result(
            surveys::save_template(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |t| {
                let q = serde_json::from_value(t.questions.clone()).unwrap_or_default();
                SurveyTemplate::of(kind, Some(t), q)
            },
        )
    }
}
