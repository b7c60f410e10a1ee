//! The base as a store lives it: the store's local day, work that follows
//! the customer and the vehicle, late deliveries, new callers, phone kinds.
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{codes, spawn_app, Session};

const VEHICLE: &str = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id mileageReadings { readOn } } userErrors { field code message } } }";
const TASKS: &str = "query($c: ID) { tasks(first: 50, filter: {customerId: $c}) { edges { node { id title rule status dueAt customer { id } } } } }";

fn edges(d: &Value, key: &str) -> Vec<Value> {
    d[key]["edges"]
        .as_array()
        .map(|a| a.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

async fn car(s: &Session<'_>, owner: &str, vin: &str, delivered: &str) -> Value {
    s.data(
        VEHICLE,
        json!({"i": {"ownerId": owner, "vin": vin, "brand": "长安福特", "model": "锐界", "plate": "渝A88888", "deliveryDate": delivered, "mileageKm": 10}}),
    )
    .await["createVehicle"]
        .clone()
}

#[tokio::test]
async fn a_delivery_at_two_in_the_morning_store_time_is_dated_today() {
    let app = spawn_app().await;
    // 2026-11-22 18:00 UTC is 02:00 on the 23rd in Chongqing.
    app.clock.advance(Duration::hours(-8));
    let m = app.login("cq.manager").await;
    let c = m.create_customer("凌晨车主", "13800000001", false).await;
    let made = car(&m, &c, "LVSHCAMB1CE123456", "2026-11-23").await;
    assert_eq!(
        made["userErrors"],
        json!([]),
        "today in the store is not the future: {made}"
    );
    assert_eq!(
        made["vehicle"]["mileageReadings"][0]["readOn"],
        "2026-11-23"
    );
    let tomorrow = car(&m, &c, "LVSHCAMB0CE123457", "2026-11-24").await;
    let _ = tomorrow;
    let t = m.data(TASKS, json!({"c": c})).await;
    let revisit = edges(&t, "tasks")
        .into_iter()
        .find(|t| t["rule"] == "delivery_revisit")
        .expect("a revisit");
    // Due at the end of the local day 7 days on: 2026-11-30 23:59:59 +08:00.
    assert_eq!(revisit["dueAt"], "2026-11-30T15:59:59+00:00");
}

#[tokio::test]
async fn a_future_delivery_is_refused_in_store_time() {
    let app = spawn_app().await;
    app.clock.advance(Duration::hours(-8));
    let m = app.login("cq.manager").await;
    let c = m.create_customer("明天的车主", "13800000001", false).await;
    let made = car(&m, &c, "LVSHCAMB1CE123456", "2026-11-24").await;
    assert_eq!(codes(&made), ["OUT_OF_RANGE"], "{made}");
}

#[tokio::test]
async fn merging_moves_open_work_to_the_survivor() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    let keep = care.create_customer("王先生", "13800000001", false).await;
    let dup = care
        .create_customer("王先生(旧)", "13800000002", false)
        .await;
    care.data(
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
        json!({"i": {"customerId": dup, "title": "回访", "dueAt": "2026-11-24T03:00:00Z"}}),
    )
    .await;
    let r = care
        .data(
            "mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { userErrors { code } } }",
            json!({"i": {"survivorId": keep, "mergedId": dup}}),
        )
        .await;
    assert_eq!(r["mergeCustomers"]["userErrors"], json!([]));
    let t = care.data(TASKS, json!({"c": keep})).await;
    let tasks = edges(&t, "tasks");
    assert_eq!(tasks.len(), 1, "{t}");
    assert_eq!(tasks[0]["customer"]["id"], json!(keep));
    let day = care
        .data("{ myDay { upcoming { customer { name } } } }", json!({}))
        .await;
    assert_eq!(day["myDay"]["upcoming"][0]["customer"]["name"], "王先生");
}

#[tokio::test]
async fn a_transfer_moves_the_cars_reminder_and_leaves_the_sales_revisit_with_the_buyer() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let seller = m.create_customer("卖车人", "13800000001", false).await;
    let buyer = m.create_customer("买车人", "13800000002", false).await;
    let v = car(&m, &seller, "LVSHCAMB1CE123456", "2026-11-20").await;
    let vid = v["vehicle"]["id"].clone();
    let r = m
        .data(
            "mutation($i: TransferVehicleInput!) { transferVehicle(input: $i) { userErrors { code message } } }",
            json!({"i": {"vehicleId": vid, "newOwnerId": buyer}}),
        )
        .await;
    assert_eq!(r["transferVehicle"]["userErrors"], json!([]));
    let rules_of = |d: &Value| -> Vec<String> {
        edges(d, "tasks")
            .iter()
            .filter_map(|t| t["rule"].as_str().map(String::from))
            .collect()
    };
    assert_eq!(
        rules_of(&m.data(TASKS, json!({"c": seller})).await),
        ["delivery_revisit"]
    );
    assert_eq!(
        rules_of(&m.data(TASKS, json!({"c": buyer})).await),
        ["first_service_reminder"]
    );
}

