//! Warranty claims: filed by the store from a warranty repair within the
//! store's filing days (late ones flagged), the old part shipped to the
//! OEM, and the OEM's receipt, decision and payment. OEM staff act on the
//! claims of every store of their network; the claim itself carries no
//! customer personal data (its vehicle and customer are scoped fields).
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::warranty_claim;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    orders,
    rules::{self, ClaimStatus, RepairKind, RepairStatus},
};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::{
        log::{self, LogEvent},
        rules::{self as text_rules, warranty_status, Channel, LogKind, WarrantyStatus},
        vehicles,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    org::{rules as org_rules, store as org},
    paging::{self, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        rules as task_rules,
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// The claims the actor may see: the store's for its warranty clerk and
/// manager, the network's stores' for OEM staff (and the group's for its
/// manager, read-only).
pub fn visible(actor: &Actor) -> Condition {
    match actor.reach() {
        Reach::Store(s) => Condition::all().add(warranty_claim::Column::StoreId.eq(s)),
        _ => Condition::all()
            .add(warranty_claim::Column::StoreId.in_subquery(actor.store_ids_query())),
    }
}

fn reads(actor: &Actor) -> ApiResult<()> {
    actor.require(&[
        Role::WarrantyClerk,
        Role::StoreManager,
        Role::ServiceAdvisor,
        Role::GroupManager,
        Role::OemStaff,
        Role::Admin,
    ])
}

/// A claim by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<warranty_claim::Model>> {
    reads(actor)?;
    Ok(warranty_claim::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// The claim's state.
pub fn status(c: &warranty_claim::Model) -> ClaimStatus {
    ClaimStatus::parse(&c.status).unwrap_or(ClaimStatus::Draft)
}

/// A claim from a warranty repair.
#[derive(InputObject, Clone, Debug)]
pub struct FileWarrantyClaimInput {
    /// The repair order, done or handed back, with work under warranty.
    pub repair_order_id: ID,
    /// The main failed part, e.g. 水泵总成 (part number and name).
    pub failed_part: String,
    /// The cause the technician found.
    pub cause: String,
    /// Labour claimed, fen; default the order's warranty labour.
    pub labour_fen: Option<i64>,
    /// Parts claimed, fen; default the order's warranty parts.
    pub parts_fen: Option<i64>,
}

const CLAIMS: [Role; 2] = [Role::WarrantyClerk, Role::StoreManager];

/// Drafts a claim from a warranty repair order: the car must have been
/// covered on the day it came in at the mileage it came in with.
pub async fn file<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: FileWarrantyClaimInput,
) -> ApiResult<warranty_claim::Model> {
    actor.require(&CLAIMS)?;
    actor.own_store()?;
    let field = "repairOrderId";
    let id = ids::decode_field(&input.repair_order_id, NodeKind::RepairOrder, field)?;
    let o = orders::find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such repair order"))?;
    let failed_part = text_rules::text(&input.failed_part, "failedPart", 200)?;
    let cause = text_rules::text(&input.cause, "cause", 2000)?;
    let warranty_jobs: i64 = orders::jobs(&o)
        .iter()
        .filter(|j| j.under_warranty)
        .map(rules::Job::amount)
        .sum();
    let warranty_parts: i64 = orders::parts(&o)
        .iter()
        .filter(|p| p.under_warranty)
        .map(rules::Part::amount)
        .sum();
    let labour = input.labour_fen.unwrap_or(warranty_jobs);
    let parts = input.parts_fen.unwrap_or(warranty_parts);
    for (f, v) in [("labourFen", labour), ("partsFen", parts)] {
        if !(0..=10_000_000_000).contains(&v) {
            return Err(ApiError::field(
                f,
                UserErrorCode::OutOfRange,
                "amounts are between 0 and 100,000,000 yuan",
            ));
        }
    }
    if orders::kind(&o) != RepairKind::Warranty && o.warranty_fen == 0 {
        return Err(ApiError::field(
            field,
            UserErrorCode::NotCovered,
            "the order has no warranty work: nothing to claim",
        ));
    }
    if !matches!(
        orders::status(&o),
        RepairStatus::Done | RepairStatus::Delivered
    ) {
        return Err(ApiError::field(
            field,
            UserErrorCode::Conflict,
            "a claim is filed once the repair is done",
        ));
    }
    if labour + parts == 0 {
        return Err(ApiError::field(
            "partsFen",
            UserErrorCode::OutOfRange,
            "a claim asks for some amount",
        ));
    }
    let v = vehicles::find(db, actor, o.vehicle_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (settings, tz) = org::calendar(db, o.store_id).await?;
    let came_in = org_rules::local_day(tz, o.opened_at);
    let coverage = warranty_status(
        v.warranty_ends_on,
        v.warranty_km,
        came_in,
        Some(o.mileage_in),
    );
    if coverage != WarrantyStatus::Covered {
        return Err(ApiError::field(
            field,
            UserErrorCode::NotCovered,
            format!(
                "the car was not under warranty when it came in: {}",
                coverage.label_en()
            ),
        ));
    }
    let serviced_on = org_rules::local_day(tz, o.delivered_at.or(o.done_at).unwrap_or(now));
    let row = warranty_claim::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(o.store_id),
        repair_order_id: Set(o.id),
        vehicle_id: Set(o.vehicle_id),
        customer_id: Set(o.customer_id),
        model: Set(v.model.clone()),
        failed_part: Set(failed_part),
        cause: Set(cause),
        labour_fen: Set(labour),
        parts_fen: Set(parts),
        total_fen: Set(labour + parts),
        serviced_on: Set(serviced_on),
        file_by: Set(task_rules::claim_file_by(&settings, serviced_on)),
        submitted_at: Set(None),
        late: Set(false),
        status: Set(ClaimStatus::Draft.as_str().into()),
        tracking_no: Set(None),
        reject_reason: Set(None),
        paid_fen: Set(None),
        decided_at: Set(None),
        decided_by: Set(None),
        created_by: Set(actor.staff_id),
        created_at: Set(now),
        updated_at: Set(now),
    };
    warranty_claim::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            ApiError::on_unique(e, || {
                crate::error::UserError::at(
                    field,
                    UserErrorCode::Duplicate,
                    "this repair order has its claim already",
                )
            })
        })
}

