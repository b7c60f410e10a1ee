//! Customer care (DOMAIN.md, "Complaints", "Retention", problems 3 and 4):
//! revisits carried out with scripts and structured outcomes, satisfaction
//! surveys and CSI, complaints with response and resolution deadlines that
//! escalate through the engine. `rules` is pure; `complaints`, `surveys`
//! and `revisits` are the database rooms; `graphql` is the thin API over
//! them. Deadlines are engine tasks (`tasks::store`), which never call
//! back: a complaint reads how far its tasks escalated.
pub mod complaints;
pub mod graphql;
pub mod retention;
pub mod revisits;
pub mod rules;
pub mod surveys;
