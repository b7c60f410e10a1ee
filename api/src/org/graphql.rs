//! Stores, teams and staff over GraphQL.
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{staff, store, team};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{
    rules::{DealerGrade, StoreSettings},
    store::{self as org, CreateStaffInput, CreateTeamInput, StaffFilter, UpdateStoreInput},
};
use crate::{
    auth::{Actor, Role},
    error::ApiResult,
    graphql::{
        connection::{page_args, to_connection, wants_total, Conn},
        context::{payload, CtxExt},
        loaders::{StaffKey, StoreKey},
    },
    ids::{self, NodeKind},
};

/// A staff member.
pub struct Staff(pub staff::Model);

impl Staff {
    /// A staff member by id through the request's loader (null when
    /// there is no id or no such person).
    pub async fn load(ctx: &Context<'_>, id: Option<Uuid>) -> async_graphql::Result<Option<Staff>> {
        match id {
            Some(id) => Ok(ctx.loader()?.load_one(StaffKey(id)).await?.map(Staff)),
            None => Ok(None),
        }
    }
}

#[Object]
impl Staff {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Staff, self.0.id)
    }
    /// Login name.
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Mobile (E.164).
    async fn mobile(&self) -> Option<&str> {
        self.0.mobile.as_deref()
    }
    /// Role.
    async fn role(&self) -> Option<Role> {
        Role::parse(&self.0.role)
    }
    /// Whether they can sign in.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Their store, for store-level roles.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        let Some(id) = self.0.store_id else {
            return Ok(None);
        };
        match ctx.loader() {
            Ok(l) => Ok(l.load_one(StoreKey(id)).await?.map(Store)),
            // Signing in: the payload shows the new session's own store.
            Err(_) => Ok(org::store_by_id(ctx.db()?, id).await?.map(Store)),
        }
    }
    /// Their team.
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Team>> {
        let Some(id) = self.0.team_id else {
            return Ok(None);
        };
        Ok(org::teams_by_ids(ctx.db()?, &[id])
            .await?
            .remove(&id)
            .map(Team))
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the account was deactivated.
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deactivated_at
    }
}

/// A team inside a store.
pub struct Team(pub team::Model);

#[Object]
impl Team {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Team, self.0.id)
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// A team by id, if its store is visible.
pub async fn team(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> ApiResult<Option<Team>> {
    let Some(t) = org::teams_by_ids(db, &[id]).await?.remove(&id) else {
        return Ok(None);
    };
    Ok(org::find_store(db, actor, t.store_id)
        .await?
        .map(|_| Team(t)))
}

/// An OEM or dealer group, by name.
#[derive(SimpleObject)]
pub struct Organisation {
    /// Global id.
    pub id: ID,
    /// Name.
    pub name: String,
}

/// A 4S store.
pub struct Store(pub store::Model);

impl Store {
    /// A store by id through the request's loader.
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Store>> {
        Ok(ctx.loader()?.load_one(StoreKey(id)).await?.map(Store))
    }
}

#[Object]
impl Store {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Store, self.0.id)
    }
    /// Dealer code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The OEM's grade for the store.
    async fn grade(&self) -> Option<DealerGrade> {
        DealerGrade::parse(&self.0.grade)
    }
    /// City.
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// IANA time zone for business days.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// Every timing and threshold, with defaults filled in.
    async fn settings(&self) -> StoreSettings {
        StoreSettings::from_json(&self.0.settings)
    }
    /// The OEM.
    async fn oem(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
        Ok(org::oem_of(ctx.db()?, self.0.oem_id)
            .await?
            .map(|o| Organisation {
                id: ids::encode(NodeKind::Oem, o.id),
                name: o.name,
            }))
    }
    /// The dealer group, if any.
    async fn dealer_group(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organisation>> {
        let Some(g) = self.0.group_id else {
            return Ok(None);
        };
        Ok(org::group_of(ctx.db()?, g).await?.map(|g| Organisation {
            id: ids::encode(NodeKind::DealerGroup, g.id),
            name: g.name,
        }))
    }
    /// Teams.
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Team>> {
        Ok(org::teams_of(ctx.db()?, self.0.id)
            .await?
            .into_iter()
            .map(Team)
            .collect())
    }
}

