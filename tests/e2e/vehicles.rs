use serde_json::{json, Value};

use crate::support::{codes, spawn_app, Session};

const CREATE: &str = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id vin plate currentMileageKm owner { name } ownershipHistory { startedOn endedOn customer { name } } } userErrors { field code message existingId } } }";

async fn add(s: &Session<'_>, owner: &str, vin: &str) -> Value {
    s.data(CREATE, json!({"i": {"ownerId": owner, "vin": vin, "brand": "长安福特", "model": "蒙迪欧", "plate": "渝a12345", "deliveryDate": "2025-05-01", "mileageKm": 12000}}))
        .await["createVehicle"]
        .clone()
}

#[tokio::test]
async fn a_vehicle_with_a_valid_vin_is_added_and_found_by_vin() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("郑先生", "13612345678", false).await;
    let p = add(&s, &owner, "lvshcamb1ce123456").await;
    let v = &p["vehicle"];
    assert_eq!(v["vin"], "LVSHCAMB1CE123456");
    assert_eq!(v["plate"], "渝A12345");
    assert_eq!(v["currentMileageKm"], 12000);
    assert_eq!(v["owner"]["name"], "郑先生");
    assert_eq!(
        v["ownershipHistory"],
        json!([{"startedOn": "2025-05-01", "endedOn": null, "customer": {"name": "郑先生"}}])
    );
    let found = s
        .data(
            "{ vehicleByVin(vin: \"LVSHCAMB1CE123456\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(found["vehicleByVin"]["id"], v["id"]);
    let c = s
        .data(
            "query($id: ID!) { customer(id: $id) { vehicles { vin } } }",
            json!({"id": owner}),
        )
        .await;
    assert_eq!(
        c["customer"]["vehicles"],
        json!([{"vin": "LVSHCAMB1CE123456"}])
    );
}

#[tokio::test]
async fn bad_vins_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("郑先生", "13612345678", false).await;
    for vin in [
        "LVSHCAMB5CE123456",
        "LVSHCAMB1CE12345",
        "LVSHCAMB1CE12345O",
        "",
    ] {
        let p = add(&s, &owner, vin).await;
        assert_eq!(codes(&p), vec!["INVALID_VIN"], "{vin}: {p}");
        assert_eq!(p["vehicle"], Value::Null);
    }
    let c = s
        .data(
            "query($id: ID!) { customer(id: $id) { vehicles { vin } } }",
            json!({"id": owner}),
        )
        .await;
    assert_eq!(c["customer"]["vehicles"], json!([]));
}

#[tokio::test]
async fn a_vin_already_in_the_store_is_a_duplicate() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let a = s.create_customer("甲", "13612340001", false).await;
    let b = s.create_customer("乙", "13612340002", false).await;
    let first = add(&s, &a, "LVSHCAMB1CE123456").await;
    let second = add(&s, &b, "LVSHCAMB1CE123456").await;
    assert_eq!(codes(&second), vec!["DUPLICATE"]);
    assert_eq!(
        second["userErrors"][0]["existingId"],
        first["vehicle"]["id"]
    );
}

#[tokio::test]
async fn odometer_readings_cannot_go_backwards() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("郑先生", "13612345678", false).await;
    let v = add(&s, &owner, "LVSHCAMB1CE123456").await["vehicle"]["id"].clone();
    let rec = "mutation($i: RecordMileageInput!) { recordMileage(input: $i) { reading { km readOn source } userErrors { code } } }";
    let ok = s
        .data(
            rec,
            json!({"i": {"vehicleId": v, "km": 15000, "source": "SERVICE"}}),
        )
        .await;
    assert_eq!(
        ok["recordMileage"]["reading"],
        json!({"km": 15000, "readOn": "2026-11-23", "source": "SERVICE"})
    );
    let back = s
        .data(rec, json!({"i": {"vehicleId": v, "km": 14000}}))
        .await;
    assert_eq!(codes(&back["recordMileage"]), vec!["OUT_OF_RANGE"]);
    let neg = s.data(rec, json!({"i": {"vehicleId": v, "km": -1}})).await;
    assert_eq!(codes(&neg["recordMileage"]), vec!["OUT_OF_RANGE"]);
    let future = s
        .data(
            rec,
            json!({"i": {"vehicleId": v, "km": 16000, "readOn": "2026-12-01"}}),
        )
        .await;
    assert_eq!(codes(&future["recordMileage"]), vec!["OUT_OF_RANGE"]);
    let m = s
        .data(
            "query($id: ID!) { vehicle(id: $id) { currentMileageKm mileageReadings { km } } }",
            json!({"id": v}),
        )
        .await;
    assert_eq!(m["vehicle"]["currentMileageKm"], 15000);
    assert_eq!(
        m["vehicle"]["mileageReadings"],
        json!([{"km": 15000}, {"km": 12000}])
    );
}

