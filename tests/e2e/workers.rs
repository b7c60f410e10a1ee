//! Several scheduler processes against one database: every due task fires
//! exactly once and every message is delivered exactly once.
use std::process::Stdio;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::spawn_app;

const TASKS: usize = 60;

fn sum(lines: &[String], key: &str) -> u64 {
    lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn two_worker_processes_fire_each_task_exactly_once() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("批量客户", "13800000001", false).await;
    for i in 0..TASKS {
        // Due within the test clock's day, long past by the wall clock the workers use.
        let due = format!("2026-11-23T{:02}:{:02}:00Z", 3 + i / 60, i % 60);
        let r = s
            .data(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } userErrors { code } } }",
                json!({"i": {"customerId": c, "title": format!("任务{i}"), "dueAt": due}}),
            )
            .await;
        assert!(r["createTask"]["task"]["id"].is_string(), "{r}");
    }

    let mut children = Vec::new();
    for _ in 0..2 {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dealer-crm"))
            .args(["worker", "--interval-ms", "20", "--exit-when-idle", "25"])
            .env("DATABASE_URL", &app.db_url)
            .env("JWT_SECRET", "worker-test-secret-worker-test-secret-0123")
            .env("SCHEDULER_BATCH", "7")
            .env("DB_MAX_CONNECTIONS", "3")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start worker");
        children.push(child);
    }
    let mut lines = Vec::new();
    for mut child in children {
        let out = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(out).lines();
        let collect = async {
            let mut mine = Vec::new();
            while let Ok(Some(l)) = reader.next_line().await {
                mine.push(l);
            }
            mine
        };
        let mine = tokio::time::timeout(std::time::Duration::from_secs(120), collect)
            .await
            .expect("worker finished");
        let status = child.wait().await.expect("worker exit");
        assert!(status.success(), "worker failed: {mine:?}");
        lines.extend(mine);
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
