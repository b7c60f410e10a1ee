//! What every resolver reaches: the request's auth, the state, the loader,
//! the payload macro. A leaf of the GraphQL layer: domain rooms import it,
//! it imports no domain room and not the schema assembly.
use async_graphql::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::loaders::RequestLoader;
use crate::{
    auth::Actor,
    error::{ApiError, ApiResult},
    AppState,
};

/// Declares a mutation payload: the changed object and `userErrors`.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $field:ident : $ty:ty }) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            /// The object, when the mutation succeeded.
            pub $field: Option<$ty>,
            /// Why the mutation did nothing, when it did nothing.
            pub user_errors: Vec<$crate::error::UserError>,
        }

        impl $name {
            /// The payload for a store result; unexpected failures stay errors.
            pub fn from_result<M>(r: $crate::error::ApiResult<M>, wrap: impl FnOnce(M) -> $ty) -> async_graphql::Result<Self> {
                let (v, user_errors) = $crate::error::into_payload(r)?;
                Ok($name { $field: v.map(wrap), user_errors })
            }
        }
    };
}
pub(crate) use payload;

/// Who sent this request, as far as the token says.
#[derive(Clone, Debug)]
pub enum RequestAuth {
    /// A valid token of an active staff member.
    Actor(Actor),
    /// No token at all.
    Anonymous,
    /// A token that was rejected, and why.
    Rejected(&'static str),
    /// A token that was good but has expired: refresh, do not sign in again.
    Expired,
}

/// One `login` or `refresh` per HTTP request, so that aliases cannot turn
/// one request into hundreds of password checks. Absent (over the socket),
/// signing in is refused.
#[derive(Default)]
pub struct LoginBudget(std::sync::atomic::AtomicBool);

impl LoginBudget {
    /// Spends the request's one sign-in; RATE_LIMITED when already spent.
    pub fn spend(ctx: &Context<'_>) -> ApiResult<()> {
        let spent = ctx
            .data::<LoginBudget>()
            .map(|b| b.0.swap(true, std::sync::atomic::Ordering::SeqCst))
            .unwrap_or(true);
        if spent {
            return Err(ApiError::RateLimited {
                retry_after_secs: 0,
                why: "one login or refresh per HTTP request",
            });
        }
        Ok(())
    }
}

/// What resolvers reach through the context.
pub trait CtxExt {
    /// The application state.
    fn state(&self) -> ApiResult<&AppState>;
    /// The database pool.
    fn db(&self) -> ApiResult<&DatabaseConnection> {
        Ok(&self.state()?.db)
    }
    /// Where reports read: the read replica when one is configured (it may
    /// trail the primary by its lag), else the primary.
    fn reports_db(&self) -> ApiResult<&DatabaseConnection> {
        Ok(&self.state()?.reports)
    }
    /// The signed-in actor, or UNAUTHENTICATED.
    fn actor(&self) -> ApiResult<&Actor>;
    /// "Now" from the injected clock.
    fn now(&self) -> ApiResult<DateTime<Utc>> {
        Ok(self.state()?.clock.now())
    }
    /// The request's DataLoader.
    fn loader(&self) -> ApiResult<&RequestLoader>;
}

fn missing(what: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{what} missing from the GraphQL context"))
}

impl CtxExt for Context<'_> {
    fn state(&self) -> ApiResult<&AppState> {
        self.data::<AppState>().map_err(|_| missing("state"))
    }

    fn actor(&self) -> ApiResult<&Actor> {
        match self.data::<RequestAuth>() {
            Ok(RequestAuth::Actor(a)) => Ok(a),
            Ok(RequestAuth::Rejected(why)) => Err(ApiError::Unauthenticated(why)),
            Ok(RequestAuth::Expired) => Err(ApiError::TokenExpired),
            _ => Err(ApiError::Unauthenticated(
                "sign in first: send Authorization: Bearer <accessToken>",
            )),
        }
    }

    fn loader(&self) -> ApiResult<&RequestLoader> {
        self.data::<RequestLoader>().map_err(|_| {
            // No loader means no actor: report it as such.
            match self.actor() {
                Err(e) => e,
                Ok(_) => missing("loader"),
            }
        })
    }
}
