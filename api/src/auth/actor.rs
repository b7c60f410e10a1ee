//! The Actor: who is asking, built from the bearer token on every request,
//! and the scope every store function filters by.
use std::{collections::HashMap, sync::Arc, time::Instant};

use chrono::{DateTime, Duration, Utc};
use entity::{staff, store};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{
    sea_query::{Query, SelectStatement},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::Role;
use crate::error::{ApiError, ApiResult};

/// The signed-in staff member, as every domain sees them.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Staff id.
    pub staff_id: Uuid,
    /// Role.
    pub role: Role,
    /// The OEM whose network they belong to.
    pub oem_id: Uuid,
    /// Their dealer group, for group managers and group stores' staff.
    pub group_id: Option<Uuid>,
    /// Their store, for store-level roles.
    pub store_id: Option<Uuid>,
    /// Their team, if any.
    pub team_id: Option<Uuid>,
    /// Their store's time zone (China's for network roles): "today" in
    /// their lists.
    pub zone: chrono_tz::Tz,
}

/// Which stores an actor reaches, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// One store, all of its records (consultants are narrowed further).
    Store(Uuid),
    /// The stores of a dealer group: aggregates, and consented records only.
    Group(Uuid),
    /// The OEM's whole network: aggregates, and consented records only.
    Oem(Uuid),
}

impl Actor {
    /// Builds the actor from their staff row and their store's zone.
    pub fn from_staff(s: &staff::Model, zone: chrono_tz::Tz) -> ApiResult<Actor> {
        let role = Role::parse(&s.role)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown role {}", s.role)))?;
        Ok(Actor {
            staff_id: s.id,
            role,
            oem_id: s.oem_id,
            group_id: s.group_id,
            store_id: s.store_id,
            team_id: s.team_id,
            zone,
        })
    }

    /// The stores this actor reaches.
    pub fn reach(&self) -> Reach {
        match (self.role, self.store_id, self.group_id) {
            (r, Some(store), _) if r.is_store_level() => Reach::Store(store),
            (Role::GroupManager, _, Some(group)) => Reach::Group(group),
            _ => Reach::Oem(self.oem_id),
        }
    }

    /// The actor's own store; FORBIDDEN for network roles, which write no
    /// store records.
    pub fn own_store(&self) -> ApiResult<Uuid> {
        match self.reach() {
            Reach::Store(s) => Ok(s),
            _ => Err(ApiError::Forbidden),
        }
    }

    /// Whether the actor manages the store's settings, staff and teams.
    pub fn manages_store(&self, s: &store::Model) -> bool {
        match self.role {
            Role::StoreManager => self.store_id == Some(s.id),
            Role::Admin => self.oem_id == s.oem_id,
            _ => false,
        }
    }

    /// Fails with FORBIDDEN unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The ids of every store the actor reaches, as a sub-query.
    pub fn store_ids_query(&self) -> SelectStatement {
        let mut q = Query::select();
        q.column(store::Column::Id).from(store::Entity);
        match self.reach() {
            Reach::Store(s) => q.and_where(store::Column::Id.eq(s)),
            Reach::Group(g) => q.and_where(store::Column::GroupId.eq(g)),
            Reach::Oem(o) => q.and_where(store::Column::OemId.eq(o)),
        };
        q
    }

    /// Whether a store lies within the actor's reach.
    pub async fn reaches_store<C: ConnectionTrait>(
        &self,
        db: &C,
        store_id: Uuid,
    ) -> ApiResult<bool> {
        let found = store::Entity::find_by_id(store_id)
            .filter(store::Column::Id.in_subquery(self.store_ids_query()))
            .one(db)
            .await?;
        Ok(found.is_some())
    }
}

/// Claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: String,
    iat: i64,
    exp: i64,
    /// The session (refresh-token family) it was issued for.
    #[serde(default)]
    sid: Option<Uuid>,
}

/// What a valid access token says.
#[derive(Clone, Copy, Debug)]
pub struct TokenInfo {
    /// The staff member.
    pub staff_id: Uuid,
    /// The session it belongs to (its refresh-token family).
    pub session_id: Option<Uuid>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Lifetime of an access token.
    pub access_ttl: Duration,
    /// Lifetime of a refresh token.
    pub refresh_ttl: Duration,
}

