//! Offline verification of a pack against the verifier's trust root.
//!
//! Verification never touches the network. It streams the ledger and every
//! evidence file, holding only per-record hashes in memory, and hashes files
//! on worker threads while the ledger's signatures are checked. Artifact
//! signatures listed by `sign` outcomes are then checked on the same workers,
//! each artifact streamed through its verifier.

mod approvals;
mod artifacts;
mod chain;
mod extends;
mod files;
mod report;
mod workers;

use std::collections::BTreeMap;
use std::path::Path;

pub use artifacts::{AGENT_OUTCOME_PREDICATE, ARTIFACT_SIGNER_ROLE, SIGN_KIND};
pub use extends::{Extension, ExtensionError, check_extends};
pub use report::{CheckVerdict, Code, Finding, PhaseVerdict, RecordRef, Report};

use crate::checkpoint::{Checkpoint, NoteVerifier, open_note};
use crate::digest::Sha256;
use crate::dsse::{Envelope, pae};
use crate::manifest::Manifest;
use crate::merkle::{Hash, MerkleTree, leaf_hash, verify_inclusion};
use crate::pack::{CHECKPOINT, InclusionProof, LEDGER, Limits, MANIFEST, NOTE_KEY_NAME, PROOFS, PackError, PackReader, origin};
use crate::record::{EvidenceRef, Record};
use crate::timestamp::Timestamp;
use crate::trust::{TrustRoot, TrustedKey};

/// How to verify.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Check only these phases' records (keys, signatures, release binding,
    /// evidence files). The manifest, the chain of every record and the
    /// checkpoint are always checked. Empty means every phase.
    pub only: Vec<String>,
    /// Size and count limits for the pack reader.
    pub limits: Limits,
}

/// A pack that passed every check. Only [`verify`] makes one.
#[derive(Debug)]
pub struct VerifiedPack {
    manifest: Manifest,
    report: Report,
    leaves: Vec<Hash>,
}

impl VerifiedPack {
    /// The verified manifest: release binding, ledger summary, files.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The (clean) report, with per-phase verdicts and notes.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The Merkle leaf hashes of the ledger lines, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.leaves
    }
}

/// The result of verifying a usable pack.
#[derive(Debug)]
pub enum Outcome {
    /// Every check passed.
    Verified(VerifiedPack),
    /// Something failed; the report says what. The manifest is present when it could be read.
    Failed(Report, Option<Manifest>),
}

/// Verifies the pack at `path` against `trust`. `Err` means the input is
/// unusable (missing file, not a zip); a tampered pack is `Ok(Outcome::Failed)`.
pub fn verify(path: &Path, trust: &TrustRoot, options: &Options) -> Result<Outcome, PackError> {
    let mut report = Report { only: options.only.clone(), ..Report::default() };
    let mut pack = match PackReader::open(path, options.limits) {
        Ok(pack) => pack,
        Err(e @ (PackError::Io { .. } | PackError::NotZip { .. })) => return Err(e),
        Err(e) => {
            pack_finding(&mut report, &e);
            report.skipped.extend(["manifest", "files", "chain", "checkpoint"]);
            return Ok(Outcome::Failed(report, None));
        }
    };
    let Some(manifest) = check_manifest(&mut pack, trust, &mut report) else {
        report.skipped.extend(["files", "chain", "checkpoint"]);
        return Ok(Outcome::Failed(report, None));
    };
    files::check_listing(&mut pack, &manifest, &mut report);
    let ledger = run_ledger_and_hashing(&mut pack, &manifest, trust, options, &mut report);
    check_checkpoint(&mut pack, &manifest, trust, &ledger.leaves, &mut report);
    approvals::check(&mut pack, &manifest, trust, &ledger.approvals, &mut report);
    if manifest.trust_root != trust.digest() {
        report.notes.push(format!(
            "the pack was sealed under trust root {}; this verification used {} (the verifier's trust root is the authority)",
            manifest.trust_root,
            trust.digest()
        ));
    }
    report.phase_records = ledger.phases;
    if report.passed() {
        Ok(Outcome::Verified(VerifiedPack { manifest, report, leaves: ledger.leaves }))
    } else {
        Ok(Outcome::Failed(report, Some(manifest)))
    }
}

