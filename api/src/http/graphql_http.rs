//! GraphQL over HTTP as the spec says (graphql-http's audit is the
//! reference): POST with `application/json`, GET for queries only, the
//! response media type negotiated from `Accept`, request errors (a body that
//! is not JSON, a document that does not parse or validate, variables that
//! do not coerce) as 400 without `data` for `application/graphql-response+json`
//! and as 200 for plain `application/json`; every error a JSON GraphQL error
//! with a code, never Rust debug text.
use std::collections::HashMap;

use async_graphql::{
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
    Request, Variables,
};
use axum::{
    body::Bytes,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::depth;
use crate::error::ApiError;

/// What the response is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: status codes tell request errors.
    GraphqlResponse,
    /// `application/json`: 200 for anything GraphQL answered.
    Json,
}

impl Media {
    /// The Content-Type header of a response in this media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// The response media type the client accepts, in its order of listing;
/// none given means `application/json`.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Some(Media::Json);
    };
    accept.split(',').find_map(|range| {
        let mut parts = range.split(';');
        let ty = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
        });
        if refused {
            return None;
        }
        match ty.as_str() {
            "application/graphql-response+json" => Some(Media::GraphqlResponse),
            "application/json" | "application/*" | "*/*" => Some(Media::Json),
            _ => None,
        }
    })
}

/// A request-level failure in the negotiated media type.
pub fn failure(status: StatusCode, media: Media, e: ApiError) -> Response {
    let mut resp = super::request_error(status, e);
    if let Ok(v) = HeaderValue::from_str(media.content_type()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// A 400 saying why the request is not a GraphQL request.
pub fn bad(media: Media, why: impl Into<String>) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        media,
        ApiError::BadRequest(why.into()),
    )
}

/// Whether the POST body is declared as JSON (any charset parameter).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The GraphQL request in a POST body, or why it is not one.
pub fn from_body(body: &Bytes) -> Result<Request, String> {
    if body.is_empty() {
        return Err("the request body is empty; send {\"query\": \"…\"}".into());
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the request body is not JSON: {e}"))?;
    let Value::Object(params) = v else {
        return Err("the request body must be a JSON object".into());
    };
    from_params(params)
}

/// The GraphQL request in GET query parameters (`variables` and
/// `extensions` as JSON text).
pub fn from_query(params: HashMap<String, String>) -> Result<Request, String> {
    let mut map = serde_json::Map::new();
    for (k, v) in params {
        let value = match k.as_str() {
            "variables" | "extensions" if !v.is_empty() => {
                serde_json::from_str(&v).map_err(|e| format!("{k} is not JSON: {e}"))?
            }
            _ => Value::String(v),
        };
        map.insert(k, value);
    }
    from_params(map)
}

fn from_params(mut params: serde_json::Map<String, Value>) -> Result<Request, String> {
    params.retain(|_, v| !v.is_null());
    let persisted = params
        .get("extensions")
        .and_then(|e| e.get("persistedQuery"))
        .is_some();
    match params.get("query") {
        Some(Value::String(_)) => {}
        None if persisted => {}
        None => return Err("the request has no query".into()),
        Some(_) => return Err("query must be a string".into()),
    }
    for (key, ok) in [
        (
            "operationName",
            params.get("operationName").is_none_or(Value::is_string),
        ),
        (
            "variables",
            params.get("variables").is_none_or(Value::is_object),
        ),
        (
            "extensions",
            params.get("extensions").is_none_or(Value::is_object),
        ),
    ] {
        if !ok {
            let want = if key == "operationName" {
                "a string"
            } else {
                "an object"
            };
            return Err(format!("{key} must be {want}"));
        }
    }
    let variables = params.remove("variables").map(Variables::from_json);
    let mut req: Request = serde_json::from_value(Value::Object(params))
        .map_err(|e| format!("not a GraphQL request: {e}"))?;
    if let Some(v) = variables {
        req.variables = v;
    }
    Ok(req)
}

/// The operation a document would run, if it can be told.
pub fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// The document's operation name, for metrics: the one asked for, or the
/// only named operation of the document.
pub fn operation_name(doc: Option<&ExecutableDocument>, asked: Option<&str>) -> Option<String> {
    if let Some(n) = asked {
        return Some(n.to_string());
    }
    match &doc?.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|k| k.to_string())
        }
        _ => None,
    }
}

/// Checks the data depth of a parsed document (introspection subtrees are
/// bounded by the schema's own, larger limit).
pub fn check_depth(doc: &ExecutableDocument, max: usize) -> Result<(), String> {
    match depth::data_depth(doc) {
        d if d > max => Err(format!(
            "the query is nested too deep ({d} levels; at most {max})"
        )),
        _ => Ok(()),
    }
}

/// The GraphQL response in the negotiated media type. A response with no
/// data and only errors without a path never ran: it is a request error.
pub fn respond(resp: async_graphql::Response, media: Media) -> Response {
    let request_error = resp.data == async_graphql::Value::Null
        && !resp.errors.is_empty()
        && resp.errors.iter().all(|e| e.path.is_empty());
    // Written once, straight to bytes; only a request error is reshaped.
    let body = if request_error {
        serde_json::to_value(&resp).and_then(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("data");
            }
            serde_json::to_vec(&v)
        })
    } else {
        serde_json::to_vec(&resp)
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                ApiError::Internal(e.into()),
            )
        }
    };
    let status = if request_error && media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut out = (status, body).into_response();
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_headers_pick_the_media_type() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Media::Json));
        assert_eq!(negotiate(&accept("application/json")), Some(Media::Json));
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
        assert_eq!(negotiate(&accept("application/json;q=0, text/html")), None);
    }
}
