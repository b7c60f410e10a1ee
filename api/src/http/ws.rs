//! The graphql-ws endpoint. A socket lives as long as the session it was
//! opened with: it is closed (4401) when the account is deactivated, when its
//! session is revoked (logout, logout everywhere, password change, a reused
//! refresh token) and when its access token expires, unless the client sends
//! a fresh token in a `ping` payload (`{"Authorization": "Bearer …"}`).
use std::time::Duration;

use async_graphql::{
    http::{WebSocket as GqlSocket, WebSocketProtocols},
    Data,
};
use axum::{
    extract::{
        ws::{CloseFrame, Message, WebSocket},
        State, WebSocketUpgrade,
    },
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast::error::RecvError, watch};
use uuid::Uuid;

use super::HttpState;
use crate::{
    auth::{actor::active_actor, sessions},
    graphql::{context::RequestAuth, loaders::AppLoader},
    AppState,
};

/// The session a socket runs under, once `connection_init` succeeded.
#[derive(Clone, Copy, Debug)]
struct Lease {
    staff_id: Uuid,
    session_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
}

/// Kept in the connection's data so that a `ping` can renew the lease.
#[derive(Clone)]
struct Renewal(watch::Sender<Option<Lease>>);

/// The bearer token in a graphql-ws payload, sent as
/// `{"Authorization": "Bearer …"}` (or `authToken`).
fn token_in(payload: &serde_json::Value) -> Option<String> {
    let raw = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .or_else(|| payload.get("authToken"))?
        .as_str()?;
    Some(
        raw.strip_prefix("Bearer ")
            .unwrap_or(raw)
            .trim()
            .to_string(),
    )
}

fn lease_for(app: &AppState, token: &str) -> async_graphql::Result<Lease> {
    let info = app
        .keys
        .verify(token, app.clock.now())
        .map_err(async_graphql::Error::from)?;
    Ok(Lease {
        staff_id: info.staff_id,
        session_id: info.session_id,
        expires_at: info.expires_at,
    })
}

/// `GET /graphql/ws`.
pub async fn graphql_ws(
    State(st): State<HttpState>,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must be graphql-transport-ws",
        )
            .into_response();
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, st, protocol))
        .into_response()
}

async fn serve(socket: WebSocket, st: HttpState, protocol: WebSocketProtocols) {
    let (mut sink, stream) = socket.split();
    let (lease_tx, lease_rx) = watch::channel::<Option<Lease>>(None);
    let input = stream
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let app = st.app.clone();
    let init_tx = lease_tx.clone();
    let gql = GqlSocket::new(st.schema.clone(), input, protocol)
        .on_connection_init(move |payload| async move {
            let token = token_in(&payload).ok_or_else(|| {
                async_graphql::Error::new(
                    "send {\"Authorization\": \"Bearer <accessToken>\"} in connection_init",
                )
            })?;
            let lease = lease_for(&app, &token)?;
            let actor = active_actor(&app.db, lease.staff_id)
                .await
                .map_err(async_graphql::Error::from)?;
            let mut data = Data::default();
            data.insert(AppLoader::for_request(&app.db, &actor));
            data.insert(RequestAuth::Actor(actor));
            data.insert(Renewal(init_tx.clone()));
            init_tx.send_replace(Some(lease));
            Ok(data)
        })
        .on_ping({
            let app = st.app.clone();
            move |data: Option<&Data>, payload: Option<serde_json::Value>| {
                let renewal = data
                    .and_then(|d| d.get(&std::any::TypeId::of::<Renewal>()))
                    .and_then(|v| v.downcast_ref::<Renewal>())
                    .cloned();
                async move {
                    if let (Some(renewal), Some(token)) =
                        (renewal, payload.as_ref().and_then(token_in))
                    {
                        renew(&app, &renewal, &token)?;
                    }
                    Ok(None)
                }
            }
        });
    let watch = watch_lease(st.app.clone(), lease_rx);
    tokio::pin!(gql, watch);
    loop {
        tokio::select! {
            msg = gql.next() => {
                let Some(msg) = msg else { break };
                let out = match msg {
                    async_graphql::http::WsMessage::Text(t) => Message::Text(t.into()),
                    async_graphql::http::WsMessage::Close(code, reason) => {
                        Message::Close(Some(CloseFrame { code, reason: reason.into() }))
                    }
                };
                if sink.send(out).await.is_err() {
                    break;
                }
            }
            why = &mut watch => {
                let frame = CloseFrame { code: 4401, reason: why.into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
    let _ = sink.close().await;
}

/// A fresh token of the same staff member extends the socket's life.
fn renew(app: &AppState, renewal: &Renewal, token: &str) -> async_graphql::Result<()> {
    let next = lease_for(app, token)?;
    let current = *renewal.0.borrow();
    match current {
        Some(l) if l.staff_id == next.staff_id => {
            renewal.0.send_replace(Some(next));
            Ok(())
        }
        _ => Err(async_graphql::Error::new(
            "a renewal token must belong to the same staff member",
        )),
    }
}

/// Resolves, with the reason, when the socket's session no longer stands.
async fn watch_lease(app: AppState, mut lease: watch::Receiver<Option<Lease>>) -> &'static str {
    let mut revocations = sessions::subscribe();
    let mut check = tokio::time::interval(Duration::from_secs(app.config.ws_session_check_secs));
    check.tick().await;
    loop {
        let current = *lease.borrow_and_update();
        let until_expiry = current.map(|l| {
            (l.expires_at - app.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        });
        let expiry = async {
            match until_expiry {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = lease.changed() => {
                if changed.is_err() {
                    return "connection closed";
                }
            }
            _ = expiry => {
                // The injected clock may run apart from the timer: re-check.
                if current.is_some_and(|l| l.expires_at <= app.clock.now()) {
                    return "access token expired";
                }
            }
            r = revocations.recv() => match r {
                Ok(r) if current.is_some_and(|l| r.ends(l.staff_id, l.session_id)) => {
                    return "session revoked";
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return "server shutting down",
            },
            _ = check.tick() => {
                if let Some(l) = current {
                    if l.expires_at <= app.clock.now() {
                        return "access token expired";
                    }
                    match sessions::stands(&app.db, l.staff_id, l.session_id).await {
                        Ok(false) => return "session revoked",
                        Ok(true) => {}
                        Err(e) => tracing::warn!(error = ?e, "checking a socket's session failed"),
                    }
                }
            }
        }
    }
}
