//! Customer care end to end: revisits carried out with structured
//! outcomes, surveys and CSI, complaints with SLA clocks that escalate to
//! the store manager and then the OEM, and what closing needs.
use chrono::Duration;
use serde_json::{json, Value};

use crate::{
    service::{car, finish, open},
    support::{codes, Session, TestApp},
};

const REVISITS: &str = "query($c: ID!) { tasks(first: 50, filter: {customerId: $c}) { edges { node { id kind title status outcome } } } }";
const REVISIT: &str = "mutation($i: RecordRevisitInput!) { recordRevisit(input: $i) { task { status outcome } failedAttempts survey { overall csi staff { username } } complaint { id channel severity status responseDueAt resolutionDueAt owner { username } } userErrors { field code message } } }";
const OPEN: &str = "mutation($i: OpenComplaintInput!) { openComplaint(input: $i) { complaint { id status severity responseDueAt resolutionDueAt responseClock escalationLevel } userErrors { field code message } } }";
const ADVANCE: &str = "mutation($i: AdvanceComplaintInput!) { advanceComplaint(input: $i) { complaint { status overdue resolutionClock hasImprovementPlan outcomeSatisfaction actions { kind note } } userErrors { field code message } } }";
const BOARD: &str = "query($f: ComplaintFilter) { complaints(first: 20, filter: $f) { totalCount edges { node { id status overdue escalationLevel responseClock content customer { name } } } } }";
const INBOX: &str = "{ myNotifications(first: 50) { totalCount edges { node { body } } } }";

/// A customer serviced today: their service revisit is waiting for care.
async fn serviced(app: &TestApp, name: &str, mobile: &str, n: u32, consent: bool) -> String {
    let s = app.login("cq.advisor").await;
    let owner = s.create_customer(name, mobile, consent).await;
    let v = car(&s, &owner, n, "2025-06-01", 20000).await;
    let ro = open(&s, &v, "MAINTENANCE", 20100).await;
    let done = finish(&s, &ro, false, 27_100).await;
    assert_eq!(done["userErrors"], json!([]), "{done}");
    owner
}

/// The id of the customer's live task whose title has `title`.
async fn task_id(s: &Session<'_>, customer: &str, title: &str) -> String {
    let t = s.data(REVISITS, json!({"c": customer})).await;
    t["tasks"]["edges"]
        .as_array()
        .and_then(|e| {
            e.iter().map(|e| &e["node"]).find(|n| {
                n["status"] == "OPEN" && n["title"].as_str().unwrap_or_default().contains(title)
            })
        })
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("no open task {title}: {t}"))
        .to_string()
}

fn answers(overall: i32, courtesy: i32) -> Value {
    json!([
        {"key": "overall", "score": overall},
        {"key": "courtesy", "score": courtesy},
        {"key": "fixedFirstTime", "yes": false},
        {"key": "comments", "text": "等了三个小时，没人解释"}
    ])
}