payload!(
    /// Result of updateStore.
    UpdateStorePayload { store: Store }
);
payload!(
    /// Result of createTeam.
    CreateTeamPayload { team: Team }
);
payload!(
    /// Result of createStaff.
    CreateStaffPayload { staff: Staff }
);
payload!(
    /// Result of changePassword.
    ChangePasswordPayload { staff: Staff }
);

/// Result of deactivateStaff.
#[derive(SimpleObject)]
pub struct DeactivateStaffPayload {
    /// The deactivated staff member.
    pub staff: Option<Staff>,
    /// How many customers moved to the colleague named.
    pub reassigned_customers: u64,
    /// Why nothing changed.
    pub user_errors: Vec<crate::error::UserError>,
}

/// Password change.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The current password.
    pub current_password: String,
    /// The new password (8-128 characters).
    pub new_password: String,
}

/// Organisation queries.
#[derive(Default)]
pub struct OrgQuery;

#[Object]
impl OrgQuery {
    /// The signed-in staff member's store.
    async fn my_store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        let actor = ctx.actor()?;
        let Some(id) = actor.store_id else {
            return Ok(None);
        };
        Ok(org::find_store(ctx.db()?, actor, id).await?.map(Store))
    }

    /// Every store setting with what it drives, its range and its default.
    async fn store_settings_catalogue(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::rules::SettingDoc>> {
        ctx.actor()?;
        Ok(super::rules::StoreSettings::catalogue())
    }

    /// Every store you reach.
    async fn stores(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Store>> {
        Ok(org::list_stores(ctx.db()?, ctx.actor()?)
            .await?
            .into_iter()
            .map(Store)
            .collect())
    }

    /// Staff you may see.
    async fn staff_members(
        &self,
        ctx: &Context<'_>,
        filter: Option<StaffFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Staff>> {
        let page = org::list_staff(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Staff))
    }
}

/// Organisation changes.
#[derive(Default)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// Changes a store's profile or settings (its manager, or an administrator).
    async fn update_store(
        &self,
        ctx: &Context<'_>,
        input: UpdateStoreInput,
    ) -> async_graphql::Result<UpdateStorePayload> {
        let zone = input.time_zone.is_some();
        let r = org::update_store(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        if zone && r.is_ok() {
            ctx.state()?.actors.forget(None);
        }
        UpdateStorePayload::from_result(r, Store)
    }

    /// Creates a team.
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        input: CreateTeamInput,
    ) -> async_graphql::Result<CreateTeamPayload> {
        CreateTeamPayload::from_result(
            org::create_team(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Team,
        )
    }

    /// Creates a staff account.
    async fn create_staff(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffInput,
    ) -> async_graphql::Result<CreateStaffPayload> {
        CreateStaffPayload::from_result(
            org::create_staff(
                ctx.db()?,
                ctx.actor()?,
                &ctx.state()?.guards,
                ctx.now()?,
                input,
            )
            .await,
            Staff,
        )
    }

    /// Deactivates a staff member and hands their customers to a colleague.
    async fn deactivate_staff(
        &self,
        ctx: &Context<'_>,
        input: super::leaving::DeactivateStaffInput,
    ) -> async_graphql::Result<DeactivateStaffPayload> {
        let r = super::leaving::deactivate_staff(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        if let Ok((s, _)) = &r {
            ctx.state()?.actors.forget(Some(s.id));
        }
        let (v, user_errors) = crate::error::into_payload(r)?;
        Ok(match v {
            Some((s, n)) => DeactivateStaffPayload {
                staff: Some(Staff(s)),
                reassigned_customers: n,
                user_errors,
            },
            None => DeactivateStaffPayload {
                staff: None,
                reassigned_customers: 0,
                user_errors,
            },
        })
    }

    /// Changes your own password; every other session ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let r = org::change_password(
            ctx.db()?,
            ctx.actor()?,
            &ctx.state()?.guards,
            ctx.now()?,
            &input.current_password,
            &input.new_password,
        )
        .await;
        ChangePasswordPayload::from_result(r, Staff)
    }
}
