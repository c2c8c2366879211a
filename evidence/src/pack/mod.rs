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
/// The release's page for people, when the packer renders one.
pub const INDEX_HTML: &str = "index.html";
/// The key name in the checkpoint's note signature line.
pub const NOTE_KEY_NAME: &str = "conductor-seal";

/// Folders of readable copies: an evidence file an agent names `slo/<name>`
/// (an SLO snapshot or chart) is also stored at `slo/<record type>/<name>`,
/// so a person who unzips the pack finds it without looking up digests.
pub const READABLE_FOLDERS: [&str; 1] = ["slo"];

/// The readable path of an evidence file of a record of `record_type` named
/// `name`, or `None` when its name is not under a [`READABLE_FOLDERS`] folder.
/// Characters a pack path may not hold become `-`.
pub fn readable_path(record_type: &str, name: &str) -> Option<String> {
    let (folder, rest) = name.split_once('/')?;
    if !READABLE_FOLDERS.contains(&folder) {
        return None;
    }
    let clean = |part: &str| -> String { part.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect() };
    let parts: Vec<String> = std::iter::once(record_type).chain(rest.split('/')).filter(|p| !p.is_empty() && *p != "." && *p != "..").map(clean).collect();
    (parts.len() >= 2).then(|| format!("{folder}/{}", parts.join("/")))
}

/// The readable copies of a ledger's evidence, by path; when two records
/// name the same path, the later one's file is the copy.
pub fn readable_copies<'r>(evidence: impl IntoIterator<Item = (&'r str, &'r crate::record::EvidenceRef)>) -> std::collections::BTreeMap<String, crate::record::EvidenceRef> {
    evidence.into_iter().filter_map(|(record_type, e)| readable_path(record_type, &e.name).map(|p| (p, e.clone()))).collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_paths_are_safe_pack_paths_under_their_folder() {
        assert_eq!(readable_path("slo-snapshot", "slo/checkout-availability.svg").as_deref(), Some("slo/slo-snapshot/checkout-availability.svg"));
        assert_eq!(readable_path("realtime-slo", "slo/../a b.json").as_deref(), Some("slo/realtime-slo/a-b.json"));
        assert_eq!(readable_path("slo-snapshot", "slo/"), None);
        assert_eq!(readable_path("junit", "junit.xml"), None);
        assert_eq!(readable_path("junit", "reports/junit.xml"), None);
    }
}
