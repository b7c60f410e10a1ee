//! After-sales end to end: appointments, repair orders from check-in to
//! hand-back, the work a closed visit hands the engine, the predicted next
//! service, warranty claims with the OEM, and who may see what.
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app, valid_vin, Session};

const CAR: &str = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } userErrors { code message } } }";
const OPEN: &str = "mutation($i: OpenRepairOrderInput!) { openRepairOrder(input: $i) { order { id status mileageIn advisor { username } warrantyCoverage { status } } userErrors { field code message } } }";
const UPDATE: &str = "mutation($i: UpdateRepairOrderInput!) { updateRepairOrder(input: $i) { order { labourFen partsFen totalFen warrantyFen customerFen jobs { hours amountFen } parts { partNo amountFen } } userErrors { field code message } } }";
const STATUS: &str = "mutation($i: SetRepairOrderStatusInput!) { setRepairOrderStatus(input: $i) { order { status } userErrors { code message } } }";
const DELIVER: &str = "mutation($i: DeliverRepairOrderInput!) { deliverRepairOrder(input: $i) { order { status paidFen receivableFen fixedFirstTime } userErrors { field code message } } }";
const FORECAST: &str = "query($v: ID!) { serviceForecast(vehicleId: $v) { dueOn dueKm basis dailyKm lastServiceOn services } }";
pub(crate) const TASKS: &str = "query($c: ID!) { tasks(first: 50, filter: {customerId: $c}) { edges { node { kind title status dueAt queue } } } }";
const CLAIM: &str = "mutation($i: FileWarrantyClaimInput!) { fileWarrantyClaim(input: $i) { claim { id status fileBy totalFen late } userErrors { field code message } } }";
const STEP: &str = "mutation($i: AdvanceWarrantyClaimInput!) { advanceWarrantyClaim(input: $i) { claim { status late trackingNo paidFen customer { name } vehicle { vin } } userErrors { field code message } } }";

pub(crate) async fn car(s: &Session<'_>, owner: &str, n: u32, delivered: &str, km: i32) -> String {
    let r = s
        .data(CAR, json!({"i": {"ownerId": owner, "vin": valid_vin(n), "brand": "长安福特", "model": "蒙迪欧", "deliveryDate": delivered, "mileageKm": km}}))
        .await;
    r["createVehicle"]["vehicle"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("vehicle: {r}"))
        .to_string()
}

pub(crate) async fn open(s: &Session<'_>, vehicle: &str, kind: &str, km: i32) -> String {
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": vehicle, "kind": kind, "mileageIn": km, "complaint": "保养，顺便看看刹车异响"}}))
        .await;
    r["openRepairOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("order: {r}"))
        .to_string()
}

/// Records one job and one part, finishes the work and hands the car back.
pub(crate) async fn finish(s: &Session<'_>, order: &str, under_warranty: bool, paid: i64) -> Value {
    let r = s
        .data(UPDATE, json!({"i": {"orderId": order, "diagnosis": "机油到期", "jobs": [{"description": "更换机油机滤", "hours": 1.5, "rateFen": 12000, "underWarranty": under_warranty}], "parts": [{"partNo": "FL-820S", "name": "机油滤清器", "quantity": 2, "unitPriceFen": 4550, "underWarranty": under_warranty}]}}))
        .await;
    assert_eq!(r["updateRepairOrder"]["userErrors"], json!([]), "{r}");
    for st in ["IN_PROGRESS", "DONE"] {
        let r = s
            .data(STATUS, json!({"i": {"orderId": order, "status": st}}))
            .await;
        assert_eq!(r["setRepairOrderStatus"]["order"]["status"], st, "{r}");
    }
    let method = if paid > 0 {
        json!("WECHAT")
    } else {
        Value::Null
    };
    s.data(
        DELIVER,
        json!({"i": {"orderId": order, "paidFen": paid, "paymentMethod": method}}),
    )
    .await["deliverRepairOrder"]
        .clone()
}

pub(crate) fn task<'a>(tasks: &'a Value, kind: &str, title_part: &str) -> Option<&'a Value> {
    tasks["tasks"]["edges"].as_array().and_then(|e| {
        e.iter().map(|e| &e["node"]).find(|n| {
            n["kind"] == kind && n["title"].as_str().unwrap_or_default().contains(title_part)
        })
    })
}

