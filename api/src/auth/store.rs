//! Logins and refresh-token rotation in the database.
use chrono::{DateTime, Utc};
use entity::{refresh_token, staff};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use std::net::IpAddr;

use super::{actor::TokenKeys, guard::Guards, rules};
use crate::{
    customers::rules::normalize_phone,
    error::{ApiError, ApiResult, UserError, UserErrorCode},
};

/// What a successful login or refresh hands the client.
pub struct Session {
    /// The signed-in staff member.
    pub staff: staff::Model,
    /// Short-lived bearer token.
    pub access_token: String,
    /// When it expires.
    pub access_expires_at: DateTime<Utc>,
    /// Long-lived, single-use token to get the next pair.
    pub refresh_token: String,
    /// When it expires.
    pub refresh_expires_at: DateTime<Utc>,
}

fn bad_credentials() -> ApiError {
    UserError::general(
        UserErrorCode::InvalidCredentials,
        "wrong username or password",
    )
    .into()
}

/// A real hash of a random password, checked when the login is unknown so
/// that an unknown name takes as long as a wrong password.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| rules::hash_password(&rules::new_refresh_token()).unwrap_or_default())
        .clone()
}

/// Checks a username (or mobile) and password and opens a new session.
/// Throttled per account and per client address before any password work;
/// the check itself runs on the bounded hashing pool.
pub async fn login<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    keys: &TokenKeys,
    guards: &Guards,
    from: Option<IpAddr>,
    now: DateTime<Utc>,
    login: &str,
    password: &str,
) -> ApiResult<Session> {
    let login = login.trim();
    if login.is_empty() || password.is_empty() || password.len() > 4 * rules::MAX_PASSWORD {
        return Err(bad_credentials());
    }
    guards.logins.check(login, from, now)?;
    let mut by = Condition::any().add(staff::Column::Username.eq(login.to_lowercase()));
    if let Ok(mobile) = normalize_phone(login) {
        by = by.add(staff::Column::Mobile.eq(mobile));
    }
    let found = staff::Entity::find().filter(by).one(db).await?;
    let phc = found.as_ref().map(|s| s.password_hash.clone());
    let pw = password.to_string();
    let ok = guards
        .hashing
        .run(move |w| {
            let phc = phc.unwrap_or_else(dummy_hash);
            w.verify(&pw, &phc)
        })
        .await?;
    match found {
        Some(s) if ok && s.active => {
            guards.logins.succeeded(login);
            open_session(db, keys, now, s, Uuid::now_v7()).await
        }
        _ => {
            guards.logins.failed(login, from, now);
            Err(bad_credentials())
        }
    }
}

async fn open_session<C: ConnectionTrait>(
    db: &C,
    keys: &TokenKeys,
    now: DateTime<Utc>,
    staff: staff::Model,
    family_id: Uuid,
) -> ApiResult<Session> {
    let (access_token, access_expires_at) = keys.access_token(&staff, family_id, now)?;
    let refresh_token = rules::new_refresh_token();
    let refresh_expires_at = now + keys.refresh_ttl;
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        staff_id: Set(staff.id),
        family_id: Set(family_id),
        token_hash: Set(rules::token_hash(&refresh_token)),
        expires_at: Set(refresh_expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(Session {
        staff,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

fn token_error(code: UserErrorCode, msg: &str) -> ApiError {
    UserError::at("refreshToken", code, msg).into()
}

async fn revoke_family<C: ConnectionTrait>(
    db: &C,
    family: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    super::sessions::announce(super::sessions::Revocation {
        staff_id: None,
        session_id: Some(family),
    });
    Ok(())
}

/// Trades a refresh token for a new pair. The token is spent by a single
/// conditional UPDATE, so two concurrent uses cannot both succeed; presenting
/// a spent token revokes its whole family (it was probably stolen).
pub async fn refresh<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    keys: &TokenKeys,
    now: DateTime<Utc>,
    token: &str,
) -> ApiResult<Session> {
    let hash = rules::token_hash(token.trim());
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash.clone()))
        .one(db)
        .await?
        .ok_or_else(|| token_error(UserErrorCode::TokenInvalid, "unknown refresh token"))?;
    if row.revoked_at.is_some() {
        return Err(token_error(
            UserErrorCode::TokenInvalid,
            "session was revoked; sign in again",
        ));
    }
    if row.expires_at <= now {
        return Err(token_error(
            UserErrorCode::TokenExpired,
            "refresh token expired; sign in again",
        ));
    }
    let txn = db.begin().await?;
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        drop(txn);
        revoke_family(db, row.family_id, now).await?;
        tracing::warn!(staff = %row.staff_id, family = %row.family_id, "refresh token reused; family revoked");
        return Err(token_error(
            UserErrorCode::TokenReused,
            "refresh token was already used; every session from that login is signed out",
        ));
    }
    let staff = staff::Entity::find_by_id(row.staff_id)
        .filter(staff::Column::Active.eq(true))
        .one(&txn)
        .await?
        .ok_or_else(|| token_error(UserErrorCode::TokenInvalid, "account is not active"))?;
    let session = open_session(&txn, keys, now, staff, row.family_id).await?;
    txn.commit().await?;
    Ok(session)
}

/// Ends the session the refresh token belongs to (its whole family). Unknown
/// tokens are ignored, so logout never fails for the client.
pub async fn logout<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, token: &str) -> ApiResult<()> {
    let hash = rules::token_hash(token.trim());
    if let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    {
        revoke_family(db, row.family_id, now).await?;
    }
    Ok(())
}

/// Signs a staff member out everywhere (deactivation, password change).
pub async fn revoke_all<C: ConnectionTrait>(
    db: &C,
    staff_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::StaffId.eq(staff_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    super::sessions::announce(super::sessions::Revocation {
        staff_id: Some(staff_id),
        session_id: None,
    });
    Ok(())
}
