//! Task changes as they happen, for the `taskEvents` subscription. One bus
//! per process; subscribers see only what concerns them.
use std::sync::OnceLock;

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::labels::labeled_enum;

labeled_enum! {
    /// What happened to a task.
    TaskChange {
        Created = "CREATED" ("Created", "新建"),
        Assigned = "ASSIGNED" ("Assigned", "已分派"),
        Completed = "COMPLETED" ("Completed", "已完成"),
        Cancelled = "CANCELLED" ("Cancelled", "已取消"),
        Overdue = "OVERDUE" ("Overdue", "已逾期"),
        Escalated = "ESCALATED" ("Escalated", "已升级"),
        Reminded = "REMINDED" ("Reminder sent", "已提醒"),
    }
}

/// One change to one task.
#[derive(Clone, Debug)]
pub struct TaskEvent {
    /// The task.
    pub task_id: Uuid,
    /// Its store.
    pub store_id: Uuid,
    /// Its assignee, if a person.
    pub assignee_id: Option<Uuid>,
    /// Its role queue, if any.
    pub queue: Option<String>,
    /// What happened.
    pub change: TaskChange,
}

fn bus() -> &'static broadcast::Sender<TaskEvent> {
    static BUS: OnceLock<broadcast::Sender<TaskEvent>> = OnceLock::new();
    BUS.get_or_init(|| broadcast::channel(4096).0)
}

/// Announces a change (after its transaction committed).
pub fn publish(e: TaskEvent) {
    // No subscriber is not an error.
    let _ = bus().send(e);
}

/// Announces changes to many tasks.
pub fn publish_all(tasks: &[entity::task::Model], change: TaskChange) {
    for t in tasks {
        publish(TaskEvent {
            task_id: t.id,
            store_id: t.store_id,
            assignee_id: t.assignee_id,
            queue: t.assignee_role.clone(),
            change,
        });
    }
}

/// A receiver of every change from now on.
pub fn subscribe() -> broadcast::Receiver<TaskEvent> {
    bus().subscribe()
}
