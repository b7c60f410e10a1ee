//! Customers, vehicles and the customer log over GraphQL.
use async_graphql::{Context, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{customer, customer_log, mileage_reading, vehicle, vehicle_ownership};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::{
    log,
    rules::{Channel, CustomerSource, Gender, LifecycleStage, LogKind, MileageSource},
    store::{
        self as customers, CreateCustomerInput, CustomerFilter, MergeCustomersInput,
        RecordContactInput, UpdateCustomerInput,
    },
    vehicles::{
        self, CreateVehicleInput, RecordMileageInput, RecordMileageReadingsInput,
        TransferVehicleInput, UpdateVehicleInput,
    },
};
use crate::{
    auth::Actor,
    error::ApiResult,
    graphql::{
        connection::{nodes_select, page_args, to_connection, wants_total, Conn},
        context::{payload, CtxExt},
        loaders::{
            load_one, CustomerKey, MileageOf, OwnershipOf, PhonesOf, StaffKey, StoreKey,
            VehicleKey, VehiclesOf,
        },
    },
    ids::{self, NodeKind},
    org::graphql::{Staff, Store},
};

/// A customer of a store.
pub struct Customer(pub customer::Model);

impl Customer {
    /// A customer by id through the request's loader (null if you may not
    /// see them).
    pub async fn load(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Customer>> {
        Ok(load_one(ctx.loader()?, CustomerKey(id))
            .await?
            .map(Customer))
    }
}

#[Object]
impl Customer {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Customer, self.0.id)
    }
    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Main mobile, E.164.
    async fn mobile(&self) -> &str {
        &self.0.mobile
    }
    /// Other phone numbers, E.164.
    async fn other_phones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(ctx
            .loader()?
            .load_one(PhonesOf(self.0.id))
            .await?
            .unwrap_or_default())
    }
    /// Every number with its kind, the main mobile first: SMS goes to the
    /// main mobile only; landlines are for calls.
    async fn phones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Phone>> {
        let others = ctx
            .loader()?
            .load_one(PhonesOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(std::iter::once((self.0.mobile.clone(), true))
            .chain(others.into_iter().map(|p| (p, false)))
            .map(|(number, main)| Phone {
                kind: super::rules::phone_kind(&number),
                number,
                main,
            })
            .collect())
    }
    /// Gender.
    async fn gender(&self) -> Gender {
        Gender::parse(&self.0.gender).unwrap_or(Gender::Unknown)
    }
    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    /// Where the customer came from.
    async fn source(&self) -> CustomerSource {
        CustomerSource::parse(&self.0.source).unwrap_or(CustomerSource::Other)
    }
    /// Lifecycle stage.
    async fn lifecycle_stage(&self) -> LifecycleStage {
        LifecycleStage::parse(&self.0.lifecycle_stage).unwrap_or(LifecycleStage::Prospect)
    }
    /// Agreed to marketing messages.
    async fn marketing_consent(&self) -> bool {
        self.0.marketing_consent
    }
    /// Agreed that the dealer group and OEM may see this record.
    async fn sharing_consent(&self) -> bool {
        self.0.sharing_consent
    }
    /// The store that owns the record.
    async fn store(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Store>> {
        Ok(ctx
            .loader()?
            .load_one(StoreKey(self.0.store_id))
            .await?
            .map(Store))
    }
    /// The staff member responsible for the customer.
    async fn responsible_staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        match self.0.responsible_staff_id {
            Some(id) => Ok(ctx.loader()?.load_one(StaffKey(id)).await?.map(Staff)),
            None => Ok(None),
        }
    }
    /// Vehicles the customer owns now.
    async fn vehicles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Vehicle>> {
        let v = load_one(ctx.loader()?, VehiclesOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(v.into_iter().map(Vehicle).collect())
    }
    /// The customer log: every contact and event, newest first.
    async fn log(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<CustomerLogEntry>> {
        let args = page_args(after, before, first, last);
        if !nodes_select(ctx, "staff") {
            let page = log::page(ctx.db()?, self.0.id, &args, wants_total(ctx)).await?;
            return Ok(to_connection(page, CustomerLogEntry));
        }
        // Each entry's author comes with it, for the staff loader.
        let page =
            log::page_with_staff(ctx.db()?, ctx.actor()?, self.0.id, &args, wants_total(ctx))
                .await?;
        let staff: Vec<_> = page
            .items
            .iter()
            .filter_map(|(_, (_, s))| s.clone().map(|s| (StaffKey(s.id), s)))
            .collect();
        ctx.loader()?.loader().primed.put(staff);
        Ok(to_connection(page, |(entry, _)| CustomerLogEntry(entry)))
    }
    /// When the record was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One of a customer's phone numbers.
#[derive(async_graphql::SimpleObject)]
pub struct Phone {
    /// E.164.
    pub number: String,
    /// Mobile, landline or other.
    pub kind: super::rules::PhoneKind,
    /// The main mobile (SMS goes here).
    pub main: bool,
}

/// One entry of a customer's timeline.
pub struct CustomerLogEntry(pub customer_log::Model);

#[Object]
impl CustomerLogEntry {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::CustomerLogEntry, self.0.id)
    }
    /// What happened.
    async fn kind(&self) -> LogKind {
        LogKind::parse(&self.0.kind).unwrap_or(LogKind::Note)
    }
    /// How.
    async fn channel(&self) -> Channel {
        Channel::parse(&self.0.channel).unwrap_or(Channel::System)
    }
    /// The staff member involved.
    async fn staff(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Staff>> {
        match self.0.staff_id {
            Some(id) => Ok(load_one(ctx.loader()?, StaffKey(id)).await?.map(Staff)),
            None => Ok(None),
        }
    }
    /// What happened, in a sentence.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The result.
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }
    /// The type of record the entry is about (e.g. Vehicle).
    async fn subject_type(&self) -> Option<&str> {
        self.0.subject_type.as_deref()
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A log entry by id, if its customer is visible.
pub async fn log_entry(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Option<CustomerLogEntry>> {
    let Some(e) = customer_log::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(customers::find(db, actor, e.customer_id)
        .await?
        .map(|_| CustomerLogEntry(e)))
}

/// A vehicle.
pub struct Vehicle(pub vehicle::Model);

impl Vehicle {
    /// A vehicle by id through the request's loader (null when there is no
    /// id, or you may not see its owner).
    pub async fn load(
        ctx: &Context<'_>,
        id: Option<Uuid>,
    ) -> async_graphql::Result<Option<Vehicle>> {
        match id {
            Some(id) => Ok(load_one(ctx.loader()?, VehicleKey(id)).await?.map(Vehicle)),
            None => Ok(None),
        }
    }
}

#[Object]
impl Vehicle {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Vehicle, self.0.id)
    }
    /// VIN.
    async fn vin(&self) -> &str {
        &self.0.vin
    }
    /// Brand.
    async fn brand(&self) -> &str {
        &self.0.brand
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
    /// Licence plate.
    async fn plate(&self) -> Option<&str> {
        self.0.plate.as_deref()
    }
    /// The first day no longer under warranty: the anniversary of delivery
    /// (set by the delivery from the store's years).
    async fn warranty_ends_on(&self) -> Option<NaiveDate> {
        self.0.warranty_ends_on
    }
    /// The last odometer reading under warranty, km (`warrantyCoverage`
    /// answers for a day and a mileage).
    async fn warranty_km(&self) -> Option<i32> {
        self.0.warranty_km
    }
    /// Date of purchase.
    async fn purchase_date(&self) -> Option<NaiveDate> {
        self.0.purchase_date
    }
    /// Date of delivery.
    async fn delivery_date(&self) -> Option<NaiveDate> {
        self.0.delivery_date
    }
    /// The current owner.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Ok(ctx
            .loader()?
            .load_one(CustomerKey(self.0.owner_id))
            .await?
            .map(Customer))
    }
    /// Owners over time, oldest first.
    async fn ownership_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<VehicleOwnership>> {
        let v = ctx
            .loader()?
            .load_one(OwnershipOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(v.into_iter().map(VehicleOwnership).collect())
    }
    /// Odometer readings, newest first.
    async fn mileage_readings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<MileageReading>> {
        let v = ctx
            .loader()?
            .load_one(MileageOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(v.into_iter().map(MileageReading).collect())
    }
    /// The latest odometer reading, in km.
    async fn current_mileage_km(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let v = ctx
            .loader()?
            .load_one(MileageOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(v.first().map(|r| r.km))
    }
    /// The warranty on a day (default: the store's today) at a mileage
    /// (default: the latest reading): 3 years or 100,000 km from delivery
    /// by default (store settings), whichever ends first.
    async fn warranty_coverage(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
        mileage_km: Option<i32>,
    ) -> async_graphql::Result<vehicles::WarrantyCoverage> {
        let latest = match mileage_km {
            Some(_) => None,
            None => self.current_mileage_km(ctx).await?,
        };
        let now = ctx.now()?;
        Ok(vehicles::warranty(ctx.db()?, &self.0, on, mileage_km, latest, now).await?)
    }
}

/// One period of a vehicle's ownership.
pub struct VehicleOwnership(pub vehicle_ownership::Model);

#[Object]
impl VehicleOwnership {
    /// The owner in that period (null if you may not see them).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        Ok(ctx
            .loader()?
            .load_one(CustomerKey(self.0.customer_id))
            .await?
            .map(Customer))
    }
    /// First day.
    async fn started_on(&self) -> NaiveDate {
        self.0.started_on
    }
    /// Last day (null while current).
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
}

/// An odometer reading.
pub struct MileageReading(pub mileage_reading::Model);

#[Object]
impl MileageReading {
    /// Kilometres.
    async fn km(&self) -> i32 {
        self.0.km
    }
    /// Day of the reading.
    async fn read_on(&self) -> NaiveDate {
        self.0.read_on
    }
    /// Who read it.
    async fn source(&self) -> MileageSource {
        MileageSource::parse(&self.0.source).unwrap_or(MileageSource::Other)
    }
}

payload!(
    /// Result of createCustomer.
    CreateCustomerPayload { customer: Customer }
);
payload!(
    /// Result of updateCustomer.
    UpdateCustomerPayload { customer: Customer }
);
payload!(
    /// Result of mergeCustomers: the surviving record.
    MergeCustomersPayload { customer: Customer }
);
payload!(
    /// Result of recordContact.
    RecordContactPayload { entry: CustomerLogEntry }
);
payload!(
    /// Result of createVehicle.
    CreateVehiclePayload { vehicle: Vehicle }
);
payload!(
    /// Result of updateVehicle.
    UpdateVehiclePayload { vehicle: Vehicle }
);
payload!(
    /// Result of recordMileage.
    RecordMileagePayload { reading: MileageReading }
);
payload!(
    /// Result of transferVehicle.
    TransferVehiclePayload { vehicle: Vehicle }
);

/// A customer read with their vehicles: the vehicles go to the loader, so
/// `Customer.vehicles` needs no statement of its own.
async fn with_cars(
    ctx: &Context<'_>,
    found: Option<(customer::Model, Option<Vec<vehicle::Model>>)>,
) -> async_graphql::Result<Option<Customer>> {
    let Some((c, cars)) = found else {
        return Ok(None);
    };
    if let Some(cars) = cars {
        ctx.loader()?
            .loader()
            .primed
            .put([(VehiclesOf(c.id), cars)]);
    }
    Ok(Some(Customer(c)))
}

/// Customer and vehicle queries.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// A customer by id (a merged record answers with its survivor).
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = ids::decode(&id, NodeKind::Customer) else {
            return Ok(None);
        };
        let (db, actor) = (ctx.db()?, ctx.actor()?);
        if !ctx.look_ahead().field("vehicles").exists() {
            return Ok(customers::find(db, actor, id).await?.map(Customer));
        }
        with_cars(ctx, customers::find_with_vehicles(db, actor, id).await?).await
    }

    /// Customers you may see, newest first.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Customer>> {
        let cars = nodes_select(ctx, "vehicles");
        let mut page = customers::list(
            ctx.db()?,
            ctx.actor()?,
            &filter.unwrap_or_default(),
            &page_args(after, before, first, last),
            wants_total(ctx),
            cars,
        )
        .await?;
        let primed = page
            .items
            .iter_mut()
            .filter_map(|(_, (c, v))| Some((VehiclesOf(c.id), v.take()?)));
        ctx.loader()?.loader().primed.put(primed);
        Ok(to_connection(page, |(c, _)| Customer(c)))
    }

    /// The customer a phone number belongs to: the call-centre screen pop.
    async fn customer_by_phone(
        &self,
        ctx: &Context<'_>,
        phone: String,
    ) -> async_graphql::Result<Option<Customer>> {
        let cars = ctx.look_ahead().field("vehicles").exists();
        let found = customers::by_phone_with(ctx.db()?, ctx.actor()?, &phone, cars).await?;
        with_cars(ctx, found).await
    }

    /// A vehicle by id.
    async fn vehicle(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Vehicle>> {
        let Some(id) = ids::decode(&id, NodeKind::Vehicle) else {
            return Ok(None);
        };
        Ok(vehicles::find(ctx.db()?, ctx.actor()?, id)
            .await?
            .map(Vehicle))
    }

    /// A vehicle by VIN.
    async fn vehicle_by_vin(
        &self,
        ctx: &Context<'_>,
        vin: String,
    ) -> async_graphql::Result<Option<Vehicle>> {
        Ok(vehicles::by_vin(ctx.db()?, ctx.actor()?, &vin)
            .await?
            .map(Vehicle))
    }
}

