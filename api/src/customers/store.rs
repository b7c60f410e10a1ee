//! Customers in the database, always through the actor's scope.
use std::collections::HashMap;

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{
    customer, customer_log, customer_merge, customer_phone, lead, repair_order, sales_order,
    service_appointment, staff, test_drive, vehicle, vehicle_ownership, warranty_claim,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

pub use super::directory::{
    by_ids, find, find_with_vehicles, find_writable, hand_over, in_own_store_by_mobile, staff_sees,
    system_by_ids, visible, visible_ids,
};
use super::{
    directory::holder_of,
    log::{self, LogEvent},
    rules::{self, Channel, CustomerSource, Gender, LifecycleStage, LogKind},
};
use crate::{
    auth::{Actor, Role},
    error::{ApiError, ApiResult, UserError, UserErrorCode},
    idempotency,
    ids::{self, NodeKind},
    paging::{self, Page, PageArgs},
};

/// Longest name.
const MAX_NAME: usize = 50;
/// Most other phones per customer.
const MAX_OTHER_PHONES: usize = 5;

/// Other phones of many customers, for DataLoader batches.
pub async fn phones_of<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<String>>> {
    let rows = customer_phone::Entity::find()
        .filter(customer_phone::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(customer_phone::Column::Id)
        .all(db)
        .await?;
    let mut map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for r in rows {
        map.entry(r.customer_id).or_default().push(r.phone);
    }
    Ok(map)
}

/// Filters for the customer list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Part of the name, or the start of a phone number.
    pub search: Option<String>,
    /// Only this lifecycle stage.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Only customers this staff member is responsible for.
    pub responsible_staff_id: Option<ID>,
    /// Only customers of this store (for group and OEM staff).
    pub store_id: Option<ID>,
    /// Only customers nobody is responsible for yet (true): the store
    /// manager's queue of new callers and walk-ins to assign.
    pub unassigned: Option<bool>,
}

/// A page of the customers the actor may see, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: &CustomerFilter,
    args: &PageArgs,
    want_total: bool,
    cars: bool,
) -> ApiResult<Page<(customer::Model, Option<Vec<vehicle::Model>>)>> {
    let mut q = customer::Entity::find()
        .filter(visible(actor))
        .filter(customer::Column::MergedIntoId.is_null());
    if let Some(s) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if s.chars().count() > 50 {
            return Err(ApiError::BadInput(
                "search is longer than 50 characters".into(),
            ));
        }
        // `%` and `_` are letters a name may hold, not wildcards.
        let pattern =
            sea_orm::sea_query::LikeExpr::new(format!("%{}%", rules::like_escaped(s))).escape('\\');
        let mut any = Condition::any().add(sea_orm::sea_query::ExprTrait::like(
            Expr::col(customer::Column::Name),
            pattern,
        ));
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() >= 3 {
            let prefix = if digits.starts_with("86") {
                digits
            } else {
                format!("86{digits}")
            };
            any = any.add(customer::Column::Mobile.starts_with(format!("+{prefix}")));
        }
        q = q.filter(any);
    }
    match filter.unassigned {
        Some(true) => q = q.filter(customer::Column::ResponsibleStaffId.is_null()),
        Some(false) => q = q.filter(customer::Column::ResponsibleStaffId.is_not_null()),
        None => {}
    }
    if let Some(stage) = filter.lifecycle_stage {
        q = q.filter(customer::Column::LifecycleStage.eq(stage.as_str()));
    }
    if let Some(id) = &filter.responsible_staff_id {
        let staff = ids::decode(id, NodeKind::Staff)
            .ok_or_else(|| ApiError::BadInput("responsibleStaffId is not a Staff id".into()))?;
        q = q.filter(customer::Column::ResponsibleStaffId.eq(staff));
    }
    if let Some(id) = &filter.store_id {
        let store = ids::decode(id, NodeKind::Store)
            .ok_or_else(|| ApiError::BadInput("storeId is not a Store id".into()))?;
        q = q.filter(customer::Column::StoreId.eq(store));
    }
    let keys = paging::Keys {
        at: None,
        id: customer::Column::Id,
    };
    let key = |(c, _): &(customer::Model, Option<Vec<vehicle::Model>>)| paging::Cursor {
        at: None,
        id: c.id,
    };
    let newest_first = args.last.is_none();
    paging::fetch_with(db, q, keys, args, key, want_total, |page| async move {
        Ok(if cars {
            super::directory::page_with_vehicles(db, page, newest_first)
                .await?
                .into_iter()
                .map(|(c, v)| (c, Some(v)))
                .collect()
        } else {
            page.all(db).await?.into_iter().map(|c| (c, None)).collect()
        })
    })
    .await
}

