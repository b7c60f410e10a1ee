//! Roles, password rules and token material. Pure: no database.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::labels::labeled_enum;

labeled_enum! {
    /// What a staff member does, which decides what they may see and change.
    Role {
        SalesConsultant = "SALES_CONSULTANT" ("Sales consultant", "销售顾问"),
        ServiceAdvisor = "SERVICE_ADVISOR" ("Service advisor", "服务顾问"),
        CareAgent = "CARE_AGENT" ("Customer-care agent", "客服专员"),
        WarrantyClerk = "WARRANTY_CLERK" ("Warranty clerk", "索赔员"),
        StoreManager = "STORE_MANAGER" ("Store manager", "店总经理"),
        GroupManager = "GROUP_MANAGER" ("Dealer group manager", "集团经理"),
        OemStaff = "OEM_STAFF" ("OEM staff", "厂家人员"),
        Admin = "ADMIN" ("Administrator", "系统管理员"),
    }
}

impl Role {
    /// Roles that work inside one store.
    pub fn is_store_level(self) -> bool {
        matches!(
            self,
            Role::SalesConsultant
                | Role::ServiceAdvisor
                | Role::CareAgent
                | Role::WarrantyClerk
                | Role::StoreManager
        )
    }
}

/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 8;
/// Longest accepted password (argon2 work is bounded by it).
pub const MAX_PASSWORD: usize = 128;

/// Why a new password is refused, if it is.
pub fn password_problem(pw: &str) -> Option<&'static str> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD {
        Some("password must be at least 8 characters")
    } else if n > MAX_PASSWORD {
        Some("password must be at most 128 characters")
    } else {
        None
    }
}

/// Hashes a password with argon2id (PHC string). CPU-heavy: call off the
/// async runtime.
pub fn hash_password(pw: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a stored PHC string; malformed hashes never match.
pub fn verify_password(pw: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// Largest argon2 memory a stored hash may ask for (ours use 19 MiB).
const MAX_HASH_BLOCKS: usize = 256 * 1024;

/// argon2 working memory kept by one hashing thread and reused for every
/// hash it computes, so that memory stays at one block set per thread
/// instead of growing with the allocator's appetite.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<argon2::Block>,
}

impl Workspace {
    fn memory(&mut self, params: &argon2::Params) -> Option<&mut [argon2::Block]> {
        let n = params.block_count();
        if n > MAX_HASH_BLOCKS {
            return None;
        }
        if self.blocks.len() < n {
            self.blocks.resize(n, argon2::Block::default());
        }
        Some(&mut self.blocks[..n])
    }

    /// `verify_password` on this workspace's memory.
    pub fn verify(&mut self, pw: &str, phc: &str) -> bool {
        use argon2::{password_hash::Output, Algorithm, Params, Version};
        let Ok(h) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (h.hash, h.salt) else {
            return false;
        };
        let (Ok(alg), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(&h)) else {
            return false;
        };
        let version = match h.version.map(Version::try_from).transpose() {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => return false,
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let argon = Argon2::new(alg, version, params.clone());
        let Some(memory) = self.memory(&params) else {
            return false;
        };
        argon
            .hash_password_into_with_memory(pw.as_bytes(), salt, &mut out, memory)
            .is_ok()
            && Output::new(&out).is_ok_and(|o| o == expected)
    }

    /// `hash_password` on this workspace's memory.
    pub fn hash(&mut self, pw: &str) -> anyhow::Result<String> {
        use argon2::{
            password_hash::{Output, ParamsString},
            Algorithm, Params, Version,
        };
        let params = Params::default();
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_buf)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let memory = self
            .memory(&params)
            .ok_or_else(|| anyhow::anyhow!("argon2 memory too large"))?;
        argon
            .hash_password_into_with_memory(pw.as_bytes(), salt_bytes, &mut out, memory)
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    }
}

/// A new opaque refresh token.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("rt_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// How a refresh token is stored: only its hash ever reaches the database.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many wrong passwords a key (an account, or a client address) may
/// send before it must wait, and for how long. All of it comes from settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures answered at once, without waiting.
    pub free_failures: u32,
    /// After this many failures the key is locked for `lock`.
    pub lock_after: u32,
    /// How long a lock lasts; failures older than this are forgotten.
    pub lock: chrono::Duration,
}

