//! After-sales over GraphQL: appointments, repair orders, the service
//! history, vehicles due for service, warranty claims and the workshop's
//! month. Thin: every decision is in the rooms beside.
use async_graphql::{ComplexObject, Context, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{campaign, campaign_vehicle, repair_order, service_appointment, warranty_claim};

use super::{
    appointments::{self, BookServiceInput, CancelServiceAppointmentInput},
    campaigns::{self, CampaignImport, CampaignProgress, CreateCampaignInput},
    claims::{self, AdvanceWarrantyClaimInput, FileWarrantyClaimInput, WarrantyClaimFilter},
    orders::{
        self, CancelRepairOrderInput, DeliverRepairOrderInput, Measurement, OpenRepairOrderInput,
        RecordRepairPaymentInput, RepairOrderFilter, ServiceMonth, SetRepairOrderStatusInput,
        UpdateRepairOrderInput,
    },
    rules::{
        AppointmentSource, AppointmentStatus, CampaignKind, CampaignVehicleStatus, ClaimStatus,
        Job, Part, RepairKind, RepairStatus, ServicePayment,
    },
};
use crate::{
    customers::{
        forecast::{self, ServiceDue},
        graphql::{Customer, Vehicle},
        vehicles,
    },
    graphql::{
        connection::{page_args, to_connection, wants_total, Conn, Counted},
        context::{payload, CtxExt},
        loaders::{ClaimOf, ForecastOf, RepairOrderKey, StoreKey, VehicleKey},
    },
    ids::{self, NodeKind},
    org::{
        graphql::{Staff, Store},
        store as org,
    },
    paging::Cursor,
    tasks::store::Subject,
};

async fn staff(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Staff>> {
    Staff::load(ctx, Some(id)).await
}

async fn store(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Store>> {
    Store::load(ctx, id).await
}

async fn customer(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Customer>> {
    Customer::load(ctx, id).await
}

async fn vehicle(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Vehicle>> {
    Vehicle::load(ctx, Some(id)).await
}

/// A repair order by id through the request's loader (null if you may
/// not see it).
pub async fn order(
    ctx: &Context<'_>,
    id: uuid::Uuid,
) -> async_graphql::Result<Option<RepairOrder>> {
    Ok(ctx
        .loader()?
        .load_one(RepairOrderKey(id))
        .await?
        .map(RepairOrder))
}

#[ComplexObject]
impl ServiceDue {
    /// The vehicle.
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        vehicle(ctx, self.vehicle_id).await
    }
}

/// One visit of a vehicle to the workshop.
pub struct RepairOrder(pub repair_order::Model);

#[Object]
impl RepairOrder {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::RepairOrder, self.0.id)
    }
    /// The store.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        store(ctx, self.0.store_id).await
    }
    /// The owner when the car came in.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The vehicle.
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        vehicle(ctx, self.0.vehicle_id).await
    }
    /// The service advisor.
    async fn advisor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.0.advisor_id).await
    }
    /// What the visit is for.
    async fn kind(&self) -> RepairKind {
        orders::kind(&self.0)
    }
    /// Odometer at check-in, km.
    async fn mileage_in(&self) -> i32 {
        self.0.mileage_in
    }
    /// The customer's complaint, in their own words.
    async fn complaint(&self) -> &str {
        &self.0.complaint
    }
    /// The advisor's diagnosis.
    async fn diagnosis(&self) -> Option<&str> {
        self.0.diagnosis.as_deref()
    }
    /// The technician's inspection.
    async fn inspection(&self) -> Option<&str> {
        self.0.inspection.as_deref()
    }
    /// The technician's measurements.
    async fn measurements(&self) -> Vec<Measurement> {
        orders::measurements(&self.0)
    }
    /// Labour lines.
    async fn jobs(&self) -> Vec<Job> {
        orders::jobs(&self.0)
    }
    /// Part lines.
    async fn parts(&self) -> Vec<Part> {
        orders::parts(&self.0)
    }
    /// Labour, fen.
    async fn labour_fen(&self) -> i64 {
        self.0.labour_fen
    }
    /// Parts, fen.
    async fn parts_fen(&self) -> i64 {
        self.0.parts_fen
    }
    /// Labour and parts, fen.
    async fn total_fen(&self) -> i64 {
        self.0.total_fen
    }
    /// What the OEM pays under warranty, fen.
    async fn warranty_fen(&self) -> i64 {
        self.0.warranty_fen
    }
    /// What the customer pays, fen.
    async fn customer_fen(&self) -> i64 {
        self.0.total_fen - self.0.warranty_fen
    }
    /// What the customer paid, fen.
    async fn paid_fen(&self) -> i64 {
        self.0.paid_fen
    }
    /// What the customer still owes once the car is handed back, fen.
    async fn receivable_fen(&self) -> i64 {
        self.0.total_fen - self.0.warranty_fen - self.0.paid_fen
    }
    /// How the customer paid.
    async fn payment_method(&self) -> Option<ServicePayment> {
        self.0
            .payment_method
            .as_deref()
            .and_then(ServicePayment::parse)
    }
    /// When the car is promised back.
    async fn promised_at(&self) -> Option<DateTime<Utc>> {
        self.0.promised_at
    }
    /// Where it stands.
    async fn status(&self) -> RepairStatus {
        orders::status(&self.0)
    }
    /// The earlier visit this one came back for.
    async fn repeat_of(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepairOrder>> {
        match self.0.repeat_of_id {
            Some(id) => order(ctx, id).await,
            None => Ok(None),
        }
    }
    /// False once the car came back for the same complaint within the
    /// store's days; true when handed back and not (yet) come back to.
    async fn fixed_first_time(&self) -> Option<bool> {
        self.0.fixed_first_time
    }
    /// Checked in.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    /// Work finished.
    async fn done_at(&self) -> Option<DateTime<Utc>> {
        self.0.done_at
    }
    /// Handed back.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// The warranty on the day the car came in at the mileage it came in
    /// with (null if you may not see the vehicle).
    async fn warranty_coverage(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<vehicles::WarrantyCoverage>> {
        let Some(v) = ctx
            .loader()?
            .load_one(VehicleKey(self.0.vehicle_id))
            .await?
        else {
            return Ok(None);
        };
        // The store's day through the request's loader: a history of many
        // orders reads its store once.
        let zone = ctx
            .loader()?
            .load_one(StoreKey(self.0.store_id))
            .await?
            .map_or(chrono_tz::Asia::Shanghai, |s| {
                crate::org::rules::zone(&s.time_zone)
            });
        let db = ctx.db()?;
        let on = crate::org::rules::local_day(zone, self.0.opened_at);
        let km = Some(self.0.mileage_in);
        Ok(Some(
            vehicles::warranty(db, &v, Some(on), km, None, ctx.now()?).await?,
        ))
    }
    /// The warranty claim filed from it.
    async fn claim(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WarrantyClaim>> {
        Ok(ctx
            .loader()?
            .load_one(ClaimOf(self.0.id))
            .await?
            .map(WarrantyClaim))
    }
}

/// A booked service visit.
pub struct ServiceAppointment(pub service_appointment::Model);

#[Object]
impl ServiceAppointment {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::ServiceAppointment, self.0.id)
    }
    /// The owner.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The vehicle.
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        vehicle(ctx, self.0.vehicle_id).await
    }
    /// The advisor booked.
    async fn advisor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        staff(ctx, self.0.advisor_id).await
    }
    /// How the booking came about.
    async fn source(&self) -> AppointmentSource {
        AppointmentSource::parse(&self.0.source).unwrap_or(AppointmentSource::Phone)
    }
    /// Start.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// End.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// What the customer says the car needs.
    async fn concern(&self) -> Option<&str> {
        self.0.concern.as_deref()
    }
    /// Where it stands.
    async fn status(&self) -> AppointmentStatus {
        appointments::status(&self.0)
    }
    /// The repair order its check-in opened.
    async fn repair_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepairOrder>> {
        match self.0.repair_order_id {
            Some(id) => order(ctx, id).await,
            None => Ok(None),
        }
    }
}