/// Turns a reader error met during verification into a finding.
pub(crate) fn pack_finding(report: &mut Report, err: &PackError) {
    match err {
        PackError::Unsafe { code, entry, detail } => report.fail_file(*code, entry, format!("entry '{entry}' {detail}")),
        other => report.fail(Code::PackEntryCorrupt, other.to_string()),
    }
}

/// Reads and checks the signed manifest. Returns its contents even when the
/// signature fails, so the rest of the pack is still examined and reported.
fn check_manifest(pack: &mut PackReader, trust: &TrustRoot, report: &mut Report) -> Option<Manifest> {
    if !pack.contains(MANIFEST) {
        report.fail_file(Code::ManifestMissing, MANIFEST, format!("the pack has no {MANIFEST}; it was not sealed by `conductor pack`"));
        return None;
    }
    let bytes = match pack.read(MANIFEST) {
        Ok(bytes) => bytes,
        Err(e) => {
            pack_finding(report, &e);
            return None;
        }
    };
    let parsed = Envelope::parse(&bytes).and_then(|env| Ok((env.payload_bytes()?, env)));
    // A manifest lists every file, so it can be large: keep one copy at a time.
    drop(bytes);
    let (payload, envelope) = match parsed {
        Ok(pair) => pair,
        Err(e) => {
            report.fail_file(Code::ManifestMalformed, MANIFEST, format!("the manifest is not a DSSE envelope: {e}"));
            return None;
        }
    };
    let manifest = Manifest::from_payload(&payload);
    check_seal_signatures(&envelope, &payload, trust, manifest.as_ref().ok().map(|m| m.sealed_at), report);
    match manifest {
        Ok(manifest) => Some(manifest),
        Err(e) => {
            report.fail_file(Code::ManifestMalformed, MANIFEST, e.to_string());
            None
        }
    }
}

/// A sealing key of the trust root: marked `seal`, not revoked, and valid
/// when the pack was sealed (when that time is known).
fn may_seal(trust: &TrustRoot, key: &TrustedKey, sealed_at: Option<Timestamp>) -> bool {
    key.seal && trust.revocation(key.key.id().as_str()).is_none() && sealed_at.is_none_or(|at| key.valid_at(at))
}

fn check_seal_signatures(envelope: &Envelope, payload: &[u8], trust: &TrustRoot, sealed_at: Option<Timestamp>, report: &mut Report) {
    let message = pae(&envelope.payload_type, payload);
    let mut trusted_signer = false;
    for (i, sig) in envelope.signatures.iter().enumerate() {
        let Some(key) = trust.key(&sig.keyid).filter(|k| may_seal(trust, k, sealed_at)) else { continue };
        trusted_signer = true;
        let ok = envelope.signature_bytes(i).ok().is_some_and(|bytes| key.key.verify(&message, &bytes).is_ok());
        if !ok {
            report.fail_file(Code::ManifestSignatureInvalid, MANIFEST, format!("the manifest's signature by key {} ({}) does not verify; the manifest was changed after sealing", sig.keyid, key.name));
        }
    }
    if !trusted_signer {
        let why: Vec<String> = envelope.signatures.iter().map(|s| untrusted_sealer(trust, &s.keyid, sealed_at)).collect();
        report.fail_file(Code::ManifestKeyUntrusted, MANIFEST, format!("no sealing key of the trust root signed the manifest: {}", why.join("; ")));
    }
}

/// Why `key_id` may not seal, in words.
fn untrusted_sealer(trust: &TrustRoot, key_id: &str, sealed_at: Option<Timestamp>) -> String {
    match (trust.key(key_id), trust.revocation(key_id)) {
        (None, _) => format!("key {key_id} is not in the trust root"),
        (Some(key), Some(reason)) => format!("key {key_id} ({}) is revoked: {reason}", key.name),
        (Some(key), None) if !key.seal => format!("key {key_id} ({}) may not seal (set seal = true to allow it)", key.name),
        (Some(key), None) => format!("key {key_id} ({}) was not valid when the pack was sealed at {}", key.name, sealed_at.map(|t| t.to_string()).unwrap_or_default()),
    }
}

