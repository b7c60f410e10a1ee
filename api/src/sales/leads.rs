//! Leads in the database: opening one (by hand or from a webhook), who gets
//! it, follow-ups on the grade's cadence, losing it, and the lists and
//! counts consultants and managers work from.
use std::collections::HashMap;

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{customer, lead, staff, team};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::rules::{self, LeadGrade, LeadStatus, LostReason, PurchaseTiming};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        directory,
        log::{self, LogEvent},
        rules::{self as text_rules, Channel, CustomerSource, LogKind},
        store as customers,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    idempotency,
    ids::{self, NodeKind},
    org::{rules::StoreSettings, store as org},
    paging::{self, Cursor, Keys, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        rules as task_rules,
        store::{self as tasks, RuleTarget, Subject},
    },
};

const OPEN: [&str; 4] = ["NEW", "CONTACTED", "TEST_DRIVEN", "ORDERED"];

/// The leads the actor may see: those of the customers the actor may see
/// (a consultant's own, the store's for store staff, consented ones beyond).
pub fn visible(actor: &Actor) -> Condition {
    scope(
        actor,
        lead::Column::StoreId,
        lead::Column::CustomerId,
        Some(lead::Column::ConsultantId),
    )
}

/// The sales records (leads, test drives, orders) the actor may see:
/// `directory::records`, and for a consultant only those that are also
/// theirs (`consultant`, when the table has one).
pub fn scope<Col: ColumnTrait>(
    actor: &Actor,
    store: Col,
    customer: Col,
    consultant: Option<Col>,
) -> Condition {
    let c = directory::records(actor, store, customer);
    match consultant {
        Some(col) if actor.role == Role::SalesConsultant => c.add(col.eq(actor.staff_id)),
        _ => c,
    }
}

/// A lead by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<lead::Model>> {
    Ok(lead::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// Leads by id, for DataLoader batches.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, lead::Model>> {
    let rows = lead::Entity::find()
        .filter(lead::Column::Id.is_in(ids.iter().copied()))
        .filter(visible(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|l| (l.id, l)).collect())
}

/// The leads of many customers (already visible), newest first.
pub async fn of_customers<C: ConnectionTrait>(
    db: &C,
    customers: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<lead::Model>>> {
    let rows = lead::Entity::find()
        .filter(lead::Column::CustomerId.is_in(customers.iter().copied()))
        .order_by_desc(lead::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.customer_id))
}

/// A lead the actor may work on: visible, still open, and theirs (or the
/// store manager's to direct).
pub async fn writable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    field: &str,
) -> ApiResult<lead::Model> {
    actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::Lead, field)?;
    let l = find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such lead"))?;
    let mine = l.consultant_id == Some(actor.staff_id) || actor.role == Role::StoreManager;
    if !mine {
        return Err(ApiError::field(
            field,
            UserErrorCode::NotAllowed,
            "only the lead's consultant or the store manager works on it",
        ));
    }
    if !status(&l).is_open() {
        return Err(ApiError::field(
            field,
            UserErrorCode::Conflict,
            format!("the lead is {}", l.status.to_lowercase()),
        ));
    }
    Ok(l)
}

/// The lead's status.
pub fn status(l: &lead::Model) -> LeadStatus {
    LeadStatus::parse(&l.status).unwrap_or(LeadStatus::New)
}

/// The lead's grade.
pub fn grade(l: &lead::Model) -> LeadGrade {
    LeadGrade::parse(&l.grade).unwrap_or(LeadGrade::C)
}

/// A new lead, typed by staff.
#[derive(InputObject, Clone, Debug)]
pub struct CreateLeadInput {
    /// A customer already on file; or give name and mobile.
    pub customer_id: Option<ID>,
    /// Name of a new prospect.
    pub name: Option<String>,
    /// Mobile: a customer of the store with this number gets the lead
    /// (nobody asks twice); otherwise a new prospect is created.
    pub mobile: Option<String>,
    /// Where the lead came from.
    #[graphql(default_with = "CustomerSource::WalkIn")]
    pub channel: CustomerSource,
    /// Which portal, site or event, e.g. 汽车之家.
    pub source_detail: Option<String>,
    /// The campaign that brought it.
    pub campaign: Option<String>,
    /// The model the customer asks about.
    pub interest_model: Option<String>,
    /// Budget, yuan.
    pub budget_yuan: Option<i64>,
    /// When they mean to buy.
    #[graphql(default_with = "PurchaseTiming::Unknown")]
    pub purchase_timing: PurchaseTiming,
    /// Brings a car to trade in.
    #[graphql(default)]
    pub trade_in: bool,
    /// The trade-in car's model.
    pub trade_in_model: Option<String>,
    /// Intent grade; by default the one the purchase timing suggests.
    pub grade: Option<LeadGrade>,
    /// The consultant (store managers; a consultant's leads are their own).
    pub consultant_id: Option<ID>,
    /// Or a team whose active consultants take turns (store managers).
    pub team_id: Option<ID>,
    /// A client-chosen key: retrying with the same key never creates twice.
    pub idempotency_key: Option<String>,
}

