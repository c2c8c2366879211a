//! The hash chain and the record signatures, checked while the ledger streams past.

use std::collections::HashMap;
use std::sync::mpsc;

use super::{Code, RecordRef, Report};
use crate::digest::Sha256;
use crate::record::Record;
use crate::trust::TrustedKey;

/// Tracks sequence numbers and previous-hashes line by line. Gaps stay open
/// until the end: a record that fills one later was reordered, a gap still
/// open at the end means records were deleted.
#[derive(Default)]
pub(super) struct Chain {
    expected: u64,
    by_sequence: HashMap<u64, Sha256>,
    gaps: Vec<(u64, u64, RecordRef)>,
}

impl Chain {
    pub(super) fn observe(&mut self, record: &Record, rr: &RecordRef, report: &mut Report) {
        let s = record.link.sequence;
        if let Some(earlier) = self.by_sequence.get(&s) {
            if *earlier == record.line_hash {
                report.fail_record(Code::RecordDuplicated, rr, format!("record {s} appears a second time at line {}", rr.line));
            } else {
                report.fail_record(Code::RecordInjected, rr, format!("line {} is a second, different record claiming sequence {s}; one of the two was injected", rr.line));
            }
            return;
        }
        if s < self.expected {
            self.fill_gap(s);
            report.fail_record(Code::RecordOutOfOrder, rr, format!("record {s} appears at line {}, after record {}; the ledger was reordered", rr.line, self.expected - 1));
        } else if s > self.expected {
            self.gaps.push((self.expected, s, rr.clone()));
        }
        self.check_previous(record, rr, report);
        self.by_sequence.insert(s, record.line_hash);
        self.expected = self.expected.max(s.saturating_add(1));
    }

    fn check_previous(&self, record: &Record, rr: &RecordRef, report: &mut Report) {
        let s = record.link.sequence;
        let expected = if s == 0 { Some(Sha256([0; 32])) } else { self.by_sequence.get(&(s - 1)).copied() };
        // When the previous record is absent (deleted or further down), the gap
        // or reorder finding already names the problem.
        if let Some(expected) = expected.filter(|e| *e != record.link.previous) {
            report.fail_record(Code::ChainBroken, rr, format!(
                "record {s} names {} as its previous record's hash, but record {} hashes to {expected}; a record was replaced or injected",
                record.link.previous, s.saturating_sub(1)));
        }
    }

    fn fill_gap(&mut self, s: u64) {
        let Some(i) = self.gaps.iter().position(|(from, to, _)| (*from..*to).contains(&s)) else { return };
        let (from, to, rr) = self.gaps.remove(i);
        if from < s {
            self.gaps.push((from, s, rr.clone()));
        }
        if s + 1 < to {
            self.gaps.push((s + 1, to, rr));
        }
    }

    pub(super) fn finish(self, report: &mut Report) {
        for (from, to, rr) in self.gaps {
            let which = if to - from == 1 { format!("record {from} is") } else { format!("records {from} to {} are", to - 1) };
            report.fail_record(Code::RecordMissing, &rr, format!("{which} missing before line {}; records were deleted", rr.line));
        }
    }
}

/// Signatures per batch, and the most message bytes a batch may hold, so a
/// ledger of large lines cannot make the verifier hold much in memory.
const BATCH: usize = 256;
const BATCH_BYTES: usize = 8 << 20;

pub(super) struct Pending {
    message: Vec<u8>,
    signature: ed25519_dalek::Signature,
    key: ed25519_dalek::VerifyingKey,
    rr: RecordRef,
    key_id: String,
}

/// Ed25519 signatures checked in batches; a failed batch is re-checked one
/// by one with the strict check to name the bad record. The batch equation
/// does not refuse a small-order `R` the way the strict check does; weak
/// (small-order) public keys are refused when the trust root is read, so a
/// signature that passes still came from the trusted key.
#[derive(Default)]
pub(super) struct SignatureBatch {
    pending: Vec<Pending>,
    bytes: usize,
    checker: Option<mpsc::SyncSender<Vec<Pending>>>,
}

impl SignatureBatch {
    pub(super) fn push(&mut self, key: &TrustedKey, record: &Record, rr: &RecordRef, report: &mut Report) {
        let key_id = record.key_id().to_owned();
        let bad = |report: &mut Report| {
            report.fail_record(Code::RecordSignatureInvalid, rr, format!("record {}'s signature does not verify with key {key_id} ({}); the record was changed after signing", rr.sequence, key.name));
        };
        let Some(bytes) = record.signature() else { return bad(report) };
        let message = record.pae();
        match key.key.as_ed25519() {
            Some(vk) => match ed25519_dalek::Signature::from_slice(&bytes) {
                Ok(signature) => {
                    self.bytes += message.len();
                    self.pending.push(Pending { message, signature, key: *vk, rr: rr.clone(), key_id });
                }
                Err(_) => bad(report),
            },
            None => {
                if key.key.verify(&message, &bytes).is_err() {
                    bad(report);
                }
            }
        }
    }

    pub(super) fn full(&self) -> bool {
        self.pending.len() >= BATCH || self.bytes >= BATCH_BYTES
    }

    /// Sends the pending signatures to `checker`'s thread from now on,
    /// instead of checking them on the caller's thread.
    pub(super) fn check_on(&mut self, checker: mpsc::SyncSender<Vec<Pending>>) {
        self.checker = Some(checker);
    }

    /// Checks (or hands off) the pending signatures.
    pub(super) fn flush(&mut self, report: &mut Report) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        self.bytes = 0;
        let unsent = match &self.checker {
            Some(checker) => checker.send(batch).err().map(|e| e.0),
            None => Some(batch),
        };
        if let Some(batch) = unsent {
            check_batch(&batch, report);
        }
    }

    /// Flushes and lets the checker thread finish.
    pub(super) fn finish(mut self, report: &mut Report) {
        self.flush(report);
    }
}

/// Verifies a batch at once; when that fails, each signature alone with the
/// strict check, naming the bad records.
pub(super) fn check_batch(batch: &[Pending], report: &mut Report) {
    let messages: Vec<&[u8]> = batch.iter().map(|p| p.message.as_slice()).collect();
    let signatures: Vec<_> = batch.iter().map(|p| p.signature).collect();
    let keys: Vec<_> = batch.iter().map(|p| p.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return;
    }
    for p in batch.iter().filter(|p| p.key.verify_strict(&p.message, &p.signature).is_err()) {
        report.fail_record(Code::RecordSignatureInvalid, &p.rr, format!("record {}'s signature does not verify with key {}; the record was changed after signing", p.rr.sequence, p.key_id));
    }
}
