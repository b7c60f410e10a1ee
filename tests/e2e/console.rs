//! The manager console: served by the binary within its size budget, and
//! driven in a real browser (Debian's chromium with playwright-core, both
//! installed by `.ci/run`; see tests/browser/console.mjs).
use std::{path::Path, process::Command};

use crate::support::spawn_app;

/// Everything the console loads, gzipped as the server sends it.
#[tokio::test]
async fn the_console_is_served_whole_from_the_binary_within_its_budget() {
    let app = spawn_app().await;
    // `/` leads to the console.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("GET /");
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/console")
    );
    let page = app.get("/console").await.text().await.expect("page");
    // Nothing from another host: every script and sheet is the server's.
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            assert!(part.starts_with('/'), "an asset from elsewhere: {part:.60}");
        }
    }
    let mut total = 0;
    for file in ["", "/console.js", "/console.css", "/echarts.min.js"] {
        let r = app
            .http
            .get(format!("{}/console{file}", app.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some("gzip"),
            "{file} is sent compressed"
        );
        total += r.bytes().await.expect("body").len();
    }
    assert!(
        total < 500 * 1024,
        "the console weighs {total} bytes gzipped"
    );
    assert!(
        total > 100 * 1024,
        "the charts library is in it ({total} bytes)"
    );
    assert_eq!(app.get("/console/nothing.js").await.status(), 404);
}

/// Node.js, playwright-core (tests/browser/node_modules) and Debian's
/// chromium, when this machine has them.
fn browser_tools(root: &Path) -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("no chromium at {chromium}"));
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Err("playwright-core is not installed (npm ci in tests/browser)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("no node".into()),
    }
}

/// A manager signs in, sees the dashboard's figures equal to the API's,
/// switches language (screenshots of both), reassigns a lead, changes a
/// setting that sticks, downloads a report; a consultant is refused the
/// manager pages; group and OEM staff see their network and no customer
/// past the consent line. CI requires it (CONSOLE_BROWSER_TESTS=required);
/// elsewhere it runs when the tools are there.
#[tokio::test]
async fn the_console_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(why) = browser_tools(root) {
        assert!(
            std::env::var("CONSOLE_BROWSER_TESTS").as_deref() != Ok("required"),
            "the browser test is required but {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    let app = spawn_app().await;
    crate::insights::seed(&app).await;
    let backend = if app.db_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let shots = root.join("target/console-screenshots").join(backend);
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("tests/browser/console.mjs")
            .arg(&base)
            .arg(&shots)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .output()
    })
    .await
    .expect("join")
    .expect("run node");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for png in ["dashboard-zh-CN.png", "dashboard-en.png"] {
        let f = root
            .join("target/console-screenshots")
            .join(backend)
            .join(png);
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(
            len > 10_000,
            "{} is a real screenshot ({len} bytes)",
            f.display()
        );
    }
}
