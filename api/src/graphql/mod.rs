//! Schema assembly, the Node interface and enum labels. What resolvers
//! share (context, payloads, connections, loaders) lives in leaf modules
//! beside it, so that domain rooms never import the assembly.
pub mod connection;
pub mod context;
pub mod loaders;

pub use context::{CtxExt, LoginBudget, RequestAuth};

use async_graphql::{
    Context, Interface, MergedObject, MergedSubscription, Object, Schema, SimpleObject, ID,
};

use crate::{
    auth,
    care::{
        self,
        graphql::{Complaint, SurveyResponse},
    },
    customers::{
        self,
        graphql::{Customer, CustomerLogEntry, Vehicle},
    },
    error::{ApiError, ApiResult},
    ids::{self, NodeKind},
    insights,
    labels::EnumLabel,
    org::{
        self,
        graphql::{Staff, Store, Team},
    },
    sales::{
        self,
        graphql::{DemoCar, Lead, SalesOrder, TestDrive},
    },
    service::{
        self,
        graphql::{Campaign, RepairOrder, ServiceAppointment, WarrantyClaim},
    },
    tasks::{
        self,
        graphql::{Notification, Task},
    },
    AppState,
};

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
    /// A sales lead.
    Lead(Lead),
    /// A demo car.
    DemoCar(DemoCar),
    /// A test drive.
    TestDrive(TestDrive),
    /// A sales order.
    SalesOrder(SalesOrder),
    /// A repair order.
    RepairOrder(RepairOrder),
    /// A service appointment.
    ServiceAppointment(ServiceAppointment),
    /// A warranty claim.
    WarrantyClaim(WarrantyClaim),
    /// A recall or service campaign.
    Campaign(Campaign),
    /// A customer complaint.
    Complaint(Complaint),
    /// A customer's survey answers.
    SurveyResponse(SurveyResponse),
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
        NodeKind::Lead => sales::leads::find(db, actor, uuid)
            .await?
            .map(|l| Node::Lead(Lead(l))),
        NodeKind::TestDrive => sales::drives::find(db, actor, uuid)
            .await?
            .map(|d| Node::TestDrive(TestDrive(d))),
        NodeKind::SalesOrder => sales::orders::find(db, actor, uuid)
            .await?
            .map(|o| Node::SalesOrder(SalesOrder(o))),
        NodeKind::DemoCar => sales::drives::cars_by_ids(db, actor, &[uuid])
            .await?
            .remove(&uuid)
            .map(|c| Node::DemoCar(DemoCar(c))),
        NodeKind::RepairOrder => service::orders::find(db, actor, uuid)
            .await?
            .map(|o| Node::RepairOrder(RepairOrder(o))),
        NodeKind::ServiceAppointment => service::appointments::find(db, actor, uuid)
            .await?
            .map(|a| Node::ServiceAppointment(ServiceAppointment(a))),
        NodeKind::WarrantyClaim => service::claims::find(db, actor, uuid)
            .await
            .ok()
            .flatten()
            .map(|c| Node::WarrantyClaim(WarrantyClaim(c))),
        NodeKind::Campaign => service::campaigns::find(db, actor, uuid)
            .await?
            .map(|c| Node::Campaign(Campaign(c))),
        NodeKind::Complaint => care::complaints::find(db, actor, uuid)
            .await
            .ok()
            .flatten()
            .map(|c| Node::Complaint(Complaint(c))),
        NodeKind::SurveyResponse => care::surveys::find(db, actor, uuid)
            .await?
            .map(|s| Node::SurveyResponse(SurveyResponse(s))),
        NodeKind::CampaignVehicle | NodeKind::SurveyTemplate | NodeKind::WorkPlan => None,
        NodeKind::Oem | NodeKind::DealerGroup | NodeKind::Notification | NodeKind::LeadSource => {
            None
        }
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
        care::rules::{
            ComplaintActionKind, ComplaintCategory, ComplaintCause, ComplaintChannel,
            ComplaintStatus, Department, LeaveReason, RevisitMethod, Risk, Segment, Severity,
            SlaState, Stage, SurveyKind, WinBackResult,
        },
        customers::rules::*,
        error::UserErrorCode,
        insights::rules::{PlanMethod, WorkPlanKind},
        org::rules::DealerGrade,
        sales::rules::*,
        service::rules::*,
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
        WarrantyStatus,
        UserErrorCode,
        TaskKind,
        TaskStatus,
        TaskChange,
        NotificationChannel,
        NotificationCategory,
        NotificationStatus,
        LeadGrade,
        LeadStatus,
        PurchaseTiming,
        LostReason,
        TestDriveStatus,
        OrderStatus,
        PaymentMethod,
        ServiceBasis,
        AppointmentSource,
        AppointmentStatus,
        RepairKind,
        RepairStatus,
        ServicePayment,
        ClaimStatus,
        CampaignKind,
        CampaignVehicleStatus,
        WorkPlanKind,
        PlanMethod,
        ComplaintChannel,
        ComplaintCategory,
        ComplaintCause,
        Severity,
        ComplaintStatus,
        Department,
        ComplaintActionKind,
        SlaState,
        RevisitMethod,
        SurveyKind,
        Stage,
        Risk,
        Segment,
        LeaveReason,
        WinBackResult
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

    /// Today in your store's time zone (for staff above a store, the zone
    /// of their first store): where a screen's "this month" starts.
    async fn today(&self, ctx: &Context<'_>) -> async_graphql::Result<chrono::NaiveDate> {
        let actor = ctx.actor()?;
        Ok(org::rules::local_day(actor.zone, ctx.now()?))
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
    sales::graphql::SalesQuery,
    service::graphql::ServiceQuery,
    care::graphql::CareQuery,
    insights::graphql::InsightsQuery,
);

/// The root mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    tasks::graphql::TaskMutation,
    auth::graphql::AuthMutation,
    org::graphql::OrgMutation,
    customers::graphql::CustomerMutation,
    sales::graphql::SalesMutation,
    service::graphql::ServiceMutation,
    care::graphql::CareMutation,
    insights::graphql::InsightsMutation,
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
    .limit_complexity(max_complexity);
    // No schema extension: one would run for every field of every response.
    // Persisted queries (phones send a query's hash once the server knows
    // the text) are served before the schema, by `http::documents`.
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