#[tokio::test]
async fn a_closed_visit_writes_the_history_hands_out_its_revisit_and_readings_move_the_next_service(
) {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("钱进", "13900001111", false).await;
    // Delivered on 1 November, 3,000 km by today (23 November): at 136 km
    // a day the free first service's 5,000 km come on 8 December.
    let v = car(&s, &owner, 201, "2026-11-01", 3000).await;
    let f = s.data(FORECAST, json!({"v": v})).await;
    assert_eq!(
        f["serviceForecast"],
        json!({"dueOn": "2026-12-08", "dueKm": 5000, "basis": "MILEAGE", "dailyKm": 136.363, "lastServiceOn": null, "services": 0})
    );
    let due = s
        .data(
            "{ vehiclesDueForService(withinDays: 30) { edges { node { dueOn vehicle { vin } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        due["vehiclesDueForService"]["edges"][0]["node"],
        json!({"dueOn": "2026-12-08", "vehicle": {"vin": valid_vin(201)}})
    );

    let ro = open(&s, &v, "FIRST_SERVICE", 3200).await;
    let closed = finish(&s, &ro, false, 27_100).await;
    assert_eq!(closed["userErrors"], json!([]), "{closed}");
    assert_eq!(
        closed["order"],
        json!({"status": "DELIVERED", "paidFen": 27100, "receivableFen": 0, "fixedFirstTime": true})
    );
    // The history and the customer's log have the visit.
    let h = s
        .data(
            "query($v: ID!) { serviceHistory(vehicleId: $v, first: 5) { totalCount edges { node { kind mileageIn totalFen complaint } } } }",
            json!({"v": v}),
        )
        .await;
    assert_eq!(h["serviceHistory"]["totalCount"], 1);
    assert_eq!(
        h["serviceHistory"]["edges"][0]["node"],
        json!({"kind": "FIRST_SERVICE", "mileageIn": 3200, "totalFen": 27100, "complaint": "保养，顺便看看刹车异响"})
    );
    let log = s
        .data(
            "query($c: ID!) { customer(id: $c) { log(first: 3) { edges { node { kind summary } } } } }",
            json!({"c": owner}),
        )
        .await;
    assert_eq!(log["customer"]["log"]["edges"][0]["node"]["kind"], "REPAIR");
    // The engine: a revisit within 3 days for care, the first-service
    // reminder done, and the next service at 8,200 km, which 145 km a day
    // reach on 28 December: its reminder 14 days before.
    let m = app.login("cq.manager").await;
    let t = m.data(TASKS, json!({"c": owner})).await;
    let revisit = task(&t, "REVISIT", "维修回访").expect("service revisit");
    assert_eq!(
        (&revisit["dueAt"], &revisit["queue"]),
        (&json!("2026-11-26T15:59:59+00:00"), &json!("CARE_AGENT"))
    );
    let first = task(&t, "MAINTENANCE_REMINDER", "首保").expect("first service reminder");
    assert_eq!(first["status"], "DONE");
    let next = task(&t, "MAINTENANCE_REMINDER", "保养提醒").expect("next reminder");
    assert_eq!(next["dueAt"], "2026-12-14T15:59:59+00:00");
    let f = s.data(FORECAST, json!({"v": v})).await;
    assert_eq!(
        (
            &f["serviceForecast"]["dueOn"],
            &f["serviceForecast"]["basis"],
            &f["serviceForecast"]["lastServiceOn"]
        ),
        (
            &json!("2026-12-28"),
            &json!("MILEAGE"),
            &json!("2026-11-23")
        )
    );
    // Ten days later the car has done 5,000 km: at 156 km a day 8,200 come
    // on 24 December, so the service and its reminder move forward.
    app.clock.advance(Duration::days(10));
    let s = app.login("cq.advisor").await;
    let r = s
        .data(
            "mutation($i: RecordMileageInput!) { recordMileage(input: $i) { userErrors { code } } }",
            json!({"i": {"vehicleId": v, "km": 5000}}),
        )
        .await;
    assert_eq!(r["recordMileage"]["userErrors"], json!([]));
    let f = s.data(FORECAST, json!({"v": v})).await;
    assert_eq!(
        (
            &f["serviceForecast"]["dueOn"],
            &f["serviceForecast"]["basis"]
        ),
        (&json!("2026-12-24"), &json!("MILEAGE"))
    );
    let m = app.login("cq.manager").await;
    let t = m.data(TASKS, json!({"c": owner})).await;
    let next = task(&t, "MAINTENANCE_REMINDER", "保养提醒").expect("next reminder");
    assert_eq!(next["dueAt"], "2026-12-10T15:59:59+00:00");
}

