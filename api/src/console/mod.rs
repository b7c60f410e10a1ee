//! The manager web console: a page and its script, styles and charts
//! library (Apache ECharts), all compiled into the binary and served by
//! it, so the console works offline and in networks where public CDNs are
//! slow or blocked. Plain JavaScript over the GraphQL API: no Node build
//! for `cargo build` or `cargo run`. The sources are in `api/assets/console/`.
use axum::{
    extract::Path,
    http::{header, HeaderValue},
    response::{Html, IntoResponse, Response},
};

/// The console's page: a shell that loads its script and styles.
pub const CONSOLE_PAGE: &str = include_str!("../../assets/console/index.html");

/// (file name, content type, bytes) of the console's assets.
const CONSOLE_FILES: [(&str, &str, &[u8]); 4] = [
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/console/console.css"),
    ),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console/echarts.min.js"),
    ),
    (
        "LICENSES.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/console/LICENSES.txt"),
    ),
];

/// `GET /console`: the page (its script routes by the URL's hash).
pub async fn page() -> Response {
    let mut resp = Html(CONSOLE_PAGE).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /console/{file}`: kept for five minutes, so a new release's
/// console reaches browsers soon.
pub async fn asset(Path(file): Path<String>) -> Response {
    crate::http::assets::serve(&CONSOLE_FILES, &file, "public, max-age=300")
}
