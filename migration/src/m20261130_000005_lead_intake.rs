//! The webhook's intake: a posted lead is written here in one statement and
//! answered 202; a worker turns intake rows into customers, leads and their
//! first-contact tasks in batches. The unique (source, external id) index
//! makes a resend a no-op. No foreign keys: every post of a portal would
//! take a share lock on the same source row, and sources are deactivated,
//! never deleted.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("lead_intake"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("source_id")))
            .col(string(a("external_id")))
            .col(text_null(a("body")))
            .col(string(a("state")))
            .col(integer(a("attempts")))
            .col(string_null(a("error")))
            .col(uuid_null(a("lead_id")))
            .col(timestamp_with_time_zone(a("received_at")))
            .col(timestamp_with_time_zone(a("not_before")))
            .col(timestamp_with_time_zone_null(a("processed_at")));
        m.create_table(t).await?;
        for (name, cols, unique) in [
            (
                "ux_lead_intake_external",
                &["source_id", "external_id"][..],
                true,
            ),
            // The worker's walk over what is waiting.
            ("ix_lead_intake_due", &["state", "not_before"][..], false),
        ] {
            m.create_index(index(name, "lead_intake", cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("lead_intake")).to_owned())
            .await
    }
}