/// Customer and vehicle changes.
#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer; a mobile already on file answers DUPLICATE with
    /// the existing customer's id.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> async_graphql::Result<CreateCustomerPayload> {
        CreateCustomerPayload::from_result(
            customers::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Customer,
        )
    }

    /// Changes a customer.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerInput,
    ) -> async_graphql::Result<UpdateCustomerPayload> {
        UpdateCustomerPayload::from_result(
            customers::update(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Customer,
        )
    }

    /// Merges two records of one person (store manager or care agent).
    async fn merge_customers(
        &self,
        ctx: &Context<'_>,
        input: MergeCustomersInput,
    ) -> async_graphql::Result<MergeCustomersPayload> {
        MergeCustomersPayload::from_result(
            customers::merge(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Customer,
        )
    }

    /// Adds a contact, visit or note to a customer's log.
    async fn record_contact(
        &self,
        ctx: &Context<'_>,
        input: RecordContactInput,
    ) -> async_graphql::Result<RecordContactPayload> {
        RecordContactPayload::from_result(
            customers::record_contact(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            CustomerLogEntry,
        )
    }

    /// Adds a vehicle to a customer.
    async fn create_vehicle(
        &self,
        ctx: &Context<'_>,
        input: CreateVehicleInput,
    ) -> async_graphql::Result<CreateVehiclePayload> {
        CreateVehiclePayload::from_result(
            vehicles::create(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Vehicle,
        )
    }

    /// Changes a vehicle.
    async fn update_vehicle(
        &self,
        ctx: &Context<'_>,
        input: UpdateVehicleInput,
    ) -> async_graphql::Result<UpdateVehiclePayload> {
        UpdateVehiclePayload::from_result(
            vehicles::update(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Vehicle,
        )
    }

    /// Records an odometer reading.
    async fn record_mileage(
        &self,
        ctx: &Context<'_>,
        input: RecordMileageInput,
    ) -> async_graphql::Result<RecordMileagePayload> {
        RecordMileagePayload::from_result(
            vehicles::record_mileage(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            MileageReading,
        )
    }

    /// Records readings of the store's vehicles in bulk, by VIN: bad lines
    /// are named and the rest recorded; the next services follow shortly.
    async fn record_mileage_readings(
        &self,
        ctx: &Context<'_>,
        input: RecordMileageReadingsInput,
    ) -> async_graphql::Result<vehicles::MileageImport> {
        let state = ctx.state()?;
        let r = vehicles::record_readings(ctx.db()?, ctx.actor()?, ctx.now()?, input).await;
        state.forecasts.notify_one();
        let (done, user_errors) = crate::error::into_payload(r)?;
        Ok(done.unwrap_or(vehicles::MileageImport {
            recorded: 0,
            user_errors,
        }))
    }

    /// Moves a vehicle to a new owner.
    async fn transfer_vehicle(
        &self,
        ctx: &Context<'_>,
        input: TransferVehicleInput,
    ) -> async_graphql::Result<TransferVehiclePayload> {
        TransferVehiclePayload::from_result(
            vehicles::transfer(ctx.db()?, ctx.actor()?, ctx.now()?, input).await,
            Vehicle,
        )
    }
}
