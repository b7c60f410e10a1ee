//! axum wiring: routes, middleware, health, metrics and the GraphQL
//! endpoint.
pub(crate) mod assets;
mod depth;
pub mod documents;
pub mod graphql_http;
pub mod input;
pub mod ws;

use std::{
    net::{IpAddr, SocketAddr},
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, Request, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    cors::CorsLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    auth::{actor::actor_for_token, guard::Requester},
    error::ApiError,
    graphql::{
        context::{LoginBudget, RequestAuth},
        loaders::AppLoader,
        AppSchema,
    },
    AppState,
};

/// What every handler reaches.
#[derive(Clone)]
pub struct HttpState {
    /// Shared application state.
    pub app: AppState,
    /// The executable schema.
    pub schema: AppSchema,
}

/// The process-wide Prometheus recorder (installed once, however many
/// servers a test process starts).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(h) => h,
                // Another recorder is already installed: keep a private one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// The router with every route and layer.
pub fn router(state: HttpState) -> Router {
    let cfg = state.app.config.clone();
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    });
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::temporary("/console") }),
        )
        .route("/console", get(crate::console::page))
        .route("/console/", get(crate::console::page))
        .route("/console/{file}", get(crate::console::asset))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/assets/graphiql/{file}", get(assets::graphiql_asset))
        .route("/hooks/leads", axum::routing::post(lead_hook))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CompressionLayer::new())
                .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
                .layer(CorsLayer::permissive())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(cfg.request_timeout_secs),
                )),
        )
        .with_state(state)
}

async fn graphiql(st: &HttpState) -> Response {
    if !st.app.config.graphiql_enabled() {
        return request_error(
            StatusCode::BAD_REQUEST,
            ApiError::BadRequest("send a query: GET /graphql?query=…".into()),
        );
    }
    Html(assets::GRAPHIQL_PAGE).into_response()
}

/// POST /hooks/leads: leads from portals and the store website.
async fn lead_hook(
    State(st): State<HttpState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let app = &st.app;
    crate::sales::hooks::receive(&app.db, app.clock.now(), &headers, body, &app.lead_intake).await
}

async fn readyz(State(st): State<HttpState>) -> Response {
    if crate::db::ping(&st.app.db).await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

async fn metrics(State(st): State<HttpState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.app.metrics.render(),
    )
        .into_response()
}

/// The metric label for an operation: its name when it is a plain
/// identifier, so clients cannot blow up label cardinality with junk.
fn operation_label(name: Option<&str>) -> String {
    match name {
        Some(n)
            if !n.is_empty()
                && n.len() <= 64
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            n.to_string()
        }
        Some(_) => "invalid".to_string(),
        None => "anonymous".to_string(),
    }
}

async fn authenticate(st: &AppState, headers: &HeaderMap) -> RequestAuth {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return RequestAuth::Anonymous;
    };
    let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
        return RequestAuth::Rejected("Authorization must be `Bearer <accessToken>`");
    };
    match actor_for_token(&st.db, &st.keys, &st.actors, token.trim(), st.clock.now()).await {
        Ok(actor) => RequestAuth::Actor(actor),
        Err(ApiError::Unauthenticated(why)) => RequestAuth::Rejected(why),
        Err(ApiError::TokenExpired) => RequestAuth::Expired,
        Err(e) => {
            tracing::error!(error = ?e, "checking an access token failed");
            RequestAuth::Rejected("could not check the access token; try again")
        }
    }
}

/// The client's address: the peer, or with `TRUST_FORWARDED_FOR` the first
/// address in `X-Forwarded-For`. None when the server runs without peer
/// information (an in-process router).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<HttpState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = st
            .app
            .config
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(forwarded.or(peer)))
    }
}

/// A request-level failure as a GraphQL error body with a code (never Rust
/// debug text), with `Retry-After` when there is a wait to tell.
pub fn request_error(status: StatusCode, e: ApiError) -> Response {
    let retry = match &e {
        ApiError::RateLimited {
            retry_after_secs, ..
        } => Some(*retry_after_secs),
        _ => None,
    };
    let err: async_graphql::Error = e.into();
    let body = serde_json::json!({
        "errors": [{
            "message": err.message,
            "extensions": err.extensions,
        }]
    });
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, secs);
    }
    resp
}

/// `POST /graphql`: a JSON body.
async fn graphql_post(
    State(st): State<HttpState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(media) = graphql_http::negotiate(&headers) else {
        return not_acceptable();
    };
    if !graphql_http::is_json(&headers) {
        return graphql_http::failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            ApiError::BadRequest("send the request as Content-Type: application/json".into()),
        );
    }
    match graphql_http::from_body(&body) {
        Ok(req) => run(&st, addr, &headers, req, media, false).await,
        Err(why) => graphql_http::bad(media, why),
    }
}

