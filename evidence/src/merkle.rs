//! RFC 9162 (formerly RFC 6962) Merkle tree hashing, proof generation and proof
//! verification.
//!
//! The log side builds a [`MerkleTree`] from leaf hashes and reads inclusion and
//! consistency proofs out of it. The auditor side never sees the tree: it calls
//! [`verify_inclusion`] and [`verify_consistency`] with nothing but the proof, the
//! sizes and the roots it already trusts, exactly as RFC 9162 §2.1.3.2 and
//! §2.1.4.2 describe.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Domain separation prefix for leaf hashes, so a leaf can never be confused
/// with an interior node (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;

/// Domain separation prefix for interior node hashes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// Why building or checking a Merkle proof failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error(
        "leaf index {index} is out of range for a tree of size {size}: ask for a proof of an index below the tree size"
    )]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The size of the tree the index was checked against.
        size: u64,
    },
    /// The proof does not have the number of hashes the sizes call for.
    #[error(
        "proof has {actual} hashes but these tree sizes need exactly {expected}: fetch the proof again for the same sizes"
    )]
    WrongProofLength {
        /// The number of hashes RFC 9162 requires for the given sizes.
        expected: usize,
        /// The number of hashes the proof carried.
        actual: usize,
    },
    /// The root recomputed from the proof is not the trusted root.
    #[error(
        "root computed from the proof is {computed} but the trusted root is {expected}: the leaf, proof or root belongs to a different tree, so do not trust this log state"
    )]
    RootMismatch {
        /// The trusted root, hex encoded.
        expected: String,
        /// The root recomputed from the proof, hex encoded.
        computed: String,
    },
    /// The old tree size is larger than the new one.
    #[error(
        "old tree size {old_size} is larger than new tree size {new_size}: pass the older checkpoint first, or treat the log as having rolled back"
    )]
    SizesInvalid {
        /// The size of the older tree.
        old_size: u64,
        /// The size of the newer tree.
        new_size: u64,
    },
}

