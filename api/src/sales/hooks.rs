//! Leads posted by car portals and the store website: POST /hooks/leads,
//! signed with the source's secret (HMAC-SHA256 over the raw body),
//! idempotent by the source's own lead id.
use async_graphql::{InputObject, ID};
use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use entity::{lead, lead_source};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::{
    leads::{self, NewLead},
    rules::{LeadGrade, PurchaseTiming},
};
use crate::{
    auth::{Actor, Role},
    customers::{
        directory,
        rules::{self as text_rules, CustomerSource},
        store as customers,
    },
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    tasks::events::{self, TaskChange},
};

/// Header naming the source (its global id).
pub const SOURCE_HEADER: &str = "x-lead-source";
/// Header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-signature";

/// A new webhook source.
#[derive(InputObject, Clone, Debug)]
pub struct CreateLeadSourceInput {
    /// Name, e.g. 汽车之家 (unique in the store).
    pub name: String,
    /// The channel its leads count under.
    #[graphql(default_with = "CustomerSource::CarPortal")]
    pub channel: CustomerSource,
    /// A team whose consultants take its leads in turn (otherwise they wait
    /// in the store manager's unassigned queue).
    pub team_id: Option<ID>,
}

/// Creates a source and its signing secret (store managers). The secret is
/// shown once, in this answer.
pub async fn create_source<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateLeadSourceInput,
) -> ApiResult<lead_source::Model> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let name = text_rules::text(&input.name, "name", 50)?;
    let team = ids::decode_opt(input.team_id.as_ref(), NodeKind::Team, "teamId")?;
    if let Some(t) = team {
        leads::check_team(db, store_id, t).await?;
    }
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let row = lead_source::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        name: Set(name),
        channel: Set(input.channel.as_str().into()),
        team_id: Set(team),
        secret: Set(hex::encode(raw)),
        active: Set(true),
        created_at: Set(now),
    };
    lead_source::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            ApiError::on_unique(e, || {
                crate::error::UserError::at(
                    "name",
                    UserErrorCode::Duplicate,
                    "a source with this name exists",
                )
            })
        })
}

/// The store's sources (store managers); secrets are never listed.
pub async fn sources<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> ApiResult<Vec<lead_source::Model>> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    Ok(lead_source::Entity::find()
        .filter(lead_source::Column::StoreId.eq(store_id))
        .order_by_asc(lead_source::Column::Name)
        .all(db)
        .await?)
}

/// The body a source posts.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct HookLead {
    external_id: String,
    name: String,
    mobile: String,
    interest_model: Option<String>,
    budget_yuan: Option<i64>,
    purchase_timing: Option<String>,
    source_detail: Option<String>,
    campaign: Option<String>,
    #[serde(default)]
    trade_in: bool,
    trade_in_model: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message, "field": field}})),
    )
        .into_response()
}

/// Whether `signature` (`sha256=<hex>`) signs `body` with `secret`, in
/// constant time.
pub fn signed(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// POST /hooks/leads: 202 with the lead's id (also for a resend, marked
/// `duplicate`), 401 for an unknown source or a bad signature, 400 for a
/// body that is not a lead, naming the field.
pub async fn receive(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
    let unknown = || {
        refuse(
            StatusCode::UNAUTHORIZED,
            "BAD_SIGNATURE",
            "unknown source or bad signature",
            None,
        )
    };
    let Some(source_id) = ids::decode(header(SOURCE_HEADER), NodeKind::LeadSource) else {
        return unknown();
    };
    let source = match lead_source::Entity::find_by_id(source_id).one(db).await {
        Ok(Some(s)) if s.active => s,
        Ok(_) => return unknown(),
        Err(e) => return internal(e.into()),
    };
    if !signed(&source.secret, &body, header(SIGNATURE_HEADER)) {
        return unknown();
    }
    let lead: HookLead = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_BODY",
                &format!("the body is not a lead: {e}"),
                None,
            )
        }
    };
    match accept(db, now, &source, lead).await {
        Ok((id, duplicate)) => (
            StatusCode::ACCEPTED,
            Json(json!({"leadId": ids::encode(NodeKind::Lead, id).0, "duplicate": duplicate})),
        )
            .into_response(),
        Err(ApiError::User(errs)) => {
            let e = errs.first();
            let field = e
                .and_then(|e| e.field.as_ref())
                .and_then(|f| f.last().cloned());
            let message = e.map(|e| e.message.clone()).unwrap_or_default();
            refuse(
                StatusCode::BAD_REQUEST,
                "BAD_BODY",
                &message,
                field.as_deref(),
            )
        }
        Err(e) => internal(e),
    }
}

