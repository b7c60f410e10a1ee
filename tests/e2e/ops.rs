use serde_json::json;

use crate::support::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics_per_operation() {
    let app = spawn_app().await;
    let h = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s = app.login("cq.manager").await;
    let named = app
        .http
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&s.token)
        .json(
            &json!({"query": "query StoreHome { myStore { name } }", "operationName": "StoreHome"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 200);
    let m = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("graphql_requests_total{operation=\"StoreHome\",status=\"ok\"}"),
        "{m}"
    );
    assert!(
        m.contains("graphql_request_duration_seconds_bucket{operation=\"StoreHome\""),
        "{m}"
    );
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = spawn_app().await;
    let page = app
        .http
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .to_lowercase()
        .contains("graphiql"));
}

#[tokio::test]
async fn malformed_bodies_get_a_client_error_not_a_crash() {
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.base);
    for body in ["{not json", "[1,2,3]", "\"just a string\"", ""] {
        let r = app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let text = r.text().await.unwrap();
        assert!(!text.to_lowercase().contains("select "), "{text}");
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // A syntax error in the query is a GraphQL error, and the server lives on.
    let r = app.gql(None, "{ customers {", json!({})).await;
    assert!(r["errors"][0]["message"].is_string(), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_ids_and_foreign_kinds_resolve_to_null() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let d = s
        .data("{ a: node(id: \"nope\") { id } b: customer(id: \"\") { id } c: nodes(ids: [\"x\", \"y\"]) { id } }", json!({}))
        .await;
    assert_eq!(d, json!({"a": null, "b": null, "c": [null, null]}));
    // A store id passed where a customer id is expected is not a customer.
    let store = s.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    let d = s.data("query($id: ID!) { customer(id: $id) { id } node(id: $id) { id ... on Store { code } } }", json!({"id": store})).await;
    assert_eq!(d["customer"], serde_json::Value::Null);
    assert_eq!(d["node"]["code"], "CQ001");
}

#[tokio::test]
async fn too_deep_queries_are_refused() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let deep = "{ customers { edges { node { vehicles { owner { vehicles { owner { vehicles { owner { vehicles { vin } } } } } } } } } } }";
    let r = s.q(deep, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{r}"
    );
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}
