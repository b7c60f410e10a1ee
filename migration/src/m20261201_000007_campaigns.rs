//! Recalls and service campaigns: the OEM's campaign and its affected VINs,
//! each matched to the store's vehicle it names, with its booking and
//! completion.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("campaign"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("oem_id")))
            .col(string(a("code")))
            .col(string(a("title")))
            .col(string(a("kind")))
            .col(text_null(a("description")))
            .col(date(a("starts_on")))
            .col(date_null(a("ends_on")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "oem_id", "oem");
        m.create_table(t).await?;
        m.create_index(index(
            "ux_campaign_code",
            "campaign",
            &["oem_id", "code"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("campaign_vehicle"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("campaign_id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("vehicle_id")))
            .col(string(a("vin")))
            .col(string(a("status")))
            .col(uuid_null(a("repair_order_id")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "campaign_id", "campaign");
        fk(&mut t, "store_id", "store");
        fk(&mut t, "vehicle_id", "vehicle");
        m.create_table(t).await?;
        for (name, cols, unique) in [
            (
                "ux_campaign_vehicle",
                &["campaign_id", "vehicle_id"][..],
                true,
            ),
            // A store's affected cars per campaign, and the progress counts.
            (
                "ix_campaign_vehicle_store",
                &["store_id", "campaign_id", "status"][..],
                false,
            ),
            ("ix_campaign_vehicle_vehicle", &["vehicle_id"][..], false),
        ] {
            m.create_index(index(name, "campaign_vehicle", cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["campaign_vehicle", "campaign"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