/// A warranty claim with the OEM. It carries no customer personal data:
/// its vehicle, customer and repair order are shown only to those who may
/// see that customer.
pub struct WarrantyClaim(pub warranty_claim::Model);

#[Object]
impl WarrantyClaim {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::WarrantyClaim, self.0.id)
    }
    /// The store that filed it.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        store(ctx, self.0.store_id).await
    }
    /// The repair order (null if you may not see its customer).
    async fn repair_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepairOrder>> {
        order(ctx, self.0.repair_order_id).await
    }
    /// The vehicle (null if you may not see its owner).
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        vehicle(ctx, self.0.vehicle_id).await
    }
    /// The customer (null if you may not see them).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        customer(ctx, self.0.customer_id).await
    }
    /// The car's model.
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// The main failed part.
    async fn failed_part(&self) -> &str {
        &self.0.failed_part
    }
    /// The cause found.
    async fn cause(&self) -> &str {
        &self.0.cause
    }
    /// Labour claimed, fen.
    async fn labour_fen(&self) -> i64 {
        self.0.labour_fen
    }
    /// Parts claimed, fen.
    async fn parts_fen(&self) -> i64 {
        self.0.parts_fen
    }
    /// Claimed in all, fen.
    async fn total_fen(&self) -> i64 {
        self.0.total_fen
    }
    /// The service day.
    async fn serviced_on(&self) -> NaiveDate {
        self.0.serviced_on
    }
    /// The last day to file it.
    async fn file_by(&self) -> NaiveDate {
        self.0.file_by
    }
    /// When it was filed.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// Filed after its filing day.
    async fn late(&self) -> bool {
        self.0.late
    }
    /// Where it stands.
    async fn status(&self) -> ClaimStatus {
        claims::status(&self.0)
    }
    /// The old part's tracking number.
    async fn tracking_no(&self) -> Option<&str> {
        self.0.tracking_no.as_deref()
    }
    /// Why the OEM rejected it.
    async fn reject_reason(&self) -> Option<&str> {
        self.0.reject_reason.as_deref()
    }
    /// What the OEM paid, fen.
    async fn paid_fen(&self) -> Option<i64> {
        self.0.paid_fen
    }
    /// When the OEM decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}