/// Returns SHA-256(0x00 || data), the RFC 9162 hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// Returns SHA-256(0x01 || left || right), the RFC 9162 hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Returns SHA-256 of the empty string, the RFC 9162 root of a tree with no leaves.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// An in-memory RFC 9162 Merkle tree that keeps every level, so that roots and
/// proofs are read out of stored nodes instead of being rehashed each time.
///
/// Level 0 holds the leaf hashes. Each higher level holds the hashes of pairs
/// from the level below; an unpaired last node is carried up unchanged. That
/// carry rule yields exactly the RFC's "split at the largest power of two"
/// shape: the node at level `l` and position `i` is the hash of leaves
/// `[i * 2^l, min((i + 1) * 2^l, size))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree over the given leaf hashes (see [`leaf_hash`]), in order.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|level| level.len() > 1) {
            let mut above = Vec::with_capacity(below.len().div_ceil(2));
            let mut nodes = below.iter();
            while let Some(left) = nodes.next() {
                // A lone last node moves up as it is, because the RFC never
                // pairs it with anything at this height.
                above.push(nodes.next().map_or(*left, |right| node_hash(left, right)));
            }
            levels.push(above);
        }
        Self { levels }
    }

    /// Returns the number of leaves.
    pub fn size(&self) -> u64 {
        self.leaf_count() as u64
    }

    /// Returns the tree head: the top node, or [`empty_root`] for no leaves.
    pub fn root(&self) -> Hash {
        match self.levels.last().map(Vec::as_slice) {
            Some([root]) => *root,
            _ => empty_root(),
        }
    }

    /// Returns the RFC 9162 §2.1.3.1 inclusion proof (audit path) for the leaf
    /// at `index`, ordered from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, index: u64) -> Result<Vec<Hash>, ProofError> {
        let out_of_range = ProofError::IndexOutOfRange {
            index,
            size: self.size(),
        };
        let mut position = usize::try_from(index).map_err(|_| out_of_range.clone())?;
        if position >= self.leaf_count() {
            return Err(out_of_range);
        }
        let mut proof = Vec::new();
        for level in self.levels.iter().take_while(|level| level.len() > 1) {
            // When the sibling is missing the node is carried up unchanged, and
            // the RFC path has no entry for that height.
            if let Some(sibling) = level.get(position ^ 1) {
                proof.push(*sibling);
            }
            position /= 2;
        }
        Ok(proof)
    }

    /// Returns the RFC 9162 §2.1.4.1 consistency proof that the tree's first
    /// `old_size` leaves are a prefix of this tree. The proof is empty when
    /// `old_size` is 0 or equals the current size, as nothing needs proving.
    pub fn consistency_proof(&self, old_size: u64) -> Result<Vec<Hash>, ProofError> {
        let new_size = self.size();
        let invalid = ProofError::SizesInvalid { old_size, new_size };
        let old = usize::try_from(old_size).map_err(|_| invalid.clone())?;
        if old > self.leaf_count() {
            return Err(invalid);
        }
        let mut proof = Vec::new();
        if old > 0 && old < self.leaf_count() {
            self.subproof(old, 0, self.leaf_count(), true, &mut proof);
        }
        Ok(proof)
    }

    fn leaf_count(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The SUBPROOF(m, D[start:end], b) recursion of RFC 9162 §2.1.4.1. Every
    /// range it visits is either a complete subtree or runs to the tree's end,
    /// so each hash it needs is a stored node.
    fn subproof(&self, m: usize, start: usize, end: usize, b: bool, proof: &mut Vec<Hash>) {
        if m == end - start {
            if !b {
                proof.push(self.range_hash(start, end));
            }
            return;
        }
        let k = largest_power_of_two_below(end - start);
        if m <= k {
            self.subproof(m, start, start + k, b, proof);
            proof.push(self.range_hash(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, proof);
            proof.push(self.range_hash(start, start + k));
        }
    }

    /// Returns MTH(D[start:end]) for a non-empty range. A range that matches a
    /// stored node is read directly; any other range falls back to the RFC's
    /// recursive definition, so the answer is right even if a caller strays
    /// from the aligned ranges the proofs use.
    fn range_hash(&self, start: usize, end: usize) -> Hash {
        let width = end - start;
        let level = width.next_power_of_two().trailing_zeros() as usize;
        let span = 1usize << level;
        let stored_end = (start + span).min(self.leaf_count());
        if start.is_multiple_of(span) && stored_end == end
            && let Some(node) = self.levels.get(level).and_then(|l| l.get(start >> level)) {
                return *node;
            }
        let k = largest_power_of_two_below(width);
        node_hash(
            &self.range_hash(start, start + k),
            &self.range_hash(start + k, end),
        )
    }
}

/// Returns the largest power of two strictly below `n`, for `n >= 2`; this is
/// the RFC's split point `k`.
fn largest_power_of_two_below(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Splits an inclusion proof length into the part below the point where the
/// leaf's path meets the tree's right border (`inner`) and the part along that
/// border (`border`), as in RFC 9162 §2.1.3.2's loop.
fn inclusion_shape(index: u64, size: u64) -> (u32, u32) {
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// Builds a root mismatch error; hex keeps both roots readable in logs.
fn mismatch(expected: &Hash, computed: &Hash) -> ProofError {
    ProofError::RootMismatch {
        expected: hex::encode(expected),
        computed: hex::encode(computed),
    }
}

/// Verifies that `leaf` (a [`leaf_hash`]) is at `index` in the tree of `size`
/// leaves whose root is `root`, using only the inclusion proof
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = inclusion_shape(index, size);
    let expected = (inner + border) as usize;
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let computed = root_from_inclusion(leaf, index, size, proof);
    if computed != *root {
        return Err(mismatch(root, &computed));
    }
    Ok(())
}

/// Runs the RFC 9162 §2.1.3.2 loop over a proof whose length is already known
/// to be right, for `index < size`, and returns the recomputed root.
fn root_from_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash]) -> Hash {
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            // Skip the heights where this node was carried up without a sibling.
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    r
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a prefix
/// of the tree of `new_size` leaves with root `new_root`, using only the
/// consistency proof (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. An `old_size` of 0 needs an
/// empty proof and `old_root` equal to [`empty_root`], because that is the only
/// root an empty tree can have; any non-empty tree extends it.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesInvalid { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        let expected_old = if old_size == 0 {
            empty_root()
        } else {
            *new_root
        };
        if *old_root != expected_old {
            return Err(mismatch(&expected_old, old_root));
        }
        return Ok(());
    }
    check_consistency_length(old_size, new_size, proof.len())?;
    let (old_computed, new_computed) = consistency_roots(old_size, new_size, old_root, proof);
    if old_computed != *old_root {
        return Err(mismatch(old_root, &old_computed));
    }
    if new_computed != *new_root {
        return Err(mismatch(new_root, &new_computed));
    }
    Ok(())
}

