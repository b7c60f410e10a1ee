//! Recalls and service campaigns: OEM staff name the affected VINs (a
//! pasted list or a CSV file), each store sees its own affected cars and
//! the engine gives its advisors a contact task per car; a booking and the
//! visit that does the work move each car on, and the OEM follows the
//! completion rate per store. Progress carries counts only; the cars and
//! their owners are shown through scoped fields.
use std::collections::{BTreeMap, HashMap, HashSet};

use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{campaign, campaign_vehicle, vehicle};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::rules::{self, CampaignKind, CampaignVehicleStatus};
use crate::{
    auth::{actor::Reach, Actor, Role},
    customers::rules::{self as text_rules, normalize_vin},
    error::{ApiError, ApiResult, UserError, UserErrorCode},
    ids::{self, NodeKind},
    org::{rules as org_rules, store as org},
    paging::{self, Page, PageArgs},
    tasks::{
        events::{self, TaskChange},
        rules as task_rules,
        store::{self as tasks, RuleTarget, Subject},
    },
};

/// Most VINs in one campaign list.
const MAX_VINS: usize = 50_000;

/// A new recall or campaign.
#[derive(InputObject, Clone, Debug)]
pub struct CreateCampaignInput {
    /// The OEM's code, unique in its network, e.g. 24S31.
    pub code: String,
    /// Title, e.g. 燃油泵更换召回.
    pub title: String,
    /// RECALL or SERVICE_CAMPAIGN.
    pub kind: CampaignKind,
    /// What the stores do.
    pub description: Option<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day, if any.
    pub ends_on: Option<NaiveDate>,
    /// The affected VINs: one or more per line, or a CSV file's text with a
    /// `vin` column. At most 50,000.
    pub vins: String,
}

/// A campaign created, and the lines refused.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CampaignImport {
    /// The campaign (None when nothing was created).
    #[graphql(skip)]
    pub campaign: Option<campaign::Model>,
    /// Cars of the network matched.
    pub affected: i32,
    /// Lines refused (`vins.3`: that line's VIN), or why nothing was
    /// created; the rest is imported.
    pub user_errors: Vec<UserError>,
}

