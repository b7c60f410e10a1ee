use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app};

const UPDATE_STORE: &str = "mutation($i: UpdateStoreInput!) { updateStore(input: $i) { store { timeZone settings { deliveryRevisitDays firstServiceReminderDays claimFilingDays } } userErrors { field code message } } }";

#[tokio::test]
async fn every_timing_has_its_domain_default_and_the_manager_can_change_it() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let d = m.data("{ myStore { id grade city settings { followUpDaysH followUpDaysA followUpDaysB followUpDaysC deliveryRevisitDays firstServiceReminderDays firstServiceDueMonths warrantyYears warrantyKm claimFilingDays serviceRevisitMaxDays } } }", json!({})).await;
    let s = &d["myStore"];
    assert_eq!(s["grade"], "A");
    assert_eq!(
        s["settings"],
        json!({"followUpDaysH": 1, "followUpDaysA": 3, "followUpDaysB": 7, "followUpDaysC": 14, "deliveryRevisitDays": 7,
               "firstServiceReminderDays": 30, "firstServiceDueMonths": 6, "warrantyYears": 3, "warrantyKm": 100000,
               "claimFilingDays": 10, "serviceRevisitMaxDays": 3})
    );
    let store_id = s["id"].clone();
    let u = m.data(UPDATE_STORE, json!({"i": {"storeId": store_id, "settings": {"deliveryRevisitDays": 5}, "timeZone": "Asia/Urumqi"}})).await;
    assert_eq!(
        u["updateStore"]["store"]["settings"]["deliveryRevisitDays"],
        5
    );
    assert_eq!(u["updateStore"]["store"]["settings"]["claimFilingDays"], 10);
    assert_eq!(u["updateStore"]["store"]["timeZone"], "Asia/Urumqi");

    // Out of range and inconsistent values are refused, all at once, and nothing changes.
    let bad = m
        .data(UPDATE_STORE, json!({"i": {"storeId": store_id, "settings": {"deliveryRevisitDays": -3, "claimFilingDays": 1000, "firstServiceMinKm": 9000}}}))
        .await;
    let errs = &bad["updateStore"]["userErrors"];
    assert_eq!(codes(&bad["updateStore"]), vec!["OUT_OF_RANGE"; 3], "{bad}");
    assert_eq!(
        errs[0]["field"],
        json!(["input", "settings", "deliveryRevisitDays"])
    );
    let tz = m
        .data(
            UPDATE_STORE,
            json!({"i": {"storeId": store_id, "timeZone": "Mars/Base"}}),
        )
        .await;
    assert_eq!(codes(&tz["updateStore"]), vec!["INVALID"]);
    let now = m
        .data(
            "{ myStore { timeZone settings { deliveryRevisitDays claimFilingDays } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        now["myStore"]["settings"],
        json!({"deliveryRevisitDays": 5, "claimFilingDays": 10})
    );
    assert_eq!(now["myStore"]["timeZone"], "Asia/Urumqi");
}

#[tokio::test]
async fn only_the_stores_manager_or_an_admin_edits_its_settings() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let store_id = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    let i = json!({"i": {"storeId": store_id, "settings": {"deliveryRevisitDays": 2}}});
    assert_eq!(
        error_code(
            &app.login("cq.sales1")
                .await
                .q(UPDATE_STORE, i.clone())
                .await
        ),
        "FORBIDDEN"
    );
    // Another store's manager does not even see the store.
    let other = app
        .login("cd.manager")
        .await
        .data(UPDATE_STORE, i.clone())
        .await;
    assert_eq!(codes(&other["updateStore"]), vec!["NOT_FOUND"]);
    let admin = app.login("admin").await.data(UPDATE_STORE, i).await;
    assert_eq!(
        admin["updateStore"]["store"]["settings"]["deliveryRevisitDays"],
        2
    );
}

const CREATE_STAFF: &str = "mutation($i: CreateStaffInput!) { createStaff(input: $i) { staff { id username role store { code } } userErrors { field code message } } }";

#[tokio::test]
async fn a_manager_creates_staff_who_can_then_sign_in() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let store_id = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    let input = json!({"i": {"username": "Cq.Sales3", "name": "销售顾问 新人", "mobile": "13912345678", "role": "SALES_CONSULTANT", "storeId": store_id, "password": "welcome-2026"}});
    let d = m.data(CREATE_STAFF, input.clone()).await;
    assert_eq!(d["createStaff"]["staff"]["username"], "cq.sales3");
    assert_eq!(d["createStaff"]["staff"]["store"]["code"], "CQ001");
    let s = app.login_with("13912345678", "welcome-2026").await;
    assert_eq!(
        s.data("{ me { username } }", json!({})).await["me"]["username"],
        "cq.sales3"
    );

    let dup = m.data(CREATE_STAFF, input).await;
    assert_eq!(codes(&dup["createStaff"]), vec!["DUPLICATE"]);
    let weak = m
        .data(CREATE_STAFF, json!({"i": {"username": "x.y", "name": "n", "role": "CARE_AGENT", "storeId": store_id, "password": "short"}}))
        .await;
    assert_eq!(codes(&weak["createStaff"]), vec!["INVALID"]);
    let boss = m
        .data(CREATE_STAFF, json!({"i": {"username": "boss2", "name": "n", "role": "STORE_MANAGER", "storeId": store_id, "password": "long enough"}}))
        .await;
    assert_eq!(codes(&boss["createStaff"]), vec!["NOT_ALLOWED"]);
    assert_eq!(error_code(&app.login("cq.care").await.q(CREATE_STAFF, json!({"i": {"username": "abc", "name": "n", "role": "CARE_AGENT", "password": "long enough"}})).await), "FORBIDDEN");
}

