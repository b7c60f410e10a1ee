//! Sales over GraphQL: leads, test drives, orders, PDI, delivery, quotas
//! and the webhook's sources. Thin: every decision is in the rooms beside.
use std::collections::HashMap;

use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{demo_car, lead, lead_source, sales_order, test_drive};

use super::{
    drives::{self, BookTestDriveInput, CompleteTestDriveInput, CreateDemoCarInput},
    hooks::{self, CreateLeadSourceInput, UpdateLeadSourceInput},
    intake,
    leads::{
        self, AssignLeadInput, CreateLeadInput, KeyCount, LeadFilter, LogLeadFollowUpInput,
        MarkLeadLostInput, OutcomeGrouping, OutcomeRow,
    },
    orders::{
        self, AdvanceSalesOrderInput, CancelSalesOrderInput, CreateSalesOrderInput,
        DeliverSalesOrderInput, PdiCheck, Performance, RecordPdiInput, SetPdiChecklistInput,
        SetSalesQuotaInput,
    },
    rules::{
        self, LeadGrade, LeadStatus, LostReason, OrderStatus, PaymentMethod, PurchaseTiming,
        TestDriveStatus,
    },
};
use crate::{
    customers::{
        graphql::{Customer, Vehicle},
        rules::CustomerSource,
    },
    error::{into_payload, UserError},
    graphql::{
        connection::{page_args, to_connection, wants_total, Conn},
        context::{payload, CtxExt},
        loaders::{
            CustomerKey, DemoCarKey, DrivesOf, IntakeOf, LeadKey, LeadsOf, OrdersOf, StaffKey,
            StoreKey, VehicleKey,
        },
    },
    ids::{self, NodeKind},
    org::{graphql::Staff, rules::StoreSettings, store as org},
};

