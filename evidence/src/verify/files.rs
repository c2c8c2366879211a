//! The pack's files against the manifest: listing, `SHA256SUMS`, and digests
//! computed on worker threads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Code, RecordRef, Report, pack_finding};
use crate::digest::Sha256;
use crate::manifest::Manifest;
use crate::pack::{CHECKPOINT, LEDGER, MANIFEST, PROOFS, PackError, PackReader, READABLE_FOLDERS, SHA256SUMS};
use crate::record::EvidenceRef;

/// Hashing threads: two keep both cores of a small machine busy while the
/// main thread checks signatures; more rarely helps since hashing is
/// memory-bound.
const WORKERS: usize = 2;

pub(super) type Hashes = BTreeMap<String, Result<(Sha256, u64), PackError>>;

/// Every file is listed and every listed file is present; `SHA256SUMS` agrees.
pub(super) fn check_listing(pack: &mut PackReader, manifest: &Manifest, report: &mut Report) {
    let present: Vec<String> = pack.entries().map(|(name, _)| name.to_owned()).collect();
    for name in present.iter().filter(|n| *n != MANIFEST && *n != SHA256SUMS && manifest.file(n).is_none()) {
        report.fail_file(Code::FileUnlisted, name, format!("{name} is in the pack but not in the signed manifest; it was added after sealing"));
    }
    for required in [LEDGER, CHECKPOINT, PROOFS].into_iter().filter(|p| manifest.file(p).is_none()) {
        report.fail_file(Code::FileMissing, required, format!("the signed manifest does not list {required}, which every pack holds"));
    }
    for f in manifest.files.iter().filter(|f| !pack.contains(&f.path)) {
        report.fail_file(Code::FileMissing, &f.path, format!("{} is listed in the manifest but missing from the pack; it was removed after sealing", f.path));
    }
    check_sums(pack, manifest, report);
}

fn check_sums(pack: &mut PackReader, manifest: &Manifest, report: &mut Report) {
    if !pack.contains(SHA256SUMS) {
        return report.fail_file(Code::FileMissing, SHA256SUMS, format!("the pack has no {SHA256SUMS}"));
    }
    let (sums, envelope_digest) = match (pack.read(SHA256SUMS), pack.hash(MANIFEST)) {
        (Ok(s), Ok((digest, _))) => (s, digest),
        (Err(e), _) | (_, Err(e)) => return pack_finding(report, &e),
    };
    if sums != manifest.sha256sums(MANIFEST, envelope_digest).into_bytes() {
        report.fail_file(Code::Sha256sumsMismatch, SHA256SUMS, format!("{SHA256SUMS} does not match the signed manifest"));
    }
}

/// The readable copies the manifest lists are exactly those the ledger's
/// records name, each the same file (digest and size) as its evidence; the
/// digests of the copies themselves are compared with the manifest like
/// every other file's.
pub(super) fn check_readable(manifest: &Manifest, expected: &BTreeMap<String, EvidenceRef>, report: &mut Report) {
    let readable = |path: &str| READABLE_FOLDERS.iter().any(|f| path.strip_prefix(f).is_some_and(|rest| rest.starts_with('/')));
    for f in manifest.files.iter().filter(|f| readable(&f.path)) {
        match expected.get(&f.path) {
            Some(e) if e.sha256 == f.sha256 && e.size == f.size => {}
            Some(e) => report.fail_file(Code::ReadableCopyMismatch, &f.path, format!(
                "{} is listed as {} ({} bytes), but the ledger's evidence file {} for that path is {} ({} bytes)",
                f.path, f.sha256, f.size, e.name, e.sha256, e.size)),
            None => report.fail_file(Code::ReadableCopyMismatch, &f.path, format!("{} is not a copy of any evidence file the ledger names", f.path)),
        }
    }
    for (path, e) in expected.iter().filter(|(p, _)| manifest.file(p).is_none()) {
        report.fail_file(Code::ReadableCopyMismatch, path, format!("the ledger names evidence file {} ({}), but the pack has no readable copy at {path}", e.name, e.sha256));
    }
}

/// One independent reader per hashing thread.
pub(super) fn workers(pack: &PackReader) -> Vec<PackReader> {
    (0..WORKERS).map(|_| pack.reopen()).collect()
}

/// Every listed file present in the pack.
pub(super) fn all_listed(pack: &PackReader, manifest: &Manifest) -> Vec<(String, u64)> {
    manifest.files.iter().filter(|f| pack.contains(&f.path)).map(|f| (f.path.clone(), f.size)).collect()
}

/// With `--only`: the metadata files and the evidence of the selected phases.
pub(super) fn selected(pack: &PackReader, manifest: &Manifest, evidence: &[(RecordRef, EvidenceRef)], report: &mut Report) -> Vec<(String, u64)> {
    let wanted: BTreeSet<String> = evidence.iter().map(|(_, e)| e.pack_path()).collect();
    let all = all_listed(pack, manifest);
    let (keep, skip): (Vec<_>, Vec<_>) = all.into_iter().partition(|(path, _)| !path.starts_with("evidence/") || wanted.contains(path));
    if !skip.is_empty() {
        report.notes.push(format!("{} evidence files of other phases were not hashed (--only)", skip.len()));
    }
    keep
}

/// Hashes `files` across the workers, largest first. Each worker takes the
/// next file when it is free, so a worker slowed down (by the signature checks
/// sharing its core, or by other processes) does not leave the others idle
/// while it finishes a fixed share.
pub(super) fn hash_all(workers: Vec<PackReader>, mut files: Vec<(String, u64)>) -> Hashes {
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let next = AtomicUsize::new(0);
    let (files, next) = (&files, &next);
    std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut reader| scope.spawn(move || {
                let mut done = Vec::new();
                while let Some((path, _)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    done.push((path.clone(), reader.hash(path)));
                }
                done
            }))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Digests and sizes of every wanted file against the manifest.