#[tokio::test]
async fn a_vehicle_changes_owner_and_keeps_its_history() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    let seller = s.create_customer("卖家", "13612340001", false).await;
    let buyer = s.create_customer("买家", "13612340002", false).await;
    let v = add(&s, &seller, "LVSHCAMB1CE123456").await["vehicle"]["id"].clone();
    let t = s
        .data(
            "mutation($i: TransferVehicleInput!) { transferVehicle(input: $i) { vehicle { owner { name } ownershipHistory { startedOn endedOn customer { name } } } userErrors { code } } }",
            json!({"i": {"vehicleId": v, "newOwnerId": buyer, "on": "2026-10-01"}}),
        )
        .await;
    let v2 = &t["transferVehicle"]["vehicle"];
    assert_eq!(v2["owner"]["name"], "买家");
    assert_eq!(
        v2["ownershipHistory"],
        json!([
            {"startedOn": "2025-05-01", "endedOn": "2026-10-01", "customer": {"name": "卖家"}},
            {"startedOn": "2026-10-01", "endedOn": null, "customer": {"name": "买家"}}
        ])
    );
    let seller_now = s.data("query($id: ID!) { customer(id: $id) { vehicles { vin } log(first: 1) { edges { node { kind } } } } }", json!({"id": seller})).await;
    assert_eq!(seller_now["customer"]["vehicles"], json!([]));
    assert_eq!(
        seller_now["customer"]["log"]["edges"][0]["node"]["kind"],
        "VEHICLE_TRANSFERRED"
    );
}

#[tokio::test]
async fn the_warranty_ends_at_three_years_or_past_100000_km_whichever_comes_first() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("周强", "13811112222", false).await;
    let vin = crate::support::valid_vin(77);
    // Delivered three years ago tomorrow (the test clock's day is
    // 2026-11-23): today is the last covered day.
    let r = s
        .data(CREATE, json!({"i": {"ownerId": owner, "vin": vin, "brand": "长安福特", "model": "锐界", "deliveryDate": "2023-11-24", "mileageKm": 99000}}))
        .await;
    let id = r["createVehicle"]["vehicle"]["id"].clone();
    assert!(id.is_string(), "{r}");
    const Q: &str = "query($id: ID!, $on: NaiveDate, $km: Int) { vehicle(id: $id) { warrantyEndsOn warrantyKm warrantyCoverage(on: $on, mileageKm: $km) { status covered on mileageKm endsOn endsKm daysLeft kmLeft } } }";
    let at = |on: Value, km: Value| {
        let s = &s;
        let id = id.clone();
        async move {
            s.data(Q, json!({"id": id, "on": on, "km": km})).await["vehicle"]["warrantyCoverage"]
                .clone()
        }
    };
    // Today, at the latest reading.
    let now = at(Value::Null, Value::Null).await;
    assert_eq!(now["status"], "COVERED", "{now}");
    assert_eq!(
        (
            &now["on"],
            &now["mileageKm"],
            &now["endsOn"],
            &now["endsKm"]
        ),
        (
            &json!("2026-11-23"),
            &json!(99000),
            &json!("2026-11-24"),
            &json!(100000)
        )
    );
    assert_eq!(
        (&now["daysLeft"], &now["kmLeft"]),
        (&json!(1), &json!(1000))
    );
    // Exactly 100,000 km is covered; one more is not.
    let edge = at(Value::Null, json!(100000)).await;
    assert_eq!(
        (&edge["status"], &edge["kmLeft"]),
        (&json!("COVERED"), &json!(0))
    );
    let over = at(Value::Null, json!(100001)).await;
    assert_eq!(
        (&over["status"], &over["covered"]),
        (&json!("ENDED_BY_MILEAGE"), &json!(false))
    );
    assert!(over["kmLeft"].is_null());
    // The anniversary is the first day without cover, whatever the mileage.
    let ended = at(json!("2026-11-24"), json!(99500)).await;
    assert_eq!(ended["status"], "ENDED_BY_TIME");
    // Bad input is refused by name; a car without a delivery has no cover.
    let r = s.q(Q, json!({"id": id, "on": Value::Null, "km": -1})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mileage"),
        "{r}"
    );
    let r = s
        .data(CREATE, json!({"i": {"ownerId": owner, "vin": crate::support::valid_vin(78), "brand": "长安福特", "model": "锐界", "mileageKm": 10}}))
        .await;
    let other = r["createVehicle"]["vehicle"]["id"].clone();
    let c = s
        .data(
            Q,
            json!({"id": other, "on": Value::Null, "km": Value::Null}),
        )
        .await;
    assert_eq!(
        c["vehicle"]["warrantyCoverage"]["status"], "NOT_DELIVERED",
        "{c}"
    );
}