async fn staff(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> async_graphql::Result<Option<Staff>> {
    match id {
        Some(id) => Ok(ctx.loader()?.load_one(StaffKey(id)).await?.map(Staff)),
        None => Ok(None),
    }
}

async fn customer(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Customer>> {
    Ok(ctx.loader()?.load_one(CustomerKey(id)).await?.map(Customer))
}

async fn lead_of(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Lead>> {
    Ok(ctx.loader()?.load_one(LeadKey(id)).await?.map(Lead))
}

/// A sales opportunity: one customer's interest in buying, from one channel.
pub struct Lead(pub lead::Model);

impl Lead {
    async fn settings(&self, ctx: &Context<'_>) -> async_graphql::Result<StoreSettings> {
        Ok(ctx
            .loader()?
            .load_one(StoreKey(self.0.store_id))
            .await?
            .map(|s| StoreSettings::from_json(&s.settings))
            .unwrap_or_default())
    }
}

#[Object]
impl Lead {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Lead, self.0.id)
    }
    /// The customer (their vehicles, past leads and log are what the store
    /// already knows).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The consultant who has it; null while in the unassigned queue.
    async fn consultant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.0.consultant_id).await
    }
    /// The channel it came from.
    async fn channel(&self) -> CustomerSource {
        CustomerSource::parse(&self.0.channel).unwrap_or(CustomerSource::Other)
    }
    /// Which portal, site or event.
    async fn source_detail(&self) -> Option<&str> {
        self.0.source_detail.as_deref()
    }
    /// The campaign.
    async fn campaign(&self) -> Option<&str> {
        self.0.campaign.as_deref()
    }
    /// The source's own id (webhook leads).
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// The model of interest.
    async fn interest_model(&self) -> Option<&str> {
        self.0.interest_model.as_deref()
    }
    /// Budget, yuan.
    async fn budget_yuan(&self) -> Option<i64> {
        self.0.budget_yuan
    }
    /// When the customer means to buy.
    async fn purchase_timing(&self) -> PurchaseTiming {
        self.0
            .purchase_timing
            .as_deref()
            .and_then(PurchaseTiming::parse)
            .unwrap_or(PurchaseTiming::Unknown)
    }
    /// Brings a car to trade in.
    async fn trade_in(&self) -> bool {
        self.0.trade_in
    }
    /// The trade-in car's model.
    async fn trade_in_model(&self) -> Option<&str> {
        self.0.trade_in_model.as_deref()
    }
    /// Intent grade.
    async fn grade(&self) -> LeadGrade {
        leads::grade(&self.0)
    }
    /// Where it stands.
    async fn status(&self) -> LeadStatus {
        leads::status(&self.0)
    }
    /// When the first contact is due (business hours).
    async fn first_response_due_at(&self) -> DateTime<Utc> {
        self.0.first_response_due_at
    }
    /// When the first contact happened.
    async fn first_responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_responded_at
    }
    /// Whether the first contact came (or is still missing) after the deadline.
    async fn first_response_late(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let at = self.0.first_responded_at.unwrap_or(ctx.now()?);
        Ok(at > self.0.first_response_due_at)
    }
    /// The last contact.
    async fn last_contact_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_contact_at
    }
    /// When the next follow-up is due (null once closed).
    async fn next_follow_up_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_follow_up_at
    }
    /// Follow-ups logged.
    async fn follow_ups(&self) -> i32 {
        self.0.follow_ups
    }
    /// Open, and no contact for the store's dormant period.
    async fn dormant(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if !leads::status(&self.0).is_open() {
            return Ok(false);
        }
        let s = self.settings(ctx).await?;
        let last = self.0.last_contact_at.unwrap_or(self.0.created_at);
        Ok(rules::is_dormant(&s, last, ctx.now()?))
    }
    /// The day by which an H, A or B lead expects to buy (the store's
    /// purchase horizon from the last contact).
    async fn purchase_expected_by(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<NaiveDate>> {
        let s = self.settings(ctx).await?;
        let from = self
            .0
            .last_contact_at
            .unwrap_or(self.0.created_at)
            .date_naive();
        Ok(rules::horizon_days(&s, leads::grade(&self.0))
            .map(|d| from + chrono::Duration::days(d as i64)))
    }
    /// Why it was lost.
    async fn lost_reason(&self) -> Option<LostReason> {
        self.0.lost_reason.as_deref().and_then(LostReason::parse)
    }
    /// The competitor's brand bought.
    async fn lost_to_brand(&self) -> Option<&str> {
        self.0.lost_to_brand.as_deref()
    }
    /// The competitor's model bought.
    async fn lost_to_model(&self) -> Option<&str> {
        self.0.lost_to_model.as_deref()
    }
    /// More words on the loss.
    async fn lost_note(&self) -> Option<&str> {
        self.0.lost_note.as_deref()
    }
    /// When it was won or lost.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// When it arrived.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its test drives.
    async fn test_drives(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TestDrive>> {
        let d = ctx.loader()?.load_one(DrivesOf(self.0.id)).await?;
        Ok(d.unwrap_or_default().into_iter().map(TestDrive).collect())
    }
    /// Its orders, newest first.
    async fn orders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SalesOrder>> {
        let o = ctx.loader()?.load_one(OrdersOf(self.0.id)).await?;
        Ok(o.unwrap_or_default().into_iter().map(SalesOrder).collect())
    }
    /// The customer's other leads, newest first: nobody asks twice.
    async fn other_leads(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Lead>> {
        let all = ctx.loader()?.load_one(LeadsOf(self.0.customer_id)).await?;
        Ok(all
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.id != self.0.id)
            .map(Lead)
            .collect())
    }
}

/// A car of the store's demo fleet.
pub struct DemoCar(pub demo_car::Model);

#[Object]
impl DemoCar {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::DemoCar, self.0.id)
    }
    /// Model.
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// Trim.
    async fn trim(&self) -> Option<&str> {
        self.0.trim.as_deref()
    }
    /// Plate.
    async fn plate(&self) -> &str {
        &self.0.plate
    }
    /// In the fleet and bookable.
    async fn available(&self) -> bool {
        self.0.available
    }
}

/// A test drive.
pub struct TestDrive(pub test_drive::Model);

