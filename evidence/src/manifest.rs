//! The pack manifest: an in-toto Statement whose subjects are every file of
//! the pack, signed in a DSSE envelope by a sealing key.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::digest::Sha256;
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::keys::{KeyError, SecretKey};
use crate::record::ReleaseBinding;
use crate::statement::{ResourceDescriptor, STATEMENT_TYPE, Statement};
use crate::timestamp::Timestamp;

/// The manifest's predicate type.
pub const MANIFEST_PREDICATE: &str = "https://conductor.dev/attestation/pack-manifest/v1";

/// One file of the pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Path inside the pack.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents.
    pub sha256: Sha256,
}

/// What the ledger looked like when sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LedgerSummary {
    /// Number of records.
    pub records: u64,
    /// SHA-256 of the last ledger line.
    pub head: Sha256,
    /// Merkle tree root (RFC 9162) over the ledger lines.
    pub root: Sha256,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Predicate {
    release: ReleaseBinding,
    ledger: LedgerSummary,
    trust_root: TrustRootRef,
    sealed_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustRootRef {
    sha256: Sha256,
}

/// The contents of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The release the pack belongs to.
    pub release: ReleaseBinding,
    /// The ledger summary.
    pub ledger: LedgerSummary,
    /// SHA-256 of the trust root the pack was sealed under.
    pub trust_root: Sha256,
    /// When the pack was sealed: the last record's time, so the pack's bytes
    /// depend on the ledger alone. Sealing keys must be valid at this time.
    pub sealed_at: Timestamp,
    /// Every file except the manifest itself and `SHA256SUMS`, sorted by path.
    pub files: Vec<FileEntry>,
}

/// Why a manifest cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("malformed manifest: {detail}")]
pub struct ManifestError {
    /// What is wrong.
    pub detail: String,
}

fn bad(detail: impl Into<String>) -> ManifestError {
    ManifestError { detail: detail.into() }
}

impl Manifest {
    /// The statement form.
    pub fn to_statement(&self) -> Statement {
        let subject = self.files.iter().map(|f| {
            let mut d = ResourceDescriptor::new(f.path.clone(), f.sha256);
            d.annotations = json!({ "size": f.size }).as_object().cloned();
            d
        });
        let predicate = Predicate {
            release: self.release.clone(),
            ledger: self.ledger.clone(),
            trust_root: TrustRootRef { sha256: self.trust_root },
            sealed_at: self.sealed_at,
        };
        Statement::new(subject.collect(), MANIFEST_PREDICATE, serde_json::to_value(predicate).unwrap_or(Value::Null))
    }

    /// Signs the manifest.
    pub fn sign(&self, key: &SecretKey) -> Result<Envelope, KeyError> {
        Envelope::sign(INTOTO_PAYLOAD_TYPE, &self.to_statement().to_bytes(), key)
    }

    /// Reads a manifest from a statement payload (signatures are checked by the caller).
    /// The payload is deserialised straight into typed fields, so a manifest of
    /// many files costs little more memory than its file list.
    pub fn from_payload(payload: &[u8]) -> Result<Self, ManifestError> {
        let raw: RawStatement = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
        if raw.statement_type != STATEMENT_TYPE || raw.predicate_type != MANIFEST_PREDICATE {
            return Err(bad(format!("expected a {MANIFEST_PREDICATE} statement")));
        }
        let predicate = raw.predicate;
        predicate.release.validate().map_err(|e| bad(format!("predicate.release: {e}")))?;
        let files: Vec<FileEntry> =
            raw.subject.into_iter().map(|s| FileEntry { path: s.name, size: s.annotations.size, sha256: s.digest.sha256 }).collect();
        let sorted = files.windows(2).all(|w| w[0].path < w[1].path);
        if !sorted {
            return Err(bad("subjects must be sorted by path without duplicates"));
        }
        Ok(Self { release: predicate.release, ledger: predicate.ledger, trust_root: predicate.trust_root.sha256, sealed_at: predicate.sealed_at, files })
    }

    /// The entry for `path`.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| &self.files[i])
    }

    /// The `SHA256SUMS` text: the manifest envelope and every listed file.
    pub fn sha256sums(&self, manifest_path: &str, manifest_digest: Sha256) -> String {
        let mut lines: Vec<(String, Sha256)> = self.files.iter().map(|f| (f.path.clone(), f.sha256)).collect();
        lines.push((manifest_path.to_owned(), manifest_digest));
        lines.sort();
        lines.iter().map(|(path, digest)| format!("{digest}  {path}\n")).collect()
    }
}

/// The manifest statement as read: only the fields a manifest has.
#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Predicate,
}

/// A subject of the manifest: a file with its digest and size. Digests under
/// other algorithm names and other annotations are ignored.
#[derive(Deserialize)]
struct RawSubject {
    name: String,
    digest: RawDigest,
    annotations: RawSize,
}

#[derive(Deserialize)]
struct RawDigest {
    sha256: Sha256,
}

#[derive(Deserialize)]
struct RawSize {
    size: u64,
}
