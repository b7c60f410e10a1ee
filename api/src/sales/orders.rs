//! Orders from draft to delivery, the PDI checklist, delivery through the
//! vehicles' one delivery path, and the consultant's commission and quota.
use std::collections::{BTreeMap, HashMap};

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{lead, pdi_item, sales_order, sales_quota, staff};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    leads::{self, yuan},
    rules::{self, LeadStatus, OrderStatus, PaymentMethod},
};
use crate::{
    auth::{Actor, Role},
    customers::{
        directory,
        rules::{self as text_rules, Channel},
        vehicles::{self, NewCar},
    },
    error::{ApiError, ApiResult, UserErrorCode},
    idempotency,
    ids::{self, NodeKind},
    org::store as org,
    paging::{self, Cursor, Keys, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        rules as task_rules, store as tasks,
    },
};

/// The orders the actor may see: those of visible customers.
fn visible(actor: &Actor) -> Condition {
    leads::scope(
        actor,
        sales_order::Column::StoreId,
        sales_order::Column::CustomerId,
        Some(sales_order::Column::ConsultantId),
    )
}

/// Whether the actor may see the commission on an order: its consultant and
/// the store's managers, nobody else.
pub fn sees_commission(actor: &Actor, o: &sales_order::Model) -> bool {
    actor.staff_id == o.consultant_id
        || (actor.role == Role::StoreManager && actor.store_id == Some(o.store_id))
}

/// An order by id, if visible.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<sales_order::Model>> {
    Ok(sales_order::Entity::find_by_id(id)
        .filter(visible(actor))
        .one(db)
        .await?)
}

