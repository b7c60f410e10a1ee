//! Sales over HTTP: the whole journey from a walk-in lead to the delivery's
//! follow-up work, leads that attach to known customers, the webhook,
//! concurrent test-drive bookings, who sees what, and bad input.
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{codes, spawn_app, valid_vin, Session, TestApp};

const LEAD: &str = "id status grade nextFollowUpAt firstResponseDueAt firstRespondedAt followUps customer { id name lifecycleStage vehicles { vin } } consultant { username }";

async fn create_lead(s: &Session<'_>, input: Value) -> Value {
    let d = s
        .data(
            &format!("mutation($i: CreateLeadInput!) {{ createLead(input: $i) {{ attachedToExisting lead {{ {LEAD} }} userErrors {{ field code message heldBy }} }} }}"),
            json!({"i": input}),
        )
        .await;
    d["createLead"].clone()
}

async fn tasks_about(s: &Session<'_>, customer: &str) -> Vec<Value> {
    let d = s
        .data(
            "query($c: ID!) { tasks(first: 50, filter: {customerId: $c, status: [OPEN, OVERDUE, DONE, CANCELLED]}) { edges { node { kind title status dueAt assignee { username } } } } }",
            json!({"c": customer}),
        )
        .await;
    d["tasks"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn demo_car(s: &Session<'_>) -> String {
    let d = s
        .data("{ demoCars(available: true) { id model } }", json!({}))
        .await;
    d["demoCars"][0]["id"]
        .as_str()
        .expect("a demo car")
        .to_string()
}

const ORDER: &str = "id status commissionYuan netPriceYuan pdiCompletedAt pdi { item passed } vehicle { vin plate warrantyEndsOn warrantyKm } lead { status }";

async fn order_op(s: &Session<'_>, op: &str, input_type: &str, input: Value) -> Value {
    let d = s
        .data(
            &format!("mutation($i: {input_type}!) {{ {op}(input: $i) {{ order {{ {ORDER} }} userErrors {{ field code message }} }} }}"),
            json!({"i": input}),
        )
        .await;
    d[op].clone()
}

fn order_input(lead: &str) -> Value {
    json!({"leadId": lead, "model": "锐界", "trim": "EcoBoost 245", "colour": "白", "priceYuan": 250000,
           "discountYuan": 10000, "depositYuan": 5000,
           "payment": {"method": "LOAN", "loanProvider": "平安银行", "loanTermMonths": 36, "downPaymentYuan": 80000},
           "insurance": "人保 全险", "accessories": "脚垫"})
}

#[tokio::test]
async fn a_walk_in_lead_goes_all_the_way_to_delivery_and_its_follow_up_work() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let m = app.login("cq.manager").await;
    // 10:00 Shanghai, Monday 2026-11-23.
    let c = create_lead(
        &s1,
        json!({"name": "王强", "mobile": "13911112222", "channel": "WALK_IN",
        "interestModel": "锐界", "budgetYuan": 260000, "purchaseTiming": "WITHIN_15_DAYS"}),
    )
    .await;
    assert_eq!(c["userErrors"], json!([]), "{c}");
    assert_eq!(c["attachedToExisting"], false);
    let lead = c["lead"].clone();
    let (lead_id, customer) = (
        lead["id"].as_str().unwrap().to_string(),
        lead["customer"]["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(lead["grade"], "A", "timing within 15 days is an A lead");
    assert_eq!(lead["status"], "NEW");
    assert_eq!(lead["consultant"]["username"], "cq.sales1");
    assert_eq!(
        lead["firstResponseDueAt"], "2026-11-23T02:15:00+00:00",
        "15 business minutes"
    );
    let t = tasks_about(&s1, &customer).await;
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0]["dueAt"], "2026-11-23T02:15:00+00:00");
    assert_eq!(t[0]["assignee"]["username"], "cq.sales1");

    // First follow-up: the customer will come on Saturday; grade H now.
    app.clock.advance(chrono::Duration::minutes(10));
    let f = s1
        .data(
            &format!("mutation($i: LogLeadFollowUpInput!) {{ logLeadFollowUp(input: $i) {{ lead {{ {LEAD} }} userErrors {{ field code }} }} }}"),
            json!({"i": {"leadId": lead_id, "method": "PHONE", "summary": "约周六到店看车", "grade": "H"}}),
        )
        .await;
    let l = &f["logLeadFollowUp"]["lead"];
    assert_eq!(l["grade"], "H");
    assert_eq!(l["status"], "CONTACTED");
    assert_eq!(l["firstRespondedAt"], "2026-11-23T02:10:00+00:00");
    assert_eq!(
        l["nextFollowUpAt"], "2026-11-24T15:59:59+00:00",
        "H: every day, end of the store's day"
    );
    // Back to B: the next one moves out to a week.
    let f = s1
        .data(
            &format!("mutation($i: LogLeadFollowUpInput!) {{ logLeadFollowUp(input: $i) {{ lead {{ {LEAD} }} }} }}"),
            json!({"i": {"leadId": lead_id, "summary": "预算还在考虑", "grade": "B"}}),
        )
        .await;
    assert_eq!(
        f["logLeadFollowUp"]["lead"]["nextFollowUpAt"],
        "2026-11-30T15:59:59+00:00"
    );
    assert_eq!(f["logLeadFollowUp"]["lead"]["followUps"], 2);
    let t = tasks_about(&s1, &customer).await;
    let live: Vec<_> = t.iter().filter(|t| t["status"] == "OPEN").collect();
    assert_eq!(live.len(), 1, "one live follow-up at a time: {t:?}");
    assert_eq!(live[0]["dueAt"], "2026-11-30T15:59:59+00:00");
    assert_eq!(t.iter().filter(|t| t["status"] == "DONE").count(), 2);

    // Test drive at 11:00–11:30 Shanghai.
    let car = demo_car(&m).await;
    let b = s1
        .data(
            "mutation($i: BookTestDriveInput!) { bookTestDrive(input: $i) { testDrive { id status demoCar { model } } userErrors { field code message } } }",
            json!({"i": {"leadId": lead_id, "demoCarId": car, "startsAt": "2026-11-23T03:00:00Z", "endsAt": "2026-11-23T03:30:00Z", "licenceNo": "500101199001011234", "route": "店—滨江路—店"}}),
        )
        .await;
    assert_eq!(b["bookTestDrive"]["userErrors"], json!([]), "{b}");
    let drive = b["bookTestDrive"]["testDrive"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(chrono::Duration::hours(2));
    let s1 = app.login("cq.sales1").await;
    let m = app.login("cq.manager").await;
    let d = s1
        .data(
            "mutation($i: CompleteTestDriveInput!) { completeTestDrive(input: $i) { testDrive { status rating lead { status } } userErrors { field code } } }",
            json!({"i": {"testDriveId": drive, "agreementSignedAt": "2026-11-23T02:55:00Z", "startKm": 1200, "endKm": 1215, "feedback": "动力好", "rating": 5}}),
        )
        .await;
    assert_eq!(d["completeTestDrive"]["testDrive"]["status"], "DONE", "{d}");
    assert_eq!(
        d["completeTestDrive"]["testDrive"]["lead"]["status"],
        "TEST_DRIVEN"
    );

    // Order, its states, PDI, delivery.
    let o = order_op(
        &s1,
        "createSalesOrder",
        "CreateSalesOrderInput",
        order_input(&lead_id),
    )
    .await;
    assert_eq!(o["userErrors"], json!([]), "{o}");
    assert_eq!(o["order"]["status"], "DRAFT");
    assert_eq!(o["order"]["netPriceYuan"], 240000);
    assert_eq!(
        o["order"]["commissionYuan"], 300,
        "the consultant sees their commission"
    );
    assert_eq!(o["order"]["lead"]["status"], "ORDERED");
    let order = o["order"]["id"].as_str().unwrap().to_string();
    let skip = order_op(
        &s1,
        "advanceSalesOrder",
        "AdvanceSalesOrderInput",
        json!({"orderId": order, "status": "READY"}),
    )
    .await;
    assert_eq!(codes(&skip), ["INVALID"], "draft cannot jump to ready");
    for st in ["CONFIRMED", "DEPOSIT_PAID", "READY"] {
        let a = order_op(
            &s1,
            "advanceSalesOrder",
            "AdvanceSalesOrderInput",
            json!({"orderId": order, "status": st}),
        )
        .await;
        assert_eq!(a["order"]["status"], st, "{a}");
    }
    let vin = valid_vin(4242);
    let early = order_op(
        &s1,
        "deliverSalesOrder",
        "DeliverSalesOrderInput",
        json!({"orderId": order, "vin": vin, "plate": "渝A12345", "mileageKm": 15}),
    )
    .await;
    assert_eq!(
        codes(&early),
        ["CONFLICT"],
        "no delivery before the PDI: {early}"
    );
    assert_eq!(early["userErrors"][0]["field"], json!(["input", "orderId"]));
    let list = s1.data("{ pdiChecklist }", json!({})).await["pdiChecklist"].clone();
    let items: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"item": i, "passed": true}))
        .collect();
    let (first, rest) = items.split_at(1);
    let p = order_op(
        &s1,
        "recordPdi",
        "RecordPdiInput",
        json!({"orderId": order, "items": rest}),
    )
    .await;
    assert!(
        p["order"]["pdiCompletedAt"].is_null(),
        "one line still open"
    );
    let p = order_op(
        &s1,
        "recordPdi",
        "RecordPdiInput",
        json!({"orderId": order, "items": first}),
    )
    .await;
    assert!(p["order"]["pdiCompletedAt"].is_string(), "{p}");
    let bad = order_op(
        &s1,
        "deliverSalesOrder",
        "DeliverSalesOrderInput",
        json!({"orderId": order, "vin": "LVSHFAMB0CE00000X", "mileageKm": 15}),
    )
    .await;
    assert_eq!(codes(&bad), ["INVALID_VIN"]);
    assert_eq!(bad["userErrors"][0]["field"], json!(["input", "vin"]));
    let dl = order_op(
        &s1,
        "deliverSalesOrder",
        "DeliverSalesOrderInput",
        json!({"orderId": order, "vin": vin, "plate": "渝a12345", "mileageKm": 15}),
    )
    .await;
    assert_eq!(dl["userErrors"], json!([]), "{dl}");
    let o = &dl["order"];
    assert_eq!(o["status"], "DELIVERED");
    assert_eq!(o["lead"]["status"], "WON");
    assert_eq!(o["vehicle"]["plate"], "渝A12345");
    assert_eq!(
        o["vehicle"]["warrantyEndsOn"], "2029-11-23",
        "3 years from delivery"
    );
    assert_eq!(o["vehicle"]["warrantyKm"], 100000);
    let cust = s1
        .data("query($id: ID!) { customer(id: $id) { lifecycleStage vehicles { vin deliveryDate } } }", json!({"id": customer}))
        .await;
    assert_eq!(cust["customer"]["lifecycleStage"], "NEW_OWNER");
    assert_eq!(
        cust["customer"]["vehicles"][0]["deliveryDate"],
        "2026-11-23"
    );
    // The delivery's work, from the same rules as createVehicle, in the
    // store's time zone: the revisit within 7 days, first service on day 30.
    let t = tasks_about(&m, &customer).await;
    let revisit: Vec<_> = t.iter().filter(|t| t["kind"] == "REVISIT").collect();
    assert_eq!(revisit.len(), 1, "{t:?}");
    assert_eq!(revisit[0]["dueAt"], "2026-11-30T15:59:59+00:00");
    let first_service: Vec<_> = t
        .iter()
        .filter(|t| t["kind"] == "MAINTENANCE_REMINDER")
        .collect();
    assert_eq!(first_service.len(), 1, "{t:?}");
    assert_eq!(first_service[0]["dueAt"], "2026-12-23T15:59:59+00:00");
    assert!(
        t.iter()
            .filter(|t| t["kind"] == "FOLLOW_UP")
            .all(|t| t["status"] != "OPEN"),
        "a won lead has no live follow-ups: {t:?}"
    );
    // The store manager sees the commission; the colleague sees nothing.
    let mo = m
        .data(
            "query($id: ID!) { node(id: $id) { ... on SalesOrder { commissionYuan } } }",
            json!({"id": order}),
        )
        .await;
    assert_eq!(mo["node"]["commissionYuan"], 300);
    let s2 = app.login("cq.sales2").await;
    let so = s2
        .data(
            "query($id: ID!) { node(id: $id) { id } lead(id: $l) { id } }"
                .replace("$l", "$l2")
                .replace("query($id: ID!)", "query($id: ID!, $l2: ID!)")
                .as_str(),
            json!({"id": order, "l2": lead_id}),
        )
        .await;
    assert!(so["node"].is_null() && so["lead"].is_null(), "{so}");
    let adv = app.login("cq.advisor").await;
    let ao = adv
        .data(
            "query($id: ID!) { node(id: $id) { ... on SalesOrder { model commissionYuan } } }",
            json!({"id": order}),
        )
        .await;
    assert_eq!(ao["node"]["model"], "锐界", "store staff see the order");
    assert!(
        ao["node"]["commissionYuan"].is_null(),
        "but not the commission"
    );
    // Performance: own row for the consultant, the store's for the manager.
    let p1 = s1.data("{ salesPerformance(month: \"2026-11\") { staff { username } delivered commissionYuan } }", json!({})).await;
    assert_eq!(
        p1["salesPerformance"],
        json!([{"staff": {"username": "cq.sales1"}, "delivered": 1, "commissionYuan": 300}])
    );
    let pm = m
        .data(
            "{ salesPerformance(month: \"2026-11\") { staff { username } } }",
            json!({}),
        )
        .await;
    assert_eq!(pm["salesPerformance"].as_array().map(|a| a.len()), Some(2));
    let pa = adv
        .q(
            "{ salesPerformance(month: \"2026-11\") { delivered } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::support::error_code(&pa), "FORBIDDEN");
}

