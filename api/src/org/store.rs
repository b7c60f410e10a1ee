//! Stores, settings, teams and staff in the database, through the actor's
//! scope.
use std::collections::HashMap;

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use entity::{dealer_group, oem, staff, store, team};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::guard::Guards;

use super::rules::{valid_time_zone, DealerGrade, StoreSettings, StoreSettingsPatch};
use crate::{
    auth::{actor::Reach, rules as auth_rules, store as auth_store, Actor, Role},
    customers::rules as text_rules,
    error::{ApiError, ApiResult, UserError, UserErrorCode},
    ids::{self, NodeKind},
    paging::{self, Page, PageArgs},
};

/// The stores the actor reaches.
fn visible_stores(actor: &Actor) -> Condition {
    Condition::all().add(store::Column::Id.in_subquery(actor.store_ids_query()))
}

/// A store by id, if the actor reaches it.
pub async fn find_store<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<store::Model>> {
    Ok(store::Entity::find_by_id(id)
        .filter(visible_stores(actor))
        .one(db)
        .await?)
}

/// A store by id, unscoped: only for the signed-in staff member's own store.
pub async fn store_by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Option<store::Model>> {
    Ok(store::Entity::find_by_id(id).one(db).await?)
}

/// Stores by id without scope, for system work (the scheduler).
pub async fn system_stores<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, store::Model>> {
    let rows = store::Entity::find()
        .filter(store::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// Active staff who work in any of `stores` or oversee them (group managers
/// and OEM staff of their network), for routing notifications.
pub async fn staff_around<C: ConnectionTrait>(
    db: &C,
    stores: &[store::Model],
) -> ApiResult<Vec<staff::Model>> {
    let mut any = Condition::any().add(staff::Column::StoreId.is_in(stores.iter().map(|s| s.id)));
    for s in stores {
        if let Some(g) = s.group_id {
            any = any.add(
                Condition::all()
                    .add(staff::Column::GroupId.eq(g))
                    .add(staff::Column::Role.eq(Role::GroupManager.as_str())),
            );
        }
        any = any.add(
            Condition::all()
                .add(staff::Column::OemId.eq(s.oem_id))
                .add(staff::Column::Role.eq(Role::OemStaff.as_str())),
        );
    }
    Ok(staff::Entity::find()
        .filter(staff::Column::Active.eq(true))
        .filter(any)
        .all(db)
        .await?)
}

/// Staff by id without scope, for system work.
pub async fn system_staff<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, staff::Model>> {
    let rows = staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// The active store managers of a store: who is told about work that has
/// nobody yet (a new customer without a responsible consultant).
pub async fn store_managers<C: ConnectionTrait>(db: &C, store_id: Uuid) -> ApiResult<Vec<Uuid>> {
    use sea_orm::QuerySelect;
    Ok(staff::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .filter(staff::Column::StoreId.eq(store_id))
        .filter(staff::Column::Role.eq(Role::StoreManager.as_str()))
        .filter(staff::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?)
}

/// Every store the actor reaches, by name.
pub async fn list_stores<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> ApiResult<Vec<store::Model>> {
    Ok(store::Entity::find()
        .filter(visible_stores(actor))
        .order_by_asc(store::Column::Code)
        .all(db)
        .await?)
}

/// Stores by id, for DataLoader batches.
pub async fn stores_by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, store::Model>> {
    let rows = store::Entity::find()
        .filter(store::Column::Id.is_in(ids.iter().copied()))
        .filter(visible_stores(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// The settings of a store: the one place every domain reads its timings
/// from. Unknown stores get the defaults.
pub async fn settings<C: ConnectionTrait>(db: &C, store_id: Uuid) -> ApiResult<StoreSettings> {
    Ok(store::Entity::find_by_id(store_id)
        .one(db)
        .await?
        .map(|s| StoreSettings::from_json(&s.settings))
        .unwrap_or_default())
}

/// A store's time zone (China's for an unknown store).
pub async fn zone_of<C: ConnectionTrait>(db: &C, store_id: Uuid) -> ApiResult<chrono_tz::Tz> {
    Ok(store_by_id(db, store_id)
        .await?
        .map(|s| super::rules::zone(&s.time_zone))
        .unwrap_or(chrono_tz::Asia::Shanghai))
}

/// A store's settings and time zone, in one read (defaults and China's
/// zone for an unknown store).
pub async fn calendar<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
) -> ApiResult<(StoreSettings, chrono_tz::Tz)> {
    Ok(match store_by_id(db, store_id).await? {
        Some(s) => (
            StoreSettings::from_json(&s.settings),
            super::rules::zone(&s.time_zone),
        ),
        None => (StoreSettings::default(), chrono_tz::Asia::Shanghai),
    })
}

/// Today in the store's time zone: the one helper for "today" and "in the
/// future" wherever a user types a date.
pub async fn today_at<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<chrono::NaiveDate> {
    Ok(super::rules::local_day(zone_of(db, store_id).await?, now))
}

/// The OEM and the dealer group a store belongs to.
pub async fn oem_of<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Option<oem::Model>> {
    Ok(oem::Entity::find_by_id(id).one(db).await?)
}

/// A dealer group by id.
pub async fn group_of<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> ApiResult<Option<dealer_group::Model>> {
    Ok(dealer_group::Entity::find_by_id(id).one(db).await?)
}

async fn managed_store<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: &ID,
    field: &str,
) -> ApiResult<store::Model> {
    let id = ids::decode_field(id, NodeKind::Store, field)?;
    let s = find_store(db, actor, id)
        .await?
        .ok_or_else(|| ApiError::field(field, UserErrorCode::NotFound, "no such store"))?;
    if !actor.manages_store(&s) {
        return Err(ApiError::Forbidden);
    }
    Ok(s)
}

/// Changes to a store's profile and settings.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateStoreInput {
    /// The store.
    pub store_id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Dealer grade (administrators only).
    pub grade: Option<DealerGrade>,
    /// City.
    pub city: Option<String>,
    /// IANA time zone, e.g. Asia/Shanghai.
    pub time_zone: Option<String>,
    /// Settings to change.
    pub settings: Option<StoreSettingsPatch>,
}

/// Updates a store the actor manages; settings apply to work created from
/// now on.
pub async fn update_store<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: UpdateStoreInput,
) -> ApiResult<store::Model> {
    let s = managed_store(db, actor, &input.store_id, "storeId").await?;
    let mut m: store::ActiveModel = s.clone().into();
    if let Some(n) = &input.name {
        m.name = Set(text_rules::text(n, "name", 100)?);
    }
    if let Some(g) = input.grade {
        if actor.role != Role::Admin {
            return Err(ApiError::field(
                "grade",
                UserErrorCode::NotAllowed,
                "the dealer grade is set by the OEM",
            ));
        }
        m.grade = Set(g.as_str().into());
    }
    if let Some(c) = &input.city {
        m.city = Set(text_rules::text(c, "city", 50)?);
    }
    if let Some(tz) = &input.time_zone {
        if !valid_time_zone(tz.trim()) {
            return Err(ApiError::field(
                "timeZone",
                UserErrorCode::Invalid,
                "not an IANA time zone such as Asia/Shanghai",
            ));
        }
        m.time_zone = Set(tz.trim().to_string());
    }
    if let Some(patch) = &input.settings {
        let next = StoreSettings::from_json(&s.settings)
            .patched(patch)
            .map_err(|errs| {
                ApiError::User(
                    errs.into_iter()
                        .map(|(f, msg)| UserError {
                            field: Some(vec!["input".into(), "settings".into(), f.clone()]),
                            code: UserErrorCode::OutOfRange,
                            message: format!("{f} {msg}"),
                            existing_id: None,
                            held_by: None,
                        })
                        .collect(),
                )
            })?;
        m.settings = Set(next.to_json());
    }
    m.updated_at = Set(now);
    let updated = m.update(db).await?;
    if input.time_zone.is_some() {
        // Signed-in staff carry their store's zone: every process reads
        // them again (the caller forgets them in its own).
        crate::auth::actor::announce_staff_change(db, None).await?;
    }
    Ok(updated)
}

/// Teams of a store.
pub async fn teams_of<C: ConnectionTrait>(db: &C, store_id: Uuid) -> ApiResult<Vec<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::StoreId.eq(store_id))
        .order_by_asc(team::Column::Name)
        .all(db)
        .await?)
}