/// `GET /graphql`: a query in the URL (never a mutation), or GraphiQL for a
/// browser that asks for a page.
async fn graphql_get(
    State(st): State<HttpState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    query: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let params = match query {
        Ok(q) => q.0,
        Err(e) => {
            return request_error(StatusCode::BAD_REQUEST, ApiError::BadRequest(e.body_text()))
        }
    };
    if !params.contains_key("query") && !params.contains_key("extensions") {
        return graphiql(&st).await;
    }
    let Some(media) = graphql_http::negotiate(&headers) else {
        return not_acceptable();
    };
    match graphql_http::from_query(params) {
        Ok(req) => run(&st, addr, &headers, req, media, true).await,
        Err(why) => graphql_http::bad(media, why),
    }
}

/// A persisted query that cannot run: Apollo clients read the message
/// `PersistedQueryNotFound` and send the text with the hash.
fn persisted_error(media: graphql_http::Media, e: documents::PersistedError) -> Response {
    use documents::PersistedError as P;
    let (message, code) = match e {
        P::NotFound => ("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"),
        P::Mismatch => ("provided sha does not match query", "BAD_REQUEST"),
        P::Invalid(why) => (why, "BAD_REQUEST"),
    };
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let status = match media {
        graphql_http::Media::GraphqlResponse => StatusCode::BAD_REQUEST,
        graphql_http::Media::Json => StatusCode::OK,
    };
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        body.to_string(),
    )
        .into_response()
}

fn not_acceptable() -> Response {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        ApiError::BadRequest("accept application/graphql-response+json or application/json".into()),
    )
}

/// Everything a GraphQL request goes through, whichever way it came:
/// input refusal, depth, authentication, the rate limit, execution, metrics.
async fn run(
    st: &HttpState,
    addr: Option<IpAddr>,
    headers: &HeaderMap,
    mut req: async_graphql::Request,
    media: graphql_http::Media,
    via_get: bool,
) -> Response {
    let started = Instant::now();
    if let Some(why) = input::refusal(&req) {
        return graphql_http::failure(StatusCode::BAD_REQUEST, media, ApiError::BadInput(why));
    }
    // The document comes from the cache or is parsed once here (and reused
    // by the executor): what it asks for decides the method, the depth
    // check and the metric label.
    if let Err(e) = st.app.documents.prepare(&mut req) {
        return persisted_error(media, e);
    }
    let asked = req.operation_name.clone();
    let mut name = asked.clone();
    if let Ok(doc) = req.parsed_query() {
        let not_a_query = graphql_http::operation_type(doc, asked.as_deref())
            .is_some_and(|t| t != async_graphql::parser::types::OperationType::Query);
        if via_get && not_a_query {
            let mut resp = graphql_http::failure(
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                ApiError::BadRequest("GET runs queries only; send mutations with POST".into()),
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
        if let Err(why) = graphql_http::check_depth(doc, st.app.config.graphql_max_depth) {
            return graphql_http::bad(media, why);
        }
        name = graphql_http::operation_name(Some(doc), asked.as_deref());
    }
    let op = operation_label(name.as_deref());
    let auth = authenticate(&st.app, headers).await;
    let requester = match &auth {
        RequestAuth::Actor(a) => Some(Requester::Staff(a.staff_id)),
        _ => addr.map(Requester::Address),
    };
    if let Some(who) = requester {
        if let Err(e) = st.app.guards.requests.check(&who) {
            metrics::counter!("graphql_requests_total", "operation" => op, "status" => "rate_limited")
                .increment(1);
            return graphql_http::failure(StatusCode::TOO_MANY_REQUESTS, media, e);
        }
    }
    req = req.data(LoginBudget::default()).data(ClientAddr(addr));
    if let RequestAuth::Actor(actor) = &auth {
        req = req.data(AppLoader::for_request(&st.app.db, actor));
    }
    let mut resp = st.schema.execute(req.data(auth)).await;
    // Parse, validation and limit errors come from the GraphQL engine
    // without a code; every error a client sees carries one.
    for e in resp.errors.iter_mut() {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "BAD_REQUEST");
        }
    }
    let status = if resp.is_ok() { "ok" } else { "error" };
    metrics::counter!("graphql_requests_total", "operation" => op.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("graphql_request_duration_seconds", "operation" => op)
        .record(started.elapsed().as_secs_f64());
    graphql_http::respond(resp, media)
}