#[tokio::test]
async fn a_lead_from_a_known_phone_attaches_to_that_customer() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let adv = app.login("cq.advisor").await;
    let customer = s1.create_customer("陈静", "13922223333", false).await;
    adv.data(
        "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } } }",
        json!({"i": {"ownerId": customer, "vin": valid_vin(77), "brand": "长安福特", "model": "福克斯"}}),
    )
    .await;
    let first = create_lead(
        &s1,
        json!({"mobile": "139 2222 3333", "channel": "PHONE", "interestModel": "锐界"}),
    )
    .await;
    assert_eq!(first["attachedToExisting"], true, "{first}");
    assert_eq!(first["lead"]["customer"]["id"], customer.as_str());
    assert_eq!(
        first["lead"]["customer"]["vehicles"][0]["vin"],
        valid_vin(77)
    );
    let second = create_lead(&s1, json!({"customerId": customer, "channel": "EVENT"})).await;
    let d = s1
        .data("query($id: ID!) { lead(id: $id) { otherLeads { channel } customer { log(first: 20) { edges { node { summary } } } } } }", json!({"id": second["lead"]["id"]}))
        .await;
    assert_eq!(
        d["lead"]["otherLeads"],
        json!([{"channel": "PHONE"}]),
        "the past lead is in view"
    );
    // A colleague's customer: DUPLICATE with who holds them, nothing stored.
    let s2 = app.login("cq.sales2").await;
    let dup = create_lead(&s2, json!({"name": "陈静", "mobile": "13922223333"})).await;
    assert_eq!(codes(&dup), ["DUPLICATE"], "{dup}");
    assert!(dup["userErrors"][0]["heldBy"]
        .as_str()
        .unwrap_or_default()
        .contains("李娜"));
    let n = s2
        .data("{ leads(first: 10) { totalCount } }", json!({}))
        .await;
    assert_eq!(n["leads"]["totalCount"], 0);
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_hook(app: &TestApp, source: &str, signature: &str, body: &str) -> (u16, Value) {
    let r = app
        .http
        .post(format!("{}/hooks/leads", app.base))
        .header("content-type", "application/json")
        .header("x-lead-source", source)
        .header("x-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The lead a 202 named, once the intake worker has made it (moments
/// after the answer).
async fn made_lead(s: &Session<'_>, id: &Value, fields: &str) -> Value {
    let q = format!("query($id: ID!) {{ lead(id: $id) {{ {fields} }} }}");
    for _ in 0..200 {
        let l = s.data(&q, json!({"id": id})).await["lead"].clone();
        if !l.is_null() {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("lead {id} was never made");
}

/// A new webhook source: its id and signing secret.
async fn new_source(m: &Session<'_>, input: Value) -> (String, String) {
    let src = m
        .data(
            "mutation($i: CreateLeadSourceInput!) { createLeadSource(input: $i) { source { id name channel } secret userErrors { code } } }",
            json!({"i": input}),
        )
        .await["createLeadSource"]
        .clone();
    (
        src["source"]["id"].as_str().unwrap().to_string(),
        src["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_webhook_lead_that_cannot_be_made_waits_alone_and_the_batch_goes_on() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let (source, secret) = new_source(&m, json!({"name": "易车"})).await;
    let source_id = api::ids::decode(&source, api::ids::NodeKind::LeadSource).expect("id");
    // A row whose stored body no longer reads (as if written by a broken
    // version), waiting beside the next posted lead.
    use api::clock::Clock;
    let now = app.clock.now();
    entity::lead_intake::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        source_id: Set(source_id),
        external_id: Set("YC-BROKEN".into()),
        body: Set(Some("not a lead".into())),
        state: Set("PENDING".into()),
        attempts: Set(0),
        error: Set(None),
        lead_id: Set(None),
        received_at: Set(now),
        not_before: Set(now),
        processed_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .expect("intake row");
    let body = json!({"externalId": "YC-1", "name": "孙丽", "mobile": "13955556666"}).to_string();
    let (status, r) = post_hook(&app, &source, &sign(&secret, &body), &body).await;
    assert_eq!(status, 202, "{r}");
    let l = made_lead(&m, &r["leadId"], "channel consultant { id }").await;
    assert_eq!(l["channel"], "CAR_PORTAL");
    assert!(l["consultant"].is_null(), "no team: the unassigned queue");
    let broken = "SELECT COUNT(*) FROM lead_intake WHERE external_id = 'YC-BROKEN' AND state = 'PENDING' AND attempts = 1 AND error IS NOT NULL";
    let mut set_aside = 0;
    for _ in 0..200 {
        set_aside = crate::workers::scalar(&app, broken).await;
        if set_aside == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(set_aside, 1, "set aside once");
    // It is tried again later, and given up after the last try.
    for _ in 0..10 {
        app.clock.advance(chrono::Duration::days(1));
        api::sales::intake::drain(&app.state.db, Clock::now(&app.clock), 10)
            .await
            .expect("drain");
    }
    let failed =
        "SELECT COUNT(*) FROM lead_intake WHERE external_id = 'YC-BROKEN' AND state = 'FAILED'";
    assert_eq!(crate::workers::scalar(&app, failed).await, 1);
    let leads = "SELECT COUNT(*) FROM lead";
    assert_eq!(
        crate::workers::scalar(&app, leads).await,
        1,
        "the broken row made nothing"
    );
}

#[tokio::test]
async fn the_webhook_checks_signatures_accepts_a_resend_once_and_deals_leads_in_turn() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let team = m.data("{ myStore { teams { id name } } }", json!({})).await["myStore"]["teams"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "销售一组").cloned())
        .expect("sales team")["id"]
        .clone();
    let (source, secret) = new_source(
        &m,
        json!({"name": "汽车之家", "channel": "CAR_PORTAL", "teamId": team}),
    )
    .await;
    let body = json!({"externalId": "AH-1001", "name": "刘洋", "mobile": "13933334444", "interestModel": "蒙迪欧", "purchaseTiming": "WITHIN_7_DAYS", "campaign": "双十二"}).to_string();
    let (status, r) = post_hook(&app, &source, "sha256=00", &body).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (401, Some("BAD_SIGNATURE"))
    );
    let (status, _) = post_hook(&app, &source, &sign("wrong secret", &body), &body).await;
    assert_eq!(status, 401);
    let (status, first) = post_hook(&app, &source, &sign(&secret, &body), &body).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["duplicate"], false);
    let (status, again) = post_hook(&app, &source, &sign(&secret, &body), &body).await;
    assert_eq!(status, 202);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        again["leadId"], first["leadId"],
        "a resend is the same lead"
    );
    let bad = json!({"externalId": "AH-1002", "name": "赵", "mobile": "12"}).to_string();
    let (status, r) = post_hook(&app, &source, &sign(&secret, &bad), &bad).await;
    assert_eq!(
        (status, r["error"]["field"].as_str()),
        (400, Some("mobile")),
        "{r}"
    );
    let junk = "not json";
    let (status, _) = post_hook(&app, &source, &sign(&secret, junk), junk).await;
    assert_eq!(status, 400);
    // Four more leads: the team's two consultants take turns.
    let mut owners = Vec::new();
    for n in 0..4 {
        let b = json!({"externalId": format!("AH-2{n}"), "name": format!("客户{n}"), "mobile": format!("1394444000{n}")}).to_string();
        let (status, r) = post_hook(&app, &source, &sign(&secret, &b), &b).await;
        assert_eq!(status, 202, "{r}");
        let l = made_lead(
            &m,
            &r["leadId"],
            "channel sourceDetail consultant { username }",
        )
        .await;
        assert_eq!(l["channel"], "CAR_PORTAL");
        assert_eq!(l["sourceDetail"], "汽车之家");
        owners.push(
            l["consultant"]["username"]
                .as_str()
                .unwrap_or("none")
                .to_string(),
        );
    }
    assert_ne!(owners[0], owners[1], "{owners:?}");
    assert_eq!(owners[0], owners[2], "{owners:?}");
    assert_eq!(owners[1], owners[3], "{owners:?}");
    let all = m
        .data(
            "{ leads(first: 50, filter: {channel: CAR_PORTAL}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["leads"]["totalCount"], 5,
        "nothing lost, nothing doubled"
    );
    // The first lead (H, within 7 days) went to a consultant with its
    // first-contact task; it arrived when it was posted.
    let l = made_lead(&m, &first["leadId"], "grade createdAt customer { id }").await;
    assert_eq!(l["grade"], "H");
    assert_eq!(l["createdAt"], "2026-11-23T02:00:00+00:00");
    let t = tasks_about(&m, l["customer"]["id"].as_str().unwrap()).await;
    assert_eq!(t.len(), 1);
    assert!(
        !t[0]["title"].as_str().unwrap_or_default().contains("刘洋"),
        "task texts carry no personal data"
    );
    // The intake keeps no copy of a made lead's name and mobile.
    let kept = "SELECT COUNT(*) FROM lead_intake WHERE body IS NOT NULL OR state <> 'DONE'";
    assert_eq!(crate::workers::scalar(&app, kept).await, 0);
    let rows = "SELECT COUNT(*) FROM lead_intake";
    assert_eq!(crate::workers::scalar(&app, rows).await, 5);

    // A leaked secret is rotated: the old one stops at once, the new one
    // signs; a source turned off is refused like an unknown one.
    const UPDATE: &str = "mutation($i: UpdateLeadSourceInput!) { updateLeadSource(input: $i) { source { active } secret userErrors { code field } } }";
    let r = m
        .data(
            UPDATE,
            json!({"i": {"sourceId": source, "rotateSecret": true}}),
        )
        .await;
    let rotated = r["updateLeadSource"]["secret"]
        .as_str()
        .expect("new secret")
        .to_string();
    assert_ne!(rotated, secret);
    let b = json!({"externalId": "AH-3", "name": "新客", "mobile": "13944445555"}).to_string();
    let (status, _) = post_hook(&app, &source, &sign(&secret, &b), &b).await;
    assert_eq!(status, 401, "the old secret no longer signs");
    let (status, _) = post_hook(&app, &source, &sign(&rotated, &b), &b).await;
    assert_eq!(status, 202);
    let r = m
        .data(UPDATE, json!({"i": {"sourceId": source, "active": false}}))
        .await;
    assert_eq!(r["updateLeadSource"]["source"]["active"], false);
    assert!(
        r["updateLeadSource"]["secret"].is_null(),
        "shown only when new"
    );
    let b = json!({"externalId": "AH-4", "name": "新客", "mobile": "13944445556"}).to_string();
    let (status, _) = post_hook(&app, &source, &sign(&rotated, &b), &b).await;
    assert_eq!(status, 401, "a source turned off is refused");
    let r = m.data(UPDATE, json!({"i": {"sourceId": source}})).await;
    assert_eq!(
        r["updateLeadSource"]["userErrors"][0]["code"], "REQUIRED",
        "{r}"
    );
    let s1 = app.login("cq.sales1").await;
    let r = s1
        .q(UPDATE, json!({"i": {"sourceId": source, "active": true}}))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn ten_concurrent_bookings_of_one_slot_make_exactly_one_test_drive() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let car = demo_car(&m).await;
    let s1 = app.login("cq.sales1").await;
    let s2 = app.login("cq.sales2").await;
    let mut leads = Vec::new();
    for n in 0..10 {
        let s = if n % 2 == 0 { &s1 } else { &s2 };
        let c = create_lead(
            s,
            json!({"name": format!("试驾{n}"), "mobile": format!("1395555000{n}")}),
        )
        .await;
        leads.push((n % 2, c["lead"]["id"].as_str().unwrap().to_string()));
    }
    let tokens = [s1.token.clone(), s2.token.clone()];
    let mut handles = Vec::new();
    for (who, lead) in leads {
        let (http, base, token, car) = (
            app.http.clone(),
            app.base.clone(),
            tokens[who].clone(),
            car.clone(),
        );
        handles.push(tokio::spawn(async move {
            let r: Value = http
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({"query": "mutation($i: BookTestDriveInput!) { bookTestDrive(input: $i) { testDrive { id } userErrors { code } } }",
                    "variables": {"i": {"leadId": lead, "demoCarId": car, "startsAt": "2026-11-24T02:00:00Z", "endsAt": "2026-11-24T03:00:00Z", "licenceNo": "A1234567"}}}))
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            r
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for h in handles {
        let r = h.await.expect("join");
        let p = &r["data"]["bookTestDrive"];
        if p["testDrive"]["id"].is_string() {
            ok += 1;
        } else if codes(p) == ["CONFLICT"] {
            conflicts += 1;
        } else {
            panic!("unexpected answer: {r}");
        }
    }
    assert_eq!((ok, conflicts), (1, 9));
    // An overlapping half hour is refused too; the next hour is free.
    let c = create_lead(&s1, json!({"name": "后来者", "mobile": "13955559999"})).await;
    let lead = c["lead"]["id"].clone();
    let book = |start: &str, end: &str| json!({"i": {"leadId": lead, "demoCarId": car, "startsAt": start, "endsAt": end, "licenceNo": "B7654321"}});
    let q = "mutation($i: BookTestDriveInput!) { bookTestDrive(input: $i) { testDrive { id } userErrors { code } } }";
    let r = s1
        .data(q, book("2026-11-24T02:30:00Z", "2026-11-24T03:15:00Z"))
        .await;
    assert_eq!(codes(&r["bookTestDrive"]), ["CONFLICT"]);
    let r = s1
        .data(q, book("2026-11-24T05:00:00Z", "2026-11-24T06:00:00Z"))
        .await;
    assert!(r["bookTestDrive"]["testDrive"]["id"].is_string(), "{r}");
}

#[tokio::test]
async fn bad_sales_input_is_refused_by_field_and_stores_nothing() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let m = app.login("cq.manager").await;
    let bad_grade = s1
        .q("mutation { createLead(input: {name: \"甲\", mobile: \"13966660000\", grade: X}) { lead { id } } }", json!({}))
        .await;
    assert!(
        bad_grade["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("grade"),
        "{bad_grade}"
    );
    let c = create_lead(&s1, json!({"name": "钱多多", "mobile": "13966661111"})).await;
    let lead = c["lead"]["id"].as_str().unwrap().to_string();
    let car = demo_car(&m).await;
    let r = s1
        .data(
            "mutation($i: BookTestDriveInput!) { bookTestDrive(input: $i) { testDrive { id } userErrors { field code } } }",
            json!({"i": {"leadId": lead, "demoCarId": car, "startsAt": "2026-11-24T02:00:00Z", "endsAt": "2026-11-24T03:00:00Z", "licenceNo": "  "}}),
        )
        .await;
    assert_eq!(
        r["bookTestDrive"]["userErrors"],
        json!([{"field": ["input", "licenceNo"], "code": "REQUIRED"}])
    );
    let mut neg = order_input(&lead);
    neg["priceYuan"] = json!(-1);
    let r = order_op(&s1, "createSalesOrder", "CreateSalesOrderInput", neg).await;
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "priceYuan"]));
    let mut neg = order_input(&lead);
    neg["depositYuan"] = json!(-5);
    let r = order_op(&s1, "createSalesOrder", "CreateSalesOrderInput", neg).await;
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "depositYuan"]));
    assert_eq!(codes(&r), ["OUT_OF_RANGE"]);
    let lost = s1
        .data(
            "mutation($i: MarkLeadLostInput!) { markLeadLost(input: $i) { lead { status lostReason } userErrors { field code } } }",
            json!({"i": {"leadId": lead, "reason": "BOUGHT_COMPETITOR"}}),
        )
        .await;
    assert_eq!(
        lost["markLeadLost"]["userErrors"][0]["field"],
        json!(["input", "competitorBrand"])
    );
    let lost = s1
        .data(
            "mutation($i: MarkLeadLostInput!) { markLeadLost(input: $i) { lead { status lostReason } userErrors { field code } } }",
            json!({"i": {"leadId": lead, "reason": "BOUGHT_COMPETITOR", "competitorBrand": "丰田", "competitorModel": "汉兰达"}}),
        )
        .await;
    assert_eq!(lost["markLeadLost"]["lead"]["status"], "LOST");
    let r = order_op(
        &s1,
        "createSalesOrder",
        "CreateSalesOrderInput",
        order_input(&lead),
    )
    .await;
    assert_eq!(codes(&r), ["CONFLICT"], "no order for a lost lead");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "leadId"]));
    let n = m
        .data("{ salesOrders(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(n["salesOrders"]["totalCount"], 0, "nothing stored");
    // The lost lead's follow-ups are cancelled; the counts say why it was lost.
    let out = m
        .data("{ leadOutcomes(from: \"2026-11-01\", to: \"2026-12-01\", by: LOST_REASON) { key leads lost } }", json!({}))
        .await;
    assert!(
        out["leadOutcomes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "BOUGHT_COMPETITOR" && r["lost"] == 1),
        "{out}"
    );
}

async fn lead_board(m: &Session<'_>) -> Value {
    let store = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    m.data("query($s: ID!) { leadBoard(storeId: $s) { unassigned firstResponseLate byGrade { key count } consultants { staff { username } open c } } }", json!({"s": store})).await["leadBoard"].clone()
}

#[tokio::test]
async fn managers_work_the_unassigned_queue_and_leads_follow_a_consultant_who_leaves() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let c = create_lead(
        &m,
        json!({"name": "无人跟", "mobile": "13977770000", "channel": "WEBSITE"}),
    )
    .await;
    assert!(c["lead"]["consultant"].is_null(), "{c}");
    let lead = c["lead"]["id"].as_str().unwrap().to_string();
    let b = lead_board(&m).await;
    assert_eq!(b["unassigned"], 1);
    app.clock.advance(chrono::Duration::minutes(30));
    let m = app.login("cq.manager").await;
    let q = m.data("{ leads(first: 5, filter: {unassigned: true, firstResponseLate: true}) { totalCount } }", json!({})).await;
    assert_eq!(q["leads"]["totalCount"], 1);
    let sales1 = m.staff_id("cq.sales1").await;
    let a = m
        .data(
            &format!("mutation($i: AssignLeadInput!) {{ assignLead(input: $i) {{ lead {{ {LEAD} }} userErrors {{ code }} }} }}"),
            json!({"i": {"leadId": lead, "consultantId": sales1}}),
        )
        .await;
    assert_eq!(
        a["assignLead"]["lead"]["consultant"]["username"], "cq.sales1",
        "{a}"
    );
    let s1 = app.login("cq.sales1").await;
    let mine = s1
        .data(
            "{ myLeads { open overdue groups { grade leads { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myLeads"]["open"], 1);
    assert_eq!(
        mine["myLeads"]["overdue"], 1,
        "its first contact is late already"
    );
    let b = lead_board(&m).await;
    assert_eq!(b["unassigned"], 0);
    assert_eq!(b["consultants"][0]["staff"]["username"], "cq.sales1");
    // cq.sales1 leaves: the lead, its customer and its work go to cq.sales2.
    let sales2 = m.staff_id("cq.sales2").await;
    let d = m
        .data(
            "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { code } } }",
            json!({"i": {"staffId": sales1, "reassignToId": sales2}}),
        )
        .await;
    assert_eq!(d["deactivateStaff"]["userErrors"], json!([]));
    let s2 = app.login("cq.sales2").await;
    let l = s2
        .data(
            "query($id: ID!) { lead(id: $id) { consultant { username } } }",
            json!({"id": lead}),
        )
        .await;
    assert_eq!(l["lead"]["consultant"]["username"], "cq.sales2");
}