/// The orders of many leads (already visible), newest first.
pub async fn of_leads<C: ConnectionTrait>(
    db: &C,
    leads: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<sales_order::Model>>> {
    let rows = sales_order::Entity::find()
        .filter(sales_order::Column::LeadId.is_in(leads.iter().copied()))
        .order_by_desc(sales_order::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(paging::group_by(rows, |r| r.lead_id))
}

/// How the car is paid.
#[derive(InputObject, Clone, Debug)]
pub struct PaymentInput {
    /// Cash or loan.
    pub method: PaymentMethod,
    /// Loan: the bank or finance company.
    pub loan_provider: Option<String>,
    /// Loan: months, 6 to 84.
    pub loan_term_months: Option<i32>,
    /// Loan: down payment, yuan.
    pub down_payment_yuan: Option<i64>,
}

/// A new order on a lead.
#[derive(InputObject, Clone, Debug)]
pub struct CreateSalesOrderInput {
    /// The lead.
    pub lead_id: ID,
    /// Model.
    pub model: String,
    /// Trim.
    pub trim: Option<String>,
    /// Colour.
    pub colour: Option<String>,
    /// List price, yuan.
    pub price_yuan: i64,
    /// Discount, yuan.
    #[graphql(default)]
    pub discount_yuan: i64,
    /// Deposit, yuan.
    #[graphql(default)]
    pub deposit_yuan: i64,
    /// Payment.
    pub payment: PaymentInput,
    /// Insurance chosen, e.g. 人保 全险.
    pub insurance: Option<String>,
    /// Trade-in car and its agreed value.
    pub trade_in: Option<String>,
    /// Accessories.
    pub accessories: Option<String>,
    /// A client-chosen key: retrying with the same key never creates twice.
    pub idempotency_key: Option<String>,
}

const CREATE_ORDER: &str = "createSalesOrder";

/// Opens a draft order on an open lead; the lead moves to ORDERED and its
/// follow-ups stop (the order is the work now).
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateSalesOrderInput,
) -> ApiResult<sales_order::Model> {
    let key = idempotency::check_key(input.idempotency_key.as_deref())?;
    if let Some(k) = &key {
        if let Some(id) = idempotency::earlier(db, actor, CREATE_ORDER, k).await? {
            return find(db, actor, id).await?.ok_or(ApiError::NotFound);
        }
    }
    let l = leads::writable(db, actor, &input.lead_id, "leadId").await?;
    let model = text_rules::text(&input.model, "model", 50)?;
    if input.price_yuan <= 0 {
        return Err(ApiError::field(
            "priceYuan",
            UserErrorCode::OutOfRange,
            "priceYuan must be more than 0",
        ));
    }
    let price = yuan(input.price_yuan, "priceYuan")?;
    let discount = yuan(input.discount_yuan, "discountYuan")?;
    let deposit = yuan(input.deposit_yuan, "depositYuan")?;
    if discount > price {
        return Err(ApiError::field(
            "discountYuan",
            UserErrorCode::OutOfRange,
            "the discount cannot exceed the price",
        ));
    }
    if deposit > price - discount {
        return Err(ApiError::field(
            "depositYuan",
            UserErrorCode::OutOfRange,
            "the deposit cannot exceed the net price",
        ));
    }
    let p = &input.payment;
    let (provider, term, down) = match p.method {
        PaymentMethod::Cash => (None, None, None),
        PaymentMethod::Loan => {
            let provider = text_rules::opt_text(p.loan_provider.as_deref(), "loanProvider", 50)?
                .ok_or_else(|| {
                    ApiError::field(
                        "loanProvider",
                        UserErrorCode::Required,
                        "a loan needs its provider",
                    )
                })?;
            let term = p
                .loan_term_months
                .filter(|t| (6..=84).contains(t))
                .ok_or_else(|| {
                    ApiError::field(
                        "loanTermMonths",
                        UserErrorCode::OutOfRange,
                        "loan terms run 6 to 84 months",
                    )
                })?;
            let down = yuan(p.down_payment_yuan.unwrap_or(0), "downPaymentYuan")?;
            if down > price - discount {
                return Err(ApiError::field(
                    "downPaymentYuan",
                    UserErrorCode::OutOfRange,
                    "the down payment cannot exceed the net price",
                ));
            }
            (Some(provider), Some(term), Some(down))
        }
    };
    // The fields first, then the lead's state: a form's own mistakes are
    // named whatever the lead's state.
    let consultant = leads::consultant_of(&l)?;
    if leads::status(&l) == LeadStatus::Ordered {
        return Err(ApiError::field(
            "leadId",
            UserErrorCode::Conflict,
            "the lead has a live order already",
        ));
    }
    let settings = org::settings(db, l.store_id).await?;
    let row = sales_order::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(l.store_id),
        lead_id: Set(l.id),
        customer_id: Set(l.customer_id),
        consultant_id: Set(consultant),
        model: Set(model.clone()),
        trim: Set(text_rules::opt_text(input.trim.as_deref(), "trim", 50)?),
        colour: Set(text_rules::opt_text(input.colour.as_deref(), "colour", 30)?),
        price_yuan: Set(price),
        discount_yuan: Set(discount),
        deposit_yuan: Set(deposit),
        payment: Set(p.method.as_str().into()),
        loan_provider: Set(provider),
        loan_term_months: Set(term),
        down_payment_yuan: Set(down),
        insurance: Set(text_rules::opt_text(
            input.insurance.as_deref(),
            "insurance",
            100,
        )?),
        trade_in: Set(text_rules::opt_text(
            input.trade_in.as_deref(),
            "tradeIn",
            100,
        )?),
        accessories: Set(text_rules::opt_text(
            input.accessories.as_deref(),
            "accessories",
            500,
        )?),
        commission_yuan: Set(rules::commission(&settings, price, discount)),
        status: Set(OrderStatus::Draft.as_str().into()),
        pdi: Set(None),
        pdi_completed_at: Set(None),
        vehicle_id: Set(None),
        delivered_at: Set(None),
        cancel_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let o = sales_order::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    leads::advance(&txn, &l, LeadStatus::Ordered, now).await?;
    let cancelled = tasks::cancel_for_subject(&txn, l.id, "ordered", now).await?;
    leads::note(
        &txn,
        &l,
        Some(actor.staff_id),
        Channel::InPerson,
        format!("Order for {model} opened"),
        None,
        now,
    )
    .await?;
    if let Some(k) = &key {
        idempotency::remember(&txn, actor, CREATE_ORDER, k, o.id, now).await?;
    }
    txn.commit().await?;
    events::publish_all(&cancelled, TaskChange::Cancelled);
    Ok(o)
}

async fn writable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
) -> ApiResult<sales_order::Model> {
    actor.own_store()?;
    let id = ids::decode_field(id, NodeKind::SalesOrder, "orderId")?;
    let o = find(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field("orderId", UserErrorCode::NotFound, "no such order"))?;
    if o.consultant_id != actor.staff_id && actor.role != Role::StoreManager {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::NotAllowed,
            "only the order's consultant or the store manager changes it",
        ));
    }
    if !status(&o).is_live() {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            format!("the order is {}", o.status.to_lowercase()),
        ));
    }
    Ok(o)
}

