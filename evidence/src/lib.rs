//! Signed, hash-chained release evidence and its offline verification.
//!
//! A release's evidence is a ledger: one DSSE envelope per line, each holding
//! an in-toto Statement v1 whose first subject links it to the previous line
//! by SHA-256. [`pack::write_pack`] seals a ledger, the evidence files it
//! names, a Merkle checkpoint (RFC 9162, C2SP signed note) and a signed
//! manifest into a deterministic zip; [`verify::verify`] checks such a pack
//! against the verifier's own [`trust::TrustRoot`] without any network access.
//!
//! The crate never reads the clock: callers pass [`timestamp::Timestamp`]s
//! and key material in. It draws no randomness of its own; only the ECDSA
//! (cosign) key generation and signing it wraps draw theirs inside aws-lc.
//!
//! ```
//! use evidence::{approval, keys::SecretKey, ledger::Ledger, pack, record, store::ObjectStore, timestamp::Timestamp, trust, verify};
//!
//! let dir = tempfile::tempdir()?;
//! let key = SecretKey::ed25519_from_seed(&[7; 32])?;
//! let release = record::ReleaseBinding {
//!     version: "v1.0.0".into(),
//!     commit: "0123456789abcdef0123456789abcdef01234567".into(),
//!     environment: "prod".into(),
//!     id: "00112233445566778899aabbccddeeff".into(),
//! };
//! let store = ObjectStore::new(dir.path().join("objects"));
//! let (sha256, size) = store.put(&b"<testsuite tests=\"1\"/>"[..])?;
//! let mut ledger = Ledger::open(&dir.path().join("ledger.intoto.jsonl"))?;
//! let draft = record::RecordDraft {
//!     phase: "P1".into(),
//!     record_type: "junit".into(),
//!     predicate_type: record::EVIDENCE_FILE_PREDICATE.into(),
//!     predicate: serde_json::json!({ "name": "junit.xml" }),
//!     subjects: vec![],
//!     evidence: vec![record::EvidenceRef { name: "junit.xml".into(), sha256, size }],
//! };
//! ledger.append(draft, &release, Timestamp::parse("2026-11-21T10:00:00Z")?, &key)?;
//!
//! let trust = trust::TrustRoot::parse(&trust::starter("notary", key.public_key(), None), "trust.toml")?;
//! let out = dir.path().join("evidence-v1.0.0.zip");
//! let input = pack::SealInput {
//!     records: ledger.records(),
//!     release: &release,
//!     store: &store,
//!     public_keys: &[key.public_key().clone()],
//!     trust_root: trust.digest(),
//!     seal_key: &key,
//!     approvals: &approval::ApprovalsMatrix::of(ledger.records(), &trust, &release),
//!     index_html: None,
//! };
//! pack::write_pack(&out, &input)?;
//! let outcome = verify::verify(&out, &trust, &verify::Options::default())?;
//! assert!(matches!(outcome, verify::Outcome::Verified(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod approval;
pub mod checkpoint;
pub mod digest;
pub mod dsse;
pub mod fuzz;
pub mod keys;
pub mod ledger;
pub mod manifest;
pub mod merkle;
pub mod pack;
pub mod record;
pub mod statement;
pub mod store;
pub mod timestamp;
pub mod trust;
pub mod verify;
pub mod worker;