#[tokio::test]
async fn a_merged_customer_brings_their_leads_to_the_survivor() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let s1 = app.login("cq.sales1").await;
    let s2 = app.login("cq.sales2").await;
    // Sales 1 holds the customer; Sales 2 took a lead on a duplicate record.
    let survivor = s1.create_customer("孙丽", "13988880000", false).await;
    let c = create_lead(
        &s2,
        json!({"name": "孙丽(重复)", "mobile": "13988880001", "interestModel": "锐界"}),
    )
    .await;
    let lead = c["lead"]["id"].as_str().unwrap().to_string();
    let r = m
        .data(
            "mutation($i: MergeCustomersInput!) { mergeCustomers(input: $i) { customer { id } userErrors { code message } } }",
            json!({"i": {"survivorId": survivor, "mergedId": c["lead"]["customer"]["id"]}}),
        )
        .await;
    assert_eq!(r["mergeCustomers"]["userErrors"], json!([]), "{r}");
    let l = m
        .data("query($id: ID!, $c: ID!) { lead(id: $id) { customer { id } consultant { username } } leads(first: 5, filter: {customerId: $c}) { totalCount } }", json!({"id": lead, "c": survivor}))
        .await;
    assert_eq!(l["lead"]["customer"]["id"], survivor.as_str());
    assert_eq!(
        l["leads"]["totalCount"], 1,
        "the survivor's leads list shows it"
    );
    // One customer, one consultant: the open lead and its work go to the
    // survivor's consultant, who sees them.
    assert_eq!(l["lead"]["consultant"]["username"], "cq.sales1");
    let mine = s1.data("{ myLeads { open } }", json!({})).await;
    assert_eq!(mine["myLeads"]["open"], 1, "{mine}");
    let t = tasks_about(&s1, &survivor).await;
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0]["assignee"]["username"], "cq.sales1", "{t:?}");
}
