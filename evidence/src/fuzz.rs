//! Fuzz harnesses for every parser of untrusted input.
//!
//! Each function takes arbitrary bytes, must never panic, and checks a
//! round-trip property where the format has one. The cargo-fuzz project in
//! `fuzz/` (outside the workspace) wraps each function in a `fuzz_target!`;
//! the unit tests below run them over a few seeds so `cargo test` keeps them
//! compiling and passing. Run a target with
//! `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run <name>`.
//!
//! Keys and trust roots used here are derived from fixed, public seeds: they
//! exist only so the fuzzer can reach the code behind signature checks.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::checkpoint::{self, Checkpoint, NoteVerifier};
use crate::digest::Sha256;
use crate::dsse::{self, Envelope};
use crate::keys::SecretKey;
use crate::manifest::Manifest;
use crate::pack::NOTE_KEY_NAME;
use crate::record::Record;
use crate::trust::{self, TrustRoot};
use crate::verify;
use crate::worker;

/// The Ed25519 seed of the one key the fuzz trust root and note verifier trust.
/// Public on purpose: the seed corpus is signed with it so the fuzzer starts
/// from inputs whose signatures verify.
pub const FUZZ_KEY_SEED: [u8; 32] = [0x5e; 32];

/// The name the fuzz trust root gives its key.
const FUZZ_KEY_NAME: &str = "fuzz-seal";

/// The key made from [`FUZZ_KEY_SEED`].
pub fn fuzz_key() -> SecretKey {
    // A fixed 32-byte seed always makes an Ed25519 key; this cannot fail.
    SecretKey::ed25519_from_seed(&FUZZ_KEY_SEED).expect("an Ed25519 key from a fixed seed")
}

/// The trust root `trust::starter` writes for the fuzz key: it trusts that one
/// key for every phase and predicate type, and to seal.
pub fn fuzz_trust_text() -> String {
    trust::starter(FUZZ_KEY_NAME, fuzz_key().public_key(), Some("fuzz@example.invalid"))
}

fn fuzz_trust_root() -> &'static TrustRoot {
    static ROOT: OnceLock<TrustRoot> = OnceLock::new();
    ROOT.get_or_init(|| {
        // The library's own starter text for its own key always parses.
        TrustRoot::parse(&fuzz_trust_text(), "fuzz-trust.toml").expect("the starter trust root parses")
    })
}

fn fuzz_note_verifier() -> &'static NoteVerifier {
    static VERIFIER: OnceLock<NoteVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let key = ed25519_dalek::SigningKey::from_bytes(&FUZZ_KEY_SEED);
        // NOTE_KEY_NAME is a valid note key name and a key from a seed is not weak.
        NoteVerifier::new(NOTE_KEY_NAME, key.verifying_key()).expect("a verifier for the fixed key")
    })
}

/// Fuzzes [`Envelope::parse`]. An envelope that parses serialises with
/// [`Envelope::to_json`] to JSON that parses back to an equal envelope; its
/// base64 accessors never panic.
pub fn dsse_envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::parse(data) else { return };
    let _ = envelope.payload_bytes();
    for index in 0..=envelope.signatures.len() {
        let _ = envelope.signature_bytes(index);
    }
    let json = envelope.to_json();
    match Envelope::parse(json.as_bytes()) {
        Ok(again) => assert_eq!(again, envelope, "envelope changed through to_json: {json}"),
        Err(e) => panic!("to_json of a parsed envelope does not parse: {e}: {json}"),
    }
}

/// The fuzz trust root with the fuzz key also allowed to attest every kind.
fn fuzz_worker_trust_root() -> &'static TrustRoot {
    static ROOT: OnceLock<TrustRoot> = OnceLock::new();
    ROOT.get_or_init(|| {
        // The starter text ends inside the key's table, so the line adds to it.
        TrustRoot::parse(&format!("{}kinds = [\"*\"]\n", fuzz_trust_text()), "fuzz-worker-trust.toml").expect("the worker trust root parses")
    })
}

