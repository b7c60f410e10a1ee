//! Reminders move out of the task row into a queue of their own.
//!
//! Sending a reminder used to rewrite the task row, which touches every one
//! of the task table's nine indexes; now it deletes one narrow queue row
//! (no index work) and the task row is left alone. Pending reminders are
//! carried over.
//!
//! On PostgreSQL the outbox's foreign keys go too: each checked row took a
//! KEY SHARE lock on its store, staff and task rows, a quarter of the cost
//! of queueing a message, and nothing they guard is ever deleted (staff are
//! deactivated, customers merged, tasks closed). SQLite cannot drop a
//! constraint in place and is not where the volume is, so it keeps them.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{a, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a("task_reminder"))
            .col(uuid(a("task_id")).primary_key())
            .col(timestamp_with_time_zone(a("remind_at")));
        fk(&mut t, "task_id", "task");
        m.create_table(t).await?;
        m.create_index(index(
            "ix_task_reminder_due",
            "task_reminder",
            &["remind_at"],
            false,
        ))
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO task_reminder (task_id, remind_at) \
             SELECT id, remind_at FROM task \
             WHERE status = 'OPEN' AND reminded_at IS NULL AND remind_at IS NOT NULL",
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_task_remind")
                .table(a("task"))
                .to_owned(),
        )
        .await?;
        for col in ["remind_at", "reminded_at"] {
            m.alter_table(
                Table::alter()
                    .table(a("task"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE notification \
                 DROP CONSTRAINT IF EXISTS notification_store_id_fkey, \
                 DROP CONSTRAINT IF EXISTS notification_recipient_staff_id_fkey, \
                 DROP CONSTRAINT IF EXISTS notification_recipient_customer_id_fkey, \
                 DROP CONSTRAINT IF EXISTS notification_task_id_fkey",
            )
            .await?;
        }
        Ok(())
    }

    /// Puts pending reminders back on the task rows. The outbox's foreign
    /// keys stay dropped (rows written meanwhile may not satisfy them).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["remind_at", "reminded_at"] {
            m.alter_table(
                Table::alter()
                    .table(a("task"))
                    .add_column(timestamp_with_time_zone_null(a(col)))
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE task SET remind_at = (SELECT r.remind_at FROM task_reminder r WHERE r.task_id = task.id)",
            )
            .await?;
        m.create_index(index(
            "ix_task_remind",
            "task",
            &["status", "remind_at"],
            false,
        ))
        .await?;
        m.drop_table(Table::drop().table(a("task_reminder")).to_owned())
            .await
    }
}
