//! Login, tokens, password hashing, and the Actor whose scope every store
//! function filters by.
pub mod actor;
pub mod graphql;
pub mod guard;
pub mod rules;
pub mod sessions;
pub mod store;

pub use actor::Actor;
pub use rules::Role;