#[tokio::test]
async fn a_comeback_marks_the_first_visit_not_fixed_first_time() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("孙立", "13900002222", false).await;
    let v = car(&s, &owner, 202, "2025-06-01", 20000).await;
    let first = open(&s, &v, "REPAIR", 20100).await;
    finish(&s, &first, false, 0).await;
    app.clock.advance(Duration::days(5));
    let s = app.login("cq.advisor").await;
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": v, "kind": "REPAIR", "mileageIn": 20400, "complaint": "刹车还是响", "repeatOfId": first}}))
        .await;
    let second = r["openRepairOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!second.is_empty(), "{r}");
    let closed = finish(&s, &second, false, 27_100).await;
    assert_eq!(closed["order"]["fixedFirstTime"], true);
    let q = s
        .data(
            "query($id: ID!) { repairOrder(id: $id) { fixedFirstTime } serviceMonth(month: \"2026-11\") { carEntries delivered revenueFen receivableFen firstTimeFixRate } }",
            json!({"id": first}),
        )
        .await;
    assert_eq!(q["repairOrder"]["fixedFirstTime"], false);
    assert_eq!(
        q["serviceMonth"],
        json!({"carEntries": 2, "delivered": 2, "revenueFen": 54200, "receivableFen": 27100, "firstTimeFixRate": 0.5})
    );
    // A visit of another car cannot be come back to.
    let other = car(&s, &owner, 203, "2025-06-01", 100).await;
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": other, "kind": "REPAIR", "mileageIn": 200, "complaint": "异响", "repeatOfId": first}}))
        .await;
    assert_eq!(codes(&r["openRepairOrder"]), vec!["NOT_FOUND"], "{r}");
}