/// The order's status.
pub fn status(o: &sales_order::Model) -> OrderStatus {
    OrderStatus::parse(&o.status).unwrap_or(OrderStatus::Draft)
}

async fn set_status<C: ConnectionTrait>(
    db: &C,
    o: &sales_order::Model,
    to: OrderStatus,
    extra: impl FnOnce(&mut sales_order::ActiveModel),
    now: DateTime<Utc>,
) -> ApiResult<sales_order::Model> {
    let mut m: sales_order::ActiveModel = o.clone().into();
    m.status = Set(to.as_str().into());
    m.updated_at = Set(now);
    extra(&mut m);
    // Only from the state it was read in: two hands never both move it.
    let rows = sales_order::Entity::update_many()
        .set(m)
        .filter(sales_order::Column::Id.eq(o.id))
        .filter(sales_order::Column::Status.eq(o.status.clone()))
        .exec_with_returning(db)
        .await?;
    rows.into_iter().next().ok_or_else(|| {
        ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "the order changed meanwhile; reload it",
        )
    })
}

/// Moving an order on.
#[derive(InputObject, Clone, Debug)]
pub struct AdvanceSalesOrderInput {
    /// The order.
    pub order_id: ID,
    /// CONFIRMED, DEPOSIT_PAID or READY.
    pub status: OrderStatus,
}

/// Moves an order one step on (draft → confirmed → deposit paid → ready).
pub async fn advance<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: AdvanceSalesOrderInput,
) -> ApiResult<sales_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if !status(&o).may_advance_to(input.status) {
        return Err(ApiError::field(
            "status",
            UserErrorCode::Invalid,
            format!(
                "an order cannot go from {} to {}",
                o.status,
                input.status.as_str()
            ),
        ));
    }
    if input.status == OrderStatus::DepositPaid && o.deposit_yuan == 0 {
        return Err(ApiError::field(
            "status",
            UserErrorCode::Invalid,
            "the order has no deposit",
        ));
    }
    set_status(db, &o, input.status, |_| {}, now).await
}

/// Cancelling an order.
#[derive(InputObject, Clone, Debug)]
pub struct CancelSalesOrderInput {
    /// The order.
    pub order_id: ID,
    /// Why.
    pub reason: String,
}

/// Cancels a live order; its lead goes back to being followed up.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CancelSalesOrderInput,
) -> ApiResult<sales_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    let reason = text_rules::text(&input.reason, "reason", 500)?;
    let txn = db.begin().await?;
    let o = set_status(
        &txn,
        &o,
        OrderStatus::Cancelled,
        |m| m.cancel_reason = Set(Some(reason.clone())),
        now,
    )
    .await?;
    let made = match lead::Entity::find_by_id(o.lead_id).one(&txn).await? {
        Some(l) if leads::status(&l) == LeadStatus::Ordered => {
            leads::note(
                &txn,
                &l,
                Some(actor.staff_id),
                Channel::System,
                "Order cancelled".into(),
                Some(reason),
                now,
            )
            .await?;
            leads::reopen(&txn, &l, now).await?
        }
        _ => Vec::new(),
    };
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    Ok(o)
}

/// One checked line of an order's PDI, as stored on the order.
#[derive(Serialize, Deserialize, SimpleObject, Clone, Debug, PartialEq)]
#[graphql(complex)]
pub struct PdiCheck {
    /// The checklist line.
    pub item: String,
    /// Passed.
    pub passed: bool,
    /// Remark.
    pub note: Option<String>,
    /// Who checked (`checkedBy`).
    #[graphql(skip)]
    pub by: Uuid,
    /// When.
    #[graphql(name = "checkedAt")]
    pub at: DateTime<Utc>,
}

/// A line checked.
#[derive(InputObject, Clone, Debug)]
pub struct PdiCheckInput {
    /// The checklist line, as the store's checklist words it.
    pub item: String,
    /// Passed.
    pub passed: bool,
    /// Remark.
    pub note: Option<String>,
}