/// Where a key stands after its latest failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureRecord {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the current window started (its first failure).
    pub since: chrono::DateTime<chrono::Utc>,
    /// No attempt is heard before this.
    pub blocked_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ThrottlePolicy {
    /// The record after one more failure at `now`: past the free failures
    /// each one doubles the wait (1 s, 2 s, 4 s …), and at `lock_after` the
    /// key is locked for the whole lock time. A window older than the lock
    /// time starts afresh, so a real user gets past a lock by waiting.
    pub fn fail(
        &self,
        prev: Option<FailureRecord>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> FailureRecord {
        let fresh = FailureRecord {
            failures: 0,
            since: now,
            blocked_until: None,
        };
        let mut r = match prev {
            Some(p) if now - p.since < self.lock || p.blocked_until.is_some_and(|b| b > now) => p,
            _ => fresh,
        };
        r.failures += 1;
        r.blocked_until = if r.failures >= self.lock_after {
            Some(now + self.lock)
        } else if r.failures > self.free_failures {
            let exp = (r.failures - self.free_failures - 1).min(10);
            Some(now + chrono::Duration::seconds(1i64 << exp))
        } else {
            None
        };
        if r.failures >= self.lock_after {
            // The lock window restarts so that the count is forgotten when it ends.
            r.since = now;
        }
        r
    }

    /// Seconds to wait before the key is heard again, if any.
    pub fn wait(&self, r: &FailureRecord, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
        r.blocked_until
            .filter(|b| *b > now)
            .map(|b| (b - now).num_milliseconds().max(0) as u64)
            .map(|ms| ms.div_ceil(1000).max(1))
    }

    /// Whether a record can be forgotten (its window and any lock are over).
    pub fn expired(&self, r: &FailureRecord, now: chrono::DateTime<chrono::Utc>) -> bool {
        now - r.since >= self.lock && r.blocked_until.is_none_or(|b| b <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 3,
            lock_after: 6,
            lock: chrono::Duration::minutes(15),
        }
    }

    #[test]
    fn failures_back_off_then_lock_then_are_forgotten() {
        let p = policy();
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .to_utc();
        let mut r = None;
        for _ in 0..3 {
            r = Some(p.fail(r, t0));
            assert_eq!(
                p.wait(&r.unwrap(), t0),
                None,
                "free failures wait for nothing"
            );
        }
        r = Some(p.fail(r, t0));
        assert_eq!(p.wait(&r.unwrap(), t0), Some(1));
        r = Some(p.fail(r, t0));
        assert_eq!(p.wait(&r.unwrap(), t0), Some(2));
        r = Some(p.fail(r, t0));
        assert_eq!(
            p.wait(&r.unwrap(), t0),
            Some(900),
            "the sixth failure locks for 15 minutes"
        );
        let later = t0 + chrono::Duration::minutes(15);
        assert_eq!(p.wait(&r.unwrap(), later), None);
        assert!(p.expired(&r.unwrap(), later));
        let after = p.fail(r, later);
        assert_eq!(
            after.failures, 1,
            "a new window starts once the lock is over"
        );
    }

    #[test]
    fn hashes_verify_and_reject() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_reusable_workspace_agrees_with_the_plain_functions() {
        let mut w = Workspace::default();
        let plain = hash_password("correct horse").unwrap();
        assert!(w.verify("correct horse", &plain));
        assert!(!w.verify("wrong horse", &plain));
        let reused = w.hash("battery staple").unwrap();
        assert!(reused.starts_with("$argon2id$v=19$m=19456"));
        assert!(verify_password("battery staple", &reused));
        assert!(w.verify("battery staple", &reused));
        assert!(!w.verify("x", "not a hash"));
    }

    #[test]
    fn password_rules() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough").is_none());
        assert!(password_problem(&"x".repeat(129)).is_some());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
    }
}
