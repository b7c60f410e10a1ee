//! End-to-end tests: each starts the real server on a random port against a
//! fresh database (SQLite in a temp dir, or a new PostgreSQL database when
//! TEST_DATABASE_URL is set) and speaks GraphQL over HTTP like a client.
mod support;

mod abuse;
mod access_matrix;
mod auth;
mod care;
mod console;
mod customers;
mod http_spec;
mod insights;
mod ops;
mod org;
mod privacy;
mod readme;
mod sales;
mod scaling;
mod schema;
mod scoping;
mod service;
mod store_day;
mod subscriptions;
mod tasks;
mod vehicles;
mod workers;