/// Teams by id, for DataLoader batches.
pub async fn teams_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, team::Model>> {
    let rows = team::Entity::find()
        .filter(team::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|t| (t.id, t)).collect())
}

/// A new team.
#[derive(InputObject, Clone, Debug)]
pub struct CreateTeamInput {
    /// The store.
    pub store_id: ID,
    /// Team name.
    pub name: String,
}

/// Creates a team in a store the actor manages.
pub async fn create_team<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    input: CreateTeamInput,
) -> ApiResult<team::Model> {
    let s = managed_store(db, actor, &input.store_id, "storeId").await?;
    let name = text_rules::text(&input.name, "name", 50)?;
    Ok(team::Entity::insert(team::ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(s.id),
        name: Set(name),
        lead_turn: Set(0),
        created_at: Set(now),
    })
    .exec_with_returning(db)
    .await?)
}

/// The staff the actor may see: their store's, or their network's.
fn visible_staff(actor: &Actor) -> Condition {
    match actor.reach() {
        Reach::Store(s) => Condition::all().add(staff::Column::StoreId.eq(s)),
        Reach::Group(g) => Condition::any()
            .add(staff::Column::GroupId.eq(g))
            .add(staff::Column::StoreId.in_subquery(actor.store_ids_query())),
        Reach::Oem(o) => Condition::all().add(staff::Column::OemId.eq(o)),
    }
}

