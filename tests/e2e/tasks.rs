//! The follow-up engine as staff use it: rules create work, the scheduler
//! marks it overdue, reminds and escalates exactly once, "my day" shows it.
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app, Session};

const MY_DAY: &str = "query($d: Int) { myDay(upcomingDays: $d) { overdue { ...T } dueToday { ...T } upcoming { ...T } } }
fragment T on Task { id kind title reason status dueAt rule escalationLevel queue assignee { username }
  customer { name mobile } vehicle { plate model } lastContact { summary kind } }";
const INBOX: &str =
    "{ myNotifications(first: 50) { totalCount edges { node { body channel status taskId } } } }";

async fn delivered_car(
    s: &Session<'_>,
    name: &str,
    mobile: &str,
    vin: &str,
    on: &str,
) -> (String, String) {
    let c = s.create_customer(name, mobile, false).await;
    s.data(
        "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } } }",
        json!({"i": {"customerId": c, "summary": "交车时确认了联系方式", "channel": "IN_PERSON", "kind": "VISIT"}}),
    )
    .await;
    let v = s
        .data(
            "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { vehicle { id } userErrors { message } } }",
            json!({"i": {"ownerId": c, "vin": vin, "brand": "长安福特", "model": "锐界", "plate": "渝A88888", "deliveryDate": on}}),
        )
        .await;
    (
        c,
        v["createVehicle"]["vehicle"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_string(),
    )
}

fn section<'a>(d: &'a Value, name: &str) -> &'a Vec<Value> {
    d["myDay"][name].as_array().expect("section")
}

#[tokio::test]
async fn a_delivery_creates_a_revisit_that_goes_overdue_and_the_manager_is_told_once() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    delivered_car(
        &m,
        "新车主",
        "13800000001",
        "LVSHCAMB1CE123456",
        "2026-11-23",
    )
    .await;

    let care = app.login("cq.care").await;
    let day = care.data(MY_DAY, json!({})).await;
    let up = section(&day, "upcoming");
    assert_eq!(up.len(), 1, "{day}");
    let t = &up[0];
    assert_eq!(t["kind"], "REVISIT");
    assert_eq!(t["rule"], "delivery_revisit");
    assert_eq!(t["queue"], "CARE_AGENT");
    assert_eq!(t["dueAt"], "2026-11-30T15:59:59+00:00"); // end of 11-30 in Shanghai
    assert_eq!(
        t["customer"],
        json!({"name": "新车主", "mobile": "+8613800000001"})
    );
    assert_eq!(t["vehicle"], json!({"plate": "渝A88888", "model": "锐界"}));
    assert_eq!(t["lastContact"]["summary"], "交车时确认了联系方式");
    assert!(t["reason"].as_str().unwrap().contains("2026-11-23"));

    // The first-service reminder waits in the service advisors' queue for day 30.
    let adv = app.login("cq.advisor").await;
    let later = adv.data(MY_DAY, json!({"d": 40})).await;
    let r = &section(&later, "upcoming")[0];
    assert_eq!(r["kind"], "MAINTENANCE_REMINDER");
    assert_eq!(r["dueAt"], "2026-12-23T15:59:59+00:00");

    assert_eq!(app.tick().await.overdue, 0);
    app.clock.advance(Duration::days(8));
    let report = app.tick().await;
    assert_eq!(report.overdue, 1);
    // Eight days later everyone signs in again (access tokens last 15 minutes).
    let (m, care) = (app.login("cq.manager").await, app.login("cq.care").await);
    let day = care.data(MY_DAY, json!({})).await;
    let o = &section(&day, "overdue")[0];
    assert_eq!(o["status"], "OVERDUE");
    assert_eq!(o["escalationLevel"], 1);

    // The manager also heard of the new customer nobody is responsible for.
    let inbox = m.data(INBOX, json!({})).await;
    let overdue = overdue_notices(&inbox);
    assert_eq!(overdue.len(), 1, "{inbox}");
    let body = &overdue[0];
    assert!(
        body.contains("逾期") && body.contains("新车主") && body.contains("客服专员队列"),
        "{body}"
    );
    // The care agents in the queue were told too.
    assert_eq!(
        care.data(INBOX, json!({})).await["myNotifications"]["totalCount"],
        1
    );

    // Exactly once: more ticks send nothing new.
    app.clock.advance(Duration::hours(2));
    let again = app.tick().await;
    assert_eq!((again.overdue, again.sent), (0, 0));
    let m = app.login("cq.manager").await;
    assert_eq!(overdue_notices(&m.data(INBOX, json!({})).await).len(), 1);
}

