//! What verification found: diagnostics with stable codes, grouped into
//! checks, with a verdict per phase.

use std::collections::BTreeMap;

use serde::Serialize;

/// Every way verification can fail, each with a stable kebab-case code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// An entry name is absolute, climbs out with `..`, or has odd characters.
    PackEntryUnsafePath,
    /// An entry is a symbolic link.
    PackEntryLink,
    /// A name appears twice.
    PackEntryDuplicate,
    /// An entry's real size differs from its declared size.
    PackEntrySizeMismatch,
    /// An entry fails its CRC or does not decompress.
    PackEntryCorrupt,
    /// A directory, encrypted entry or unknown compression method.
    PackEntryUnsupported,
    /// Too many entries or too many bytes.
    PackLimitsExceeded,
    /// No manifest.
    ManifestMissing,
    /// The manifest is not a valid manifest statement.
    ManifestMalformed,
    /// The manifest's signature does not verify.
    ManifestSignatureInvalid,
    /// No sealing key of the trust root signed the manifest.
    ManifestKeyUntrusted,
    /// A file is in the pack but not in the manifest.
    FileUnlisted,
    /// A file is in the manifest but not in the pack.
    FileMissing,
    /// A file's SHA-256 differs from the manifest.
    FileDigestMismatch,
    /// A file's size differs from the manifest.
    FileSizeMismatch,
    /// `SHA256SUMS` does not match the manifest.
    Sha256sumsMismatch,
    /// A readable copy (`slo/...`) is not the evidence file the ledger names for
    /// its path, or one the ledger names is missing.
    ReadableCopyMismatch,
    /// A ledger line is not a record.
    LedgerLineMalformed,
    /// The ledger's record count or head differs from the manifest.
    LedgerSummaryMismatch,
    /// Sequence numbers skip: records were deleted.
    RecordMissing,
    /// Sequence numbers go backwards: records were reordered.
    RecordOutOfOrder,
    /// The same record appears twice.
    RecordDuplicated,
    /// Two different records claim one sequence number.
    RecordInjected,
    /// A record's previous-hash is not the hash of the record before it.
    ChainBroken,
    /// A record is bound to another release.
    RecordFromAnotherRelease,
    /// A record's signature does not verify.
    RecordSignatureInvalid,
    /// A record is signed by a key the trust root does not know.
    RecordKeyUnknown,
    /// A record is signed by a revoked key.
    KeyRevoked,
    /// A record was signed outside the key's validity window.
    KeyOutsideValidity,
    /// The key may not sign records of this phase.
    KeyPhaseNotAllowed,
    /// The key may not sign this predicate type.
    KeyTypeNotAllowed,
    /// A record's evidence file is not in the pack.
    EvidenceMissing,
    /// A record's evidence file differs from what the record says.
    EvidenceDigestMismatch,
    /// No checkpoint.
    CheckpointMissing,
    /// The checkpoint is not a valid signed note or checkpoint body.
    CheckpointMalformed,
    /// No sealing key signed the checkpoint, or its signature is bad.
    CheckpointSignatureInvalid,
    /// The checkpoint disagrees with the ledger's Merkle tree or the manifest.
    CheckpointMismatch,
    /// An inclusion proof does not lead to the checkpoint's root.
    InclusionProofInvalid,
    /// An artifact signature listed by a `sign` outcome does not verify over
    /// the stored artifact, or is malformed.
    ArtifactSignatureInvalid,
    /// An artifact is signed by a key the trust root does not admit for artifacts.
    ArtifactSignatureUntrustedKey,
    /// A signed artifact or its signature file is not among the record's evidence in the pack.
    ArtifactSignatureMissingFile,
    /// A signed artifact's recorded digest or size differs from its stored evidence file.
    ArtifactDigestMismatch,
    /// Fewer keys of the `artifact-signer` role signed an artifact than its threshold.
    ArtifactSignaturesBelowThreshold,
    /// The pack has no `approvals_matrix.json`.
    ApprovalsMatrixMissing,
    /// `approvals_matrix.json` is not a matrix.
    ApprovalsMatrixMalformed,
    /// `approvals_matrix.json` differs from the matrix the signed approvals give under this trust root.
    ApprovalsMatrixMismatch,
    /// A worker attestation in an agent outcome is not a signed worker-outcome statement.
    WorkerAttestationMalformed,
    /// A worker attestation is signed by a key the trust root does not list, revokes, or holds outside its validity.
    WorkerKeyUntrusted,
    /// A worker attestation's signature does not verify.
    WorkerSignatureInvalid,
    /// The worker's key may not attest outcomes of the agent's kind or phase (`kinds`, `phases`).
    WorkerKindNotAllowed,
    /// An agent outcome record says something other than the worker attested.
    WorkerAttestationMismatch,
}

