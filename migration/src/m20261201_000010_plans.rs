//! Insights: a store's work plans (revisit, customer event, service plan)
//! whose actual count is computed from the work that fulfils them, each
//! staff member's monthly targets, and the indexes the reports read
//! (complaints by when they came in, tasks by when they were done, claims
//! by when they were opened, each within a store).
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("work_plan"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(string(a("kind")))
            .col(string(a("title")))
            .col(date(a("starts_on")))
            .col(date(a("ends_on")))
            .col(string(a("method")))
            .col(integer(a("target_count")))
            .col(integer(a("minimum_count")))
            .col(text(a("content")))
            .col(text(a("purpose")))
            .col(uuid_null(a("owner_id")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "owner_id", "staff");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_work_plan_store",
            "work_plan",
            &["store_id", "starts_on"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table(a("staff_target"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("staff_id")))
            .col(string(a("month")))
            .col(integer_null(a("tasks_done")))
            .col(big_integer_null(a("service_revenue_fen")))
            .col(integer_null(a("new_customers")))
            .col(big_integer_null(a("receivables_fen")))
            .col(double_null(a("csi")))
            .col(uuid(a("set_by")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "staff_id", "staff");
        m.create_table(t).await?;
        m.create_index(index(
            "ux_staff_target",
            "staff_target",
            &["staff_id", "month"],
            true,
        ))
        .await?;
        // The reports read each fact table by store and time.
        for (name, table, cols) in [
            (
                "ix_complaint_received",
                "complaint",
                &["store_id", "received_at"][..],
            ),
            (
                "ix_task_done",
                "task",
                &["store_id", "kind", "completed_at"][..],
            ),
            (
                "ix_warranty_claim_created",
                "warranty_claim",
                &["store_id", "created_at"][..],
            ),
        ] {
            m.create_index(index(name, table, cols, false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_complaint_received", "complaint"),
            ("ix_task_done", "task"),
            ("ix_warranty_claim_created", "warranty_claim"),
        ] {
            m.drop_index(Index::drop().name(name).table(a(table)).to_owned())
                .await?;
        }
        for t in ["staff_target", "work_plan"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
