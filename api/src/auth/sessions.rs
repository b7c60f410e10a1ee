//! Whether a signed-in session still stands, for connections that outlive a
//! request (the graphql-ws subscription socket). Revocations in this process
//! are announced at once; a periodic check against the database covers
//! revocations made by another process.
use std::sync::OnceLock;

use entity::{refresh_token, staff};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::ApiResult;

/// Sessions that just ended: every session of a staff member (deactivation,
/// password change), or one session (logout, a reused refresh token).
#[derive(Clone, Copy, Debug)]
pub struct Revocation {
    /// Every session of this staff member.
    pub staff_id: Option<Uuid>,
    /// This one session (refresh-token family).
    pub session_id: Option<Uuid>,
}

impl Revocation {
    /// Whether it ends the session `session` of `staff`.
    pub fn ends(&self, staff: Uuid, session: Option<Uuid>) -> bool {
        self.staff_id == Some(staff) || (self.session_id.is_some() && self.session_id == session)
    }
}

fn bus() -> &'static broadcast::Sender<Revocation> {
    static BUS: OnceLock<broadcast::Sender<Revocation>> = OnceLock::new();
    BUS.get_or_init(|| broadcast::channel(1024).0)
}

/// Tells live connections in this process that sessions ended.
pub fn announce(r: Revocation) {
    let _ = bus().send(r);
}

/// Revocations from now on.
pub fn subscribe() -> broadcast::Receiver<Revocation> {
    bus().subscribe()
}

/// Whether the staff member is still active and the session was not
/// revoked. Tokens issued before sessions carried an id only need the
/// account to be active.
pub async fn stands<C: ConnectionTrait>(
    db: &C,
    staff_id: Uuid,
    session: Option<Uuid>,
) -> ApiResult<bool> {
    let active = staff::Entity::find_by_id(staff_id)
        .filter(staff::Column::Active.eq(true))
        .count(db)
        .await?
        > 0;
    let Some(session) = session.filter(|_| active) else {
        return Ok(active);
    };
    let revoked = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(session))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .count(db)
        .await?;
    Ok(revoked == 0)
}