/// Fuzzes [`worker::check`] on an envelope as a worker's result carries it.
/// An attestation that holds, signed again from its parts with the fuzz key,
/// holds again with the same outcome and files.
pub fn worker_attestation(data: &[u8]) {
    let Ok(envelope) = Envelope::parse(data) else { return };
    let trust = fuzz_worker_trust_root();
    let Ok(at) = crate::timestamp::Timestamp::from_unix(1_800_000_000) else { return };
    let Ok(attested) = worker::check(&envelope, trust, at) else { return };
    let again = worker::attest(&attested.outcome, &attested.files, &fuzz_key()).expect("the fuzz key signs");
    match worker::check(&again, trust, at) {
        Ok(re) => assert_eq!((re.outcome, re.files), (attested.outcome, attested.files), "the attestation changed when signed again"),
        Err(e) => panic!("a re-signed attestation does not hold: {e}"),
    }
}

/// Fuzzes [`Record::parse_line`]. A line that parses keeps its exact bytes and
/// their hash, and parsing `record.line` again gives the same link and hash.
pub fn ledger_line(data: &[u8]) {
    let Ok(record) = Record::parse_line(data) else { return };
    assert_eq!(record.line, data, "the record does not keep its line");
    assert_eq!(record.line_hash, Sha256::of(data), "line_hash is not the line's SHA-256");
    let _ = (record.key_id(), record.pae(), record.signature(), record.link.release.validate());
    match Record::parse_line(&record.line) {
        Ok(again) => {
            assert_eq!(again.link, record.link, "the link changed on a second parse");
            assert_eq!(again.line_hash, record.line_hash, "the line hash changed on a second parse");
        }
        Err(e) => panic!("a parsed record's own line does not parse: {e}"),
    }
}

/// Fuzzes [`Manifest::from_payload`]. A manifest that parses re-encodes with
/// `to_statement().to_bytes()` to a payload that parses to an equal manifest,
/// and every listed file can be looked up by its path.
pub fn manifest(data: &[u8]) {
    let Ok(manifest) = Manifest::from_payload(data) else { return };
    for file in &manifest.files {
        assert_eq!(manifest.file(&file.path), Some(file), "listed file {} is not found by path", file.path);
    }
    let _ = manifest.sha256sums(crate::pack::MANIFEST, Sha256::of(data));
    let bytes = manifest.to_statement().to_bytes();
    match Manifest::from_payload(&bytes) {
        Ok(again) => assert_eq!(again, manifest, "the manifest changed through to_statement"),
        Err(e) => panic!("a parsed manifest's own statement does not parse: {e}"),
    }
}

/// Fuzzes [`TrustRoot::parse`] on the input as UTF-8 text (other input is
/// skipped: trust roots are read as text). A root that parses records the
/// SHA-256 of exactly that text, and its lookups never panic.
pub fn trust_root(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(root) = TrustRoot::parse(text, "fuzz.toml") else { return };
    assert_eq!(root.digest(), Sha256::of(data), "the trust root digest is not the text's SHA-256");
    let at = crate::timestamp::Timestamp::from_unix(1_800_000_000).ok();
    for key in root.keys() {
        let id = key.key.id().as_str();
        assert!(root.key(id).is_some(), "key {id} is listed but not found by id");
        let _ = (root.revocation(id), at.map(|at| key.valid_at(at)));
    }
    let _ = root.role("cab");
}

/// Fuzzes the C2SP checkpoint and signed-note parsers on the input as UTF-8
/// text (other input is skipped): [`Checkpoint::parse_body`],
/// [`checkpoint::open_note`] with a verifier for the fixed fuzz key, and
/// [`NoteVerifier::from_vkey`]. A body that parses formats back with
/// [`Checkpoint::body`] to the same text and passes
/// [`Checkpoint::validate`]; a verifier key string that parses is given back
/// unchanged by [`NoteVerifier::vkey`].
pub fn checkpoint_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check_body(text);
    if let Ok(opened) = checkpoint::open_note(text, std::slice::from_ref(fuzz_note_verifier())) {
        assert!(text.starts_with(&opened.body), "the opened body is not a prefix of the note");
        assert_eq!(opened.signed_by, [NOTE_KEY_NAME], "signers other than the one trusted key");
        check_body(&opened.body);
    }
    if let Ok(verifier) = NoteVerifier::from_vkey(text) {
        assert_eq!(verifier.vkey(), text, "the verifier key string does not round-trip");
    }
}