/// The customer a caller's number belongs to, for a call-centre screen pop:
/// a match on the main mobile first, then on other phones, most recently
/// changed first.
pub async fn by_phone<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    raw: &str,
) -> ApiResult<Option<customer::Model>> {
    Ok(by_phone_with(db, actor, raw, false).await?.map(|(c, _)| c))
}

/// `by_phone`, with the customer's vehicles read in the same statement
/// when `vehicles` (the screen pop shows the cars).
pub async fn by_phone_with<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    raw: &str,
    vehicles: bool,
) -> ApiResult<Option<(customer::Model, Option<Vec<vehicle::Model>>)>> {
    let Ok(phone) = rules::normalize_phone(raw) else {
        return Err(ApiError::BadInput("not a valid phone number".into()));
    };
    let live = || {
        customer::Entity::find()
            .filter(visible(actor))
            .filter(customer::Column::MergedIntoId.is_null())
            .order_by_desc(customer::Column::UpdatedAt)
    };
    let first = |select: sea_orm::Select<customer::Entity>| async move {
        ApiResult::Ok(if vehicles {
            super::directory::with_vehicles(db, select)
                .await?
                .into_iter()
                .next()
                .map(|(c, cars)| (c, Some(cars)))
        } else {
            select.one(db).await?.map(|c| (c, None))
        })
    };
    if let Some(found) = first(live().filter(customer::Column::Mobile.eq(phone.clone()))).await? {
        return Ok(Some(found));
    }
    let owners = customer_phone::Entity::find()
        .select_only()
        .column(customer_phone::Column::CustomerId)
        .filter(customer_phone::Column::Phone.eq(phone))
        .into_query();
    first(live().filter(customer::Column::Id.in_subquery(owners))).await
}

/// A new customer record.
#[derive(InputObject, Clone, Debug)]
pub struct CreateCustomerInput {
    /// Full name (at most 50 characters).
    pub name: String,
    /// Main mobile; normalized to E.164 (China unless a country code is given).
    pub mobile: String,
    /// Other phone numbers (at most 5).
    #[graphql(default)]
    pub other_phones: Vec<String>,
    /// Gender.
    #[graphql(default_with = "Gender::Unknown")]
    pub gender: Gender,
    /// City.
    pub city: Option<String>,
    /// Where the customer came from.
    #[graphql(default_with = "CustomerSource::WalkIn")]
    pub source: CustomerSource,
    /// Lifecycle stage.
    #[graphql(default_with = "LifecycleStage::Prospect")]
    pub lifecycle_stage: LifecycleStage,
    /// The customer agreed to marketing messages.
    #[graphql(default)]
    pub marketing_consent: bool,
    /// The customer agreed that the dealer group and OEM may see the record.
    #[graphql(default)]
    pub sharing_consent: bool,
    /// Responsible staff member; managers may name anyone active in the
    /// store, a consultant's own customers are always theirs.
    pub responsible_staff_id: Option<ID>,
    /// A client-chosen key: retrying with the same key never creates twice.
    pub idempotency_key: Option<String>,
}

