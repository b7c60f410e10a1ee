use serde_json::json;

use crate::support::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics_per_operation() {
    let app = spawn_app().await;
    let h = app.get("/healthz").await;
    assert_eq!(h.status(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    let r = app.get("/readyz").await;
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
    let m = app.get("/metrics").await.text().await.unwrap();
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
    let page = app.get("/graphql").await;
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
    assert_eq!(app.get("/healthz").await.status(), 200);
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

#[tokio::test]
async fn nested_lists_cost_the_same_queries_for_two_or_twenty_customers() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let q = "{ customers(first: 50) { edges { node { name otherPhones store { code } responsibleStaff { name } vehicles { vin owner { name } ownershipHistory { customer { name } } mileageReadings { km } } } } } }";
    let mut cost = Vec::new();
    for round in 0..2 {
        let n = if round == 0 { 2 } else { 18 };
        for i in 0..n {
            let m = s
                .data(
                    "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
                    json!({"i": {"name": format!("客户{round}-{i}"), "mobile": format!("1370{round}00{i:04}"), "otherPhones": [format!("1390{round}00{i:04}")]}}),
                )
                .await;
            let owner = m["createCustomer"]["customer"]["id"].clone();
            let vin = crate::support::valid_vin(round * 100 + i);
            let v = s
                .data(
                    "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } userErrors { message } } }",
                    json!({"i": {"ownerId": owner, "vin": vin, "brand": "长安福特", "model": "翼虎", "mileageKm": 100}}),
                )
                .await;
            assert!(v["createVehicle"]["vehicle"]["id"].is_string(), "{v}");
        }
        let before = app.statements().await;
        let d = s.data(q, json!({})).await;
        let after = app.statements().await;
        assert_eq!(
            d["customers"]["edges"].as_array().map(|e| e.len()),
            Some(if round == 0 { 2 } else { 20 })
        );
        cost.push(after - before);
    }
    assert_eq!(
        cost[0], cost[1],
        "statements for 2 vs 20 customers: {cost:?}"
    );
}

#[tokio::test]
async fn phones_can_send_a_persisted_query_hash_instead_of_the_text() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let query = "{ me { username } }";
    // sha256 of the query text, as Apollo clients compute it.
    let hash = "c8d1e2d1b1b2a8b6a9b9b4e2f0a5f3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5";
    let ext = |h: &str| json!({"persistedQuery": {"version": 1, "sha256Hash": h}});
    let url = format!("{}/graphql", app.base);
    let send =
        |body: serde_json::Value| app.http.post(&url).bearer_auth(&s.token).json(&body).send();
    let real = sha256_hex(query);
    let miss: serde_json::Value = send(json!({"extensions": ext(&real)}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    let first: serde_json::Value = send(json!({"query": query, "extensions": ext(&real)}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"]["me"]["username"], "cq.sales1");
    let hit: serde_json::Value = send(json!({"extensions": ext(&real)}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hit["data"]["me"]["username"], "cq.sales1");
    let wrong: serde_json::Value = send(json!({"query": query, "extensions": ext(hash)}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(wrong["errors"].is_array(), "{wrong}");
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
}