fn internal(e: ApiError) -> Response {
    if let ApiError::Db(err) = &e {
        tracing::error!(error = %err, "webhook lead failed");
    } else {
        tracing::error!(error = ?e, "webhook lead failed");
    }
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL",
        "try again later",
        None,
    )
}

async fn earlier<C: ConnectionTrait>(
    db: &C,
    source: Uuid,
    external: &str,
) -> ApiResult<Option<Uuid>> {
    Ok(lead::Entity::find()
        .filter(lead::Column::SourceId.eq(source))
        .filter(lead::Column::ExternalId.eq(external))
        .one(db)
        .await?
        .map(|l| l.id))
}

/// Records a posted lead once. Returns its id and whether it was there
/// already. Two copies racing meet the unique (source, external id) index:
/// the loser answers with the winner's lead.
async fn accept(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    source: &lead_source::Model,
    l: HookLead,
) -> ApiResult<(Uuid, bool)> {
    let external = text_rules::text(&l.external_id, "externalId", 100)?;
    let name = text_rules::text(&l.name, "name", 50)?;
    let mobile = text_rules::mobile_field(&l.mobile, "mobile")?;
    let timing = match l.purchase_timing.as_deref() {
        None => PurchaseTiming::Unknown,
        Some(t) => PurchaseTiming::parse(t).ok_or_else(|| {
            ApiError::field("purchaseTiming", UserErrorCode::Invalid, "purchaseTiming is one of WITHIN_7_DAYS, WITHIN_15_DAYS, WITHIN_30_DAYS, LATER, UNKNOWN")
        })?,
    };
    let texts = leads::check_texts(
        l.source_detail.as_deref(),
        l.campaign.as_deref(),
        l.interest_model.as_deref(),
        l.trade_in_model.as_deref(),
        l.budget_yuan,
    )?;
    if let Some(id) = earlier(db, source.id, &external).await? {
        return Ok((id, true));
    }
    let channel = CustomerSource::parse(&source.channel).unwrap_or(CustomerSource::CarPortal);
    let existing = directory::holder_of(db, source.store_id, &mobile).await?;
    let holder = match existing.as_ref().and_then(|c| c.responsible_staff_id) {
        Some(s) if leads::still_consultant(db, source.store_id, s).await? => Some(s),
        _ => None,
    };
    let consultant = match (holder, source.team_id) {
        (Some(s), _) => Some(s),
        (None, Some(team)) => leads::next_in_team(db, team).await?,
        (None, None) => None,
    };
    let txn = db.begin().await?;
    let customer = match existing {
        Some(c) => c,
        None => {
            let row = customers::prospect(source.store_id, name, mobile, channel, consultant, now);
            match customers::insert_new(&txn, row, &[], None, now).await {
                Ok(c) => c,
                Err(ApiError::Db(e)) if ApiError::is_unique_violation(&e) => {
                    drop(txn);
                    return Err(ApiError::field(
                        "mobile",
                        UserErrorCode::Conflict,
                        "this mobile arrived twice at once; send again",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    };
    if let Some(to) = consultant {
        customers::make_responsible(&txn, &customer, to, None, now).await?;
    }
    let new = NewLead {
        store_id: source.store_id,
        channel,
        source_id: Some(source.id),
        external_id: Some(external.clone()),
        source_detail: texts.source_detail.or_else(|| Some(source.name.clone())),
        campaign: texts.campaign,
        interest_model: texts.interest_model,
        budget_yuan: l.budget_yuan,
        purchase_timing: timing,
        trade_in: l.trade_in,
        trade_in_model: texts.trade_in_model,
        grade: if timing == PurchaseTiming::Unknown {
            LeadGrade::B
        } else {
            timing.grade()
        },
    };
    match leads::open(&txn, new, &customer, consultant, None, now).await {
        Ok((lead, made)) => {
            txn.commit().await?;
            events::publish_all(&made, TaskChange::Created);
            Ok((lead.id, false))
        }
        Err(ApiError::Db(e)) if ApiError::is_unique_violation(&e) => {
            drop(txn);
            let id = earlier(db, source.id, &external)
                .await?
                .ok_or(ApiError::Db(e))?;
            Ok((id, true))
        }
        Err(e) => Err(e),
    }
}