/// The overdue notices in an inbox.
fn overdue_notices(inbox: &Value) -> Vec<String> {
    inbox["myNotifications"]["edges"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["node"]["body"].as_str())
                .filter(|b| b.starts_with("【逾期】"))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_changed_setting_applies_to_work_created_afterwards() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    delivered_car(&m, "甲", "13800000001", "LVSHCAMB1CE123456", "2026-11-23").await;
    let store = m.data("{ myStore { id } }", json!({})).await["myStore"]["id"].clone();
    m.data(
        "mutation($i: UpdateStoreInput!) { updateStore(input: $i) { userErrors { code } } }",
        json!({"i": {"storeId": store, "settings": {"deliveryRevisitDays": 3}}}),
    )
    .await;
    delivered_car(&m, "乙", "13800000002", "1M8GDM9AXKP042788", "2026-11-23").await;
    let day = app.login("cq.care").await.data(MY_DAY, json!({})).await;
    let due: Vec<(&str, &str)> = section(&day, "upcoming")
        .iter()
        .map(|t| {
            (
                t["customer"]["name"].as_str().unwrap(),
                t["dueAt"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        due,
        vec![
            ("乙", "2026-11-26T15:59:59+00:00"),
            ("甲", "2026-11-30T15:59:59+00:00")
        ]
    );
}

#[tokio::test]
async fn an_old_delivery_creates_no_past_due_work() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    delivered_car(
        &m,
        "老车主",
        "13800000001",
        "LVSHCAMB1CE123456",
        "2023-05-01",
    )
    .await;
    let day = m.data("{ tasks { totalCount } }", json!({})).await;
    assert_eq!(day["tasks"]["totalCount"], 0);
}

const COMPLETE: &str = "mutation($i: CompleteTaskInput!) { completeTask(input: $i) { task { status outcome completedAt } nextTask { id title dueAt assignee { username } } userErrors { field code message } } }";

#[tokio::test]
async fn completing_a_revisit_logs_the_outcome_and_schedules_the_next_step_in_one_go() {
    let app = spawn_app().await;
    let m = app.login("cq.manager").await;
    let (customer, _) = delivered_car(
        &m,
        "王先生",
        "13800000001",
        "LVSHCAMB1CE123456",
        "2026-11-23",
    )
    .await;
    let care = app.login("cq.care").await;
    let task = section(&care.data(MY_DAY, json!({})).await, "upcoming")[0]["id"].clone();

    // Someone outside the queue cannot see it, let alone complete it.
    let sales = app.login("cq.sales1").await;
    let r = sales
        .data(COMPLETE, json!({"i": {"taskId": task, "outcome": "x"}}))
        .await;
    assert_eq!(codes(&r["completeTask"]), vec!["NOT_FOUND"]);
    let past = care
        .data(COMPLETE, json!({"i": {"taskId": task, "outcome": "ok", "next": {"title": "再联系", "dueAt": "2026-11-01T00:00:00Z"}}}))
        .await;
    assert_eq!(codes(&past["completeTask"]), vec!["OUT_OF_RANGE"]);

    let done = care
        .data(
            COMPLETE,
            json!({"i": {"taskId": task, "outcome": "客户满意，提到座椅加热不会用", "channel": "PHONE",
                          "next": {"title": "教客户使用座椅加热", "dueAt": "2026-11-25T06:00:00Z"}}}),
        )
        .await;
    let p = &done["completeTask"];
    assert_eq!(p["task"]["status"], "DONE");
    assert_eq!(p["nextTask"]["assignee"]["username"], "cq.care");
    let log = care
        .data("query($id: ID!) { customer(id: $id) { log(first: 1) { edges { node { kind channel outcome staff { username } } } } } }", json!({"id": customer}))
        .await;
    assert_eq!(
        log["customer"]["log"]["edges"][0]["node"],
        json!({"kind": "REVISIT", "channel": "PHONE", "outcome": "客户满意，提到座椅加热不会用", "staff": {"username": "cq.care"}})
    );
    let day = care.data(MY_DAY, json!({})).await;
    assert_eq!(section(&day, "upcoming")[0]["title"], "教客户使用座椅加热");

    let twice = care
        .data(COMPLETE, json!({"i": {"taskId": task, "outcome": "again"}}))
        .await;
    assert_eq!(codes(&twice["completeTask"]), vec!["CONFLICT"]);
}

const CREATE_TASK: &str = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id title status assignee { username } } userErrors { field code } } }";