#[Object]
impl TestDrive {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::TestDrive, self.0.id)
    }
    /// The lead.
    async fn lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        lead_of(ctx, self.0.lead_id).await
    }
    /// The demo car.
    async fn demo_car(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DemoCar>> {
        Ok(ctx
            .loader()?
            .load_one(DemoCarKey(self.0.demo_car_id))
            .await?
            .map(DemoCar))
    }
    /// The consultant riding along.
    async fn consultant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.0.consultant_id)).await
    }
    /// Start.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// End.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// The customer's driver's licence number.
    async fn licence_no(&self) -> &str {
        &self.0.licence_no
    }
    /// When the agreement was signed.
    async fn agreement_signed_at(&self) -> Option<DateTime<Utc>> {
        self.0.agreement_signed_at
    }
    /// Route.
    async fn route(&self) -> Option<&str> {
        self.0.route.as_deref()
    }
    /// Odometer at the start.
    async fn start_km(&self) -> Option<i32> {
        self.0.start_km
    }
    /// Odometer at the end.
    async fn end_km(&self) -> Option<i32> {
        self.0.end_km
    }
    /// The customer's feedback.
    async fn feedback(&self) -> Option<&str> {
        self.0.feedback.as_deref()
    }
    /// The customer's rating, 1 to 5.
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    /// Where it stands.
    async fn status(&self) -> TestDriveStatus {
        TestDriveStatus::parse(&self.0.status).unwrap_or(TestDriveStatus::Booked)
    }
}

/// How an order is paid.
#[derive(SimpleObject)]
pub struct Payment {
    /// Cash or loan.
    pub method: PaymentMethod,
    /// Loan provider.
    pub loan_provider: Option<String>,
    /// Loan term, months.
    pub loan_term_months: Option<i32>,
    /// Down payment, yuan.
    pub down_payment_yuan: Option<i64>,
}

#[ComplexObject]
impl PdiCheck {
    /// Who checked it.
    async fn checked_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.by)).await
    }
}

/// A car order.
pub struct SalesOrder(pub sales_order::Model);

#[Object]
impl SalesOrder {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::SalesOrder, self.0.id)
    }
    /// The lead.
    async fn lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        lead_of(ctx, self.0.lead_id).await
    }
    /// The buyer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The selling consultant.
    async fn consultant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.0.consultant_id)).await
    }
    /// Model.
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// Trim.
    async fn trim(&self) -> Option<&str> {
        self.0.trim.as_deref()
    }
    /// Colour.
    async fn colour(&self) -> Option<&str> {
        self.0.colour.as_deref()
    }
    /// List price, yuan.
    async fn price_yuan(&self) -> i64 {
        self.0.price_yuan
    }
    /// Discount, yuan.
    async fn discount_yuan(&self) -> i64 {
        self.0.discount_yuan
    }
    /// Price less discount, yuan.
    async fn net_price_yuan(&self) -> i64 {
        self.0.price_yuan - self.0.discount_yuan
    }
    /// Deposit, yuan.
    async fn deposit_yuan(&self) -> i64 {
        self.0.deposit_yuan
    }
    /// Payment.
    async fn payment(&self) -> Payment {
        Payment {
            method: PaymentMethod::parse(&self.0.payment).unwrap_or(PaymentMethod::Cash),
            loan_provider: self.0.loan_provider.clone(),
            loan_term_months: self.0.loan_term_months,
            down_payment_yuan: self.0.down_payment_yuan,
        }
    }
    /// Insurance chosen.
    async fn insurance(&self) -> Option<&str> {
        self.0.insurance.as_deref()
    }
    /// Trade-in.
    async fn trade_in(&self) -> Option<&str> {
        self.0.trade_in.as_deref()
    }
    /// Accessories.
    async fn accessories(&self) -> Option<&str> {
        self.0.accessories.as_deref()
    }
    /// The consultant's commission, yuan: shown to that consultant and the
    /// store's managers only, null to everyone else.
    async fn commission_yuan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(orders::sees_commission(ctx.actor()?, &self.0).then_some(self.0.commission_yuan))
    }
    /// Where it stands.
    async fn status(&self) -> OrderStatus {
        orders::status(&self.0)
    }
    /// The PDI lines checked so far, in checklist order.
    async fn pdi(&self) -> Vec<PdiCheck> {
        orders::checks(&self.0)
    }
    /// When every line of the store's checklist had passed.
    async fn pdi_completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.pdi_completed_at
    }
    /// The car handed over.
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        match self.0.vehicle_id {
            Some(id) => Ok(ctx.loader()?.load_one(VehicleKey(id)).await?.map(Vehicle)),
            None => Ok(None),
        }
    }
    /// When it was handed over.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// When it was opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A channel that posts leads to `POST /hooks/leads`.
