//! The consent line on every path: nested fields, stored texts, the outbox,
//! assignments and duplicate answers carry no customer data to staff who
//! may not see the customer.
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app};

const CREATE_TASK: &str = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id title } userErrors { field code message } } }";
const TASK: &str = "query($id: ID!) { node(id: $id) { ... on Task { title reason outcome customer { id name } lastContact { summary } } } }";

async fn contact(s: &crate::support::Session<'_>, customer: &str, summary: &str) {
    let r = s
        .data(
            "mutation($i: RecordContactInput!) { recordContact(input: $i) { userErrors { code } } }",
            json!({"i": {"customerId": customer, "summary": summary}}),
        )
        .await;
    assert_eq!(r["recordContact"]["userErrors"], json!([]));
}

#[tokio::test]
async fn work_about_a_colleagues_customer_cannot_be_given_blind_and_comes_with_the_customer() {
    let app = spawn_app().await;
    let s2 = app.login("cq.sales2").await;
    let c = s2.create_customer("张的客户", "13800000002", false).await;
    contact(&s2, &c, "客户说下周来试驾").await;
    let m = app.login("cq.manager").await;
    let s1_id = m.staff_id("cq.sales1").await;
    let task = json!({"customerId": c, "title": "回电", "dueAt": "2026-11-24T03:00:00Z", "assigneeId": s1_id});
    let refused = m.data(CREATE_TASK, json!({"i": task})).await;
    assert_eq!(codes(&refused["createTask"]), ["NOT_ALLOWED"], "{refused}");
    assert_eq!(
        refused["createTask"]["userErrors"][0]["field"],
        json!(["input", "assigneeId"])
    );
    let s1 = app.login("cq.sales1").await;
    let day = s1.data("{ myDay { upcoming { id } } }", json!({})).await;
    assert_eq!(day["myDay"]["upcoming"], json!([]), "nothing was stored");

    let mut handed = task.clone();
    handed["handOverCustomer"] = json!(true);
    let made = m.data(CREATE_TASK, json!({"i": handed})).await;
    let id = made["createTask"]["task"]["id"].clone();
    let seen = s1.data(TASK, json!({"id": id})).await;
    assert_eq!(seen["node"]["customer"]["name"], "张的客户");
    assert_eq!(seen["node"]["lastContact"]["summary"], "客户说下周来试驾");
    // The customer moved with the work: the colleague no longer holds them.
    assert_eq!(
        s2.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn a_consultant_left_with_a_task_about_a_customer_they_lost_sees_nothing_of_them() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("李的客户", "13800000001", false).await;
    contact(&s1, &c, "报价二十万").await;
    let made = s1
        .data(CREATE_TASK, json!({"i": {"customerId": c, "title": "给李的客户回电", "dueAt": "2026-11-24T03:00:00Z"}}))
        .await;
    let id = made["createTask"]["task"]["id"].clone();
    let m = app.login("cq.manager").await;
    let s2_id = m.staff_id("cq.sales2").await;
    m.data(
        "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { userErrors { code } } }",
        json!({"i": {"id": c, "responsibleStaffId": s2_id}}),
    )
    .await;
    let seen = s1.data(TASK, json!({"id": id})).await;
    assert_eq!(seen["node"]["customer"], Value::Null);
    assert_eq!(seen["node"]["lastContact"], Value::Null, "{seen}");
    assert_eq!(
        seen["node"]["title"], "自定义",
        "the typed title may name the customer"
    );
    let done = s1
        .data(
            "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { userErrors { code } } }",
            json!({"i": {"taskId": id, "outcome": "写进看不见的日志"}}),
        )
        .await;
    assert_eq!(
        codes(&done["completeTask"]),
        ["NOT_ALLOWED"],
        "no writing into a log one cannot read"
    );
}

#[tokio::test]
async fn staff_beyond_the_consent_line_read_tasks_without_customer_texts() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let private = s1.create_customer("王私密", "13800000001", false).await;
    let shared = s1.create_customer("赵共享", "13800000003", true).await;
    contact(&s1, &private, "王私密的家事").await;
    contact(&s1, &shared, "赵共享想换车").await;
    for (c, title) in [(&private, "回电王私密"), (&shared, "回电赵共享")] {
        s1.data(CREATE_TASK, json!({"i": {"customerId": c, "title": title, "reason": title, "dueAt": "2026-11-24T03:00:00Z"}}))
            .await;
    }
    let advisor = app.login("cq.advisor").await;
    advisor
        .data(
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { userErrors { code } } }",
            json!({"i": {"ownerId": shared, "vin": "LVSHCAMB1CE123456", "brand": "长安福特", "model": "锐界", "plate": "渝A88888", "deliveryDate": "2026-11-22"}}),
        )
        .await;
    let list = "{ tasks(first: 50) { edges { node { title reason customer { name } lastContact { summary } } } } }";
    for who in ["group.manager", "oem.staff", "admin"] {
        let d = app.login(who).await.data(list, json!({})).await;
        let text = d.to_string();
        for secret in ["王私密", "渝A88888", "LVSHCAMB1CE123456"] {
            assert!(!text.contains(secret), "{who} reads {secret}: {text}");
        }
        assert!(
            text.contains("回电赵共享") && text.contains("赵共享想换车"),
            "{who} sees consented work: {text}"
        );
        assert!(
            text.contains("交车回访：锐界"),
            "rule tasks name the model only: {text}"
        );
    }
}

