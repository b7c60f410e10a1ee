//! Who sees what: the store layer filters every read and write by the
//! actor's scope, and a forbidden record answers exactly like a missing one.
use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app};

const BY_ID: &str = "query($id: ID!) { customer(id: $id) { id name } node(id: $id) { id } }";
const LIST: &str = "{ customers { totalCount edges { node { name } } } }";

fn names(d: &Value) -> Vec<String> {
    let mut v: Vec<String> = d["customers"]["edges"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["node"]["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn consultant_cannot_see_colleagues_customers() {
    let app = spawn_app().await;
    let li = app.login("cq.sales1").await;
    let zhang = app.login("cq.sales2").await;
    let mine = li.create_customer("李的客户", "13800000001", false).await;
    zhang
        .create_customer("张的客户", "13800000002", false)
        .await;

    assert_eq!(names(&li.data(LIST, json!({})).await), vec!["李的客户"]);
    let theirs = zhang.data(BY_ID, json!({"id": mine})).await;
    assert_eq!(theirs["customer"], Value::Null);
    assert_eq!(theirs["node"], Value::Null);
    let pop = zhang
        .data(
            "{ customerByPhone(phone: \"13800000001\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(pop["customerByPhone"], Value::Null);
    let upd = zhang
        .data("mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { userErrors { code } } }", json!({"i": {"id": mine, "name": "抢来的"}}))
        .await;
    assert_eq!(codes(&upd["updateCustomer"]), vec!["NOT_FOUND"]);
}

#[tokio::test]
async fn store_staff_see_the_whole_store() {
    let app = spawn_app().await;
    app.login("cq.sales1")
        .await
        .create_customer("甲", "13800000001", false)
        .await;
    app.login("cq.sales2")
        .await
        .create_customer("乙", "13800000002", false)
        .await;
    for who in ["cq.advisor", "cq.care", "cq.warranty", "cq.manager"] {
        let s = app.login(who).await;
        assert_eq!(
            names(&s.data(LIST, json!({})).await),
            vec!["乙".to_string(), "甲".to_string()],
            "{who}"
        );
    }
}

#[tokio::test]
async fn staff_of_another_store_get_nothing_even_by_id() {
    let app = spawn_app().await;
    let cq = app.login("cq.manager").await;
    let id = cq.create_customer("重庆客户", "13800000001", true).await;
    let v = cq
        .data(
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } } }",
            json!({"i": {"ownerId": id, "vin": "LVSHCAMB1CE123456", "brand": "长安福特", "model": "锐界"}}),
        )
        .await["createVehicle"]["vehicle"]["id"]
        .clone();

    let cd = app.login("cd.manager").await;
    let r = cd.data(BY_ID, json!({"id": id})).await;
    assert_eq!(r["customer"], Value::Null);
    assert_eq!(r["node"], Value::Null);
    // Exactly like an id that does not exist at all.
    let missing = cq
        .data(
            BY_ID,
            json!({"id": "Q3VzdG9tZXI6MDE5YWEwMDAwMDAwNzAwMDgwMDAwMDAwMDAwMDAwYWI"}),
        )
        .await;
    assert_eq!(r, missing);
    assert_eq!(
        cd.data(
            "query($id: ID!) { vehicle(id: $id) { vin } }",
            json!({"id": v})
        )
        .await["vehicle"],
        Value::Null
    );
    assert_eq!(
        cd.data(
            "{ vehicleByVin(vin: \"LVSHCAMB1CE123456\") { vin } }",
            json!({})
        )
        .await["vehicleByVin"],
        Value::Null
    );
    assert_eq!(cd.data(LIST, json!({})).await["customers"]["totalCount"], 0);
    // Writes through a foreign id fail like a missing record.
    let w = cd
        .data("mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } userErrors { code } } }", json!({"i": {"customerId": id, "summary": "x"}}))
        .await;
    assert_eq!(codes(&w["recordContact"]), vec!["NOT_FOUND"]);
    let m = cd
        .data("mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { userErrors { code field } } }", json!({"i": {"ownerId": id, "vin": "1M8GDM9AXKP042788", "brand": "x", "model": "y"}}))
        .await;
    assert_eq!(codes(&m["createVehicle"]), vec!["NOT_FOUND"]);
}

#[tokio::test]
async fn group_manager_sees_only_consented_customers_of_the_groups_stores() {
    let app = spawn_app().await;
    let cq = app.login("cq.manager").await; // CQ001 belongs to the group
    cq.create_customer("同意共享", "13800000001", true).await;
    let private = cq.create_customer("不同意共享", "13800000002", false).await;
    app.login("cd.manager")
        .await
        .create_customer("成都同意", "13800000003", true)
        .await; // CD002 does not

    let g = app.login("group.manager").await;
    assert_eq!(names(&g.data(LIST, json!({})).await), vec!["同意共享"]);
    assert_eq!(
        g.data(BY_ID, json!({"id": private})).await["customer"],
        Value::Null
    );
    let stores = g.data("{ stores { code } }", json!({})).await;
    assert_eq!(stores["stores"], json!([{"code": "CQ001"}]));
}

#[tokio::test]
async fn oem_staff_see_consented_customers_across_the_network_and_write_none() {
    let app = spawn_app().await;
    app.login("cq.manager")
        .await
        .create_customer("重庆同意", "13800000001", true)
        .await;
    app.login("cq.manager")
        .await
        .create_customer("重庆不同意", "13800000002", false)
        .await;
    app.login("cd.manager")
        .await
        .create_customer("成都同意", "13800000003", true)
        .await;

    let o = app.login("oem.staff").await;
    assert_eq!(
        names(&o.data(LIST, json!({})).await),
        vec!["成都同意", "重庆同意"]
    );
    let r = o
        .q("mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { userErrors { code } } }", json!({"i": {"name": "x", "mobile": "13800000009"}}))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn withdrawing_sharing_consent_hides_the_customer_from_the_network() {
    let app = spawn_app().await;
    let cq = app.login("cq.manager").await;
    let id = cq
        .create_customer("先同意后撤回", "13800000001", true)
        .await;
    let o = app.login("oem.staff").await;
    assert_eq!(
        o.data(BY_ID, json!({"id": id})).await["customer"]["name"],
        "先同意后撤回"
    );
    cq.data(
        "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { userErrors { code } } }",
        json!({"i": {"id": id, "sharingConsent": false}}),
    )
    .await;
    assert_eq!(
        o.data(BY_ID, json!({"id": id})).await["customer"],
        Value::Null
    );
}