#[tokio::test]
async fn a_claim_filed_on_day_11_is_late_and_the_oem_approval_creates_its_revisit() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("李华", "13900003333", false).await;
    let v = car(&s, &owner, 204, "2026-01-10", 20000).await;
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": v, "kind": "WARRANTY", "mileageIn": 20100, "complaint": "水泵漏水"}}))
        .await;
    assert_eq!(
        r["openRepairOrder"]["order"]["warrantyCoverage"]["status"], "COVERED",
        "{r}"
    );
    let ro = r["openRepairOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let closed = finish(&s, &ro, true, 0).await;
    assert_eq!(closed["order"]["receivableFen"], 0, "{closed}");
    // The clerk's filing deadline: ten days.
    let m = app.login("cq.manager").await;
    let t = m.data(TASKS, json!({"c": owner})).await;
    let deadline = task(&t, "CLAIM_DEADLINE", "索赔").expect("claim deadline");
    assert_eq!(
        (&deadline["dueAt"], &deadline["queue"]),
        (
            &json!("2026-12-03T15:59:59+00:00"),
            &json!("WARRANTY_CLERK")
        )
    );
    app.clock.advance(Duration::days(11));
    let w = app.login("cq.warranty").await;
    let r = w
        .data(CLAIM, json!({"i": {"repairOrderId": ro, "failedPart": "水泵总成 1S7G-8591", "cause": "水封老化渗漏"}}))
        .await;
    let claim = &r["fileWarrantyClaim"]["claim"];
    assert_eq!(
        (&claim["status"], &claim["fileBy"], &claim["totalFen"]),
        (&json!("DRAFT"), &json!("2026-12-03"), &json!(27100)),
        "{r}"
    );
    let id = claim["id"].clone();
    // A second claim on the same order is a duplicate.
    let again = w
        .data(
            CLAIM,
            json!({"i": {"repairOrderId": ro, "failedPart": "水泵", "cause": "渗漏"}}),
        )
        .await;
    assert_eq!(codes(&again["fileWarrantyClaim"]), vec!["DUPLICATE"]);
    let r = w
        .data(STEP, json!({"i": {"claimId": id, "status": "SUBMITTED"}}))
        .await;
    assert_eq!(
        (
            &r["advanceWarrantyClaim"]["claim"]["status"],
            &r["advanceWarrantyClaim"]["claim"]["late"]
        ),
        (&json!("SUBMITTED"), &json!(true)),
        "{r}"
    );
    let r = w
        .data(
            STEP,
            json!({"i": {"claimId": id, "status": "PART_SHIPPED"}}),
        )
        .await;
    assert_eq!(codes(&r["advanceWarrantyClaim"]), vec!["REQUIRED"]);
    w.data(
        STEP,
        json!({"i": {"claimId": id, "status": "PART_SHIPPED", "trackingNo": "SF1234567890"}}),
    )
    .await;
    // The store cannot approve its own claim; the OEM can, across stores,
    // without seeing the customer (no sharing consent).
    let r = w
        .q(STEP, json!({"i": {"claimId": id, "status": "APPROVED"}}))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let oem = app.login("oem.staff").await;
    let list = oem
        .data(
            "{ warrantyClaims(first: 10) { edges { node { status failedPart store { code } customer { name } vehicle { vin } repairOrder { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["warrantyClaims"]["edges"][0]["node"],
        json!({"status": "PART_SHIPPED", "failedPart": "水泵总成 1S7G-8591", "store": {"code": "CQ001"}, "customer": null, "vehicle": null, "repairOrder": null})
    );
    for st in ["PART_RECEIVED", "APPROVED"] {
        let r = oem
            .data(STEP, json!({"i": {"claimId": id, "status": st}}))
            .await;
        assert_eq!(r["advanceWarrantyClaim"]["claim"]["status"], st, "{r}");
    }
    let r = oem
        .data(
            STEP,
            json!({"i": {"claimId": id, "status": "PAID", "paidFen": 99999999}}),
        )
        .await;
    assert_eq!(codes(&r["advanceWarrantyClaim"]), vec!["OUT_OF_RANGE"]);
    let r = oem
        .data(
            STEP,
            json!({"i": {"claimId": id, "status": "PAID", "paidFen": 27100}}),
        )
        .await;
    assert_eq!(r["advanceWarrantyClaim"]["claim"]["paidFen"], 27100, "{r}");
    // The OEM's revisit of the customer is in its staff member's day; its
    // title shows only the kind, as the customer did not consent to sharing.
    let mine = oem
        .data(
            "{ myDay(upcomingDays: 10) { upcoming { title kind dueAt customer { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["myDay"]["upcoming"],
        json!([{"title": "回访", "kind": "REVISIT", "dueAt": "2026-12-11T15:59:59+00:00", "customer": null}]),
        "{mine}"
    );
    let m = app.login("cq.manager").await;
    let t = m.data(TASKS, json!({"c": owner})).await;
    assert!(task(&t, "REVISIT", "厂家索赔回访").is_some(), "{t}");
    let filed = task(&t, "CLAIM_DEADLINE", "索赔").expect("claim deadline");
    assert_eq!(filed["status"], "DONE");
}