/// Checks the proof length for `0 < old_size < new_size`. The old tree's last
/// leaf has an inclusion path in the new tree; the heights below the largest
/// complete subtree ending at `old_size` are implied by that subtree's own
/// hash, which the proof carries first unless `old_size` is a power of two, in
/// which case the verifier already holds it as `old_root`.
fn check_consistency_length(old_size: u64, new_size: u64, actual: usize) -> Result<(), ProofError> {
    let (inner, border) = inclusion_shape(old_size - 1, new_size);
    let shift = old_size.trailing_zeros();
    let seed = usize::from(!old_size.is_power_of_two());
    // The old tree's last leaf path cannot meet the new border below the
    // complete subtree it sits in, so inner > shift for old_size < new_size;
    // saturating keeps hostile sizes from panicking all the same.
    let expected = seed + (inner.saturating_sub(shift) + border) as usize;
    if actual != expected {
        return Err(ProofError::WrongProofLength { expected, actual });
    }
    Ok(())
}

/// Runs the RFC 9162 §2.1.4.2 loop over a proof whose length is already known
/// to be right, and returns the recomputed (old root, new root).
fn consistency_roots(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> (Hash, Hash) {
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => (old_root, proof),
        }
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    // Skip the heights inside the complete subtree that `seed` stands for.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    (fr, sr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight leaf inputs shared by transparency-dev/merkle
    /// (testonly/constants.go `LeafInputs`) and certificate-transparency-go.
    const LEAVES: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];

    /// Roots of the trees over the first 1..=8 of [`LEAVES`]
    /// (transparency-dev/merkle testonly/constants.go `RootHashes`).
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// Leaf hashes of [`LEAVES`] (transparency-dev/merkle testonly/constants.go
    /// `NodeHashes()[0]`).
    const LEAF_HASHES: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ];

    /// Published inclusion proofs as (leaf index, tree size, proof), from
    /// transparency-dev/merkle proof/verify_test.go `inclusionProofs` (which
    /// counts leaves from 1; converted to 0-based indices here) and
    /// testonly/reference_test.go `TestRefInclusionProof`.
    const INCLUSION: &[(u64, u64, &[&str])] = &[
        (0, 1, &[]),
        (
            0,
            2,
            &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
        ),
        (
            1,
            2,
            &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    /// Published consistency proofs as (old size, new size, proof), from
    /// transparency-dev/merkle proof/verify_test.go `consistencyProofs` and
    /// testonly/reference_test.go `TestRefConsistencyProof`.
    const CONSISTENCY: &[(u64, u64, &[&str])] = &[
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn h(text: &str) -> Hash {
        let bytes = hex::decode(text).expect("test vector is hex");
        bytes.try_into().expect("test vector is 32 bytes")
    }

    fn hashes(texts: &[&str]) -> Vec<Hash> {
        texts.iter().map(|t| h(t)).collect()
    }

    fn golden_tree(size: usize) -> MerkleTree {
        MerkleTree::from_leaf_hashes(LEAVES[..size].iter().map(|d| leaf_hash(d)).collect())
    }

    fn root_of(size: u64) -> Hash {
        h(ROOTS[size as usize - 1])
    }

    fn numbered_tree(size: u64) -> MerkleTree {
        MerkleTree::from_leaf_hashes((0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect())
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let tree = MerkleTree::from_leaf_hashes(Vec::new());
        assert_eq!(tree.size(), 0);
        assert_eq!(tree.root(), empty_root());
        assert_eq!(
            tree.inclusion_proof(0),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(tree.consistency_proof(0), Ok(Vec::new()));
    }

    #[test]
    fn golden_leaf_hashes() {
        for (data, want) in LEAVES.iter().zip(LEAF_HASHES) {
            assert_eq!(hex::encode(leaf_hash(data)), want);
        }
    }

    #[test]
    fn golden_interior_node_hashes() {
        // transparency-dev/merkle testonly/constants.go NodeHashes()[1][0].
        let leaves = hashes(&LEAF_HASHES);
        assert_eq!(
            hex::encode(node_hash(&leaves[0], &leaves[1])),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }

    #[test]
    fn golden_roots_for_every_size() {
        for size in 1..=8 {
            let tree = golden_tree(size);
            assert_eq!(tree.size(), size as u64);
            assert_eq!(hex::encode(tree.root()), ROOTS[size - 1], "size {size}");
        }
    }

    #[test]
    fn golden_inclusion_proofs_are_generated_and_verify() {
        for &(index, size, want) in INCLUSION {
            let tree = golden_tree(size as usize);
            let proof = tree.inclusion_proof(index).expect("index in range");
            assert_eq!(proof, hashes(want), "proof for {index} in {size}");
            let leaf = leaf_hash(LEAVES[index as usize]);
            verify_inclusion(&leaf, index, size, &proof, &root_of(size))
                .expect("golden proof verifies");
        }
    }

    #[test]
    fn golden_consistency_proofs_are_generated_and_verify() {
        for &(old, new, want) in CONSISTENCY {
            let tree = golden_tree(new as usize);
            let proof = tree.consistency_proof(old).expect("sizes in order");
            assert_eq!(proof, hashes(want), "proof from {old} to {new}");
            verify_consistency(old, new, &root_of(old), &root_of(new), &proof)
                .expect("golden proof verifies");
        }
    }

    #[test]
    fn golden_inclusion_proofs_reject_corruption() {
        // The probes of transparency-dev/merkle proof/verify_test.go
        // corruptInclusionProof, minus the ones that pass a root of the wrong length.
        let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        for &(index, size, want) in INCLUSION {
            let proof = hashes(want);
            let root = root_of(size);
            let leaf = leaf_hash(LEAVES[index as usize]);
            let bad = |i: u64, s: u64, l: &Hash, p: &[Hash], r: &Hash| {
                verify_inclusion(l, i, s, p, r).is_err()
            };
            assert!(bad(index.wrapping_sub(1), size, &leaf, &proof, &root));
            assert!(bad(index + 1, size, &leaf, &proof, &root));
            assert!(bad(index ^ 2, size, &leaf, &proof, &root));
            assert!(bad(index, size * 2, &leaf, &proof, &root));
            assert!(bad(index, size / 2, &leaf, &proof, &root));
            assert!(bad(index, size, &leaf_hash(b"WrongLeaf"), &proof, &root));
            assert!(bad(index, size, &leaf, &proof, &empty_root()));
            assert!(bad(index, size, &leaf, &proof, &some_hash));
            let mut longer = proof.clone();
            longer.push(root);
            assert!(bad(index, size, &leaf, &longer, &root));
            let mut front = vec![root];
            front.extend_from_slice(&proof);
            assert!(bad(index, size, &leaf, &front, &root));
            if let Some((_, shorter)) = proof.split_last() {
                assert!(bad(index, size, &leaf, shorter, &root));
            }
        }
    }

    #[test]
    fn golden_consistency_proofs_reject_corruption() {
        // The probes of transparency-dev/merkle proof/verify_test.go
        // corruptConsistencyProof, for the proofs that are not empty.
        for &(old, new, want) in CONSISTENCY.iter().filter(|(_, _, p)| !p.is_empty()) {
            let proof = hashes(want);
            let (r1, r2) = (root_of(old), root_of(new));
            let bad = |o: u64, n: u64, a: &Hash, b: &Hash, p: &[Hash]| {
                verify_consistency(o, n, a, b, p).is_err()
            };
            assert!(bad(old - 1, new, &r1, &r2, &proof));
            assert!(bad(old + 1, new, &r1, &r2, &proof));
            assert!(bad(old ^ 2, new, &r1, &r2, &proof));
            assert!(bad(old, new * 2, &r1, &r2, &proof));
            assert!(bad(old, new / 2, &r1, &r2, &proof));
            assert!(bad(old, new, &leaf_hash(b"WrongRoot"), &r2, &proof));
            assert!(bad(old, new, &r1, &leaf_hash(b"WrongRoot"), &proof));
            assert!(bad(old, new, &r2, &r1, &proof));
            assert!(bad(old, new, &r1, &r2, &[]));
            for extra in [r1, r2] {
                let mut longer = proof.clone();
                longer.push(extra);
                assert!(bad(old, new, &r1, &r2, &longer));
            }
            for extra in [r1, r2, proof[0]] {
                let mut front = vec![extra];
                front.extend_from_slice(&proof);
                assert!(bad(old, new, &r1, &r2, &front));
            }
            assert!(bad(old, new, &r1, &r2, &proof[..proof.len() - 1]));
        }
    }

    #[test]
    fn consistency_edge_cases() {
        let root1 = leaf_hash(b"don't care 1");
        let root2 = leaf_hash(b"don't care 2");
        let empty = empty_root();
        // Equal sizes need equal roots and an empty proof.
        assert_eq!(verify_consistency(1, 1, &root2, &root2, &[]), Ok(()));
        assert!(matches!(
            verify_consistency(1, 1, &root1, &root2, &[]),
            Err(ProofError::RootMismatch { .. })
        ));
        assert_eq!(
            verify_consistency(1, 1, &empty, &empty, &[empty]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
        // Size 0 is a prefix of everything, but only with the empty root.
        assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 5, &empty, &root2, &[]), Ok(()));
        assert!(matches!(
            verify_consistency(0, 5, &root1, &root2, &[]),
            Err(ProofError::RootMismatch { .. })
        ));
        assert_eq!(
            verify_consistency(0, 1, &empty, &empty, &[empty]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                actual: 1
            })
        );
        // Logs cannot shrink.
        assert_eq!(
            verify_consistency(2, 1, &root1, &root2, &[]),
            Err(ProofError::SizesInvalid {
                old_size: 2,
                new_size: 1
            })
        );
        // A real extension needs a proof.
        assert_eq!(
            verify_consistency(1, 2, &root1, &root2, &[]),
            Err(ProofError::WrongProofLength {
                expected: 1,
                actual: 0
            })
        );
        // A power-of-two old size carries no seed hash; 4 -> 8 needs one hash.
        assert_eq!(golden_tree(8).consistency_proof(4).map(|p| p.len()), Ok(1));
        assert_eq!(
            verify_consistency(4, 8, &root_of(4), &root_of(8), &[root_of(4), root_of(4)]),
            Err(ProofError::WrongProofLength {
                expected: 1,
                actual: 2
            })
        );
        assert_eq!(
            golden_tree(3).consistency_proof(4),
            Err(ProofError::SizesInvalid {
                old_size: 4,
                new_size: 3
            })
        );
    }

    #[test]
    fn inclusion_edge_cases() {
        let some = leaf_hash(b"data");
        // A single-leaf tree's root is its leaf and its proof is empty.
        assert_eq!(verify_inclusion(&some, 0, 1, &[], &some), Ok(()));
        assert!(matches!(
            verify_inclusion(&some, 0, 1, &[], &empty_root()),
            Err(ProofError::RootMismatch { .. })
        ));
        for (index, size) in [(0, 0), (1, 0), (2, 1), (1, 1)] {
            assert_eq!(
                verify_inclusion(&some, index, size, &[], &some),
                Err(ProofError::IndexOutOfRange { index, size })
            );
        }
        assert_eq!(
            golden_tree(7).inclusion_proof(7),
            Err(ProofError::IndexOutOfRange { index: 7, size: 7 })
        );
        assert_eq!(
            verify_inclusion(&some, 0, 2, &[], &some),
            Err(ProofError::WrongProofLength {
                expected: 1,
                actual: 0
            })
        );
        // Sizes near the top of u64 must not overflow the length arithmetic.
        assert!(matches!(
            verify_inclusion(&some, u64::MAX - 1, u64::MAX, &[], &some),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_consistency(u64::MAX - 1, u64::MAX, &some, &some, &[]),
            Err(ProofError::WrongProofLength { .. })
        ));
    }

    #[test]
    fn error_messages_are_lowercase_and_say_what_to_do() {
        let errors = [
            ProofError::IndexOutOfRange { index: 3, size: 2 },
            ProofError::WrongProofLength {
                expected: 2,
                actual: 1,
            },
            mismatch(&empty_root(), &leaf_hash(b"")),
            ProofError::SizesInvalid {
                old_size: 3,
                new_size: 2,
            },
        ];
        for error in errors {
            let text = error.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.contains(':'), "{text}");
        }
    }

    /// Every proof a tree of size 1..=64 hands out verifies, and any flipped
    /// proof byte or wrong index makes it fail. A wrong size is not probed here:
    /// sizes whose trees have the same shape along the path (index 0 in sizes 3
    /// and 4, say) legitimately yield the same root from the same proof.
    #[test]
    fn property_all_small_trees_inclusion() {
        for size in 1..=64u64 {
            let tree = numbered_tree(size);
            let root = tree.root();
            for index in 0..size {
                let leaf = leaf_hash(&index.to_be_bytes());
                let proof = tree.inclusion_proof(index).expect("index in range");
                verify_inclusion(&leaf, index, size, &proof, &root)
                    .expect("generated proof verifies");
                for wrong in [index + 1, index ^ 1, index.wrapping_sub(1)] {
                    if wrong != index {
                        assert!(verify_inclusion(&leaf, wrong, size, &proof, &root).is_err());
                    }
                }
                for (i, byte) in (0..proof.len()).flat_map(|i| (0..32).map(move |b| (i, b))) {
                    let mut flipped = proof.clone();
                    flipped[i][byte] ^= 1;
                    assert!(verify_inclusion(&leaf, index, size, &flipped, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn property_all_small_trees_consistency() {
        let full = numbered_tree(64);
        let roots: Vec<Hash> = (0..=64).map(|n| numbered_tree(n).root()).collect();
        for size in 1..=64u64 {
            let tree = numbered_tree(size);
            assert_eq!(tree.root(), roots[size as usize]);
            for old in 0..=size {
                let proof = tree.consistency_proof(old).expect("sizes in order");
                let (r1, r2) = (&roots[old as usize], &roots[size as usize]);
                verify_consistency(old, size, r1, r2, &proof).expect("generated proof verifies");
                if old > 0 && old < size {
                    assert!(verify_consistency(old - 1, size, r1, r2, &proof).is_err());
                    assert!(verify_consistency(old + 1, size, r1, r2, &proof).is_err());
                    assert!(verify_consistency(old, size, r2, r1, &proof).is_err());
                }
                for (i, byte) in (0..proof.len()).flat_map(|i| (0..32).map(move |b| (i, b))) {
                    let mut flipped = proof.clone();
                    flipped[i][byte] ^= 0x80;
                    assert!(verify_consistency(old, size, r1, r2, &flipped).is_err());
                }
            }
        }
        // Hashes of ranges inside a bigger tree match those of the smaller tree.
        for (size, root) in roots.iter().enumerate().skip(1) {
            assert_eq!(full.range_hash(0, size), *root);
        }
    }

    #[test]
    fn ten_thousand_leaves_with_every_inclusion_proof() {
        // With stored levels each proof is a handful of lookups; an O(n^2)
        // implementation would need about 10^8 hashes here and stall the suite.
        let size = 10_000u64;
        let tree = numbered_tree(size);
        let root = tree.root();
        for index in 0..size {
            let proof = tree.inclusion_proof(index).expect("index in range");
            assert!(proof.len() <= 14);
            let leaf = leaf_hash(&index.to_be_bytes());
            verify_inclusion(&leaf, index, size, &proof, &root).expect("proof verifies");
        }
        for old in [1, 2, 3, 4096, 5000, 8191, 9999, 10_000] {
            let proof = tree.consistency_proof(old).expect("sizes in order");
            let old_root = numbered_tree(old).root();
            verify_consistency(old, size, &old_root, &root, &proof).expect("proof verifies");
        }
    }
}
