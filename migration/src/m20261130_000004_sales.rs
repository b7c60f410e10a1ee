//! Sales: lead sources with their webhook secrets, leads, the demo fleet,
//! test drives with their booked quarter hours, orders with their PDI, the
//! store's PDI checklist and monthly quotas. Vehicles gain the warranty a
//! delivery starts; teams gain the turn counter of their round-robin.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("lead_source"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(string(a("name")))
            .col(string(a("channel")))
            .col(uuid_null(a("team_id")))
            .col(string(a("secret")))
            .col(boolean(a("active")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "team_id", "team");
        m.create_table(t).await?;
        m.create_index(index(
            "ux_lead_source_name",
            "lead_source",
            &["store_id", "name"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("lead"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid_null(a("consultant_id")))
            .col(string(a("channel")))
            .col(uuid_null(a("source_id")))
            .col(string_null(a("external_id")))
            .col(string_null(a("source_detail")))
            .col(string_null(a("campaign")))
            .col(string_null(a("interest_model")))
            .col(big_integer_null(a("budget_yuan")))
            .col(string_null(a("purchase_timing")))
            .col(boolean(a("trade_in")))
            .col(string_null(a("trade_in_model")))
            .col(string(a("grade")))
            .col(string(a("status")))
            .col(timestamp_with_time_zone(a("first_response_due_at")))
            .col(timestamp_with_time_zone_null(a("first_responded_at")))
            .col(timestamp_with_time_zone_null(a("last_contact_at")))
            .col(timestamp_with_time_zone_null(a("next_follow_up_at")))
            .col(integer(a("follow_ups")))
            .col(string_null(a("lost_reason")))
            .col(string_null(a("lost_to_brand")))
            .col(string_null(a("lost_to_model")))
            .col(text_null(a("lost_note")))
            .col(timestamp_with_time_zone_null(a("closed_at")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "consultant_id", "staff");
        fk(&mut t, "source_id", "lead_source");
        m.create_table(t).await?;
        for (name, cols, unique) in [
            ("ux_lead_external", &["source_id", "external_id"][..], true),
            (
                "ix_lead_consultant",
                &["consultant_id", "status", "next_follow_up_at"][..],
                false,
            ),
            // The manager's lists, newest first.
            ("ix_lead_store", &["store_id", "created_at"][..], false),
            // The manager's board reads only this index (on PostgreSQL an
            // index-only scan): counts by status, and for open leads by
            // consultant and grade with their deadlines.
            (
                "ix_lead_board",
                &[
                    "store_id",
                    "status",
                    "consultant_id",
                    "grade",
                    "first_responded_at",
                    "first_response_due_at",
                    "next_follow_up_at",
                    "last_contact_at",
                    "created_at",
                ][..],
                false,
            ),
            ("ix_lead_customer", &["customer_id"][..], false),
        ] {
            m.create_index(index(name, "lead", cols, unique)).await?;
        }

        let mut t = Table::create();
        t.table(a("demo_car"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(string(a("model")))
            .col(string_null(a("trim")))
            .col(string(a("plate")))
            .col(boolean(a("available")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "store_id", "store");
        m.create_table(t).await?;
        m.create_index(index(
            "ux_demo_car_plate",
            "demo_car",
            &["store_id", "plate"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("test_drive"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("lead_id")))
            .col(uuid(a("customer_id")))
            .col(uuid(a("demo_car_id")))
            .col(uuid(a("consultant_id")))
            .col(timestamp_with_time_zone(a("starts_at")))
            .col(timestamp_with_time_zone(a("ends_at")))
            .col(string(a("licence_no")))
            .col(timestamp_with_time_zone_null(a("agreement_signed_at")))
            .col(string_null(a("route")))
            .col(integer_null(a("start_km")))
            .col(integer_null(a("end_km")))
            .col(text_null(a("feedback")))
            .col(integer_null(a("rating")))
            .col(string(a("status")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "lead_id", "lead");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "demo_car_id", "demo_car");
        fk(&mut t, "consultant_id", "staff");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_test_drive_lead",
            "test_drive",
            &["lead_id"],
            false,
        ))
        .await?;

        // One row per booked quarter hour of a demo car or a consultant: the
        // primary key is what makes double booking impossible, on both
        // databases and under any concurrency.
        let mut t = Table::create();
        t.table(a("booking_slot"))
            .col(uuid(a("resource_id")))
            .col(timestamp_with_time_zone(a("slot_at")))
            .col(uuid(a("test_drive_id")))
            .primary_key(Index::create().col(a("resource_id")).col(a("slot_at")));
        fk(&mut t, "test_drive_id", "test_drive");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_booking_slot_drive",
            "booking_slot",
            &["test_drive_id"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("sales_order"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("lead_id")))
            .col(uuid(a("customer_id")))
            .col(uuid(a("consultant_id")))
            .col(string(a("model")))
            .col(string_null(a("trim")))
            .col(string_null(a("colour")))
            .col(big_integer(a("price_yuan")))
            .col(big_integer(a("discount_yuan")))
            .col(big_integer(a("deposit_yuan")))
            .col(string(a("payment")))
            .col(string_null(a("loan_provider")))
            .col(integer_null(a("loan_term_months")))
            .col(big_integer_null(a("down_payment_yuan")))
            .col(string_null(a("insurance")))
            .col(string_null(a("trade_in")))
            .col(string_null(a("accessories")))
            .col(big_integer(a("commission_yuan")))
            .col(string(a("status")))
            .col(json_null(a("pdi")))
            .col(timestamp_with_time_zone_null(a("pdi_completed_at")))
            .col(uuid_null(a("vehicle_id")))
            .col(timestamp_with_time_zone_null(a("delivered_at")))
            .col(text_null(a("cancel_reason")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "lead_id", "lead");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "consultant_id", "staff");
        fk(&mut t, "vehicle_id", "vehicle");
        m.create_table(t).await?;
        for (name, cols) in [
            ("ix_sales_order_lead", &["lead_id"][..]),
            ("ix_sales_order_store", &["store_id", "created_at"][..]),
            (
                "ix_sales_order_consultant",
                &["consultant_id", "created_at"][..],
            ),
        ] {
            m.create_index(index(name, "sales_order", cols, false))
                .await?;
        }

        let mut t = Table::create();
        t.table(a("pdi_item"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(integer(a("position")))
            .col(string(a("label")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "store_id", "store");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_pdi_item_store",
            "pdi_item",
            &["store_id", "position"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("sales_quota"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("staff_id")))
            .col(string(a("month")))
            .col(integer(a("units")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "staff_id", "staff");
        m.create_table(t).await?;
        m.create_index(index(
            "ux_sales_quota",
            "sales_quota",
            &["staff_id", "month"],
            true,
        ))
        .await?;

        for col in [
            date_null(a("warranty_ends_on")),
            integer_null(a("warranty_km")),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(a("vehicle"))
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(a("team"))
                .add_column(big_integer(a("lead_turn")).default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("team"))
                .drop_column(a("lead_turn"))
                .to_owned(),
        )
        .await?;
        for col in ["warranty_ends_on", "warranty_km"] {
            m.alter_table(
                Table::alter()
                    .table(a("vehicle"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        for t in [
            "sales_quota",
            "pdi_item",
            "sales_order",
            "booking_slot",
            "test_drive",
            "demo_car",
            "lead",
            "lead_source",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