/// A staff member by id, if visible.
pub async fn find_staff<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<staff::Model>> {
    Ok(staff::Entity::find_by_id(id)
        .filter(visible_staff(actor))
        .one(db)
        .await?)
}

/// A staff member by id, unscoped: for the actor themself.
pub async fn staff_by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Option<staff::Model>> {
    Ok(staff::Entity::find_by_id(id).one(db).await?)
}

/// The staff named on records the actor already sees (authors, owners,
/// assignees): only the network boundary applies.
pub fn named_staff(actor: &Actor) -> Condition {
    Condition::all().add(staff::Column::OemId.eq(actor.oem_id))
}

/// Staff by id, for DataLoader batches (`named_staff`).
pub async fn staff_by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, staff::Model>> {
    let rows = staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids.iter().copied()))
        .filter(named_staff(actor))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// Filters for the staff list.
#[derive(InputObject, Clone, Debug, Default)]
pub struct StaffFilter {
    /// Only this store.
    pub store_id: Option<ID>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (true) or deactivated (false) staff.
    pub active: Option<bool>,
}

/// A page of staff the actor may see.
pub async fn list_staff<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &StaffFilter,
    args: &PageArgs,
    want_total: bool,
) -> ApiResult<Page<staff::Model>> {
    let mut q = staff::Entity::find().filter(visible_staff(actor));
    if let Some(id) = &f.store_id {
        let s = ids::decode(id, NodeKind::Store)
            .ok_or_else(|| ApiError::BadInput("storeId is not a Store id".into()))?;
        q = q.filter(staff::Column::StoreId.eq(s));
    }
    if let Some(r) = f.role {
        q = q.filter(staff::Column::Role.eq(r.as_str()));
    }
    if let Some(a) = f.active {
        q = q.filter(staff::Column::Active.eq(a));
    }
    paging::by_id(db, q, staff::Column::Id, args, want_total).await
}

/// A new staff account.
#[derive(InputObject, Clone, Debug)]
pub struct CreateStaffInput {
    /// Login name: 3-32 of a-z, 0-9, '.', '_' and '-'.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Mobile, also usable to log in.
    pub mobile: Option<String>,
    /// Role.
    pub role: Role,
    /// Store, for store-level roles.
    pub store_id: Option<ID>,
    /// Team inside the store.
    pub team_id: Option<ID>,
    /// Dealer group, for group managers.
    pub group_id: Option<ID>,
    /// Initial password (8-128 characters).
    pub password: String,
}

