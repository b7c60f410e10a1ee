//! GraphQL over HTTP as every client expects it: content negotiation and
//! status codes per the spec, GET for queries, the standard introspection
//! query, GraphiQL from the binary, and input rules at the edge.
use serde_json::{json, Value};

use crate::support::{error_code, spawn_app, spawn_app_with, TestApp};

async fn post(
    app: &TestApp,
    accept: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.base))
        .body(body.to_string());
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    if let Some(c) = content_type {
        req = req.header("content-type", c);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let ty = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        ty,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// What a browser gets at /graphql.
async fn graphiql_page(app: &TestApp) -> reqwest::Response {
    app.http
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET")
}

const JSON: Option<&str> = Some("application/json");
const GQL: Option<&str> = Some("application/graphql-response+json");

#[tokio::test]
async fn content_negotiation_and_status_codes_follow_the_graphql_over_http_spec() {
    let app = spawn_app().await;
    let ok = r#"{"query":"{ __typename }"}"#;
    let (s, ty, b) = post(&app, GQL, JSON, ok).await;
    assert_eq!(
        (s, b["data"]["__typename"].as_str()),
        (200, Some("QueryRoot"))
    );
    assert!(ty.starts_with("application/graphql-response+json"), "{ty}");
    for accept in [JSON, Some("*/*"), None] {
        let (s, ty, _) = post(&app, accept, JSON, ok).await;
        assert_eq!(s, 200);
        assert!(ty.starts_with("application/json"), "{accept:?} → {ty}");
    }
    let (s, _, _) = post(&app, Some("text/html"), JSON, ok).await;
    assert_eq!(s, 406);
    // No or another content type: refused, not executed.
    let (s, _, b) = post(&app, JSON, None, ok).await;
    assert_eq!((s, error_code(&b).as_str()), (415, "BAD_REQUEST"), "{b}");
    let (s, _, _) = post(&app, JSON, Some("text/plain"), ok).await;
    assert_eq!(s, 415);
    // Malformed bodies: 400 and a JSON GraphQL error, never Rust debug text.
    for body in [
        "",
        "{ \"not a JSON",
        "[1]",
        r#"{"notquery":"{ a }"}"#,
        r#"{"query":7}"#,
        r#"{"query":"{ __typename }","variables":"x"}"#,
    ] {
        let (s, ty, b) = post(&app, GQL, JSON, body).await;
        assert_eq!(s, 400, "{body} → {b}");
        assert!(ty.contains("json"));
        assert_eq!(error_code(&b), "BAD_REQUEST", "{body} → {b}");
        let msg = b["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            !msg.contains("InvalidRequest") && !msg.contains("Error("),
            "{msg}"
        );
    }
    // Parse, validation and coercion errors: 400 without data for the
    // GraphQL media type, 200 for plain JSON.
    for body in [
        r#"{"query":"{"}"#,
        r#"{"query":"{ noSuchField }"}"#,
        r#"{"query":"query Q($id: ID!) { __typename }","variables":{"id":null}}"#,
    ] {
        let (s, _, b) = post(&app, GQL, JSON, body).await;
        assert_eq!(s, 400, "{body} → {b}");
        assert!(b.get("data").is_none(), "{b}");
        let (s, _, b) = post(&app, JSON, JSON, body).await;
        assert_eq!(s, 200, "{body} → {b}");
        assert!(b["errors"][0]["message"].is_string());
    }
    // Null optional parameters are fine.
    let (s, _, b) = post(
        &app,
        JSON,
        JSON,
        r#"{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}"#,
    )
    .await;
    assert_eq!((s, b.get("errors")), (200, None), "{b}");
}

#[tokio::test]
async fn queries_run_over_get_and_mutations_do_not() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.base);
    let r = app
        .http
        .get(&url)
        .query(&[
            (
                "query",
                "query Q($n: String!) { __type(name: $n) { name } }",
            ),
            ("variables", r#"{"n":"Task"}"#),
        ])
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap_or_default();
    assert_eq!(b["data"]["__type"]["name"], "Task");
    let r = app
        .http
        .get(&url)
        .query(&[(
            "query",
            "mutation { logout(input: {refreshToken: \"x\"}) { ok } }",
        )])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
}

#[tokio::test]
async fn the_standard_introspection_query_works_under_the_depth_limit_that_stops_deep_data() {
    let app = spawn_app().await;
    let standard = include_str!("standard_introspection.graphql");
    let r = app.gql(None, standard, json!({})).await;
    assert!(
        r.get("errors").is_none(),
        "{}",
        &r.to_string()[..300.min(r.to_string().len())]
    );
    assert!(r["data"]["__schema"]["types"]
        .as_array()
        .is_some_and(|t| t.len() > 50));
    // The same depth in data is refused (the tests run with depth 10).
    let s = app.login("cq.manager").await;
    let deep = "{ customers { edges { node { vehicles { owner { vehicles { owner { vehicles { owner { vehicles { vin } } } } } } } } } } }";
    let r = s.q(deep, json!({})).await;
    assert_eq!(error_code(&r), "BAD_REQUEST");
    assert!(r.to_string().contains("nested too deep"), "{r}");
}

#[tokio::test]
async fn production_hides_introspection_and_graphiql_unless_asked() {
    let app = spawn_app_with(|c| {
        c.graphql_introspection = Some(false);
        c.graphiql = Some(false);
    })
    .await;
    let r = app
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(r["data"]["__schema"], Value::Null, "{r}");
    let page = graphiql_page(&app).await;
    assert_eq!(page.status(), 400);
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_and_names_no_external_host() {
    let app = spawn_app().await;
    let page = graphiql_page(&app).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("GraphiQL"));
    assert!(
        !html.contains("http://")
            && !html.contains("https://")
            && !html.contains("//unpkg")
            && !html.contains("//cdn"),
        "the page names an external host"
    );
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert_eq!(assets.len(), 4, "{assets:?}");
    for a in assets {
        let r = app.get(a).await;
        assert_eq!(r.status(), 200, "{a}");
        let body = r.bytes().await.unwrap_or_default();
        assert!(body.len() > 1000, "{a}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("unpkg.com") && !text.contains("cdn.jsdelivr"),
            "{a} loads from a CDN"
        );
    }
    // It signs in with the same API a phone uses, over the socket too.
    assert!(
        html.contains("login(input:")
            && html.contains("refresh(input:")
            && html.contains("wsConnectionParams")
    );
}

#[tokio::test]
async fn metrics_name_a_named_document_sent_without_operation_name() {
    let app = spawn_app().await;
    app.gql(None, "query StoreLookup { __typename }", json!({}))
        .await;
    let m = app.get("/metrics").await.text().await.unwrap_or_default();
    assert!(m.contains("operation=\"StoreLookup\""), "{m}");
}

#[tokio::test]
async fn search_wildcards_match_only_themselves_and_ranges_are_checked() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    s.create_customer("王先生", "13800000001", false).await;
    s.create_customer("100%_满意", "13800000002", false).await;
    let q = "query($s: String) { customers(filter: {search: $s}) { totalCount } }";
    for (search, n) in [("%", 1), ("_", 1), ("王", 1), ("%_", 1), ("李", 0)] {
        let d = s.data(q, json!({"s": search})).await;
        assert_eq!(d["customers"]["totalCount"], n, "search {search:?}");
    }
    let r = s
        .q("{ myDay(upcomingDays: 61) { upcoming { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    let r = s
        .q("{ myDay(upcomingDays: -1) { upcoming { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    let c = s.create_customer("远期", "13800000003", false).await;
    let far = s
        .data(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } userErrors { field code } } }",
            json!({"i": {"customerId": c, "title": "远期任务", "dueAt": "9999-12-31T00:00:00Z"}}),
        )
        .await;
    assert_eq!(
        far["createTask"]["userErrors"],
        json!([{"field": ["input", "dueAt"], "code": "OUT_OF_RANGE"}])
    );
}
