//! Where query responses come from: a live Prometheus ([`PrometheusHttp`]) or
//! a folder of responses recorded from one ([`Recorded`]), behind one
//! [`Source`] trait, and the [`Recorder`] that writes that folder.
//!
//! A recording holds each response body exactly as Prometheus returned it, in
//! `<key>.json`, where the key is the SHA-256 of the endpoint and its
//! parameters ([`Request::key`]), and an `index.json` mapping each key to its
//! endpoint, query, times, step and HTTP status so people can read it.

mod prometheus;
mod recorded;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use evidence::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub(crate) use prometheus::{Auth, PrometheusHttp};
pub(crate) use recorded::Recorded;

/// One API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `/api/v1/query` at `time`.
    Instant { query: String, time: Timestamp },
    /// `/api/v1/query_range` from `start` to `end` every `step` seconds.
    Range { query: String, start: Timestamp, end: Timestamp, step: u64 },
}

impl Request {
    /// The API path.
    pub(crate) fn endpoint(&self) -> &'static str {
        match self {
            Self::Instant { .. } => "/api/v1/query",
            Self::Range { .. } => "/api/v1/query_range",
        }
    }

    /// The URL parameters, in the order they are sent.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Instant { query, time } => vec![("query", query.clone()), ("time", time.to_string())],
            Self::Range { query, start, end, step } => vec![("query", query.clone()), ("start", start.to_string()), ("end", end.to_string()), ("step", step.to_string())],
        }
    }

    /// The stable name of its recorded response: the SHA-256 of the endpoint
    /// and each `name=value` parameter, one a line.
    pub(crate) fn key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.endpoint().as_bytes());
        for (name, value) in self.params() {
            hasher.update(format!("\n{name}={value}").as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// The parameters as a JSON object, for snapshots and the index.
    pub(crate) fn describe(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("endpoint".into(), self.endpoint().into());
        for (name, value) in self.params() {
            map.insert(name.into(), value.into());
        }
        Value::Object(map)
    }
}

/// A response: its HTTP status and body bytes.
#[derive(Clone, Debug)]
pub(crate) struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no response could be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The request did not get an answer (connection refused, timeout).
    #[error("{url} did not answer: {message}")]
    Transport { url: String, message: String },
    /// The recording holds no response for the request.
    #[error("the recording in {} holds no response for {endpoint} with {params}; record it again with record_to against a live Prometheus", folder.display())]
    NotRecorded { folder: PathBuf, endpoint: &'static str, params: String },
    /// A recorded file cannot be read.
    #[error("{} cannot be read: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    /// A response cannot be written into the recording folder.
    #[error("{} cannot be written: {message}; check that record_to names a writable folder", path.display())]
    Unwritable { path: PathBuf, message: String },
}

/// A place query responses come from.
#[async_trait::async_trait]
pub(crate) trait Source: Send + Sync {
    /// The response to one request.
    async fn fetch(&self, request: &Request) -> Result<Fetched, FetchError>;

    /// What the source is, for facts: `{kind, url}` or `{kind, folder}`.
    fn describe(&self) -> Value;
}

/// One entry of `index.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    pub endpoint: String,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub status: u16,
}

impl IndexEntry {
    fn of(request: &Request, status: u16) -> Self {
        let param = |name: &str| request.params().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        Self { endpoint: request.endpoint().into(), query: param("query").unwrap_or_default(), time: param("time"), start: param("start"), end: param("end"), step: param("step"), status }
    }
}

/// The index file of a recording folder.
pub(crate) fn index_path(folder: &Path) -> PathBuf {
    folder.join("index.json")
}

/// A source whose responses are also written to a recording folder.
pub(crate) struct Recorder {
    inner: Box<dyn Source>,
    folder: PathBuf,
    written: Mutex<BTreeMap<String, IndexEntry>>,
}

impl Recorder {
    /// Records what `inner` answers into `folder` (created when missing).
    pub(crate) fn new(inner: Box<dyn Source>, folder: PathBuf) -> Self {
        Self { inner, folder, written: Mutex::new(BTreeMap::new()) }
    }

    /// Adds this run's entries to `index.json`, keeping the entries earlier
    /// runs recorded.
    pub(crate) fn finish(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.folder).map_err(|e| format!("{} cannot be created: {e}", self.folder.display()))?;
        let path = index_path(&self.folder);
        let mut index: BTreeMap<String, IndexEntry> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a recording index: {e}; remove it to record afresh", path.display()))?,
            Err(_) => BTreeMap::new(),
        };
        // A poisoned lock only means a fetch panicked; the entries are still whole.
        let written = self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        index.extend(written.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut text = serde_json::to_string_pretty(&index).map_err(|e| e.to_string())?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| format!("{} cannot be written: {e}", path.display()))
    }

    fn keep(&self, request: &Request, fetched: &Fetched) -> Result<(), FetchError> {
        // Only Prometheus's own answers are worth replaying; a proxy's error page is not.
        if serde_json::from_slice::<Value>(&fetched.body).map_or(true, |v| v.get("status").is_none()) {
            return Ok(());
        }
        let key = request.key();
        let path = self.folder.join(format!("{key}.json"));
        let unwritable = |e: std::io::Error| FetchError::Unwritable { path: path.clone(), message: e.to_string() };
        std::fs::create_dir_all(&self.folder).map_err(unwritable)?;
        std::fs::write(&path, &fetched.body).map_err(unwritable)?;
        self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, IndexEntry::of(request, fetched.status));
        Ok(())
    }
}

#[async_trait::async_trait]
impl Source for Recorder {
    async fn fetch(&self, request: &Request) -> Result<Fetched, FetchError> {
        let fetched = self.inner.fetch(request).await?;
        self.keep(request, &fetched)?;
        Ok(fetched)
    }

    fn describe(&self) -> Value {
        self.inner.describe()
    }
}