/// A recall or service campaign of the OEM.
pub struct Campaign(pub campaign::Model);

#[Object]
impl Campaign {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Campaign, self.0.id)
    }
    /// The OEM's code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Recall or service campaign.
    async fn kind(&self) -> CampaignKind {
        CampaignKind::parse(&self.0.kind).unwrap_or(CampaignKind::Recall)
    }
    /// What the stores do.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// First day.
    async fn starts_on(&self) -> NaiveDate {
        self.0.starts_on
    }
    /// Last day.
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.ends_on
    }
    /// Affected, booked and done cars per store of your reach (your own
    /// store, the group's, or the network's), with the completion rate.
    async fn progress(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CampaignProgress>> {
        Ok(campaigns::progress(ctx.db()?, ctx.actor()?, self.0.id).await?)
    }
    /// Your store's cars the campaign names (store staff other than
    /// consultants).
    async fn vehicles(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<CampaignVehicleStatus>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<CampaignVehicle>> {
        let page = campaigns::vehicles(
            ctx.db()?,
            ctx.actor()?,
            self.0.id,
            status,
            &page_args(after, None, first, None),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, CampaignVehicle))
    }
}

#[ComplexObject]
impl CampaignProgress {
    /// The store.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        store(ctx, self.store_id).await
    }
}

#[ComplexObject]
impl CampaignImport {
    /// The campaign created.
    async fn campaign(&self) -> Option<Campaign> {
        self.campaign.clone().map(Campaign)
    }
}

/// A car a campaign names, in your store.
pub struct CampaignVehicle(pub campaign_vehicle::Model);

#[Object]
impl CampaignVehicle {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::CampaignVehicle, self.0.id)
    }
    /// Where it stands.
    async fn status(&self) -> CampaignVehicleStatus {
        CampaignVehicleStatus::parse(&self.0.status).unwrap_or(CampaignVehicleStatus::Affected)
    }
    /// The vehicle, with its owner (null if you may not see them).
    async fn vehicle(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vehicle>> {
        vehicle(ctx, self.0.vehicle_id).await
    }
    /// The visit that does the work.
    async fn repair_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepairOrder>> {
        match self.0.repair_order_id {
            Some(id) => order(ctx, id).await,
            None => Ok(None),
        }
    }
}

