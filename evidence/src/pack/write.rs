//! Sealing a ledger into a pack. The output depends only on the ledger, the
//! stored evidence, the public keys and the trust root digest: entries are
//! sorted, timestamps come from the last record, permissions are fixed.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{CHECKPOINT, INDEX_HTML, InclusionProof, LEDGER, MANIFEST, NOTE_KEY_NAME, PROOFS, SHA256SUMS, origin, readable_copies};
use crate::approval::APPROVALS_MATRIX;
use crate::checkpoint::{Checkpoint, sign_note};
use crate::digest::{HashingWriter, Sha256};
use crate::keys::{KeyError, PublicKey, SecretKey};
use crate::manifest::{FileEntry, LedgerSummary, Manifest};
use crate::merkle::{MerkleTree, leaf_hash};
use crate::record::{Record, ReleaseBinding};
use crate::store::ObjectStore;

/// Everything a pack is made from.
pub struct SealInput<'a> {
    /// The ledger's records, in order.
    pub records: &'a [Record],
    /// The release they belong to.
    pub release: &'a ReleaseBinding,
    /// Where the evidence files are.
    pub store: &'a ObjectStore,
    /// Public keys to include under `keys/` (those that signed records).
    pub public_keys: &'a [PublicKey],
    /// SHA-256 of the trust root in force when sealing.
    pub trust_root: Sha256,
    /// The Ed25519 key that signs the manifest and the checkpoint.
    pub seal_key: &'a SecretKey,
    /// The approvals matrix, stored as `approvals_matrix.json`.
    pub approvals: &'a crate::approval::ApprovalsMatrix,
    /// The release's page for people, stored as `index.html` when given. It
    /// must depend only on the other inputs, so the pack stays deterministic.
    pub index_html: Option<&'a [u8]>,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct PackSummary {
    /// The pack file.
    pub path: PathBuf,
    /// Number of records.
    pub records: u64,
    /// The Merkle root.
    pub root: Sha256,
    /// Number of files in the pack.
    pub files: usize,
}

