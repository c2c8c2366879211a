//! Responses replayed from a recording folder: the embedded source, so a
//! snapshot can be made again, byte for byte, without the Prometheus it came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{FetchError, Fetched, IndexEntry, Request, Source, index_path};

/// A recording folder and its index.
#[derive(Debug)]
pub(crate) struct Recorded {
    folder: PathBuf,
    shown: String,
    index: BTreeMap<String, IndexEntry>,
}

impl Recorded {
    /// Opens `folder` (shown in facts as `shown`, the path as configured).
    pub(crate) fn open(folder: &Path, shown: &str) -> Result<Self, String> {
        let path = index_path(folder);
        let bytes = std::fs::read(&path).map_err(|e| format!("{} cannot be read: {e}; record responses into {shown} with record_to against a live Prometheus", path.display()))?;
        let index = serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a recording index: {e}", path.display()))?;
        Ok(Self { folder: folder.to_owned(), shown: shown.to_owned(), index })
    }

    /// The distinct evaluation times the recording holds, for the error that
    /// asks for one.
    pub(crate) fn times(&self) -> Vec<String> {
        let mut times: Vec<String> = self.index.values().filter_map(|e| e.time.clone().or_else(|| e.end.clone())).collect();
        times.sort();
        times.dedup();
        times
    }
}

#[async_trait::async_trait]
impl Source for Recorded {
    async fn fetch(&self, request: &Request) -> Result<Fetched, FetchError> {
        let key = request.key();
        let params = || request.params().iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" ");
        let entry = self.index.get(&key).ok_or_else(|| FetchError::NotRecorded { folder: PathBuf::from(&self.shown), endpoint: request.endpoint(), params: params() })?;
        let path = self.folder.join(format!("{key}.json"));
        let body = std::fs::read(&path).map_err(|e| FetchError::Unreadable { path: path.clone(), message: e.to_string() })?;
        Ok(Fetched { status: entry.status, body })
    }

    fn describe(&self) -> Value {
        json!({ "kind": "recorded", "folder": self.shown })
    }
}