#[tokio::test]
async fn manual_tasks_refuse_past_due_dates_and_unknown_assignees() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("潜客", "13800000001", false).await;
    let past = s
        .data(
            CREATE_TASK,
            json!({"i": {"customerId": c, "title": "回电", "dueAt": "2026-11-22T00:00:00Z"}}),
        )
        .await;
    assert_eq!(codes(&past["createTask"]), vec!["OUT_OF_RANGE"]);
    let other_store = app
        .login("cd.manager")
        .await
        .data("{ me { id } }", json!({}))
        .await["me"]["id"]
        .clone();
    let foreign = s
        .data(CREATE_TASK, json!({"i": {"customerId": c, "title": "回电", "dueAt": "2026-11-23T09:00:00Z", "assigneeId": other_store}}))
        .await;
    assert_eq!(codes(&foreign["createTask"]), vec!["NOT_FOUND"]);
    let blank = s
        .data(
            CREATE_TASK,
            json!({"i": {"customerId": c, "title": " ", "dueAt": "2026-11-23T09:00:00Z"}}),
        )
        .await;
    assert_eq!(codes(&blank["createTask"]), vec!["REQUIRED"]);
    assert_eq!(
        s.data("{ tasks { totalCount } }", json!({})).await["tasks"]["totalCount"],
        0
    );

    let ok = s
        .data(
            CREATE_TASK,
            json!({"i": {"customerId": c, "title": "回电报价", "dueAt": "2026-11-23T09:00:00Z"}}),
        )
        .await;
    assert_eq!(
        ok["createTask"]["task"]["assignee"]["username"],
        "cq.sales1"
    );
    let day = s.data(MY_DAY, json!({})).await;
    assert_eq!(section(&day, "dueToday")[0]["title"], "回电报价");
}

#[tokio::test]
async fn the_assignee_is_reminded_before_the_due_time_once() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("潜客", "13800000001", false).await;
    s.data(
        CREATE_TASK,
        json!({"i": {"customerId": c, "title": "试驾回访", "dueAt": "2026-11-24T12:00:00Z"}}),
    )
    .await;
    assert_eq!(app.tick().await.reminded, 0);
    app.clock.advance(Duration::hours(11)); // 13:00Z, due in 23 h: inside the 24 h reminder lead
    let r = app.tick().await;
    assert_eq!((r.reminded, r.sent), (1, 1));
    assert_eq!(app.tick().await.reminded, 0);
    let s = app.login("cq.sales1").await;
    let inbox = s.data(INBOX, json!({})).await;
    assert!(inbox["myNotifications"]["edges"][0]["node"]["body"]
        .as_str()
        .unwrap()
        .starts_with("【提醒】试驾回访"));
    let id = s
        .data("{ myNotifications { edges { node { id } } } }", json!({}))
        .await["myNotifications"]["edges"][0]["node"]["id"]
        .clone();
    let read = s
        .data(
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { marked } }",
            json!({"ids": [id]}),
        )
        .await;
    assert_eq!(read["markNotificationsRead"]["marked"], 1);
    let unread = s
        .data(
            "{ myNotifications(unreadOnly: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(unread["myNotifications"]["totalCount"], 0);
}