/// Changes to a customer; fields left out keep their value.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateCustomerInput {
    /// The customer.
    pub id: ID,
    /// Full name.
    pub name: Option<String>,
    /// Main mobile.
    pub mobile: Option<String>,
    /// Replaces the list of other phones.
    pub other_phones: Option<Vec<String>>,
    /// Gender.
    pub gender: Option<Gender>,
    /// City (empty text clears it).
    pub city: Option<String>,
    /// Lifecycle stage.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Marketing consent.
    pub marketing_consent: Option<bool>,
    /// Cross-store sharing consent.
    pub sharing_consent: Option<bool>,
    /// New responsible staff member (managers only).
    pub responsible_staff_id: Option<ID>,
}

async fn check_responsible<C: ConnectionTrait>(db: &C, store_id: Uuid, id: Uuid) -> ApiResult<()> {
    let found = staff::Entity::find_by_id(id)
        .filter(staff::Column::StoreId.eq(store_id))
        .filter(staff::Column::Active.eq(true))
        .one(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::field(
            "responsibleStaffId",
            UserErrorCode::NotFound,
            "no active staff member with that id in this store",
        )),
    }
}

fn other_phones(raw: &[String], mobile: &str) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_OTHER_PHONES {
        return Err(ApiError::field(
            "otherPhones",
            UserErrorCode::TooLong,
            "at most 5 other phones",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for p in raw {
        let p = rules::phone_field(p, "otherPhones")?;
        if p != mobile && !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

async fn replace_phones<C: ConnectionTrait>(
    db: &C,
    c: &customer::Model,
    phones: &[String],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    customer_phone::Entity::delete_many()
        .filter(customer_phone::Column::CustomerId.eq(c.id))
        .exec(db)
        .await?;
    add_phones(db, c, phones, now).await
}

/// Adds other phones to a customer (a new one has none to replace).
async fn add_phones<C: ConnectionTrait>(
    db: &C,
    c: &customer::Model,
    phones: &[String],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for p in phones {
        customer_phone::Entity::insert(customer_phone::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(c.store_id),
            customer_id: Set(c.id),
            phone: Set(p.clone()),
            label: Set(None),
            created_at: Set(now),
        })
        .exec(db)
        .await?;
    }
    Ok(())
}

/// One customer per person stays; the answer helps instead of acting as an
/// oracle: the id only to those who may open the record, otherwise the name
/// of the responsible staff member and the way to ask for a handover.
pub async fn duplicate_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    store_id: Uuid,
    mobile: &str,
) -> ApiResult<ApiError> {
    Ok(match holder_of(db, store_id, mobile).await? {
        Some(c) if find(db, actor, c.id).await?.is_some() => {
            let id = ids::encode(NodeKind::Customer, c.id);
            UserError::duplicate(
                "mobile",
                format!("a customer with this mobile already exists: {}", id.0),
                id,
            )
            .into()
        }
        Some(c) => {
            let holder = match c.responsible_staff_id {
                Some(s) => staff::Entity::find_by_id(s).one(db).await?.map(|s| s.name),
                None => None,
            };
            let message = match &holder {
                Some(name) => format!(
                    "this mobile belongs to a customer of {name}; ask the store manager to hand them over (requestCustomerHandover)"
                ),
                None => "this mobile belongs to a customer without a responsible consultant; ask the store manager (requestCustomerHandover)".to_string(),
            };
            UserError {
                held_by: Some(holder.unwrap_or_default()),
                ..UserError::at("mobile", UserErrorCode::Duplicate, message)
            }
            .into()
        }
        None => ApiError::field(
            "mobile",
            UserErrorCode::Conflict,
            "this mobile was just taken; try again",
        ),
    })
}

const CREATE_CUSTOMER: &str = "createCustomer";

/// Creates a customer in the actor's store. A mobile already on file gives
/// DUPLICATE naming that customer; the database's unique index decides.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateCustomerInput,
) -> ApiResult<customer::Model> {
    let store_id = actor.own_store()?;
    let key = idempotency::check_key(input.idempotency_key.as_deref())?;
    if let Some(k) = &key {
        if let Some(id) = idempotency::earlier(db, actor, CREATE_CUSTOMER, k).await? {
            return find(db, actor, id).await?.ok_or(ApiError::NotFound);
        }
    }
    let checked = rules::collect(vec![
        rules::text(&input.name, "name", MAX_NAME),
        rules::mobile_field(&input.mobile, "mobile"),
        rules::opt_text(input.city.as_deref(), "city", 50).map(|c| c.unwrap_or_default()),
    ])?;
    let (name, mobile, city) = (checked[0].clone(), checked[1].clone(), checked[2].clone());
    let phones = other_phones(&input.other_phones, &mobile)?;
    let responsible = match (
        actor.role,
        ids::decode_opt(
            input.responsible_staff_id.as_ref(),
            NodeKind::Staff,
            "responsibleStaffId",
        )?,
    ) {
        (Role::SalesConsultant, Some(id)) if id != actor.staff_id => {
            return Err(ApiError::field(
                "responsibleStaffId",
                UserErrorCode::NotAllowed,
                "consultants create customers for themselves",
            ))
        }
        (_, Some(id)) => Some(id),
        (Role::SalesConsultant, None) => Some(actor.staff_id),
        (_, None) => None,
    };
    if let Some(id) = responsible {
        check_responsible(db, store_id, id).await?;
    }
    let model = customer::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        name: Set(name.clone()),
        mobile: Set(mobile.clone()),
        gender: Set(input.gender.as_str().into()),
        city: Set(Some(city).filter(|c| !c.is_empty())),
        source: Set(input.source.as_str().into()),
        lifecycle_stage: Set(input.lifecycle_stage.as_str().into()),
        marketing_consent: Set(input.marketing_consent),
        sharing_consent: Set(input.sharing_consent),
        responsible_staff_id: Set(responsible),
        merged_into_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let created = match insert_new(&txn, model, &phones, Some(actor.staff_id), now).await {
        Ok(c) => c,
        Err(ApiError::Db(e)) if ApiError::is_unique_violation(&e) => {
            drop(txn);
            return Err(duplicate_of(db, actor, store_id, &mobile).await?);
        }
        Err(e) => return Err(e),
    };
    if let Some(k) = &key {
        idempotency::remember(&txn, actor, CREATE_CUSTOMER, k, created.id, now).await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Writes a new, already validated customer with their other phones, the
/// log entry and (when nobody is responsible) the managers' notice, in the
/// caller's transaction. A mobile already on file comes back as the
/// database's unique violation (`ApiError::Db`) for the caller to answer.
/// `by` is the staff member who created it (none for a webhook's lead).
pub async fn insert_new<C: ConnectionTrait>(
    txn: &C,
    model: customer::ActiveModel,
    phones: &[String],
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<customer::Model> {
    let created = customer::Entity::insert(model)
        .exec_with_returning(txn)
        .await?;
    add_phones(txn, &created, phones, now).await?;
    log::append(
        txn,
        LogEvent {
            store_id: created.store_id,
            customer_id: created.id,
            kind: LogKind::Created,
            channel: Channel::System,
            staff_id: by,
            summary: format!(
                "Customer {} created (source {})",
                created.name, created.source
            ),
            outcome: None,
            subject: None,
            occurred_at: now,
        },
        now,
    )
    .await?;
    if created.responsible_staff_id.is_none() {
        tell_managers_unassigned(txn, &created, now).await?;
    }
    Ok(created)
}

/// A prospect as a lead brings them: name, mobile (E.164, checked), where
/// they came from and who is responsible. For `insert_new`.
pub fn prospect(
    store_id: Uuid,
    name: String,
    mobile: String,
    source: CustomerSource,
    responsible: Option<Uuid>,
    now: DateTime<Utc>,
) -> customer::ActiveModel {
    customer::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        name: Set(name),
        mobile: Set(mobile),
        gender: Set(Gender::Unknown.as_str().into()),
        city: Set(None),
        source: Set(source.as_str().into()),
        lifecycle_stage: Set(LifecycleStage::Prospect.as_str().into()),
        marketing_consent: Set(false),
        sharing_consent: Set(false),
        responsible_staff_id: Set(responsible),
        merged_into_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Makes a staff member responsible for a customer with their new sales
/// lead, with a log entry naming who decided (`by`; none for a rule such
/// as a webhook's round-robin).
pub async fn make_responsible<C: ConnectionTrait>(
    db: &C,
    c: &customer::Model,
    to: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if c.responsible_staff_id == Some(to) {
        return Ok(());
    }
    customer::Entity::update_many()
        .col_expr(customer::Column::ResponsibleStaffId, Expr::value(to))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    log::append(
        db,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.id,
            kind: LogKind::Assigned,
            channel: Channel::System,
            staff_id: by,
            summary: "Customer assigned with their sales lead".into(),
            outcome: None,
            subject: Some(("Staff", to)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

/// A new customer nobody is responsible for waits in the store manager's
/// queue (`customers(filter: {unassigned: true})`), and the managers are
/// told in-app, so that a care agent's new caller is not forgotten.
async fn tell_managers_unassigned<C: ConnectionTrait>(
    db: &C,
    c: &customer::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    use crate::tasks::outbox::{enqueue_many, NewNotification};
    let managers = crate::org::store::store_managers(db, c.store_id).await?;
    let notices = managers
        .into_iter()
        .map(|m| {
            let key = format!("unassigned:{}:{m}", c.id);
            let vars = serde_json::json!({});
            NewNotification::in_app(c.store_id, m, "customer_unassigned", vars, None, key, now)
        })
        .collect();
    enqueue_many(db, notices, now).await?;
    Ok(())
}

/// Changes a customer the actor may write.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: UpdateCustomerInput,
) -> ApiResult<customer::Model> {
    let id = ids::decode_field(&input.id, NodeKind::Customer, "id")?;
    let current = find_writable(db, actor, id, "id").await?;
    let mut m: customer::ActiveModel = current.clone().into();
    let mut changed: Vec<&str> = Vec::new();
    if let Some(n) = &input.name {
        m.name = Set(rules::text(n, "name", MAX_NAME)?);
        changed.push("name");
    }
    let mobile = match &input.mobile {
        Some(p) => {
            let p = rules::mobile_field(p, "mobile")?;
            m.mobile = Set(p.clone());
            changed.push("mobile");
            p
        }
        None => current.mobile.clone(),
    };
    if let Some(g) = input.gender {
        m.gender = Set(g.as_str().into());
        changed.push("gender");
    }
    if let Some(c) = &input.city {
        m.city = Set(rules::opt_text(Some(c), "city", 50)?);
        changed.push("city");
    }
    if let Some(s) = input.lifecycle_stage {
        m.lifecycle_stage = Set(s.as_str().into());
        changed.push("lifecycle stage");
    }
    if let Some(v) = input.marketing_consent {
        m.marketing_consent = Set(v);
        changed.push("marketing consent");
    }
    if let Some(v) = input.sharing_consent {
        m.sharing_consent = Set(v);
        changed.push("sharing consent");
    }
    let mut reassigned = None;
    if let Some(staff_id) = ids::decode_opt(
        input.responsible_staff_id.as_ref(),
        NodeKind::Staff,
        "responsibleStaffId",
    )? {
        if !matches!(actor.role, Role::StoreManager) {
            return Err(ApiError::field(
                "responsibleStaffId",
                UserErrorCode::NotAllowed,
                "only the store manager reassigns customers",
            ));
        }
        check_responsible(db, current.store_id, staff_id).await?;
        m.responsible_staff_id = Set(Some(staff_id));
        reassigned = Some(staff_id);
    }
    let phones = match &input.other_phones {
        Some(p) => Some(other_phones(p, &mobile)?),
        None => None,
    };
    m.updated_at = Set(now);
    let txn = db.begin().await?;
    let updated = match m.update(&txn).await {
        Ok(c) => c,
        Err(e) if ApiError::is_unique_violation(&e) => {
            drop(txn);
            return Err(duplicate_of(db, actor, current.store_id, &mobile).await?);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(p) = &phones {
        replace_phones(&txn, &updated, p, now).await?;
        changed.push("other phones");
    }
    let event = |kind, summary| LogEvent {
        store_id: updated.store_id,
        customer_id: updated.id,
        kind,
        channel: Channel::System,
        staff_id: Some(actor.staff_id),
        summary,
        outcome: None,
        subject: None,
        occurred_at: now,
    };
    if !changed.is_empty() {
        log::append(
            &txn,
            event(LogKind::Updated, format!("Changed {}", changed.join(", "))),
            now,
        )
        .await?;
    }
    if let Some(to) = reassigned {
        log::append(
            &txn,
            event(LogKind::Assigned, "Responsible staff member changed".into()),
            now,
        )
        .await?;
        tracing::info!(customer = %updated.id, to = %to, "customer reassigned");
    }
    txn.commit().await?;
    Ok(updated)
}

/// Two records of one person, to merge.
#[derive(InputObject, Clone, Debug)]
pub struct MergeCustomersInput {
    /// The record that stays.
    pub survivor_id: ID,
    /// The record folded into it.
    pub merged_id: ID,
}

/// Merges `merged` into `survivor`: vehicles, ownership history, phones,
/// leads, test drives, orders and the whole log move; the merged record points at the survivor so that old
/// links follow; the merge itself is recorded with a snapshot.
pub async fn merge<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: MergeCustomersInput,
) -> ApiResult<customer::Model> {
    actor.require(&[Role::StoreManager, Role::CareAgent])?;
    let survivor_id = ids::decode_field(&input.survivor_id, NodeKind::Customer, "survivorId")?;
    let merged_id = ids::decode_field(&input.merged_id, NodeKind::Customer, "mergedId")?;
    let survivor = find_writable(db, actor, survivor_id, "survivorId").await?;
    let merged = find_writable(db, actor, merged_id, "mergedId").await?;
    if survivor.id == merged.id {
        return Err(ApiError::field(
            "mergedId",
            UserErrorCode::Invalid,
            "a customer cannot be merged into itself",
        ));
    }
    let txn = db.begin().await?;
    vehicle::Entity::update_many()
        .col_expr(vehicle::Column::OwnerId, Expr::value(survivor.id))
        .filter(vehicle::Column::OwnerId.eq(merged.id))
        .exec(&txn)
        .await?;
    vehicle_ownership::Entity::update_many()
        .col_expr(
            vehicle_ownership::Column::CustomerId,
            Expr::value(survivor.id),
        )
        .filter(vehicle_ownership::Column::CustomerId.eq(merged.id))
        .exec(&txn)
        .await?;
    // The retired record's sales go with it: its leads, test drives and
    // orders belong to the survivor now.
    let moved_leads: Vec<Uuid> = lead::Entity::update_many()
        .col_expr(lead::Column::CustomerId, Expr::value(survivor.id))
        .filter(lead::Column::CustomerId.eq(merged.id))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    test_drive::Entity::update_many()
        .col_expr(test_drive::Column::CustomerId, Expr::value(survivor.id))
        .filter(test_drive::Column::CustomerId.eq(merged.id))
        .exec(&txn)
        .await?;
    // So do its service records: visits, bookings and claims.
    macro_rules! follow_merge {
        ($($table:ident),+) => {$(
            $table::Entity::update_many()
                .col_expr($table::Column::CustomerId, Expr::value(survivor.id))
                .filter($table::Column::CustomerId.eq(merged.id))
                .exec(&txn)
                .await?;
        )+};
    }
    follow_merge!(
        sales_order,
        repair_order,
        service_appointment,
        warranty_claim
    );
    let moved_log = customer_log::Entity::update_many()
        .col_expr(customer_log::Column::CustomerId, Expr::value(survivor.id))
        .filter(customer_log::Column::CustomerId.eq(merged.id))
        .exec(&txn)
        .await?
        .rows_affected;
    let mut phones: Vec<String> = phones_of(&txn, &[survivor.id, merged.id])
        .await?
        .into_values()
        .flatten()
        .chain(std::iter::once(merged.mobile.clone()))
        .filter(|p| *p != survivor.mobile)
        .collect();
    phones.sort();
    phones.dedup();
    customer_phone::Entity::delete_many()
        .filter(customer_phone::Column::CustomerId.eq(merged.id))
        .exec(&txn)
        .await?;
    replace_phones(&txn, &survivor, &phones, now).await?;
    let mut s: customer::ActiveModel = survivor.clone().into();
    if survivor.city.is_none() {
        s.city = Set(merged.city.clone());
    }
    if survivor.responsible_staff_id.is_none() {
        s.responsible_staff_id = Set(merged.responsible_staff_id);
    }
    // Consent is never widened by a merge: both records must have it.
    s.marketing_consent = Set(survivor.marketing_consent && merged.marketing_consent);
    s.sharing_consent = Set(survivor.sharing_consent && merged.sharing_consent);
    s.updated_at = Set(now);
    let survivor_after = s.update(&txn).await?;
    // Work and messages follow the person: the survivor's lists are whole.
    let mut moved_tasks =
        crate::tasks::store::follow_merge(&txn, merged.id, survivor.id, now).await?;
    // One customer, one consultant: the retired record's open leads and
    // their live work go to the survivor's consultant.
    if let Some(to) = survivor_after.responsible_staff_id {
        if crate::org::store::active_consultant(&txn, survivor.store_id, to).await? {
            let handed = lead::Entity::update_many()
                .col_expr(lead::Column::ConsultantId, Expr::value(to))
                .col_expr(lead::Column::UpdatedAt, Expr::value(now))
                .filter(lead::Column::Id.is_in(moved_leads))
                .filter(lead::Column::ClosedAt.is_null())
                .filter(
                    Condition::any()
                        .add(lead::Column::ConsultantId.is_null())
                        .add(lead::Column::ConsultantId.ne(to)),
                )
                .exec_with_returning(&txn)
                .await?;
            for l in handed {
                moved_tasks
                    .extend(crate::tasks::store::give_subject_to(&txn, l.id, to, now).await?);
            }
        }
    }
    crate::tasks::outbox::follow_merge(&txn, merged.id, survivor.id, now).await?;
    let mut g: customer::ActiveModel = merged.clone().into();
    g.merged_into_id = Set(Some(survivor.id));
    g.updated_at = Set(now);
    g.update(&txn).await?;
    let snapshot = serde_json::json!({
        "name": merged.name, "mobile": merged.mobile, "gender": merged.gender,
        "city": merged.city, "source": merged.source, "lifecycleStage": merged.lifecycle_stage,
        "marketingConsent": merged.marketing_consent, "sharingConsent": merged.sharing_consent,
        "responsibleStaffId": merged.responsible_staff_id, "createdAt": merged.created_at,
        "logEntriesMoved": moved_log,
    });
    customer_merge::Entity::insert(customer_merge::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(survivor.store_id),
        survivor_id: Set(survivor.id),
        merged_id: Set(merged.id),
        merged_by: Set(actor.staff_id),
        snapshot: Set(snapshot),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    log::append(
        &txn,
        LogEvent {
            store_id: survivor.store_id,
            customer_id: survivor.id,
            kind: LogKind::Merged,
            channel: Channel::System,
            staff_id: Some(actor.staff_id),
            summary: format!(
                "Merged duplicate record {} ({})",
                merged.name, merged.mobile
            ),
            outcome: None,
            subject: Some(("Customer", merged.id)),
            occurred_at: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    crate::tasks::events::publish_all(&moved_tasks, crate::tasks::events::TaskChange::Changed);
    Ok(survivor_after)
}

/// A contact or note recorded by hand.
#[derive(InputObject, Clone, Debug)]
pub struct RecordContactInput {
    /// The customer.
    pub customer_id: ID,
    /// CONTACT, VISIT or NOTE.
    #[graphql(default_with = "LogKind::Contact")]
    pub kind: LogKind,
    /// How it happened.
    #[graphql(default_with = "Channel::Phone")]
    pub channel: Channel,
    /// What was said or done (at most 2000 characters).
    pub summary: String,
    /// The result (at most 500 characters).
    pub outcome: Option<String>,
    /// When it happened; default now. Never in the future.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Adds a hand-written entry to a customer's log.
pub async fn record_contact<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: RecordContactInput,
) -> ApiResult<customer_log::Model> {
    let id = ids::decode_field(&input.customer_id, NodeKind::Customer, "customerId")?;
    if !matches!(
        input.kind,
        LogKind::Contact | LogKind::Visit | LogKind::Note
    ) {
        return Err(ApiError::field(
            "kind",
            UserErrorCode::Invalid,
            "record CONTACT, VISIT or NOTE; other kinds are written by their own workflows",
        ));
    }
    let c = find_writable(db, actor, id, "customerId").await?;
    let summary = rules::text(&input.summary, "summary", 2000)?;
    let outcome = rules::opt_text(input.outcome.as_deref(), "outcome", 500)?;
    let at = input.occurred_at.unwrap_or(now);
    if at > now + chrono::Duration::minutes(5) {
        return Err(ApiError::field(
            "occurredAt",
            UserErrorCode::OutOfRange,
            "occurredAt is in the future",
        ));
    }
    log::append(
        db,
        LogEvent {
            store_id: c.store_id,
            customer_id: c.id,
            kind: input.kind,
            channel: input.channel,
            staff_id: Some(actor.staff_id),
            summary,
            outcome,
            subject: None,
            occurred_at: at,
        },
        now,
    )
    .await
}

/// Hands every customer of one staff member to another (deactivation).
/// Returns how many moved; each gets a log entry.
pub async fn reassign_all<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let ids: Vec<(Uuid, Uuid)> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .column(customer::Column::StoreId)
        .filter(customer::Column::ResponsibleStaffId.eq(from))
        .into_tuple()
        .all(db)
        .await?;
    customer::Entity::update_many()
        .col_expr(customer::Column::ResponsibleStaffId, Expr::value(to))
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::ResponsibleStaffId.eq(from))
        .exec(db)
        .await?;
    for (customer_id, store_id) in &ids {
        log::append(
            db,
            LogEvent {
                store_id: *store_id,
                customer_id: *customer_id,
                kind: LogKind::Assigned,
                channel: Channel::System,
                staff_id: Some(actor.staff_id),
                summary: "Responsible staff member left; customer handed over".into(),
                outcome: None,
                subject: Some(("Staff", to)),
                occurred_at: now,
            },
            now,
        )
        .await?;
    }
    Ok(ids.len() as u64)
}

/// A delivery makes a prospect an owner: the lifecycle stage moves from
/// PROSPECT to NEW_OWNER by itself (later stages are left alone).
pub async fn became_owner<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    customer::Entity::update_many()
        .col_expr(
            customer::Column::LifecycleStage,
            Expr::value(LifecycleStage::NewOwner.as_str()),
        )
        .col_expr(customer::Column::UpdatedAt, Expr::value(now))
        .filter(customer::Column::Id.eq(customer_id))
        .filter(customer::Column::LifecycleStage.eq(LifecycleStage::Prospect.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// How many live customers a staff member is responsible for.
pub async fn count_responsible<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(customer::Entity::find()
        .filter(customer::Column::ResponsibleStaffId.eq(staff_id))
        .count(db)
        .await?)
}
