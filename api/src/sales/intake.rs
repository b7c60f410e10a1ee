//! The webhook's intake worker: turns posted leads (`hooks::receive` wrote
//! them, one row each) into customers, leads and first-contact tasks.
//!
//! A batch is one transaction: its rows are claimed with SKIP LOCKED on
//! PostgreSQL (SQLite serialises writers), so any number of processes can
//! drain the intake and each row becomes a lead exactly once; a crash rolls
//! the batch back and the rows are taken again. When one lead of a batch
//! fails the batch is undone and its rows go again one per transaction, so
//! the one that fails waits for a later try (with backoff) alone. A made lead keeps the id the webhook answered with
//! and the time it arrived; the intake row keeps no personal data after.
use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::{lead, lead_intake, lead_source, task};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{
    leads::{self, NewLead},
    rules::{LeadGrade, PurchaseTiming},
};
use crate::{
    clock::Clock,
    customers::{directory, rules::CustomerSource, store as customers},
    error::{ApiError, ApiResult},
    tasks::{
        events::{self, TaskChange},
        outbox::{take_returning, Pick, Take},
    },
};

/// Waiting to become a lead.
const PENDING: &str = "PENDING";
/// Made into a lead (`lead_id`).
const DONE: &str = "DONE";
/// Given up after `MAX_ATTEMPTS` (the error says why; logged).
const FAILED: &str = "FAILED";
/// Tries before a row is given up.
const MAX_ATTEMPTS: i32 = 8;
/// Rows per transaction.
pub const BATCH: u64 = 200;

/// A posted lead, checked: what the intake keeps until the lead is made.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// The source's own id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Mobile, normalised.
    pub mobile: String,
    /// One of `PurchaseTiming`'s names.
    pub purchase_timing: String,
    /// Portal page, site, event.
    pub source_detail: Option<String>,
    /// Campaign.
    pub campaign: Option<String>,
    /// Model of interest.
    pub interest_model: Option<String>,
    /// Budget.
    pub budget_yuan: Option<i64>,
    /// Trade-in.
    pub trade_in: bool,
    /// Trade-in model.
    pub trade_in_model: Option<String>,
}

/// Writes a checked lead to the intake once: one INSERT that a resend (or
/// a copy racing it) turns into nothing, answered with the first copy's id.
pub async fn enqueue(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    source_id: Uuid,
    lead: Checked,
) -> ApiResult<(Uuid, bool)> {
    let id = Uuid::now_v7();
    let external = lead.external_id.clone();
    let body = serde_json::to_string(&lead).map_err(|e| ApiError::Internal(e.into()))?;
    let row = lead_intake::ActiveModel {
        id: Set(id),
        source_id: Set(source_id),
        external_id: Set(external.clone()),
        body: Set(Some(body)),
        state: Set(PENDING.into()),
        attempts: Set(0),
        error: Set(None),
        lead_id: Set(None),
        received_at: Set(now),
        not_before: Set(now),
        processed_at: Set(None),
    };
    let written = lead_intake::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                lead_intake::Column::SourceId,
                lead_intake::Column::ExternalId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if written == 1 {
        return Ok((id, false));
    }
    let first = lead_intake::Entity::find()
        .filter(lead_intake::Column::SourceId.eq(source_id))
        .filter(lead_intake::Column::ExternalId.eq(external))
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the first copy of a resent lead is gone"))
        })?;
    Ok((first.lead_id.unwrap_or(first.id), true))
}

/// What a drain did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntakeReport {
    /// Leads made (or found made already).
    pub made: u64,
    /// Rows that failed this time (retried later, or given up).
    pub failed: u64,
}

/// Drains the intake whenever the webhook wakes it, and every few seconds
/// for rows of other processes and retries. Runs beside the server.
pub async fn run(db: DatabaseConnection, clock: Arc<dyn Clock>, wake: Arc<Notify>) {
    loop {
        if let Err(e) = drain(&db, clock.now(), BATCH).await {
            tracing::error!(error = ?e, "lead intake batch failed");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(StdDuration::from_secs(5)) => {}
        }
    }
}

