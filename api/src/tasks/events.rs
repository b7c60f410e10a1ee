//! Task changes as they happen, for the `taskEvents` subscription. One bus
//! per process; subscribers see only what concerns them. On PostgreSQL a
//! relay carries each process's events to the others (NOTIFY / LISTEN), so
//! a phone connected to `serve` hears what a separate `dealer-crm worker`
//! did (a task turned overdue, a reminder went out).
use std::sync::OnceLock;

use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
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
        Changed = "CHANGED" ("Changed", "已变更"),
        MovedAway = "MOVED_AWAY" ("No longer yours", "已移交他人"),
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
    /// The process where it happened.
    pub origin: Uuid,
}

impl TaskEvent {
    /// One line of a relayed payload.
    fn encode(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "{} {} {} {} {} {}",
            self.origin,
            self.task_id,
            self.store_id,
            opt(self.assignee_id.map(|a| a.to_string())),
            opt(self.queue.clone()),
            self.change.as_str()
        )
    }

    fn decode(line: &str) -> Option<TaskEvent> {
        let mut f = line.split(' ');
        let mut next = || f.next();
        let origin = next()?.parse().ok()?;
        let task_id = next()?.parse().ok()?;
        let store_id = next()?.parse().ok()?;
        let assignee_id = match next()? {
            "-" => None,
            a => Some(a.parse().ok()?),
        };
        let queue = match next()? {
            "-" => None,
            q => Some(q.to_string()),
        };
        let change = TaskChange::parse(next()?)?;
        Some(TaskEvent {
            task_id,
            store_id,
            assignee_id,
            queue,
            change,
            origin,
        })
    }
}

fn bus() -> &'static broadcast::Sender<TaskEvent> {
    static BUS: OnceLock<broadcast::Sender<TaskEvent>> = OnceLock::new();
    BUS.get_or_init(|| broadcast::channel(65_536).0)
}

/// This process, so that it ignores its own events coming back.
fn here() -> Uuid {
    static HERE: OnceLock<Uuid> = OnceLock::new();
    *HERE.get_or_init(Uuid::new_v4)
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
            origin: here(),
        });
    }
}

/// Tells whoever held tasks before (a person or a role queue) that they
/// are no longer theirs, so that phone lists do not go stale.
pub fn publish_moved_away(before: &[entity::task::Model]) {
    publish_all(before, TaskChange::MovedAway);
}

/// A receiver of every change from now on.
pub fn subscribe() -> broadcast::Receiver<TaskEvent> {
    bus().subscribe()
}

const CHANNEL: &str = "crm_task_events";
/// PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_900;

/// On PostgreSQL: sends this process's task events to the others and, if
/// `listen`, publishes theirs here. A no-op on SQLite (one process).
pub fn start_relay(db: &DatabaseConnection, listen: bool) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(send_loop(db.clone(), subscribe()));
    if listen {
        crate::db::listen(db, CHANNEL, publish_theirs);
    }
}

/// Forwards local events in packed NOTIFYs (a batch of reminders is a few
/// statements, not thousands). Delivery is best effort, as on the local bus.
async fn send_loop(db: DatabaseConnection, mut rx: broadcast::Receiver<TaskEvent>) {
    loop {
        let mut batch = match rx.recv().await {
            Ok(e) => vec![e],
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "task events not relayed");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        while batch.len() < 10_000 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(TryRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "task events not relayed")
                }
                Err(_) => break,
            }
        }
        let mut payload = String::new();
        for e in batch.iter().filter(|e| e.origin == here()) {
            let line = e.encode();
            if !payload.is_empty() && payload.len() + line.len() + 1 > MAX_PAYLOAD {
                notify(&db, std::mem::take(&mut payload)).await;
            }
            if !payload.is_empty() {
                payload.push('\n');
            }
            payload.push_str(&line);
        }
        if !payload.is_empty() {
            notify(&db, payload).await;
        }
    }
}

async fn notify(db: &DatabaseConnection, payload: String) {
    if let Err(e) = crate::db::notify(db, CHANNEL, payload).await {
        tracing::warn!(error = %e, "relaying task events failed");
    }
}

/// Publishes other processes' events here (the listener reconnects after
/// a lost connection).
fn publish_theirs(payload: Option<&str>) {
    payload
        .unwrap_or_default()
        .lines()
        .filter_map(TaskEvent::decode)
        .filter(|e| e.origin != here())
        .for_each(publish);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_relay_format() {
        let e = TaskEvent {
            task_id: Uuid::now_v7(),
            store_id: Uuid::now_v7(),
            assignee_id: None,
            queue: Some("CARE_AGENT".into()),
            change: TaskChange::Overdue,
            origin: here(),
        };
        let back = TaskEvent::decode(&e.encode()).expect("decodes");
        assert_eq!(back.encode(), e.encode());
        assert!(TaskEvent::decode("garbage").is_none());
        assert!(TaskEvent::decode("").is_none());
    }
}