fn check_username(raw: &str) -> ApiResult<String> {
    let u = raw.trim().to_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(u)
    } else {
        Err(ApiError::field(
            "username",
            UserErrorCode::Invalid,
            "3-32 characters: letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Where a new account sits: (store, group).
async fn placement<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: &CreateStaffInput,
) -> ApiResult<(Option<store::Model>, Option<Uuid>)> {
    if input.role.is_store_level() {
        let id = input.store_id.as_ref().ok_or_else(|| {
            ApiError::field(
                "storeId",
                UserErrorCode::Required,
                "store-level roles need a store",
            )
        })?;
        let s = managed_store(db, actor, id, "storeId").await?;
        if actor.role == Role::StoreManager && input.role == Role::StoreManager {
            return Err(ApiError::field(
                "role",
                UserErrorCode::NotAllowed,
                "store managers are appointed by an administrator",
            ));
        }
        let group = s.group_id;
        return Ok((Some(s), group));
    }
    if actor.role != Role::Admin {
        return Err(ApiError::field(
            "role",
            UserErrorCode::NotAllowed,
            "only an administrator creates group, OEM and admin accounts",
        ));
    }
    if input.role == Role::GroupManager {
        let gid = ids::decode_opt(input.group_id.as_ref(), NodeKind::DealerGroup, "groupId")?
            .ok_or_else(|| {
                ApiError::field(
                    "groupId",
                    UserErrorCode::Required,
                    "group managers need a dealer group",
                )
            })?;
        match group_of(db, gid).await? {
            Some(g) if g.oem_id == actor.oem_id => return Ok((None, Some(g.id))),
            _ => {
                return Err(ApiError::field(
                    "groupId",
                    UserErrorCode::NotFound,
                    "no such dealer group",
                ))
            }
        }
    }
    Ok((None, None))
}

/// Creates a staff account (store managers for their store, administrators
/// anywhere in their network).
pub async fn create_staff<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    guards: &Guards,
    now: DateTime<Utc>,
    input: CreateStaffInput,
) -> ApiResult<staff::Model> {
    actor.require(&[Role::StoreManager, Role::Admin])?;
    let checked = text_rules::collect(vec![
        check_username(&input.username),
        text_rules::text(&input.name, "name", 50),
    ])?;
    let mobile = input
        .mobile
        .as_deref()
        .map(|m| text_rules::phone_field(m, "mobile"))
        .transpose()?;
    if let Some(p) = auth_rules::password_problem(&input.password) {
        return Err(ApiError::field("password", UserErrorCode::Invalid, p));
    }
    let (store, group) = placement(db, actor, &input).await?;
    let team_id = ids::decode_opt(input.team_id.as_ref(), NodeKind::Team, "teamId")?;
    if let Some(t) = team_id {
        let in_store = store.as_ref().map(|s| s.id);
        let found = team::Entity::find_by_id(t).one(db).await?;
        if found.map(|t| Some(t.store_id)) != Some(in_store) {
            return Err(ApiError::field(
                "teamId",
                UserErrorCode::NotFound,
                "no such team in that store",
            ));
        }
    }
    let pw = input.password.clone();
    let hash = guards.hashing.run(move |w| w.hash(&pw)).await??;
    let username = checked[0].clone();
    let model = staff::ActiveModel {
        id: Set(Uuid::now_v7()),
        oem_id: Set(actor.oem_id),
        group_id: Set(group),
        store_id: Set(store.map(|s| s.id)),
        team_id: Set(team_id),
        username: Set(username),
        mobile: Set(mobile),
        name: Set(checked[1].clone()),
        role: Set(input.role.as_str().into()),
        active: Set(true),
        password_hash: Set(hash),
        created_at: Set(now),
        updated_at: Set(now),
        deactivated_at: Set(None),
    };
    staff::Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(|e| {
            ApiError::on_unique(e, || {
                UserError::at(
                    "username",
                    UserErrorCode::Duplicate,
                    "that username or mobile is already in use",
                )
            })
        })
}

/// Changes the actor's own password and signs out their other sessions.
pub async fn change_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    guards: &Guards,
    now: DateTime<Utc>,
    current: &str,
    new: &str,
) -> ApiResult<staff::Model> {
    let me = staff_by_id(db, actor.staff_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(p) = auth_rules::password_problem(new) {
        return Err(ApiError::field("newPassword", UserErrorCode::Invalid, p));
    }
    let (cur, phc, next) = (
        current.to_string(),
        me.password_hash.clone(),
        new.to_string(),
    );
    guards.logins.check(&me.username, None, now)?;
    let verified = guards
        .hashing
        .run(move |w| {
            if w.verify(&cur, &phc) {
                w.hash(&next).map(Some)
            } else {
                Ok(None)
            }
        })
        .await??;
    if verified.is_none() {
        guards.logins.failed(&me.username, None, now);
    }
    let hash = verified.ok_or_else(|| {
        ApiError::field(
            "currentPassword",
            UserErrorCode::InvalidCredentials,
            "current password is wrong",
        )
    })?;
    let txn = db.begin().await?;
    let mut m: staff::ActiveModel = me.into();
    m.password_hash = Set(hash);
    m.updated_at = Set(now);
    let updated = m.update(&txn).await?;
    auth_store::revoke_all(&txn, updated.id, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Whether `id` is an active sales consultant of the store: someone who
/// may hold leads.
pub async fn active_consultant<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    id: Uuid,
) -> ApiResult<bool> {
    Ok(staff::Entity::find_by_id(id)
        .filter(staff::Column::StoreId.eq(store_id))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Role.eq(Role::SalesConsultant.as_str()))
        .one(db)
        .await?
        .is_some())
}