/// Why a pack could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PackWriteError {
    /// The ledger has no records.
    #[error("the ledger is empty; nothing to seal")]
    Empty,
    /// The seal key is not Ed25519.
    #[error("the sealing key {key_id} is not Ed25519; checkpoints are signed notes, which need an Ed25519 key")]
    SealKeyNotEd25519 {
        /// The key offered.
        key_id: String,
    },
    /// A stored evidence file is missing or damaged.
    #[error("evidence file {digest} ({name}) {problem}; the local object store is damaged, attest the file again")]
    Evidence {
        /// Its digest.
        digest: Sha256,
        /// Its name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// Writing failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Writing the zip failed.
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// Seals the ledger into a pack at `out`. The pack is written to a temporary
/// file beside `out` and renamed into place, so a failure leaves nothing half written.
pub fn write_pack(out: &Path, input: &SealInput<'_>) -> Result<PackSummary, PackWriteError> {
    let seal = input.seal_key.as_ed25519().ok_or_else(|| PackWriteError::SealKeyNotEd25519 { key_id: input.seal_key.id().to_string() })?;
    let last = input.records.last().ok_or(PackWriteError::Empty)?;
    let temp = temp_path(out);
    let result = write_zip(&temp, input, seal, last);
    match result {
        Ok(mut summary) => {
            fs::rename(&temp, out).map_err(|error| PackWriteError::Io { path: out.to_owned(), error })?;
            summary.path = out.to_owned();
            Ok(summary)
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

fn temp_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// The small files of the pack, built in memory before anything is written.
struct Metadata {
    files: BTreeMap<String, Vec<u8>>,
    root: Sha256,
}

fn metadata(input: &SealInput<'_>, seal: &ed25519_dalek::SigningKey) -> Result<Metadata, PackWriteError> {
    let mut files = BTreeMap::new();
    let ledger: Vec<u8> = input.records.iter().flat_map(|r| r.line.iter().copied().chain([b'\n'])).collect();
    let tree = MerkleTree::from_leaf_hashes(input.records.iter().map(|r| leaf_hash(&r.line)).collect());
    let root = Sha256(tree.root());
    let checkpoint = Checkpoint { origin: origin(input.release), size: tree.size(), root: tree.root(), extensions: vec![] };
    let note = sign_note(&checkpoint.body(), NOTE_KEY_NAME, seal).map_err(|e| PackWriteError::Key(KeyError::Crypto { operation: "signing the checkpoint", detail: e.to_string() }))?;
    let mut proofs = Vec::new();
    for record in input.records {
        let hashes = tree.inclusion_proof(record.link.sequence).unwrap_or_default().into_iter().map(Sha256).collect();
        let line = InclusionProof { sequence: record.link.sequence, tree_size: tree.size(), hashes };
        serde_json::to_writer(&mut proofs, &line).map_err(|e| io_err(PROOFS, e.into()))?;
        proofs.push(b'\n');
    }
    files.insert(LEDGER.to_owned(), ledger);
    files.insert(CHECKPOINT.to_owned(), note.into_bytes());
    files.insert(PROOFS.to_owned(), proofs);
    // A worker's key signs no record but its attestations inside outcome records.
    let workers = input.records.iter().filter_map(|r| r.statement.predicate.pointer("/worker/keyId").and_then(serde_json::Value::as_str));
    let signers: std::collections::BTreeSet<&str> = input.records.iter().map(Record::key_id).chain(workers).collect();
    for key in input.public_keys.iter().filter(|k| signers.contains(k.id().as_str())) {
        files.insert(format!("keys/{}.pub", key.id()), key.to_pem().into_bytes());
    }
    Ok(Metadata { files, root })
}

fn io_err(path: &str, source: io::Error) -> PackWriteError {
    PackWriteError::Io { path: PathBuf::from(path), error: source }
}

fn write_zip(temp: &Path, input: &SealInput<'_>, seal: &ed25519_dalek::SigningKey, last: &Record) -> Result<PackSummary, PackWriteError> {
    let meta = metadata(input, seal)?;
    let file = File::create(temp).map_err(|error| PackWriteError::Io { path: temp.to_owned(), error })?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let time = zip_time(last);
    let mut entries: Vec<FileEntry> = Vec::new();
    let evidence = evidence_files(input.records);
    // Entries go out in the order approvals_matrix.json, index.html, evidence/, keys/, ledger/,
    // the readable copies (slo/), then the manifest.
    let matrix = input.approvals.to_json();
    add_bytes(&mut zip, APPROVALS_MATRIX, &matrix, time, CompressionMethod::Deflated)?;
    entries.push(FileEntry { path: APPROVALS_MATRIX.to_owned(), size: matrix.len() as u64, sha256: Sha256::of(&matrix) });
    if let Some(page) = input.index_html {
        add_bytes(&mut zip, INDEX_HTML, page, time, CompressionMethod::Deflated)?;
        entries.push(FileEntry { path: INDEX_HTML.to_owned(), size: page.len() as u64, sha256: Sha256::of(page) });
    }
    for (digest, name) in &evidence {
        let path = format!("evidence/sha256/{digest}");
        entries.push(copy_evidence(&mut zip, input.store, *digest, name, &path, time)?);
    }
    for (path, bytes) in &meta.files {
        add_bytes(&mut zip, path, bytes, time, CompressionMethod::Deflated)?;
        entries.push(FileEntry { path: path.clone(), size: bytes.len() as u64, sha256: Sha256::of(bytes) });
    }
    let copies = readable_copies(input.records.iter().flat_map(|r| r.link.evidence.iter().map(|e| (r.link.record_type.as_str(), e))));
    for (path, e) in &copies {
        entries.push(copy_evidence(&mut zip, input.store, e.sha256, &e.name, path, time)?);
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        release: input.release.clone(),
        ledger: LedgerSummary { records: input.records.len() as u64, head: last.line_hash, root: meta.root },
        trust_root: input.trust_root,
        sealed_at: last.link.recorded_at,
        files: entries,
    };
    let envelope = manifest.sign(input.seal_key)?.to_json().into_bytes();
    let sums = manifest.sha256sums(MANIFEST, Sha256::of(&envelope));
    add_bytes(&mut zip, MANIFEST, &envelope, time, CompressionMethod::Deflated)?;
    add_bytes(&mut zip, SHA256SUMS, sums.as_bytes(), time, CompressionMethod::Deflated)?;
    let writer = zip.finish()?;
    let file = writer.into_inner().map_err(|e| io_err(&temp.to_string_lossy(), e.into_error()))?;
    file.sync_all().map_err(|error| PackWriteError::Io { path: temp.to_owned(), error })?;
    Ok(PackSummary { path: temp.to_owned(), records: manifest.ledger.records, root: meta.root, files: manifest.files.len() + 2 })
}

/// Evidence files by digest (one copy each), with the first name they were attested under.
fn evidence_files(records: &[Record]) -> BTreeMap<Sha256, String> {
    let mut out = BTreeMap::new();
    for e in records.iter().flat_map(|r| &r.link.evidence) {
        out.entry(e.sha256).or_insert_with(|| e.name.clone());
    }
    out
}

fn options(time: zip::DateTime, method: CompressionMethod, size: u64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(time)
        .unix_permissions(0o644)
        .large_file(size >= u64::from(u32::MAX))
}

fn add_bytes<W: Write + io::Seek>(zip: &mut ZipWriter<W>, path: &str, bytes: &[u8], time: zip::DateTime, method: CompressionMethod) -> Result<(), PackWriteError> {
    zip.start_file(path, options(time, method, bytes.len() as u64))?;
    zip.write_all(bytes).map_err(|e| io_err(path, e))
}

/// Copies a stored evidence file into the zip, hashing it on the way so a
/// damaged object store is caught here rather than by the auditor.
fn copy_evidence<W: Write + io::Seek>(
    zip: &mut ZipWriter<W>,
    store: &ObjectStore,
    digest: Sha256,
    name: &str,
    path: &str,
    time: zip::DateTime,
) -> Result<FileEntry, PackWriteError> {
    let problem = |problem: String| PackWriteError::Evidence { digest, name: name.to_owned(), problem };
    let mut source = store.open(&digest).map_err(|e| problem(format!("cannot be opened: {e}")))?;
    let size = source.metadata().map_err(|e| problem(e.to_string()))?.len();
    // Evidence is stored, not deflated: it is often compressed already, and
    // verification then reads it at disk speed.
    zip.start_file(path, options(time, CompressionMethod::Stored, size))?;
    let mut hashing = HashingWriter::new(&mut *zip);
    io::copy(&mut source, &mut hashing).map_err(|e| io_err(path, e))?;
    let (actual, copied) = hashing.finish();
    if actual != digest || copied != size {
        return Err(problem(format!("now hashes to {actual}")));
    }
    Ok(FileEntry { path: path.to_owned(), size, sha256: digest })
}

fn zip_time(last: &Record) -> zip::DateTime {
    let t = last.link.recorded_at.utc();
    // Zip dates run from 1980 to 2107, so the year is clamped into that range;
    // an impossible result falls back to the zip epoch.
    zip::DateTime::from_date_and_time(t.year().clamp(1980, 2107) as u16, t.month() as u8, t.day(), t.hour(), t.minute(), t.second())
        .unwrap_or_default()
}
