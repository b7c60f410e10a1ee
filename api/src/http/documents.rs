//! Parsed documents by the sha256 of their text: a client that sends the
//! same query again (every screen does) skips the parser, and a phone that
//! sends only the hash (Apollo's automatic persisted queries) gets the
//! document the server already knows. Bounded; a full cache starts again.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use async_graphql::{parser::types::ExecutableDocument, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Documents kept at most (the app's own screens need a few hundred).
const MAX: usize = 2048;
/// The longest query text kept (bigger ones are parsed every time).
const MAX_TEXT: usize = 16 * 1024;
/// Query text kept in all: with `MAX`, what bounds the memory a client
/// sending endless new documents can take.
const MAX_BYTES: usize = 2 * 1024 * 1024;

/// The cache, shared by every request of the process.
#[derive(Default)]
pub struct Documents(RwLock<Kept>);

#[derive(Default)]
struct Kept {
    docs: HashMap<String, Arc<ExecutableDocument>>,
    /// Query text behind `docs`, in bytes.
    bytes: usize,
}

/// Why a persisted query cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum PersistedError {
    /// Only the hash was sent, and the server does not know it (yet).
    NotFound,
    /// The `persistedQuery` extension is not version 1 with a hash.
    Invalid(&'static str),
    /// The hash sent is not the text's.
    Mismatch,
}

fn hash_of(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Documents {
    fn get(&self, hash: &str) -> Option<Arc<ExecutableDocument>> {
        self.0.read().ok()?.docs.get(hash).cloned()
    }

    fn put(&self, hash: String, doc: ExecutableDocument, text: usize) {
        if let Ok(mut kept) = self.0.write() {
            if kept.docs.len() >= MAX || kept.bytes + text > MAX_BYTES {
                *kept = Kept::default();
            }
            kept.bytes += text;
            kept.docs.insert(hash, Arc::new(doc));
        }
    }

    /// Gives the request its parsed document from the cache when it can
    /// (parsing and keeping it otherwise); a document that does not parse
    /// is left for the executor to report.
    pub fn prepare(&self, req: &mut Request) -> Result<(), PersistedError> {
        let asked = match req.extensions.remove("persistedQuery") {
            None => None,
            Some(v) => {
                let v = v.into_json().unwrap_or(Value::Null);
                if v["version"].as_i64() != Some(1) {
                    return Err(PersistedError::Invalid(
                        "only version 1 of the persistedQuery extension is supported",
                    ));
                }
                let Some(h) = v["sha256Hash"].as_str() else {
                    return Err(PersistedError::Invalid("persistedQuery needs a sha256Hash"));
                };
                Some(h.to_ascii_lowercase())
            }
        };
        if req.query.is_empty() {
            let Some(hash) = asked else {
                return Ok(());
            };
            let doc = self.get(&hash).ok_or(PersistedError::NotFound)?;
            req.set_parsed_query((*doc).clone());
            return Ok(());
        }
        if req.query.len() > MAX_TEXT {
            return Ok(());
        }
        let hash = hash_of(&req.query);
        if asked.is_some_and(|a| a != hash) {
            return Err(PersistedError::Mismatch);
        }
        if let Some(doc) = self.get(&hash) {
            req.set_parsed_query((*doc).clone());
        } else {
            let text = req.query.len();
            if let Ok(doc) = req.parsed_query() {
                let doc = doc.clone();
                self.put(hash, doc, text);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_stays_within_its_bounds_and_answers_hashes_it_has_seen() {
        let docs = Documents::default();
        for i in 0..(MAX + 10) {
            let mut req = Request::new(format!("{{ a{i}: __typename }}"));
            assert_eq!(docs.prepare(&mut req), Ok(()));
        }
        let kept = docs
            .0
            .read()
            .map(|k| (k.docs.len(), k.bytes))
            .unwrap_or_default();
        assert!(kept.0 <= MAX && kept.1 <= MAX_BYTES, "{kept:?}");
        let text = "{ me: __typename }";
        let hash = hash_of(text);
        let ext = |h: &str| {
            let mut r = Request::new("");
            r.extensions.insert(
                "persistedQuery".into(),
                async_graphql::Value::from_json(serde_json::json!({"version": 1, "sha256Hash": h}))
                    .unwrap_or_default(),
            );
            r
        };
        assert_eq!(docs.prepare(&mut ext(&hash)), Err(PersistedError::NotFound));
        assert_eq!(docs.prepare(&mut Request::new(text)), Ok(()));
        let mut by_hash = ext(&hash);
        assert_eq!(docs.prepare(&mut by_hash), Ok(()));
        assert!(by_hash.parsed_query().is_ok());
        let mut wrong = ext(&"0".repeat(64));
        wrong.query = text.into();
        assert_eq!(docs.prepare(&mut wrong), Err(PersistedError::Mismatch));
    }
}