/// Facts gathered from the ledger for the later checks.
struct LedgerFacts {
    leaves: Vec<Hash>,
    evidence: Vec<(RecordRef, EvidenceRef)>,
    phases: Vec<(String, u64)>,
    /// The `sign` outcomes, whose artifact signatures are checked once the files are hashed.
    signed: Vec<artifacts::SignRecord>,
    /// The approval records, from which the approvals matrix is rebuilt.
    approvals: Vec<Record>,
    /// The readable copies the records name, by pack path.
    readable: BTreeMap<String, EvidenceRef>,
}

fn run_ledger_and_hashing(
    pack: &mut PackReader,
    manifest: &Manifest,
    trust: &TrustRoot,
    options: &Options,
    report: &mut Report,
) -> LedgerFacts {
    let workers = files::workers(pack);
    let (ledger, wanted, hashes) = if options.only.is_empty() {
        let wanted = files::all_listed(pack, manifest);
        let (ledger, hashes) = std::thread::scope(|scope| {
            let hashing = scope.spawn(|| files::hash_all(workers, wanted.clone()));
            let ledger = check_ledger(pack, manifest, trust, options, report);
            // A hashing thread that panicked leaves its files unhashed, which
            // `compare` reports; it never passes silently.
            (ledger, hashing.join().unwrap_or_default())
        });
        (ledger, wanted, hashes)
    } else {
        let ledger = check_ledger(pack, manifest, trust, options, report);
        let wanted = files::selected(pack, manifest, &ledger.evidence, report);
        let hashes = files::hash_all(workers, wanted.clone());
        (ledger, wanted, hashes)
    };
    files::compare(manifest, &wanted, &hashes, report);
    files::check_readable(manifest, &ledger.readable, report);
    check_evidence(manifest, &ledger.evidence, &hashes, pack, report);
    artifacts::check(pack, trust, &ledger.signed, report);
    ledger
}

fn check_ledger(pack: &mut PackReader, manifest: &Manifest, trust: &TrustRoot, options: &Options, report: &mut Report) -> LedgerFacts {
    let mut state = LedgerScan::new(manifest, trust, options);
    if !pack.contains(LEDGER) {
        // The listing check has already reported the missing file.
        return state.finish(manifest, report);
    }
    // Signatures are checked on their own thread while this one parses the
    // ledger; one batch in flight bounds the memory that takes.
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<chain::Pending>>(1);
        let checker = scope.spawn(move || {
            let mut found = Report::default();
            receive.iter().for_each(|batch| chain::check_batch(&batch, &mut found));
            found.findings
        });
        state.signatures.check_on(send);
        let scanned = pack.read_lines(LEDGER, crate::record::MAX_LINE_BYTES, |line_no, line, complete| {
            state.line(line_no, line, complete, report);
        });
        if let Err(e) = scanned {
            pack_finding(report, &e);
        }
        let facts = state.finish(manifest, report);
        match checker.join() {
            Ok(findings) => report.findings.extend(findings),
            Err(_) => report.fail_file(Code::RecordSignatureInvalid, LEDGER, "the signature checks did not complete"),
        }
        facts
    })
}

/// The streaming pass over the ledger.
struct LedgerScan<'a> {
    trust: &'a TrustRoot,
    release: &'a crate::record::ReleaseBinding,
    only: &'a [String],
    chain: chain::Chain,
    signatures: chain::SignatureBatch,
    leaves: Vec<Hash>,
    last_hash: Option<Sha256>,
    evidence: Vec<(RecordRef, EvidenceRef)>,
    phases: Vec<(String, u64)>,
    signed: Vec<artifacts::SignRecord>,
    approvals: Vec<Record>,
    readable: BTreeMap<String, EvidenceRef>,
}

