//! Artifact signatures: the outcome of a `sign` agent lists, for each release
//! artifact, a detached signature stored beside the artifact in the pack.
//! Each must verify over the stored artifact with a key the trust root admits
//! for artifacts. The artifacts are streamed on worker threads, so a large
//! artifact is never held in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::{Code, RecordRef, Report, files};
use crate::digest::Sha256;
use crate::keys::{Algorithm, KeyId, PublicKey};
use crate::pack::PackReader;
use crate::record::{EvidenceRef, Record};
use crate::timestamp::Timestamp;
use crate::trust::{TrustRoot, TrustedKey};

/// The predicate type of an agent outcome written by `conductor run`.
pub const AGENT_OUTCOME_PREDICATE: &str = "https://conductor.dev/attestation/agent-outcome/v1";

/// The agent kind whose outcomes carry artifact signatures.
pub const SIGN_KIND: &str = "sign";

/// The trust-root role that, when defined, lists the only keys that may sign
/// artifacts, and how many of them must sign each artifact.
pub const ARTIFACT_SIGNER_ROLE: &str = "artifact-signer";

/// The largest signature file read: a DER ECDSA signature in base64 is under
/// 100 bytes, so anything near this is not a signature.
const MAX_SIGNATURE_FILE: u64 = 4096;

/// A `sign` outcome found by the ledger scan.
pub(super) struct SignRecord {
    rr: RecordRef,
    recorded_at: Timestamp,
    evidence: Vec<EvidenceRef>,
    signatures: Option<Value>,
}

impl SignRecord {
    /// The `sign` outcome `record` holds, if it holds one.
    pub(super) fn of(record: &Record, rr: &RecordRef) -> Option<Self> {
        let predicate = &record.statement.predicate;
        let is_sign = record.statement.predicate_type == AGENT_OUTCOME_PREDICATE && predicate.get("kind").and_then(Value::as_str) == Some(SIGN_KIND);
        is_sign.then(|| Self {
            rr: rr.clone(),
            recorded_at: record.link.recorded_at,
            evidence: record.link.evidence.clone(),
            signatures: predicate.pointer("/facts/signatures").cloned(),
        })
    }
}

/// One entry of a `sign` outcome's `facts.signatures`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    artifact: String,
    sha256: Sha256,
    size: u64,
    signature: String,
    key_id: String,
    algorithm: Algorithm,
}

/// A signature ready to be checked over its stored artifact.
struct Job {
    rr: RecordRef,
    artifact: String,
    sha256: Sha256,
    path: String,
    size: u64,
    key: PublicKey,
    key_name: String,
    signature: Vec<u8>,
}

/// Checks every signature the `sign` outcomes list.
pub(super) fn check(pack: &mut PackReader, trust: &TrustRoot, records: &[SignRecord], report: &mut Report) {
    if records.is_empty() {
        return;
    }
    let role = trust.role(ARTIFACT_SIGNER_ROLE);
    let mut jobs = Vec::new();
    // Every listed artifact by digest, with the first record listing it.
    let mut listed: BTreeMap<Sha256, (RecordRef, String)> = BTreeMap::new();
    for record in records {
        for entry in entries(record, report) {
            listed.entry(entry.sha256).or_insert_with(|| (record.rr.clone(), entry.artifact.clone()));
            if let Some(job) = prepare(pack, trust, record, entry, report) {
                jobs.push(job);
            }
        }
    }
    let results = verify_all(files::workers(pack), &jobs);
    let mut signers: BTreeMap<Sha256, BTreeSet<KeyId>> = BTreeMap::new();
    for (job, result) in jobs.iter().zip(results) {
        match result {
            Ok(()) => {
                signers.entry(job.sha256).or_default().insert(job.key.id().clone());
            }
            Err(why) => report.fail_record(Code::ArtifactSignatureInvalid, &job.rr, format!(
                "the signature of artifact {} ({}) in record {} does not verify with key {} ({}): {why}",
                job.artifact, job.sha256, job.rr.sequence, job.key.id(), job.key_name)),
        }
    }
    let Some(role) = role else { return };
    for (sha256, (rr, artifact)) in listed {
        let count = signers.get(&sha256).map_or(0, |keys| keys.iter().filter(|k| role.keys.contains(*k)).count());
        if count < role.threshold {
            report.fail_record(Code::ArtifactSignaturesBelowThreshold, &rr, format!(
                "artifact {artifact} ({sha256}) carries valid signatures by {count} keys of role {ARTIFACT_SIGNER_ROLE}, which needs {}", role.threshold));
        }
    }
}

