//! Worker attestations: an agent that runs on another host signs its outcome
//! with the worker's own key, as a DSSE envelope over an in-toto statement
//! whose subjects are the evidence files it produced. The notary, still the
//! ledger's single writer, carries the envelope in the outcome record
//! (`predicate.worker.attestation`), and verification checks it against the
//! verifier's trust root: the key must be trusted, valid when the record was
//! written, and allowed the agent's kind (`kinds`) and phase (`phases`).
//!
//! ```
//! use evidence::digest::Sha256;
//! use evidence::keys::SecretKey;
//! use evidence::record::ReleaseBinding;
//! use evidence::timestamp::Timestamp;
//! use evidence::trust::TrustRoot;
//! use evidence::worker::{WorkerOutcome, attest, check};
//!
//! let key = SecretKey::ed25519_from_seed(&[7; 32]).unwrap();
//! let trust = TrustRoot::parse(&format!(
//!     "version = 1\n[[keys]]\nid = \"{}\"\nname = \"dr-worker\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"*\"]\nkinds = [\"command\"]\n",
//!     key.id(), key.public_key().to_pem()), "trust.toml").unwrap();
//! let outcome = WorkerOutcome {
//!     release: ReleaseBinding { id: "r".into(), version: "1.0.0".into(), commit: "c".into(), environment: "prod".into() },
//!     phase: "P4".into(), agent: "DR Drill".into(), kind: "command".into(),
//!     task_id: "t".into(), run_id: "run".into(), verdict: "pass".into(), reason: "ok".into(), facts: serde_json::json!({}),
//! };
//! let envelope = attest(&outcome, &[("drill.log".into(), Sha256::of(b"log"))], &key).unwrap();
//! let at = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
//! let attested = check(&envelope, &trust, at).unwrap();
//! assert_eq!(attested.outcome, outcome);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Sha256;
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE, pae};
use crate::keys::{KeyError, SecretKey};
use crate::record::{ReleaseBinding, Record};
use crate::statement::{ResourceDescriptor, STATEMENT_TYPE, Statement};
use crate::timestamp::Timestamp;
use crate::trust::TrustRoot;

/// The predicate type of a worker's signed outcome.
pub const WORKER_OUTCOME_PREDICATE: &str = "https://conductor.dev/attestation/worker-outcome/v1";

/// What a worker says one agent task found: the predicate of its attestation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerOutcome {
    /// The release the task was for.
    pub release: ReleaseBinding,
    /// The phase.
    pub phase: String,
    /// The roster name of the agent.
    pub agent: String,
    /// The kind that ran it.
    pub kind: String,
    /// The idempotent task id.
    pub task_id: String,
    /// The phase run the task belongs to.
    pub run_id: String,
    /// The verdict, as the agent outcome record writes it (`pass`, `fail`, ...).
    pub verdict: String,
    /// Why.
    pub reason: String,
    /// Facts for the gate.
    pub facts: Value,
}

/// A worker attestation whose signature and key scope held.
#[derive(Clone, Debug, PartialEq)]
pub struct Attested {
    /// The id of the key that signed it.
    pub key_id: String,
    /// The trust root's name for that key.
    pub key_name: String,
    /// What the worker said.
    pub outcome: WorkerOutcome,
    /// The evidence files it produced: (name, SHA-256).
    pub files: Vec<(String, Sha256)>,
}

/// Why a worker attestation does not hold.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum AttestationError {
    /// Not a DSSE envelope over a worker-outcome statement.
    #[error("the worker attestation is malformed: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// No signature is by a key the trust root lists.
    #[error("the worker attestation is signed by key {key_id}, which the trust root does not list; add the worker's key with `kinds` to trust.toml")]
    KeyUnknown {
        /// The signing key.
        key_id: String,
    },
    /// The signing key is revoked.
    #[error("the worker attestation is signed by key {key_id} ({name}), which the trust root revokes: {reason}")]
    KeyRevoked {
        /// The signing key.
        key_id: String,
        /// Its name.
        name: String,
        /// Why it was revoked.
        reason: String,
    },
    /// The record was written outside the key's validity window.
    #[error("the worker attestation by key {key_id} ({name}) was recorded at {at}, outside the key's validity window")]
    KeyOutsideValidity {
        /// The signing key.
        key_id: String,
        /// Its name.
        name: String,
        /// When the record was written.
        at: Timestamp,
    },
    /// The signature does not verify.
    #[error("the worker attestation's signature by key {key_id} ({name}) does not verify; the outcome was changed after the worker signed it")]
    SignatureInvalid {
        /// The signing key.
        key_id: String,
        /// Its name.
        name: String,
    },
    /// The key may not attest outcomes of this kind.
    #[error("worker key {key_id} ({name}) may not attest outcomes of kind {kind}; add \"{kind}\" to its `kinds` in trust.toml")]
    KindNotAllowed {
        /// The signing key.
        key_id: String,
        /// Its name.
        name: String,
        /// The agent kind.
        kind: String,
    },
    /// The key may not attest outcomes of this phase.
    #[error("worker key {key_id} ({name}) may not attest outcomes of phase {phase}; add \"{phase}\" to its `phases` in trust.toml")]
    PhaseNotAllowed {
        /// The signing key.
        key_id: String,
        /// Its name.
        name: String,
        /// The phase.
        phase: String,
    },
}