impl<'a> LedgerScan<'a> {
    fn new(manifest: &'a Manifest, trust: &'a TrustRoot, options: &'a Options) -> Self {
        Self {
            trust,
            release: &manifest.release,
            only: &options.only,
            chain: chain::Chain::default(),
            signatures: chain::SignatureBatch::default(),
            leaves: Vec::new(),
            last_hash: None,
            evidence: Vec::new(),
            phases: Vec::new(),
            signed: Vec::new(),
            approvals: Vec::new(),
            readable: BTreeMap::new(),
        }
    }

    fn line(&mut self, line_no: usize, line: &[u8], complete: bool, report: &mut Report) {
        self.leaves.push(leaf_hash(line));
        self.last_hash = Some(Sha256::of(line));
        if !complete {
            report.fail_file(Code::LedgerLineMalformed, LEDGER, format!("line {line_no} has no final newline: the ledger ends in a torn record"));
        }
        let record = match Record::parse_line(line) {
            Ok(record) => record,
            Err(e) => return report.fail_file(Code::LedgerLineMalformed, LEDGER, format!("line {line_no}: {e}")),
        };
        let rr = RecordRef { sequence: record.link.sequence, line: line_no, phase: record.link.phase.clone(), record_type: record.link.record_type.clone() };
        self.count_phase(&rr.phase);
        self.chain.observe(&record, &rr, report);
        // Readable copies are pack files, checked whatever `only` selects.
        self.readable.extend(crate::pack::readable_copies(record.link.evidence.iter().map(|e| (record.link.record_type.as_str(), e))));
        // The matrix counts every approval, so they are kept whatever `only` selects.
        if record.statement.predicate_type == crate::approval::APPROVAL_PREDICATE {
            self.approvals.push(record.clone());
        }
        // The chain covers every record; the per-record checks cover the selected phases.
        if !self.only.is_empty() && !self.only.contains(&rr.phase) {
            return;
        }
        if &record.link.release != self.release {
            let other = &record.link.release;
            report.fail_record(Code::RecordFromAnotherRelease, &rr, format!(
                "record {} is bound to release {} {} {} ({}), not to this pack's {} {} {} ({})",
                rr.sequence, other.version, other.environment, short(&other.commit), other.id,
                self.release.version, self.release.environment, short(&self.release.commit), self.release.id));
        }
        if let Some(key) = check_key(self.trust, &record, &rr, report) {
            self.signatures.push(key, &record, &rr, report);
        }
        if self.signatures.full() {
            self.signatures.flush(report);
        }
        workers::check(self.trust, &record, &rr, report);
        self.evidence.extend(record.link.evidence.iter().map(|e| (rr.clone(), e.clone())));
        self.signed.extend(artifacts::SignRecord::of(&record, &rr));
    }

    fn count_phase(&mut self, phase: &str) {
        match self.phases.iter_mut().find(|(p, _)| p == phase) {
            Some((_, n)) => *n += 1,
            None => self.phases.push((phase.to_owned(), 1)),
        }
    }

