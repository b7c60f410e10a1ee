//! A staff member leaving the store: their customers, open leads and live
//! work go to a named colleague and every session ends, in one transaction.
//! It sits above `org::store`, the customers and sales domains and the
//! engine, and only the org GraphQL room calls it, so none of those depend
//! back on it.
use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::staff;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionSession,
    TransactionTrait,
};

use super::store::find_staff;
use crate::{
    auth::{store as auth_store, Actor, Role},
    customers::store as customers,
    error::{ApiError, ApiResult, UserErrorCode},
    ids::{self, NodeKind},
    sales::leads,
    tasks::store as tasks,
};

/// A staff member leaving, and who takes over their customers.
#[derive(InputObject, Clone, Debug)]
pub struct DeactivateStaffInput {
    /// The staff member leaving.
    pub staff_id: ID,
    /// Who takes over their customers (required when they have any).
    pub reassign_to_id: Option<ID>,
}

/// Deactivates a staff member: they can no longer sign in (every session
/// ends), and their customers move to the named colleague.
pub async fn deactivate_staff<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: DeactivateStaffInput,
) -> ApiResult<(staff::Model, u64)> {
    actor.require(&[Role::StoreManager, Role::Admin])?;
    let id = ids::decode_field(&input.staff_id, NodeKind::Staff, "staffId")?;
    let target = find_staff(db, actor, id).await?.ok_or_else(|| {
        ApiError::field("staffId", UserErrorCode::NotFound, "no such staff member")
    })?;
    if target.id == actor.staff_id {
        return Err(ApiError::field(
            "staffId",
            UserErrorCode::NotAllowed,
            "you cannot deactivate yourself",
        ));
    }
    if actor.role == Role::StoreManager
        && (target.store_id != actor.store_id || target.role == Role::StoreManager.as_str())
    {
        return Err(ApiError::field(
            "staffId",
            UserErrorCode::NotAllowed,
            "store managers deactivate their own store's staff",
        ));
    }
    if !target.active {
        return Err(ApiError::field(
            "staffId",
            UserErrorCode::Conflict,
            "already deactivated",
        ));
    }
    let owned = customers::count_responsible(db, target.id).await?
        + tasks::live_count(db, target.id).await?;
    let to = ids::decode_opt(
        input.reassign_to_id.as_ref(),
        NodeKind::Staff,
        "reassignToId",
    )?;
    let to = match to {
        Some(to) => {
            let ok = staff::Entity::find_by_id(to).one(db).await?.filter(|s| {
                s.active
                    && s.id != target.id
                    && s.store_id.is_some()
                    && s.store_id == target.store_id
            });
            Some(ok.ok_or_else(|| {
                ApiError::field(
                    "reassignToId",
                    UserErrorCode::NotFound,
                    "no other active staff member with that id in the same store",
                )
            })?)
        }
        None if owned > 0 => {
            return Err(ApiError::field(
                "reassignToId",
                UserErrorCode::Required,
                format!("{owned} customers and open tasks need a new owner"),
            ))
        }
        None => None,
    };
    let txn = db.begin().await?;
    let (moved, moved_tasks) = match &to {
        Some(to) => {
            let customers = customers::reassign_all(&txn, actor, target.id, to.id, now).await?;
            leads::follow_consultant(&txn, target.id, to.id, now).await?;
            (
                customers,
                tasks::move_all(&txn, target.id, to.id, now).await?,
            )
        }
        None => (0, Vec::new()),
    };
    let mut m: staff::ActiveModel = target.into();
    m.active = Set(false);
    m.deactivated_at = Set(Some(now));
    m.updated_at = Set(now);
    let updated = m.update(&txn).await?;
    auth_store::revoke_all(&txn, updated.id, now).await?;
    crate::auth::actor::announce_staff_change(&txn, Some(updated.id)).await?;
    txn.commit().await?;
    tasks::announce_moved(&moved_tasks, updated.id);
    Ok((updated, moved))
}