/// Takes batches of due rows until none is left.
pub async fn drain(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> ApiResult<IntakeReport> {
    let mut total = IntakeReport::default();
    let mut add = |r: IntakeReport| {
        total.made += r.made;
        total.failed += r.failed;
    };
    loop {
        match take_batch(db, now, batch, None).await? {
            Batch::Taken(claimed, r) => {
                add(r);
                if claimed < batch {
                    return Ok(total);
                }
            }
            Batch::Split(rows) => {
                for id in rows {
                    if let Batch::Taken(_, r) = take_batch(db, now, 1, Some(id)).await? {
                        add(r);
                    }
                }
            }
        }
    }
}

/// How a batch ended.
enum Batch {
    /// Rows claimed, and what became of them.
    Taken(u64, IntakeReport),
    /// One lead failed, so none was kept: these rows go again, one each.
    Split(Vec<Uuid>),
}

/// One transaction: claims up to `limit` due rows (or the row `only`) and
/// makes their leads. No savepoints: on PostgreSQL more than 64 in one
/// transaction slow every snapshot; a failure sends the rows again singly.
async fn take_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
    only: Option<Uuid>,
) -> ApiResult<Batch> {
    let txn = db.begin().await?;
    let (cond, values) = match only {
        None => ("state = 'PENDING' AND not_before <= $1", vec![now.into()]),
        Some(id) => ("state = 'PENDING' AND id = $1", vec![id.into()]),
    };
    let rows = take_returning(
        &txn,
        lead_intake::Entity,
        Take::Update("attempts = attempts + 1"),
        Pick {
            key: "id",
            cond,
            order: "not_before",
            limit,
        },
        values,
    )
    .await?;
    if rows.is_empty() {
        return Ok(Batch::Taken(0, IntakeReport::default()));
    }
    let sources: HashMap<Uuid, lead_source::Model> = lead_source::Entity::find()
        .filter(lead_source::Column::Id.is_in(rows.iter().map(|r| r.source_id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut tasks = Vec::new();
    for row in &rows {
        let source = sources.get(&row.source_id);
        match admit_one(&txn, source, row).await {
            Ok(made) => tasks.extend(made),
            Err(failure) => {
                txn.rollback().await?;
                if rows.len() > 1 {
                    return Ok(Batch::Split(rows.iter().map(|r| r.id).collect()));
                }
                let r = after_failure(db, source, row, failure, now).await?;
                return Ok(Batch::Taken(1, r));
            }
        }
    }
    done(&txn, rows.iter().map(|r| r.id).collect(), None, now).await?;
    txn.commit().await?;
    events::publish_all(&tasks, TaskChange::Created);
    let made = rows.len() as u64;
    metrics::counter!("lead_intake_total", "outcome" => "made").increment(made);
    Ok(Batch::Taken(made, IntakeReport { made, failed: 0 }))
}

/// Why a row's lead was not made: a short text free of personal data, and
/// whether a unique index refused it.
struct Failure {
    why: String,
    unique: bool,
}

impl Failure {
    fn new(why: &str) -> Self {
        Failure {
            why: why.into(),
            unique: false,
        }
    }
}

/// Makes one row's lead in the batch's transaction.
async fn admit_one(
    txn: &DatabaseTransaction,
    source: Option<&lead_source::Model>,
    row: &lead_intake::Model,
) -> Result<Vec<task::Model>, Failure> {
    let source = source.ok_or_else(|| Failure::new("the source is gone"))?;
    let checked = row
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Checked>(b).ok())
        .ok_or_else(|| Failure::new("the stored body is unreadable"))?;
    admit(txn, source, row, checked).await.map_err(|e| match e {
        ApiError::Db(e) if ApiError::is_unique_violation(&e) => Failure {
            why: "a record with this mobile was being written".into(),
            unique: true,
        },
        e => {
            tracing::warn!(error = ?e, intake = %row.id, "making a webhook lead failed");
            Failure::new("refused or a database error; see the server log")
        }
    })
}

/// A row that failed alone: made already (before the intake existed) if
/// the source's lead is there, otherwise set aside for a later try.
async fn after_failure(
    db: &DatabaseConnection,
    source: Option<&lead_source::Model>,
    row: &lead_intake::Model,
    failure: Failure,
    now: DateTime<Utc>,
) -> ApiResult<IntakeReport> {
    if let (true, Some(source)) = (failure.unique, source) {
        let earlier = lead::Entity::find()
            .filter(lead::Column::SourceId.eq(source.id))
            .filter(lead::Column::ExternalId.eq(row.external_id.as_str()))
            .one(db)
            .await?;
        if let Some(l) = earlier {
            done(db, vec![row.id], Some(l.id), now).await?;
            return Ok(IntakeReport { made: 1, failed: 0 });
        }
    }
    set_aside(db, row, &failure.why, now).await?;
    metrics::counter!("lead_intake_total", "outcome" => "failed").increment(1);
    Ok(IntakeReport { made: 0, failed: 1 })
}

/// The customer (the one holding this mobile, or a new prospect), the
/// consultant (the customer's, or the team's next in turn) and the lead
/// with its first-contact task, as of the lead's arrival.
async fn admit<C: ConnectionTrait>(
    txn: &C,
    source: &lead_source::Model,
    row: &lead_intake::Model,
    l: Checked,
) -> ApiResult<Vec<task::Model>> {
    let now = row.received_at;
    let store_id = source.store_id;
    let channel = CustomerSource::parse(&source.channel).unwrap_or(CustomerSource::CarPortal);
    let timing = PurchaseTiming::parse(&l.purchase_timing).unwrap_or(PurchaseTiming::Unknown);
    let existing = directory::holder_of(txn, store_id, &l.mobile).await?;
    let holder = match existing.as_ref().and_then(|c| c.responsible_staff_id) {
        Some(s) if leads::still_consultant(txn, store_id, s).await? => Some(s),
        _ => None,
    };
    let consultant = match (holder, source.team_id) {
        (Some(s), _) => Some(s),
        (None, Some(team)) => leads::next_in_team(txn, team).await?,
        (None, None) => None,
    };
    let customer = match existing {
        Some(c) => c,
        None => {
            let row = customers::prospect(store_id, l.name, l.mobile, channel, consultant, now);
            customers::insert_new(txn, row, &[], None, now).await?
        }
    };
    if let Some(to) = consultant {
        customers::make_responsible(txn, &customer, to, None, now).await?;
    }
    let new = NewLead {
        id: row.id,
        store_id,
        channel,
        source_id: Some(source.id),
        external_id: Some(row.external_id.clone()),
        source_detail: l.source_detail.or_else(|| Some(source.name.clone())),
        campaign: l.campaign,
        interest_model: l.interest_model,
        budget_yuan: l.budget_yuan,
        purchase_timing: timing,
        trade_in: l.trade_in,
        trade_in_model: l.trade_in_model,
        grade: if timing == PurchaseTiming::Unknown {
            LeadGrade::B
        } else {
            timing.grade()
        },
    };
    let (_, made) = leads::open(txn, new, &customer, consultant, None, now).await?;
    Ok(made)
}

/// Marks rows made: the lead named (their own id unless `lead`), the body
/// with its personal data cleared.
async fn done<C: ConnectionTrait>(
    txn: &C,
    rows: Vec<Uuid>,
    lead: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let lead_id = match lead {
        Some(l) => Expr::value(l),
        None => Expr::col(lead_intake::Column::Id),
    };
    lead_intake::Entity::update_many()
        .col_expr(lead_intake::Column::State, Expr::value(DONE))
        .col_expr(lead_intake::Column::LeadId, lead_id)
        .col_expr(
            lead_intake::Column::Body,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            lead_intake::Column::Error,
            Expr::value(Option::<String>::None),
        )
        .col_expr(lead_intake::Column::ProcessedAt, Expr::value(now))
        .filter(lead_intake::Column::Id.is_in(rows))
        .exec(txn)
        .await?;
    Ok(())
}

/// A row that failed waits (30 s, 1 min, 2 min … ) or, after
/// `MAX_ATTEMPTS`, is given up and logged.
async fn set_aside<C: ConnectionTrait>(
    txn: &C,
    row: &lead_intake::Model,
    why: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let give_up = row.attempts >= MAX_ATTEMPTS;
    if give_up {
        tracing::error!(intake = %row.id, error = why, "a webhook lead was given up");
    }
    let wait = Duration::seconds(30 << row.attempts.clamp(1, 10).saturating_sub(1));
    lead_intake::Entity::update_many()
        .col_expr(
            lead_intake::Column::State,
            Expr::value(if give_up { FAILED } else { PENDING }),
        )
        .col_expr(lead_intake::Column::Attempts, Expr::value(row.attempts))
        .col_expr(lead_intake::Column::Error, Expr::value(why))
        .col_expr(lead_intake::Column::NotBefore, Expr::value(now + wait))
        .filter(lead_intake::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    Ok(())
}
