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
const MAX: usize = 4096;
/// The longest query text kept (bigger ones are parsed every time).
const MAX_TEXT: usize = 64 * 1024;

/// The cache, shared by every request of the process.
#[derive(Default)]
pub struct Documents(RwLock<HashMap<String, Arc<ExecutableDocument>>>);

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
        self.0.read().ok()?.get(hash).cloned()
    }

    fn put(&self, hash: String, doc: ExecutableDocument) {
        if let Ok(mut map) = self.0.write() {
            if map.len() >= MAX {
                map.clear();
            }
            map.insert(hash, Arc::new(doc));
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
        } else if let Ok(doc) = req.parsed_query() {
            let doc = doc.clone();
            self.put(hash, doc);
        }
        Ok(())
    }
}