/// Creates a campaign over the VINs of the OEM's network (OEM staff): a
/// bad or unknown VIN is refused by its line and the rest imported; each
/// matched car's store gets a contact task for it.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateCampaignInput,
) -> ApiResult<CampaignImport> {
    actor.require(&[Role::OemStaff])?;
    let code = text_rules::text(&input.code, "code", 30)?;
    let title = text_rules::text(&input.title, "title", 100)?;
    let description = text_rules::opt_text(input.description.as_deref(), "description", 2000)?;
    if input.ends_on.is_some_and(|e| e < input.starts_on) {
        return Err(ApiError::field(
            "endsOn",
            UserErrorCode::OutOfRange,
            "the campaign ends before it starts",
        ));
    }
    let lines = rules::vin_list(&input.vins);
    if lines.is_empty() {
        return Err(ApiError::field(
            "vins",
            UserErrorCode::Required,
            "name the affected VINs",
        ));
    }
    if lines.len() > MAX_VINS {
        return Err(ApiError::field(
            "vins",
            UserErrorCode::OutOfRange,
            format!("at most {MAX_VINS} VINs in one campaign"),
        ));
    }
    let mut refused = Vec::new();
    let mut wanted: Vec<(usize, String)> = Vec::new();
    let mut seen = HashSet::new();
    for (line, raw) in lines {
        match normalize_vin(&raw) {
            Ok(vin) if seen.insert(vin.clone()) => wanted.push((line, vin)),
            Ok(_) => {}
            Err(m) => refused.push(UserError::at(
                &format!("vins.{line}"),
                UserErrorCode::InvalidVin,
                format!("{raw}: {m}"),
            )),
        }
    }
    let mut cars: HashMap<String, Vec<vehicle::Model>> = HashMap::new();
    let vins: Vec<String> = wanted.iter().map(|(_, v)| v.clone()).collect();
    for chunk in vins.chunks(1000) {
        let found = vehicle::Entity::find()
            .filter(vehicle::Column::Vin.is_in(chunk.iter().cloned()))
            .filter(vehicle::Column::StoreId.in_subquery(actor.store_ids_query()))
            .all(db)
            .await?;
        for v in found {
            cars.entry(v.vin.clone()).or_default().push(v);
        }
    }
    for (line, vin) in &wanted {
        if !cars.contains_key(vin) {
            refused.push(UserError::at(
                &format!("vins.{line}"),
                UserErrorCode::NotFound,
                format!("{vin}: no store of the network has this car"),
            ));
        }
    }
    refused.sort_by_key(|e| {
        e.field
            .as_ref()
            .and_then(|f| f.get(2)?.parse::<usize>().ok())
    });
    let kind_zh = input.kind.label_zh();
    let row = campaign::ActiveModel {
        id: Set(Uuid::now_v7()),
        oem_id: Set(actor.oem_id),
        code: Set(code),
        title: Set(title.clone()),
        kind: Set(input.kind.as_str().into()),
        description: Set(description),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        created_by: Set(actor.staff_id),
        created_at: Set(now),
    };
    let txn = db.begin().await?;
    let c = match campaign::Entity::insert(row)
        .exec_with_returning(&txn)
        .await
    {
        Ok(c) => c,
        Err(e) if ApiError::is_unique_violation(&e) => {
            drop(txn);
            return Err(ApiError::field(
                "code",
                UserErrorCode::Duplicate,
                "the network has a campaign with this code",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let matched: Vec<&vehicle::Model> = cars.values().flatten().collect();
    let rows: Vec<campaign_vehicle::ActiveModel> = matched
        .iter()
        .map(|v| campaign_vehicle::ActiveModel {
            id: Set(Uuid::now_v7()),
            campaign_id: Set(c.id),
            store_id: Set(v.store_id),
            vehicle_id: Set(v.id),
            vin: Set(v.vin.clone()),
            status: Set(CampaignVehicleStatus::Affected.as_str().into()),
            repair_order_id: Set(None),
            updated_at: Set(now),
        })
        .collect();
    let mut made_rows = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(1000) {
        made_rows.extend(
            campaign_vehicle::Entity::insert_many(chunk.to_vec())
                .exec_with_returning(&txn)
                .await?,
        );
    }
    let by_vehicle: HashMap<Uuid, &vehicle::Model> = matched.iter().map(|v| (v.id, *v)).collect();
    let mut calendars = HashMap::new();
    let mut made = Vec::new();
    for cv in &made_rows {
        let Some(v) = by_vehicle.get(&cv.vehicle_id) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = calendars.entry(v.store_id) {
            e.insert(org::calendar(&txn, v.store_id).await?);
        }
        let Some((s, tz)) = calendars.get(&v.store_id) else {
            continue;
        };
        let today = org_rules::local_day(*tz, now);
        let spec = task_rules::campaign_contact(
            s,
            *tz,
            today,
            format!("{kind_zh}：{title}（{}）", v.model),
        );
        let about = RuleTarget {
            store_id: v.store_id,
            customer_id: v.owner_id,
            vehicle_id: Some(v.id),
            subject: Subject {
                kind: "CampaignVehicle",
                id: cv.id,
            },
            created_by: Some(actor.staff_id),
            assignee_id: None,
            step: None,
        };
        made.extend(tasks::create_with_settings(&txn, s, &about, vec![spec], now).await?);
    }
    txn.commit().await?;
    events::publish_all(&made, TaskChange::Created);
    Ok(CampaignImport {
        campaign: Some(c),
        affected: made_rows.len() as i32,
        user_errors: refused,
    })
}

/// The campaigns of the actor's OEM, newest first (a campaign carries no
/// customer data; every staff member of the network may read them).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<campaign::Model>> {
    let q = campaign::Entity::find().filter(campaign::Column::OemId.eq(actor.oem_id));
    paging::by_id(db, q, campaign::Column::Id, args, want_total).await
}

/// A campaign by id, if of the actor's OEM.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<campaign::Model>> {
    Ok(campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OemId.eq(actor.oem_id))
        .one(db)
        .await?)
}

/// One store's progress on a campaign.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
#[graphql(complex)]
pub struct CampaignProgress {
    /// The store (`store`).
    #[graphql(skip)]
    pub store_id: Uuid,
    /// Cars of the store the campaign names.
    pub affected: i64,
    /// Of them, booked in and not yet done.
    pub booked: i64,
    /// Of them, done.
    pub done: i64,
    /// Done as a share of affected.
    pub completion_rate: f64,
}

#[derive(FromQueryResult)]
struct StatusCount {
    store_id: Uuid,
    status: String,
    n: i64,
}

/// Progress per store of the actor's reach: their own store for store
/// staff, the group's stores or the whole network otherwise.
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    campaign_id: Uuid,
) -> ApiResult<Vec<CampaignProgress>> {
    let rows = campaign_vehicle::Entity::find()
        .select_only()
        .column(campaign_vehicle::Column::StoreId)
        .column(campaign_vehicle::Column::Status)
        .column_as(campaign_vehicle::Column::Id.count(), "n")
        .filter(campaign_vehicle::Column::CampaignId.eq(campaign_id))
        .filter(campaign_vehicle::Column::StoreId.in_subquery(actor.store_ids_query()))
        .group_by(campaign_vehicle::Column::StoreId)
        .group_by(campaign_vehicle::Column::Status)
        .into_model::<StatusCount>()
        .all(db)
        .await?;
    let mut per: BTreeMap<Uuid, (i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = per.entry(r.store_id).or_default();
        e.0 += r.n;
        match CampaignVehicleStatus::parse(&r.status) {
            Some(CampaignVehicleStatus::Booked) => e.1 += r.n,
            Some(CampaignVehicleStatus::Done) => e.2 += r.n,
            _ => {}
        }
    }
    Ok(per
        .into_iter()
        .map(|(store_id, (affected, booked, done))| CampaignProgress {
            store_id,
            affected,
            booked,
            done,
            completion_rate: if affected > 0 {
                done as f64 / affected as f64
            } else {
                0.0
            },
        })
        .collect())
}