payload!(
    /// Result of a change to a repair order.
    RepairOrderPayload { order: RepairOrder }
);
payload!(
    /// Result of a change to an appointment.
    ServiceAppointmentPayload { appointment: ServiceAppointment }
);
payload!(
    /// Result of a change to a warranty claim.
    WarrantyClaimPayload { claim: WarrantyClaim }
);

/// After-sales queries.
#[derive(Default)]
pub struct ServiceQuery;

#[Object]
impl ServiceQuery {
    /// A repair order by id.
    async fn repair_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<RepairOrder>> {
        let Some(id) = ids::decode(&id, NodeKind::RepairOrder) else {
            return Ok(None);
        };
        Ok(orders::find(ctx.db()?, ctx.actor()?, id)
            .await?
            .map(RepairOrder))
    }

    /// Repair orders, newest first (the store's for its staff).
    #[allow(clippy::too_many_arguments)]
    async fn repair_orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<RepairOrderFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<RepairOrder>> {
        let page = orders::list(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, RepairOrder))
    }

    /// The service history of a vehicle (or, with `customerId`, of all of
    /// a customer's cars): visits newest first.
    #[allow(clippy::too_many_arguments)]
    async fn service_history(
        &self,
        ctx: &Context<'_>,
        vehicle_id: Option<ID>,
        customer_id: Option<ID>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<RepairOrder>> {
        let of = match (&vehicle_id, &customer_id) {
            (Some(v), None) => ids::decode(v, NodeKind::Vehicle).map(|id| Subject {
                kind: "Vehicle",
                id,
            }),
            (None, Some(c)) => ids::decode(c, NodeKind::Customer).map(|id| Subject {
                kind: "Customer",
                id,
            }),
            _ => {
                return Err(crate::error::ApiError::BadInput(
                    "give `vehicleId` or `customerId`".into(),
                )
                .into())
            }
        };
        let Some(of) = of else {
            return Ok(Conn::with_additional_fields(
                false,
                false,
                Counted { total_count: 0 },
            ));
        };
        let page = orders::history(
            ctx.db()?,
            ctx.actor()?,
            of,
            &page_args(after, before, first, last),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, RepairOrder))
    }

    /// A vehicle's predicted next service (null if you may not see it or
    /// nothing predicts it yet).
    async fn service_forecast(
        &self,
        ctx: &Context<'_>,
        vehicle_id: ID,
    ) -> async_graphql::Result<Option<ServiceDue>> {
        let Some(id) = ids::decode(&vehicle_id, NodeKind::Vehicle) else {
            return Ok(None);
        };
        if ctx.loader()?.load_one(VehicleKey(id)).await?.is_none() {
            return Ok(None);
        }
        let f = ctx.loader()?.load_one(ForecastOf(id)).await?;
        Ok(f.as_ref().and_then(ServiceDue::of))
    }

    /// The store's vehicles due for service in the next `withinDays` days
    /// (overdue ones first), soonest first: the advisors' call list.
    async fn vehicles_due_for_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] within_days: i32,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<ServiceDue>> {
        let actor = ctx.actor()?;
        let store = forecast::due_list_store(actor)?;
        let db = ctx.db()?;
        let today = org::today_at(db, store, ctx.now()?).await?;
        let until = forecast::horizon(today, within_days)?;
        let n = forecast::page_size(first)?;
        let after = match after.as_deref() {
            Some(a) => Some(Cursor::decode(a).ok_or_else(|| {
                crate::error::ApiError::BadInput("`after` is not a valid cursor".into())
            })?),
            None => None,
        };
        let (items, more) = forecast::due(db, store, until, n, after.as_ref()).await?;
        let mut c = Conn::with_additional_fields(after.is_some(), more, Counted { total_count: 0 });
        c.edges.extend(
            items
                .into_iter()
                .map(|(k, d)| async_graphql::connection::Edge::new(k.encode(), d)),
        );
        Ok(c)
    }

    /// Service appointments, latest start first (an advisor's with
    /// `advisorId`).
    async fn service_appointments(
        &self,
        ctx: &Context<'_>,
        advisor_id: Option<ID>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<ServiceAppointment>> {
        let advisor = match &advisor_id {
            Some(a) => Some(crate::ids::decode_field(a, NodeKind::Staff, "advisorId")?),
            None => None,
        };
        let page = appointments::list(
            ctx.db()?,
            ctx.actor()?,
            advisor,
            &page_args(after, None, first, None),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, ServiceAppointment))
    }

    /// Warranty claims, newest first: the store's for its clerk, advisors
    /// and manager; the network's for OEM staff.
    async fn warranty_claims(
        &self,
        ctx: &Context<'_>,
        filter: Option<WarrantyClaimFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<WarrantyClaim>> {
        let page = claims::list(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, None, first, None),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, WarrantyClaim))
    }

    /// The OEM's recalls and service campaigns, newest first.
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<Campaign>> {
        let page = campaigns::list(
            ctx.db()?,
            ctx.actor()?,
            &page_args(after, None, first, None),
            wants_total(ctx),
        )
        .await?;
        Ok(to_connection(page, Campaign))
    }

    /// The workshop's month (`YYYY-MM`): car entries, revenue, receivables,
    /// first-time fix and promises kept.
    async fn service_month(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<ServiceMonth> {
        Ok(orders::month(ctx.db()?, ctx.actor()?, &month).await?)
    }
}

