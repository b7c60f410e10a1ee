//! DataLoader batches, so nested lists cost one query per level, not one
//! per row. One loader per request: it holds the actor, so every batch is
//! scoped like a direct read.
use std::{
    any::{Any, TypeId},
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    customer, customer_log, demo_car, lead, mileage_reading, repair_order, sales_order,
    service_forecast, staff, store, test_drive, vehicle, vehicle_ownership, warranty_claim,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    auth::Actor,
    customers::{forecast, store as customers, vehicles},
    error::ApiError,
    org::store as org,
    sales::{drives, intake, leads, orders},
    service,
};

/// The request's loader.
pub struct AppLoader {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Who is asking.
    pub actor: Actor,
    /// What a read already fetched in its own statement.
    pub primed: Primed,
}

/// Values read ahead in the same statement as their parent (a customer's
/// vehicles with the customer, log entries with their authors, "my day"'s
/// customers and cars with its tasks): a batch answers them without asking
/// the database, and `load_one` without waiting for a batch. Only what the
/// scoped batch itself would give may be put here. Unlike a cache it never
/// holds what the request read earlier, so batches form as they always did
/// and a mutation's later fields still read what changed.
#[derive(Default)]
pub struct Primed(Mutex<HashMap<TypeId, Box<dyn Any + Send>>>);

/// A loader key (every key here is a copyable id wrapper).
pub trait Key: Copy + Send + Sync + Hash + Eq + 'static {}
impl<K: Copy + Send + Sync + Hash + Eq + 'static> Key for K {}

/// What the request's loader gives for `K`.
type Value<K> = <AppLoader as Loader<K>>::Value;

impl Primed {
    /// Keeps values for their keys (of the type the loader gives for them).
    pub fn put<K: Key>(&self, items: impl IntoIterator<Item = (K, Value<K>)>)
    where
        AppLoader: Loader<K>,
    {
        if let Ok(mut all) = self.0.lock() {
            if let Some(map) = all
                .entry(TypeId::of::<K>())
                .or_insert_with(|| Box::new(HashMap::<K, Value<K>>::new()))
                .downcast_mut::<HashMap<K, Value<K>>>()
            {
                map.extend(items);
            }
        }
    }

    /// The values kept for `keys`, and the keys left to read (one lock).
    fn split<K: Key>(&self, keys: &[K]) -> (HashMap<K, Value<K>>, Vec<K>)
    where
        AppLoader: Loader<K>,
    {
        let all = self.0.lock().ok();
        let kept = all.as_ref().and_then(|a| Self::kept::<K>(a));
        let mut found = HashMap::new();
        let mut rest = Vec::new();
        for k in keys {
            match kept.and_then(|m| m.get(k)) {
                Some(v) => {
                    found.insert(*k, v.clone());
                }
                None => rest.push(*k),
            }
        }
        (found, rest)
    }

    /// The value kept for one key.
    fn get<K: Key>(&self, key: &K) -> Option<Value<K>>
    where
        AppLoader: Loader<K>,
    {
        let all = self.0.lock().ok()?;
        Self::kept::<K>(&all)?.get(key).cloned()
    }

    fn kept<K: Key>(all: &HashMap<TypeId, Box<dyn Any + Send>>) -> Option<&HashMap<K, Value<K>>>
    where
        AppLoader: Loader<K>,
    {
        all.get(&TypeId::of::<K>())?
            .downcast_ref::<HashMap<K, Value<K>>>()
    }
}

/// One value through the request's loader, straight from what was primed
/// when it was.
pub async fn load_one<K: Key>(
    loader: &RequestLoader,
    key: K,
) -> Result<Option<Value<K>>, async_graphql::Error>
where
    AppLoader: Loader<K, Error = async_graphql::Error>,
{
    if let Some(v) = loader.loader().primed.get(&key) {
        return Ok(Some(v));
    }
    loader.load_one(key).await
}

/// The loader resolvers reach.
pub type RequestLoader = DataLoader<AppLoader>;

impl AppLoader {
    /// The DataLoader of one request (or one socket): scoped to its actor.
    pub fn for_request(db: &DatabaseConnection, actor: &Actor) -> RequestLoader {
        DataLoader::new(
            AppLoader {
                db: db.clone(),
                actor: actor.clone(),
                primed: Primed::default(),
            },
            tokio::spawn,
        )
    }
}

/// A customer by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct CustomerKey(pub Uuid);
/// A staff member by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct StaffKey(pub Uuid);
/// A store by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct StoreKey(pub Uuid);
/// A vehicle by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct VehicleKey(pub Uuid);
/// The latest contact with a customer.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct LastContactOf(pub Uuid);
/// The vehicles of a customer.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct VehiclesOf(pub Uuid);
/// The other phones of a customer.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct PhonesOf(pub Uuid);
/// The ownership history of a vehicle.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct OwnershipOf(pub Uuid);
/// The mileage readings of a vehicle.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct MileageOf(pub Uuid);

