//! in-toto Statement v1 and the ledger link every record carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Sha256;

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// An in-toto Statement v1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about. The first subject of a ledger record is
    /// its [`LedgerLink`](crate::record::LedgerLink).
    pub subject: Vec<ResourceDescriptor>,
    /// The URI naming the predicate's schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The claim itself.
    #[serde(default)]
    pub predicate: Value,
}

/// An in-toto ResourceDescriptor, limited to the fields this format writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// A name for the resource.
    #[serde(default)]
    pub name: String,
    /// Digests by algorithm name; this format always writes `sha256`.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Map<String, Value>>,
}

impl ResourceDescriptor {
    /// A named resource with its SHA-256.
    pub fn new(name: impl Into<String>, sha256: Sha256) -> Self {
        let digest = BTreeMap::from([("sha256".to_owned(), sha256.to_hex())]);
        Self { name: name.into(), digest, annotations: None }
    }

    /// The SHA-256, if present and well formed.
    pub fn sha256(&self) -> Option<Sha256> {
        self.digest.get("sha256").and_then(|hex| Sha256::from_hex(hex).ok())
    }
}

impl Statement {
    /// A statement over `subject` with the given predicate.
    pub fn new(subject: Vec<ResourceDescriptor>, predicate_type: impl Into<String>, predicate: Value) -> Self {
        Self { statement_type: STATEMENT_TYPE.to_owned(), subject, predicate_type: predicate_type.into(), predicate }
    }

    /// Compact JSON bytes. Struct fields keep their declared order; maps inside
    /// the predicate and annotations follow serde_json's map order. The bytes
    /// are signed as they are, so no reader depends on either order.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A Value tree with string keys always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