#[tokio::test]
async fn a_task_closed_before_its_reminder_time_is_not_reminded() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("潜客", "13800000001", false).await;
    let mut ids = Vec::new();
    for title in ["已完成的回访", "已取消的回访", "仍待办的回访"] {
        let r = s
            .data(
                CREATE_TASK,
                json!({"i": {"customerId": c, "title": title, "dueAt": "2026-11-24T12:00:00Z"}}),
            )
            .await;
        ids.push(r["createTask"]["task"]["id"].clone());
    }
    let done = s
        .data(
            COMPLETE,
            json!({"i": {"taskId": ids[0], "outcome": "客户已到店"}}),
        )
        .await;
    assert_eq!(done["completeTask"]["task"]["status"], "DONE");
    let cancelled = s
        .data(
            "mutation($i: CancelTaskInput!) { cancelTask(input: $i) { task { status } } }",
            json!({"i": {"taskId": ids[1], "reason": "客户已购车"}}),
        )
        .await;
    assert_eq!(cancelled["cancelTask"]["task"]["status"], "CANCELLED");

    app.clock.advance(Duration::hours(11));
    assert_eq!(app.tick().await.reminded, 1);
    let s = app.login("cq.sales1").await;
    let inbox = s.data(INBOX, json!({})).await;
    let bodies: Vec<&str> = inbox["myNotifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["body"].as_str())
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("仍待办的回访"), "{bodies:?}");
}

#[tokio::test]
async fn a_pending_reminder_survives_the_reminder_queue_migration_down_and_up() {
    use migration::MigratorTrait;
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("潜客", "13800000001", false).await;
    s.data(
        CREATE_TASK,
        json!({"i": {"customerId": c, "title": "升级前的回访", "dueAt": "2026-11-24T12:00:00Z"}}),
    )
    .await;
    let db = &app.state.db;
    // Back to reminders on the task row, then forward to the queue again.
    // Down past every later migration to the reminder queue's (the third).
    let later = migration::Migrator::migrations().len() - 2;
    migration::Migrator::down(db, Some(later as u32))
        .await
        .expect("down");
    let on_row = "SELECT COUNT(*) FROM task WHERE remind_at IS NOT NULL";
    assert_eq!(crate::workers::scalar(&app, on_row).await, 1);
    migration::Migrator::up(db, None).await.expect("up");
    let queued = "SELECT COUNT(*) FROM task_reminder";
    assert_eq!(crate::workers::scalar(&app, queued).await, 1);

    app.clock.advance(Duration::hours(11));
    assert_eq!(app.tick().await.reminded, 1);
    let s = app.login("cq.sales1").await;
    let inbox = s.data(INBOX, json!({})).await;
    assert!(inbox["myNotifications"]["edges"][0]["node"]["body"]
        .as_str()
        .unwrap_or_default()
        .contains("升级前的回访"));
}

#[tokio::test]
async fn an_overdue_complaint_escalates_to_the_dealer_group_after_the_store_wait() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    let c = care.create_customer("投诉客户", "13800000001", false).await;
    care.data(
        CREATE_TASK,
        json!({"i": {"customerId": c, "kind": "COMPLAINT_RESPONSE", "title": "回应异响投诉", "dueAt": "2026-11-23T04:00:00Z"}}),
    )
    .await;
    app.clock.advance(Duration::hours(3));
    assert_eq!(app.tick().await.overdue, 1);
    assert_eq!(
        app.login("group.manager")
            .await
            .data(INBOX, json!({}))
            .await["myNotifications"]["totalCount"],
        0
    );
    app.clock.advance(Duration::hours(23));
    assert_eq!(
        app.tick().await.escalated,
        0,
        "the store waits 24 h per level"
    );
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.tick().await.escalated, 1);
    assert_eq!(app.tick().await.escalated, 0);
    let inbox = app
        .login("group.manager")
        .await
        .data(INBOX, json!({}))
        .await;
    assert_eq!(inbox["myNotifications"]["totalCount"], 1);
    let body = inbox["myNotifications"]["edges"][0]["node"]["body"]
        .as_str()
        .unwrap_or_default();
    assert!(body.contains("升级"), "{body}");
    // The group manager is beyond the consent line: no name, no typed title.
    assert!(
        !body.contains("投诉客户") && !body.contains("回应异响投诉"),
        "{body}"
    );
    assert!(body.contains("投诉响应"), "the task's kind instead: {body}");
}

