//! The pack's files against the manifest: listing, `SHA256SUMS`, and digests
//! computed on worker threads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Code, RecordRef, Report, pack_finding};
use crate::digest::Sha256;
use crate::manifest::Manifest;
use crate::pack::{CHECKPOINT, LEDGER, MANIFEST, PROOFS, PackError, PackReader, SHA256SUMS};
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
