//! Live task events over graphql-ws, as a phone keeps them open.
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use crate::support::{spawn_app, spawn_app_with};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn next_json(ws: &mut Ws) -> Value {
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
pub(crate) async fn subscribe(ws: &mut Ws, query: &str) {
    let sub = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

pub(crate) async fn open(base: &str, token: &str) -> Ws {
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

/// Waits for the server to close the socket; its close code and reason.
async fn closed(ws: &mut Ws, within_secs: u64) -> Option<(u16, String)> {
    tokio::time::timeout(std::time::Duration::from_secs(within_secs), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .unwrap_or(None)
}

#[tokio::test]
async fn a_deactivated_consultants_socket_is_closed_at_once() {
    let app = spawn_app_with(|c| c.ws_session_check_secs = 3600).await;
    let s1 = app.login("cq.sales1").await;
    let mut ws = open(&app.base, &s1.token).await;
    subscribe(&mut ws, "subscription { taskEvents { change taskId } }").await;
    let m = app.login("cq.manager").await;
    let (who, to) = (m.staff_id("cq.sales1").await, m.staff_id("cq.sales2").await);
    let r = m
        .data(
            "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { code } } }",
            json!({"i": {"staffId": who, "reassignToId": to}}),
        )
        .await;
    assert_eq!(r["deactivateStaff"]["userErrors"], json!([]));
    // No periodic check in this test (an hour apart): the revocation itself closes it.
    let (code, reason) = closed(&mut ws, 5).await.expect("closed by the server");
    assert_eq!((code, reason.as_str()), (4401, "session revoked"));
}

#[tokio::test]
async fn a_socket_ends_with_its_session_on_logout_and_password_change() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let other = app.login("cq.sales1").await;
    let mut ws = open(&app.base, &s1.token).await;
    let mut ws_other = open(&app.base, &other.token).await;
    s1.data(
        "mutation($i: RefreshInput!) { logout(input: $i) { ok } }",
        json!({"i": {"refreshToken": s1.refresh_token}}),
    )
    .await;
    let (code, _) = closed(&mut ws, 5)
        .await
        .expect("the logged-out session's socket closes");
    assert_eq!(code, 4401);
    // The other session of the same person stays until the password changes.
    let ping = json!({"type": "ping"});
    ws_other
        .send(Message::Text(ping.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws_other).await["type"], "pong");
    let r = other
        .data(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { userErrors { code } } }",
            json!({"i": {"currentPassword": "demo1234", "newPassword": "a-new-secret"}}),
        )
        .await;
    assert_eq!(r["changePassword"]["userErrors"], json!([]));
    let (code, reason) = closed(&mut ws_other, 5)
        .await
        .expect("closed after the password change");
    assert_eq!((code, reason.as_str()), (4401, "session revoked"));
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires_unless_renewed_over_the_socket() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let mut ws = open(&app.base, &s1.token).await;
    let mut stale = open(&app.base, &s1.token).await;
    app.clock.advance(chrono::Duration::minutes(10));
    let fresh = s1
        .data(
            "mutation($i: RefreshInput!) { refresh(input: $i) { accessToken } }",
            json!({"i": {"refreshToken": s1.refresh_token}}),
        )
        .await["refresh"]["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let renew = json!({"type": "ping", "payload": {"Authorization": format!("Bearer {fresh}")}});
    ws.send(Message::Text(renew.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    // Past the first token's 15 minutes: the renewed socket lives on…
    app.clock.advance(chrono::Duration::minutes(6));
    let (code, reason) = closed(&mut stale, 5)
        .await
        .expect("the stale socket closes");
    assert_eq!((code, reason.as_str()), (4401, "access token expired"));
    let ping = json!({"type": "ping"});
    ws.send(Message::Text(ping.to_string().into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut ws).await["type"],
        "pong",
        "renewed socket still open"
    );
    // …until the renewed token expires too.
    app.clock.advance(chrono::Duration::minutes(10));
    let (code, reason) = closed(&mut ws, 5)
        .await
        .expect("closes at the renewed expiry");
    assert_eq!((code, reason.as_str()), (4401, "access token expired"));
}

#[tokio::test]
async fn a_socket_cannot_be_renewed_with_someone_elses_token() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let s2 = app.login("cq.sales2").await;
    let mut ws = open(&app.base, &s1.token).await;
    let renew =
        json!({"type": "ping", "payload": {"Authorization": format!("Bearer {}", s2.token)}});
    ws.send(Message::Text(renew.to_string().into()))
        .await
        .unwrap();
    // A renewal with another person's token is a protocol error: the socket ends.
    let (code, reason) = closed(&mut ws, 5).await.expect("closed");
    assert_eq!(code, 1002);
    assert!(reason.contains("same staff member"), "{reason}");
}

#[tokio::test]
async fn the_previous_assignee_hears_that_a_task_moved_away_and_the_new_one_gets_a_notice() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("客户", "13800000001", false).await;
    let made = s1
        .data(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
            json!({"i": {"customerId": c, "title": "回电", "dueAt": "2026-11-24T03:00:00Z"}}),
        )
        .await;
    let task = made["createTask"]["task"]["id"].clone();
    let mut ws = open(&app.base, &s1.token).await;
    subscribe(&mut ws, "subscription { taskEvents { change taskId } }").await;
    let m = app.login("cq.manager").await;
    let s2 = m.staff_id("cq.sales2").await;
    let r = m
        .data(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { userErrors { code message } } }",
            json!({"i": {"taskId": task, "assigneeId": s2, "handOverCustomer": true}}),
        )
        .await;
    assert_eq!(r["reassignTask"]["userErrors"], json!([]), "{r}");
    let event = next_json(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["taskEvents"],
        json!({"change": "MOVED_AWAY", "taskId": task}),
        "{event}"
    );
    app.clock.advance(chrono::Duration::seconds(1));
    app.tick().await;
    let inbox = app
        .login("cq.sales2")
        .await
        .data("{ myNotifications { edges { node { body } } } }", json!({}))
        .await;
    assert!(inbox.to_string().contains("【新任务】回电"), "{inbox}");
}
