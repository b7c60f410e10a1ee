//! Client idempotency keys: a retried create returns what the first one made.
use chrono::{DateTime, Utc};
use entity::idempotency_key;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    auth::Actor,
    error::{ApiError, ApiResult, UserErrorCode},
};

/// Checks a client key: at most 100 characters, not blank.
pub fn check_key(key: Option<&str>) -> ApiResult<Option<String>> {
    match key.map(str::trim) {
        None => Ok(None),
        Some(k) if k.is_empty() || k.len() > 100 => Err(ApiError::field(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "idempotencyKey must be 1 to 100 characters",
        )),
        Some(k) => Ok(Some(k.to_string())),
    }
}

/// The id created earlier under this key by this staff member, if any.
pub async fn earlier<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    operation: &str,
    key: &str,
) -> ApiResult<Option<Uuid>> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::StaffId.eq(actor.staff_id))
        .filter(idempotency_key::Column::Operation.eq(operation))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?
        .map(|k| k.result_id))
}

/// Records the key with what it created, in the creating transaction.
pub async fn remember<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    operation: &str,
    key: &str,
    result_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        staff_id: Set(actor.staff_id),
        key: Set(key.to_string()),
        operation: Set(operation.to_string()),
        result_id: Set(result_id),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}
