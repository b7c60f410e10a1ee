//! Login, tokens, password hashing, and the Actor whose scope every store
//! function filters by.
pub mod actor;
pub mod graphql;
pub mod rules;
pub mod store;

pub use actor::Actor;
pub use rules::Role;