pub struct LeadSource(pub lead_source::Model);

#[Object]
impl LeadSource {
    /// Global id: send it as the `X-Lead-Source` header.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::LeadSource, self.0.id)
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The channel its leads count under.
    async fn channel(&self) -> CustomerSource {
        CustomerSource::parse(&self.0.channel).unwrap_or(CustomerSource::CarPortal)
    }
    /// Accepting leads.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Posted leads accepted (202) but not made into leads yet: normally 0
    /// moments after a burst.
    async fn waiting_leads(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.backlog(ctx).await?.waiting)
    }
    /// Posted leads given up after repeated failures (the server log says
    /// why); ask the portal to send them again once fixed.
    async fn failed_leads(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.backlog(ctx).await?.failed)
    }
}

impl LeadSource {
    async fn backlog(&self, ctx: &Context<'_>) -> async_graphql::Result<intake::Backlog> {
        let b = ctx.loader()?.load_one(IntakeOf(self.0.id)).await?;
        Ok(b.unwrap_or_default())
    }
}

/// Open leads of one grade.
#[derive(SimpleObject)]
pub struct LeadGroup {
    /// The grade.
    pub grade: LeadGrade,
    /// Its open leads, next follow-up first.
    pub leads: Vec<Lead>,
}

/// A consultant's phone view.
#[derive(SimpleObject)]
pub struct MyLeads {
    /// Open leads.
    pub open: i32,
    /// Of which the next follow-up is past due.
    pub overdue: i32,
    /// By grade, H first.
    pub groups: Vec<LeadGroup>,
}

/// One consultant's open leads on the board.
#[derive(SimpleObject)]
pub struct ConsultantLoad {
    /// The consultant (read with the board, in one statement).
    pub staff: Option<Staff>,
    /// Open leads.
    pub open: i64,
    /// Open H leads.
    pub h: i64,
    /// Open A leads.
    pub a: i64,
    /// Open B leads.
    pub b: i64,
    /// Open C leads.
    pub c: i64,
    /// Open leads whose next follow-up is past due.
    pub overdue: i64,
}

/// The store manager's lead board: counts, no customer data.
#[derive(SimpleObject)]
pub struct LeadBoard {
    /// Open leads nobody has.
    pub unassigned: i64,
    /// Open leads past their first-response deadline without contact.
    pub first_response_late: i64,
    /// Open leads without contact for the dormant period.
    pub dormant: i64,
    /// Open leads by status (won and lost: `leadOutcomes`).
    pub by_status: Vec<KeyCount>,
    /// Open leads by grade.
    pub by_grade: Vec<KeyCount>,
    /// Open leads per consultant.
    pub consultants: Vec<ConsultantLoad>,
}

#[ComplexObject]
impl Performance {
    /// The consultant.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, Some(self.staff_id)).await
    }
}

/// Result of createLead.
#[derive(SimpleObject)]
pub struct CreateLeadPayload {
    /// The lead.
    pub lead: Option<Lead>,
    /// Whether it attached to a customer already on file (their vehicles,
    /// leads and log are on `lead.customer`).
    pub attached_to_existing: bool,
    /// Why nothing was stored.
    pub user_errors: Vec<UserError>,
}

/// Result of createLeadSource and updateLeadSource.
#[derive(SimpleObject)]
pub struct CreateLeadSourcePayload {
    /// The source.
    pub source: Option<LeadSource>,
    /// The signing secret (new or rotated), shown this once: sign each body
    /// with HMAC-SHA256 and send `X-Signature: sha256=<hex>`.
    pub secret: Option<String>,
    /// Why nothing was stored.
    pub user_errors: Vec<UserError>,
}

