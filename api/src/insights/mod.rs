//! Insights: the managers' reports (sales funnel, service, complaints,
//! follow-up work, staff scorecards, customer value, store trend), work
//! plans with their live actual counts, and monthly staff targets. Reads
//! only: every figure comes from the other domains' rows, in the caller's
//! scope, and no customer's personal data leaves as a report row.
pub mod graphql;
pub mod plans;
pub mod rules;
pub mod store;
pub mod value;
