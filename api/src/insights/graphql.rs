//! Reports, plans and targets over GraphQL: thin, every rule is in the
//! rooms below. Reports read the reporting pool (a replica when one is
//! configured); plans and targets are written to the primary.
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;

use super::{
    plans::{
        self, CreateWorkPlanInput, ScorecardRow, SetStaffTargetInput, StaffTargets,
        UpdateWorkPlanInput, WorkPlan,
    },
    store::{self, ComplaintRow, FollowUpRow, FunnelRow, ReportBy, ReportFilter, ServiceRow},
    value::{self, CustomerValueReport, StoreTrend},
};
use crate::graphql::context::{payload, CtxExt};

payload!(
    /// Result of a change to a work plan.
    WorkPlanPayload { plan: WorkPlan }
);
payload!(
    /// Result of setStaffTarget.
    StaffTargetPayload { target: StaffTargets }
);
payload!(
    /// Result of deleteWorkPlan.
    DeleteWorkPlanPayload { deleted_id: ID }
);

/// Reports for managers (store, group, OEM), in the caller's reach.
#[derive(Default)]
pub struct InsightsQuery;

#[Object]
impl InsightsQuery {
    /// The sales funnel of the leads created in the period: leads,
    /// contacted, test-driven, ordered, delivered, lost, the rates between
    /// them and first-response times, grouped by `by` (period, store,
    /// staff, channel, grade, model, lost reason).
    async fn sales_funnel(
        &self,
        ctx: &Context<'_>,
        filter: ReportFilter,
        #[graphql(default_with = "ReportBy::Period")] by: ReportBy,
    ) -> async_graphql::Result<Vec<FunnelRow>> {
        Ok(store::sales_funnel(ctx.reports_db()?, ctx.actor()?, &filter, by).await?)
    }

    /// The workshop: car entries, revenue, first-time fix, promises kept
    /// and CSI, grouped by period, store, staff (advisor) or model. The
    /// surveys are read only when `csi` or `surveys` is selected.
    async fn service_report(
        &self,
        ctx: &Context<'_>,
        filter: ReportFilter,
        #[graphql(default_with = "ReportBy::Period")] by: ReportBy,
    ) -> async_graphql::Result<Vec<ServiceRow>> {
        let ahead = ctx.look_ahead();
        let with_csi = ahead.field("csi").exists() || ahead.field("surveys").exists();
        Ok(store::service_report(ctx.reports_db()?, ctx.actor()?, &filter, by, with_csi).await?)
    }

    /// Complaints received in the period: counts, share within SLA,
    /// overdue and escalated, grouped by period, store, staff (owner),
    /// cause, category, department or channel.
    async fn complaint_report(
        &self,
        ctx: &Context<'_>,
        filter: ReportFilter,
        #[graphql(default_with = "ReportBy::Period")] by: ReportBy,
    ) -> async_graphql::Result<Vec<ComplaintRow>> {
        Ok(
            store::complaint_report(ctx.reports_db()?, ctx.actor()?, ctx.now()?, &filter, by)
                .await?,
        )
    }

    /// Revisits due in the period and done on time; warranty claims opened
    /// in the period, filed on time, approved and paid.
    async fn follow_up_report(
        &self,
        ctx: &Context<'_>,
        filter: ReportFilter,
        #[graphql(default_with = "ReportBy::Period")] by: ReportBy,
    ) -> async_graphql::Result<Vec<FollowUpRow>> {
        Ok(store::follow_up_report(ctx.reports_db()?, ctx.actor()?, &filter, by).await?)
    }

    /// Each staff member's month (`YYYY-MM`) against their targets, in the
    /// stores `filter` picks (its dates are ignored).
    async fn staff_scorecard(
        &self,
        ctx: &Context<'_>,
        month: String,
        filter: Option<ReportFilter>,
    ) -> async_graphql::Result<Vec<ScorecardRow>> {
        let today = ctx.now()?.date_naive();
        let filter = filter.unwrap_or_else(|| any_period(today));
        Ok(plans::scorecard(ctx.reports_db()?, ctx.actor()?, &month, filter).await?)
    }

    /// Who brings the revenue: the top `topShare` of customers and their
    /// share of it, stages, segments and lifetime value, in the stores
    /// `filter` picks (its dates are ignored).
    async fn customer_value_report(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReportFilter>,
        #[graphql(default = 0.2)] top_share: f64,
    ) -> async_graphql::Result<CustomerValueReport> {
        let now = ctx.now()?;
        let filter = filter.unwrap_or_else(|| any_period(now.date_naive()));
        Ok(value::customer_value(ctx.reports_db()?, ctx.actor()?, now, filter, top_share).await?)
    }

    /// A store's car entries and service revenue per month (`months` up to
    /// this one), each against the mean of the months before it, with an
    /// alert where it fell the store's `trendAlertPercent` below. Your own
    /// store unless `storeId` names one in your reach.
    async fn store_trend(
        &self,
        ctx: &Context<'_>,
        store_id: Option<ID>,
        #[graphql(default = 12)] months: i32,
    ) -> async_graphql::Result<StoreTrend> {
        Ok(value::store_trend(
            ctx.reports_db()?,
            ctx.actor()?,
            ctx.now()?,
            store_id,
            months,
        )
        .await?)
    }

    /// Work plans of the stores in reach that overlap [from, to], with the
    /// actual count done so far and their status.
    async fn work_plans(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> async_graphql::Result<Vec<WorkPlan>> {
        Ok(plans::list(ctx.db()?, ctx.actor()?, ctx.now()?, from, to).await?)
    }
}

/// A filter that picks every store in reach (for reports that take no
/// period of their own).
fn any_period(today: NaiveDate) -> ReportFilter {
    ReportFilter {
        from: today,
        to: today,
        ..Default::default()
    }
}

/// Plans and targets (store managers).
#[derive(Default)]
pub struct InsightsMutation;

#[Object]
impl InsightsMutation {
    /// Plans work for a period in your store.
    async fn create_work_plan(
        &self,
        ctx: &Context<'_>,
        input: CreateWorkPlanInput,
    ) -> async_graphql::Result<WorkPlanPayload> {
        WorkPlanPayload::from_result(
            plans::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |p| p,
        )
    }

    /// Changes a work plan of your store.
    async fn update_work_plan(
        &self,
        ctx: &Context<'_>,
        input: UpdateWorkPlanInput,
    ) -> async_graphql::Result<WorkPlanPayload> {
        WorkPlanPayload::from_result(
            plans::update(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |p| p,
        )
    }

    /// Deletes a work plan of your store.
    async fn delete_work_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeleteWorkPlanPayload> {
        DeleteWorkPlanPayload::from_result(plans::delete(ctx.db()?, ctx.actor()?, &id).await, |i| i)
    }

    /// Sets a staff member's targets for a month (units stay with
    /// `setSalesQuota`).
    async fn set_staff_target(
        &self,
        ctx: &Context<'_>,
        input: SetStaffTargetInput,
    ) -> async_graphql::Result<StaffTargetPayload> {
        StaffTargetPayload::from_result(
            plans::set_target(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |t| t,
        )
    }
}
