//! The webhook's intake worker: turns posted leads (`hooks::receive` wrote
//! them, one row each) into customers, leads and first-contact tasks.
//!
//! A batch is one transaction: its rows are claimed with SKIP LOCKED on
//! PostgreSQL (SQLite serialises writers), so any number of processes can
//! drain the intake and each row becomes a lead exactly once; a crash rolls
//! the batch back and the rows are taken again. When one lead of a batch
//! fails the batch is undone and its rows go again one per transaction, so
//! the one that fails waits for a later try (with backoff) alone. A made
//! lead keeps the id the webhook answered with and the time it arrived;
//! the intake row keeps no personal data after.
use std::{
    collections::{hash_map::Entry, HashMap, HashSet},
    sync::Arc,
    time::Duration as StdDuration,
};

use chrono::{DateTime, Utc};
use entity::{customer, lead, lead_intake, lead_source, task};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{
    leads::{self, NewLead},
    rules::PurchaseTiming,
};
use crate::{
    clock::Clock,
    customers::{rules::CustomerSource, store as customers},
    error::{ApiError, ApiResult},
    org::{rules::StoreSettings, store as org},
    tasks::{
        events::{self, TaskChange},
        outbox::{take_returning, Pick, Take},
        rules as task_rules,
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
/// Batches in parallel on PostgreSQL.
const LANES: usize = 2;

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

/// What a source's intake holds: posted leads not made yet, and those
/// given up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Accepted, waiting to be made (or to be tried again).
    pub waiting: i64,
    /// Given up after `MAX_ATTEMPTS` (see the server log).
    pub failed: i64,
}

/// The backlog of each source, walking only rows not made
/// (`ix_lead_intake_due`): made rows stay for resends and are many.
pub async fn backlog<C: ConnectionTrait>(
    db: &C,
    sources: &[Uuid],
) -> ApiResult<HashMap<Uuid, Backlog>> {
    let rows: Vec<(Uuid, String, i64)> = lead_intake::Entity::find()
        .select_only()
        .column(lead_intake::Column::SourceId)
        .column(lead_intake::Column::State)
        .column_as(lead_intake::Column::Id.count(), "n")
        .filter(lead_intake::Column::State.is_in([PENDING, FAILED]))
        .filter(lead_intake::Column::SourceId.is_in(sources.iter().copied()))
        .group_by(lead_intake::Column::SourceId)
        .group_by(lead_intake::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Backlog> =
        sources.iter().map(|s| (*s, Backlog::default())).collect();
    for (source, state, n) in rows {
        let b = out.entry(source).or_default();
        if state == FAILED {
            b.failed += n;
        } else {
            b.waiting += n;
        }
    }
    Ok(out)
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
/// On PostgreSQL two lanes drain side by side (each batch claims its own
/// rows); SQLite has one writer.
pub async fn run(db: DatabaseConnection, clock: Arc<dyn Clock>, wake: Arc<Notify>) {
    let lanes = if db.get_database_backend() == DbBackend::Postgres {
        LANES
    } else {
        1
    };
    loop {
        let now = clock.now();
        let drains = (0..lanes).map(|_| drain(&db, now, BATCH));
        for r in futures_util::future::join_all(drains).await {
            if let Err(e) = r {
                tracing::error!(error = ?e, "lead intake batch failed");
            }
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
        metrics::counter!("lead_intake_total", "outcome" => "made").increment(r.made);
        metrics::counter!("lead_intake_total", "outcome" => "failed").increment(r.failed);
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
        // Still due: another lane may have set it aside meanwhile.
        Some(id) => (
            "state = 'PENDING' AND not_before <= $1 AND id = $2",
            vec![now.into(), id.into()],
        ),
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
    let mut arrivals = Vec::with_capacity(rows.len());
    for row in &rows {
        match arrival(sources.get(&row.source_id), row) {
            Ok(a) => arrivals.push(a),
            Err(failure) => return split_or_set_aside(db, txn, &rows, failure, now).await,
        }
    }
    let mut plan = match Plan::of(db, &txn, &arrivals).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = ?e, "planning a batch of webhook leads failed");
            return split_or_set_aside(db, txn, &rows, Failure::new("database error"), now).await;
        }
    };
    let mut tasks = Vec::new();
    for a in arrivals {
        match admit(&txn, &mut plan, a).await {
            Ok(made) => tasks.extend(made),
            Err(failure) => return split_or_set_aside(db, txn, &rows, failure, now).await,
        }
    }
    done(&txn, rows.iter().map(|r| r.id).collect(), None, now).await?;
    txn.commit().await?;
    events::publish_all(&tasks, TaskChange::Created);
    let made = rows.len() as u64;
    Ok(Batch::Taken(made, IntakeReport { made, failed: 0 }))
}

/// A lead failed: the batch is undone; several rows go again one by one,
/// a single one is set aside (or found made already).
async fn split_or_set_aside(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    rows: &[lead_intake::Model],
    failure: Failure,
    now: DateTime<Utc>,
) -> ApiResult<Batch> {
    txn.rollback().await?;
    match rows {
        [row] => Ok(Batch::Taken(1, after_failure(db, row, failure, now).await?)),
        _ => Ok(Batch::Split(rows.iter().map(|r| r.id).collect())),
    }
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

/// A row that failed alone: made already (before the intake existed) if
/// the source's lead is there, otherwise set aside for a later try.
async fn after_failure(
    db: &DatabaseConnection,
    row: &lead_intake::Model,
    failure: Failure,
    now: DateTime<Utc>,
) -> ApiResult<IntakeReport> {
    if failure.unique {
        let earlier = lead::Entity::find()
            .filter(lead::Column::SourceId.eq(row.source_id))
            .filter(lead::Column::ExternalId.eq(row.external_id.as_str()))
            .one(db)
            .await?;
        if let Some(l) = earlier {
            done(db, vec![row.id], Some(l.id), now).await?;
            return Ok(IntakeReport { made: 1, failed: 0 });
        }
    }
    set_aside(db, row, &failure.why, now).await?;
    Ok(IntakeReport { made: 0, failed: 1 })
}

/// One claimed row, read.
struct Arrival<'a> {
    row: &'a lead_intake::Model,
    source: &'a lead_source::Model,
    lead: Checked,
}

fn arrival<'a>(
    source: Option<&'a lead_source::Model>,
    row: &'a lead_intake::Model,
) -> Result<Arrival<'a>, Failure> {
    let source = source.ok_or_else(|| Failure::new("the source is gone"))?;
    let lead = row
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Checked>(b).ok())
        .ok_or_else(|| Failure::new("the stored body is unreadable"))?;
    Ok(Arrival { row, source, lead })
}