#[tokio::test]
async fn claims_need_warranty_work_on_a_covered_car_up_to_exactly_100000_km() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let w = app.login("cq.warranty").await;
    let owner = s.create_customer("赵六", "13900004444", false).await;
    let claim = |ro: String| {
        let w = &w;
        async move {
            w.data(
                CLAIM,
                json!({"i": {"repairOrderId": ro, "failedPart": "变速箱", "cause": "异响"}}),
            )
            .await["fileWarrantyClaim"]
                .clone()
        }
    };
    // Exactly 100,000 km is covered; 100,001 is not.
    let edge = car(&s, &owner, 205, "2025-01-01", 99000).await;
    let ro = open(&s, &edge, "WARRANTY", 100_000).await;
    finish(&s, &ro, true, 0).await;
    assert_eq!(claim(ro).await["claim"]["status"], "DRAFT");
    let over = car(&s, &owner, 206, "2025-01-01", 99000).await;
    let ro = open(&s, &over, "WARRANTY", 100_001).await;
    finish(&s, &ro, true, 0).await;
    let r = claim(ro).await;
    assert_eq!(codes(&r), vec!["NOT_COVERED"], "{r}");
    // Three years to the day after delivery the car is out of warranty.
    let old = car(&s, &owner, 207, "2023-11-23", 50000).await;
    let ro = open(&s, &old, "WARRANTY", 50100).await;
    finish(&s, &ro, true, 0).await;
    assert_eq!(codes(&claim(ro).await), vec!["NOT_COVERED"]);
    // A paid repair has nothing to claim.
    let ro = open(&s, &edge, "REPAIR", 100_100).await;
    finish(&s, &ro, false, 27_100).await;
    assert_eq!(codes(&claim(ro).await), vec!["NOT_COVERED"]);
    let n = crate::workers::scalar(&app, "SELECT COUNT(*) FROM warranty_claim").await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn bad_input_is_refused_by_name_and_keeps_what_was_stored() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("周七", "13900005555", false).await;
    let v = car(&s, &owner, 208, "2025-06-01", 30000).await;
    // The odometer cannot run back, unless flagged as a correction.
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": v, "kind": "MAINTENANCE", "mileageIn": 29000, "complaint": "保养"}}))
        .await;
    assert_eq!(
        r["openRepairOrder"]["userErrors"][0]["field"],
        json!(["input", "mileageIn"]),
        "{r}"
    );
    assert_eq!(
        crate::workers::scalar(&app, "SELECT COUNT(*) FROM repair_order").await,
        0
    );
    let r = s
        .data(OPEN, json!({"i": {"vehicleId": v, "kind": "MAINTENANCE", "mileageIn": 29000, "mileageCorrection": true, "complaint": "保养"}}))
        .await;
    let ro = r["openRepairOrder"]["order"]["id"].clone();
    assert!(ro.is_string(), "{r}");
    let ok = s
        .data(UPDATE, json!({"i": {"orderId": ro, "parts": [{"partNo": "P1", "name": "机滤", "quantity": 1, "unitPriceFen": 5000}]}}))
        .await;
    assert_eq!(ok["updateRepairOrder"]["order"]["partsFen"], 5000);
    for (line, field) in [
        (
            json!({"parts": [{"partNo": "P1", "name": "机滤", "quantity": -1, "unitPriceFen": 5000}]}),
            json!(["input", "parts", "0", "quantity"]),
        ),
        (
            json!({"parts": [{"partNo": "P1", "name": "机滤", "quantity": 1, "unitPriceFen": -5}]}),
            json!(["input", "parts", "0", "unitPriceFen"]),
        ),
        (
            json!({"jobs": [{"description": "工时", "hours": 0, "rateFen": 100}]}),
            json!(["input", "jobs", "0", "hours"]),
        ),
        (
            json!({"jobs": [{"description": "工时", "hours": 1, "rateFen": -100}]}),
            json!(["input", "jobs", "0", "rateFen"]),
        ),
    ] {
        let mut i = line.clone();
        i["orderId"] = ro.clone();
        let r = s.data(UPDATE, json!({"i": i})).await;
        assert_eq!(
            r["updateRepairOrder"]["userErrors"][0]["field"], field,
            "{r}"
        );
        assert_eq!(
            r["updateRepairOrder"]["userErrors"][0]["code"],
            "OUT_OF_RANGE"
        );
    }
    let kept = s
        .data(
            "query($id: ID!) { repairOrder(id: $id) { partsFen parts { quantity } } }",
            json!({"id": ro}),
        )
        .await;
    assert_eq!(
        kept["repairOrder"],
        json!({"partsFen": 5000, "parts": [{"quantity": 1}]})
    );
    // Not finished: it cannot be handed back; paying more than owed fails.
    let r = s
        .data(
            DELIVER,
            json!({"i": {"orderId": ro, "paidFen": 100, "paymentMethod": "CASH"}}),
        )
        .await;
    assert_eq!(codes(&r["deliverRepairOrder"]), vec!["CONFLICT"]);
    for st in ["IN_PROGRESS", "DONE"] {
        s.data(STATUS, json!({"i": {"orderId": ro, "status": st}}))
            .await;
    }
    let r = s
        .data(
            DELIVER,
            json!({"i": {"orderId": ro, "paidFen": 5001, "paymentMethod": "CASH"}}),
        )
        .await;
    assert_eq!(codes(&r["deliverRepairOrder"]), vec!["OUT_OF_RANGE"]);
    let r = s
        .data(DELIVER, json!({"i": {"orderId": ro, "paidFen": 1000}}))
        .await;
    assert_eq!(codes(&r["deliverRepairOrder"]), vec!["REQUIRED"]);
    // Left on account, then collected.
    let r = s
        .data(
            DELIVER,
            json!({"i": {"orderId": ro, "paidFen": 1000, "paymentMethod": "CASH"}}),
        )
        .await;
    assert_eq!(
        r["deliverRepairOrder"]["order"]["receivableFen"], 4000,
        "{r}"
    );
    let r = s
        .data(
            "mutation($i: RecordRepairPaymentInput!) { recordRepairPayment(input: $i) { order { receivableFen } userErrors { code } } }",
            json!({"i": {"orderId": ro, "amountFen": 4000, "paymentMethod": "ALIPAY"}}),
        )
        .await;
    assert_eq!(r["recordRepairPayment"]["order"]["receivableFen"], 0, "{r}");
}