pub(super) fn compare(manifest: &Manifest, wanted: &[(String, u64)], hashes: &Hashes, report: &mut Report) {
    for (path, _) in wanted {
        let Some(listed) = manifest.file(path) else { continue };
        let Some(result) = hashes.get(path) else {
            report.fail_file(Code::PackEntryCorrupt, path, format!("{path} could not be hashed"));
            continue;
        };
        match result {
            Ok((_, size)) if *size != listed.size => report.fail_file(Code::FileSizeMismatch, path, format!("{path} holds {size} bytes, but the manifest sealed {}", listed.size)),
            Ok((digest, _)) if *digest != listed.sha256 => report.fail_file(Code::FileDigestMismatch, path, format!("{path} hashes to {digest}, but the manifest sealed {}", listed.sha256)),
            Ok(_) => {}
            Err(e) => pack_finding(report, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::SecretKey;
    use crate::ledger::Ledger;
    use crate::manifest::{FileEntry, LedgerSummary};
    use crate::pack::PackReader;
    use crate::record::{RecordDraft, ReleaseBinding};
    use crate::store::ObjectStore;
    use crate::timestamp::Timestamp;
    use crate::verify::{Options, Outcome, verify};

    const CHART: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><text>checkout</text></svg>";

    fn release() -> ReleaseBinding {
        ReleaseBinding { version: "v1.0.0".into(), commit: "b".repeat(40), environment: "prod".into(), id: "c".repeat(32) }
    }

    #[test]
    fn an_slo_chart_is_sealed_at_its_readable_path_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::ed25519_from_seed(&[9; 32]).unwrap();
        let store = ObjectStore::new(dir.path().join("objects"));
        let (sha256, size) = store.put_bytes(CHART).unwrap();
        let draft = RecordDraft {
            phase: "P1".into(),
            record_type: "slo-snapshot".into(),
            predicate_type: crate::verify::AGENT_OUTCOME_PREDICATE.into(),
            predicate: json!({"agent": "SLO Librarian", "kind": "slo", "verdict": "pass", "facts": {}}),
            subjects: vec![],
            evidence: vec![EvidenceRef { name: "slo/checkout.svg".into(), sha256, size }],
        };
        let mut ledger = Ledger::open(&dir.path().join("ledger.intoto.jsonl")).unwrap();
        ledger.append(draft, &release(), Timestamp::from_unix(1_800_000_000).unwrap(), &key).unwrap();
        let trust = crate::trust::TrustRoot::parse(&crate::trust::starter("notary", key.public_key(), None), "trust.toml").unwrap();
        let approvals = crate::approval::ApprovalsMatrix::of(ledger.records(), &trust, &release());
        let input = crate::pack::SealInput { records: ledger.records(), release: &release(), store: &store, public_keys: &[], trust_root: trust.digest(), seal_key: &key, approvals: &approvals, index_html: None };
        let out = dir.path().join("pack.zip");
        crate::pack::write_pack(&out, &input).unwrap();
        let mut reader = PackReader::open(&out, crate::pack::Limits::default()).unwrap();
        assert_eq!(reader.read("slo/slo-snapshot/checkout.svg").unwrap(), CHART);
        match verify(&out, &trust, &Options::default()).unwrap() {
            Outcome::Verified(pack) => assert!(pack.manifest().file("slo/slo-snapshot/checkout.svg").is_some()),
            Outcome::Failed(report, _) => panic!("{report:?}"),
        }
    }

    fn manifest(files: Vec<FileEntry>) -> Manifest {
        Manifest {
            release: release(),
            ledger: LedgerSummary { records: 1, head: Sha256([1; 32]), root: Sha256([2; 32]) },
            trust_root: Sha256([3; 32]),
            sealed_at: Timestamp::from_unix(1_800_000_000).unwrap(),
            files,
        }
    }

    #[test]
    fn a_readable_copy_must_be_the_file_its_record_names() {
        let e = EvidenceRef { name: "slo/checkout.svg".into(), sha256: Sha256([4; 32]), size: 10 };
        let expected = BTreeMap::from([("slo/slo-snapshot/checkout.svg".to_owned(), e)]);
        let entry = |path: &str, byte: u8| FileEntry { path: path.into(), size: 10, sha256: Sha256([byte; 32]) };
        let findings = |mut files: Vec<FileEntry>| {
            // The manifest's files are sorted by path, as a parsed manifest's are.
            files.sort_by(|a, b| a.path.cmp(&b.path));
            let mut report = Report::default();
            check_readable(&manifest(files), &expected, &mut report);
            report.findings.iter().map(|f| (f.code.as_str(), f.message.clone())).collect::<Vec<_>>()
        };
        assert!(findings(vec![entry("slo/slo-snapshot/checkout.svg", 4), entry("evidence/sha256/x", 7)]).is_empty());
        let swapped = findings(vec![entry("slo/slo-snapshot/checkout.svg", 5)]);
        assert_eq!(swapped.len(), 1);
        assert!(swapped[0].1.contains("the ledger's evidence file slo/checkout.svg for that path is"), "{swapped:?}");
        let both = findings(vec![entry("slo/slo-snapshot/other.svg", 4)]);
        assert!(both.iter().all(|(code, _)| *code == "readable-copy-mismatch"));
        assert!(both.iter().any(|(_, m)| m.contains("is not a copy of any evidence file")), "{both:?}");
        assert!(both.iter().any(|(_, m)| m.contains("the pack has no readable copy at slo/slo-snapshot/checkout.svg")), "{both:?}");
    }
}