/// A PDI result.
#[derive(InputObject, Clone, Debug)]
pub struct RecordPdiInput {
    /// The order.
    pub order_id: ID,
    /// Lines checked now (later checks of a line replace earlier ones).
    pub items: Vec<PdiCheckInput>,
}

/// The store's PDI checklist: its own, or the common one until it sets one.
pub async fn checklist<C: ConnectionTrait>(db: &C, store_id: Uuid) -> ApiResult<Vec<String>> {
    let rows = pdi_item::Entity::find()
        .filter(pdi_item::Column::StoreId.eq(store_id))
        .order_by_asc(pdi_item::Column::Position)
        .all(db)
        .await?;
    Ok(if rows.is_empty() {
        rules::DEFAULT_PDI.iter().map(|s| s.to_string()).collect()
    } else {
        rows.into_iter().map(|r| r.label).collect()
    })
}

/// The checks recorded on an order.
pub fn checks(o: &sales_order::Model) -> Vec<PdiCheck> {
    o.pdi
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Records PDI checks; when every line of the store's checklist has passed,
/// the PDI is complete (a failed line reopens it).
pub async fn record_pdi<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordPdiInput,
) -> ApiResult<sales_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    let list = checklist(db, o.store_id).await?;
    if input.items.is_empty() {
        return Err(ApiError::field(
            "items",
            UserErrorCode::Required,
            "check at least one line",
        ));
    }
    let mut by_item: BTreeMap<String, PdiCheck> = checks(&o)
        .into_iter()
        .map(|c| (c.item.clone(), c))
        .collect();
    for i in &input.items {
        if !list.contains(&i.item) {
            return Err(ApiError::field(
                "items",
                UserErrorCode::Invalid,
                format!("not a line of the store's PDI checklist: {}", i.item),
            ));
        }
        by_item.insert(
            i.item.clone(),
            PdiCheck {
                item: i.item.clone(),
                passed: i.passed,
                note: text_rules::opt_text(i.note.as_deref(), "note", 200)?,
                by: actor.staff_id,
                at: now,
            },
        );
    }
    let complete = list
        .iter()
        .all(|l| by_item.get(l).is_some_and(|c| c.passed));
    let ordered: Vec<PdiCheck> = list.iter().filter_map(|l| by_item.remove(l)).collect();
    let mut m: sales_order::ActiveModel = o.into();
    m.pdi = Set(serde_json::to_value(&ordered).ok());
    m.pdi_completed_at = Set(complete.then_some(now));
    m.updated_at = Set(now);
    Ok(sea_orm::ActiveModelTrait::update(m, db).await?)
}

/// Setting the store's checklist.
#[derive(InputObject, Clone, Debug)]
pub struct SetPdiChecklistInput {
    /// The lines, in order (1 to 50, each at most 100 characters).
    pub items: Vec<String>,
}

/// Replaces the store's PDI checklist (store managers).
pub async fn set_checklist<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SetPdiChecklistInput,
) -> ApiResult<Vec<String>> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    if input.items.is_empty() || input.items.len() > 50 {
        return Err(ApiError::field(
            "items",
            UserErrorCode::OutOfRange,
            "a checklist has 1 to 50 lines",
        ));
    }
    let mut items: Vec<String> = Vec::new();
    for i in &input.items {
        let t = text_rules::text(i, "items", 100)?;
        if !items.contains(&t) {
            items.push(t);
        }
    }
    let txn = db.begin().await?;
    pdi_item::Entity::delete_many()
        .filter(pdi_item::Column::StoreId.eq(store_id))
        .exec(&txn)
        .await?;
    let rows = items
        .iter()
        .enumerate()
        .map(|(n, label)| pdi_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(store_id),
            position: Set(n as i32),
            label: Set(label.clone()),
            created_at: Set(now),
        });
    pdi_item::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(items)
}