impl Code {
    /// The stable kebab-case code, as `--json` prints it.
    pub fn as_str(&self) -> &'static str {
        use Code::*;
        match self {
            PackEntryUnsafePath => "pack-entry-unsafe-path",
            PackEntryLink => "pack-entry-link",
            PackEntryDuplicate => "pack-entry-duplicate",
            PackEntrySizeMismatch => "pack-entry-size-mismatch",
            PackEntryCorrupt => "pack-entry-corrupt",
            PackEntryUnsupported => "pack-entry-unsupported",
            PackLimitsExceeded => "pack-limits-exceeded",
            ManifestMissing => "manifest-missing",
            ManifestMalformed => "manifest-malformed",
            ManifestSignatureInvalid => "manifest-signature-invalid",
            ManifestKeyUntrusted => "manifest-key-untrusted",
            FileUnlisted => "file-unlisted",
            FileMissing => "file-missing",
            FileDigestMismatch => "file-digest-mismatch",
            FileSizeMismatch => "file-size-mismatch",
            Sha256sumsMismatch => "sha256sums-mismatch",
            ReadableCopyMismatch => "readable-copy-mismatch",
            LedgerLineMalformed => "ledger-line-malformed",
            LedgerSummaryMismatch => "ledger-summary-mismatch",
            RecordMissing => "record-missing",
            RecordOutOfOrder => "record-out-of-order",
            RecordDuplicated => "record-duplicated",
            RecordInjected => "record-injected",
            ChainBroken => "chain-broken",
            RecordFromAnotherRelease => "record-from-another-release",
            RecordSignatureInvalid => "record-signature-invalid",
            RecordKeyUnknown => "record-key-unknown",
            KeyRevoked => "key-revoked",
            KeyOutsideValidity => "key-outside-validity",
            KeyPhaseNotAllowed => "key-phase-not-allowed",
            KeyTypeNotAllowed => "key-type-not-allowed",
            EvidenceMissing => "evidence-missing",
            EvidenceDigestMismatch => "evidence-digest-mismatch",
            CheckpointMissing => "checkpoint-missing",
            CheckpointMalformed => "checkpoint-malformed",
            CheckpointSignatureInvalid => "checkpoint-signature-invalid",
            CheckpointMismatch => "checkpoint-mismatch",
            InclusionProofInvalid => "inclusion-proof-invalid",
            ArtifactSignatureInvalid => "artifact-signature-invalid",
            ArtifactSignatureUntrustedKey => "artifact-signature-untrusted-key",
            ArtifactSignatureMissingFile => "artifact-signature-missing-file",
            ArtifactDigestMismatch => "artifact-digest-mismatch",
            ArtifactSignaturesBelowThreshold => "artifact-signatures-below-threshold",
            ApprovalsMatrixMissing => "approvals-matrix-missing",
            ApprovalsMatrixMalformed => "approvals-matrix-malformed",
            ApprovalsMatrixMismatch => "approvals-matrix-mismatch",
            WorkerAttestationMalformed => "worker-attestation-malformed",
            WorkerKeyUntrusted => "worker-key-untrusted",
            WorkerSignatureInvalid => "worker-signature-invalid",
            WorkerKindNotAllowed => "worker-kind-not-allowed",
            WorkerAttestationMismatch => "worker-attestation-mismatch",
        }
    }

    /// The check this code belongs to.
    pub fn check(&self) -> &'static str {
        use Code::*;
        match self {
            PackEntryUnsafePath | PackEntryLink | PackEntryDuplicate | PackEntrySizeMismatch | PackEntryCorrupt
            | PackEntryUnsupported | PackLimitsExceeded => "pack-structure",
            ManifestMissing | ManifestMalformed | ManifestSignatureInvalid | ManifestKeyUntrusted => "manifest",
            FileUnlisted | FileMissing | FileDigestMismatch | FileSizeMismatch | Sha256sumsMismatch | ReadableCopyMismatch => "files",
            LedgerLineMalformed | LedgerSummaryMismatch | RecordMissing | RecordOutOfOrder | RecordDuplicated
            | RecordInjected | ChainBroken => "chain",
            RecordFromAnotherRelease => "release-binding",
            RecordSignatureInvalid | ArtifactSignatureInvalid | WorkerAttestationMalformed | WorkerSignatureInvalid | WorkerAttestationMismatch => "signatures",
            RecordKeyUnknown | KeyRevoked | KeyOutsideValidity | KeyPhaseNotAllowed | KeyTypeNotAllowed | ArtifactSignatureUntrustedKey
            | ArtifactSignaturesBelowThreshold | WorkerKeyUntrusted | WorkerKindNotAllowed => "key-trust",
            EvidenceMissing | EvidenceDigestMismatch | ArtifactSignatureMissingFile | ArtifactDigestMismatch => "evidence",
            CheckpointMissing | CheckpointMalformed | CheckpointSignatureInvalid | CheckpointMismatch | InclusionProofInvalid => "checkpoint",
            ApprovalsMatrixMissing | ApprovalsMatrixMalformed | ApprovalsMatrixMismatch => "approvals",
        }
    }
}