fn check_body(text: &str) {
    let Ok(parsed) = Checkpoint::parse_body(text) else { return };
    assert_eq!(parsed.body(), text, "the checkpoint body does not round-trip");
    if let Err(e) = parsed.validate() {
        panic!("a parsed checkpoint fails validate: {e}");
    }
}

/// Fuzzes the pack reader and the whole offline verification: writes the
/// input to a fresh file in the temporary directory, runs [`verify::verify`]
/// on it against the fixed fuzz trust root with the default limits, renders
/// the report, and removes the file. The outcome is ignored; only a panic
/// (or a hang, or an allocation past the fuzzer's limit) is a finding.
pub fn pack_reader(data: &[u8]) {
    let Some(file) = TempFile::write(data) else { return };
    let outcome = verify::verify(&file.0, fuzz_trust_root(), &verify::Options::default());
    let report = match &outcome {
        Ok(verify::Outcome::Verified(pack)) => pack.report(),
        Ok(verify::Outcome::Failed(report, _)) => report,
        Err(_) => return,
    };
    let _ = (report.pack_checks(), report.phases(), report.findings_by_phase(), serde_json::to_string(report));
}

/// A temporary file removed on drop, so a panicking run does not leave it behind.
struct TempFile(PathBuf);

impl TempFile {
    fn write(data: &[u8]) -> Option<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("evidence-fuzz-{}-{n}.zip", std::process::id()));
        let file = Self(path);
        fs::write(&file.0, data).ok()?;
        Some(file)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Seed inputs: `(harness name, input)` pairs.
