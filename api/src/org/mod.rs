//! The organisation: OEM → dealer group → store (grade, settings) → team →
//! staff.
pub mod graphql;
pub mod leaving;
pub mod rules;
pub mod store;