/// Signs `outcome` and the digests of its evidence `files` with the worker's `key`.
pub fn attest(outcome: &WorkerOutcome, files: &[(String, Sha256)], key: &SecretKey) -> Result<Envelope, KeyError> {
    let subject = files.iter().map(|(name, sha256)| ResourceDescriptor::new(name.clone(), *sha256)).collect();
    // A struct of strings and a JSON value always serialises.
    let predicate = serde_json::to_value(outcome).unwrap_or(Value::Null);
    let statement = Statement::new(subject, WORKER_OUTCOME_PREDICATE, predicate);
    Envelope::sign(INTOTO_PAYLOAD_TYPE, &statement.to_bytes(), key)
}

/// Opens `envelope` under `trust`: one of its signatures must be by a listed,
/// unrevoked key valid `at` the time the outcome is recorded, whose `kinds`
/// and `phases` allow the outcome, and must verify.
pub fn check(envelope: &Envelope, trust: &TrustRoot, at: Timestamp) -> Result<Attested, AttestationError> {
    let malformed = |detail: String| AttestationError::Malformed { detail };
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(malformed(format!("payload type {} is not {INTOTO_PAYLOAD_TYPE}", envelope.payload_type)));
    }
    let payload = envelope.payload_bytes().map_err(|e| malformed(e.to_string()))?;
    let statement: Statement = serde_json::from_slice(&payload).map_err(|e| malformed(format!("the payload is not an in-toto statement: {e}")))?;
    if statement.statement_type != STATEMENT_TYPE || statement.predicate_type != WORKER_OUTCOME_PREDICATE {
        return Err(malformed(format!("the statement's predicate type is {}, not {WORKER_OUTCOME_PREDICATE}", statement.predicate_type)));
    }
    let outcome = WorkerOutcome::deserialize(&statement.predicate).map_err(|e| malformed(format!("the predicate is not a worker outcome: {e}")))?;
    let mut files = Vec::new();
    for (i, subject) in statement.subject.iter().enumerate() {
        let sha256 = subject.sha256().ok_or_else(|| malformed(format!("subject[{i}] has no sha256 digest")))?;
        files.push((subject.name.clone(), sha256));
    }
    let (key_id, key_name) = signer(envelope, &payload, trust, at, &outcome)?;
    Ok(Attested { key_id, key_name, outcome, files })
}

/// The first trusted signature, checked; the error of the first signature otherwise.
fn signer(envelope: &Envelope, payload: &[u8], trust: &TrustRoot, at: Timestamp, outcome: &WorkerOutcome) -> Result<(String, String), AttestationError> {
    let message = pae(&envelope.payload_type, payload);
    let mut first_error = None;
    for (i, sig) in envelope.signatures.iter().enumerate() {
        let key_id = sig.keyid.clone();
        let Some(key) = trust.key(&sig.keyid) else {
            first_error.get_or_insert(AttestationError::KeyUnknown { key_id });
            continue;
        };
        let name = key.name.clone();
        let problem = if let Some(reason) = trust.revocation(&sig.keyid) {
            Some(AttestationError::KeyRevoked { key_id, name, reason: reason.to_owned() })
        } else if !key.valid_at(at) {
            Some(AttestationError::KeyOutsideValidity { key_id, name, at })
        } else if envelope.signature_bytes(i).ok().is_none_or(|bytes| key.key.verify(&message, &bytes).is_err()) {
            Some(AttestationError::SignatureInvalid { key_id, name })
        } else if !key.kinds.allows(&outcome.kind) {
            Some(AttestationError::KindNotAllowed { key_id, name, kind: outcome.kind.clone() })
        } else if !key.phases.allows(&outcome.phase) {
            Some(AttestationError::PhaseNotAllowed { key_id, name, phase: outcome.phase.clone() })
        } else {
            return Ok((key_id, name));
        };
        first_error = first_error.or(problem);
    }
    Err(first_error.unwrap_or(AttestationError::Malformed { detail: "the envelope has no signatures".into() }))
}

