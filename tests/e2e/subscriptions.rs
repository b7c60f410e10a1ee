//! Live task events over graphql-ws, as a phone keeps them open.
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use crate::support::spawn_app;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("open socket")
            .expect("valid frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).expect("JSON");
            if v["type"] != "ping" {
                return v;
            }
        }
    }
}

/// A graphql-ws connection that has sent its `connection_init` with `token`.
async fn connect(base: &str, token: &str) -> Ws {
    let mut req = format!("{}/graphql/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    ws
}

/// Starts `query` on an open connection and gives the server a moment to
/// register it.
async fn subscribe(ws: &mut Ws, query: &str) {
    let sub = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn open(base: &str, token: &str) -> Ws {
    let mut ws = connect(base, token).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    ws
}

#[tokio::test]
async fn a_consultant_hears_when_a_task_is_assigned_to_them_and_only_then() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let mut ws = open(&app.base, &s1.token).await;
    subscribe(
        &mut ws,
        "subscription { taskEvents { change task { title assignee { username } } } }",
    )
    .await;

    let m = app.login("cq.manager").await;
    let c1 = s1.create_customer("客户", "13800000001", false).await;
    let s2 = app.login("cq.sales2").await;
    let c2 = s2.create_customer("客户二", "13800000002", false).await;
    let create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
    let (s1_id, s2_id) = (m.staff_id("cq.sales1").await, m.staff_id("cq.sales2").await);
    m.data(create, json!({"i": {"customerId": c2, "title": "给张伟的", "dueAt": "2026-11-24T03:00:00Z", "assigneeId": s2_id}})).await;
    m.data(create, json!({"i": {"customerId": c1, "title": "给李娜的", "dueAt": "2026-11-24T03:00:00Z", "assigneeId": s1_id}})).await;

    let event = next_json(&mut ws).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(
        event["payload"]["data"]["taskEvents"],
        json!({"change": "CREATED", "task": {"title": "给李娜的", "assignee": {"username": "cq.sales1"}}})
    );
}

#[tokio::test]
async fn a_socket_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    let mut ws = connect(&app.base, "nonsense").await;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => return frame.map(|f| f.reason.to_string()),
                Ok(Message::Text(t)) if t.contains("connection_ack") => {
                    panic!("accepted a bad token")
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("closed in time");
    assert!(closed.unwrap_or_default().contains("invalid access token"));
}

#[tokio::test]
async fn a_phone_connected_to_serve_hears_what_a_separate_worker_did() {
    let app = spawn_app().await;
    if !app.db_url.starts_with("postgres") {
        // SQLite has one process; the relay between processes is PostgreSQL's.
        return;
    }
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("客户", "13800000001", false).await;
    // Due within the test clock's day, long past by the worker's wall clock.
    s1.data(
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
        json!({"i": {"customerId": c, "title": "回电", "dueAt": "2026-11-23T03:00:00Z"}}),
    )
    .await;
    let mut ws = open(&app.base, &s1.token).await;
    subscribe(
        &mut ws,
        "subscription { taskEvents { change task { title status } } }",
    )
    .await;

    let lines = crate::workers::finished(crate::workers::worker(
        &app,
        &["--interval-ms", "20", "--exit-when-idle", "25"],
        &[],
    ))
    .await;
    assert!(lines.iter().any(|l| l.contains("overdue=1")), "{lines:?}");
    let event = next_json(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["taskEvents"],
        json!({"change": "OVERDUE", "task": {"title": "回电", "status": "OVERDUE"}}),
        "{event}"
    );
}
