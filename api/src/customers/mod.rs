//! Customers, their phones and consent, vehicles with ownership and mileage,
//! the customer log, de-duplication and merge.
pub mod directory;
pub mod forecast;
pub mod graphql;
pub mod log;
pub mod rules;
pub mod store;
pub mod vehicles;
