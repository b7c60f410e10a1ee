//! After-sales (DOMAIN.md, "Service and warranty"): service appointments,
//! repair orders with their jobs, parts and payment, the service history
//! and first-time fix, warranty claims, and recalls and campaigns. `rules` is pure;
//! `appointments`, `orders` and `claims` are the database rooms; `graphql`
//! is the thin API over them. A vehicle's predicted next service lives with
//! the vehicle (`customers::forecast`), which a closed visit updates; the
//! follow-up work goes through the engine (`tasks::store`), which never
//! calls back.
pub mod appointments;
pub mod campaigns;
pub mod claims;
pub mod graphql;
pub mod orders;
pub mod rules;
