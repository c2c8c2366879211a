//! Evidence packs: a deterministic zip holding the ledger, its checkpoint and
//! inclusion proofs, the evidence files by digest, the signers' public keys,
//! a signed manifest and `SHA256SUMS`.

mod read;
mod write;

pub use read::{Limits, PackError, PackReader};
pub use write::{PackSummary, PackWriteError, SealInput, write_pack};

/// The signed manifest (a DSSE envelope).
pub const MANIFEST: &str = "manifest.intoto.json";
/// `sha256sum -c` input covering every other file.
pub const SHA256SUMS: &str = "SHA256SUMS";
/// The ledger, one DSSE envelope per line.
pub const LEDGER: &str = "ledger/ledger.intoto.jsonl";
/// The C2SP tlog-checkpoint, as a signed note.
pub const CHECKPOINT: &str = "ledger/checkpoint";
/// One RFC 9162 inclusion proof per record, JSON lines.
pub const PROOFS: &str = "ledger/inclusion-proofs.jsonl";
/// The key name in the checkpoint's note signature line.
pub const NOTE_KEY_NAME: &str = "conductor-seal";

/// The checkpoint origin line of a release's ledger.
pub fn origin(release: &crate::record::ReleaseBinding) -> String {
    format!("conductor/{}/{}/{}", release.environment, release.version, release.id)
}

/// One line of [`PROOFS`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InclusionProof {
    /// The record's sequence number, which is also its leaf index.
    pub sequence: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The audit path, leaf to root, as hex.
    pub hashes: Vec<crate::digest::Sha256>,
}
