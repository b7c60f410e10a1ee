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
use entity::lead_source;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{
    intake::{self, Checked},
    leads,
    rules::PurchaseTiming,
};
use crate::{
    auth::{Actor, Role},
    customers::rules::{self as text_rules, CustomerSource},
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
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
    let row = lead_source::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        name: Set(name),
        channel: Set(input.channel.as_str().into()),
        team_id: Set(team),
        secret: Set(new_secret()),
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

/// A change to a source.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateLeadSourceInput {
    /// The source.
    pub source_id: ID,
    /// Whether it accepts leads: a source turned off is answered 401 like
    /// an unknown one; leads it posted before stay.
    pub active: Option<bool>,
    /// A new signing secret, shown once in the answer. The old one stops
    /// working at once (a leaked secret).
    #[graphql(default)]
    pub rotate_secret: bool,
}

/// Turns a source off or on, or gives it a new secret (store managers).
pub async fn update_source<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: UpdateLeadSourceInput,
) -> ApiResult<lead_source::Model> {
    actor.require(&[Role::StoreManager])?;
    let store_id = actor.own_store()?;
    let id = ids::decode_field(&input.source_id, NodeKind::LeadSource, "sourceId")?;
    if input.active.is_none() && !input.rotate_secret {
        return Err(ApiError::field(
            "active",
            UserErrorCode::Required,
            "say what to change: active or rotateSecret",
        ));
    }
    let mut update = lead_source::Entity::update_many()
        .filter(lead_source::Column::Id.eq(id))
        .filter(lead_source::Column::StoreId.eq(store_id));
    if let Some(active) = input.active {
        update = update.col_expr(lead_source::Column::Active, Expr::value(active));
    }
    if input.rotate_secret {
        update = update.col_expr(lead_source::Column::Secret, Expr::value(new_secret()));
    }
    update
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::field("sourceId", UserErrorCode::NotFound, "no such source"))
}

/// 32 random bytes, hex.
fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
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

/// POST /hooks/leads: 202 with the id the lead will have (also for a
/// resend, marked `duplicate`), 401 for an unknown source or a bad
/// signature, 400 for a body that is not a lead, naming the field. An
/// accepted lead is one row in the intake; `intake::run` makes it a lead
/// moments later (its first-contact clock starts at its arrival).
pub async fn receive(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    headers: &HeaderMap,
    body: Bytes,
    wake: &Notify,
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
    let checked = match check(lead) {
        Ok(c) => c,
        Err(ApiError::User(errs)) => {
            let e = errs.first();
            let field = e
                .and_then(|e| e.field.as_ref())
                .and_then(|f| f.last().cloned());
            let message = e.map(|e| e.message.clone()).unwrap_or_default();
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_BODY",
                &message,
                field.as_deref(),
            );
        }
        Err(e) => return internal(e),
    };
    match intake::enqueue(db, now, source.id, checked).await {
        Ok((id, duplicate)) => {
            metrics::counter!("lead_hook_total", "outcome" => if duplicate { "duplicate" } else { "accepted" })
                .increment(1);
            if !duplicate {
                wake.notify_one();
            }
            (
                StatusCode::ACCEPTED,
                Json(json!({"leadId": ids::encode(NodeKind::Lead, id).0, "duplicate": duplicate})),
            )
                .into_response()
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

/// The field checks a lead typed in the app gets, by field name.
fn check(l: HookLead) -> ApiResult<Checked> {
    let external_id = text_rules::text(&l.external_id, "externalId", 100)?;
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
    Ok(Checked {
        external_id,
        name,
        mobile,
        purchase_timing: timing.as_str().into(),
        source_detail: texts.source_detail,
        campaign: texts.campaign,
        interest_model: texts.interest_model,
        budget_yuan: l.budget_yuan,
        trade_in: l.trade_in,
        trade_in_model: texts.trade_in_model,
    })
}
