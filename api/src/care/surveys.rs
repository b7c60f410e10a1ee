//! Satisfaction surveys: questionnaires per OEM or store (a built-in one
//! when neither has its own), answers linked to the sale or service visit
//! and the staff member it rates, a complaint opened by a low overall
//! score, and CSI per store or staff member over a period.
use std::collections::HashMap;

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{complaint, repair_order, sales_order, survey_response, survey_template, task};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    complaints::{self, NewComplaint},
    rules::{
        self, Answer, ComplaintCategory, ComplaintCause, ComplaintChannel, Department, Question,
        QuestionKind, RevisitMethod, Severity, SurveyKind,
    },
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{Channel, LogKind},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::{rules as org_rules, store as org},
};

/// The questionnaire in force for a store and kind: the store's own, else
/// its OEM's, else the built-in one (`None` id).
pub async fn effective<C: ConnectionTrait>(
    db: &C,
    oem_id: Uuid,
    store_id: Option<Uuid>,
    kind: SurveyKind,
) -> ApiResult<(Option<survey_template::Model>, Vec<Question>)> {
    use survey_template::Column as T;
    let rows = survey_template::Entity::find()
        .filter(T::OemId.eq(oem_id))
        .filter(T::Kind.eq(kind.as_str()))
        .filter(T::Active.eq(true))
        .all(db)
        .await?;
    let pick = rows
        .iter()
        .find(|t| t.store_id.is_some() && t.store_id == store_id)
        .or_else(|| rows.iter().find(|t| t.store_id.is_none()))
        .cloned();
    let questions = pick
        .as_ref()
        .and_then(|t| serde_json::from_value(t.questions.clone()).ok())
        .unwrap_or_else(|| rules::default_questions(kind));
    Ok((pick, questions))
}

/// A question as a manager writes it.
#[derive(InputObject, Clone, Debug)]
pub struct QuestionInput {
    /// Stable key (`overall` for overall satisfaction, which every
    /// questionnaire has).
    pub key: String,
    /// The question as asked.
    pub text: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// Whether an answer is needed.
    #[graphql(default)]
    pub required: bool,
}

/// A new questionnaire: the store's (store managers) or the OEM network's
/// (OEM staff). It replaces the one in force for its kind.
#[derive(InputObject, Clone, Debug)]
pub struct SaveSurveyTemplateInput {
    /// After a sale or after a service visit.
    pub kind: SurveyKind,
    /// Its name.
    pub name: String,
    /// The questions, in order.
    pub questions: Vec<QuestionInput>,
}

