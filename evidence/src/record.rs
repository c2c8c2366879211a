//! Ledger records: a signed in-toto Statement whose first subject links it
//! into the hash chain of its release.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Sha256;
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::keys::{KeyError, SecretKey};
use crate::statement::{ResourceDescriptor, STATEMENT_TYPE, Statement};
use crate::timestamp::Timestamp;

/// The subject name that marks a record's ledger link.
pub const LINK_SUBJECT: &str = "conductor:ledger";

/// The predicate type of the first record of every release.
pub const RELEASE_PREDICATE: &str = "https://conductor.dev/attestation/release/v1";

/// The predicate type of a record that attests one evidence file.
pub const EVIDENCE_FILE_PREDICATE: &str = "https://conductor.dev/attestation/evidence-file/v1";

/// What a release is: the version, commit and environment every record is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBinding {
    /// The version being released, such as `v1.0.0`.
    pub version: String,
    /// The full git commit id.
    pub commit: String,
    /// The target environment, such as `prod`.
    pub environment: String,
    /// A random id chosen when the release started, so two releases of the same
    /// version (one abandoned, one retried) never share records.
    pub id: String,
}

/// A field of a release binding or record that breaks the naming rules.
#[derive(Debug, thiserror::Error)]
#[error("{field} '{value}' is not valid: {rule}")]
pub struct NameError {
    /// Which field.
    pub field: &'static str,
    /// The rejected value.
    pub value: String,
    /// What a valid value looks like.
    pub rule: &'static str,
}

impl ReleaseBinding {
    /// Checks every field against the naming rules of the format.
    pub fn validate(&self) -> Result<(), NameError> {
        check(&self.version, "version", 64, |c| c.is_ascii_alphanumeric() || "._+-".contains(c),
            "use letters, digits and . _ + - (at most 64), like v1.2.0")?;
        let commit_ok = matches!(self.commit.len(), 40 | 64)
            && self.commit.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !commit_ok {
            return Err(NameError { field: "commit", value: self.commit.clone(), rule: "a full lowercase hex git commit id" });
        }
        check(&self.environment, "environment", 32, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c),
            "use lowercase letters, digits, _ and - (at most 32), like prod")?;
        let id_ok = self.id.len() == 32 && self.id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !id_ok {
            return Err(NameError { field: "release id", value: self.id.clone(), rule: "32 lowercase hex digits" });
        }
        Ok(())
    }
}

/// Checks a phase id such as `P3`: letters, digits, `_` and `-`, at most 32.
pub fn validate_phase(phase: &str) -> Result<(), NameError> {
    check(phase, "phase", 32, |c| c.is_ascii_alphanumeric() || "_-".contains(c), "use letters, digits, _ and -, like P3")
}

/// Checks a record type such as `junit`: lowercase, digits, `.`, `_`, `-`, at most 64.
pub fn validate_record_type(record_type: &str) -> Result<(), NameError> {
    check(record_type, "type", 64, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c),
        "use lowercase letters, digits, . _ and -, like junit")
}

fn check(value: &str, field: &'static str, max: usize, ok: impl Fn(char) -> bool, rule: &'static str) -> Result<(), NameError> {
    if value.is_empty() || value.len() > max || !value.chars().all(ok) {
        return Err(NameError { field, value: value.chars().take(80).collect(), rule });
    }
    Ok(())
}

/// An evidence file a record refers to; the file itself is stored by digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRef {
    /// The file's name when it was attested.
    pub name: String,
    /// Its SHA-256.
    pub sha256: Sha256,
    /// Its size in bytes.
    pub size: u64,
}

impl EvidenceRef {
    /// The path of the file inside a pack.
    pub fn pack_path(&self) -> String {
        format!("evidence/sha256/{}", self.sha256)
    }
}

/// The chain position and context of a record, carried in the annotations of
/// its first subject, whose `sha256` digest is the previous line's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLink {
    /// Position in the ledger, from 0.
    pub sequence: u64,
    /// SHA-256 of the previous ledger line (all zeros for sequence 0).
    pub previous: Sha256,
    /// The phase the record belongs to.
    pub phase: String,
    /// The kind of evidence, such as `junit`.
    pub record_type: String,
    /// When the signer says it recorded this.
    pub recorded_at: Timestamp,
    /// The release the record belongs to.
    pub release: ReleaseBinding,
    /// Evidence files stored by digest.
    pub evidence: Vec<EvidenceRef>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LinkAnnotations {
    sequence: u64,
    phase: String,
    #[serde(rename = "type")]
    record_type: String,
    recorded_at: Timestamp,
    release: ReleaseBinding,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<EvidenceRef>,
}