#[tokio::test]
async fn a_delivery_entered_late_still_gets_a_revisit_marked_late_and_the_prospect_becomes_an_owner(
) {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let c = m.create_customer("补录车主", "13800000001", false).await;
    let stage = |s: &Value| s["customer"]["lifecycleStage"].clone();
    let q = "query($id: ID!) { customer(id: $id) { lifecycleStage } }";
    assert_eq!(stage(&m.data(q, json!({"id": c})).await), "PROSPECT");
    car(&m, &c, "LVSHCAMB1CE123456", "2026-11-10").await;
    assert_eq!(stage(&m.data(q, json!({"id": c})).await), "NEW_OWNER");
    let t = m.data(TASKS, json!({"c": c})).await;
    let revisit = edges(&t, "tasks")
        .into_iter()
        .find(|t| t["rule"] == "delivery_revisit")
        .expect("a late delivery is revisited all the same");
    assert!(
        revisit["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("【补】"),
        "{revisit}"
    );
    assert_eq!(
        revisit["dueAt"], "2026-11-24T15:59:59+00:00",
        "due by the end of tomorrow"
    );
    // A car delivered long ago is history, not a sale to revisit.
    let old = m.create_customer("老车主", "13800000002", false).await;
    car(&m, &old, "LVSHCAMB0CE123457", "2024-01-01").await;
    assert!(edges(&m.data(TASKS, json!({"c": old})).await, "tasks").is_empty());
}

#[tokio::test]
async fn a_new_caller_without_a_consultant_waits_in_the_managers_unassigned_queue() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    care.create_customer("新来电", "13800000001", false).await;
    app.login("cq.sales1")
        .await
        .create_customer("有顾问", "13800000002", false)
        .await;
    let m = app.login("cq.manager").await;
    let q = "{ customers(filter: {unassigned: true}) { totalCount edges { node { name } } } }";
    let d = m.data(q, json!({})).await;
    assert_eq!(d["customers"]["totalCount"], 1);
    assert_eq!(d["customers"]["edges"][0]["node"]["name"], "新来电");
    // And the manager is told, without the caller's name in the message.
    app.clock.advance(Duration::seconds(1));
    app.tick().await;
    let inbox = m
        .data(
            "{ myNotifications { totalCount edges { node { body } } } }",
            json!({}),
        )
        .await;
    assert_eq!(inbox["myNotifications"]["totalCount"], 1, "{inbox}");
    let body = inbox.to_string();
    assert!(
        body.contains("待分配") && !body.contains("新来电"),
        "{body}"
    );
}

#[tokio::test]
async fn full_width_numbers_normalise_and_a_landline_is_never_the_sms_number() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let create = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { mobile phones { number kind main } } userErrors { field code } } }";
    let d = s
        .data(create, json!({"i": {"name": "全角", "mobile": "＋８６ １３８－００１３－８０００", "otherPhones": ["023 6388 1234"]}}))
        .await;
    assert_eq!(d["createCustomer"]["customer"]["mobile"], "+8613800138000");
    assert_eq!(
        d["createCustomer"]["customer"]["phones"],
        json!([
            {"number": "+8613800138000", "kind": "MOBILE", "main": true},
            {"number": "+862363881234", "kind": "LANDLINE", "main": false}
        ])
    );
    let landline = s
        .data(
            create,
            json!({"i": {"name": "座机", "mobile": "023 6388 9999"}}),
        )
        .await;
    assert_eq!(codes(&landline["createCustomer"]), ["INVALID_PHONE"]);
}
