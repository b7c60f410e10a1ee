//! Carrying out revisits: each attempt recorded with its method; an
//! unanswered one retried up to the store's count and then closed as
//! unreachable; a reached one closed with a structured outcome (the
//! survey's answers or just a satisfaction score, a problem raised turned
//! into a complaint in the same step), written to the customer log.
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{complaint, revisit_attempt, survey_response, task};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    complaints::{self, ComplaintDraft, NewComplaint},
    rules::{self, Answer, ComplaintChannel, RevisitMethod},
    surveys::{self, Event, NewSurvey, SurveyAnswerInput},
};
use crate::{
    auth::Actor,
    customers::{
        directory as customers,
        log::{self, LogEvent},
        rules::{self as text_rules, LogKind},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    org::{rules::StoreSettings, store as org},
    tasks::{
        events::{self, TaskChange},
        rules::TaskKind,
        store as tasks,
    },
};

/// One revisit attempt.
#[derive(InputObject, Clone, Debug)]
pub struct RecordRevisitInput {
    /// The revisit task.
    pub task_id: ID,
    /// How the customer was contacted.
    #[graphql(default_with = "RevisitMethod::Phone")]
    pub method: RevisitMethod,
    /// Whether the customer was reached (answered, replied, came by).
    pub reached: bool,
    /// Satisfaction, 1 to 10 (the survey's overall score when the script
    /// has a survey and no answers are given).
    pub satisfaction: Option<i32>,
    /// The script's survey answers.
    pub answers: Option<Vec<SurveyAnswerInput>>,
    /// A problem the customer raised: opens a complaint (channel REVISIT).
    pub problem: Option<ComplaintDraft>,
    /// Notes.
    pub note: Option<String>,
}

/// What one attempt did.
pub struct RevisitOutcome {
    /// The revisit task as it is now.
    pub task: task::Model,
    /// The attempt.
    pub attempt: revisit_attempt::Model,
    /// Attempts so far that did not reach the customer.
    pub failed_attempts: i64,
    /// The survey recorded.
    pub survey: Option<survey_response::Model>,
    /// The complaint opened.
    pub complaint: Option<complaint::Model>,
}

/// What the task's subject makes the survey about.
fn event_of(t: &task::Model) -> Option<Event> {
    match (t.subject_type.as_deref(), t.subject_id) {
        (Some("RepairOrder"), Some(id)) => Some(Event::Service(id)),
        (Some("SalesOrder"), Some(id)) => Some(Event::Sale(id)),
        (Some("Vehicle"), Some(id)) => Some(Event::DeliveredVehicle(id)),
        _ => None,
    }
}

/// Records an attempt at a revisit task and, when the customer was
/// reached, its outcome.
pub async fn record<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordRevisitInput,
) -> ApiResult<RevisitOutcome> {
    let t = tasks::live_task(db, actor, &input.task_id).await?;
    if TaskKind::parse(&t.kind) != Some(TaskKind::Revisit) {
        return Err(ApiError::field(
            "taskId",
            UserErrorCode::Invalid,
            "this task is not a revisit; complete it with completeTask",
        ));
    }
    let c = customers::find(db, actor, t.customer_id)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "taskId",
                UserErrorCode::NotAllowed,
                "you may not see this revisit's customer",
            )
        })?;
    let note = text_rules::opt_text(input.note.as_deref(), "note", 2000)?;
    if let Some(s) = input.satisfaction {
        if !(1..=rules::MAX_SCORE).contains(&s) {
            return Err(ApiError::field(
                "satisfaction",
                UserErrorCode::OutOfRange,
                "a score from 1 to 10",
            ));
        }
    }
    let reached_only = |f: &str| {
        ApiError::field(
            f,
            UserErrorCode::Invalid,
            "only a revisit that reached the customer has answers",
        )
    };
    if !input.reached {
        if input.answers.is_some() || input.satisfaction.is_some() {
            return Err(reached_only("answers"));
        }
        if input.problem.is_some() {
            return Err(reached_only("problem"));
        }
    }
    let draft = match &input.problem {
        Some(d) => Some(complaints::check_draft(db, actor, t.store_id, d, "problem").await?),
        None => None,
    };
    let script = rules::script(t.rule.as_deref());
    let mut answers: Vec<Answer> = input
        .answers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(SurveyAnswerInput::answer)
        .collect();
    if answers.is_empty() {
        if let Some(s) = input.satisfaction {
            answers.push(Answer {
                key: rules::OVERALL.into(),
                score: Some(s),
                yes: None,
                text: None,
            });
        }
    }
    if !answers.is_empty() && script.survey.is_none() && input.answers.is_some() {
        return Err(ApiError::field(
            "answers",
            UserErrorCode::Invalid,
            "this revisit has no questionnaire; give a satisfaction score",
        ));
    }
    let store = org::store_by_id(db, t.store_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let settings = StoreSettings::from_json(&store.settings);
    let txn = db.begin().await?;
    let attempt = revisit_attempt::Entity::insert(revisit_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        task_id: Set(t.id),
        store_id: Set(t.store_id),
        customer_id: Set(t.customer_id),
        staff_id: Set(actor.staff_id),
        method: Set(input.method.as_str().into()),
        reached: Set(input.reached),
        note: Set(note.clone()),
        at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    let failed = revisit_attempt::Entity::find()
        .filter(revisit_attempt::Column::TaskId.eq(t.id))
        .filter(revisit_attempt::Column::Reached.eq(false))
        .count(&txn)
        .await? as i64;
    let mut survey = None;
    let mut opened = None;
    let mut made = Vec::new();
    let outcome = if input.reached {
        if let Some(kind) = script.survey.filter(|_| !answers.is_empty()) {
            let r = surveys::record(
                &txn,
                actor.staff_id,
                now,
                NewSurvey {
                    store_id: t.store_id,
                    oem_id: store.oem_id,
                    customer_id: c.id,
                    vehicle_id: t.vehicle_id,
                    kind,
                    event: event_of(&t),
                    task_id: Some(t.id),
                    method: input.method,
                    answers: &answers,
                },
                draft.is_some(),
            )
            .await?;
            opened = r.complaint;
            made.extend(r.tasks);
            survey = Some(r.response);
        }
        if let (Some(("Complaint", id)), Some(s)) = (
            t.subject_type.as_deref().zip(t.subject_id),
            input.satisfaction,
        ) {
            complaints::rate_outcome(&txn, id, s, actor.staff_id, now).await?;
        }
        if let (Some(d), Some((content, staff_id, repair_order_id))) = (&input.problem, draft) {
            let (c, ts) = complaints::insert(
                &txn,
                NewComplaint {
                    store_id: t.store_id,
                    customer_id: c.id,
                    vehicle_id: t.vehicle_id,
                    channel: ComplaintChannel::Revisit,
                    received_at: now,
                    content,
                    category: d.category,
                    cause: d.cause,
                    severity: d.severity,
                    department: d.department.unwrap_or(super::rules::Department::Care),
                    staff_id,
                    repair_order_id: repair_order_id.or(match event_of(&t) {
                        Some(Event::Service(id)) => Some(id),
                        _ => None,
                    }),
                    owner_id: actor.staff_id,
                    survey_response_id: survey.as_ref().map(|s| s.id),
                },
                actor.staff_id,
                now,
            )
            .await?;
            opened = Some(c);
            made.extend(ts);
        }
        let mut words = vec![format!(
            "Reached by {}",
            input.method.label_en().to_lowercase()
        )];
        if let Some(s) = survey.as_ref().map(|s| s.overall).or(input.satisfaction) {
            words.push(format!("satisfaction {s}/10"));
        }
        if opened.is_some() {
            words.push("complaint opened".into());
        }
        Some(words.join("; "))
    } else if rules::gives_up(&settings, failed as u64) {
        Some(format!("Unreachable after {failed} attempts"))
    } else {
        None
    };
    if let Some(o) = &outcome {
        tasks::mark_done(&txn, t.id, o, actor.staff_id, now).await?;
    }
    log::append(
        &txn,
        LogEvent {
            store_id: t.store_id,
            customer_id: t.customer_id,
            kind: LogKind::Revisit,
            channel: surveys::channel_of(input.method),
            staff_id: Some(actor.staff_id),
            summary: t.title.clone(),
            outcome: Some(outcome.clone().unwrap_or_else(|| {
                format!(
                    "Not reached (attempt {failed} of {})",
                    settings.revisit_max_attempts
                )
            })),
            subject: Some(("Task", t.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    let task = task::Entity::find_by_id(t.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    if outcome.is_some() {
        events::publish_all(std::slice::from_ref(&task), TaskChange::Completed);
    }
    events::publish_all(&made, TaskChange::Created);
    Ok(RevisitOutcome {
        task,
        attempt,
        failed_attempts: failed,
        survey,
        complaint: opened,
    })
}

/// The attempts at a revisit task, oldest first.
pub async fn attempts<C: ConnectionTrait>(
    db: &C,
    task_id: Uuid,
) -> ApiResult<Vec<revisit_attempt::Model>> {
    Ok(revisit_attempt::Entity::find()
        .filter(revisit_attempt::Column::TaskId.eq(task_id))
        .order_by_asc(revisit_attempt::Column::At)
        .all(db)
        .await?)
}