impl LedgerLink {
    fn to_subject(&self) -> ResourceDescriptor {
        let annotations = LinkAnnotations {
            sequence: self.sequence,
            phase: self.phase.clone(),
            record_type: self.record_type.clone(),
            recorded_at: self.recorded_at,
            release: self.release.clone(),
            evidence: self.evidence.clone(),
        };
        let mut subject = ResourceDescriptor::new(LINK_SUBJECT, self.previous);
        if let Ok(Value::Object(map)) = serde_json::to_value(annotations) {
            subject.annotations = Some(map);
        }
        subject
    }

    fn from_subject(subject: &ResourceDescriptor) -> Result<Self, RecordError> {
        if subject.name != LINK_SUBJECT {
            return Err(RecordError::malformed(format!("the first subject must be named '{LINK_SUBJECT}'")));
        }
        let previous = subject.sha256().ok_or_else(|| RecordError::malformed("the ledger link has no sha256 digest"))?;
        let annotations = subject.annotations.as_ref().ok_or_else(|| RecordError::malformed("the ledger link has no annotations"))?;
        // Deserialising from a borrowed map avoids copying it for every record.
        let a = LinkAnnotations::deserialize(annotations).map_err(|e| RecordError::malformed(format!("ledger link annotations: {e}")))?;
        validate_phase(&a.phase).map_err(|e| RecordError::malformed(e.to_string()))?;
        validate_record_type(&a.record_type).map_err(|e| RecordError::malformed(e.to_string()))?;
        a.release.validate().map_err(|e| RecordError::malformed(format!("ledger link release: {e}")))?;
        let link = LedgerLink {
            sequence: a.sequence,
            previous,
            phase: a.phase,
            record_type: a.record_type,
            recorded_at: a.recorded_at,
            release: a.release,
            evidence: a.evidence,
        };
        Ok(link)
    }
}

/// Why a ledger line is not a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The line's structure is wrong.
    #[error("malformed record: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl RecordError {
    fn malformed(detail: impl Into<String>) -> Self {
        Self::Malformed { detail: detail.into() }
    }
}

/// What a caller wants recorded; the ledger supplies chain position, time and release.
#[derive(Clone, Debug)]
pub struct RecordDraft {
    /// Phase id.
    pub phase: String,
    /// Record type.
    pub record_type: String,
    /// The statement's predicate type.
    pub predicate_type: String,
    /// The statement's predicate.
    pub predicate: Value,
    /// Subjects after the ledger link.
    pub subjects: Vec<ResourceDescriptor>,
    /// Evidence files, already stored by digest.
    pub evidence: Vec<EvidenceRef>,
}

/// A parsed ledger line.
#[derive(Clone, Debug)]
pub struct Record {
    /// The exact line bytes, without the newline.
    pub line: Vec<u8>,
    /// SHA-256 of `line`; the next record's `previous` and the Merkle leaf data.
    pub line_hash: Sha256,
    /// The envelope.
    pub envelope: Envelope,
    /// The decoded payload bytes (what the signature covers, through the PAE).
    pub payload: Vec<u8>,
    /// The statement.
    pub statement: Statement,
    /// Its chain position and context.
    pub link: LedgerLink,
}

/// The longest ledger line accepted, so a hostile ledger cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

