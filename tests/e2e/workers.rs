//! Several scheduler processes against one database: every due task fires
//! exactly once and every message is delivered exactly once, even when a
//! worker is killed in the middle of a batch.
use std::{process::Stdio, time::Duration};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{spawn_app, TestApp};

const TASKS: usize = 60;

fn sum(lines: &[String], key: &str) -> u64 {
    lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// `n` open tasks of cq.sales1's, due within the test clock's day and so
/// long past by the wall clock the worker processes use.
async fn past_due_tasks(app: &TestApp, n: usize) {
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("批量客户", "13800000001", false).await;
    for i in 0..n {
        let due = format!("2026-11-23T{:02}:{:02}:00Z", 3 + i / 60, i % 60);
        let r = s
            .data(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } userErrors { code } } }",
                json!({"i": {"customerId": c, "title": format!("任务{i}"), "dueAt": due}}),
            )
            .await;
        assert!(r["createTask"]["task"]["id"].is_string(), "{r}");
    }
}

/// A `dealer-crm worker` process on the test's database.
pub(crate) fn worker(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dealer-crm"));
    cmd.arg("worker")
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        .env("JWT_SECRET", "worker-test-secret-worker-test-secret-0123")
        .env("DB_MAX_CONNECTIONS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start worker")
}

/// Waits for a worker that exits when idle; returns its report lines.
pub(crate) async fn finished(mut child: tokio::process::Child) -> Vec<String> {
    let out = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(out).lines();
    let collect = async {
        let mut mine = Vec::new();
        while let Ok(Some(l)) = reader.next_line().await {
            mine.push(l);
        }
        mine
    };
    let mine = tokio::time::timeout(Duration::from_secs(120), collect)
        .await
        .expect("worker finished");
    let status = child.wait().await.expect("worker exit");
    assert!(status.success(), "worker failed: {mine:?}");
    mine
}

/// One number from the test's database.
pub(crate) async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let db = &app.state.db;
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or(-1)
}

#[tokio::test]
async fn two_worker_processes_fire_each_task_exactly_once() {
    let app = spawn_app().await;
    past_due_tasks(&app, TASKS).await;
    let idle = ["--interval-ms", "20", "--exit-when-idle", "25"];
    let children: Vec<_> = (0..2)
        .map(|_| worker(&app, &idle, &[("SCHEDULER_BATCH", "7")]))
        .collect();
    let mut lines = Vec::new();
    for child in children {
        lines.extend(finished(child).await);
    }
    // Each task became overdue once, and each of its two messages (manager,
    // assignee) was delivered once, across both processes together.
    assert_eq!(sum(&lines, "overdue"), TASKS as u64, "{lines:?}");
    assert_eq!(sum(&lines, "sent"), 2 * TASKS as u64, "{lines:?}");
    assert_eq!(sum(&lines, "retried") + sum(&lines, "dead"), 0);

    let m = app.login("cq.manager").await;
    let count = |status: &'static str| {
        let m = &m;
        async move {
            m.data("query($s: NotificationStatus) { notifications(filter: {status: $s}) { totalCount } }", json!({"s": status}))
                .await["notifications"]["totalCount"]
                .as_u64()
                .unwrap_or(u64::MAX)
        }
    };
    assert_eq!(count("SENT").await, 2 * TASKS as u64);
    assert_eq!(
        count("PENDING").await + count("SENDING").await + count("DEAD").await,
        0
    );
    let w = m.data("{ workload { overdue } }", json!({})).await;
    assert_eq!(w["workload"][0]["overdue"], TASKS);
}

#[tokio::test]
async fn a_worker_killed_mid_batch_neither_loses_nor_repeats_a_message() {
    let app = spawn_app().await;
    past_due_tasks(&app, TASKS).await;

    // Worker A delivers slowly (1 s per message, 16 at a time) and dies as
    // soon as its first deliveries are made, before it can record them.
    let mut a = worker(
        &app,
        &["--interval-ms", "20"],
        &[
            ("SCHEDULER_BATCH", "20"),
            ("LOCAL_PROVIDER_DELAY_MS", "1000"),
            ("NOTIFICATION_LEASE_SECS", "1"),
        ],
    );
    let deliveries = "SELECT COUNT(*) FROM notification_delivery";
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while scalar(&app, deliveries).await < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    a.kill().await.expect("kill worker A");
    assert!(waited.is_ok(), "worker A delivered nothing");
    let delivered_by_a = scalar(&app, deliveries).await;
    let recorded_by_a = scalar(
        &app,
        "SELECT COUNT(*) FROM notification WHERE status = 'SENT'",
    )
    .await;
    assert!(
        recorded_by_a < delivered_by_a,
        "A was to die between delivering and recording ({recorded_by_a} of {delivered_by_a})"
    );
    // The tasks' claim committed before any delivery: all overdue, all messages queued.
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM notification").await,
        2 * TASKS as i64
    );
    let first_ids = "SELECT COUNT(*) FROM notification_delivery d JOIN notification n \
                     ON n.id = d.notification_id WHERE n.attempts = 1 AND n.status = 'SENDING'";
    assert_eq!(
        scalar(&app, first_ids).await,
        delivered_by_a - recorded_by_a
    );

    // Worker B starts once A's leases have run out and finishes the work.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lines = finished(worker(
        &app,
        &["--interval-ms", "20", "--exit-when-idle", "25"],
        &[("SCHEDULER_BATCH", "20")],
    ))
    .await;
    assert_eq!(
        sum(&lines, "overdue"),
        0,
        "A had marked them all: {lines:?}"
    );
    assert_eq!(sum(&lines, "retried") + sum(&lines, "dead"), 0, "{lines:?}");

    // Nothing lost: every message sent. Nothing repeated: one delivery each,
    // and the ones A made before dying were taken over (a second attempt)
    // but not delivered again.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM notification WHERE status = 'SENT'"
        )
        .await,
        2 * TASKS as i64
    );
    assert_eq!(scalar(&app, deliveries).await, 2 * TASKS as i64);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(DISTINCT notification_id) FROM notification_delivery"
        )
        .await,
        2 * TASKS as i64
    );
    assert!(
        scalar(&app, "SELECT COUNT(*) FROM notification WHERE attempts = 2").await
            >= delivered_by_a,
        "A's claimed messages were taken over by B"
    );
    let m = app.login("cq.manager").await;
    let w = m.data("{ workload { overdue } }", json!({})).await;
    assert_eq!(w["workload"][0]["overdue"], TASKS);
}