/// What a lead is opened with, however it arrived.
pub struct NewLead {
    /// Its id (the webhook's answer names it before the lead is made).
    pub id: Uuid,
    /// Store.
    pub store_id: Uuid,
    /// Channel.
    pub channel: CustomerSource,
    /// Webhook source.
    pub source_id: Option<Uuid>,
    /// The source's own id.
    pub external_id: Option<String>,
    /// Portal, site, event.
    pub source_detail: Option<String>,
    /// Campaign.
    pub campaign: Option<String>,
    /// Model of interest.
    pub interest_model: Option<String>,
    /// Budget.
    pub budget_yuan: Option<i64>,
    /// Timing.
    pub purchase_timing: PurchaseTiming,
    /// Trade-in.
    pub trade_in: bool,
    /// Trade-in model.
    pub trade_in_model: Option<String>,
    /// Grade.
    pub grade: LeadGrade,
}

/// The lead texts of either input, checked.
pub struct LeadTexts {
    /// Portal, site, event.
    pub source_detail: Option<String>,
    /// Campaign.
    pub campaign: Option<String>,
    /// Model.
    pub interest_model: Option<String>,
    /// Trade-in model.
    pub trade_in_model: Option<String>,
}

/// Checks the free texts and the budget of a lead.
pub fn check_texts(
    source_detail: Option<&str>,
    campaign: Option<&str>,
    interest_model: Option<&str>,
    trade_in_model: Option<&str>,
    budget: Option<i64>,
) -> ApiResult<LeadTexts> {
    if let Some(b) = budget {
        yuan(b, "budgetYuan")?;
    }
    Ok(LeadTexts {
        source_detail: text_rules::opt_text(source_detail, "sourceDetail", 100)?,
        campaign: text_rules::opt_text(campaign, "campaign", 100)?,
        interest_model: text_rules::opt_text(interest_model, "interestModel", 50)?,
        trade_in_model: text_rules::opt_text(trade_in_model, "tradeInModel", 50)?,
    })
}

/// An amount of yuan in range, or OUT_OF_RANGE naming the field.
pub fn yuan(v: i64, field: &str) -> ApiResult<i64> {
    if (0..=rules::MAX_YUAN).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::field(
            field,
            UserErrorCode::OutOfRange,
            format!("{field} must be between 0 and 100,000,000 yuan"),
        ))
    }
}

const CREATE_LEAD: &str = "createLead";

/// Opens a lead typed by staff. The lead always hangs off one customer
/// record: the one given, the store's customer with that mobile, or a new
/// prospect. A mobile held by a colleague answers DUPLICATE with who holds
/// it, as `createCustomer` does. Returns the lead and whether it attached
/// to a customer already on file.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateLeadInput,
) -> ApiResult<(lead::Model, bool)> {
    let store_id = actor.own_store()?;
    let key = idempotency::check_key(input.idempotency_key.as_deref())?;
    if let Some(k) = &key {
        if let Some(id) = idempotency::earlier(db, actor, CREATE_LEAD, k).await? {
            let l = find(db, actor, id).await?.ok_or(ApiError::NotFound)?;
            return Ok((l, true));
        }
    }
    let t = check_texts(
        input.source_detail.as_deref(),
        input.campaign.as_deref(),
        input.interest_model.as_deref(),
        input.trade_in_model.as_deref(),
        input.budget_yuan,
    )?;
    let named = ids::decode_opt(
        input.consultant_id.as_ref(),
        NodeKind::Staff,
        "consultantId",
    )?;
    let team = ids::decode_opt(input.team_id.as_ref(), NodeKind::Team, "teamId")?;
    if actor.role != Role::StoreManager
        && (named.is_some_and(|n| n != actor.staff_id) || team.is_some())
    {
        return Err(ApiError::field(
            "consultantId",
            UserErrorCode::NotAllowed,
            "store managers assign leads; yours are your own",
        ));
    }
    // The customer: given, found by mobile, or new.
    let buyer = match (&input.customer_id, &input.mobile) {
        (Some(id), _) => {
            let id = ids::decode_field(id, NodeKind::Customer, "customerId")?;
            Buyer::Known(directory::find_writable(db, actor, id, "customerId").await?)
        }
        (None, Some(m)) => {
            let mobile = text_rules::mobile_field(m, "mobile")?;
            match directory::holder_of(db, store_id, &mobile).await? {
                Some(c) if directory::find(db, actor, c.id).await?.is_some() => Buyer::Known(c),
                // Someone else's customer: answered as createCustomer does.
                Some(_) => return Err(customers::duplicate_of(db, actor, store_id, &mobile).await?),
                None => Buyer::New {
                    name: text_rules::text(input.name.as_deref().unwrap_or(""), "name", 50)?,
                    mobile,
                },
            }
        }
        (None, None) => {
            return Err(ApiError::field(
                "mobile",
                UserErrorCode::Required,
                "give customerId, or name and mobile",
            ))
        }
    };
    let consultant = match (named, team, &buyer) {
        _ if actor.role == Role::SalesConsultant => Some(actor.staff_id),
        (Some(id), _, _) => Some(active_consultant(db, store_id, id, "consultantId").await?),
        (None, Some(team), _) => {
            check_team(db, store_id, team).await?;
            next_in_team(db, team).await?
        }
        // The customer's consultant keeps them, while still in the job.
        (None, None, Buyer::Known(c)) => match c.responsible_staff_id {
            Some(s) if org::active_consultant(db, store_id, s).await? => Some(s),
            _ => None,
        },
        (None, None, Buyer::New { .. }) => None,
    };
    let attached = matches!(buyer, Buyer::Known(_));
    let txn = db.begin().await?;
    let customer = match buyer {
        Buyer::Known(c) => c,
        Buyer::New { name, mobile } => {
            let row = customers::prospect(store_id, name, mobile, input.channel, consultant, now);
            match customers::insert_new(&txn, row, &[], Some(actor.staff_id), now).await {
                Ok(c) => c,
                Err(ApiError::Db(e)) if ApiError::is_unique_violation(&e) => {
                    return Err(ApiError::field(
                        "mobile",
                        UserErrorCode::Conflict,
                        "this mobile was just taken; try again",
                    ))
                }
                Err(e) => return Err(e),
            }
        }
    };
    if let Some(to) = consultant {
        customers::make_responsible(&txn, &customer, to, Some(actor.staff_id), now).await?;
    }
    let new = NewLead {
        id: Uuid::now_v7(),
        store_id,
        channel: input.channel,
        source_id: None,
        external_id: None,
        source_detail: t.source_detail,
        campaign: t.campaign,
        interest_model: t.interest_model,
        budget_yuan: input.budget_yuan,
        purchase_timing: input.purchase_timing,
        trade_in: input.trade_in,
        trade_in_model: t.trade_in_model,
        grade: input.grade.unwrap_or(input.purchase_timing.grade()),
    };
    let calendar = org::calendar(&txn, store_id).await?;
    let (l, made) = open(
        &txn,
        &calendar,
        new,
        &customer,
        consultant,
        Some(actor.staff_id),
        now,
    )
    .await?;
    if let Some(k) = &key {
        idempotency::remember(&txn, actor, CREATE_LEAD, k, l.id, now).await?;
    }
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    Ok((l, attached))
}

