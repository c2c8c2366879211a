//! Whether a later pack of a release extends an earlier one: every record
//! the earlier pack sealed is still there, unchanged and in order. Checked as
//! an RFC 9162 consistency proof between the two sealed tree heads.

use crate::digest::Sha256;
use crate::merkle::{MerkleTree, verify_consistency};

use super::VerifiedPack;

/// The proven relation between two packs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// Records in the earlier pack.
    pub old_size: u64,
    /// Records in the later pack.
    pub new_size: u64,
    /// The consistency proof from the earlier tree head to the later one.
    pub proof: Vec<Sha256>,
}

/// Why a pack does not extend another.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    /// The packs belong to different releases.
    #[error("the packs belong to different releases ({old} and {new})")]
    OtherRelease {
        /// The earlier pack's release.
        old: String,
        /// The later pack's release.
        new: String,
    },
    /// The later pack has fewer records.
    #[error("the later pack holds {new_size} records, fewer than the earlier pack's {old_size}: records were removed")]
    Shrunk {
        /// Records in the earlier pack.
        old_size: u64,
        /// Records in the later pack.
        new_size: u64,
    },
    /// The first records of the later pack differ from the earlier pack's.
    #[error("the first {old_size} records of the later pack are not the earlier pack's records: history was rewritten ({detail})")]
    Rewritten {
        /// Records in the earlier pack.
        old_size: u64,
        /// The proof failure.
        detail: String,
    },
}

/// Proves that `new` extends `old`. Both must already be verified.
pub fn check_extends(old: &VerifiedPack, new: &VerifiedPack) -> Result<Extension, ExtensionError> {
    let (o, n) = (&old.manifest, &new.manifest);
    if o.release != n.release {
        let show = |m: &crate::manifest::Manifest| format!("{} {} {}", m.release.version, m.release.environment, m.release.id);
        return Err(ExtensionError::OtherRelease { old: show(o), new: show(n) });
    }
    let (old_size, new_size) = (o.ledger.records, n.ledger.records);
    if old_size > new_size {
        return Err(ExtensionError::Shrunk { old_size, new_size });
    }
    let tree = MerkleTree::from_leaf_hashes(new.leaves.clone());
    let proof = tree.consistency_proof(old_size).map_err(|e| ExtensionError::Rewritten { old_size, detail: e.to_string() })?;
    verify_consistency(old_size, new_size, &o.ledger.root.0, &n.ledger.root.0, &proof)
        .map_err(|e| ExtensionError::Rewritten { old_size, detail: e.to_string() })?;
    Ok(Extension { old_size, new_size, proof: proof.into_iter().map(Sha256).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::ledger::Ledger;
    use crate::record::{RecordDraft, ReleaseBinding};
    use crate::timestamp::Timestamp;
    use crate::verify::{Options, Outcome, verify};

    fn release(id: &str) -> ReleaseBinding {
        ReleaseBinding { version: "v1.0.0".into(), commit: "a".repeat(40), environment: "prod".into(), id: id.repeat(32) }
    }

    /// A verified pack of records typed `types`, all signed by one fixed key.
    fn pack(dir: &std::path::Path, name: &str, release: &ReleaseBinding, types: &[&str]) -> VerifiedPack {
        let key = SecretKey::ed25519_from_seed(&[3; 32]).unwrap();
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let mut ledger = Ledger::open(&folder.join("ledger.intoto.jsonl")).unwrap();
        for (i, t) in types.iter().enumerate() {
            let draft = RecordDraft { phase: "P1".into(), record_type: (*t).into(), predicate_type: "https://example.com/t/v1".into(), predicate: serde_json::json!({}), subjects: vec![], evidence: vec![] };
            ledger.append(draft, release, Timestamp::from_unix(1_800_000_000 + i as i64).unwrap(), &key).unwrap();
        }
        let trust = crate::trust::TrustRoot::parse(&crate::trust::starter("n", key.public_key(), None), "t").unwrap();
        let input = crate::pack::SealInput {
            records: ledger.records(),
            release,
            store: &crate::store::ObjectStore::new(folder.join("objects")),
            public_keys: &[],
            trust_root: trust.digest(),
            seal_key: &key,
            approvals: &crate::approval::ApprovalsMatrix::of(ledger.records(), &trust, release),
            index_html: None,
        };
        let out = folder.join("pack.zip");
        crate::pack::write_pack(&out, &input).unwrap();
        match verify(&out, &trust, &Options::default()).unwrap() {
            Outcome::Verified(pack) => pack,
            Outcome::Failed(report, _) => panic!("{report:?}"),
        }
    }

    #[test]
    fn an_appended_ledger_extends_and_a_rewritten_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let r = release("a");
        let old = pack(dir.path(), "old", &r, &["a", "b"]);
        let grown = pack(dir.path(), "grown", &r, &["a", "b", "c", "d", "e"]);
        let extension = check_extends(&old, &grown).unwrap();
        assert_eq!((extension.old_size, extension.new_size), (2, 5));
        let rewritten = pack(dir.path(), "rewritten", &r, &["a", "x", "c"]);
        assert!(matches!(check_extends(&old, &rewritten), Err(ExtensionError::Rewritten { .. })));
        assert!(matches!(check_extends(&grown, &old), Err(ExtensionError::Shrunk { .. })));
        let other = pack(dir.path(), "other", &release("b"), &["a", "b", "c"]);
        assert!(matches!(check_extends(&old, &other), Err(ExtensionError::OtherRelease { .. })));
    }
}