/// What a batch looks up once: the customers holding its mobiles, the
/// consultant of each arrival (the holder's, or the team's next in turn)
/// and each store's calendar (read by the store's first lead).
struct Plan {
    holders: HashMap<(Uuid, String), customer::Model>,
    consultants: HashMap<Uuid, Option<Uuid>>,
    calendars: HashMap<Uuid, (StoreSettings, chrono_tz::Tz)>,
}

impl Plan {
    async fn of(
        db: &DatabaseConnection,
        txn: &DatabaseTransaction,
        arrivals: &[Arrival<'_>],
    ) -> ApiResult<Plan> {
        let stores: HashSet<Uuid> = arrivals.iter().map(|a| a.source.store_id).collect();
        let mobiles: HashSet<&str> = arrivals.iter().map(|a| a.lead.mobile.as_str()).collect();
        let holders: HashMap<(Uuid, String), customer::Model> = customer::Entity::find()
            .filter(customer::Column::StoreId.is_in(stores.iter().copied()))
            .filter(customer::Column::Mobile.is_in(mobiles))
            .filter(customer::Column::MergedIntoId.is_null())
            .all(txn)
            .await?
            .into_iter()
            .map(|c| ((c.store_id, c.mobile.clone()), c))
            .collect();
        let mut consultants = HashMap::new();
        // Arrivals waiting for a team's turn, and a mobile's first arrival
        // (a second one of the same customer follows the first).
        let mut waiting: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut first_of: HashMap<(Uuid, &str), Uuid> = HashMap::new();
        let mut follows = Vec::new();
        for a in arrivals {
            let key = (a.source.store_id, a.lead.mobile.clone());
            let holder = holders.get(&key).and_then(|c| c.responsible_staff_id);
            let kept = match holder {
                Some(s) => org::active_consultant(txn, a.source.store_id, s)
                    .await?
                    .then_some(s),
                None => None,
            };
            if kept.is_some() {
                consultants.insert(a.row.id, kept);
                continue;
            }
            if let Some(first) = first_of.get(&(a.source.store_id, a.lead.mobile.as_str())) {
                follows.push((a.row.id, *first));
                continue;
            }
            first_of.insert((a.source.store_id, a.lead.mobile.as_str()), a.row.id);
            match a.source.team_id {
                Some(team) => waiting.entry(team).or_default().push(a.row.id),
                None => {
                    consultants.insert(a.row.id, None);
                }
            }
        }
        // On PostgreSQL turns are taken outside the batch's transaction, as
        // `next_in_team` does, so that parallel batches never wait on a
        // team; SQLite has one writer, the batch, which takes them itself.
        let apart = db.get_database_backend() == DbBackend::Postgres;
        for (team, rows) in waiting {
            let turns = if apart {
                leads::turns(db, team, rows.len()).await?
            } else {
                leads::turns(txn, team, rows.len()).await?
            };
            consultants.extend(rows.into_iter().zip(turns));
        }
        for (row, first) in follows {
            let c = consultants.get(&first).copied().flatten();
            consultants.insert(row, c);
        }
        Ok(Plan {
            holders,
            consultants,
            calendars: HashMap::new(),
        })
    }
}

/// Makes one arrival's customer (when the mobile is new), hands them to
/// the consultant and opens the lead with its first-contact task, as of
/// the lead's arrival.
async fn admit(
    txn: &DatabaseTransaction,
    plan: &mut Plan,
    a: Arrival<'_>,
) -> Result<Vec<task::Model>, Failure> {
    let id = a.row.id;
    made(txn, plan, a).await.map_err(|e| match e {
        ApiError::Db(e) if ApiError::is_unique_violation(&e) => Failure {
            why: "a record with this mobile was being written".into(),
            unique: true,
        },
        e => {
            tracing::warn!(error = ?e, intake = %id, "making a webhook lead failed");
            Failure::new("refused or a database error; see the server log")
        }
    })
}

async fn made(
    txn: &DatabaseTransaction,
    plan: &mut Plan,
    Arrival { row, source, lead }: Arrival<'_>,
) -> ApiResult<Vec<task::Model>> {
    let now = row.received_at;
    let store_id = source.store_id;
    let channel = CustomerSource::parse(&source.channel).unwrap_or(CustomerSource::CarPortal);
    let timing = PurchaseTiming::parse(&lead.purchase_timing).unwrap_or(PurchaseTiming::Unknown);
    let consultant = plan.consultants.get(&row.id).copied().flatten();
    let key = (store_id, lead.mobile.clone());
    let mut customer = match plan.holders.get(&key) {
        Some(c) => c.clone(),
        None => {
            let new =
                customers::prospect(store_id, lead.name, lead.mobile, channel, consultant, now);
            customers::insert_new(txn, new, &[], None, now).await?
        }
    };
    if let Some(to) = consultant {
        customers::make_responsible(txn, &customer, to, None, now).await?;
        customer.responsible_staff_id = Some(to);
    }
    plan.holders.insert(key, customer.clone());
    let new = NewLead {
        id: row.id,
        store_id,
        channel,
        source_id: Some(source.id),
        external_id: Some(row.external_id.clone()),
        source_detail: lead.source_detail.or_else(|| Some(source.name.clone())),
        campaign: lead.campaign,
        interest_model: lead.interest_model,
        budget_yuan: lead.budget_yuan,
        purchase_timing: timing,
        trade_in: lead.trade_in,
        trade_in_model: lead.trade_in_model,
        grade: timing.posted_grade(),
    };
    let calendar = match plan.calendars.entry(store_id) {
        Entry::Occupied(c) => c.into_mut(),
        Entry::Vacant(c) => c.insert(org::calendar(txn, store_id).await?),
    };
    let (_, made) = leads::open(txn, calendar, new, &customer, consultant, None, now).await?;
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

/// A row that failed waits (the outbox's backoff: 30 s doubling) or,
/// after `MAX_ATTEMPTS`, is given up and logged.
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
    lead_intake::Entity::update_many()
        .col_expr(
            lead_intake::Column::State,
            Expr::value(if give_up { FAILED } else { PENDING }),
        )
        .col_expr(lead_intake::Column::Attempts, Expr::value(row.attempts))
        .col_expr(lead_intake::Column::Error, Expr::value(why))
        .col_expr(
            lead_intake::Column::NotBefore,
            Expr::value(now + task_rules::backoff(row.attempts)),
        )
        .filter(lead_intake::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    Ok(())
}
