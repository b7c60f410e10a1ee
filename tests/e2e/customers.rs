use serde_json::{json, Value};

use crate::support::{codes, spawn_app};

const CREATE: &str = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id name mobile otherPhones responsibleStaff { username } } userErrors { field code message existingId } } }";
const COUNT: &str = "{ customers { totalCount } }";

#[tokio::test]
async fn consultant_creates_a_customer_with_a_normalized_mobile_and_a_log_entry() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let d = s
        .data(CREATE, json!({"i": {"name": " 王先生 ", "mobile": "138-0013-8000", "otherPhones": ["+86 10 6552 9988"], "source": "PHONE"}}))
        .await;
    let c = &d["createCustomer"]["customer"];
    assert_eq!(c["name"], "王先生");
    assert_eq!(c["mobile"], "+8613800138000");
    assert_eq!(c["otherPhones"], json!(["+861065529988"]));
    assert_eq!(c["responsibleStaff"]["username"], "cq.sales1");
    let log = s
        .data("query($id: ID!) { customer(id: $id) { log { totalCount edges { node { kind summary staff { username } } } } } }", json!({"id": c["id"]}))
        .await;
    let log = &log["customer"]["log"];
    assert_eq!(log["totalCount"], 1);
    assert_eq!(log["edges"][0]["node"]["kind"], "CREATED");
    assert_eq!(log["edges"][0]["node"]["staff"]["username"], "cq.sales1");
}