payload!(
    /// Result of a change to a lead.
    LeadPayload { lead: Lead }
);
payload!(
    /// Result of a change to a demo car.
    DemoCarPayload { demo_car: DemoCar }
);
payload!(
    /// Result of a change to a test drive.
    TestDrivePayload { test_drive: TestDrive }
);
payload!(
    /// Result of a change to an order.
    SalesOrderPayload { order: SalesOrder }
);
payload!(
    /// Result of setPdiChecklist.
    PdiChecklistPayload { items: Vec<String> }
);
payload!(
    /// Result of setSalesQuota.
    SalesQuotaPayload { units: i32 }
);

/// Sales queries.
#[derive(Default)]
pub struct SalesQuery;

#[Object]
impl SalesQuery {
    /// A lead by id.
    async fn lead(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Lead>> {
        let Some(id) = ids::decode(&id, NodeKind::Lead) else {
            return Ok(None);
        };
        Ok(leads::find(ctx.db()?, ctx.actor()?, id).await?.map(Lead))
    }

    /// Leads, newest first: a consultant's own, the store's for managers
    /// (`unassigned: true` is their queue), consented ones beyond the store.
    async fn leads(
        &self,
        ctx: &Context<'_>,
        filter: Option<LeadFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Lead>> {
        let page = leads::list(
            ctx.db()?,
            ctx.actor()?,
            ctx.now()?,
            filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Lead))
    }

    /// The consultant's phone view: open leads by grade, next follow-up
    /// first, in one query.
    async fn my_leads(&self, ctx: &Context<'_>) -> async_graphql::Result<MyLeads> {
        let rows = leads::mine(ctx.db()?, ctx.actor()?).await?;
        let now = ctx.now()?;
        let overdue = rows
            .iter()
            .filter(|l| l.next_follow_up_at.is_some_and(|d| d < now))
            .count() as i32;
        let open = rows.len() as i32;
        let mut groups: Vec<LeadGroup> = [LeadGrade::H, LeadGrade::A, LeadGrade::B, LeadGrade::C]
            .into_iter()
            .map(|grade| LeadGroup {
                grade,
                leads: Vec::new(),
            })
            .collect();
        for l in rows {
            let i = match leads::grade(&l) {
                LeadGrade::H => 0,
                LeadGrade::A => 1,
                LeadGrade::B => 2,
                LeadGrade::C => 3,
            };
            groups[i].leads.push(Lead(l));
        }
        Ok(MyLeads {
            open,
            overdue,
            groups,
        })
    }

    /// A store's lead board (its managers, the group and the OEM).
    async fn lead_board(
        &self,
        ctx: &Context<'_>,
        store_id: ID,
    ) -> async_graphql::Result<LeadBoard> {
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        let b = leads::board(db, actor, &store_id, ctx.now()?).await?;
        // Up to a few hundred consultants: their rows in one statement,
        // handed over directly rather than through the loader one by one.
        let wanted = ctx
            .look_ahead()
            .field("consultants")
            .field("staff")
            .exists();
        let mut staff = if wanted {
            let ids: Vec<uuid::Uuid> = b.consultants.iter().map(|c| c.staff_id).collect();
            org::staff_by_ids(db, actor, &ids).await?
        } else {
            HashMap::new()
        };
        let consultants = b
            .consultants
            .into_iter()
            .map(|c| ConsultantLoad {
                staff: staff.remove(&c.staff_id).map(Staff),
                open: c.by_grade.iter().sum(),
                h: c.by_grade[0],
                a: c.by_grade[1],
                b: c.by_grade[2],
                c: c.by_grade[3],
                overdue: c.overdue,
            })
            .collect();
        Ok(LeadBoard {
            unassigned: b.unassigned,
            first_response_late: b.first_response_late,
            dormant: b.dormant,
            by_status: b.by_status,
            by_grade: b.by_grade,
            consultants,
        })
    }

    /// Won, lost and open counts of the leads created from `from` up to
    /// (not including) `to`, by channel, lost reason or consultant.
    async fn lead_outcomes(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        by: OutcomeGrouping,
    ) -> async_graphql::Result<Vec<OutcomeRow>> {
        Ok(leads::outcomes(ctx.db()?, ctx.actor()?, from, to, by).await?)
    }

    /// The store's demo fleet.
    async fn demo_cars(
        &self,
        ctx: &Context<'_>,
        available: Option<bool>,
    ) -> async_graphql::Result<Vec<DemoCar>> {
        let cars = drives::cars(ctx.db()?, ctx.actor()?, available).await?;
        Ok(cars.into_iter().map(DemoCar).collect())
    }

    /// Orders, newest first (a consultant's own, the store's for managers).
    async fn sales_orders(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<OrderStatus>>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<SalesOrder>> {
        let page = orders::list(
            ctx.db()?,
            ctx.actor()?,
            status,
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, SalesOrder))
    }

    /// The store's PDI checklist.
    async fn pdi_checklist(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let store = ctx.actor()?.own_store()?;
        Ok(orders::checklist(ctx.db()?, store).await?)
    }

    /// Quota, orders, deliveries and commission of a month (`YYYY-MM`): a
    /// consultant their own, a store manager the store's.
    async fn sales_performance(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<Vec<Performance>> {
        Ok(orders::performance(ctx.db()?, ctx.actor()?, &month).await?)
    }

    /// The store's webhook sources (store managers).
    async fn lead_sources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LeadSource>> {
        let s = hooks::sources(ctx.db()?, ctx.actor()?).await?;
        Ok(s.into_iter().map(LeadSource).collect())
    }
}

/// Sales changes.
#[derive(Default)]
pub struct SalesMutation;

#[Object]
impl SalesMutation {
    /// Opens a lead; a mobile the store knows attaches it to that customer.
    async fn create_lead(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadInput,
    ) -> async_graphql::Result<CreateLeadPayload> {
        let (v, user_errors) =
            into_payload(leads::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await)?;
        Ok(CreateLeadPayload {
            attached_to_existing: v.as_ref().is_some_and(|(_, a)| *a),
            lead: v.map(|(l, _)| Lead(l)),
            user_errors,
        })
    }

    /// Gives a lead to a consultant or a team's next in turn (store managers).
    async fn assign_lead(
        &self,
        ctx: &Context<'_>,
        input: AssignLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        LeadPayload::from_result(
            leads::assign(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Lead,
        )
    }

    /// Logs a follow-up and schedules the next on the grade's cadence.
    async fn log_lead_follow_up(
        &self,
        ctx: &Context<'_>,
        input: LogLeadFollowUpInput,
    ) -> async_graphql::Result<LeadPayload> {
        LeadPayload::from_result(
            leads::log_follow_up(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Lead,
        )
    }

    /// Closes a lead as lost, with the reason.
    async fn mark_lead_lost(
        &self,
        ctx: &Context<'_>,
        input: MarkLeadLostInput,
    ) -> async_graphql::Result<LeadPayload> {
        LeadPayload::from_result(
            leads::mark_lost(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Lead,
        )
    }

    /// Adds a demo car (store managers).
    async fn create_demo_car(
        &self,
        ctx: &Context<'_>,
        input: CreateDemoCarInput,
    ) -> async_graphql::Result<DemoCarPayload> {
        DemoCarPayload::from_result(
            drives::create_car(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            DemoCar,
        )
    }

    /// Takes a demo car out of the fleet or back (store managers).
    async fn set_demo_car_available(
        &self,
        ctx: &Context<'_>,
        demo_car_id: ID,
        available: bool,
    ) -> async_graphql::Result<DemoCarPayload> {
        DemoCarPayload::from_result(
            drives::set_available(ctx.db()?, ctx.actor()?, &demo_car_id, available).await,
            DemoCar,
        )
    }

    /// Books a test drive; a car or consultant already booked then answers CONFLICT.
    async fn book_test_drive(
        &self,
        ctx: &Context<'_>,
        input: BookTestDriveInput,
    ) -> async_graphql::Result<TestDrivePayload> {
        TestDrivePayload::from_result(
            drives::book(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            TestDrive,
        )
    }

    /// Records a test drive driven; the lead moves to TEST_DRIVEN.
    async fn complete_test_drive(
        &self,
        ctx: &Context<'_>,
        input: CompleteTestDriveInput,
    ) -> async_graphql::Result<TestDrivePayload> {
        TestDrivePayload::from_result(
            drives::complete(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            TestDrive,
        )
    }

    /// Cancels a booked test drive.
    async fn cancel_test_drive(
        &self,
        ctx: &Context<'_>,
        test_drive_id: ID,
    ) -> async_graphql::Result<TestDrivePayload> {
        TestDrivePayload::from_result(
            drives::cancel(ctx.db()?, ctx.actor()?, ctx.now()?, &test_drive_id).await,
            TestDrive,
        )
    }

    /// Opens a draft order on a lead.
    async fn create_sales_order(
        &self,
        ctx: &Context<'_>,
        input: CreateSalesOrderInput,
    ) -> async_graphql::Result<SalesOrderPayload> {
        SalesOrderPayload::from_result(
            orders::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            SalesOrder,
        )
    }

    /// Moves an order on: CONFIRMED, DEPOSIT_PAID, READY.
    async fn advance_sales_order(
        &self,
        ctx: &Context<'_>,
        input: AdvanceSalesOrderInput,
    ) -> async_graphql::Result<SalesOrderPayload> {
        SalesOrderPayload::from_result(
            orders::advance(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            SalesOrder,
        )
    }

    /// Cancels an order; the lead is followed up again.
    async fn cancel_sales_order(
        &self,
        ctx: &Context<'_>,
        input: CancelSalesOrderInput,
    ) -> async_graphql::Result<SalesOrderPayload> {
        SalesOrderPayload::from_result(
            orders::cancel(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            SalesOrder,
        )
    }

    /// Records PDI checks on an order.
    async fn record_pdi(
        &self,
        ctx: &Context<'_>,
        input: RecordPdiInput,
    ) -> async_graphql::Result<SalesOrderPayload> {
        SalesOrderPayload::from_result(
            orders::record_pdi(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            SalesOrder,
        )
    }

    /// Hands the car over: vehicle, warranty, owner, revisit and first-service reminder.
    async fn deliver_sales_order(
        &self,
        ctx: &Context<'_>,
        input: DeliverSalesOrderInput,
    ) -> async_graphql::Result<SalesOrderPayload> {
        SalesOrderPayload::from_result(
            orders::deliver(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            SalesOrder,
        )
    }

    /// Replaces the store's PDI checklist (store managers).
    async fn set_pdi_checklist(
        &self,
        ctx: &Context<'_>,
        input: SetPdiChecklistInput,
    ) -> async_graphql::Result<PdiChecklistPayload> {
        PdiChecklistPayload::from_result(
            orders::set_checklist(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |v| v,
        )
    }

    /// Sets a consultant's monthly quota (store managers).
    async fn set_sales_quota(
        &self,
        ctx: &Context<'_>,
        input: SetSalesQuotaInput,
    ) -> async_graphql::Result<SalesQuotaPayload> {
        SalesQuotaPayload::from_result(
            orders::set_quota(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            |q| q.units,
        )
    }

    /// Creates a webhook source and its secret (store managers).
    async fn create_lead_source(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadSourceInput,
    ) -> async_graphql::Result<CreateLeadSourcePayload> {
        let made = hooks::create_source(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        source_payload(made, true)
    }

    /// Turns a webhook source off or on, or rotates its secret (store
    /// managers).
    async fn update_lead_source(
        &self,
        ctx: &Context<'_>,
        input: UpdateLeadSourceInput,
    ) -> async_graphql::Result<CreateLeadSourcePayload> {
        let rotated = input.rotate_secret;
        let changed = hooks::update_source(ctx.db()?, ctx.actor()?, input).await;
        source_payload(changed, rotated)
    }
}

/// A source's answer, with its secret when it is new.
fn source_payload(
    r: crate::error::ApiResult<lead_source::Model>,
    show_secret: bool,
) -> async_graphql::Result<CreateLeadSourcePayload> {
    let (v, user_errors) = into_payload(r)?;
    Ok(CreateLeadSourcePayload {
        secret: v.as_ref().filter(|_| show_secret).map(|s| s.secret.clone()),
        source: v.map(LeadSource),
        user_errors,
    })
}