/// The record's listed signatures that parse; the others are findings.
fn entries(record: &SignRecord, report: &mut Report) -> Vec<Listed> {
    let rr = &record.rr;
    let items = match &record.signatures {
        // An outcome without signatures (a missing input, an error) lists nothing to check.
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            report.fail_record(Code::ArtifactSignatureInvalid, rr, format!("record {}'s facts.signatures is not a list of signatures", rr.sequence));
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match Listed::deserialize(item) {
            Ok(entry) => Some(entry),
            Err(e) => {
                report.fail_record(Code::ArtifactSignatureInvalid, rr, format!(
                    "record {}'s facts.signatures[{i}] is not {{artifact, sha256, size, signature, keyId, algorithm}}: {e}", rr.sequence));
                None
            }
        })
        .collect()
}

/// Finds the entry's files and key; reports what is missing or untrusted.
fn prepare(pack: &mut PackReader, trust: &TrustRoot, record: &SignRecord, entry: Listed, report: &mut Report) -> Option<Job> {
    let rr = &record.rr;
    let missing = |report: &mut Report, what: String| report.fail_record(Code::ArtifactSignatureMissingFile, rr, what);
    let Some(artifact) = stored(pack, record, &entry.artifact) else {
        missing(report, format!("record {} lists a signature of {}, but the artifact is not among its evidence files in the pack", rr.sequence, entry.artifact));
        return None;
    };
    if artifact.sha256 != entry.sha256 || artifact.size != entry.size {
        report.fail_record(Code::ArtifactDigestMismatch, rr, format!(
            "record {} signed {} as {} ({} bytes), but its stored evidence file is {} ({} bytes)",
            rr.sequence, entry.artifact, entry.sha256, entry.size, artifact.sha256, artifact.size));
        return None;
    }
    let Some(signature_file) = stored(pack, record, &entry.signature) else {
        missing(report, format!("record {} names {} as the signature of {}, but it is not among its evidence files in the pack", rr.sequence, entry.signature, entry.artifact));
        return None;
    };
    let key = admitted_key(trust, record, &entry, report)?;
    let invalid = |report: &mut Report, why: String| {
        report.fail_record(Code::ArtifactSignatureInvalid, rr, format!("the signature {} of artifact {} in record {} {why}", entry.signature, entry.artifact, rr.sequence));
    };
    if key.key.algorithm() != entry.algorithm {
        invalid(report, format!("is recorded as {}, but key {} is {}", entry.algorithm, entry.key_id, key.key.algorithm()));
        return None;
    }
    let signature = match read_signature(pack, &signature_file) {
        Ok(signature) => signature,
        Err(why) => {
            invalid(report, why);
            return None;
        }
    };
    Some(Job {
        rr: rr.clone(),
        artifact: entry.artifact,
        sha256: entry.sha256,
        path: artifact.pack_path(),
        size: artifact.size,
        key: key.key.clone(),
        key_name: key.name.clone(),
        signature,
    })
}

/// The record's evidence file called `name`, when the pack holds it.
fn stored(pack: &PackReader, record: &SignRecord, name: &str) -> Option<EvidenceRef> {
    record.evidence.iter().find(|e| e.name == name && pack.contains(&e.pack_path())).cloned()
}

/// The trusted key that made the signature, when the trust root admits it for
/// artifacts: listed, not revoked, valid when the record was made, and in the
/// `artifact-signer` role when the trust root defines that role.
fn admitted_key<'t>(trust: &'t TrustRoot, record: &SignRecord, entry: &Listed, report: &mut Report) -> Option<&'t TrustedKey> {
    let (rr, id) = (&record.rr, &entry.key_id);
    let why = match (trust.key(id), trust.revocation(id)) {
        (None, _) => format!("key {id}, which the trust root does not list"),
        (Some(key), Some(reason)) => format!("key {id} ({}), which the trust root revokes: {reason}", key.name),
        (Some(key), None) if !key.valid_at(record.recorded_at) => format!("key {id} ({}), which was not valid at {}", key.name, record.recorded_at),
        (Some(key), None) if trust.role(ARTIFACT_SIGNER_ROLE).is_some_and(|role| !role.keys.contains(key.key.id())) => {
            format!("key {id} ({}), which is not in the trust root's role {ARTIFACT_SIGNER_ROLE}", key.name)
        }
        (Some(key), None) => return Some(key),
    };
    report.fail_record(Code::ArtifactSignatureUntrustedKey, rr, format!("artifact {} in record {} is signed by {why}", entry.artifact, rr.sequence));
    None
}