#[tokio::test]
async fn managers_reassign_work_and_see_overdue_counts_by_staff() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("甲", "13800000001", false).await;
    let mut ids = Vec::new();
    for (title, due) in [
        ("A", "2026-11-23T03:00:00Z"),
        ("B", "2026-11-23T05:00:00Z"),
        ("C", "2026-11-30T05:00:00Z"),
    ] {
        let t = s1
            .data(
                CREATE_TASK,
                json!({"i": {"customerId": c, "title": title, "dueAt": due}}),
            )
            .await;
        ids.push(t["createTask"]["task"]["id"].clone());
    }
    app.clock.advance(Duration::hours(4));
    app.tick().await;
    let s1 = app.login("cq.sales1").await;
    let m = app.login("cq.manager").await;
    let w = m
        .data(
            "{ workload { staff { username } queue open overdue } }",
            json!({}),
        )
        .await;
    assert_eq!(
        w["workload"],
        json!([{"staff": {"username": "cq.sales1"}, "queue": null, "open": 3, "overdue": 2}])
    );
    assert_eq!(
        error_code(&s1.q("{ workload { open } }", json!({})).await),
        "FORBIDDEN"
    );

    let s2 = m.staff_id("cq.sales2").await;
    let reassign = "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { task { assignee { username } } userErrors { field code message } } }";
    // cq.sales2 may not see cq.sales1's customer: the task alone is refused…
    let refused = m
        .data(reassign, json!({"i": {"taskId": ids[0], "assigneeId": s2}}))
        .await;
    assert_eq!(
        codes(&refused["reassignTask"]),
        ["NOT_ALLOWED"],
        "{refused}"
    );
    // …and goes when the manager hands the customer over with it.
    let one = m
        .data(
            reassign,
            json!({"i": {"taskId": ids[0], "assigneeId": s2, "handOverCustomer": true}}),
        )
        .await;
    assert_eq!(
        one["reassignTask"]["task"]["assignee"]["username"],
        "cq.sales2"
    );
    let from = m.staff_id("cq.sales1").await;
    let all = m
        .data("mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) { moved userErrors { code } } }", json!({"i": {"fromStaffId": from, "toStaffId": s2}}))
        .await;
    assert_eq!(all["reassignTasks"]["moved"], 2);
    let day = app.login("cq.sales2").await.data(MY_DAY, json!({})).await;
    assert_eq!(section(&day, "overdue").len(), 2);
    assert_eq!(section(&day, "upcoming").len(), 1);
}

#[tokio::test]
async fn a_leaving_consultants_open_tasks_go_to_the_colleague_named() {
    let app = spawn_app().await;
    let s1 = app.login("cq.sales1").await;
    let c = s1.create_customer("甲", "13800000001", false).await;
    s1.data(
        CREATE_TASK,
        json!({"i": {"customerId": c, "title": "跟进", "dueAt": "2026-11-24T03:00:00Z"}}),
    )
    .await;
    let m = app.login("cq.manager").await;
    let (from, to) = (m.staff_id("cq.sales1").await, m.staff_id("cq.sales2").await);
    m.data(
        "mutation($i: DeactivateStaffInput!) { deactivateStaff(input: $i) { userErrors { code } } }",
        json!({"i": {"staffId": from, "reassignToId": to}}),
    )
    .await;
    let day = app.login("cq.sales2").await.data(MY_DAY, json!({})).await;
    assert_eq!(section(&day, "upcoming")[0]["title"], "跟进");
}

const SEND: &str = "mutation($i: SendCustomerMessageInput!) { sendCustomerMessage(input: $i) { notification { id status } userErrors { code } } }";
const OUTBOX: &str = "query($s: NotificationStatus) { notifications(filter: {status: $s}) { totalCount edges { node { id channel status attempts lastError body } } } }";