impl Attested {
    /// Whether the ledger `record` says what the worker attested: the same
    /// release, phase, agent, kind, task, run, verdict, reason, facts and
    /// evidence files. The difference, in words, when it does not.
    pub fn matches(&self, record: &Record) -> Result<(), String> {
        let o = &self.outcome;
        let p = &record.statement.predicate;
        let text = |field: &str| p.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
        let fields = [
            ("phase", o.phase.clone(), record.link.phase.clone()),
            ("agent", o.agent.clone(), text("agent")),
            ("kind", o.kind.clone(), text("kind")),
            ("taskId", o.task_id.clone(), text("taskId")),
            ("runId", o.run_id.clone(), text("runId")),
            ("verdict", o.verdict.clone(), text("verdict")),
            ("reason", o.reason.clone(), text("reason")),
        ];
        if let Some((field, attested, recorded)) = fields.iter().find(|(_, a, r)| a != r) {
            return Err(format!("the worker attested {field} '{attested}', the record says '{recorded}'"));
        }
        if p.get("facts").unwrap_or(&Value::Null) != &o.facts {
            return Err("the record's facts differ from the facts the worker attested".into());
        }
        if o.release != record.link.release {
            return Err(format!("the worker attested release {} {}, the record is bound to {} {}", o.release.version, o.release.id, record.link.release.version, record.link.release.id));
        }
        let mut attested: Vec<(&str, Sha256)> = self.files.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let mut recorded: Vec<(&str, Sha256)> = record.link.evidence.iter().map(|e| (e.name.as_str(), e.sha256)).collect();
        attested.sort();
        recorded.sort();
        if attested != recorded {
            return Err(format!("the worker attested {} evidence files, the record lists {} that differ by name or digest", attested.len(), recorded.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SecretKey {
        SecretKey::ed25519_from_seed(&[seed; 32]).unwrap()
    }

    fn trust(key: &SecretKey, kinds: &str) -> TrustRoot {
        let text = format!(
            "version = 1\n[[keys]]\nid = \"{}\"\nname = \"worker\"\npublic_key = \"\"\"\n{}\"\"\"\nphases = [\"*\"]\nkinds = {kinds}\n",
            key.id(),
            key.public_key().to_pem()
        );
        TrustRoot::parse(&text, "trust.toml").unwrap()
    }

    fn outcome() -> WorkerOutcome {
        WorkerOutcome {
            release: ReleaseBinding { id: "r".into(), version: "1.0.0".into(), commit: "c".into(), environment: "prod".into() },
            phase: "P1".into(),
            agent: "a".into(),
            kind: "command".into(),
            task_id: "t".into(),
            run_id: "run".into(),
            verdict: "pass".into(),
            reason: "ok".into(),
            facts: serde_json::json!({"n": 1}),
        }
    }

    fn at() -> Timestamp {
        Timestamp::parse("2026-06-01T00:00:00Z").unwrap()
    }

    #[test]
    fn a_kind_outside_the_keys_scope_is_refused() {
        let k = key(1);
        let env = attest(&outcome(), &[], &k).unwrap();
        assert!(check(&env, &trust(&k, "[\"command\"]"), at()).is_ok());
        assert!(matches!(check(&env, &trust(&k, "[\"slo\"]"), at()), Err(AttestationError::KindNotAllowed { .. })));
        // A key listed without `kinds` attests nothing.
        assert!(matches!(check(&env, &trust(&k, "[]"), at()), Err(AttestationError::KindNotAllowed { .. })));
    }

    #[test]
    fn an_unknown_key_and_a_changed_payload_are_refused() {
        let env = attest(&outcome(), &[], &key(1)).unwrap();
        assert!(matches!(check(&env, &trust(&key(2), "[\"*\"]"), at()), Err(AttestationError::KeyUnknown { .. })));
        let mut changed = outcome();
        changed.verdict = "fail".into();
        let mut forged = attest(&changed, &[], &key(3)).unwrap();
        forged.signatures = env.signatures.clone();
        assert!(matches!(check(&forged, &trust(&key(1), "[\"*\"]"), at()), Err(AttestationError::SignatureInvalid { .. })));
    }
}