#[tokio::test]
async fn only_the_store_manager_reads_the_outbox_and_the_network_gets_counts() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("短信客户", "13800000001", true).await;
    s1.data(
        "mutation($i: SendCustomerMessageInput!) { sendCustomerMessage(input: $i) { userErrors { code } } }",
        json!({"i": {"customerId": c, "category": "SERVICE", "text": "短信客户您好，您的车已保养完毕"}}),
    )
    .await;
    let outbox = "{ notifications(first: 10) { totalCount edges { node { body } } } }";
    let m = app.login("cq.manager").await.data(outbox, json!({})).await;
    assert_eq!(m["notifications"]["totalCount"], 1);
    for who in [
        "group.manager",
        "oem.staff",
        "admin",
        "cq.sales1",
        "cq.care",
    ] {
        let r = app.login(who).await.q(outbox, json!({})).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{who}: {r}");
    }
    let summary = "{ outboxSummary { store { code } pending sent dead } }";
    for who in ["group.manager", "oem.staff", "admin", "cq.manager"] {
        let d = app.login(who).await.data(summary, json!({})).await;
        assert_eq!(
            d["outboxSummary"],
            json!([{"store": {"code": "CQ001"}, "pending": 1, "sent": 0, "dead": 0}]),
            "{who}"
        );
    }
    let r = app.login("cq.sales1").await.q(summary, json!({})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn a_duplicate_mobile_names_the_holder_and_the_manager_can_hand_the_customer_over() {
    let app = spawn_app().await;
    let s2 = app.login("cq.sales2").await;
    s2.create_customer("张的客户", "13800000002", false).await;
    let s1 = app.login("cq.sales1").await;
    let dup = s1
        .data(
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } userErrors { code message existingId heldBy } } }",
            json!({"i": {"name": "同一个人", "mobile": "138 0000 0002"}}),
        )
        .await;
    let err = &dup["createCustomer"]["userErrors"][0];
    assert_eq!(err["code"], "DUPLICATE");
    assert_eq!(
        err["existingId"],
        Value::Null,
        "no id that cannot be opened: {err}"
    );
    assert_eq!(err["heldBy"], "销售顾问 张伟");
    let ask = "mutation($i: RequestCustomerHandoverInput!) { requestCustomerHandover(input: $i) { requested userErrors { code } } }";
    let r = s1
        .data(
            ask,
            json!({"i": {"mobile": "13800000002", "reason": "客户今天到店找我"}}),
        )
        .await;
    assert_eq!(r["requestCustomerHandover"]["requested"], true);
    // Asking twice leaves one request.
    s1.data(
        ask,
        json!({"i": {"mobile": "13800000002", "reason": "again"}}),
    )
    .await;
    let m = app.login("cq.manager").await;
    let queue = m
        .data(
            "{ tasks(filter: {kind: HANDOVER_REQUEST}) { edges { node { id title queue } } } }",
            json!({}),
        )
        .await;
    let edges = queue["tasks"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["title"], "客户移交申请");
    assert_eq!(edges[0]["node"]["queue"], "STORE_MANAGER");
    let answer = m
        .data(
            "mutation($i: AnswerHandoverRequestInput!) { answerHandoverRequest(input: $i) { task { status } userErrors { code } } }",
            json!({"i": {"taskId": edges[0]["node"]["id"], "approve": true}}),
        )
        .await;
    assert_eq!(answer["answerHandoverRequest"]["task"]["status"], "DONE");
    let pop = s1
        .data(
            "{ customerByPhone(phone: \"13800000002\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(pop["customerByPhone"]["name"], "张的客户");
    app.clock.advance(Duration::seconds(1));
    app.tick().await;
    let inbox = s1
        .data("{ myNotifications { edges { node { body } } } }", json!({}))
        .await;
    assert!(inbox.to_string().contains("已批准"), "{inbox}");
}
