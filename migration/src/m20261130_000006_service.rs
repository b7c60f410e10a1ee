//! After-sales: service appointments with the advisor's booked quarter
//! hours, repair orders (jobs and parts as JSON lines, totals in fen), each
//! vehicle's service forecast (the next service predicted from time and
//! mileage), warranty claims filed from warranty repair orders, and the
//! index that finds a vehicle's tasks.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("repair_order"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid(a("vehicle_id")))
            .col(uuid(a("advisor_id")))
            .col(string(a("kind")))
            .col(integer(a("mileage_in")))
            .col(text(a("complaint")))
            .col(text_null(a("diagnosis")))
            .col(text_null(a("inspection")))
            .col(json_null(a("measurements")))
            .col(json(a("jobs")))
            .col(json(a("parts")))
            .col(big_integer(a("labour_fen")))
            .col(big_integer(a("parts_fen")))
            .col(big_integer(a("total_fen")))
            .col(big_integer(a("warranty_fen")))
            .col(big_integer(a("paid_fen")))
            .col(string_null(a("payment_method")))
            .col(timestamp_with_time_zone_null(a("promised_at")))
            .col(string(a("status")))
            .col(uuid_null(a("repeat_of_id")))
            .col(boolean_null(a("fixed_first_time")))
            .col(timestamp_with_time_zone(a("opened_at")))
            .col(timestamp_with_time_zone_null(a("done_at")))
            .col(timestamp_with_time_zone_null(a("delivered_at")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "advisor_id", "staff");
        m.create_table(t).await?;
        for (name, cols) in [
            // The store's lists, newest first, and its open work.
            ("ix_repair_order_store", &["store_id", "opened_at"][..]),
            ("ix_repair_order_status", &["store_id", "status"][..]),
            // A vehicle's and a customer's service history.
            ("ix_repair_order_vehicle", &["vehicle_id", "opened_at"][..]),
            (
                "ix_repair_order_customer",
                &["customer_id", "opened_at"][..],
            ),
        ] {
            m.create_index(index(name, "repair_order", cols, false))
                .await?;
        }

        let mut t = Table::create();
        t.table(a("service_appointment"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid(a("vehicle_id")))
            .col(uuid(a("advisor_id")))
            .col(string(a("source")))
            .col(timestamp_with_time_zone(a("starts_at")))
            .col(timestamp_with_time_zone(a("ends_at")))
            .col(text_null(a("concern")))
            .col(uuid_null(a("campaign_id")))
            .col(string(a("status")))
            .col(uuid_null(a("repair_order_id")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "advisor_id", "staff");
        fk(&mut t, "repair_order_id", "repair_order");
        m.create_table(t).await?;
        for (name, cols) in [
            ("ix_appointment_store", &["store_id", "starts_at"][..]),
            ("ix_appointment_advisor", &["advisor_id", "starts_at"][..]),
            ("ix_appointment_vehicle", &["vehicle_id"][..]),
        ] {
            m.create_index(index(name, "service_appointment", cols, false))
                .await?;
        }

        // One row per booked quarter hour of an advisor: the primary key
        // makes double booking impossible under any concurrency.
        let mut t = Table::create();
        t.table(a("advisor_slot"))
            .col(uuid(a("advisor_id")))
            .col(timestamp_with_time_zone(a("slot_at")))
            .col(uuid(a("appointment_id")))
            .primary_key(Index::create().col(a("advisor_id")).col(a("slot_at")));
        fk(&mut t, "appointment_id", "service_appointment");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_advisor_slot_appointment",
            "advisor_slot",
            &["appointment_id"],
            false,
        ))
        .await?;

        // The next service of each vehicle, kept by every reading and every
        // service; `stale` rows wait for the re-prediction pass.
        let mut t = Table::create();
        t.table(a("service_forecast"))
            .col(uuid(a("vehicle_id")).primary_key())
            .col(uuid(a("store_id")))
            .col(integer(a("daily_m")))
            .col(date_null(a("last_service_on")))
            .col(integer_null(a("last_service_km")))
            .col(integer(a("services")))
            .col(date_null(a("due_on")))
            .col(integer_null(a("due_km")))
            .col(string_null(a("basis")))
            .col(boolean(a("stale")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "store_id", "store");
        m.create_table(t).await?;
        for (name, cols) in [
            ("ix_service_forecast_due", &["store_id", "due_on"][..]),
            // The re-prediction pass walks the stale rows in key order.
            ("ix_service_forecast_stale", &["stale", "vehicle_id"][..]),
        ] {
            m.create_index(index(name, "service_forecast", cols, false))
                .await?;
        }

        // A vehicle's work: the reminders a reading moves and a visit closes
        // (without it each of those statements read the whole task table).
        m.create_index(index("ix_task_vehicle", "task", &["vehicle_id"], false))
            .await?;

        let mut t = Table::create();
        t.table(a("warranty_claim"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("repair_order_id")))
            .col(uuid(a("vehicle_id")))
            .col(uuid(a("customer_id")))
            .col(string(a("model")))
            .col(string(a("failed_part")))
            .col(text(a("cause")))
            .col(big_integer(a("labour_fen")))
            .col(big_integer(a("parts_fen")))
            .col(big_integer(a("total_fen")))
            .col(date(a("serviced_on")))
            .col(date(a("file_by")))
            .col(timestamp_with_time_zone_null(a("submitted_at")))
            .col(boolean(a("late")))
            .col(string(a("status")))
            .col(string_null(a("tracking_no")))
            .col(text_null(a("reject_reason")))
            .col(big_integer_null(a("paid_fen")))
            .col(timestamp_with_time_zone_null(a("decided_at")))
            .col(uuid_null(a("decided_by")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "repair_order_id", "repair_order");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "customer_id", "customer");
        m.create_table(t).await?;
        for (name, cols, unique) in [
            ("ux_warranty_claim_order", &["repair_order_id"][..], true),
            (
                "ix_warranty_claim_store",
                &["store_id", "status", "created_at"][..],
                false,
            ),
        ] {
            m.create_index(index(name, "warranty_claim", cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_task_vehicle")
                .table(a("task"))
                .to_owned(),
        )
        .await?;
        for t in [
            "warranty_claim",
            "service_forecast",
            "advisor_slot",
            "service_appointment",
            "repair_order",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