#[tokio::test]
async fn an_advisor_is_never_booked_twice_and_check_in_opens_the_order() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    let s = app.login("cq.advisor").await;
    let advisor = s.staff_id("cq.advisor").await;
    let owner = s.create_customer("吴九", "13900006666", false).await;
    let v = car(&s, &owner, 209, "2025-06-01", 8000).await;
    const BOOK: &str = "mutation($i: BookServiceInput!) { bookService(input: $i) { appointment { id status advisor { username } } userErrors { field code message } } }";
    let r = care
        .data(BOOK, json!({"i": {"vehicleId": v, "advisorId": advisor, "source": "REMINDER", "startsAt": "2026-11-24T02:00:00Z", "endsAt": "2026-11-24T03:00:00Z", "concern": "一万公里保养"}}))
        .await;
    let a = r["bookService"]["appointment"]["id"].clone();
    assert_eq!(
        r["bookService"]["appointment"]["advisor"]["username"], "cq.advisor",
        "{r}"
    );
    let clash = care
        .data(BOOK, json!({"i": {"vehicleId": v, "advisorId": advisor, "source": "PHONE", "startsAt": "2026-11-24T02:30:00Z", "endsAt": "2026-11-24T03:30:00Z"}}))
        .await;
    assert_eq!(codes(&clash["bookService"]), vec!["CONFLICT"], "{clash}");
    let odd = care
        .data(BOOK, json!({"i": {"vehicleId": v, "advisorId": advisor, "source": "PHONE", "startsAt": "2026-11-24T02:10:00Z", "endsAt": "2026-11-24T03:00:00Z"}}))
        .await;
    assert_eq!(codes(&odd["bookService"]), vec!["INVALID"]);
    // Right after it, the advisor is free.
    let next = care
        .data(BOOK, json!({"i": {"vehicleId": v, "advisorId": advisor, "source": "PHONE", "startsAt": "2026-11-24T03:00:00Z", "endsAt": "2026-11-24T03:30:00Z"}}))
        .await;
    assert_eq!(next["bookService"]["userErrors"], json!([]), "{next}");
    // Check-in by the manager opens the order for the booked advisor.
    let m = app.login("cq.manager").await;
    let r = m
        .data(OPEN, json!({"i": {"appointmentId": a, "kind": "MAINTENANCE", "mileageIn": 10000, "complaint": "一万公里保养"}}))
        .await;
    assert_eq!(
        r["openRepairOrder"]["order"]["advisor"]["username"], "cq.advisor",
        "{r}"
    );
    let q = m
        .data(
            "query($id: ID!) { node(id: $id) { ... on ServiceAppointment { status repairOrder { mileageIn } } } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(
        q["node"],
        json!({"status": "CHECKED_IN", "repairOrder": {"mileageIn": 10000}})
    );
    let again = m
        .data(OPEN, json!({"i": {"appointmentId": a, "kind": "MAINTENANCE", "mileageIn": 10000, "complaint": "再来"}}))
        .await;
    assert_eq!(codes(&again["openRepairOrder"]), vec!["CONFLICT"]);
}

