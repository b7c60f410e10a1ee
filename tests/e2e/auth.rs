use serde_json::json;

use crate::support::{codes, error_code, spawn_app};

const ME: &str = "{ me { username role store { code } } }";
const REFRESH: &str = "mutation($t: String!) { refresh(input: {refreshToken: $t}) { accessToken refreshToken userErrors { code field } } }";

#[tokio::test]
async fn staff_logs_in_with_username_or_mobile_and_sees_themself() {
    let app = spawn_app().await;
    let s = app.login("cq.sales1").await;
    let me = s.data(ME, json!({})).await;
    assert_eq!(me["me"]["username"], "cq.sales1");
    assert_eq!(me["me"]["role"], "SALES_CONSULTANT");
    assert_eq!(me["me"]["store"]["code"], "CQ001");

    // The demo accounts' mobiles are +86139000100NN; log in by mobile.
    let by_mobile = app.login("139 0001 0004").await;
    let me = by_mobile.data(ME, json!({})).await;
    assert_eq!(me["me"]["username"], "cq.sales1");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = spawn_app().await;
    let q = "mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { accessToken userErrors { code message } } }";
    let wrong = app
        .gql(None, q, json!({"l": "cq.sales1", "p": "nope-nope"}))
        .await;
    let unknown = app
        .gql(None, q, json!({"l": "nobody", "p": "nope-nope"}))
        .await;
    assert_eq!(
        wrong["data"]["login"]["accessToken"],
        serde_json::Value::Null
    );
    assert_eq!(codes(&wrong["data"]["login"]), vec!["INVALID_CREDENTIALS"]);
    assert_eq!(
        wrong["data"]["login"]["userErrors"],
        unknown["data"]["login"]["userErrors"]
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;
    let none = app.gql(None, ME, json!({})).await;
    assert_eq!(error_code(&none), "UNAUTHENTICATED");
    let junk = app.gql(Some("not.a.jwt"), ME, json!({})).await;
    assert_eq!(error_code(&junk), "UNAUTHENTICATED");
    assert!(junk.to_string().contains("invalid access token"));
}

#[tokio::test]
async fn access_token_expires_after_fifteen_minutes() {
    let app = spawn_app().await;
    let s = app.login("cq.manager").await;
    app.clock.advance(chrono::Duration::minutes(14));
    assert!(s.q(ME, json!({})).await.get("errors").is_none());
    app.clock.advance(chrono::Duration::minutes(2));
    let r = s.q(ME, json!({})).await;
    // A phone must know to refresh rather than sign in again.
    assert_eq!(error_code(&r), "TOKEN_EXPIRED");
    assert!(r.to_string().contains("expired"));
    let garbage = app.gql(Some("not-a-token"), ME, json!({})).await;
    assert_eq!(error_code(&garbage), "UNAUTHENTICATED");
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_spent_token_revokes_the_family() {
    let app = spawn_app().await;
    let s = app.login("cq.care").await;
    let first = s.refresh_token.clone();

    let r1 = app.gql(None, REFRESH, json!({"t": first})).await;
    let second = r1["data"]["refresh"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(second, first);
    let access = r1["data"]["refresh"]["accessToken"]
        .as_str()
        .expect("new access token")
        .to_string();
    assert!(app
        .gql(Some(&access), ME, json!({}))
        .await
        .get("errors")
        .is_none());

    // The spent token is presented again: reuse detected...
    let reuse = app.gql(None, REFRESH, json!({"t": first})).await;
    assert_eq!(codes(&reuse["data"]["refresh"]), vec!["TOKEN_REUSED"]);
    // ...and the newest token of that family no longer works either.
    let after = app.gql(None, REFRESH, json!({"t": second})).await;
    assert_eq!(
        after["data"]["refresh"]["accessToken"],
        serde_json::Value::Null
    );
    assert_eq!(codes(&after["data"]["refresh"]), vec!["TOKEN_INVALID"]);

    // Another login of the same person is a different family and survives.
    let other = app.login("cq.care").await;
    let ok = app
        .gql(None, REFRESH, json!({"t": other.refresh_token}))
        .await;
    assert!(ok["data"]["refresh"]["accessToken"].is_string(), "{ok}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    let out = app
        .gql(
            None,
            "mutation($t: String!) { logout(input: {refreshToken: $t}) { ok } }",
            json!({"t": s.refresh_token}),
        )
        .await;
    assert_eq!(out["data"]["logout"]["ok"], true);
    let r = app.gql(None, REFRESH, json!({"t": s.refresh_token})).await;
    assert_eq!(codes(&r["data"]["refresh"]), vec!["TOKEN_INVALID"]);
}

#[tokio::test]
async fn refresh_token_expires() {
    let app = spawn_app().await;
    let s = app.login("cq.advisor").await;
    app.clock.advance(chrono::Duration::days(31));
    let r = app.gql(None, REFRESH, json!({"t": s.refresh_token})).await;
    assert_eq!(codes(&r["data"]["refresh"]), vec!["TOKEN_EXPIRED"]);
}
