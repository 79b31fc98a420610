//! The Merkle tree of RFC 6962 / RFC 9162 §2.1, over SM3 or SHA-256: leaf hash
//! `H(0x00 ‖ data)`, node hash `H(0x01 ‖ left ‖ right)`, the root of an empty tree `H("")`.
//!
//! Proofs are produced from a [`Nodes`] oracle that knows the hashes of complete, aligned
//! subtrees (a tile store, or a plain slice of leaves in tests); verification needs only the
//! hashes, so a client checks a proof without trusting the server.

use yiwang_crypto::HashAlg;

pub type Hash = [u8; 32];

pub fn leaf_hash(alg: HashAlg, data: &[u8]) -> Hash {
    alg.digest(&[&[0u8], data])
}

pub fn node_hash(alg: HashAlg, left: &Hash, right: &Hash) -> Hash {
    alg.digest(&[&[1u8], left, right])
}

pub fn empty_root(alg: HashAlg) -> Hash {
    alg.digest(&[])
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Hashes of complete subtrees: `node(level, index)` covers leaves
/// `[index·2^level, (index+1)·2^level)`. Fails with the tile it needs when that is not loaded.
pub trait Nodes {
    fn node(&self, level: u32, index: u64) -> Result<Hash, NeedTile>;
    fn alg(&self) -> HashAlg;
}

/// A tile of leaf hashes that must be loaded before the computation can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedTile(pub u64);

/// MTH(D[a:b]) for a range that occurs in RFC 6962's recursion (`a` is a multiple of the
/// largest power of two below `b - a`, so the left part is always a complete subtree).
pub fn range_hash<N: Nodes + ?Sized>(nodes: &N, a: u64, b: u64) -> Result<Hash, NeedTile> {
    let n = b - a;
    if n.is_power_of_two() && a.is_multiple_of(n) {
        return nodes.node(n.trailing_zeros(), a / n);
    }
    let k = split(n);
    let left = range_hash(nodes, a, a + k)?;
    let right = range_hash(nodes, a + k, b)?;
    Ok(node_hash(nodes.alg(), &left, &right))
}

/// Root of the tree of the first `size` leaves.
pub fn root<N: Nodes + ?Sized>(nodes: &N, size: u64) -> Result<Hash, NeedTile> {
    if size == 0 {
        return Ok(empty_root(nodes.alg()));
    }
    range_hash(nodes, 0, size)
}

/// Audit path of leaf `m` in the tree of `size` leaves (RFC 6962 §2.1.1), leaf to root.
pub fn inclusion_proof<N: Nodes + ?Sized>(nodes: &N, m: u64, size: u64) -> Result<Vec<Hash>, NeedTile> {
    fn path<N: Nodes + ?Sized>(nodes: &N, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) -> Result<(), NeedTile> {
        if b - a <= 1 {
            return Ok(());
        }
        let k = split(b - a);
        if m < a + k {
            path(nodes, m, a, a + k, out)?;
            out.push(range_hash(nodes, a + k, b)?);
        } else {
            path(nodes, m, a + k, b, out)?;
            out.push(range_hash(nodes, a, a + k)?);
        }
        Ok(())
    }
    let mut out = Vec::new();
    if m < size {
        path(nodes, m, 0, size, &mut out)?;
    }
    Ok(out)
}

/// Consistency proof between the trees of `first` and `second` leaves (RFC 6962 §2.1.2).
pub fn consistency_proof<N: Nodes + ?Sized>(nodes: &N, first: u64, second: u64) -> Result<Vec<Hash>, NeedTile> {
    fn sub<N: Nodes + ?Sized>(nodes: &N, m: u64, a: u64, b: u64, complete: bool, out: &mut Vec<Hash>) -> Result<(), NeedTile> {
        let n = b - a;
        if m == n {
            if !complete {
                out.push(range_hash(nodes, a, b)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            sub(nodes, m, a, a + k, complete, out)?;
            out.push(range_hash(nodes, a + k, b)?);
        } else {
            sub(nodes, m - k, a + k, b, false, out)?;
            out.push(range_hash(nodes, a, a + k)?);
        }
        Ok(())
    }
    let mut out = Vec::new();
    if 0 < first && first < second {
        sub(nodes, first, 0, second, true, &mut out)?;
    }
    Ok(out)
}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`?
pub fn verify_inclusion(alg: HashAlg, index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(alg, p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(alg, &r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree (`first`, `first_root`) is a prefix of the
/// tree (`second`, `second_root`)?
pub fn verify_consistency(alg: HashAlg, first: u64, second: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash]) -> bool {
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 || first > second || proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(alg, c, &fr);
            sr = node_hash(alg, c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(alg, &sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *first_root && sr == *second_root && s == 0
}

/// The right edge of a growing tree: hashes of its maximal complete subtrees, left to right.
/// Enough to extend the tree leaf by leaf and to compute its root at any time, in O(log n)
/// memory, as `yiwang ledger verify` does while streaming every entry.
#[derive(Debug, Clone)]
pub struct Frontier {
    alg: HashAlg,
    size: u64,
    /// (level, hash) of each maximal complete subtree, largest (leftmost) first.
    stack: Vec<(u32, Hash)>,
}

impl Frontier {
    pub fn new(alg: HashAlg) -> Frontier {
        Frontier { alg, size: 0, stack: Vec::new() }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(level, left)) = self.stack.last() {
            if level != node.0 {
                break;
            }
            self.stack.pop();
            node = (level + 1, node_hash(self.alg, &left, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(_, mut acc)) = it.next() else { return empty_root(self.alg) };
        for (_, left) in it {
            acc = node_hash(self.alg, left, &acc);
        }
        acc
    }
}

/// Leaves held in memory: the oracle for tests and small trees.
pub struct MemoryTree {
    pub alg: HashAlg,
    pub leaves: Vec<Hash>,
}

impl Nodes for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, NeedTile> {
        Ok(subtree(self.alg, &self.leaves[(index << level) as usize..((index + 1) << level) as usize]))
    }
    fn alg(&self) -> HashAlg {
        self.alg
    }
}

/// Root of a complete subtree (`leaves.len()` a power of two) or of any range, RFC 6962 style.
pub fn subtree(alg: HashAlg, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(alg),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(alg, &subtree(alg, &leaves[..k]), &subtree(alg, &leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree(alg: HashAlg, n: usize) -> MemoryTree {
        MemoryTree { alg, leaves: (0..n).map(|i| leaf_hash(alg, format!("entry {i}").as_bytes())).collect() }
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The test vectors of RFC 6962's reference implementation (Certificate Transparency's
    /// merkle_tree_test.cc): eight leaves and the roots of their prefixes, SHA-256.
    #[test]
    fn rfc6962_reference_vectors() {
        let inputs: [&[u8]; 8] = [
            b"",
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let alg = HashAlg::Sha256;
        assert_eq!(hex(&empty_root(alg)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let mut f = Frontier::new(alg);
        for (i, data) in inputs.iter().enumerate() {
            f.push(leaf_hash(alg, data));
            assert_eq!(hex(&f.root()), roots[i], "root of {} leaves", i + 1);
        }
        // Inclusion path of leaf 0 in the 8-leaf tree, from the same test file.
        let t = MemoryTree { alg, leaves: inputs.iter().map(|d| leaf_hash(alg, d)).collect() };
        let p = inclusion_proof(&t, 0, 8).unwrap();
        assert_eq!(
            p.iter().map(hex).collect::<Vec<_>>(),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        let p = inclusion_proof(&t, 5, 8).unwrap();
        assert_eq!(
            p.iter().map(hex).collect::<Vec<_>>(),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
    }

    #[test]
    fn edge_cases() {
        let alg = HashAlg::Sm3;
        let t = tree(alg, 1);
        let r = root(&t, 1).unwrap();
        assert!(verify_inclusion(alg, 0, 1, &t.leaves[0], &[], &r));
        assert!(!verify_inclusion(alg, 1, 1, &t.leaves[0], &[], &r));
        assert!(verify_consistency(alg, 1, 1, &r, &r, &[]));
        assert!(!verify_consistency(alg, 0, 1, &r, &r, &[]));
        assert_eq!(root(&t, 0).unwrap(), empty_root(alg));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every leaf's proof verifies, and fails for another leaf, index or root.
        #[test]
        fn inclusion_proofs_verify(n in 1usize..300, pick in any::<prop::sample::Index>(), sm3 in any::<bool>()) {
            let alg = if sm3 { HashAlg::Sm3 } else { HashAlg::Sha256 };
            let t = tree(alg, n);
            let m = pick.index(n) as u64;
            let r = root(&t, n as u64).unwrap();
            prop_assert_eq!(r, subtree(alg, &t.leaves));
            let p = inclusion_proof(&t, m, n as u64).unwrap();
            prop_assert!(verify_inclusion(alg, m, n as u64, &t.leaves[m as usize], &p, &r));
            let other = leaf_hash(alg, b"other");
            prop_assert!(!verify_inclusion(alg, m, n as u64, &other, &p, &r));
            if n > 1 {
                prop_assert!(!verify_inclusion(alg, (m + 1) % n as u64, n as u64, &t.leaves[m as usize], &p, &r));
            }
        }

        /// Any two prefixes are consistent, and a changed older root is caught.
        #[test]
        fn consistency_proofs_verify(n in 2usize..300, a in any::<prop::sample::Index>()) {
            let alg = HashAlg::Sm3;
            let t = tree(alg, n);
            let first = 1 + a.index(n - 1) as u64;
            let second = n as u64;
            let (r1, r2) = (root(&t, first).unwrap(), root(&t, second).unwrap());
            let p = consistency_proof(&t, first, second).unwrap();
            prop_assert!(verify_consistency(alg, first, second, &r1, &r2, &p));
            let bad = leaf_hash(alg, b"forged");
            prop_assert!(!verify_consistency(alg, first, second, &bad, &r2, &p));
            prop_assert!(!verify_consistency(alg, first, second, &r1, &bad, &p));
        }

        /// The frontier's root equals the recursive definition at every size.
        #[test]
        fn frontier_matches(n in 0usize..200) {
            let t = tree(HashAlg::Sha256, n);
            let mut f = Frontier::new(HashAlg::Sha256);
            for l in &t.leaves { f.push(*l); }
            prop_assert_eq!(f.root(), root(&t, n as u64).unwrap());
        }
    }
}