#[tokio::test]
async fn a_service_advisor_of_another_store_cannot_open_or_change_a_repair_order() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("郑十", "13900007777", false).await;
    let v = car(&s, &owner, 210, "2025-06-01", 8000).await;
    let ro = open(&s, &v, "MAINTENANCE", 9000).await;
    let cd = app.login("cd.advisor").await;
    let r = cd
        .data(
            "query($id: ID!) { repairOrder(id: $id) { id } node(id: $id) { id } }",
            json!({"id": ro}),
        )
        .await;
    assert_eq!(
        (&r["repairOrder"], &r["node"]),
        (&Value::Null, &Value::Null)
    );
    let r = cd
        .data(UPDATE, json!({"i": {"orderId": ro, "diagnosis": "改一下"}}))
        .await;
    assert_eq!(codes(&r["updateRepairOrder"]), vec!["NOT_FOUND"]);
    let r = cd
        .data(
            OPEN,
            json!({"i": {"vehicleId": v, "kind": "REPAIR", "mileageIn": 9100, "complaint": "x"}}),
        )
        .await;
    assert_eq!(codes(&r["openRepairOrder"]), vec!["NOT_FOUND"]);
    let list = cd
        .data(
            "{ repairOrders(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["repairOrders"]["edges"], json!([]));
    // A sales consultant does not work the workshop.
    let sales = app.login("cq.sales1").await;
    let r = sales
        .q(
            OPEN,
            json!({"i": {"vehicleId": v, "kind": "REPAIR", "mileageIn": 9100, "complaint": "x"}}),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn a_nightly_batch_of_readings_is_recorded_line_by_line_and_moves_the_next_services() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("冯一", "13900008888", false).await;
    let a = car(&s, &owner, 211, "2026-11-01", 3000).await;
    let b = car(&s, &owner, 212, "2026-11-01", 2000).await;
    let before = s.data(FORECAST, json!({"v": a})).await["serviceForecast"]["dueOn"].clone();
    assert_eq!(before, "2026-12-08");
    const IMPORT: &str = "mutation($i: RecordMileageReadingsInput!) { recordMileageReadings(input: $i) { recorded userErrors { field code } } }";
    let r = s
        .data(
            IMPORT,
            json!({"i": {"readings": [
                {"vin": valid_vin(211), "km": 4900},
                {"vin": valid_vin(212), "km": 1000},
                {"vin": valid_vin(213), "km": 1000},
                {"vin": "NOT-A-VIN", "km": 1000},
                {"vin": valid_vin(212), "km": 2500, "readOn": "2026-11-20"},
            ]}}),
        )
        .await;
    assert_eq!(r["recordMileageReadings"]["recorded"], 1, "{r}");
    assert_eq!(
        r["recordMileageReadings"]["userErrors"],
        json!([
            {"field": ["input", "readings", "1", "km"], "code": "OUT_OF_RANGE"},
            {"field": ["input", "readings", "2", "vin"], "code": "NOT_FOUND"},
            {"field": ["input", "readings", "3", "vin"], "code": "INVALID_VIN"},
            {"field": ["input", "readings", "4", "km"], "code": "OUT_OF_RANGE"},
        ])
    );
    // The pass beside the server re-predicts the car read: 4,900 km in 22
    // days reaches 5,000 km tomorrow.
    let mut due = Value::Null;
    for _ in 0..50 {
        due = s.data(FORECAST, json!({"v": a})).await["serviceForecast"]["dueOn"].clone();
        if due != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(due, "2026-11-24");
    let n = api::customers::forecast::repredict_stale(&app.state.db, app.state.clock.now(), 10)
        .await
        .expect("pass");
    assert_eq!(n, 0, "every stale forecast was taken once");
    let other = s.data(FORECAST, json!({"v": b})).await;
    assert_eq!(other["serviceForecast"]["dueKm"], 5000);
    // A consultant does not import readings.
    let sales = app.login("cq.sales1").await;
    let r = sales.q(IMPORT, json!({"i": {"readings": []}})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn a_recall_list_reaches_each_store_with_only_its_own_cars_and_tracks_completion() {
    let app = spawn_app().await;
    let cq = app.login("cq.advisor").await;
    let cd = app.login("cd.advisor").await;
    let a = cq.create_customer("召回车主甲", "13900009991", false).await;
    let b = cd.create_customer("召回车主乙", "13900009992", false).await;
    car(&cq, &a, 220, "2025-03-01", 15000).await;
    car(&cd, &b, 221, "2025-03-01", 18000).await;
    let oem = app.login("oem.staff").await;
    const CREATE: &str = "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { affected campaign { id code kind } userErrors { field code } } }";
    let list = format!(
        "{}\n{}, {}\nXYZ",
        valid_vin(220),
        valid_vin(221),
        valid_vin(222)
    );
    let r = oem
        .data(CREATE, json!({"i": {"code": "24S31", "title": "燃油泵更换", "kind": "RECALL", "startsOn": "2026-11-23", "vins": list}}))
        .await;
    let c = &r["createCampaign"];
    assert_eq!(c["affected"], 2, "{r}");
    assert_eq!(
        c["userErrors"],
        json!([
            {"field": ["input", "vins", "1"], "code": "NOT_FOUND"},
            {"field": ["input", "vins", "2"], "code": "INVALID_VIN"},
        ])
    );
    let campaign = c["campaign"]["id"].clone();
    // The same code again is a duplicate; a CSV file is read by its column.
    let again = oem
        .data(CREATE, json!({"i": {"code": "24S31", "title": "x", "kind": "RECALL", "startsOn": "2026-11-23", "vins": valid_vin(220)}}))
        .await;
    assert_eq!(codes(&again["createCampaign"]), vec!["DUPLICATE"]);
    let csv = format!("车型,VIN\n锐界,{}\n", valid_vin(221));
    let r = oem
        .data(CREATE, json!({"i": {"code": "24C02", "title": "空调滤芯免费更换", "kind": "SERVICE_CAMPAIGN", "startsOn": "2026-11-23", "vins": csv}}))
        .await;
    assert_eq!(r["createCampaign"]["affected"], 1, "{r}");
    // Each store sees its own car only.
    const CARS: &str = "query($id: ID!) { node(id: $id) { ... on Campaign { progress { store { code } affected } vehicles(first: 10) { edges { node { status vehicle { vin owner { name } } } } } } } }";
    let seen = cq.data(CARS, json!({"id": campaign})).await;
    assert_eq!(
        seen["node"]["vehicles"]["edges"],
        json!([{"node": {"status": "AFFECTED", "vehicle": {"vin": valid_vin(220), "owner": {"name": "召回车主甲"}}}}])
    );
    assert_eq!(
        seen["node"]["progress"],
        json!([{"store": {"code": "CQ001"}, "affected": 1}])
    );
    let seen = cd.data(CARS, json!({"id": campaign})).await;
    assert_eq!(
        seen["node"]["vehicles"]["edges"][0]["node"]["vehicle"]["vin"],
        valid_vin(221)
    );
    assert_eq!(
        seen["node"]["vehicles"]["edges"].as_array().map(Vec::len),
        Some(1)
    );
    // The advisors have a contact task per car.
    let m = app.login("cq.manager").await;
    let t = m.data(TASKS, json!({"c": a})).await;
    let contact = task(&t, "CAMPAIGN_CONTACT", "召回：燃油泵更换").expect("contact task");
    assert_eq!(contact["queue"], "SERVICE_ADVISOR");
    // Booked in for the recall, checked in and handed back: done.
    const BOOK: &str = "mutation($i: BookServiceInput!) { bookService(input: $i) { appointment { id source } userErrors { code } } }";
    let v = cq
        .data(
            "query($vin: String!) { vehicleByVin(vin: $vin) { id } }",
            json!({"vin": valid_vin(220)}),
        )
        .await["vehicleByVin"]["id"]
        .clone();
    let r = cq
        .data(BOOK, json!({"i": {"vehicleId": v, "source": "PHONE", "campaignId": campaign, "startsAt": "2026-11-24T02:00:00Z", "endsAt": "2026-11-24T03:00:00Z"}}))
        .await;
    assert_eq!(r["bookService"]["appointment"]["source"], "CAMPAIGN", "{r}");
    let appointment = r["bookService"]["appointment"]["id"].clone();
    let t = m.data(TASKS, json!({"c": a})).await;
    assert_eq!(
        task(&t, "CAMPAIGN_CONTACT", "燃油泵").map(|t| t["status"].clone()),
        Some(json!("DONE"))
    );
    let r = cq
        .data(OPEN, json!({"i": {"appointmentId": appointment, "kind": "RECALL", "mileageIn": 15100, "complaint": "召回：更换燃油泵"}}))
        .await;
    let ro = r["openRepairOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!ro.is_empty(), "{r}");
    finish(&cq, &ro, true, 0).await;
    let progress = oem
        .data(
            "query($id: ID!) { node(id: $id) { ... on Campaign { progress { store { code } affected booked done completionRate } } } }",
            json!({"id": campaign}),
        )
        .await;
    assert_eq!(
        progress["node"]["progress"],
        json!([
            {"store": {"code": "CQ001"}, "affected": 1, "booked": 0, "done": 1, "completionRate": 1.0},
            {"store": {"code": "CD002"}, "affected": 1, "booked": 0, "done": 0, "completionRate": 0.0},
        ])
    );
    // The OEM sees counts, not the cars; stores do not create campaigns.
    let r = oem.q(CARS, json!({"id": campaign})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = cq
        .q(CREATE, json!({"i": {"code": "X", "title": "x", "kind": "RECALL", "startsOn": "2026-11-23", "vins": valid_vin(220)}}))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}