impl TokenKeys {
    /// Keys from the configured secret.
    pub fn new(secret: &str, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            access_ttl,
            refresh_ttl,
        }
    }

    /// A signed access token for a staff member, valid from `now`.
    pub fn access_token(
        &self,
        staff: &staff::Model,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<(String, DateTime<Utc>)> {
        let exp = now + self.access_ttl;
        let claims = Claims {
            sub: staff.id,
            role: staff.role.clone(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            sid: Some(session),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing token: {e}")))?;
        Ok((token, exp))
    }

    /// The staff id in a valid, unexpired token. Expiry is checked against
    /// the injected clock, not the system's.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> ApiResult<TokenInfo> {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| ApiError::Unauthenticated("invalid access token"))?;
        if data.claims.exp <= now.timestamp() {
            return Err(ApiError::TokenExpired);
        }
        Ok(TokenInfo {
            staff_id: data.claims.sub,
            session_id: data.claims.sid,
            expires_at: DateTime::from_timestamp(data.claims.exp, 0).unwrap_or(now),
        })
    }
}

/// The actor for a bearer token: the token must be valid and its staff
/// member still active (deactivation takes effect at once: it clears the
/// cache, here and in the other processes).
pub async fn actor_for_token<C: ConnectionTrait>(
    db: &C,
    keys: &TokenKeys,
    cache: &ActorCache,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Actor> {
    let id = keys.verify(token, now)?.staff_id;
    if let Some(a) = cache.get(id) {
        return Ok(a);
    }
    // A deactivation committed while the row was read must not leave the
    // row read before it in the cache.
    let generation = cache.generation();
    let actor = active_actor(db, id).await?;
    cache.put(&actor, generation);
    Ok(actor)
}

/// The actor for a staff member whose token was already verified, while
/// the account is active.
pub async fn active_actor<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> ApiResult<Actor> {
    let staff = staff::Entity::find_by_id(staff_id)
        .filter(staff::Column::Active.eq(true))
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated("account is not active"))?;
    let zone = match staff.store_id {
        Some(s) => store::Entity::find_by_id(s)
            .one(db)
            .await?
            .and_then(|s| s.time_zone.parse().ok()),
        None => None,
    };
    Actor::from_staff(&staff, zone.unwrap_or(chrono_tz::Asia::Shanghai))
}

/// Signed-in staff members' actors, kept for a few seconds so that most
/// requests are answered without reading the staff row. Deactivating a
/// staff member forgets their entry here at once and, on PostgreSQL, in
/// every other process through NOTIFY (`listen_for_changes`); the time to
/// live bounds what a lost notification could leave behind.
pub struct ActorCache {
    entries: std::sync::RwLock<HashMap<Uuid, (Actor, Instant)>>,
    ttl: std::time::Duration,
    /// Bumped by every `forget`: an account read before it is not kept.
    forgotten: std::sync::atomic::AtomicU64,
}

/// Entries kept at most; past it the cache starts again (a network has
/// thousands of staff, not hundreds of thousands).
const ACTOR_CACHE_MAX: usize = 100_000;
/// The channel staff changes are announced on.
const STAFF_CHANNEL: &str = "crm_staff";

impl ActorCache {
    /// A cache whose entries live `ttl` (zero: nothing is kept).
    pub fn new(ttl: std::time::Duration) -> Self {
        ActorCache {
            entries: Default::default(),
            ttl,
            forgotten: Default::default(),
        }
    }

    fn generation(&self) -> u64 {
        self.forgotten.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn get(&self, id: Uuid) -> Option<Actor> {
        let entries = self.entries.read().ok()?;
        let (actor, at) = entries.get(&id)?;
        (at.elapsed() < self.ttl).then(|| actor.clone())
    }

    /// Keeps an actor read when the cache was at `generation`, unless
    /// something was forgotten since.
    fn put(&self, actor: &Actor, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if self.generation() != generation {
                return;
            }
            if entries.len() >= ACTOR_CACHE_MAX {
                entries.clear();
            }
            entries.insert(actor.staff_id, (actor.clone(), Instant::now()));
        }
    }

    /// Forgets a staff member (their account changed), or everyone (a
    /// store's time zone changed).
    pub fn forget(&self, id: Option<Uuid>) {
        if let Ok(mut entries) = self.entries.write() {
            self.forgotten
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match id {
                Some(id) => {
                    entries.remove(&id);
                }
                None => entries.clear(),
            }
        }
    }
}

/// Tells the other processes that a staff member's account changed, or
/// (None) that every actor must be read again (sent when the transaction
/// commits; nothing to do on SQLite, which has one process). The caller
/// forgets them in its own process once the change is committed.
pub async fn announce_staff_change<C: ConnectionTrait>(db: &C, id: Option<Uuid>) -> ApiResult<()> {
    let who = id.map_or_else(|| "*".to_string(), |id| id.to_string());
    crate::db::notify(db, STAFF_CHANNEL, who).await?;
    Ok(())
}

/// Forgets the staff members other processes announce (PostgreSQL only),
/// and everyone whenever listening (re)starts: what changed while nobody
/// listened is unknown.
pub fn listen_for_changes(db: &DatabaseConnection, cache: Arc<ActorCache>) {
    crate::db::listen(db, STAFF_CHANNEL, move |payload| {
        cache.forget(payload.and_then(|p| p.parse().ok()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            staff_id: Uuid::now_v7(),
            role: Role::SalesConsultant,
            oem_id: Uuid::now_v7(),
            group_id: None,
            store_id: None,
            team_id: None,
            zone: chrono_tz::Asia::Shanghai,
        }
    }

    #[test]
    fn an_account_read_before_a_deactivation_is_not_kept() {
        let cache = ActorCache::new(std::time::Duration::from_secs(30));
        let (a, b) = (actor(), actor());
        let before = cache.generation();
        cache.forget(Some(b.staff_id));
        cache.put(&a, before);
        assert!(cache.get(a.staff_id).is_none());
        cache.put(&a, cache.generation());
        assert!(cache.get(a.staff_id).is_some());
        cache.forget(None);
        assert!(cache.get(a.staff_id).is_none());
        let off = ActorCache::new(std::time::Duration::ZERO);
        off.put(&a, off.generation());
        assert!(off.get(a.staff_id).is_none());
    }
}