/// After-sales mutations.
#[derive(Default)]
pub struct ServiceMutation;

#[Object]
impl ServiceMutation {
    /// Books a vehicle in with a service advisor.
    async fn book_service(
        &self,
        ctx: &Context<'_>,
        input: BookServiceInput,
    ) -> async_graphql::Result<ServiceAppointmentPayload> {
        ServiceAppointmentPayload::from_result(
            appointments::book(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            ServiceAppointment,
        )
    }

    /// Cancels a booking.
    async fn cancel_service_appointment(
        &self,
        ctx: &Context<'_>,
        input: CancelServiceAppointmentInput,
    ) -> async_graphql::Result<ServiceAppointmentPayload> {
        ServiceAppointmentPayload::from_result(
            appointments::cancel(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            ServiceAppointment,
        )
    }

    /// Checks a vehicle in (or an appointment): opens a repair order.
    async fn open_repair_order(
        &self,
        ctx: &Context<'_>,
        input: OpenRepairOrderInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::open(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Records the diagnosis, inspection, measurements and lines.
    async fn update_repair_order(
        &self,
        ctx: &Context<'_>,
        input: UpdateRepairOrderInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::update(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Moves an order through the workshop.
    async fn set_repair_order_status(
        &self,
        ctx: &Context<'_>,
        input: SetRepairOrderStatusInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::set_status(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Hands the car back and closes the order: service history, log,
    /// revisit, next maintenance reminder, claim deadline.
    async fn deliver_repair_order(
        &self,
        ctx: &Context<'_>,
        input: DeliverRepairOrderInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::deliver(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Collects what a handed-back order still owes.
    async fn record_repair_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordRepairPaymentInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::record_payment(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Cancels an order on which no work started.
    async fn cancel_repair_order(
        &self,
        ctx: &Context<'_>,
        input: CancelRepairOrderInput,
    ) -> async_graphql::Result<RepairOrderPayload> {
        RepairOrderPayload::from_result(
            orders::cancel(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            RepairOrder,
        )
    }

    /// Creates a recall or campaign over a list of VINs (OEM staff): bad or
    /// unknown VINs are named by line, the rest imported.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> async_graphql::Result<CampaignImport> {
        let r = campaigns::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        let (done, user_errors) = crate::error::into_payload(r)?;
        Ok(done.unwrap_or(CampaignImport {
            campaign: None,
            affected: 0,
            user_errors,
        }))
    }

    /// Drafts a warranty claim from a warranty repair order.
    async fn file_warranty_claim(
        &self,
        ctx: &Context<'_>,
        input: FileWarrantyClaimInput,
    ) -> async_graphql::Result<WarrantyClaimPayload> {
        WarrantyClaimPayload::from_result(
            claims::file(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            WarrantyClaim,
        )
    }

    /// Moves a claim one step (the store submits and ships; the OEM
    /// receives, decides and pays).
    async fn advance_warranty_claim(
        &self,
        ctx: &Context<'_>,
        input: AdvanceWarrantyClaimInput,
    ) -> async_graphql::Result<WarrantyClaimPayload> {
        WarrantyClaimPayload::from_result(
            claims::advance(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            WarrantyClaim,
        )
    }
}