const DEACTIVATE: &str = "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { staff { active deactivatedAt } reassignedCustomers userErrors { field code message } } }";

#[tokio::test]
async fn deactivating_a_consultant_hands_their_customers_to_a_named_colleague() {
    let app = spawn_app().await;
    let leaving = app.login("cq.sales1").await;
    let a = leaving
        .create_customer("老客户甲", "13800000001", false)
        .await;
    leaving
        .create_customer("老客户乙", "13800000002", false)
        .await;

    let m = app.login("cq.manager").await;
    let leaver_id = m.staff_id("cq.sales1").await;
    let heir_id = m.staff_id("cq.sales2").await;

    let missing = m
        .data(DEACTIVATE, json!({"i": {"staffId": leaver_id}}))
        .await;
    assert_eq!(codes(&missing["deactivateStaff"]), vec!["REQUIRED"]);
    let other_store = m.staff_id("cq.advisor").await;
    let foreign = app
        .login("cd.manager")
        .await
        .data(
            DEACTIVATE,
            json!({"i": {"staffId": leaver_id, "reassignToId": other_store}}),
        )
        .await;
    assert_eq!(codes(&foreign["deactivateStaff"]), vec!["NOT_FOUND"]);

    let d = m
        .data(
            DEACTIVATE,
            json!({"i": {"staffId": leaver_id, "reassignToId": heir_id}}),
        )
        .await;
    assert_eq!(d["deactivateStaff"]["staff"]["active"], false);
    assert_eq!(d["deactivateStaff"]["reassignedCustomers"], 2);

    // The customers stay with the store and are now the colleague's.
    let heir = app.login("cq.sales2").await;
    let list = heir.data("{ customers { totalCount } }", json!({})).await;
    assert_eq!(list["customers"]["totalCount"], 2);
    let c = heir.data("query($id: ID!) { customer(id: $id) { responsibleStaff { username } log(first: 1) { edges { node { kind } } } } }", json!({"id": a})).await;
    assert_eq!(c["customer"]["responsibleStaff"]["username"], "cq.sales2");
    assert_eq!(c["customer"]["log"]["edges"][0]["node"]["kind"], "ASSIGNED");

    // The leaver is signed out everywhere at once.
    assert_eq!(
        error_code(&leaving.q("{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let again = app
        .gql(None, "mutation($t: String!) { refresh(input: {refreshToken: $t}) { accessToken userErrors { code } } }", json!({"t": leaving.refresh_token}))
        .await;
    assert_eq!(again["data"]["refresh"]["accessToken"], Value::Null);
    let relogin = app
        .gql(None, "mutation { login(input: {login: \"cq.sales1\", password: \"demo1234\"}) { userErrors { code } } }", json!({}))
        .await;
    assert_eq!(
        codes(&relogin["data"]["login"]),
        vec!["INVALID_CREDENTIALS"]
    );
}

#[tokio::test]
async fn changing_your_password_signs_out_other_sessions() {
    let app = spawn_app().await;
    let s = app.login("cq.care").await;
    let q = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { staff { username } userErrors { code } } }";
    let wrong = s
        .data(
            q,
            json!({"i": {"currentPassword": "nope", "newPassword": "brand-new-pw"}}),
        )
        .await;
    assert_eq!(codes(&wrong["changePassword"]), vec!["INVALID_CREDENTIALS"]);
    let ok = s
        .data(
            q,
            json!({"i": {"currentPassword": "demo1234", "newPassword": "brand-new-pw"}}),
        )
        .await;
    assert_eq!(ok["changePassword"]["staff"]["username"], "cq.care");
    let r = app
        .gql(
            None,
            "mutation($t: String!) { refresh(input: {refreshToken: $t}) { accessToken } }",
            json!({"t": s.refresh_token}),
        )
        .await;
    assert_eq!(r["data"]["refresh"]["accessToken"], Value::Null);
    app.login_with("cq.care", "brand-new-pw").await;
}

#[tokio::test]
async fn enum_labels_are_available_in_english_and_chinese() {
    let app = spawn_app().await;
    let r = app
        .gql(
            None,
            "{ enumLabels(name: \"Role\") { name values { value en zhCN } } }",
            json!({}),
        )
        .await;
    let values = &r["data"]["enumLabels"][0]["values"];
    assert_eq!(
        values[0],
        json!({"value": "SALES_CONSULTANT", "en": "Sales consultant", "zhCN": "销售顾问"})
    );
    assert_eq!(values.as_array().map(|v| v.len()), Some(8));
}