/// The handover of the car.
#[derive(InputObject, Clone, Debug)]
pub struct DeliverSalesOrderInput {
    /// The order (READY, with its PDI complete).
    pub order_id: ID,
    /// The car's VIN.
    pub vin: String,
    /// The plate.
    pub plate: Option<String>,
    /// Odometer at handover, km.
    pub mileage_km: i32,
    /// When it was handed over; default now. Never in the future.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Hands the car over: the vehicle is created (or linked) for the buyer and
/// goes the one delivery path of every vehicle (warranty, owner stage, the
/// revisit and first-service reminder); the order is delivered and the lead
/// won. All in one transaction.
pub async fn deliver<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: DeliverSalesOrderInput,
) -> ApiResult<sales_order::Model> {
    let o = writable(db, actor, &input.order_id).await?;
    if status(&o) != OrderStatus::Ready {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "only an order READY for delivery can be delivered",
        ));
    }
    if o.pdi_completed_at.is_none() {
        return Err(ApiError::field(
            "orderId",
            UserErrorCode::Conflict,
            "the PDI is not complete: every checklist line must pass before delivery",
        ));
    }
    let at = input.delivered_at.unwrap_or(now);
    if at > now {
        return Err(ApiError::field(
            "deliveredAt",
            UserErrorCode::OutOfRange,
            "deliveredAt is in the future",
        ));
    }
    let buyer = directory::find_writable(db, actor, o.customer_id, "orderId").await?;
    let tz = org::zone_of(db, o.store_id).await?;
    let txn = db.begin().await?;
    let car = NewCar {
        vin: &input.vin,
        plate: input.plate.as_deref(),
        km: input.mileage_km,
        on: task_rules::local_day(tz, at),
        brand: "长安福特",
        model: &o.model,
        trim: o.trim.as_deref(),
        colour: o.colour.as_deref(),
    };
    let (v, made) = vehicles::deliver_new(&txn, actor, &buyer, car, now).await?;
    let delivered = set_status(
        &txn,
        &o,
        OrderStatus::Delivered,
        |m| {
            m.vehicle_id = Set(Some(v.id));
            m.delivered_at = Set(Some(at));
        },
        now,
    )
    .await?;
    let cancelled = match lead::Entity::find_by_id(o.lead_id).one(&txn).await? {
        Some(l) => {
            leads::advance(&txn, &l, LeadStatus::Won, now).await?;
            leads::note(
                &txn,
                &l,
                Some(actor.staff_id),
                Channel::InPerson,
                format!("{} delivered", o.model),
                None,
                now,
            )
            .await?;
            tasks::cancel_for_subject(&txn, l.id, "won", now).await?
        }
        None => Vec::new(),
    };
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    events::publish_all(&cancelled, TaskChange::Cancelled);
    Ok(delivered)
}

/// A page of orders, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    status: Option<Vec<OrderStatus>>,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<sales_order::Model>> {
    let mut q = sales_order::Entity::find().filter(visible(actor));
    if let Some(s) = status {
        q = q.filter(sales_order::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    paging::fetch(
        db,
        q,
        Keys {
            at: Some(sales_order::Column::CreatedAt),
            id: sales_order::Column::Id,
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

/// Setting a quota.
#[derive(InputObject, Clone, Debug)]
pub struct SetSalesQuotaInput {
    /// The consultant.
    pub staff_id: ID,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Cars to deliver, 0 to 1,000.
    pub units: i32,
}

/// Sets a consultant's quota for a month (store managers).
pub async fn set_quota<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: SetSalesQuotaInput,
) -> ApiResult<sales_quota::Model> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let staff_id = ids::decode_field(&input.staff_id, NodeKind::Staff, "staffId")?;
    let ok = staff::Entity::find_by_id(staff_id)
        .filter(staff::Column::StoreId.eq(store_id))
        .filter(staff::Column::Role.eq(Role::SalesConsultant.as_str()))
        .one(db)
        .await?;
    if ok.is_none() {
        return Err(ApiError::field(
            "staffId",
            UserErrorCode::NotFound,
            "no sales consultant with that id in this store",
        ));
    }
    if rules::month(&input.month).is_none() {
        return Err(ApiError::field(
            "month",
            UserErrorCode::Invalid,
            "month is YYYY-MM",
        ));
    }
    if !(0..=1000).contains(&input.units) {
        return Err(ApiError::field(
            "units",
            UserErrorCode::OutOfRange,
            "units is 0 to 1,000",
        ));
    }
    let month = input.month.trim().to_string();
    let row = sales_quota::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        staff_id: Set(staff_id),
        month: Set(month.clone()),
        units: Set(input.units),
        updated_at: Set(now),
    };
    sales_quota::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                sales_quota::Column::StaffId,
                sales_quota::Column::Month,
            ])
            .update_columns([sales_quota::Column::Units, sales_quota::Column::UpdatedAt])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    sales_quota::Entity::find()
        .filter(sales_quota::Column::StaffId.eq(staff_id))
        .filter(sales_quota::Column::Month.eq(month))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// One consultant's month.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Performance {
    /// The consultant.
    #[graphql(skip)]
    pub staff_id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// Cars to deliver (0 when no quota is set).
    pub quota_units: i32,
    /// Orders opened in the month (not cancelled).
    pub orders: i64,
    /// Cars delivered in the month.
    pub delivered: i64,
    /// Commission earned on the month's deliveries, yuan.
    pub commission_yuan: i64,
}

