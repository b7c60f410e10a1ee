//! What an attacker or a broken client can do to sign-in and input: bounded
//! password hashing, throttled guesses, one login per request, a request
//! rate per user, and control characters refused on both databases.
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app, spawn_app_with, TestApp};

const LOGIN: &str = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken userErrors { code } } }";

/// Status, headers and JSON body of one POST /graphql.
async fn post(
    app: &TestApp,
    body: Value,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app.http.post(format!("{}/graphql", app.base)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

async fn try_login(app: &TestApp, login: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({"l": login, "p": password}))
        .await
}

fn retry_after(r: &Value) -> u64 {
    r["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn wrong_passwords_for_one_account_back_off_then_lock_and_a_real_user_gets_in_later() {
    let app = spawn_app().await;
    for i in 0..5 {
        let r = try_login(&app, "cq.sales1", "wrong-guess").await;
        assert_eq!(
            codes(&r["data"]["login"]),
            ["INVALID_CREDENTIALS"],
            "guess {i}: {r}"
        );
    }
    // The sixth wrong password is answered, then the account must wait.
    let r = try_login(&app, "cq.sales1", "wrong-guess").await;
    assert_eq!(codes(&r["data"]["login"]), ["INVALID_CREDENTIALS"]);
    let r = try_login(&app, "cq.sales1", "demo1234").await;
    assert_eq!(error_code(&r), "RATE_LIMITED", "{r}");
    assert!(retry_after(&r) >= 1);
    // Keep guessing, waiting out each backoff, until the lock.
    for _ in 0..4 {
        app.clock.advance(Duration::seconds(120));
        let r = try_login(&app, "cq.sales1", "wrong-guess").await;
        assert_eq!(codes(&r["data"]["login"]), ["INVALID_CREDENTIALS"], "{r}");
    }
    app.clock.advance(Duration::seconds(120));
    let r = try_login(&app, "cq.sales1", "demo1234").await;
    assert_eq!(
        error_code(&r),
        "RATE_LIMITED",
        "locked after 10 failures: {r}"
    );
    assert!(
        retry_after(&r) > 600,
        "a 15-minute lock from the tenth failure: {r}"
    );
    // Other accounts are not affected, and the owner gets in after the lock.
    assert!(
        try_login(&app, "cq.sales2", "demo1234").await["data"]["login"]["accessToken"].is_string()
    );
    app.clock.advance(Duration::minutes(15));
    let r = try_login(&app, "cq.sales1", "demo1234").await;
    assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_locked() {
    let app = spawn_app_with(|c| {
        c.login_address_free_failures = 3;
        c.login_address_lock_after = 5;
    })
    .await;
    for i in 0..5 {
        let r = try_login(&app, &format!("nobody{i}"), "wrong-guess").await;
        assert_eq!(codes(&r["data"]["login"]), ["INVALID_CREDENTIALS"], "{r}");
        app.clock.advance(Duration::seconds(20));
    }
    let r = try_login(&app, "cq.sales2", "demo1234").await;
    assert_eq!(error_code(&r), "RATE_LIMITED", "the address is locked: {r}");
}

#[tokio::test]
async fn aliased_logins_in_one_request_check_one_password() {
    let app = spawn_app().await;
    let aliases: Vec<String> = (0..20)
        .map(|i| format!("l{i}: login(input: {{login: \"cq.sales1\", password: \"guess{i}\"}}) {{ userErrors {{ code }} }}"))
        .collect();
    let doc = format!("mutation {{ {} }}", aliases.join(" "));
    let (_, _, r) = post(&app, json!({"query": doc}), None).await;
    assert_eq!(codes(&r["data"]["l0"]), ["INVALID_CREDENTIALS"], "{r}");
    let errors = r["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 19, "{r}");
    assert!(errors
        .iter()
        .all(|e| e["extensions"]["code"] == "RATE_LIMITED"));
    // One failure was counted, not twenty: five more are still free.
    for _ in 0..4 {
        let r = try_login(&app, "cq.sales1", "again").await;
        assert_eq!(codes(&r["data"]["login"]), ["INVALID_CREDENTIALS"], "{r}");
    }
}

#[tokio::test]
async fn a_user_sending_too_fast_is_told_when_to_come_back() {
    let app = spawn_app_with(|c| {
        c.rate_limit_per_minute = 60;
        c.rate_limit_burst = 5;
    })
    .await;
    let s = app.login("cq.sales1").await;
    let mut limited = None;
    for _ in 0..10 {
        let (status, headers, body) = post(
            &app,
            json!({"query": "{ me { username } }"}),
            Some(&s.token),
        )
        .await;
        if status == 429 {
            limited = Some((headers, body));
            break;
        }
        assert_eq!(body["data"]["me"]["username"], "cq.sales1");
    }
    let (headers, body) = limited.expect("the burst of 5 runs out");
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(headers.get("retry-after").is_some());
    // Another user is not slowed down by the first.
    let other = app.login("cq.sales2").await;
    assert_eq!(
        other.data("{ me { username } }", json!({})).await["me"]["username"],
        "cq.sales2"
    );
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_concurrent_wrong_logins_keep_memory_bounded_and_the_server_healthy() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return;
    }
    // Address throttling off, so that the hashing pool is what is tested.
    let app = spawn_app_with(|c| {
        c.login_address_free_failures = 100_000;
        c.login_address_lock_after = 100_000;
    })
    .await;
    let before = peak_rss_mib();
    let calls = (0..500).map(|i| {
        let app = &app;
        async move {
            try_login(
                app,
                &format!("cq.sales{}", i % 2 + 1),
                &format!("guess-{i}"),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let (mut refused, mut limited) = (0, 0);
    for r in &answers {
        if codes(&r["data"]["login"]) == ["INVALID_CREDENTIALS"] {
            refused += 1;
        } else if error_code(r) == "RATE_LIMITED" {
            limited += 1;
        } else {
            panic!("unexpected answer: {r}");
        }
    }
    assert_eq!(refused + limited, 500);
    assert!(refused >= 2, "some passwords were checked");
    let peak = peak_rss_mib();
    eprintln!("peak RSS {peak} MiB (before the logins {before} MiB)");
    // The whole test process: client, server and database driver together.
    assert!(peak < 200, "peak {peak} MiB (before {before} MiB)");
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert!(app.login("cq.manager").await.token.len() > 20);
}

#[tokio::test]
async fn control_characters_are_refused_in_every_input_and_nothing_is_stored() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let c = s.create_customer("王先生", "13800000001", false).await;
    let cases = [
        json!({"query": LOGIN, "variables": {"l": "cq.sales1\u{0}", "p": "demo1234"}}),
        json!({"query": "mutation { login(input: {login: \"a\\u0000\", password: \"x\"}) { accessToken } }"}),
        json!({"query": "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
               "variables": {"i": {"name": "王\u{0}先生", "mobile": "13800000002", "idempotencyKey": "k\u{1}"}}}),
        json!({"query": "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { id } } }",
               "variables": {"i": {"customerId": c, "summary": "通话\u{7}"}}}),
        json!({"query": "query($s: String) { customers(filter: {search: $s}) { totalCount } }", "variables": {"s": "\u{0}"}}),
    ];
    for body in cases {
        let (status, _, r) = post(&app, body.clone(), Some(&s.token)).await;
        assert_eq!(status, 400, "{body} → {r}");
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{r}");
        assert!(r["data"].is_null());
    }
    // Tabs and new lines in notes stay fine.
    let fine = s
        .q(
            "mutation($i: RecordContactInput!) { recordContact(input: $i) { entry { summary } } }",
            json!({"i": {"customerId": c, "summary": "第一行\n第二行\t备注"}}),
        )
        .await;
    assert_eq!(
        fine["data"]["recordContact"]["entry"]["summary"],
        "第一行\n第二行\t备注"
    );
    let total = s.data("{ customers { totalCount } }", json!({})).await;
    assert_eq!(total["customers"]["totalCount"], 1, "nothing half-stored");
}