impl Record {
    /// Signs a draft at the given chain position.
    pub fn seal(
        draft: RecordDraft,
        sequence: u64,
        previous: Sha256,
        release: &ReleaseBinding,
        recorded_at: Timestamp,
        key: &SecretKey,
    ) -> Result<Self, RecordError> {
        validate_phase(&draft.phase).map_err(|e| RecordError::malformed(e.to_string()))?;
        validate_record_type(&draft.record_type).map_err(|e| RecordError::malformed(e.to_string()))?;
        let link = LedgerLink {
            sequence,
            previous,
            phase: draft.phase,
            record_type: draft.record_type,
            recorded_at,
            release: release.clone(),
            evidence: draft.evidence,
        };
        let mut subject = vec![link.to_subject()];
        subject.extend(draft.subjects);
        let statement = Statement::new(subject, draft.predicate_type, draft.predicate);
        let payload = statement.to_bytes();
        let envelope = Envelope::sign(INTOTO_PAYLOAD_TYPE, &payload, key)?;
        let line = envelope.to_json().into_bytes();
        if line.len() > MAX_LINE_BYTES {
            let detail = format!("the record would be {} bytes, over the {MAX_LINE_BYTES}-byte line limit; store large content as an evidence file", line.len());
            return Err(RecordError::malformed(detail));
        }
        Ok(Self { line_hash: Sha256::of(&line), line, envelope, payload, statement, link })
    }

    /// Parses one ledger line (without its newline). Signatures are not checked here.
    pub fn parse_line(line: &[u8]) -> Result<Self, RecordError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(RecordError::malformed(format!("line of {} bytes exceeds the limit of {MAX_LINE_BYTES}", line.len())));
        }
        let envelope = Envelope::parse(line).map_err(|e| RecordError::malformed(e.to_string()))?;
        if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
            return Err(RecordError::malformed(format!("payloadType '{}' is not {INTOTO_PAYLOAD_TYPE}", envelope.payload_type)));
        }
        if envelope.signatures.len() != 1 {
            return Err(RecordError::malformed("a ledger record carries exactly one signature"));
        }
        let payload = envelope.payload_bytes().map_err(|e| RecordError::malformed(e.to_string()))?;
        let statement: Statement = serde_json::from_slice(&payload)
            .map_err(|e| RecordError::malformed(format!("payload is not an in-toto Statement: {e}")))?;
        if statement.statement_type != STATEMENT_TYPE {
            return Err(RecordError::malformed(format!("_type '{}' is not {STATEMENT_TYPE}", statement.statement_type)));
        }
        let first = statement.subject.first().ok_or_else(|| RecordError::malformed("the statement has no subject"))?;
        let link = LedgerLink::from_subject(first)?;
        Ok(Self { line: line.to_vec(), line_hash: Sha256::of(line), envelope, payload, statement, link })
    }

    /// The id of the key that signed the record.
    pub fn key_id(&self) -> &str {
        self.envelope.signatures.first().map(|s| s.keyid.as_str()).unwrap_or("")
    }

    /// The pre-authentication encoding the signature covers.
    pub fn pae(&self) -> Vec<u8> {
        crate::dsse::pae(&self.envelope.payload_type, &self.payload)
    }

    /// The decoded signature.
    pub fn signature(&self) -> Option<Vec<u8>> {
        self.envelope.signature_bytes(0).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn release() -> ReleaseBinding {
        ReleaseBinding {
            version: "v1.0.0".into(),
            commit: "a".repeat(40),
            environment: "prod".into(),
            id: "0123456789abcdef0123456789abcdef".into(),
        }
    }

    #[test]
    fn sealed_records_parse_back_identically() {
        let key = SecretKey::ed25519_from_seed(&[4; 32]).unwrap();
        let draft = RecordDraft {
            phase: "P1".into(),
            record_type: "junit".into(),
            predicate_type: EVIDENCE_FILE_PREDICATE.into(),
            predicate: serde_json::json!({"name": "report.xml"}),
            subjects: vec![],
            evidence: vec![EvidenceRef { name: "report.xml".into(), sha256: Sha256::of(b"x"), size: 1 }],
        };
        let time = Timestamp::from_unix(1_800_000_000).unwrap();
        let rec = Record::seal(draft, 3, Sha256::of(b"prev"), &release(), time, &key).unwrap();
        let back = Record::parse_line(&rec.line).unwrap();
        assert_eq!(back.link, rec.link);
        assert_eq!(back.line_hash, rec.line_hash);
        key.public_key().verify(&back.pae(), &back.signature().unwrap()).unwrap();
    }

    #[test]
    fn binding_rules_name_the_field() {
        let mut bad = release();
        bad.commit = "HEAD".into();
        assert_eq!(bad.validate().unwrap_err().field, "commit");
        bad = release();
        bad.version = "v1 0".into();
        assert_eq!(bad.validate().unwrap_err().field, "version");
    }
}