#[tokio::test]
async fn a_low_survey_score_on_the_service_revisit_opens_a_complaint_with_its_deadlines() {
    let app = crate::support::spawn_app().await;
    let owner = serviced(&app, "钱多多", "13900003333", 301, false).await;
    let care = app.login("cq.care").await;
    let t = task_id(&care, &owner, "维修回访").await;
    let script = care
        .data(
            "query($t: ID!) { revisitScript(taskId: $t) { opening maxAttempts survey { kind owner questions { key kind required } } } }",
            json!({"t": t}),
        )
        .await;
    let sc = &script["revisitScript"];
    assert_eq!(sc["survey"]["kind"], "AFTER_SERVICE");
    assert_eq!(sc["survey"]["owner"], "BUILT_IN");
    assert_eq!(
        sc["survey"]["questions"][0],
        json!({"key": "overall", "kind": "SCORE", "required": true})
    );
    assert_eq!(sc["maxAttempts"], 3);
    assert!(sc["opening"]
        .as_str()
        .unwrap_or_default()
        .contains("维修保养"));

    let r = care
        .data(
            REVISIT,
            json!({"i": {"taskId": t, "reached": true, "answers": answers(4, 5)}}),
        )
        .await;
    let r = &r["recordRevisit"];
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(r["task"]["status"], "DONE");
    assert_eq!(
        r["task"]["outcome"],
        "Reached by phone; satisfaction 4/10; complaint opened"
    );
    // The survey rates the visit's advisor; CSI is the mean score × 10.
    assert_eq!(
        r["survey"],
        json!({"overall": 4, "csi": 45.0, "staff": {"username": "cq.advisor"}})
    );
    // 4 is below the store's threshold of 6: a NORMAL complaint, 24 h to
    // respond and 72 h to resolve from now (10:00 Shanghai = 02:00Z).
    assert_eq!(
        (
            &r["complaint"]["channel"],
            &r["complaint"]["severity"],
            &r["complaint"]["status"],
            &r["complaint"]["responseDueAt"],
            &r["complaint"]["resolutionDueAt"],
            &r["complaint"]["owner"]["username"]
        ),
        (
            &json!("SURVEY"),
            &json!("NORMAL"),
            &json!("OPEN"),
            &json!("2026-11-24T02:00:00+00:00"),
            &json!("2026-11-26T02:00:00+00:00"),
            &json!("cq.care")
        )
    );
    // The customer's log has the revisit, the survey and the complaint.
    let log = care
        .data(
            "query($c: ID!) { customer(id: $c) { log(first: 3) { edges { node { kind } } } } }",
            json!({"c": owner}),
        )
        .await;
    let kinds: Vec<&str> = log["customer"]["log"]["edges"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["node"]["kind"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds, ["REVISIT", "COMPLAINT", "SURVEY"]);

    // CSI per staff for the month: the advisor's one survey.
    let m = app.login("cq.manager").await;
    let csi = m
        .data(
            "{ csi(from: \"2026-11-01\", to: \"2026-11-30\", by: STAFF) { staff { username } responses csi overall lowScores } }",
            json!({}),
        )
        .await;
    assert_eq!(
        csi["csi"],
        json!([{"staff": {"username": "cq.advisor"}, "responses": 1, "csi": 45.0, "overall": 4.0, "lowScores": 1}])
    );
    let empty = m
        .data(
            "{ csi(from: \"2026-10-01\", to: \"2026-10-31\", by: STORE) { responses } }",
            json!({}),
        )
        .await;
    assert_eq!(empty["csi"], json!([]));
}

#[tokio::test]
async fn a_missed_response_deadline_escalates_to_the_manager_then_the_oem() {
    let app = crate::support::spawn_app().await;
    let care = app.login("cq.care").await;
    let c = care.create_customer("投诉人", "13800005555", false).await;
    let r = care
        .data(
            OPEN,
            json!({"i": {"customerId": c, "channel": "PHONE", "complaint": {"content": "销售承诺送的脚垫一直没给", "category": "SALES", "cause": "PROMISE_BROKEN", "severity": "SEVERE"}}}),
        )
        .await;
    let cp = &r["openComplaint"]["complaint"];
    assert_eq!(r["openComplaint"]["userErrors"], json!([]), "{r}");
    // Severe: 4 h to respond, 24 h to resolve.
    assert_eq!(cp["responseDueAt"], "2026-11-23T06:00:00+00:00");
    assert_eq!(cp["resolutionDueAt"], "2026-11-24T02:00:00+00:00");
    assert_eq!(
        (&cp["responseClock"], &cp["escalationLevel"]),
        (&json!("RUNNING"), &json!(0))
    );
    let id = cp["id"].as_str().unwrap_or_default().to_string();
    let oem = app.login("oem.staff").await;
    let seen = oem.data(BOARD, json!({})).await;
    assert_eq!(seen["complaints"]["totalCount"], 0, "not the OEM's yet");

    app.clock.advance(Duration::hours(5));
    assert!(app.tick().await.overdue >= 1);
    let m = app.login("cq.manager").await;
    let inbox = m.data(INBOX, json!({})).await;
    let bodies = inbox.to_string();
    assert!(bodies.contains("投诉响应"), "{bodies}");
    let board = m.data(BOARD, json!({"f": {"overdue": true}})).await;
    assert_eq!(board["complaints"]["totalCount"], 1);
    let node = &board["complaints"]["edges"][0]["node"];
    assert_eq!(
        (
            &node["escalationLevel"],
            &node["responseClock"],
            &node["overdue"]
        ),
        (&json!(1), &json!("OVERDUE"), &json!(true))
    );

    // complaintOemEscalationHours (48) later it reaches the OEM, which sees
    // it on its board without the customer's words (no consent).
    app.clock.advance(Duration::hours(47));
    app.tick().await;
    let oem = app.login("oem.staff").await;
    assert_eq!(
        oem.data(BOARD, json!({})).await["complaints"]["totalCount"],
        0
    );
    app.clock.advance(Duration::hours(2));
    assert!(app.tick().await.escalated >= 1);
    let oem = app.login("oem.staff").await;
    let seen = oem.data(BOARD, json!({})).await;
    assert_eq!(seen["complaints"]["totalCount"], 1, "{seen}");
    let node = &seen["complaints"]["edges"][0]["node"];
    assert_eq!(
        (
            &node["escalationLevel"],
            &node["content"],
            &node["customer"]
        ),
        (&json!(2), &Value::Null, &Value::Null)
    );
    let inbox = oem.data(INBOX, json!({})).await;
    assert!(
        inbox["myNotifications"]["totalCount"].as_i64() >= Some(1),
        "{inbox}"
    );
    assert!(!inbox.to_string().contains("投诉人"), "{inbox}");
    // The OEM acts on it: a note in the action log.
    let r = oem
        .data(
            ADVANCE,
            json!({"i": {"complaintId": id, "note": "厂家已督办，请48小时内回复"}}),
        )
        .await;
    assert_eq!(r["advanceComplaint"]["userErrors"], json!([]), "{r}");
    // Another store's manager does not see it at all.
    let cd = app.login("cd.manager").await;
    let other = cd
        .q(
            "query($id: ID!) { complaint(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(other["data"]["complaint"], Value::Null, "{other}");
}

#[tokio::test]
async fn closing_needs_a_resolution_and_a_plan_when_severe_and_ends_with_a_revisit() {
    let app = crate::support::spawn_app().await;
    let care = app.login("cq.care").await;
    let c = care.create_customer("结案客户", "13800006666", true).await;
    let r = care
        .data(
            OPEN,
            json!({"i": {"customerId": c, "channel": "WALK_IN", "complaint": {"content": "第三次来修异响还没修好", "category": "SERVICE", "cause": "NOT_FIXED_FIRST_TIME", "severity": "SEVERE"}}}),
        )
        .await;
    let id = r["openComplaint"]["complaint"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let step = |input: Value| {
        let care = &care;
        async move { care.data(ADVANCE, json!({"i": input})).await["advanceComplaint"].clone() }
    };
    // Closing with no resolution, then with no plan: refused, nothing kept.
    let r = step(json!({"complaintId": id, "status": "CLOSED"})).await;
    assert_eq!(codes(&r), ["REQUIRED"], "{r}");
    assert_eq!(r["userErrors"][0]["field"], json!(["input", "resolution"]));
    let r = step(
        json!({"complaintId": id, "status": "CLOSED", "resolution": "更换悬挂衬套并免工时费"}),
    )
    .await;
    assert_eq!(
        r["userErrors"][0]["field"],
        json!(["input", "improvementPlan"]),
        "{r}"
    );
    let board = care.data(BOARD, json!({})).await;
    assert_eq!(board["complaints"]["edges"][0]["node"]["status"], "OPEN");
    // Responding, then closing with the plan.
    let r = step(
        json!({"complaintId": id, "status": "IN_PROGRESS", "note": "已致电客户致歉，约明天到店"}),
    )
    .await;
    assert_eq!(r["complaint"]["status"], "IN_PROGRESS", "{r}");
    let r = step(json!({"complaintId": id, "status": "CLOSED", "resolution": "更换悬挂衬套并免工时费", "improvementPlan": "异响类故障必须路试复检后交车"})).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let kinds: Vec<&str> = r["complaint"]["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["OPENED", "NOTE", "RESPONDED", "RESOLVED", "CLOSED"]);
    assert_eq!(
        (
            &r["complaint"]["status"],
            &r["complaint"]["hasImprovementPlan"],
            &r["complaint"]["resolutionClock"]
        ),
        (&json!("CLOSED"), &json!(true), &json!("MET"))
    );
    let again = step(json!({"complaintId": id, "note": "x"})).await;
    assert_eq!(codes(&again), ["CONFLICT"]);
    // The closing revisit is care's; the customer's rating lands on the
    // complaint.
    let t = task_id(&care, &c, "投诉结案回访").await;
    let r = care
        .data(
            REVISIT,
            json!({"i": {"taskId": t, "reached": true, "satisfaction": 9}}),
        )
        .await;
    assert_eq!(r["recordRevisit"]["task"]["status"], "DONE", "{r}");
    let q = care
        .data(
            "query($id: ID!) { complaint(id: $id) { outcomeSatisfaction } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(q["complaint"]["outcomeSatisfaction"], 9);
}

#[tokio::test]
async fn unanswered_revisits_retry_then_close_and_a_raised_problem_becomes_a_complaint() {
    let app = crate::support::spawn_app().await;
    let a = serviced(&app, "不接电话", "13900007777", 302, false).await;
    let b = serviced(&app, "有意见", "13900008888", 303, false).await;
    let care = app.login("cq.care").await;
    let t = task_id(&care, &a, "维修回访").await;
    for n in 1..=3 {
        let r = care
            .data(
                REVISIT,
                json!({"i": {"taskId": t, "reached": false, "method": "PHONE"}}),
            )
            .await;
        let r = &r["recordRevisit"];
        assert_eq!(r["failedAttempts"], n, "{r}");
        let want = if n < 3 { "OPEN" } else { "DONE" };
        assert_eq!(r["task"]["status"], want, "{r}");
    }
    let again = care
        .data(REVISIT, json!({"i": {"taskId": t, "reached": false}}))
        .await;
    assert_eq!(codes(&again["recordRevisit"]), ["CONFLICT"]);
    let log = care
        .data(
            "query($c: ID!) { customer(id: $c) { log(first: 1) { edges { node { kind outcome } } } } }",
            json!({"c": a}),
        )
        .await;
    assert_eq!(
        log["customer"]["log"]["edges"][0]["node"],
        json!({"kind": "REVISIT", "outcome": "Unreachable after 3 attempts"})
    );

    // Bad input first: a score outside the scale, answers on a missed call.
    let t = task_id(&care, &b, "维修回访").await;
    let bad = care
        .data(REVISIT, json!({"i": {"taskId": t, "reached": true, "answers": [{"key": "overall", "score": 11}, {"key": "nope", "score": 3}]}}))
        .await;
    assert_eq!(
        codes(&bad["recordRevisit"]),
        ["OUT_OF_RANGE", "INVALID"],
        "{bad}"
    );
    assert_eq!(
        bad["recordRevisit"]["userErrors"][0]["field"],
        json!(["input", "answers", "0", "score"])
    );
    let bad = care
        .data(
            REVISIT,
            json!({"i": {"taskId": t, "reached": false, "satisfaction": 5}}),
        )
        .await;
    assert_eq!(codes(&bad["recordRevisit"]), ["INVALID"]);
    let script = care
        .data(
            "query($t: ID!) { revisitScript(taskId: $t) { attempts { reached } } }",
            json!({"t": t}),
        )
        .await;
    assert_eq!(
        script["revisitScript"]["attempts"],
        json!([]),
        "nothing stored"
    );

    // Reached, satisfied overall, but a problem raised: one complaint
    // (channel REVISIT) in the same step, no second one from the score.
    let r = care
        .data(REVISIT, json!({"i": {"taskId": t, "reached": true, "satisfaction": 8, "problem": {"content": "洗车没洗干净", "category": "SERVICE", "severity": "MINOR"}}}))
        .await;
    let r = &r["recordRevisit"];
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(
        (
            &r["complaint"]["channel"],
            &r["complaint"]["severity"],
            &r["survey"]["overall"]
        ),
        (&json!("REVISIT"), &json!("MINOR"), &json!(8))
    );
    let board = care.data(BOARD, json!({"f": {"customerId": b}})).await;
    assert_eq!(board["complaints"]["totalCount"], 1);
    assert_eq!(
        board["complaints"]["edges"][0]["node"]["content"],
        "洗车没洗干净"
    );
}

#[tokio::test]
async fn stores_and_oems_set_their_own_questionnaires() {
    let app = crate::support::spawn_app().await;
    const SAVE: &str = "mutation($i: SaveSurveyTemplateInput!) { saveSurveyTemplate(input: $i) { template { owner name questions { key } } userErrors { field code message } } }";
    let oem = app.login("oem.staff").await;
    let r = oem
        .data(SAVE, json!({"i": {"kind": "AFTER_SERVICE", "name": "厂家售后满意度", "questions": [{"key": "overall", "text": "总体满意度", "kind": "SCORE"}, {"key": "wash", "text": "洗车质量", "kind": "SCORE"}]}}))
        .await;
    assert_eq!(r["saveSurveyTemplate"]["template"]["owner"], "OEM", "{r}");
    let m = app.login("cq.manager").await;
    let bad = m
        .data(SAVE, json!({"i": {"kind": "AFTER_SERVICE", "name": "门店", "questions": [{"key": "wash", "text": "洗车质量", "kind": "SCORE"}]}}))
        .await;
    assert_eq!(
        codes(&bad["saveSurveyTemplate"]),
        ["INVALID"],
        "no overall question"
    );
    let q = "{ surveyTemplate(kind: AFTER_SERVICE) { owner name questions { key } } }";
    let r = m.data(q, json!({})).await;
    assert_eq!(
        r["surveyTemplate"],
        json!({"owner": "OEM", "name": "厂家售后满意度", "questions": [{"key": "overall"}, {"key": "wash"}]})
    );
    let r = m
        .data(SAVE, json!({"i": {"kind": "AFTER_SERVICE", "name": "本店售后回访", "questions": [{"key": "overall", "text": "总体满意度", "kind": "SCORE"}]}}))
        .await;
    assert_eq!(r["saveSurveyTemplate"]["userErrors"], json!([]), "{r}");
    assert_eq!(
        m.data(q, json!({})).await["surveyTemplate"]["owner"],
        "STORE"
    );
    let cd = app.login("cd.manager").await;
    assert_eq!(
        cd.data(q, json!({})).await["surveyTemplate"]["owner"],
        "OEM"
    );
    let care = app.login("cq.care").await;
    let denied = care
        .q(
            SAVE,
            json!({"i": {"kind": "AFTER_SALE", "name": "x", "questions": []}}),
        )
        .await;
    assert_eq!(crate::support::error_code(&denied), "FORBIDDEN");
}

const STANDING: &str = "query($c: ID!) { customerStanding(customerId: $c) { stage segment risks atRisk atRiskSince visitsPerYear vehicles lifetimeValueFen winBacks { reason result costFen } } }";
const WIN_BACK: &str = "mutation($i: RecordWinBackInput!) { recordWinBack(input: $i) { attempt { reason result } userErrors { field code message } } }";

#[tokio::test]
async fn a_new_owner_who_stops_coming_declines_is_flagged_for_win_back_and_is_lost() {
    let app = crate::support::spawn_app().await;
    let adv = app.login("cq.advisor").await;
    let owner = adv.create_customer("新车主", "13900009999", false).await;
    let v = car(&adv, &owner, 304, "2026-11-23", 10).await;
    let r = app.retention().await;
    assert_eq!(r.stores, 2, "both demo stores, once each: {r:?}");
    assert_eq!(app.retention().await.stores, 0, "once a day");
    let care = app.login("cq.care").await;
    let s = care.data(STANDING, json!({"c": owner})).await;
    assert_eq!(
        (
            &s["customerStanding"]["stage"],
            &s["customerStanding"]["atRisk"],
            &s["customerStanding"]["vehicles"]
        ),
        (&json!("NEW_OWNER"), &json!(false), &json!(1))
    );
    // No purchase here: 3 cars at the assumed 150,000 yuan plus 3 % finance.
    assert_eq!(s["customerStanding"]["lifetimeValueFen"], 46_350_000);

    // The first service is predicted; a month past it without a visit the
    // owner is declining, at risk, and care gets a win-back contact.
    let f = adv
        .data(
            "query($v: ID!) { serviceForecast(vehicleId: $v) { dueOn } }",
            json!({"v": v}),
        )
        .await;
    let due = chrono::NaiveDate::parse_from_str(
        f["serviceForecast"]["dueOn"].as_str().unwrap_or_default(),
        "%Y-%m-%d",
    )
    .expect("a predicted first service");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    app.clock
        .advance(Duration::days((due - today).num_days() + 30));
    app.retention().await;
    let care = app.login("cq.care").await;
    let s = care.data(STANDING, json!({"c": owner})).await;
    assert_eq!(
        s["customerStanding"]["stage"], "NEW_OWNER",
        "within the 30-day margin"
    );
    app.clock.advance(Duration::days(1));
    // Two passes at once (two workers): each store is done exactly once.
    let (a, b) = tokio::join!(app.retention(), app.retention());
    assert_eq!(a.stores + b.stores, 2, "{a:?} {b:?}");
    assert_eq!(a.flagged + b.flagged, 1);
    let care = app.login("cq.care").await;
    let s = care.data(STANDING, json!({"c": owner})).await;
    let st = &s["customerStanding"];
    assert_eq!(
        (&st["stage"], &st["risks"], &st["atRisk"]),
        (
            &json!("DECLINING"),
            &json!(["OVERDUE_SERVICE"]),
            &json!(true)
        )
    );
    let t = task_id(&care, &owner, "客户挽回").await;
    assert!(!t.is_empty());

    // A win-back attempt needs a reason; PENDING keeps the contact open,
    // LOST closes it.
    let bad = care
        .data(
            WIN_BACK,
            json!({"i": {"customerId": owner, "result": "PENDING"}}),
        )
        .await;
    assert_eq!(codes(&bad["recordWinBack"]), ["REQUIRED"]);
    assert_eq!(
        bad["recordWinBack"]["userErrors"][0]["field"],
        json!(["input", "reason"])
    );
    let r = care
        .data(WIN_BACK, json!({"i": {"customerId": owner, "reason": "DISTANCE", "costFen": 20000, "result": "PENDING", "note": "搬到了北碚"}}))
        .await;
    assert_eq!(
        r["recordWinBack"]["attempt"],
        json!({"reason": "DISTANCE", "result": "PENDING"}),
        "{r}"
    );
    task_id(&care, &owner, "客户挽回").await;
    care.data(
        WIN_BACK,
        json!({"i": {"customerId": owner, "reason": "DISTANCE", "result": "LOST"}}),
    )
    .await;
    let s = care.data(STANDING, json!({"c": owner})).await;
    assert_eq!(
        s["customerStanding"]["winBacks"],
        json!([{"reason": "DISTANCE", "result": "LOST", "costFen": 0}, {"reason": "DISTANCE", "result": "PENDING", "costFen": 20000}])
    );
    let t = care.data(REVISITS, json!({"c": owner})).await;
    assert!(
        !t.to_string()
            .contains("\"status\":\"OPEN\",\"title\":\"客户挽回"),
        "{t}"
    );

    // A year after delivery without a visit: lost. The value list shows
    // the customer with the store's others, highest value first.
    let until = chrono::NaiveDate::from_ymd_opt(2027, 11, 24).expect("date");
    let now = api::Clock::now(&app.clock).date_naive();
    app.clock.advance(Duration::days((until - now).num_days()));
    app.retention().await;
    let m = app.login("cq.manager").await;
    let s = m.data(STANDING, json!({"c": owner})).await;
    assert_eq!(s["customerStanding"]["stage"], "LOST");
    let list = m
        .data(
            "{ customerValues(first: 100, filter: {stage: [LOST]}) { edges { node { stage lifetimeValueFen customer { name } } } } }",
            json!({}),
        )
        .await;
    let names = list.to_string();
    assert!(names.contains("新车主"), "{names}");
    // A consultant who is not responsible for them sees nothing of them.
    let s1 = app.login("cq.sales1").await;
    let hidden = s1.data(STANDING, json!({"c": owner})).await;
    assert_eq!(hidden["customerStanding"], Value::Null);
}

#[tokio::test]
async fn the_value_list_sorts_by_revenue_or_lifetime_value_and_pages_with_its_own_cursors() {
    let app = crate::support::spawn_app().await;
    let paid = serviced(&app, "回厂客户", "13900001234", 305, false).await;
    let adv = app.login("cq.advisor").await;
    let idle = adv.create_customer("不回厂", "13900004321", false).await;
    car(&adv, &idle, 306, "2025-06-01", 20000).await;
    app.retention().await;
    let m = app.login("cq.manager").await;
    let q = "query($o: CustomerValueOrder!, $a: String, $n: Int) { customerValues(orderBy: $o, first: $n, after: $a) { pageInfo { hasNextPage } edges { cursor node { revenueFen lifetimeValueFen customer { id } } } } }";
    let all = m.data(q, json!({"o": "REVENUE", "n": 100})).await;
    let edges = all["customerValues"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let at = |id: &str| edges.iter().position(|e| e["node"]["customer"]["id"] == id);
    let (p, i) = (at(&paid).expect("listed"), at(&idle).expect("listed"));
    assert!(p < i, "27,100 fen of service before none");
    assert_eq!(edges[p]["node"]["revenueFen"], 27_100);
    let revenues: Vec<i64> = edges
        .iter()
        .filter_map(|e| e["node"]["revenueFen"].as_i64())
        .collect();
    assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "{revenues:?}");
    // Paging: the second page starts where the first ended.
    let one = m.data(q, json!({"o": "REVENUE", "n": 1})).await;
    assert_eq!(one["customerValues"]["pageInfo"]["hasNextPage"], true);
    let cursor = one["customerValues"]["edges"][0]["cursor"].clone();
    let next = m
        .data(q, json!({"o": "REVENUE", "n": 1, "a": cursor}))
        .await;
    assert_eq!(next["customerValues"]["edges"][0]["node"], edges[1]["node"]);
    // A cursor of one order is refused by the other.
    let wrong = m
        .q(q, json!({"o": "LIFETIME_VALUE", "n": 1, "a": cursor}))
        .await;
    assert_eq!(
        crate::support::error_code(&wrong),
        "BAD_USER_INPUT",
        "{wrong}"
    );
    let ltv = m.data(q, json!({"o": "LIFETIME_VALUE", "n": 100})).await;
    let values: Vec<i64> = ltv["customerValues"]["edges"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["node"]["lifetimeValueFen"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
}
