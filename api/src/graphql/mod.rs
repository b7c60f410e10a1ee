//! Schema assembly, request context, the Node interface and enum labels.
pub mod connection;
pub mod loaders;

use async_graphql::{
    dataloader::DataLoader,
    extensions::apollo_persisted_queries::{ApolloPersistedQueries, LruCacheStorage},
    Context, Interface, MergedObject, MergedSubscription, Object, Schema, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    auth::{self, Actor},
    customers::{
        self,
        graphql::{Customer, CustomerLogEntry, Vehicle},
    },
    error::{ApiError, ApiResult},
    ids::{self, NodeKind},
    labels::EnumLabel,
    org::{
        self,
        graphql::{Staff, Store, Team},
    },
    tasks::{
        self,
        graphql::{Notification, Task},
    },
    AppState,
};
use loaders::AppLoader;

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
    /// The signed-in actor, or UNAUTHENTICATED.
    fn actor(&self) -> ApiResult<&Actor>;
    /// "Now" from the injected clock.
    fn now(&self) -> ApiResult<DateTime<Utc>> {
        Ok(self.state()?.clock.now())
    }
    /// The request's DataLoader.
    fn loader(&self) -> ApiResult<&DataLoader<AppLoader>>;
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

    fn loader(&self) -> ApiResult<&DataLoader<AppLoader>> {
        self.data::<DataLoader<AppLoader>>().map_err(|_| {
            // No loader means no actor: report it as such.
            match self.actor() {
                Err(e) => e,
                Ok(_) => missing("loader"),
            }
        })
    }
}

/// Any object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global, opaque id."))]
pub enum Node {
    /// A customer.
    Customer(Customer),
    /// A vehicle.
    Vehicle(Vehicle),
    /// A customer log entry.
    CustomerLogEntry(CustomerLogEntry),
    /// A staff member.
    Staff(Staff),
    /// A store.
    Store(Store),
    /// A team.
    Team(Team),
    /// A follow-up task.
    Task(Task),
    /// A notification.
    Notification(Notification),
}

async fn resolve_node(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Node>> {
    let Some((kind, uuid)) = ids::decode_any(id) else {
        return Ok(None);
    };
    let db = ctx.db()?;
    let actor = ctx.actor()?;
    Ok(match kind {
        NodeKind::Customer => customers::store::find(db, actor, uuid)
            .await?
            .map(|c| Node::Customer(Customer(c))),
        NodeKind::Vehicle => customers::vehicles::find(db, actor, uuid)
            .await?
            .map(|v| Node::Vehicle(Vehicle(v))),
        NodeKind::Staff => org::store::find_staff(db, actor, uuid)
            .await?
            .map(|s| Node::Staff(Staff(s))),
        NodeKind::Store => org::store::find_store(db, actor, uuid)
            .await?
            .map(|s| Node::Store(Store(s))),
        NodeKind::CustomerLogEntry => customers::graphql::log_entry(db, actor, uuid)
            .await?
            .map(Node::CustomerLogEntry),
        NodeKind::Team => org::graphql::team(db, actor, uuid).await?.map(Node::Team),
        NodeKind::Task => tasks::store::find(db, actor, uuid)
            .await?
            .map(|t| Node::Task(Task(t))),
        NodeKind::Oem | NodeKind::DealerGroup | NodeKind::Notification => None,
    })
}

/// The labels of one enum.
#[derive(SimpleObject)]
pub struct EnumLabels {
    /// The enum's GraphQL name.
    pub name: &'static str,
    /// Its values with labels.
    pub values: Vec<EnumLabel>,
}

fn all_labels() -> Vec<EnumLabels> {
    use crate::{
        auth::Role,
        customers::rules::*,
        error::UserErrorCode,
        org::rules::DealerGrade,
        tasks::{events::TaskChange, rules::*},
    };
    macro_rules! labels {
        ($($t:ident),+) => { vec![$(EnumLabels { name: stringify!($t), values: $t::labels() }),+] };
    }
    labels![
        Role,
        DealerGrade,
        Gender,
        CustomerSource,
        LifecycleStage,
        LogKind,
        Channel,
        MileageSource,
        PhoneKind,
        UserErrorCode,
        TaskKind,
        TaskStatus,
        TaskChange,
        NotificationChannel,
        NotificationCategory,
        NotificationStatus
    ]
}

/// Queries that belong to no one domain.
#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// Any object by its global id; null when missing or not yours to see.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        Ok(resolve_node(ctx, &id).await?)
    }

    /// Several objects by global id, in the same order (null where missing).
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(ApiError::BadInput("at most 100 ids".into()).into());
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(resolve_node(ctx, id).await?);
        }
        Ok(out)
    }

    /// English and Chinese labels of every enum (all, or the one named).
    async fn enum_labels(&self, name: Option<String>) -> Vec<EnumLabels> {
        all_labels()
            .into_iter()
            .filter(|e| name.as_deref().is_none_or(|n| n == e.name))
            .collect()
    }
}

/// The root query.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    CoreQuery,
    tasks::graphql::TaskQuery,
    auth::graphql::AuthQuery,
    org::graphql::OrgQuery,
    customers::graphql::CustomerQuery,
);

/// The root mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    tasks::graphql::TaskMutation,
    auth::graphql::AuthMutation,
    org::graphql::OrgMutation,
    customers::graphql::CustomerMutation,
);

/// The root subscription.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(tasks::graphql::TaskSubscription);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// How deep the standard introspection query of graphql-js and its tools
/// goes, with room: the schema-wide backstop. Data queries are held to the
/// configured depth before they reach the schema (`http::graphql_http`).
pub const INTROSPECTION_DEPTH: usize = 20;

/// Builds the schema with its limits; `state` is None only for SDL export.
pub fn build_schema(state: Option<AppState>, max_depth: usize, max_complexity: usize) -> AppSchema {
    let introspection = state
        .as_ref()
        .is_none_or(|s| s.config.introspection_enabled());
    let mut b = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(max_depth.max(INTROSPECTION_DEPTH))
    .limit_complexity(max_complexity)
    // Phones send a query's hash instead of its text once the server knows it.
    .extension(ApolloPersistedQueries::new(LruCacheStorage::new(2048)));
    if !introspection {
        b = b.disable_introspection();
    }
    if let Some(s) = state {
        b = b.data(s);
    }
    b.finish()
}

/// The schema as SDL, as committed in schema.graphql.
pub fn sdl() -> String {
    build_schema(None, 12, 5000).sdl()
}