/// A store's cars named by a campaign (store staff other than consultants:
/// the cars' owners are the store's customers).
pub async fn vehicles<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    campaign_id: Uuid,
    status: Option<Vec<CampaignVehicleStatus>>,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<campaign_vehicle::Model>> {
    let store = match actor.reach() {
        Reach::Store(s) if actor.role != Role::SalesConsultant => s,
        _ => return Err(ApiError::Forbidden),
    };
    let mut q = campaign_vehicle::Entity::find()
        .filter(campaign_vehicle::Column::CampaignId.eq(campaign_id))
        .filter(campaign_vehicle::Column::StoreId.eq(store));
    if let Some(s) = status {
        q = q.filter(campaign_vehicle::Column::Status.is_in(s.iter().map(|s| s.as_str())));
    }
    paging::by_id(db, q, campaign_vehicle::Column::Id, args, want_total).await
}

/// The campaign named in an input.
pub fn campaign_id(id: &ID) -> ApiResult<Uuid> {
    ids::decode_field(id, NodeKind::Campaign, "campaignId")
}

/// The car's row of a campaign.
pub async fn for_vehicle<C: ConnectionTrait>(
    db: &C,
    campaign_id: Uuid,
    vehicle_id: Uuid,
) -> ApiResult<campaign_vehicle::Model> {
    campaign_vehicle::Entity::find()
        .filter(campaign_vehicle::Column::CampaignId.eq(campaign_id))
        .filter(campaign_vehicle::Column::VehicleId.eq(vehicle_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "campaignId",
                UserErrorCode::NotFound,
                "this car is not named by that campaign",
            )
        })
}

/// A booking or a check-in for the campaign: the car moves to BOOKED (a
/// repair order is remembered for its completion) and its contact task is
/// done. In the caller's transaction; returns the tasks closed.
pub async fn booked<C: ConnectionTrait>(
    db: &C,
    cv: &campaign_vehicle::Model,
    order: Option<Uuid>,
    by: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<entity::task::Model>> {
    if cv.status == CampaignVehicleStatus::Done.as_str() {
        return Ok(Vec::new());
    }
    let mut m: campaign_vehicle::ActiveModel = cv.clone().into();
    m.status = Set(CampaignVehicleStatus::Booked.as_str().into());
    if order.is_some() {
        m.repair_order_id = Set(order);
    }
    m.updated_at = Set(now);
    campaign_vehicle::Entity::update(m).exec(db).await?;
    let rule = [task_rules::CAMPAIGN_CONTACT];
    tasks::done_for_subject_rules(db, cv.id, &rule, "booked", by, now).await
}

/// A visit handed back: the campaign cars it was opened for are done.
pub async fn done_by<C: ConnectionTrait>(db: &C, order: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    campaign_vehicle::Entity::update_many()
        .col_expr(
            campaign_vehicle::Column::Status,
            sea_orm::sea_query::Expr::value(CampaignVehicleStatus::Done.as_str()),
        )
        .col_expr(
            campaign_vehicle::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(
            Condition::all()
                .add(campaign_vehicle::Column::RepairOrderId.eq(order))
                .add(campaign_vehicle::Column::Status.ne(CampaignVehicleStatus::Done.as_str())),
        )
        .exec(db)
        .await?;
    Ok(())
}
