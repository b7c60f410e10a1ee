//! The follow-up engine: tasks derived from store rules, a scheduler that
//! marks them overdue, reminds and escalates exactly once, the notification
//! outbox, and "my day".
pub mod events;
pub mod graphql;
pub mod outbox;
pub mod rules;
pub mod scheduler;
pub mod store;
