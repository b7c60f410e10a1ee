//! Sales: leads from every channel to delivery (DOMAIN.md, "Sales: lead to
//! delivery"). `rules` is pure; `leads`, `drives`, `orders`, `hooks` (the
//! webhook) and `intake` (its worker) are the database rooms; `graphql` is the thin API over them. Follow-up
//! work goes through the engine (`tasks::store`), which never calls back.
pub mod drives;
pub mod graphql;
pub mod hooks;
pub mod intake;
pub mod leads;
pub mod orders;
pub mod rules;
