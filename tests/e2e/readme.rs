//! The README stays true: every GraphQL example in it runs as written, as
//! the demo store manager against the demo data.
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::support::{spawn_app_with, Session};

/// The ```graphql blocks of the README.
fn examples() -> Vec<String> {
    let readme = include_str!("../../README.md");
    readme
        .split("```graphql")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .map(|b| b.trim().to_string())
        .collect()
}

/// (kind, name) of each operation in a block.
fn operations(block: &str) -> Vec<(String, Option<String>)> {
    let mut ops = Vec::new();
    let mut depth = 0i32;
    for line in block.lines() {
        let t = line.trim_start();
        if depth == 0 {
            for kind in ["query", "mutation", "subscription"] {
                if let Some(rest) = t.strip_prefix(kind) {
                    let name: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    ops.push((kind.to_string(), Some(name).filter(|n| !n.is_empty())));
                }
            }
        }
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
    }
    ops
}

async fn variables(m: &Session<'_>) -> Value {
    let store = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    let tasks = m
        .data(
            "{ tasks(first: 1, filter: {status: [OPEN]}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let task = tasks["tasks"]["edges"][0]["node"]["id"].clone();
    let cars = m
        .data(
            "{ customers(first: 50) { edges { node { vehicles { id currentMileageKm } } } } }",
            json!({}),
        )
        .await;
    let car = cars["customers"]["edges"]
        .as_array()
        .and_then(|e| e.iter().find_map(|c| c["node"]["vehicles"].get(0).cloned()))
        .unwrap_or_default();
    let km = car["currentMileageKm"].as_i64().unwrap_or(0) + 100;
    json!({"storeId": store, "taskId": task, "vehicleId": car["id"], "mileageKm": km})
}

/// Every `userErrors` list in a response is empty.
fn no_user_errors(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().all(|(k, x)| {
            if k == "userErrors" {
                x.as_array().is_none_or(|a| a.is_empty())
            } else {
                no_user_errors(x)
            }
        }),
        Value::Array(a) => a.iter().all(no_user_errors),
        _ => true,
    }
}

#[tokio::test]
async fn every_graphql_example_in_the_readme_runs_against_the_demo() {
    let app = spawn_app_with(|c| {
        c.seed_customers_per_store = 20;
        c.rate_limit_per_minute = 0;
    })
    .await;
    let m = app.login("cq.manager").await;
    let vars = variables(&m).await;
    let blocks = examples();
    assert!(blocks.len() >= 6, "found {} examples", blocks.len());
    let mut ran = 0;
    for block in &blocks {
        for (kind, name) in operations(block) {
            ran += 1;
            if kind == "subscription" {
                let mut ws = crate::subscriptions::open(&app.base, &m.token).await;
                crate::subscriptions::subscribe(&mut ws, block).await;
                let heard =
                    tokio::time::timeout(std::time::Duration::from_millis(300), ws.next()).await;
                if let Ok(Some(Ok(msg))) = heard {
                    assert!(!msg.to_string().contains("\"error\""), "{block}\n→ {msg}");
                }
                continue;
            }
            let mut body = json!({"query": block, "variables": vars});
            if let Some(n) = &name {
                body["operationName"] = json!(n);
            }
            let r: Value = app
                .http
                .post(format!("{}/graphql", app.base))
                .bearer_auth(&m.token)
                .json(&body)
                .send()
                .await
                .expect("request")
                .json()
                .await
                .unwrap_or_default();
            assert!(
                r.get("errors").is_none(),
                "README example {name:?} failed:\n{block}\n→ {r}"
            );
            assert!(
                no_user_errors(&r),
                "README example {name:?} was refused:\n{block}\n→ {r}"
            );
        }
    }
    assert!(ran >= 9, "ran {ran} operations");
}