    fn finish(self, manifest: &Manifest, report: &mut Report) -> LedgerFacts {
        // Dropping the batch after its last flush closes the checker's channel.
        self.signatures.finish(report);
        self.chain.finish(report);
        let records = self.leaves.len() as u64;
        if records != manifest.ledger.records || self.last_hash != Some(manifest.ledger.head) {
            report.fail_file(Code::LedgerSummaryMismatch, LEDGER, format!(
                "the ledger has {records} records ending in {}, but the manifest sealed {} records ending in {}",
                self.last_hash.map(|h| h.to_string()).unwrap_or_else(|| "nothing".into()), manifest.ledger.records, manifest.ledger.head));
        }
        LedgerFacts { leaves: self.leaves, evidence: self.evidence, phases: self.phases, signed: self.signed, approvals: self.approvals, readable: self.readable }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Checks that the trust root lets the record's key sign this record.
/// Returns the key when its signature is worth checking.
fn check_key<'t>(trust: &'t TrustRoot, record: &Record, rr: &RecordRef, report: &mut Report) -> Option<&'t TrustedKey> {
    let key_id = record.key_id();
    let Some(key) = trust.key(key_id) else {
        report.fail_record(Code::RecordKeyUnknown, rr, format!("record {} is signed by key {key_id}, which the trust root does not list", rr.sequence));
        return None;
    };
    if let Some(reason) = trust.revocation(key_id) {
        report.fail_record(Code::KeyRevoked, rr, format!("record {} is signed by key {} ({}), which the trust root revokes: {reason}", rr.sequence, key_id, key.name));
        return None;
    }
    let at = record.link.recorded_at;
    if !key.valid_at(at) {
        let window = format!("{} to {}", key.valid_from.map(|t| t.to_string()).unwrap_or("-".into()), key.valid_until.map(|t| t.to_string()).unwrap_or("-".into()));
        report.fail_record(Code::KeyOutsideValidity, rr, format!("record {} was signed at {at} by key {} ({}), valid only {window}", rr.sequence, key_id, key.name));
    }
    if !key.phases.allows(&rr.phase) {
        report.fail_record(Code::KeyPhaseNotAllowed, rr, format!("key {} ({}) may not sign records of phase {}", key_id, key.name, rr.phase));
    }
    if !key.predicate_types.allows(&record.statement.predicate_type) {
        report.fail_record(Code::KeyTypeNotAllowed, rr, format!("key {} ({}) may not sign predicate type {}", key_id, key.name, record.statement.predicate_type));
    }
    Some(key)
}

fn check_evidence(
    manifest: &Manifest,
    evidence: &[(RecordRef, EvidenceRef)],
    hashes: &BTreeMap<String, Result<(Sha256, u64), PackError>>,
    pack: &PackReader,
    report: &mut Report,
) {
    for (rr, e) in evidence {
        let path = e.pack_path();
        match hashes.get(&path) {
            Some(Ok((digest, size))) if *digest == e.sha256 && *size == e.size => {}
            Some(Ok((digest, size))) => report.fail_record(Code::EvidenceDigestMismatch, rr, format!(
                "evidence file {path} ({}) of record {} hashes to {digest} ({size} bytes), but the record says {} ({} bytes)",
                e.name, rr.sequence, e.sha256, e.size)),
            Some(Err(err)) => report.fail_record(Code::EvidenceDigestMismatch, rr, format!("evidence file {path} ({}) of record {} cannot be read: {err}", e.name, rr.sequence)),
            None if !pack.contains(&path) => report.fail_record(Code::EvidenceMissing, rr, format!("evidence file {path} ({}) of record {} is not in the pack", e.name, rr.sequence)),
            None if manifest.file(&path).is_none() => report.fail_record(Code::EvidenceMissing, rr, format!("evidence file {path} ({}) of record {} is not listed in the manifest", e.name, rr.sequence)),
            None => report.fail_record(Code::EvidenceDigestMismatch, rr, format!("evidence file {path} ({}) of record {} could not be hashed", e.name, rr.sequence)),
        }
    }
}

fn check_checkpoint(pack: &mut PackReader, manifest: &Manifest, trust: &TrustRoot, leaves: &[Hash], report: &mut Report) {
    let root = MerkleTree::from_leaf_hashes(leaves.to_vec()).root();
    if Sha256(root) != manifest.ledger.root {
        report.fail_file(Code::CheckpointMismatch, LEDGER, format!("the ledger's Merkle root is {}, but the manifest sealed {}", Sha256(root), manifest.ledger.root));
    }
    let Some(checkpoint) = read_checkpoint(pack, trust, manifest.sealed_at, report) else { return };
    let problems = [
        (checkpoint.origin != origin(&manifest.release), format!("origin '{}' is not this release's '{}'", checkpoint.origin, origin(&manifest.release))),
        (checkpoint.size != leaves.len() as u64, format!("tree size {} differs from the ledger's {} records", checkpoint.size, leaves.len())),
        (checkpoint.root != root, format!("root {} differs from the ledger's Merkle root {}", Sha256(checkpoint.root), Sha256(root))),
    ];
    for (_, problem) in problems.iter().filter(|(bad, _)| *bad) {
        report.fail_file(Code::CheckpointMismatch, CHECKPOINT, format!("the checkpoint's {problem}"));
    }
    check_proofs(pack, &checkpoint, leaves, report);
}