#[derive(FromQueryResult)]
struct PerfSql {
    consultant_id: Uuid,
    n: i64,
    commission: Option<i64>,
}

/// Quota, orders, deliveries and commission of a month: a consultant their
/// own, a store manager the store's consultants; nobody else.
pub async fn performance<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    month: &str,
) -> ApiResult<Vec<Performance>> {
    actor.require(&[Role::SalesConsultant, Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let (first, next) =
        rules::month(month).ok_or_else(|| ApiError::BadInput("month is YYYY-MM".into()))?;
    let tz = org::zone_of(db, store_id).await?;
    let (from, to) = (
        task_rules::day_start(tz, first),
        task_rules::day_start(tz, next),
    );
    let mut people = staff::Entity::find()
        .filter(staff::Column::StoreId.eq(store_id))
        .filter(staff::Column::Role.eq(Role::SalesConsultant.as_str()));
    if actor.role == Role::SalesConsultant {
        people = people.filter(staff::Column::Id.eq(actor.staff_id));
    }
    let people: Vec<Uuid> = people
        .order_by_asc(staff::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let base = || {
        sales_order::Entity::find()
            .select_only()
            .column(sales_order::Column::ConsultantId)
            .column_as(Expr::col(sales_order::Column::Id).count(), "n")
            .filter(sales_order::Column::StoreId.eq(store_id))
            .filter(sales_order::Column::ConsultantId.is_in(people.clone()))
            .group_by(sales_order::Column::ConsultantId)
    };
    let opened: Vec<PerfSql> = base()
        .column_as(Expr::value(Option::<i64>::None), "commission")
        .filter(sales_order::Column::CreatedAt.gte(from))
        .filter(sales_order::Column::CreatedAt.lt(to))
        .filter(sales_order::Column::Status.ne(OrderStatus::Cancelled.as_str()))
        .into_model()
        .all(db)
        .await?;
    let delivered: Vec<PerfSql> = base()
        .column_as(
            // SUM of a bigint is numeric on PostgreSQL: back to bigint.
            Expr::col(sales_order::Column::CommissionYuan)
                .sum()
                .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
            "commission",
        )
        .filter(sales_order::Column::DeliveredAt.gte(from))
        .filter(sales_order::Column::DeliveredAt.lt(to))
        .into_model()
        .all(db)
        .await?;
    let quotas: HashMap<Uuid, i32> = sales_quota::Entity::find()
        .filter(sales_quota::Column::StaffId.is_in(people.clone()))
        .filter(sales_quota::Column::Month.eq(month.trim()))
        .all(db)
        .await?
        .into_iter()
        .map(|q| (q.staff_id, q.units))
        .collect();
    let opened: HashMap<Uuid, i64> = opened.into_iter().map(|r| (r.consultant_id, r.n)).collect();
    let delivered: HashMap<Uuid, (i64, i64)> = delivered
        .into_iter()
        .map(|r| (r.consultant_id, (r.n, r.commission.unwrap_or(0))))
        .collect();
    Ok(people
        .into_iter()
        .map(|id| {
            let (d, c) = delivered.get(&id).copied().unwrap_or((0, 0));
            Performance {
                staff_id: id,
                month: month.trim().to_string(),
                quota_units: quotas.get(&id).copied().unwrap_or(0),
                orders: opened.get(&id).copied().unwrap_or(0),
                delivered: d,
                commission_yuan: c,
            }
        })
        .collect())
}