/// The signature bytes: base64 text, as `cosign sign-blob --output-signature` writes it.
fn read_signature(pack: &mut PackReader, file: &EvidenceRef) -> Result<Vec<u8>, String> {
    if file.size > MAX_SIGNATURE_FILE {
        return Err(format!("is {} bytes, more than a signature file holds ({MAX_SIGNATURE_FILE})", file.size));
    }
    let bytes = pack.read(&file.pack_path()).map_err(|e| format!("cannot be read: {e}"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "is not base64 text".to_owned())?;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|e| format!("is not base64: {e}"))
}

/// Verifies each job's signature over its artifact on the workers, largest
/// artifact first, each worker taking the next job when it is free. A job
/// whose worker died is reported as not verified, never as verified.
fn verify_all(workers: Vec<PackReader>, jobs: &[Job]) -> Vec<Result<(), String>> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(jobs[*i].size));
    let next = AtomicUsize::new(0);
    let (order, next) = (&order, &next);
    let done: BTreeMap<usize, Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut reader| scope.spawn(move || {
                let mut done = Vec::new();
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    done.push((i, verify_one(&mut reader, &jobs[i])));
                }
                done
            }))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    (0..jobs.len()).map(|i| done.get(&i).cloned().unwrap_or_else(|| Err("the check did not complete".into()))).collect()
}

