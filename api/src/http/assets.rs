//! GraphiQL served from the binary: its page and bundles are compiled in,
//! so it works offline and where public CDNs are slow or blocked. The
//! manager console is served the same way (see the `console` module).
use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// The GraphiQL page: a sign-in bar (tokens kept for the tab and refreshed
/// before they expire) above GraphiQL, which authenticates its queries and
/// its subscriptions with the signed-in token.
pub const GRAPHIQL_PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// (file name, content type, bytes) of every embedded asset.
const FILES: [(&str, &str, &[u8]); 5] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "LICENSES.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/graphiql/LICENSES.txt"),
    ),
];

/// `GET /assets/graphiql/{file}`.
pub async fn graphiql_asset(Path(file): Path<String>) -> Response {
    serve(&FILES, &file, "public, max-age=86400")
}

/// Answers with the named file of `files`, or 404.
pub(crate) fn serve(
    files: &[(&str, &'static str, &'static [u8])],
    file: &str,
    cache: &'static str,
) -> Response {
    match files.iter().find(|(name, _, _)| *name == file) {
        Some((_, ty, bytes)) => {
            let mut resp = (StatusCode::OK, *bytes).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            resp
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