#[tokio::test]
async fn mileage_readings_bring_the_first_service_reminder_forward() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer("吴敏", "13822223333", false).await;
    // Delivered ten days ago: the first-service reminder is due on day 30.
    let r = s
        .data(CREATE, json!({"i": {"ownerId": owner, "vin": crate::support::valid_vin(79), "brand": "长安福特", "model": "锐界", "deliveryDate": "2026-11-13", "mileageKm": 10}}))
        .await;
    let vehicle = r["createVehicle"]["vehicle"]["id"].clone();
    assert!(vehicle.is_string(), "{r}");
    let m = app.login("cq.manager").await;
    let first_service = || async {
        let d = m
            .data(
                "query($c: ID!) { tasks(first: 10, filter: {customerId: $c}) { edges { node { kind dueAt } } } }",
                json!({"c": owner}),
            )
            .await;
        d["tasks"]["edges"]
            .as_array()
            .and_then(|e| {
                e.iter()
                    .find(|e| e["node"]["kind"] == "MAINTENANCE_REMINDER")
                    .map(|e| e["node"]["dueAt"].clone())
            })
            .unwrap_or(Value::Null)
    };
    assert_eq!(first_service().await, "2026-12-13T15:59:59+00:00");
    const READ: &str = "mutation($i: RecordMileageInput!) { recordMileage(input: $i) { userErrors { code field } } }";
    // 1,500 km in ten days: 3,000 km in ten more, so due on 3 December.
    let r = s
        .data(READ, json!({"i": {"vehicleId": vehicle, "km": 1510}}))
        .await;
    assert_eq!(r["recordMileage"]["userErrors"], json!([]), "{r}");
    assert_eq!(first_service().await, "2026-12-03T15:59:59+00:00");
    // A slower pace never pushes it back.
    s.data(READ, json!({"i": {"vehicleId": vehicle, "km": 1520}}))
        .await;
    assert_eq!(first_service().await, "2026-12-03T15:59:59+00:00");
    // 3,000 km reached: due today.
    s.data(READ, json!({"i": {"vehicleId": vehicle, "km": 3100}}))
        .await;
    assert_eq!(first_service().await, "2026-11-23T15:59:59+00:00");
    // Going backwards is refused and moves nothing.
    let r = s
        .data(READ, json!({"i": {"vehicleId": vehicle, "km": 3000}}))
        .await;
    assert_eq!(
        r["recordMileage"]["userErrors"][0]["field"],
        json!(["input", "km"]),
        "{r}"
    );
    assert_eq!(first_service().await, "2026-11-23T15:59:59+00:00");
}