fn verify_one(reader: &mut PackReader, job: &Job) -> Result<(), String> {
    let mut verifier = job.key.stream_verifier(&job.signature).map_err(|_| "the signature is malformed".to_owned())?;
    reader.stream(&job.path, &mut verifier).map_err(|e| format!("the artifact cannot be read: {e}"))?;
    verifier.finish().map_err(|_| "the artifact or its signature was changed after signing".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::SecretKey;
    use crate::ledger::Ledger;
    use crate::record::{RecordDraft, ReleaseBinding};
    use crate::store::ObjectStore;
    use crate::verify::{Options, Outcome, verify};

    const ARTIFACT: &[u8] = b"the release tarball's bytes";

    fn notary() -> SecretKey {
        SecretKey::ed25519_from_seed(&[8; 32]).unwrap()
    }

    /// A pack holding one `sign` outcome over ARTIFACT by `signer`, its
    /// listed entry changed by `edit` and its signature bytes by `sign`.
    fn pack(dir: &std::path::Path, signer: &SecretKey, edit: impl Fn(&mut Value), sign: impl Fn(&[u8]) -> Vec<u8>) -> std::path::PathBuf {
        let key = notary();
        let release = ReleaseBinding { version: "v1.0.0".into(), commit: "b".repeat(40), environment: "prod".into(), id: "c".repeat(32) };
        let store = ObjectStore::new(dir.join("objects"));
        let (sha256, size) = store.put_bytes(ARTIFACT).unwrap();
        let sig_text = base64::engine::general_purpose::STANDARD.encode(sign(ARTIFACT));
        let (sig_sha256, sig_size) = store.put_bytes(sig_text.as_bytes()).unwrap();
        let mut entry = json!({"artifact": "dist/app.tar.gz", "sha256": sha256, "size": size, "signature": "dist/app.tar.gz.sig",
                               "keyId": signer.id(), "algorithm": signer.public_key().algorithm()});
        edit(&mut entry);
        let draft = RecordDraft {
            phase: "P0".into(),
            record_type: "signature".into(),
            predicate_type: AGENT_OUTCOME_PREDICATE.into(),
            predicate: json!({"agent": "Artifactory Steward", "kind": "sign", "verdict": "pass", "facts": {"signatures": [entry]}}),
            subjects: vec![],
            evidence: vec![
                EvidenceRef { name: "dist/app.tar.gz".into(), sha256, size },
                EvidenceRef { name: "dist/app.tar.gz.sig".into(), sha256: sig_sha256, size: sig_size },
            ],
        };
        let mut ledger = Ledger::open(&dir.join("ledger.intoto.jsonl")).unwrap();
        ledger.append(draft, &release, Timestamp::from_unix(1_800_000_000).unwrap(), &key).unwrap();
        let nobody = crate::trust::TrustRoot::parse("version = 1\n", "trust.toml").unwrap();
        let approvals = crate::approval::ApprovalsMatrix::of(ledger.records(), &nobody, &release);
        let input = crate::pack::SealInput { records: ledger.records(), release: &release, store: &store, public_keys: &[], trust_root: Sha256([0; 32]), seal_key: &key, approvals: &approvals, index_html: None };
        let out = dir.join("pack.zip");
        crate::pack::write_pack(&out, &input).unwrap();
        out
    }

    /// The notary's starter trust root, plus `signer` when given, plus `extra` text.
    fn trust(signer: Option<&SecretKey>, extra: &str) -> TrustRoot {
        let mut text = crate::trust::starter("notary", notary().public_key(), None);
        if let Some(s) = signer {
            text.push_str(&format!("\n[[keys]]\nid = \"{}\"\nname = \"builder\"\npublic_key = \"\"\"\n{}\"\"\"\n", s.id(), s.public_key().to_pem()));
        }
        text.push_str(extra);
        TrustRoot::parse(&text, "trust.toml").unwrap()
    }

    fn codes(pack: &std::path::Path, trust: &TrustRoot) -> Vec<&'static str> {
        match verify(pack, trust, &Options::default()).unwrap() {
            Outcome::Verified(_) => vec![],
            Outcome::Failed(report, _) => report.findings.iter().map(|f| f.code.as_str()).collect(),
        }
    }

    #[test]
    fn ed25519_and_ecdsa_artifact_signatures_by_trusted_keys_verify() {
        for signer in [SecretKey::ed25519_from_seed(&[9; 32]).unwrap(), SecretKey::generate_ecdsa_p256().unwrap()] {
            let dir = tempfile::tempdir().unwrap();
            let pack = pack(dir.path(), &signer, |_| {}, |m| signer.sign(m).unwrap());
            assert_eq!(codes(&pack, &trust(Some(&signer), "")), Vec::<&str>::new(), "{signer:?}");
        }
    }

    #[test]
    fn a_signature_over_other_bytes_is_invalid() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |_| {}, |_| signer.sign(b"another artifact").unwrap());
        assert_eq!(codes(&pack, &trust(Some(&signer), "")), ["artifact-signature-invalid"]);
    }

    #[test]
    fn a_key_missing_from_the_trust_root_or_revoked_is_untrusted() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |_| {}, |m| signer.sign(m).unwrap());
        assert_eq!(codes(&pack, &trust(None, "")), ["artifact-signature-untrusted-key"]);
        let revoked = format!("\n[[revoked]]\nid = \"{}\"\nreason = \"build host compromised\"\n", signer.id());
        assert_eq!(codes(&pack, &trust(Some(&signer), &revoked)), ["artifact-signature-untrusted-key"]);
    }

    #[test]
    fn the_artifact_signer_role_admits_only_its_keys_and_counts_its_threshold() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |_| {}, |m| signer.sign(m).unwrap());
        let role = |keys: &[&SecretKey], threshold: usize| {
            let ids: Vec<String> = keys.iter().map(|k| format!("\"{}\"", k.id())).collect();
            format!("\n[roles.{ARTIFACT_SIGNER_ROLE}]\nthreshold = {threshold}\nkeys = [{}]\n", ids.join(", "))
        };
        let notary = notary();
        assert_eq!(codes(&pack, &trust(Some(&signer), &role(&[&signer], 1))), Vec::<&str>::new());
        assert_eq!(codes(&pack, &trust(Some(&signer), &role(&[&notary], 1))), ["artifact-signature-untrusted-key", "artifact-signatures-below-threshold"]);
        assert_eq!(codes(&pack, &trust(Some(&signer), &role(&[&signer, &notary], 2))), ["artifact-signatures-below-threshold"]);
    }

    #[test]
    fn a_recorded_digest_unlike_the_stored_artifact_is_a_mismatch() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |e| e["sha256"] = Sha256::of(b"other").to_hex().into(), |m| signer.sign(m).unwrap());
        assert_eq!(codes(&pack, &trust(Some(&signer), "")), ["artifact-digest-mismatch"]);
    }

    #[test]
    fn a_signature_file_the_record_does_not_hold_is_missing() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |e| e["signature"] = "dist/other.sig".into(), |m| signer.sign(m).unwrap());
        assert_eq!(codes(&pack, &trust(Some(&signer), "")), ["artifact-signature-missing-file"]);
    }

    #[test]
    fn a_malformed_entry_is_reported_not_skipped() {
        let signer = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pack = pack(dir.path(), &signer, |e| e["algorithm"] = "rsa".into(), |m| signer.sign(m).unwrap());
        assert_eq!(codes(&pack, &trust(Some(&signer), "")), ["artifact-signature-invalid"]);
    }
}