#[tokio::test]
async fn a_mobile_already_on_file_returns_that_customer_as_duplicate() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let first = s.create_customer("李女士", "13900001111", false).await;
    let again = s
        .data(
            CREATE,
            json!({"i": {"name": "李女士二号", "mobile": "+86 139 0000 1111"}}),
        )
        .await;
    let p = &again["createCustomer"];
    assert_eq!(p["customer"], Value::Null);
    assert_eq!(codes(p), vec!["DUPLICATE"]);
    assert_eq!(p["userErrors"][0]["existingId"], first.as_str());
    assert_eq!(p["userErrors"][0]["field"], json!(["input", "mobile"]));
    assert!(p["userErrors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains(&first));
    assert_eq!(s.data(COUNT, json!({})).await["customers"]["totalCount"], 1);

    // The same number in another store is another store's customer.
    let other = app.login("cd.advisor").await;
    other.create_customer("李女士", "13900001111", false).await;
}

#[tokio::test]
async fn bad_input_is_a_user_error_and_stores_nothing() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let cases = [
        (json!({"name": "张三", "mobile": "12345"}), "INVALID_PHONE"),
        (json!({"name": "   ", "mobile": "13800138001"}), "REQUIRED"),
        (
            json!({"name": "长".repeat(51), "mobile": "13800138001"}),
            "TOO_LONG",
        ),
        (
            json!({"name": "张三", "mobile": "13800138001", "otherPhones": ["abc"]}),
            "INVALID_PHONE",
        ),
        (
            json!({"name": "张三", "mobile": "13800138001", "responsibleStaffId": "garbage"}),
            "INVALID_ID",
        ),
    ];
    for (input, code) in cases {
        let d = s.data(CREATE, json!({"i": input})).await;
        assert_eq!(codes(&d["createCustomer"]), vec![code], "{input}: {d}");
        assert_eq!(d["createCustomer"]["customer"], Value::Null);
    }
    // Name and phone both wrong: both are reported at once.
    let d = s
        .data(CREATE, json!({"i": {"name": "", "mobile": "x"}}))
        .await;
    assert_eq!(
        codes(&d["createCustomer"]),
        vec!["REQUIRED", "INVALID_PHONE"]
    );
    // Wrong GraphQL types are rejected before anything runs.
    let r = s.q(CREATE, json!({"i": {"name": 5, "mobile": true}})).await;
    assert!(r["errors"].is_array(), "{r}");
    assert_eq!(s.data(COUNT, json!({})).await["customers"]["totalCount"], 0);
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_creates_once() {
    let app = spawn_app().await;
    let s = app.login("cq.sales2").await;
    let input =
        json!({"i": {"name": "赵六", "mobile": "13700001234", "idempotencyKey": "phone-42-op-7"}});
    let a = s.data(CREATE, input.clone()).await;
    let b = s.data(CREATE, input).await;
    assert_eq!(codes(&b["createCustomer"]), Vec::<String>::new());
    assert_eq!(
        a["createCustomer"]["customer"]["id"],
        b["createCustomer"]["customer"]["id"]
    );
    assert_eq!(s.data(COUNT, json!({})).await["customers"]["totalCount"], 1);
}

#[tokio::test]
async fn call_centre_screen_pop_finds_customers_by_main_or_other_phone() {
    let app = spawn_app().await;
    let s = app.login("cq.care").await;
    let d = s
        .data(CREATE, json!({"i": {"name": "钱七", "mobile": "13511112222", "otherPhones": ["023 6388 1234"]}}))
        .await;
    let id = d["createCustomer"]["customer"]["id"].clone();
    let q = "query($p: String!) { customerByPhone(phone: $p) { id name } }";
    assert_eq!(
        s.data(q, json!({"p": "+8613511112222"})).await["customerByPhone"]["id"],
        id
    );
    assert_eq!(
        s.data(q, json!({"p": "02363881234"})).await["customerByPhone"]["id"],
        id
    );
    assert_eq!(
        s.data(q, json!({"p": "13999999999"})).await["customerByPhone"],
        Value::Null
    );
    let bad = s.q(q, json!({"p": "hello"})).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn updating_a_customer_changes_it_and_a_taken_mobile_is_duplicate() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let a = s.create_customer("孙八", "13600000001", false).await;
    let b = s.create_customer("周九", "13600000002", false).await;
    let upd = "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { customer { name city lifecycleStage mobile } userErrors { code existingId } } }";
    let d = s
        .data(
            upd,
            json!({"i": {"id": a, "city": "重庆", "lifecycleStage": "LOYAL"}}),
        )
        .await;
    assert_eq!(d["updateCustomer"]["customer"]["city"], "重庆");
    assert_eq!(d["updateCustomer"]["customer"]["lifecycleStage"], "LOYAL");
    let d = s
        .data(
            upd,
            json!({"i": {"id": a, "mobile": "13600000002", "name": "改名"}}),
        )
        .await;
    assert_eq!(codes(&d["updateCustomer"]), vec!["DUPLICATE"]);
    assert_eq!(
        d["updateCustomer"]["userErrors"][0]["existingId"],
        b.as_str()
    );
    // Nothing of the refused change was kept.
    let c = s
        .data(
            "query($id: ID!) { customer(id: $id) { name mobile } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(c["customer"]["name"], "孙八");
    assert_eq!(c["customer"]["mobile"], "+8613600000001");
}

#[tokio::test]
async fn merging_moves_vehicles_phones_and_history_and_the_old_id_follows() {
    let app = spawn_app().await;
    let s = app.login("cq.care").await;
    let keep = s.create_customer("吴先生", "13811110000", true).await;
    let dup = s.create_customer("吴生", "13811119999", true).await;
    let v = s
        .data(
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } userErrors { code message } } }",
            json!({"i": {"ownerId": dup, "vin": "LVSHCAMB1CE123456", "brand": "长安福特", "model": "福克斯"}}),
        )
        .await;
    assert!(v["createVehicle"]["vehicle"]["id"].is_string(), "{v}");
    s.data(
        "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } } }",
        json!({"i": {"customerId": dup, "summary": "客户来电咨询保养"}}),
    )
    .await;

    let m = s
        .data(
            "mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { customer { id otherPhones vehicles { vin } log(first: 50) { edges { node { kind summary } } } } userErrors { code } } }",
            json!({"i": {"survivorId": keep, "mergedId": dup}}),
        )
        .await;
    let c = &m["mergeCustomers"]["customer"];
    assert_eq!(c["id"], keep.as_str());
    assert_eq!(c["otherPhones"], json!(["+8613811119999"]));
    assert_eq!(c["vehicles"][0]["vin"], "LVSHCAMB1CE123456");
    let kinds: Vec<&str> = c["log"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["kind"].as_str())
        .collect();
    assert_eq!(kinds[0], "MERGED");
    assert!(
        kinds.contains(&"CONTACT") && kinds.contains(&"VEHICLE_ADDED"),
        "{kinds:?}"
    );

    // The merged record's id now answers with the survivor.
    let old = s
        .data(
            "query($id: ID!) { customer(id: $id) { id name } }",
            json!({"id": dup}),
        )
        .await;
    assert_eq!(old["customer"]["id"], keep.as_str());
    // It no longer counts as a customer of its own.
    assert_eq!(s.data(COUNT, json!({})).await["customers"]["totalCount"], 1);
    // Its number now finds the survivor.
    let pop = s
        .data(
            "{ customerByPhone(phone: \"13811119999\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(pop["customerByPhone"]["id"], keep.as_str());
    // Merging into itself is refused.
    let again = s
        .data("mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { userErrors { code } } }", json!({"i": {"survivorId": keep, "mergedId": keep}}))
        .await;
    assert_eq!(codes(&again["mergeCustomers"]), vec!["INVALID"]);
}

