//! Follow-up tasks, the notification outbox and the local provider's
//! delivery record.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("task"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(string(a("kind")))
            .col(string(a("title")))
            .col(text(a("reason")))
            .col(uuid(a("customer_id")))
            .col(string_null(a("subject_type")))
            .col(uuid_null(a("subject_id")))
            .col(uuid_null(a("vehicle_id")))
            .col(uuid_null(a("assignee_id")))
            .col(string_null(a("assignee_role")))
            .col(timestamp_with_time_zone(a("earliest_at")))
            .col(timestamp_with_time_zone(a("due_at")))
            .col(timestamp_with_time_zone(a("latest_at")))
            .col(string(a("status")))
            .col(text_null(a("outcome")))
            .col(string_null(a("rule")))
            .col(string_null(a("rule_key")).unique_key())
            .col(timestamp_with_time_zone_null(a("remind_at")))
            .col(timestamp_with_time_zone_null(a("reminded_at")))
            .col(integer(a("escalation_level")))
            .col(integer(a("max_escalation_level")))
            .col(timestamp_with_time_zone_null(a("escalated_at")))
            .col(uuid_null(a("created_by")))
            .col(uuid_null(a("completed_by")))
            .col(timestamp_with_time_zone_null(a("completed_at")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "customer_id", "customer");
        fk(&mut t, "vehicle_id", "vehicle");
        fk(&mut t, "assignee_id", "staff");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("notification"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("store_id")))
            .col(string(a("channel")))
            .col(string(a("category")))
            .col(string(a("template")))
            .col(json(a("variables")))
            .col(uuid_null(a("recipient_staff_id")))
            .col(uuid_null(a("recipient_customer_id")))
            .col(string_null(a("address")))
            .col(uuid_null(a("task_id")))
            .col(string(a("dedupe_key")).unique_key())
            .col(string(a("status")))
            .col(integer(a("attempts")))
            .col(timestamp_with_time_zone(a("next_attempt_at")))
            .col(timestamp_with_time_zone_null(a("lease_until")))
            .col(text_null(a("last_error")))
            .col(timestamp_with_time_zone_null(a("sent_at")))
            .col(timestamp_with_time_zone_null(a("read_at")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "store_id", "store");
        fk(&mut t, "recipient_staff_id", "staff");
        fk(&mut t, "recipient_customer_id", "customer");
        fk(&mut t, "task_id", "task");
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(a("notification_delivery"))
            .col(pk_uuid(a("id")))
            .col(uuid(a("notification_id")).unique_key())
            .col(string(a("channel")))
            .col(string_null(a("address")))
            .col(text(a("body")))
            .col(timestamp_with_time_zone(a("delivered_at")));
        fk(&mut t, "notification_id", "notification");
        m.create_table(t).await?;

        for idx in [
            index(
                "ix_task_assignee",
                "task",
                &["assignee_id", "status", "due_at"],
                false,
            ),
            index(
                "ix_task_queue",
                "task",
                &["store_id", "assignee_role", "status", "due_at"],
                false,
            ),
            index("ix_task_due", "task", &["status", "due_at"], false),
            index("ix_task_remind", "task", &["status", "remind_at"], false),
            index(
                "ix_task_escalate",
                "task",
                &["status", "escalation_level", "escalated_at"],
                false,
            ),
            index("ix_task_customer", "task", &["customer_id"], false),
            index("ix_task_subject", "task", &["subject_id"], false),
            index(
                "ix_notification_due",
                "notification",
                &["status", "next_attempt_at"],
                false,
            ),
            index(
                "ix_notification_staff",
                "notification",
                &["recipient_staff_id", "channel", "id"],
                false,
            ),
            index(
                "ix_notification_store",
                "notification",
                &["store_id", "status", "id"],
                false,
            ),
        ] {
            m.create_index(idx).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["notification_delivery", "notification", "task"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