/// Saves a questionnaire and retires the one it replaces.
pub async fn save_template<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SaveSurveyTemplateInput,
) -> ApiResult<survey_template::Model> {
    let store_id = match actor.reach() {
        Reach::Store(s) if actor.role == Role::StoreManager => Some(s),
        Reach::Oem(_) if matches!(actor.role, Role::OemStaff | Role::Admin) => None,
        _ => return Err(ApiError::Forbidden),
    };
    let name = crate::customers::rules::text(&input.name, "name", 100)?;
    let questions: Vec<Question> = input
        .questions
        .iter()
        .map(|q| Question {
            key: q.key.trim().to_string(),
            text: q.text.trim().to_string(),
            kind: q.kind.as_str().into(),
            required: q.required || q.key.trim() == rules::OVERALL,
        })
        .collect();
    rules::check_questions(&questions)?;
    let json = serde_json::to_value(&questions).map_err(anyhow::Error::from)?;
    let txn = db.begin().await?;
    survey_template::Entity::update_many()
        .col_expr(
            survey_template::Column::Active,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(survey_template::Column::OemId.eq(actor.oem_id))
        .filter(match store_id {
            Some(s) => survey_template::Column::StoreId.eq(s),
            None => survey_template::Column::StoreId.is_null(),
        })
        .filter(survey_template::Column::Kind.eq(input.kind.as_str()))
        .exec(&txn)
        .await?;
    let t = survey_template::Entity::insert(survey_template::ActiveModel {
        id: Set(Uuid::now_v7()),
        oem_id: Set(actor.oem_id),
        store_id: Set(store_id),
        kind: Set(input.kind.as_str().into()),
        name: Set(name),
        questions: Set(json),
        active: Set(true),
        created_by: Set(actor.staff_id),
        created_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(t)
}

/// One answer as a client sends it.
#[derive(InputObject, Clone, Debug)]
pub struct SurveyAnswerInput {
    /// The question's key.
    pub key: String,
    /// SCORE questions: 1 to 10.
    pub score: Option<i32>,
    /// YES_NO questions.
    pub yes: Option<bool>,
    /// TEXT questions.
    pub text: Option<String>,
}

impl SurveyAnswerInput {
    /// As stored.
    pub fn answer(&self) -> Answer {
        Answer {
            key: self.key.trim().to_string(),
            score: self.score,
            yes: self.yes,
            text: self.text.as_ref().map(|t| t.trim().to_string()),
        }
    }
}

/// What a survey is about.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A sale (its order).
    Sale(Uuid),
    /// A delivered car, by vehicle: its sale.
    DeliveredVehicle(Uuid),
    /// A service visit (its repair order).
    Service(Uuid),
}

/// The event's record and the staff member it rates: the sale's
/// consultant or the visit's service advisor.
async fn event_staff<C: ConnectionTrait>(
    db: &C,
    e: Event,
) -> ApiResult<(Option<(&'static str, Uuid)>, Option<Uuid>)> {
    Ok(match e {
        Event::Sale(id) => {
            let o = sales_order::Entity::find_by_id(id).one(db).await?;
            (Some(("SalesOrder", id)), o.map(|o| o.consultant_id))
        }
        Event::DeliveredVehicle(v) => {
            let o = sales_order::Entity::find()
                .filter(sales_order::Column::VehicleId.eq(v))
                .filter(sales_order::Column::DeliveredAt.is_not_null())
                .order_by_desc(sales_order::Column::DeliveredAt)
                .one(db)
                .await?;
            match o {
                Some(o) => (Some(("SalesOrder", o.id)), Some(o.consultant_id)),
                None => (None, None),
            }
        }
        Event::Service(id) => {
            let o = repair_order::Entity::find_by_id(id).one(db).await?;
            (Some(("RepairOrder", id)), o.map(|o| o.advisor_id))
        }
    })
}

/// A survey about to be stored.
pub struct NewSurvey<'a> {
    /// The store.
    pub store_id: Uuid,
    /// The OEM (for its questionnaire).
    pub oem_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// The vehicle, if known.
    pub vehicle_id: Option<Uuid>,
    /// Which questionnaire.
    pub kind: SurveyKind,
    /// What it is about.
    pub event: Option<Event>,
    /// The revisit it was asked on.
    pub task_id: Option<Uuid>,
    /// How it was asked.
    pub method: RevisitMethod,
    /// The answers.
    pub answers: &'a [Answer],
}

/// What storing a survey did.
pub struct Recorded {
    /// The answers, scored.
    pub response: survey_response::Model,
    /// The complaint a low score opened.
    pub complaint: Option<complaint::Model>,
    /// Its deadline tasks.
    pub tasks: Vec<task::Model>,
}

/// Scores and stores a survey in the caller's transaction; a low overall
/// score opens a complaint (channel SURVEY) owned by the one who recorded
/// it, unless `no_complaint` (the caller opens one itself).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    by: Uuid,
    now: DateTime<Utc>,
    s: NewSurvey<'_>,
    no_complaint: bool,
) -> ApiResult<Recorded> {
    let (template, questions) = effective(db, s.oem_id, Some(s.store_id), s.kind).await?;
    let scored = rules::score(&questions, s.answers)?;
    let (event, staff_id) = match s.event {
        Some(e) => event_staff(db, e).await?,
        None => (None, None),
    };
    let json = serde_json::to_value(s.answers).map_err(anyhow::Error::from)?;
    let response = survey_response::Entity::insert(survey_response::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(s.store_id),
        customer_id: Set(s.customer_id),
        template_id: Set(template.map(|t| t.id)),
        kind: Set(s.kind.as_str().into()),
        event_type: Set(event.map(|e| e.0.to_string())),
        event_id: Set(event.map(|e| e.1)),
        staff_id: Set(staff_id),
        task_id: Set(s.task_id),
        method: Set(s.method.as_str().into()),
        answers: Set(json),
        overall: Set(scored.overall),
        csi: Set(scored.csi),
        recorded_by: Set(by),
        answered_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    log::append(
        db,
        LogEvent {
            store_id: s.store_id,
            customer_id: s.customer_id,
            kind: LogKind::Survey,
            channel: channel_of(s.method),
            staff_id: Some(by),
            summary: format!(
                "Survey {}: overall {}/10",
                s.kind.label_en(),
                scored.overall
            ),
            outcome: Some(format!("CSI {:.0}", scored.csi)),
            subject: Some(("SurveyResponse", response.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    let settings = org::settings(db, s.store_id).await?;
    if no_complaint || !rules::opens_complaint(&settings, scored.overall) {
        return Ok(Recorded {
            response,
            complaint: None,
            tasks: Vec::new(),
        });
    }
    let comments = s
        .answers
        .iter()
        .filter_map(|a| a.text.as_deref())
        .collect::<Vec<_>>()
        .join(" / ");
    let (category, department) = match s.kind {
        SurveyKind::AfterSale => (ComplaintCategory::Sales, Department::Sales),
        SurveyKind::AfterService => (ComplaintCategory::Service, Department::Service),
    };
    let (c, tasks) = complaints::insert(
        db,
        NewComplaint {
            store_id: s.store_id,
            customer_id: s.customer_id,
            vehicle_id: s.vehicle_id,
            channel: ComplaintChannel::Survey,
            received_at: now,
            content: if comments.is_empty() {
                format!("满意度调查总体评分 {}/10", scored.overall)
            } else {
                format!("满意度调查总体评分 {}/10：{comments}", scored.overall)
            },
            category,
            cause: ComplaintCause::Other,
            severity: Severity::Normal,
            department,
            staff_id,
            repair_order_id: match s.event {
                Some(Event::Service(id)) => Some(id),
                _ => None,
            },
            owner_id: by,
            survey_response_id: Some(response.id),
        },
        by,
        now,
    )
    .await?;
    Ok(Recorded {
        response,
        complaint: Some(c),
        tasks,
    })
}

/// The log channel of a revisit method.
pub fn channel_of(m: RevisitMethod) -> Channel {
    match m {
        RevisitMethod::Phone => Channel::Phone,
        RevisitMethod::Sms => Channel::Sms,
        RevisitMethod::Email => Channel::Email,
        RevisitMethod::Letter => Channel::Letter,
        RevisitMethod::Lounge => Channel::InPerson,
    }
}

/// A survey taken outside a revisit (a lounge interview, a returned form).
#[derive(InputObject, Clone, Debug)]
pub struct RecordSurveyInput {
    /// The customer.
    pub customer_id: ID,
    /// The sales order or repair order it is about.
    pub event_id: ID,
    /// How it was taken.
    pub method: RevisitMethod,
    /// The answers.
    pub answers: Vec<SurveyAnswerInput>,
}

/// Records a survey about a sale or a service visit of the customer.
pub async fn record_direct<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordSurveyInput,
) -> ApiResult<Recorded> {
    actor.require(&[Role::CareAgent, Role::StoreManager, Role::ServiceAdvisor])?;
    let store_id = actor.own_store()?;
    let cid = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    let c = customers::find_writable(db, actor, cid, "customerId").await?;
    let not_theirs = || {
        ApiError::field(
            "eventId",
            UserErrorCode::NotFound,
            "no such sale or service visit of this customer",
        )
    };
    let (kind, event, vehicle_id) = match ids::decode_any(input.event_id.as_str()) {
        Some((NodeKind::SalesOrder, id)) => {
            let o = sales_order::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|o| o.customer_id == c.id && o.store_id == store_id)
                .ok_or_else(not_theirs)?;
            (SurveyKind::AfterSale, Event::Sale(id), o.vehicle_id)
        }
        Some((NodeKind::RepairOrder, id)) => {
            let o = repair_order::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|o| o.customer_id == c.id && o.store_id == store_id)
                .ok_or_else(not_theirs)?;
            (
                SurveyKind::AfterService,
                Event::Service(id),
                Some(o.vehicle_id),
            )
        }
        _ => return Err(not_theirs()),
    };
    let answers: Vec<Answer> = input
        .answers
        .iter()
        .map(SurveyAnswerInput::answer)
        .collect();
    let txn = db.begin().await?;
    let r = record(
        &txn,
        actor.staff_id,
        now,
        NewSurvey {
            store_id,
            oem_id: actor.oem_id,
            customer_id: c.id,
            vehicle_id,
            kind,
            event: Some(event),
            task_id: None,
            method: input.method,
            answers: &answers,
        },
        false,
    )
    .await?;
    txn.commit().await?;
    crate::tasks::events::publish_all(&r.tasks, crate::tasks::events::TaskChange::Created);
    Ok(r)
}

/// A survey by id, if the actor may see its customer.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<survey_response::Model>> {
    let r = survey_response::Entity::find_by_id(id)
        .filter(customers::records(
            actor,
            survey_response::Column::StoreId,
            survey_response::Column::CustomerId,
        ))
        .one(db)
        .await?;
    Ok(r)
}

/// How CSI is grouped.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CsiBy {
    /// One row per store.
    Store,
    /// One row per staff member rated.
    Staff,
}

/// One row of the CSI report.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CsiRow {
    /// The store.
    #[graphql(skip)]
    pub store_id: Uuid,
    /// The staff member (rows by staff).
    #[graphql(skip)]
    pub staff_id: Option<Uuid>,
    /// Surveys answered.
    pub responses: i64,
    /// The mean CSI, 0 to 100.
    pub csi: f64,
    /// The mean overall score, 1 to 10.
    pub overall: f64,
    /// Surveys whose overall score opened a complaint (below the store's
    /// threshold).
    pub low_scores: i64,
}