pub type Seeds = Vec<(&'static str, Vec<u8>)>;

/// Valid inputs for every harness, made by the library with the fuzz key:
/// `(harness name, input)` pairs, including a real pack written by
/// [`crate::pack::write_pack`] in `work_dir` (which must exist and is left
/// holding the pack and its object store).
pub fn seed_corpus(work_dir: &Path) -> Result<Seeds, Box<dyn std::error::Error>> {
    use crate::manifest::{FileEntry, LedgerSummary};
    use crate::merkle::{MerkleTree, leaf_hash};
    use crate::pack::{SealInput, write_pack};
    use crate::record::{EVIDENCE_FILE_PREDICATE, EvidenceRef, RELEASE_PREDICATE, RecordDraft, ReleaseBinding};
    use crate::statement::ResourceDescriptor;
    use crate::store::ObjectStore;
    use crate::timestamp::Timestamp;

    let key = fuzz_key();
    let release = ReleaseBinding {
        version: "v1.2.3".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        environment: "prod".into(),
        id: "00112233445566778899aabbccddeeff".into(),
    };
    let store = ObjectStore::new(work_dir.join("objects"));
    let report = b"<testsuite tests=\"1\" failures=\"0\"/>\n";
    let (digest, size) = store.put(&report[..])?;
    let drafts = [
        RecordDraft {
            phase: "P0".into(),
            record_type: "release".into(),
            predicate_type: RELEASE_PREDICATE.into(),
            predicate: serde_json::json!({ "note": "fuzz seed" }),
            subjects: vec![],
            evidence: vec![],
        },
        RecordDraft {
            phase: "P1".into(),
            record_type: "junit".into(),
            predicate_type: EVIDENCE_FILE_PREDICATE.into(),
            predicate: serde_json::json!({ "name": "report.xml" }),
            subjects: vec![ResourceDescriptor::new("report.xml", digest)],
            evidence: vec![EvidenceRef { name: "report.xml".into(), sha256: digest, size }],
        },
    ];
    let mut records: Vec<Record> = Vec::new();
    for (sequence, draft) in (0u64..).zip(drafts) {
        let previous = records.last().map_or(Sha256([0; 32]), |r| r.line_hash);
        let at = Timestamp::from_unix(1_800_000_000 + sequence as i64)?;
        records.push(Record::seal(draft, sequence, previous, &release, at, &key)?);
    }
    let trust = fuzz_trust_root();
    let pack_path = work_dir.join("evidence-v1.2.3.zip");
    let input = SealInput {
        records: &records,
        release: &release,
        store: &store,
        public_keys: std::slice::from_ref(key.public_key()),
        trust_root: trust.digest(),
        seal_key: &key,
        approvals: &crate::approval::ApprovalsMatrix::of(&records, trust, &release),
        index_html: None,
    };
    write_pack(&pack_path, &input)?;

    let tree = MerkleTree::from_leaf_hashes(records.iter().map(|r| leaf_hash(&r.line)).collect());
    let last = records.last().ok_or("no records")?;
    let manifest = Manifest {
        release: release.clone(),
        ledger: LedgerSummary { records: records.len() as u64, head: last.line_hash, root: Sha256(tree.root()) },
        trust_root: trust.digest(),
        sealed_at: last.link.recorded_at,
        files: vec![FileEntry { path: format!("evidence/sha256/{digest}"), size, sha256: digest }],
    };
    let checkpoint = Checkpoint { origin: crate::pack::origin(&release), size: tree.size(), root: tree.root(), extensions: vec!["fuzz".into()] };
    let seal = key.as_ed25519().ok_or("the fuzz key is not Ed25519")?;
    let note = checkpoint::sign_note(&checkpoint.body(), NOTE_KEY_NAME, seal)?;
    let vkey = fuzz_note_verifier().vkey();

    let mut seeds: Seeds = Vec::new();
    for record in &records {
        seeds.push(("dsse_envelope", record.line.clone()));
        seeds.push(("ledger_line", record.line.clone()));
    }
    seeds.push(("dsse_envelope", manifest.sign(&key)?.to_json().into_bytes()));
    seeds.push(("dsse_envelope", Envelope::sign("text/plain", b"hello", &key)?.to_json().into_bytes()));
    seeds.push(("dsse_envelope", dsse::pae(dsse::INTOTO_PAYLOAD_TYPE, b"{}")));
    seeds.push(("manifest", manifest.to_statement().to_bytes()));
    seeds.push(("trust_root", fuzz_trust_text().into_bytes()));
    seeds.push(("trust_root", trust_with_role_and_revocation(&key).into_bytes()));
    seeds.push(("checkpoint_note", checkpoint.body().into_bytes()));
    seeds.push(("checkpoint_note", note.into_bytes()));
    seeds.push(("checkpoint_note", vkey.into_bytes()));
    seeds.push(("pack_reader", fs::read(&pack_path)?));
    let outcome = worker::WorkerOutcome {
        release: release.clone(),
        phase: "P5".into(),
        agent: "DR/BCP Lead".into(),
        kind: "drill".into(),
        task_id: "0123456789abcdef01234567".into(),
        run_id: "00112233445566778899aabb".into(),
        verdict: "pass".into(),
        reason: "drill region failover met its RTO".into(),
        facts: serde_json::json!({ "rtoSeconds": 42 }),
    };
    seeds.push(("worker_attestation", worker::attest(&outcome, &[("drill.log".into(), digest)], &key)?.to_json().into_bytes()));
    Ok(seeds)
}

/// A trust root that also has a validity window, a revocation and a role.
fn trust_with_role_and_revocation(key: &SecretKey) -> String {
    let id = key.id();
    format!(
        "{}valid_from = 2026-01-01T00:00:00Z\nvalid_until = 2030-01-01T00:00:00+02:00\n\n\
         [[revoked]]\nid = \"{}\"\nreason = \"lost\"\n\n[roles.cab]\nthreshold = 1\nkeys = [\"{id}\"]\n",
        fuzz_trust_text(),
        "0".repeat(64),
    )
}

/// Deterministic pseudo-random bytes (xorshift64) for the harnesses' own
/// tests, here and in other crates' fuzz modules, so failures reproduce.
pub fn random_bytes(mut state: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Harness = fn(&[u8]);

    const HARNESSES: [(&str, Harness); 7] = [
        ("dsse_envelope", dsse_envelope),
        ("worker_attestation", worker_attestation),
        ("ledger_line", ledger_line),
        ("manifest", manifest),
        ("trust_root", trust_root),
        ("checkpoint_note", checkpoint_note),
        ("pack_reader", pack_reader),
    ];

    fn seeds(dir: &Path) -> Seeds {
        let mut seeds = seed_corpus(dir).expect("the seed corpus is made");
        // Damaged copies of every valid seed: truncated and with one byte flipped.
        for (name, bytes) in seeds.clone() {
            seeds.push((name, bytes[..bytes.len() / 2].to_vec()));
            let mut flipped = bytes.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x20;
            seeds.push((name, flipped));
        }
        seeds.push(("empty", Vec::new()));
        seeds.push(("random", random_bytes(0x9e37_79b9_7f4a_7c15, 64)));
        seeds.push(("random", random_bytes(0x2545_f491_4f6c_dd1d, 4096)));
        seeds.push(("zip magic", b"PK\x05\x06".iter().copied().chain([0; 18]).collect()));
        seeds
    }

    #[test]
    fn every_harness_survives_every_seed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let seeds = seeds(dir.path());
        for (harness, run) in HARNESSES {
            assert!(seeds.iter().any(|(name, _)| *name == harness), "no valid seed for {harness}");
            for (_, input) in &seeds {
                run(input);
            }
        }
    }

    #[test]
    fn valid_seeds_parse() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, input) in seed_corpus(dir.path()).expect("the seed corpus is made") {
            match name {
                "dsse_envelope" if input.starts_with(b"{") => {
                    Envelope::parse(&input).expect("envelope seed parses");
                }
                "ledger_line" => {
                    Record::parse_line(&input).expect("ledger seed parses");
                }
                "manifest" => {
                    Manifest::from_payload(&input).expect("manifest seed parses");
                }
                "worker_attestation" => {
                    let envelope = Envelope::parse(&input).expect("worker seed parses");
                    let at = crate::timestamp::Timestamp::from_unix(1_800_000_000).expect("a time");
                    worker::check(&envelope, fuzz_worker_trust_root(), at).expect("the worker seed holds");
                }
                "trust_root" => {
                    TrustRoot::parse(std::str::from_utf8(&input).expect("utf-8"), "seed").expect("trust seed parses");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_seed_note_opens_with_the_fuzz_verifier() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let notes: Vec<String> = seed_corpus(dir.path())
            .expect("the seed corpus is made")
            .into_iter()
            .filter(|(name, input)| *name == "checkpoint_note" && input.windows(2).any(|w| w == b"\n\n"))
            .map(|(_, input)| String::from_utf8(input).expect("utf-8"))
            .collect();
        assert_eq!(notes.len(), 1);
        let opened = checkpoint::open_note(&notes[0], std::slice::from_ref(fuzz_note_verifier())).expect("the note opens");
        Checkpoint::parse_body(&opened.body).expect("its body parses");
    }

    #[test]
    fn the_seed_pack_verifies_under_the_fuzz_trust_root() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        seed_corpus(dir.path()).expect("the seed corpus is made");
        let outcome = verify::verify(&dir.path().join("evidence-v1.2.3.zip"), fuzz_trust_root(), &verify::Options::default())
            .expect("the pack opens");
        match outcome {
            verify::Outcome::Verified(pack) => assert_eq!(pack.manifest().ledger.records, 2),
            verify::Outcome::Failed(report, _) => panic!("the seed pack fails: {:?}", report.findings),
        }
    }

    /// Found by the `trust_root` target: an END marker overlapping the BEGIN
    /// line's dashes made the PEM reader slice backwards and panic.
    #[test]
    fn overlapping_pem_markers_are_an_error_not_a_panic() {
        let pem = "-----BEGIN PUBLIC KEY--------END PUBLIC KEY-----\n";
        assert!(crate::keys::PublicKey::from_pem(pem).is_err());
        assert!(SecretKey::from_pem("-----BEGIN A-----END A-----", None).is_err());
        let text = format!("version = 1\n[[keys]]\nid = \"{}\"\nname = \"x\"\npublic_key = \"\"\"\n{pem}\"\"\"\n", "0".repeat(64));
        assert!(TrustRoot::parse(&text, "crash.toml").is_err());
        trust_root(text.as_bytes());
    }

    #[test]
    fn temporary_pack_files_are_unique_and_removed() {
        let first = TempFile::write(b"one").expect("the temporary directory is writable");
        let second = TempFile::write(b"two").expect("the temporary directory is writable");
        assert_ne!(first.0, second.0);
        let path = first.0.clone();
        assert_eq!(fs::read(&path).expect("written"), b"one");
        drop(first);
        assert!(!path.exists());
    }
}
