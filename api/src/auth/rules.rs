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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_reject() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
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