/// CSI per store or staff member for surveys answered from `from` to `to`
/// (local days of each store, inclusive), in the actor's reach: a store's
/// manager and care agents their store; group and OEM staff their stores.
pub async fn csi<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    by: CsiBy,
    kind: Option<SurveyKind>,
) -> ApiResult<Vec<CsiRow>> {
    actor.require(&[
        Role::StoreManager,
        Role::CareAgent,
        Role::GroupManager,
        Role::OemStaff,
        Role::Admin,
    ])?;
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::BadInput(
            "`to` is on or after `from`, at most a year later".into(),
        ));
    }
    use survey_response::Column as S;
    // Local days in Shanghai-like zones are within a day of UTC: take one
    // day more on each side, then keep each answer whose store-local day
    // falls in the period.
    let (Some(start), Some(end)) = (
        from.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc() - chrono::Duration::days(1)),
        to.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc() + chrono::Duration::days(2)),
    ) else {
        return Ok(Vec::new());
    };
    let mut q = survey_response::Entity::find()
        .select_only()
        .column(S::StoreId)
        .column(S::StaffId)
        .column(S::AnsweredAt)
        .column(S::Overall)
        .column(S::Csi)
        .filter(S::AnsweredAt.gte(start))
        .filter(S::AnsweredAt.lt(end));
    q = q.filter(match actor.reach() {
        Reach::Store(s) => Condition::all().add(S::StoreId.eq(s)),
        _ => Condition::all().add(S::StoreId.in_subquery(actor.store_ids_query())),
    });
    if let Some(k) = kind {
        q = q.filter(S::Kind.eq(k.as_str()));
    }
    let rows: Vec<SurveyFacts> = q.into_tuple().all(db).await?;
    let mut zones = HashMap::new();
    let mut sums: HashMap<(Uuid, Option<Uuid>), Sums> = HashMap::new();
    for (store, staff, at, overall, csi) in rows {
        if let std::collections::hash_map::Entry::Vacant(e) = zones.entry(store) {
            e.insert(org::calendar(db, store).await?);
        }
        let Some((settings, tz)) = zones.get(&store) else {
            continue;
        };
        let day = org_rules::local_day(*tz, at);
        if day < from || day > to {
            continue;
        }
        let key = match by {
            CsiBy::Store => (store, None),
            CsiBy::Staff => (store, staff),
        };
        let e = sums.entry(key).or_default();
        e.0 += 1;
        e.1 += csi;
        e.2 += f64::from(overall);
        e.3 += i64::from(rules::opens_complaint(settings, overall));
    }
    let mut out: Vec<CsiRow> = sums
        .into_iter()
        .map(|((store_id, staff_id), (n, csi, overall, low))| CsiRow {
            store_id,
            staff_id,
            responses: n,
            csi: round1(csi / n as f64),
            overall: round1(overall / n as f64),
            low_scores: low,
        })
        .collect();
    out.sort_by(|a, b| {
        b.csi
            .total_cmp(&a.csi)
            .then(b.responses.cmp(&a.responses))
            .then(a.store_id.cmp(&b.store_id))
    });
    Ok(out)
}

/// Store, staff rated, answered at, overall score, CSI.
type SurveyFacts = (Uuid, Option<Uuid>, DateTime<Utc>, i32, f64);
/// Surveys, CSI sum, overall sum, low scores.
type Sums = (i64, f64, f64, i64);

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