/// The checks every pack goes through, in order.
pub const PACK_CHECKS: [&str; 6] = ["pack-structure", "manifest", "files", "chain", "checkpoint", "approvals"];
/// The checks every phase goes through.
pub const PHASE_CHECKS: [&str; 5] = ["chain", "release-binding", "key-trust", "signatures", "evidence"];

/// Which record a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordRef {
    /// Its sequence number as written (which may be wrong).
    pub sequence: u64,
    /// 1-based line in the ledger.
    pub line: usize,
    /// Its phase.
    pub phase: String,
    /// Its type.
    #[serde(rename = "type")]
    pub record_type: String,
}

/// One failed check.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Stable code.
    pub code: Code,
    /// A sentence saying what is wrong.
    pub message: String,
    /// The record, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordRef>,
    /// The file in the pack, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The verdict of one named check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckVerdict {
    /// The check's name.
    pub check: &'static str,
    /// `pass`, `fail` or `skipped`.
    pub verdict: &'static str,
    /// How many findings it has.
    pub findings: usize,
}

/// The verdict of one phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseVerdict {
    /// The phase id.
    pub phase: String,
    /// Records in this phase.
    pub records: u64,
    /// `pass` or `fail`.
    pub verdict: &'static str,
    /// Per check.
    pub checks: Vec<CheckVerdict>,
}

/// Everything verification found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Failures.
    pub findings: Vec<Finding>,
    /// Informational remarks that do not fail verification.
    pub notes: Vec<String>,
    /// Records per phase, in first-seen order of the phase.
    #[serde(skip)]
    pub(crate) phase_records: Vec<(String, u64)>,
    /// Checks that did not run (for example when the manifest is unusable).
    #[serde(skip)]
    pub(crate) skipped: Vec<&'static str>,
    /// Phases selected with `--only`, empty for all.
    #[serde(skip)]
    pub(crate) only: Vec<String>,
}

impl Report {
    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    pub(crate) fn fail(&mut self, code: Code, message: impl Into<String>) {
        self.findings.push(Finding { code, message: message.into(), record: None, file: None });
    }

    pub(crate) fn fail_file(&mut self, code: Code, file: &str, message: impl Into<String>) {
        self.findings.push(Finding { code, message: message.into(), record: None, file: Some(file.to_owned()) });
    }

    pub(crate) fn fail_record(&mut self, code: Code, record: &RecordRef, message: impl Into<String>) {
        self.findings.push(Finding { code, message: message.into(), record: Some(record.clone()), file: None });
    }

    /// Verdicts of the pack-wide checks (findings not tied to a record).
    pub fn pack_checks(&self) -> Vec<CheckVerdict> {
        PACK_CHECKS.iter().map(|check| self.verdict(check, |f| f.record.is_none())).collect()
    }

    /// Verdicts per phase (findings tied to a record of that phase).
    pub fn phases(&self) -> Vec<PhaseVerdict> {
        let mut out = Vec::new();
        for (phase, records) in &self.phase_records {
            let has_findings = self.findings.iter().any(|f| f.record.as_ref().is_some_and(|r| &r.phase == phase));
            if !self.only.is_empty() && !self.only.contains(phase) && !has_findings {
                continue;
            }
            let checks: Vec<CheckVerdict> =
                PHASE_CHECKS.iter().map(|check| self.verdict(check, |f| f.record.as_ref().is_some_and(|r| &r.phase == phase))).collect();
            let verdict = if checks.iter().all(|c| c.verdict != "fail") { "pass" } else { "fail" };
            out.push(PhaseVerdict { phase: phase.clone(), records: *records, verdict, checks });
        }
        out
    }

    fn verdict(&self, check: &'static str, scope: impl Fn(&Finding) -> bool) -> CheckVerdict {
        let findings = self.findings.iter().filter(|f| f.code.check() == check && scope(f)).count();
        let verdict = if findings > 0 {
            "fail"
        } else if self.skipped.contains(&check) {
            "skipped"
        } else {
            "pass"
        };
        CheckVerdict { check, verdict, findings }
    }

    /// Findings counted by phase, for summaries.
    pub fn findings_by_phase(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            let key = f.record.as_ref().map(|r| r.phase.clone()).unwrap_or_else(|| "pack".into());
            *out.entry(key).or_insert(0) += 1;
        }
        out
    }
}