fn read_checkpoint(pack: &mut PackReader, trust: &TrustRoot, sealed_at: Timestamp, report: &mut Report) -> Option<Checkpoint> {
    if !pack.contains(CHECKPOINT) {
        report.fail_file(Code::CheckpointMissing, CHECKPOINT, format!("the pack has no {CHECKPOINT}"));
        return None;
    }
    let bytes = pack.read(CHECKPOINT).map_err(|e| pack_finding(report, &e)).ok()?;
    let Ok(text) = String::from_utf8(bytes) else {
        report.fail_file(Code::CheckpointMalformed, CHECKPOINT, "the checkpoint is not UTF-8 text");
        return None;
    };
    let verifiers: Vec<NoteVerifier> = trust
        .keys()
        .filter(|k| may_seal(trust, k, Some(sealed_at)))
        .filter_map(|k| k.key.as_ed25519().and_then(|vk| NoteVerifier::new(NOTE_KEY_NAME, *vk).ok()))
        .collect();
    let opened = match open_note(&text, &verifiers) {
        Ok(opened) => opened,
        Err(e) => {
            report.fail_file(Code::CheckpointSignatureInvalid, CHECKPOINT, format!("the checkpoint note does not verify with a sealing key of the trust root: {e}"));
            return None;
        }
    };
    match Checkpoint::parse_body(&opened.body) {
        Ok(checkpoint) => Some(checkpoint),
        Err(e) => {
            report.fail_file(Code::CheckpointMalformed, CHECKPOINT, e.to_string());
            None
        }
    }
}

fn check_proofs(pack: &mut PackReader, checkpoint: &Checkpoint, leaves: &[Hash], report: &mut Report) {
    if !pack.contains(PROOFS) {
        // The listing check has already reported the missing file.
        return;
    }
    let mut seen = 0usize;
    let mut proven = vec![false; leaves.len()];
    let mut failures = Vec::new();
    let scanned = pack.read_lines(PROOFS, 1 << 20, |line_no, line, _| {
        seen += 1;
        let proof: InclusionProof = match serde_json::from_slice(line) {
            Ok(p) => p,
            Err(e) => return failures.push(format!("line {line_no} is not an inclusion proof: {e}")),
        };
        let hashes: Vec<Hash> = proof.hashes.iter().map(|h| h.0).collect();
        let index = usize::try_from(proof.sequence).ok().filter(|i| *i < leaves.len());
        let verdict = match index {
            None => Err(format!("names a record the ledger of {} records does not have", leaves.len())),
            Some(_) if proof.tree_size != checkpoint.size => Err(format!("is for tree size {}, not the checkpoint's {}", proof.tree_size, checkpoint.size)),
            Some(i) if std::mem::replace(&mut proven[i], true) => Err("is the second proof for that record".to_owned()),
            Some(i) => verify_inclusion(&leaves[i], proof.sequence, proof.tree_size, &hashes, &checkpoint.root)
                .map_err(|e| format!("does not lead to the checkpoint root: {e}")),
        };
        if let Err(why) = verdict {
            failures.push(format!("the inclusion proof for record {} {why}", proof.sequence));
        }
    });
    if let Err(e) = scanned {
        pack_finding(report, &e);
        return;
    }
    let missing = proven.iter().filter(|p| !**p).count();
    if missing > 0 {
        failures.push(format!("{missing} of the {} records have no proof in {PROOFS}", leaves.len()));
    } else if seen != leaves.len() {
        failures.push(format!("{PROOFS} holds {seen} proofs for {} records", leaves.len()));
    }
    for failure in failures {
        report.fail_file(Code::InclusionProofInvalid, PROOFS, failure);
    }
}
