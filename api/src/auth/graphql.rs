//! login, refresh, logout, me.
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::store::{self, Session};
use crate::{
    error::{into_payload, UserError},
    graphql::context::{CtxExt, LoginBudget},
    org::graphql::Staff,
};

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// Username or mobile number.
    pub login: String,
    /// Password.
    pub password: String,
}

/// A refresh token to spend or end.
#[derive(InputObject)]
pub struct RefreshInput {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// A new session: tokens and who they belong to.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: Option<String>,
    /// When the access token stops working.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Single use: trade it for the next pair with `refresh`.
    pub refresh_token: Option<String>,
    /// When the refresh token stops working.
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// The signed-in staff member.
    pub staff: Option<Staff>,
    /// Why no session was opened.
    pub user_errors: Vec<UserError>,
}

impl AuthPayload {
    fn from(r: crate::error::ApiResult<Session>) -> async_graphql::Result<Self> {
        let (s, user_errors) = into_payload(r)?;
        Ok(match s {
            Some(s) => AuthPayload {
                access_token: Some(s.access_token),
                access_token_expires_at: Some(s.access_expires_at),
                refresh_token: Some(s.refresh_token),
                refresh_token_expires_at: Some(s.refresh_expires_at),
                staff: Some(Staff(s.staff)),
                user_errors,
            },
            None => AuthPayload {
                access_token: None,
                access_token_expires_at: None,
                refresh_token: None,
                refresh_token_expires_at: None,
                staff: None,
                user_errors,
            },
        })
    }
}

/// The result of logout.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the session (if any) is over.
    pub ok: bool,
    /// Unused; present for a uniform payload shape.
    pub user_errors: Vec<UserError>,
}

/// Who am I.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in staff member.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Staff> {
        let actor = ctx.actor()?;
        let me = crate::org::store::staff_by_id(ctx.db()?, actor.staff_id)
            .await?
            .ok_or(crate::error::ApiError::NotFound)?;
        Ok(Staff(me))
    }
}

/// Sessions.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in with username (or mobile) and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        LoginBudget::spend(ctx)?;
        let st = ctx.state()?;
        let from = ctx.data::<crate::http::ClientAddr>().ok().and_then(|a| a.0);
        AuthPayload::from(
            store::login(
                &st.db,
                &st.keys,
                &st.guards,
                from,
                st.clock.now(),
                &input.login,
                &input.password,
            )
            .await,
        )
    }

    /// Trades a refresh token for a new pair. Each refresh token works once;
    /// presenting a used one ends every session of that login.
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        input: RefreshInput,
    ) -> async_graphql::Result<AuthPayload> {
        LoginBudget::spend(ctx)?;
        let st = ctx.state()?;
        AuthPayload::from(
            store::refresh(&st.db, &st.keys, st.clock.now(), &input.refresh_token).await,
        )
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: RefreshInput,
    ) -> async_graphql::Result<LogoutPayload> {
        let st = ctx.state()?;
        store::logout(&st.db, st.clock.now(), &input.refresh_token).await?;
        Ok(LogoutPayload {
            ok: true,
            user_errors: Vec::new(),
        })
    }
}