#[tokio::test]
async fn marketing_needs_consent_and_sms_waits_for_the_end_of_quiet_hours() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    // A consultant's customer: no unassigned-customer notice in the counts below.
    let c = app
        .login("cq.sales1")
        .await
        .create_customer("没授权", "13800000001", false)
        .await;
    let m = care
        .data(
            SEND,
            json!({"i": {"customerId": c, "category": "MARKETING", "text": "周末试驾活动"}}),
        )
        .await;
    assert_eq!(
        m["sendCustomerMessage"]["notification"]["status"],
        "SUPPRESSED"
    );

    app.clock.advance(Duration::hours(12)); // 14:00Z = 22:00 in Shanghai: quiet
    let care = app.login("cq.care").await;
    let s = care
        .data(
            SEND,
            json!({"i": {"customerId": c, "category": "SERVICE", "text": "您的爱车保养已完成"}}),
        )
        .await;
    assert_eq!(
        s["sendCustomerMessage"]["notification"]["status"],
        "PENDING"
    );
    let r = app.tick().await;
    assert_eq!((r.deferred, r.sent), (1, 0));
    app.clock.advance(Duration::hours(10)); // 08:00 next morning
    let r = app.tick().await;
    assert_eq!(r.sent, 1);
    let (mgr, care) = (app.login("cq.manager").await, app.login("cq.care").await);
    let sent = mgr.data(OUTBOX, json!({"s": "SENT"})).await;
    assert_eq!(sent["notifications"]["edges"][0]["node"]["attempts"], 1);
    assert_eq!(
        sent["notifications"]["edges"][0]["node"]["body"],
        "您的爱车保养已完成"
    );
    let log = care
        .data("query($id: ID!) { customer(id: $id) { log(first: 1) { edges { node { kind channel summary } } } } }", json!({"id": c}))
        .await;
    assert_eq!(log["customer"]["log"]["edges"][0]["node"]["channel"], "SMS");
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_retried_with_backoff_then_dead_lettered() {
    let app = spawn_app().await;
    let care = app.login("cq.care").await;
    let c = care.create_customer("微信用户", "13800000001", true).await;
    care.data(SEND, json!({"i": {"customerId": c, "channel": "WECHAT", "category": "SERVICE", "text": "保养提醒"}})).await;
    let mut retried = 0;
    let mut dead = 0;
    for _ in 0..10 {
        let r = app.tick().await;
        retried += r.retried;
        dead += r.dead;
        app.clock.advance(Duration::minutes(20));
    }
    assert_eq!((retried, dead), (4, 1), "5 attempts by default, then dead");
    let (mgr, care) = (app.login("cq.manager").await, app.login("cq.care").await);
    let d = mgr.data(OUTBOX, json!({"s": "DEAD"})).await;
    let n = &d["notifications"]["edges"][0]["node"];
    assert_eq!(n["attempts"], 5);
    assert!(n["lastError"].as_str().unwrap().contains("WeChat"));
    assert_eq!(
        error_code(&care.q(OUTBOX, json!({"s": "DEAD"})).await),
        "FORBIDDEN"
    );
    // The manager puts it back in the queue: it is tried again, from a
    // fresh count, and dies again after five more attempts.
    let id = n["id"].clone();
    const RETRY: &str = "mutation($ids: [ID!]!) { retryNotifications(ids: $ids) { requeued } }";
    let r = care.q(RETRY, json!({"ids": [id]})).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let r = mgr.data(RETRY, json!({"ids": [id]})).await;
    assert_eq!(r["retryNotifications"]["requeued"], 1, "{r}");
    let r = mgr.data(RETRY, json!({"ids": [id]})).await;
    assert_eq!(
        r["retryNotifications"]["requeued"], 0,
        "only dead letters: {r}"
    );
    let d = mgr.data(OUTBOX, json!({"s": "PENDING"})).await;
    assert_eq!(d["notifications"]["edges"][0]["node"]["attempts"], 0, "{d}");
    let r = app.tick().await;
    assert_eq!(r.retried, 1, "tried again at once");
}