/// A lead by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct LeadKey(pub Uuid);
/// The leads of a customer.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct LeadsOf(pub Uuid);
/// The test drives of a lead.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct DrivesOf(pub Uuid);
/// The orders of a lead.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct OrdersOf(pub Uuid);
/// A repair order by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct RepairOrderKey(pub Uuid);
/// The service forecast of a vehicle.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct ForecastOf(pub Uuid);
/// The warranty claim of a repair order.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct ClaimOf(pub Uuid);
/// How far a complaint's deadlines escalated.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct EscalationOf(pub Uuid);
/// A demo car by id.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct DemoCarKey(pub Uuid);
/// What a webhook source's intake still holds.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct IntakeOf(pub Uuid);

/// The latest contacts of the customers the actor may see: the scope check
/// and the log query run side by side, so that a nested `lastContact` costs
/// no extra round trip after its parent.
async fn last_contacts(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, customer_log::Model>, ApiError> {
    let (visible, mut latest) = futures_util::try_join!(
        customers::by_ids(db, actor, &ids),
        crate::customers::log::latest_of(db, &ids)
    )?;
    latest.retain(|customer, _| visible.contains_key(customer));
    Ok(latest)
}

type LoadResult<K, V> = Result<HashMap<K, V>, async_graphql::Error>;

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

fn rekey<K: std::hash::Hash + Eq, V>(m: HashMap<Uuid, V>, k: impl Fn(Uuid) -> K) -> HashMap<K, V> {
    m.into_iter().map(|(id, v)| (k(id), v)).collect()
}

macro_rules! loader {
    ($key:ident => $value:ty, |$self:ident, $ids:ident| $body:expr) => {
        impl Loader<$key> for AppLoader {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, $value> {
                let $self = self;
                let (mut out, rest) = self.primed.split(keys);
                if rest.is_empty() {
                    return Ok(out);
                }
                let $ids = ids(&rest, |k| k.0);
                let found: Result<HashMap<Uuid, $value>, ApiError> = $body.await;
                out.extend(rekey(found?, $key));
                Ok(out)
            }
        }
    };
}

loader!(CustomerKey => customer::Model, |s, ids| customers::by_ids(&s.db, &s.actor, &ids));
loader!(StaffKey => staff::Model, |s, ids| org::staff_by_ids(&s.db, &s.actor, &ids));
loader!(StoreKey => store::Model, |s, ids| org::stores_by_ids(&s.db, &s.actor, &ids));
loader!(VehicleKey => vehicle::Model, |s, ids| vehicles::by_ids(&s.db, &s.actor, &ids));
loader!(LastContactOf => customer_log::Model, |s, ids| last_contacts(&s.db, &s.actor, ids));
loader!(VehiclesOf => Vec<vehicle::Model>, |s, ids| vehicles::of_owners(&s.db, &ids));
loader!(PhonesOf => Vec<String>, |s, ids| customers::phones_of(&s.db, &ids));
loader!(OwnershipOf => Vec<vehicle_ownership::Model>, |s, ids| vehicles::ownership_of(&s.db, &ids));
loader!(MileageOf => Vec<mileage_reading::Model>, |s, ids| vehicles::mileage_of(&s.db, &ids));
loader!(LeadKey => lead::Model, |s, ids| leads::by_ids(&s.db, &s.actor, &ids));
loader!(LeadsOf => Vec<lead::Model>, |s, ids| leads::of_customers(&s.db, &ids));
loader!(DrivesOf => Vec<test_drive::Model>, |s, ids| drives::of_leads(&s.db, &ids));
loader!(OrdersOf => Vec<sales_order::Model>, |s, ids| orders::of_leads(&s.db, &ids));
loader!(DemoCarKey => demo_car::Model, |s, ids| drives::cars_by_ids(&s.db, &s.actor, &ids));
loader!(IntakeOf => intake::Backlog, |s, ids| intake::backlog(&s.db, &ids));
loader!(RepairOrderKey => repair_order::Model, |s, ids| service::orders::by_ids(&s.db, &s.actor, &ids));
loader!(ForecastOf => service_forecast::Model, |s, ids| forecast::of_vehicles(&s.db, &ids));
loader!(ClaimOf => warranty_claim::Model, |s, ids| service::claims::of_orders(&s.db, &ids));
loader!(EscalationOf => i32, |s, ids| crate::care::complaints::escalation_levels(&s.db, &ids));