/// Whom a typed lead is for.
enum Buyer {
    /// A customer on file the actor may see.
    Known(customer::Model),
    /// A new prospect (name and mobile checked).
    New {
        /// Name.
        name: String,
        /// Mobile, E.164.
        mobile: String,
    },
}

/// Writes a lead for a customer in the caller's transaction, with its log
/// entry and, when someone has it, the first-contact task due at the
/// store's first-response deadline. Returns the lead and the tasks made.
pub async fn open<C: ConnectionTrait>(
    txn: &C,
    (settings, tz): &(StoreSettings, chrono_tz::Tz),
    new: NewLead,
    customer: &customer::Model,
    consultant: Option<Uuid>,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<(lead::Model, Vec<entity::task::Model>)> {
    let due = rules::first_response_due(settings, *tz, now);
    let row = lead::ActiveModel {
        id: Set(new.id),
        store_id: Set(new.store_id),
        customer_id: Set(customer.id),
        consultant_id: Set(consultant),
        channel: Set(new.channel.as_str().into()),
        source_id: Set(new.source_id),
        external_id: Set(new.external_id),
        source_detail: Set(new.source_detail),
        campaign: Set(new.campaign),
        interest_model: Set(new.interest_model),
        budget_yuan: Set(new.budget_yuan),
        purchase_timing: Set(Some(new.purchase_timing.as_str().into())),
        trade_in: Set(new.trade_in),
        trade_in_model: Set(new.trade_in_model),
        grade: Set(new.grade.as_str().into()),
        status: Set(LeadStatus::New.as_str().into()),
        first_response_due_at: Set(due),
        first_responded_at: Set(None),
        last_contact_at: Set(None),
        next_follow_up_at: Set(Some(due)),
        follow_ups: Set(0),
        lost_reason: Set(None),
        lost_to_brand: Set(None),
        lost_to_model: Set(None),
        lost_note: Set(None),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let l = lead::Entity::insert(row).exec_with_returning(txn).await?;
    note(
        txn,
        &l,
        by,
        Channel::System,
        format!(
            "New {} lead from {}{}",
            l.grade,
            new.channel.as_str(),
            l.interest_model
                .as_deref()
                .map(|m| format!(", interested in {m}"))
                .unwrap_or_default()
        ),
        None,
        now,
    )
    .await?;
    let made = match consultant {
        Some(to) => first_contact_task(txn, settings, &l, to, now).await?,
        None => Vec::new(),
    };
    Ok((l, made))
}

async fn first_contact_task<C: ConnectionTrait>(
    txn: &C,
    settings: &StoreSettings,
    l: &lead::Model,
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::task::Model>> {
    let spec = rules::first_response(now, l.first_response_due_at, l.interest_model.as_deref());
    tasks::create_with_settings(txn, settings, &target(l, Some(to), None), vec![spec], now).await
}

fn target(l: &lead::Model, to: Option<Uuid>, step: Option<i32>) -> RuleTarget {
    RuleTarget {
        store_id: l.store_id,
        customer_id: l.customer_id,
        vehicle_id: None,
        subject: Subject {
            kind: "Lead",
            id: l.id,
        },
        created_by: None,
        assignee_id: to,
        step,
    }
}

/// A lead's entry in its customer's log.
pub async fn note<C: ConnectionTrait>(
    db: &C,
    l: &lead::Model,
    by: Option<Uuid>,
    channel: Channel,
    summary: String,
    outcome: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    log::append(
        db,
        LogEvent {
            store_id: l.store_id,
            customer_id: l.customer_id,
            kind: LogKind::Sale,
            channel,
            staff_id: by,
            summary,
            outcome,
            subject: Some(("Lead", l.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

async fn active_consultant<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    id: Uuid,
    field: &str,
) -> ApiResult<Uuid> {
    if org::active_consultant(db, store_id, id).await? {
        Ok(id)
    } else {
        Err(ApiError::field(
            field,
            UserErrorCode::NotFound,
            "no active sales consultant with that id in this store",
        ))
    }
}

/// The lead's consultant, or CONFLICT on `leadId`: test drives and orders
/// need someone who has the lead.
pub fn consultant_of(l: &lead::Model) -> ApiResult<Uuid> {
    l.consultant_id.ok_or_else(|| {
        ApiError::field(
            "leadId",
            UserErrorCode::Conflict,
            "assign the lead to a consultant first",
        )
    })
}

/// NOT_FOUND on `teamId` unless the team is the store's.
pub async fn check_team<C: ConnectionTrait>(db: &C, store_id: Uuid, team: Uuid) -> ApiResult<()> {
    let found = team::Entity::find_by_id(team)
        .filter(team::Column::StoreId.eq(store_id))
        .one(db)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::field("teamId", UserErrorCode::NotFound, "no such team"))
}

/// The team's next consultant in turn, skipping inactive staff. The turn
/// is taken with one atomic increment outside any longer transaction, so
/// that concurrent arrivals each get their own turn (fair) without waiting
/// on each other. None when the team has no active consultant.
pub async fn next_in_team<C: ConnectionTrait>(db: &C, team: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(turns(db, team, 1).await?.into_iter().next().flatten())
}

/// The team's next `n` consultants in turn (a batch of arrivals), taken
/// with one increment like `next_in_team`.
pub async fn turns<C: ConnectionTrait>(
    db: &C,
    team: Uuid,
    n: usize,
) -> ApiResult<Vec<Option<Uuid>>> {
    let turned = team::Entity::update_many()
        .col_expr(
            team::Column::LeadTurn,
            Expr::col(team::Column::LeadTurn).add(n as i64),
        )
        .filter(team::Column::Id.eq(team))
        .exec_with_returning(db)
        .await?;
    let Some(last) = turned.first().map(|t| t.lead_turn) else {
        return Ok(vec![None; n]);
    };
    let members: Vec<Uuid> = staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .filter(staff::Column::TeamId.eq(team))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(Role::SalesConsultant.as_str()))
        .order_by_asc(staff::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let first = last - n as i64;
    Ok((0..n as i64)
        .map(|k| {
            let i = (first + k).rem_euclid(members.len().max(1) as i64) as usize;
            members.get(i).copied()
        })
        .collect())
}

/// Assigning a lead.
#[derive(InputObject, Clone, Debug)]
pub struct AssignLeadInput {
    /// The lead.
    pub lead_id: ID,
    /// The consultant who takes it.
    pub consultant_id: Option<ID>,
    /// Or a team whose active consultants take turns.
    pub team_id: Option<ID>,
}

/// Gives a lead to a consultant (store managers): its customer and its open
/// follow-ups go along; a lead never contacted gets its first-contact task.
pub async fn assign<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: AssignLeadInput,
) -> ApiResult<lead::Model> {
    actor.require(&[Role::StoreManager])?;
    let l = writable(db, actor, &input.lead_id, "leadId").await?;
    let named = ids::decode_opt(
        input.consultant_id.as_ref(),
        NodeKind::Staff,
        "consultantId",
    )?;
    let team = ids::decode_opt(input.team_id.as_ref(), NodeKind::Team, "teamId")?;
    let to = match (named, team) {
        (Some(id), _) => active_consultant(db, l.store_id, id, "consultantId").await?,
        (None, Some(team)) => {
            check_team(db, l.store_id, team).await?;
            next_in_team(db, team).await?.ok_or_else(|| {
                ApiError::field(
                    "teamId",
                    UserErrorCode::NotFound,
                    "the team has no active consultant",
                )
            })?
        }
        (None, None) => {
            return Err(ApiError::field(
                "consultantId",
                UserErrorCode::Required,
                "name a consultant or a team",
            ))
        }
    };
    if l.consultant_id == Some(to) {
        return Ok(l);
    }
    let from = l.consultant_id;
    let txn = db.begin().await?;
    directory::hand_over(&txn, actor, &[l.customer_id], to, now).await?;
    let updated = lead::Entity::update_many()
        .col_expr(lead::Column::ConsultantId, Expr::value(to))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(l.id))
        .filter(lead::Column::UpdatedAt.eq(l.updated_at))
        .exec_with_returning(&txn)
        .await?;
    let l = updated.into_iter().next().ok_or_else(changed)?;
    let moved = tasks::give_subject_to(&txn, l.id, to, now).await?;
    let made = if moved.is_empty() && status(&l) == LeadStatus::New {
        let settings = org::settings(&txn, l.store_id).await?;
        first_contact_task(&txn, &settings, &l, to, now).await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    if let Some(from) = from {
        tasks::announce_moved(&moved, from);
    }
    events::publish_all(&moved, TaskChange::Assigned);
    events::publish_all(&made, TaskChange::Created);
    Ok(l)
}

fn changed() -> ApiError {
    ApiError::field(
        "leadId",
        UserErrorCode::Conflict,
        "the lead changed meanwhile; reload it",
    )
}

/// A follow-up with a lead.
#[derive(InputObject, Clone, Debug)]
pub struct LogLeadFollowUpInput {
    /// The lead.
    pub lead_id: ID,
    /// How the contact happened.
    #[graphql(default_with = "Channel::Phone")]
    pub method: Channel,
    /// What was said (at most 2,000 characters).
    pub summary: String,
    /// The result, e.g. 约周六到店.
    pub outcome: Option<String>,
    /// The grade now (unchanged when left out).
    pub grade: Option<LeadGrade>,
    /// The next follow-up day (store time); by default the grade's cadence.
    pub next_follow_up_on: Option<NaiveDate>,
}

/// Logs a follow-up: the log entry, the grade, the open follow-up task done
/// and the next one scheduled on the grade's cadence, in one transaction.
pub async fn log_follow_up<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: LogLeadFollowUpInput,
) -> ApiResult<lead::Model> {
    let l = writable(db, actor, &input.lead_id, "leadId").await?;
    let summary = text_rules::text(&input.summary, "summary", 2000)?;
    let outcome = text_rules::opt_text(input.outcome.as_deref(), "outcome", 500)?;
    let (settings, tz) = org::calendar(db, l.store_id).await?;
    let today = task_rules::local_day(tz, now);
    let g = input.grade.unwrap_or(grade(&l));
    let mut spec = rules::next_follow_up(&settings, tz, g, today, l.interest_model.as_deref());
    if let Some(day) = input.next_follow_up_on {
        if day < today {
            return Err(ApiError::field(
                "nextFollowUpOn",
                UserErrorCode::OutOfRange,
                "the next follow-up cannot be in the past",
            ));
        }
        spec.window = task_rules::days_window(&settings, tz, day, 0, 0, 0);
    }
    let step = l.follow_ups + 1;
    let txn = db.begin().await?;
    let updated = lead::Entity::update_many()
        .col_expr(lead::Column::Grade, Expr::value(g.as_str()))
        .col_expr(
            lead::Column::Status,
            Expr::value(status(&l).forward(LeadStatus::Contacted).as_str()),
        )
        .col_expr(
            lead::Column::FirstRespondedAt,
            Expr::value(l.first_responded_at.unwrap_or(now)),
        )
        .col_expr(lead::Column::LastContactAt, Expr::value(now))
        .col_expr(lead::Column::NextFollowUpAt, Expr::value(spec.window.due))
        .col_expr(lead::Column::FollowUps, Expr::value(step))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(l.id))
        .filter(lead::Column::FollowUps.eq(l.follow_ups))
        .exec_with_returning(&txn)
        .await?;
    let l2 = updated.into_iter().next().ok_or_else(changed)?;
    let grade_note = if g.as_str() != l.grade {
        format!(" (grade {} → {})", l.grade, g.as_str())
    } else {
        String::new()
    };
    log::append(
        &txn,
        LogEvent {
            store_id: l.store_id,
            customer_id: l.customer_id,
            kind: LogKind::Contact,
            channel: input.method,
            staff_id: Some(actor.staff_id),
            summary: format!("{summary}{grade_note}"),
            outcome,
            subject: Some(("Lead", l.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    let done = tasks::done_for_subject(&txn, l.id, "followed up", actor.staff_id, now).await?;
    if l2.consultant_id.is_none() {
        spec.queue = Some(Role::StoreManager);
    }
    let made = tasks::create_from_rules(
        &txn,
        &target(&l2, l2.consultant_id, Some(step)),
        vec![spec],
        now,
    )
    .await?;
    txn.commit().await?;
    events::publish_all(&done, TaskChange::Completed);
    events::publish_all(&made, TaskChange::Created);
    Ok(l2)
}

/// A lead lost.
#[derive(InputObject, Clone, Debug)]
pub struct MarkLeadLostInput {
    /// The lead.
    pub lead_id: ID,
    /// Why.
    pub reason: LostReason,
    /// For BOUGHT_COMPETITOR: the brand bought (required).
    pub competitor_brand: Option<String>,
    /// For BOUGHT_COMPETITOR: the model bought.
    pub competitor_model: Option<String>,
    /// More words (required for OTHER).
    pub note: Option<String>,
}

/// Closes a lead as lost with its reason; its open follow-ups are cancelled.
/// A lead with a live order cannot be lost (cancel the order first).
pub async fn mark_lost<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: MarkLeadLostInput,
) -> ApiResult<lead::Model> {
    let l = writable(db, actor, &input.lead_id, "leadId").await?;
    let brand = text_rules::opt_text(input.competitor_brand.as_deref(), "competitorBrand", 50)?;
    let model = text_rules::opt_text(input.competitor_model.as_deref(), "competitorModel", 50)?;
    let note_text = text_rules::opt_text(input.note.as_deref(), "note", 500)?;
    if input.reason == LostReason::BoughtCompetitor && brand.is_none() {
        return Err(ApiError::field(
            "competitorBrand",
            UserErrorCode::Required,
            "which brand did the customer buy?",
        ));
    }
    if input.reason == LostReason::Other && note_text.is_none() {
        return Err(ApiError::field(
            "note",
            UserErrorCode::Required,
            "say why the lead was lost",
        ));
    }
    if status(&l) == LeadStatus::Ordered {
        return Err(ApiError::field(
            "leadId",
            UserErrorCode::Conflict,
            "the lead has a live order: cancel the order first",
        ));
    }
    let txn = db.begin().await?;
    let updated = lead::Entity::update_many()
        .col_expr(lead::Column::Status, Expr::value(LeadStatus::Lost.as_str()))
        .col_expr(lead::Column::LostReason, Expr::value(input.reason.as_str()))
        .col_expr(lead::Column::LostToBrand, Expr::value(brand.clone()))
        .col_expr(lead::Column::LostToModel, Expr::value(model.clone()))
        .col_expr(lead::Column::LostNote, Expr::value(note_text.clone()))
        .col_expr(
            lead::Column::NextFollowUpAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(lead::Column::ClosedAt, Expr::value(now))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(l.id))
        .filter(lead::Column::Status.is_in(OPEN))
        .filter(lead::Column::Status.ne(LeadStatus::Ordered.as_str()))
        .exec_with_returning(&txn)
        .await?;
    let l = updated.into_iter().next().ok_or_else(changed)?;
    let competitor = brand
        .map(|b| format!(": bought {b} {}", model.unwrap_or_default()))
        .unwrap_or_default();
    note(
        &txn,
        &l,
        Some(actor.staff_id),
        Channel::System,
        format!(
            "Lead lost ({}){}",
            input.reason.as_str(),
            competitor.trim_end()
        ),
        note_text,
        now,
    )
    .await?;
    let cancelled = tasks::cancel_for_subject(&txn, l.id, "lead lost", now).await?;
    txn.commit().await?;
    events::publish_all(&cancelled, TaskChange::Cancelled);
    Ok(l)
}

/// Moves a lead forward (a test drive, an order, a delivery) and records
/// the contact; never backwards. An ordered or closed lead has no next
/// follow-up: the order is the work now.
pub async fn advance<C: ConnectionTrait>(
    db: &C,
    l: &lead::Model,
    to: LeadStatus,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let next = status(l).forward(to);
    let mut q = lead::Entity::update_many()
        .col_expr(lead::Column::Status, Expr::value(next.as_str()))
        .col_expr(lead::Column::LastContactAt, Expr::value(now))
        .col_expr(
            lead::Column::FirstRespondedAt,
            Expr::value(l.first_responded_at.unwrap_or(now)),
        )
        .col_expr(lead::Column::UpdatedAt, Expr::value(now));
    if next.rank() >= LeadStatus::Ordered.rank() {
        q = q.col_expr(
            lead::Column::NextFollowUpAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    }
    if !next.is_open() {
        q = q.col_expr(lead::Column::ClosedAt, Expr::value(now));
    }
    q.filter(lead::Column::Id.eq(l.id)).exec(db).await?;
    Ok(())
}

/// Reopens an ordered lead whose order was cancelled, with its next
/// follow-up on the grade's cadence.
pub async fn reopen<C: ConnectionTrait>(
    db: &C,
    l: &lead::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::task::Model>> {
    let (settings, tz) = org::calendar(db, l.store_id).await?;
    let spec = rules::next_follow_up(
        &settings,
        tz,
        grade(l),
        task_rules::local_day(tz, now),
        l.interest_model.as_deref(),
    );
    let step = l.follow_ups + 1;
    lead::Entity::update_many()
        .col_expr(
            lead::Column::Status,
            Expr::value(LeadStatus::Contacted.as_str()),
        )
        .col_expr(lead::Column::NextFollowUpAt, Expr::value(spec.window.due))
        .col_expr(lead::Column::FollowUps, Expr::value(step))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(l.id))
        .exec(db)
        .await?;
    tasks::create_from_rules(db, &target(l, l.consultant_id, Some(step)), vec![spec], now).await
}

/// A consultant leaving: their open leads follow their customers to the
/// colleague taking over (tasks and customers move in `org::leaving`).
pub async fn follow_consultant<C: ConnectionTrait>(
    db: &C,
    from: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    Ok(lead::Entity::update_many()
        .col_expr(lead::Column::ConsultantId, Expr::value(to))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::ConsultantId.eq(from))
        .filter(lead::Column::Status.is_in(OPEN))
        .exec(db)
        .await?
        .rows_affected)
}

/// Which leads to list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct LeadFilter {
    /// Only these statuses.
    pub status: Option<Vec<LeadStatus>>,
    /// Only this grade.
    pub grade: Option<LeadGrade>,
    /// Only this channel.
    pub channel: Option<CustomerSource>,
    /// Only this consultant's.
    pub consultant_id: Option<ID>,
    /// Only open leads nobody has (the store manager's queue).
    pub unassigned: Option<bool>,
    /// Only open leads past their first-response deadline without contact.
    pub first_response_late: Option<bool>,
    /// Only open leads without contact for the store's dormant period.
    pub dormant: Option<bool>,
    /// Only this customer's.
    pub customer_id: Option<ID>,
}

/// Leads without a first contact past its deadline.
fn first_contact_late(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(lead::Column::FirstRespondedAt.is_null())
        .add(lead::Column::FirstResponseDueAt.lt(now))
}

/// Leads not contacted since `before` (nor created after it): dormant when
/// open and `before` is the store's dormant cut-off.
fn quiet_since(before: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(lead::Column::LastContactAt.lt(before))
        .add(
            Condition::all()
                .add(lead::Column::LastContactAt.is_null())
                .add(lead::Column::CreatedAt.lt(before)),
        )
}

/// A page of leads, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    filter: LeadFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<lead::Model>> {
    let mut q = lead::Entity::find().filter(visible(actor));
    if let Some(s) = &filter.status {
        q = q.filter(lead::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(g) = filter.grade {
        q = q.filter(lead::Column::Grade.eq(g.as_str()));
    }
    if let Some(c) = filter.channel {
        q = q.filter(lead::Column::Channel.eq(c.as_str()));
    }
    if let Some(id) = ids::decode_opt(
        filter.consultant_id.as_ref(),
        NodeKind::Staff,
        "consultantId",
    )? {
        q = q.filter(lead::Column::ConsultantId.eq(id));
    }
    if let Some(id) = ids::decode_opt(
        filter.customer_id.as_ref(),
        NodeKind::Customer,
        "customerId",
    )? {
        q = q.filter(lead::Column::CustomerId.eq(id));
    }
    let open = || lead::Column::Status.is_in(OPEN);
    if filter.unassigned == Some(true) {
        q = q
            .filter(lead::Column::ConsultantId.is_null())
            .filter(open());
    }
    if filter.first_response_late == Some(true) {
        q = q.filter(first_contact_late(now)).filter(open());
    }
    if filter.dormant == Some(true) {
        let settings = match actor.store_id {
            Some(s) => org::settings(db, s).await?,
            None => StoreSettings::default(),
        };
        let before = rules::dormant_before(&settings, now);
        q = q.filter(open()).filter(quiet_since(before));
    }
    paging::fetch(
        db,
        q,
        Keys {
            at: Some(lead::Column::CreatedAt),
            id: lead::Column::Id,
        },
        args,
        |m| Cursor {
            at: Some(m.created_at),
            id: m.id,
        },
        want_total,
    )
    .await
}

/// A consultant's open leads, next follow-up first (at most 500: a phone's
/// working set). One statement.
pub async fn mine<C: ConnectionTrait>(db: &C, actor: &Actor) -> ApiResult<Vec<lead::Model>> {
    actor.require(&[Role::SalesConsultant, Role::StoreManager])?;
    Ok(lead::Entity::find()
        .filter(lead::Column::ConsultantId.eq(actor.staff_id))
        .filter(lead::Column::Status.is_in(OPEN))
        .order_by_asc(lead::Column::NextFollowUpAt)
        .order_by_asc(lead::Column::Id)
        .limit(500)
        .all(db)
        .await?)
}

/// Count of leads by one key.
#[derive(SimpleObject, Clone, Debug)]
pub struct KeyCount {
    /// The key (a status, grade, channel …).
    pub key: String,
    /// How many.
    pub count: i64,
}

/// One consultant's open leads on the board.
#[derive(Clone, Debug)]
pub struct ConsultantLoad {
    /// The consultant.
    pub staff_id: Uuid,
    /// Open leads by grade (H, A, B, C).
    pub by_grade: [i64; 4],
    /// Open leads whose next follow-up is past.
    pub overdue: i64,
}

/// The store's lead board.
#[derive(Clone, Debug)]
pub struct Board {
    /// Open leads nobody has.
    pub unassigned: i64,
    /// Open leads past their first-response deadline without contact.
    pub first_response_late: i64,
    /// Open leads without contact for the dormant period.
    pub dormant: i64,
    /// Open leads by status (won and lost ones: `outcomes`).
    pub by_status: Vec<KeyCount>,
    /// Open leads by grade.
    pub by_grade: Vec<KeyCount>,
    /// Per consultant.
    pub consultants: Vec<ConsultantLoad>,
}

#[derive(FromQueryResult)]
struct Grouped {
    consultant_id: Option<Uuid>,
    status: String,
    grade: String,
    n: i64,
    late: i64,
    overdue: i64,
    dormant: i64,
}

/// The store manager's board of open leads: one grouped statement over the
/// store's board index.
/// Counts only: no customer data.
pub async fn board<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    store: &ID,
    now: DateTime<Utc>,
) -> ApiResult<Board> {
    actor.require(&[
        Role::StoreManager,
        Role::GroupManager,
        Role::OemStaff,
        Role::Admin,
    ])?;
    let store_id = ids::decode(store, NodeKind::Store).ok_or(ApiError::NotFound)?;
    if !matches!(actor.reach(), Reach::Store(s) if s == store_id)
        && !actor.reaches_store(db, store_id).await?
    {
        return Err(ApiError::NotFound);
    }
    let settings = org::settings(db, store_id).await?;
    let before = rules::dormant_before(&settings, now);
    let when = |c: Condition| Expr::case(c, 1).finally(0).sum();
    // One statement over the open leads, answered from the board index
    // alone; won and lost leads are counted by `outcomes` for a period.
    let rows = lead::Entity::find()
        .select_only()
        .column(lead::Column::ConsultantId)
        .column(lead::Column::Status)
        .column(lead::Column::Grade)
        .column_as(Expr::col(sea_orm::sea_query::Asterisk).count(), "n")
        .column_as(when(first_contact_late(now)), "late")
        .column_as(
            when(Condition::all().add(lead::Column::NextFollowUpAt.lt(now))),
            "overdue",
        )
        .column_as(when(quiet_since(before)), "dormant")
        .filter(lead::Column::StoreId.eq(store_id))
        .filter(lead::Column::Status.is_in(OPEN))
        .group_by(lead::Column::ConsultantId)
        .group_by(lead::Column::Status)
        .group_by(lead::Column::Grade)
        .into_model::<Grouped>()
        .all(db)
        .await?;
    Ok(fold_board(rows))
}

fn fold_board(rows: Vec<Grouped>) -> Board {
    let mut b = Board {
        unassigned: 0,
        first_response_late: 0,
        dormant: 0,
        by_status: Vec::new(),
        by_grade: Vec::new(),
        consultants: Vec::new(),
    };
    let mut status: HashMap<String, i64> = HashMap::new();
    let mut grade: HashMap<String, i64> = HashMap::new();
    let mut per: HashMap<Uuid, ConsultantLoad> = HashMap::new();
    for r in rows {
        *status.entry(r.status.clone()).or_default() += r.n;
        *grade.entry(r.grade.clone()).or_default() += r.n;
        b.first_response_late += r.late;
        b.dormant += r.dormant;
        match r.consultant_id {
            None => b.unassigned += r.n,
            Some(s) => {
                let e = per.entry(s).or_insert(ConsultantLoad {
                    staff_id: s,
                    by_grade: [0; 4],
                    overdue: 0,
                });
                let i = ["H", "A", "B", "C"]
                    .iter()
                    .position(|g| *g == r.grade)
                    .unwrap_or(3);
                e.by_grade[i] += r.n;
                e.overdue += r.overdue;
            }
        }
    }
    let ordered = |m: HashMap<String, i64>, order: &[&str]| {
        order
            .iter()
            .map(|k| KeyCount {
                key: k.to_string(),
                count: m.get(*k).copied().unwrap_or(0),
            })
            .collect::<Vec<_>>()
    };
    b.by_status = ordered(status, &OPEN);
    b.by_grade = ordered(grade, &["H", "A", "B", "C"]);
    let mut c: Vec<_> = per.into_values().collect();
    c.sort_by_key(|l| l.staff_id);
    b.consultants = c;
    b
}

/// How win/loss counts are grouped.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeGrouping {
    /// By the lead's channel.
    Channel,
    /// By the reason a lead was lost.
    LostReason,
    /// By consultant (the key is the staff id).
    Consultant,
}

/// Won, lost and open leads of one group.
#[derive(SimpleObject, Clone, Debug)]
pub struct OutcomeRow {
    /// The channel, the lost reason or the consultant's global id.
    pub key: String,
    /// Leads created in the period.
    pub leads: i64,
    /// Of which won (delivered).
    pub won: i64,
    /// Of which lost.
    pub lost: i64,
    /// Of which still open.
    pub open: i64,
}

#[derive(FromQueryResult)]
struct OutcomeSql {
    k: Option<String>,
    leads: i64,
    won: i64,
    lost: i64,
}

#[derive(FromQueryResult)]
struct OutcomeById {
    k: Option<Uuid>,
    leads: i64,
    won: i64,
    lost: i64,
}

/// Win/loss counts of the leads created in [from, to) (store days), by
/// channel, lost reason or consultant. A consultant sees their own row.
pub async fn outcomes<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    by: OutcomeGrouping,
) -> ApiResult<Vec<OutcomeRow>> {
    actor.require(&[
        Role::SalesConsultant,
        Role::StoreManager,
        Role::GroupManager,
        Role::OemStaff,
        Role::Admin,
    ])?;
    if to <= from || (to - from).num_days() > 366 {
        return Err(ApiError::BadInput(
            "`to` must be after `from`, at most a year later".into(),
        ));
    }
    let tz = match actor.store_id {
        Some(s) => org::zone_of(db, s).await?,
        None => chrono_tz::Asia::Shanghai,
    };
    let mut q = lead::Entity::find()
        .select_only()
        .column_as(Expr::col(lead::Column::Id).count(), "leads")
        .column_as(
            Expr::case(lead::Column::Status.eq("WON"), 1)
                .finally(0)
                .sum(),
            "won",
        )
        .column_as(
            Expr::case(lead::Column::Status.eq("LOST"), 1)
                .finally(0)
                .sum(),
            "lost",
        )
        .filter(lead::Column::StoreId.in_subquery(actor.store_ids_query()))
        .filter(lead::Column::CreatedAt.gte(task_rules::day_start(tz, from)))
        .filter(lead::Column::CreatedAt.lt(task_rules::day_start(tz, to)));
    if actor.role == Role::SalesConsultant {
        q = q.filter(lead::Column::ConsultantId.eq(actor.staff_id));
    }
    let row = |k: String, leads: i64, won: i64, lost: i64| OutcomeRow {
        key: k,
        leads,
        won,
        lost,
        open: leads - won - lost,
    };
    let out = match by {
        OutcomeGrouping::Consultant => q
            .column_as(lead::Column::ConsultantId, "k")
            .group_by(lead::Column::ConsultantId)
            .into_model::<OutcomeById>()
            .all(db)
            .await?
            .into_iter()
            .map(|r| {
                let k =
                    r.k.map(|id| ids::encode(NodeKind::Staff, id).0)
                        .unwrap_or_else(|| "UNASSIGNED".into());
                row(k, r.leads, r.won, r.lost)
            })
            .collect(),
        OutcomeGrouping::Channel | OutcomeGrouping::LostReason => {
            let col = if by == OutcomeGrouping::Channel {
                lead::Column::Channel
            } else {
                lead::Column::LostReason
            };
            q.column_as(col, "k")
                .group_by(col)
                .into_model::<OutcomeSql>()
                .all(db)
                .await?
                .into_iter()
                .map(|r| row(r.k.unwrap_or_else(|| "NONE".into()), r.leads, r.won, r.lost))
                .collect()
        }
    };
    let mut out: Vec<OutcomeRow> = out;
    out.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.key.cmp(&b.key)));
    Ok(out)
}