/// A step of a claim.
#[derive(InputObject, Clone, Debug)]
pub struct AdvanceWarrantyClaimInput {
    /// The claim.
    pub claim_id: ID,
    /// The store: SUBMITTED, PART_SHIPPED. The OEM: PART_RECEIVED,
    /// APPROVED, REJECTED, PAID.
    pub status: ClaimStatus,
    /// PART_SHIPPED: the courier's tracking number.
    pub tracking_no: Option<String>,
    /// REJECTED: why.
    pub reject_reason: Option<String>,
    /// PAID: the amount paid, fen.
    pub paid_fen: Option<i64>,
}

/// Whether `to` is the store's step (otherwise the OEM's).
fn stores_step(to: ClaimStatus) -> bool {
    matches!(to, ClaimStatus::Submitted | ClaimStatus::PartShipped)
}

/// Moves a claim one step: the store submits and ships the old part; the
/// OEM receives it, approves or rejects, and pays. Submitting after the
/// filing day marks the claim late; approval creates the OEM's revisit of
/// the customer.
pub async fn advance<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: AdvanceWarrantyClaimInput,
) -> ApiResult<warranty_claim::Model> {
    let id = ids::decode_field(&input.claim_id, NodeKind::WarrantyClaim, "claimId")?;
    let c = find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field("claimId", UserErrorCode::NotFound, "no such claim"))?;
    let to = input.status;
    if stores_step(to) {
        actor.require(&CLAIMS)?;
    } else {
        actor.require(&[Role::OemStaff])?;
    }
    if !status(&c).may_move_to(to) {
        return Err(ApiError::field(
            "status",
            UserErrorCode::Invalid,
            format!("a claim cannot go from {} to {}", c.status, to.as_str()),
        ));
    }
    let (settings, tz) = org::calendar(db, c.store_id).await?;
    let today = org_rules::local_day(tz, now);
    let mut m: warranty_claim::ActiveModel = c.clone().into();
    m.status = Set(to.as_str().into());
    m.updated_at = Set(now);
    match to {
        ClaimStatus::Submitted => {
            m.submitted_at = Set(Some(now));
            m.late = Set(rules::claim_late(c.file_by, today));
        }
        ClaimStatus::PartShipped => {
            let t = text_rules::opt_text(input.tracking_no.as_deref(), "trackingNo", 50)?;
            let t = t.ok_or_else(|| {
                ApiError::field(
                    "trackingNo",
                    UserErrorCode::Required,
                    "give the courier's tracking number",
                )
            })?;
            m.tracking_no = Set(Some(t));
        }
        ClaimStatus::Rejected => {
            let r = text_rules::opt_text(input.reject_reason.as_deref(), "rejectReason", 1000)?;
            let r = r.ok_or_else(|| {
                ApiError::field("rejectReason", UserErrorCode::Required, "say why")
            })?;
            m.reject_reason = Set(Some(r));
            m.decided_at = Set(Some(now));
            m.decided_by = Set(Some(actor.staff_id));
        }
        ClaimStatus::Approved => {
            m.decided_at = Set(Some(now));
            m.decided_by = Set(Some(actor.staff_id));
        }
        ClaimStatus::Paid => {
            let paid = input.paid_fen.filter(|p| (0..=c.total_fen).contains(p));
            let paid = paid.ok_or_else(|| {
                ApiError::field(
                    "paidFen",
                    UserErrorCode::OutOfRange,
                    format!(
                        "the payment is between 0 and the {} fen claimed",
                        c.total_fen
                    ),
                )
            })?;
            m.paid_fen = Set(Some(paid));
        }
        ClaimStatus::Draft | ClaimStatus::PartReceived => {}
    }
    let txn = db.begin().await?;
    let rows = warranty_claim::Entity::update_many()
        .set(m)
        .filter(warranty_claim::Column::Id.eq(c.id))
        .filter(warranty_claim::Column::Status.eq(c.status.clone()))
        .exec_with_returning(&txn)
        .await?;
    let c = rows.into_iter().next().ok_or_else(|| {
        ApiError::field(
            "claimId",
            UserErrorCode::Conflict,
            "the claim changed meanwhile; reload it",
        )
    })?;
    let mut done = Vec::new();
    let mut made = Vec::new();
    match to {
        ClaimStatus::Submitted => {
            let rule = [task_rules::CLAIM_DEADLINE];
            done = tasks::done_for_subject_rules(
                &txn,
                c.repair_order_id,
                &rule,
                "claim filed",
                actor.staff_id,
                now,
            )
            .await?;
        }
        ClaimStatus::Approved => {
            let about = RuleTarget {
                store_id: c.store_id,
                customer_id: c.customer_id,
                vehicle_id: Some(c.vehicle_id),
                subject: Subject {
                    kind: "WarrantyClaim",
                    id: c.id,
                },
                created_by: Some(actor.staff_id),
                assignee_id: Some(actor.staff_id),
                step: None,
            };
            let spec = task_rules::claim_revisit(&settings, tz, today, &c.model);
            made = tasks::create_with_settings(&txn, &settings, &about, vec![spec], now).await?;
        }
        _ => {}
    }
    log::append(
        &txn,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.customer_id,
            kind: LogKind::Repair,
            channel: Channel::System,
            staff_id: Some(actor.staff_id),
            summary: format!("Warranty claim: {}", to.label_en()),
            outcome: c
                .reject_reason
                .clone()
                .filter(|_| to == ClaimStatus::Rejected),
            subject: Some(("WarrantyClaim", c.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    events::publish_all(&done, TaskChange::Completed);
    events::publish_all(&made, TaskChange::Created);
    Ok(c)
}

/// Filters of the claim list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct WarrantyClaimFilter {
    /// Only these states.
    pub status: Option<Vec<ClaimStatus>>,
    /// Only this store's (network staff).
    pub store_id: Option<ID>,
}

/// The claims the actor may see, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &WarrantyClaimFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<warranty_claim::Model>> {
    reads(actor)?;
    let mut q = warranty_claim::Entity::find().filter(visible(actor));
    if let Some(s) = &filter.status {
        q = q.filter(warranty_claim::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    if let Some(s) = &filter.store_id {
        let s = ids::decode_field(s, NodeKind::Store, "storeId")?;
        q = q.filter(warranty_claim::Column::StoreId.eq(s));
    }
    paging::by_id(db, q, warranty_claim::Column::Id, args, want_total).await
}

/// The claims of many repair orders (already visible), for loaders.
pub async fn of_orders<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, warranty_claim::Model>> {
    let rows = warranty_claim::Entity::find()
        .filter(warranty_claim::Column::RepairOrderId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.repair_order_id, c)).collect())
}
