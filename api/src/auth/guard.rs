//! What keeps sign-in from exhausting the server or being guessed: password
//! hashing on a few dedicated threads with a bounded queue, failure throttles
//! per account and per client address, and a request rate limit per user.
//! All limits are settings (`Config`); state is per process (see README).
use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use governor::{clock::Clock as _, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::rules::{FailureRecord, ThrottlePolicy, Workspace};
use crate::{
    config::Config,
    error::{ApiError, ApiResult},
};

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// Runs argon2 off the async workers, at most `threads` at once. argon2id
/// takes about 19 MiB per hash; each thread keeps one such block set and
/// reuses it, so memory stays at `threads` × 19 MiB however many sign in.
/// When `queue` jobs already wait, a new one is refused as RATE_LIMITED.
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `threads` hashing threads with room for `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> HashPool {
        let (tx, rx) = mpsc::channel::<Job>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    let mut workspace = Workspace::default();
                    loop {
                        let job = match rx.lock() {
                            Ok(mut r) => r.blocking_recv(),
                            Err(_) => None,
                        };
                        match job {
                            Some(job) => job(&mut workspace),
                            None => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        HashPool { jobs: tx }
    }

    /// Runs `f` on a hashing thread; RATE_LIMITED when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |w: &mut Workspace| {
            let _ = done.send(f(w));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => ApiError::RateLimited {
                retry_after_secs: 1,
                why: "the server is busy checking passwords; try again in a moment",
            },
            mpsc::error::TrySendError::Closed(_) => {
                ApiError::Internal(anyhow::anyhow!("password hashing threads are gone"))
            }
        })?;
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("password hashing job was lost")))
    }
}

/// What a failure counter is kept for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// Most keys kept before old ones are forgotten (bounds memory under a
/// flood of made-up usernames).
const MAX_KEYS: usize = 100_000;

/// Wrong-password counters per account and per client address.
pub struct LoginThrottle {
    account: ThrottlePolicy,
    address: ThrottlePolicy,
    records: Mutex<HashMap<Key, FailureRecord>>,
}

impl LoginThrottle {
    /// Counters with the configured policies.
    pub fn new(account: ThrottlePolicy, address: ThrottlePolicy) -> Self {
        LoginThrottle {
            account,
            address,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn policy(&self, k: &Key) -> &ThrottlePolicy {
        match k {
            Key::Account(_) => &self.account,
            Key::Address(_) => &self.address,
        }
    }

    fn keys(login: &str, addr: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Account(login.trim().to_lowercase())];
        keys.extend(addr.map(Key::Address));
        keys
    }

    /// RATE_LIMITED with the wait when the account or the address must
    /// wait; checked before any password work is done.
    pub fn check(&self, login: &str, addr: Option<IpAddr>, now: DateTime<Utc>) -> ApiResult<()> {
        let records = self.records.lock().map_err(|_| poisoned())?;
        let wait = Self::keys(login, addr)
            .iter()
            .filter_map(|k| records.get(k).and_then(|r| self.policy(k).wait(r, now)))
            .max();
        match wait {
            Some(secs) => Err(ApiError::RateLimited {
                retry_after_secs: secs,
                why: "too many wrong passwords; wait before trying again",
            }),
            None => Ok(()),
        }
    }

    /// Counts a wrong password against the account and the address.
    pub fn failed(&self, login: &str, addr: Option<IpAddr>, now: DateTime<Utc>) {
        let Ok(mut records) = self.records.lock() else {
            return;
        };
        if records.len() >= MAX_KEYS {
            records.retain(|k, r| !self.policy(k).expired(r, now));
        }
        if records.len() >= MAX_KEYS {
            tracing::warn!("login throttle is full; forgetting the oldest counters");
            let mut by_age: Vec<_> = records.iter().map(|(k, r)| (r.since, k.clone())).collect();
            by_age.sort_by_key(|(since, _)| *since);
            for (_, k) in by_age.into_iter().take(MAX_KEYS / 10) {
                records.remove(&k);
            }
        }
        for k in Self::keys(login, addr) {
            let next = self.policy(&k).fail(records.get(&k).copied(), now);
            records.insert(k, next);
        }
    }

    /// A right password clears the account's counter (not the address's:
    /// one known password must not buy more guesses at others).
    pub fn succeeded(&self, login: &str) {
        if let Ok(mut records) = self.records.lock() {
            records.remove(&Key::Account(login.trim().to_lowercase()));
        }
    }
}

fn poisoned() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("login throttle lock poisoned"))
}

/// Who a request counts against.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Requester {
    /// A signed-in staff member.
    Staff(Uuid),
    /// Anyone else, by address.
    Address(IpAddr),
}

/// Requests per minute per signed-in user (or per address before sign-in).
pub struct RequestLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Requester>>,
}

impl RequestLimiter {
    /// `per_minute` requests with bursts of `burst`; 0 turns it off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        RequestLimiter { limiter }
    }

    /// RATE_LIMITED with the wait when the requester is over the limit.
    pub fn check(&self, who: &Requester) -> ApiResult<()> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        if l.len() > MAX_KEYS {
            l.retain_recent();
        }
        l.check_key(who).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
                why: "too many requests; slow down",
            }
        })
    }
}

/// Every guard, built once from the configuration.
pub struct Guards {
    /// Password hashing.
    pub hashing: HashPool,
    /// Wrong-password throttles.
    pub logins: LoginThrottle,
    /// Per-user request rate.
    pub requests: RequestLimiter,
}

impl Guards {
    /// The guards the configuration asks for.
    pub fn from_config(c: &Config) -> Guards {
        let minutes = chrono::Duration::minutes(c.login_lock_minutes as i64);
        Guards {
            hashing: HashPool::new(c.password_hash_threads, c.password_hash_queue),
            logins: LoginThrottle::new(
                ThrottlePolicy {
                    free_failures: c.login_account_free_failures,
                    lock_after: c.login_account_lock_after,
                    lock: minutes,
                },
                ThrottlePolicy {
                    free_failures: c.login_address_free_failures,
                    lock_after: c.login_address_lock_after,
                    lock: minutes,
                },
            ),
            requests: RequestLimiter::new(c.rate_limit_per_minute, c.rate_limit_burst),
        }
    }
}
