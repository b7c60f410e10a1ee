//! Customer care: complaints with their action log, satisfaction surveys
//! (templates and answers), revisit attempts, each customer's standing
//! (lifecycle stage, risks, value and segment) kept by the daily retention
//! pass with its per-store claim, win-back attempts, and the wait before
//! an overdue task climbs to the next level when its rule sets one.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("complaint"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid_null(a("vehicle_id")))
            .col(uuid_null(a("repair_order_id")))
            .col(uuid_null(a("staff_id")))
            .col(string(a("department")))
            .col(string(a("channel")))
            .col(timestamp_with_time_zone(a("received_at")))
            .col(text(a("content")))
            .col(string(a("category")))
            .col(string(a("cause")))
            .col(string(a("severity")))
            .col(uuid(a("owner_id")))
            .col(string(a("status")))
            .col(timestamp_with_time_zone(a("response_due_at")))
            .col(timestamp_with_time_zone(a("resolution_due_at")))
            .col(timestamp_with_time_zone_null(a("responded_at")))
            .col(timestamp_with_time_zone_null(a("resolved_at")))
            .col(timestamp_with_time_zone_null(a("closed_at")))
            .col(text_null(a("resolution")))
            .col(text_null(a("improvement_plan")))
            .col(integer_null(a("outcome_satisfaction")))
            .col(uuid_null(a("survey_response_id")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("complaint_action"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("complaint_id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("staff_id")))
            .col(string(a("kind")))
            .col(text_null(a("note")))
            .col(timestamp_with_time_zone(a("at")));
        fk(&mut t, "complaint_id", "complaint");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("survey_template"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("oem_id")))
            .col(uuid_null(a("store_id")))
            .col(string(a("kind")))
            .col(string(a("name")))
            .col(json(a("questions")))
            .col(boolean(a("active")))
            .col(uuid(a("created_by")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "oem_id", "oem");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("survey_response"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid_null(a("template_id")))
            .col(string(a("kind")))
            .col(string_null(a("event_type")))
            .col(uuid_null(a("event_id")))
            .col(uuid_null(a("staff_id")))
            .col(uuid_null(a("task_id")))
            .col(string(a("method")))
            .col(json(a("answers")))
            .col(integer(a("overall")))
            .col(double(a("csi")))
            .col(uuid(a("recorded_by")))
            .col(timestamp_with_time_zone(a("answered_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("revisit_attempt"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("task_id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid(a("staff_id")))
            .col(string(a("method")))
            .col(boolean(a("reached")))
            .col(text_null(a("note")))
            .col(timestamp_with_time_zone(a("at")));
        fk(&mut t, "task_id", "task");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("customer_standing"))
            .col(uuid(a("customer_id")).primary_key())
            .col(uuid(a("store_id")))
            .col(string(a("stage")))
            .col(string(a("segment")))
            .col(string(a("risks")))
            .col(boolean(a("at_risk")))
            .col(date_null(a("at_risk_since")))
            .col(date_null(a("last_visit_on")))
            .col(integer(a("visits_12m")))
            .col(integer(a("vehicles")))
            .col(big_integer(a("sales_revenue_fen")))
            .col(big_integer(a("service_revenue_fen")))
            .col(big_integer(a("revenue_fen")))
            .col(big_integer(a("ltv_fen")))
            .col(date(a("computed_on")));
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "store_id", "store");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("retention_run"))
            .col(uuid(a("store_id")).primary_key())
            .col(date_null(a("last_day")))
            .col(timestamp_with_time_zone(a("next_at")))
            .col(integer(a("customers")))
            .col(integer(a("flagged")));
        fk(&mut t, "store_id", "store");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("win_back_attempt"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(uuid(a("customer_id")))
            .col(uuid_null(a("task_id")))
            .col(uuid(a("staff_id")))
            .col(string(a("reason")))
            .col(big_integer(a("cost_fen")))
            .col(date(a("attempted_on")))
            .col(string(a("result")))
            .col(text_null(a("note")))
            .col(timestamp_with_time_zone(a("created_at")));
        fk(&mut t, "customer_id", "customer");
        m.create_table(t).await?;

        m.alter_table(
            Table::alter()
                .table(a("task"))
                .add_column(integer_null(a("escalation_wait_hours")))
                .to_owned(),
        )
        .await?;

        for (name, table, cols) in [
            // The complaint board: a store's complaints by state and deadline.
            (
                "ix_complaint_board",
                "complaint",
                &["store_id", "status", "resolution_due_at"][..],
            ),
            ("ix_complaint_customer", "complaint", &["customer_id"][..]),
            (
                "ix_complaint_action",
                "complaint_action",
                &["complaint_id", "at"][..],
            ),
            (
                "ix_survey_template",
                "survey_template",
                &["oem_id", "kind"][..],
            ),
            // CSI per store and per staff member over a period.
            (
                "ix_survey_store",
                "survey_response",
                &["store_id", "answered_at"][..],
            ),
            (
                "ix_survey_staff",
                "survey_response",
                &["staff_id", "answered_at"][..],
            ),
            (
                "ix_survey_customer",
                "survey_response",
                &["customer_id"][..],
            ),
            ("ix_revisit_attempt", "revisit_attempt", &["task_id"][..]),
            // The value list: a store's customers by lifetime value, and
            // its at-risk and stage filters.
            (
                "ix_standing_value",
                "customer_standing",
                &["store_id", "ltv_fen", "customer_id"][..],
            ),
            (
                "ix_standing_revenue",
                "customer_standing",
                &["store_id", "revenue_fen", "customer_id"][..],
            ),
            (
                "ix_standing_risk",
                "customer_standing",
                &["store_id", "at_risk"][..],
            ),
            (
                "ix_win_back_customer",
                "win_back_attempt",
                &["customer_id"][..],
            ),
        ] {
            m.create_index(index(name, table, cols, false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("task"))
                .drop_column(a("escalation_wait_hours"))
                .to_owned(),
        )
        .await?;
        for t in [
            "win_back_attempt",
            "retention_run",
            "customer_standing",
            "revisit_attempt",
            "survey_response",
            "survey_template",
            "complaint_action",
            "complaint",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