#[tokio::test]
async fn a_consultant_may_not_merge_customers() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let a = s.create_customer("甲", "13811110001", false).await;
    let b = s.create_customer("乙", "13811110002", false).await;
    let r = s
        .q("mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { userErrors { code } } }", json!({"i": {"survivorId": a, "mergedId": b}}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

async fn walk(s: &crate::support::Session<'_>, forward: bool) -> Vec<String> {
    let q = if forward {
        "query($c: String) { customers(first: 10, after: $c) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } } } }"
    } else {
        "query($c: String) { customers(last: 10, before: $c) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { cursor node { name } } } }"
    };
    let mut names = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..10 {
        let d = s.data(q, json!({"c": cursor})).await;
        let conn = &d["customers"];
        assert_eq!(conn["totalCount"], 25);
        let page: Vec<String> = conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_string())
            .collect();
        if forward {
            names.extend(page);
            if conn["pageInfo"]["hasNextPage"] != true {
                return names;
            }
            cursor = conn["pageInfo"]["endCursor"].clone();
        } else {
            names.splice(0..0, page);
            if conn["pageInfo"]["hasPreviousPage"] != true {
                return names;
            }
            cursor = conn["pageInfo"]["startCursor"].clone();
        }
    }
    panic!("pagination did not end");
}

#[tokio::test]
async fn pages_walk_every_customer_once_forwards_and_backwards() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    for i in 0..25 {
        s.create_customer(&format!("客户{i:02}"), &format!("1370000{i:04}"), false)
            .await;
    }
    let forward = walk(&s, true).await;
    let expected: Vec<String> = (0..25).rev().map(|i| format!("客户{i:02}")).collect();
    assert_eq!(forward, expected, "newest first, no repeats, none missing");
    assert_eq!(walk(&s, false).await, expected);
    let too_big = s
        .q("{ customers(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(too_big["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let bad_cursor = s
        .q(
            "{ customers(after: \"not-a-cursor\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bad_cursor["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let search = s
        .data(
            "{ customers(filter: {search: \"客户0\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(search["customers"]["totalCount"], 10);
    let by_phone = s
        .data(
            "{ customers(filter: {search: \"1370000002\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(by_phone["customers"]["totalCount"], 5);
}

#[tokio::test]
async fn the_customer_log_is_newest_first_and_pages() {
    let app = spawn_app().await;
    let s = app.login("cq.care").await;
    let c = s.create_customer("冯先生", "13522223333", false).await;
    let rec = "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { kind channel summary occurredAt } userErrors { code field } } }";
    for (day, text) in [(20, "三天前来电"), (21, "两天前到店"), (22, "昨天回访")] {
        let d = s
            .data(rec, json!({"i": {"customerId": c, "summary": text, "channel": "PHONE", "occurredAt": format!("2026-11-{day}T03:00:00Z")}}))
            .await;
        assert_eq!(d["recordContact"]["entry"]["summary"], text);
    }
    let future = s
        .data(
            rec,
            json!({"i": {"customerId": c, "summary": "x", "occurredAt": "2027-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(codes(&future["recordContact"]), vec!["OUT_OF_RANGE"]);
    let wrong_kind = s
        .data(
            rec,
            json!({"i": {"customerId": c, "summary": "x", "kind": "MERGED"}}),
        )
        .await;
    assert_eq!(codes(&wrong_kind["recordContact"]), vec!["INVALID"]);

    let q = "query($id: ID!, $after: String) { customer(id: $id) { log(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { summary } } } } }";
    let p1 = s.data(q, json!({"id": c})).await;
    let l1 = &p1["customer"]["log"];
    let s1: Vec<&str> = l1["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["summary"].as_str().unwrap())
        .collect();
    assert!(s1[0].starts_with("Customer 冯先生 created"), "{s1:?}"); // created "now", after the back-dated contacts
    assert_eq!(s1[1], "昨天回访");
    assert_eq!(l1["pageInfo"]["hasNextPage"], true);
    let p2 = s
        .data(q, json!({"id": c, "after": l1["pageInfo"]["endCursor"]}))
        .await;
    let s2: Vec<&str> = p2["customer"]["log"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["summary"].as_str().unwrap())
        .collect();
    assert_eq!(s2, vec!["两天前到店", "三天前来电"]);
    assert_eq!(p2["customer"]["log"]["pageInfo"]["hasNextPage"], false);
}
