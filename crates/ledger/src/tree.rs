//! The in-memory part of the tree: roots of complete tiles and the complete nodes above them,
//! plus the leaves of the last, incomplete tile. Lower nodes come from tiles read on demand.
//! Complete nodes never change, so this serves proofs for any earlier tree size too.

use std::collections::HashMap;
use std::sync::Arc;

use yiwang_crypto::HashAlg;

use crate::merkle::{self, Hash, NeedTile, Nodes};
use crate::model::{TILE_BITS, TILE_SIZE};

#[derive(Debug, Clone)]
pub struct TreeCache {
    pub alg: HashAlg,
    pub size: u64,
    pub last_leaf: Hash,
    /// `upper[0]` = tile roots; `upper[k][j]` = node over tiles `j·2^k .. (j+1)·2^k`.
    upper: Vec<Vec<Hash>>,
    /// Leaves of the incomplete last tile.
    pub partial: Vec<Hash>,
}

/// A tile completed by an append: to be stored.
#[derive(Debug, Clone)]
pub struct NewTile {
    pub tile: u64,
    pub leaves: Vec<Hash>,
    pub root: Hash,
}

impl TreeCache {
    pub fn empty(alg: HashAlg) -> TreeCache {
        TreeCache { alg, size: 0, last_leaf: [0u8; 32], upper: vec![Vec::new()], partial: Vec::new() }
    }

    /// Rebuild from stored tile roots (in order) and the leaves after them.
    pub fn from_parts(alg: HashAlg, tile_roots: Vec<Hash>, partial: Vec<Hash>, last_leaf: Hash) -> TreeCache {
        let mut c = TreeCache::empty(alg);
        for r in tile_roots {
            c.push_tile_root(r);
        }
        c.size = c.complete_tiles() * TILE_SIZE + partial.len() as u64;
        c.partial = partial;
        c.last_leaf = last_leaf;
        c
    }

    pub fn complete_tiles(&self) -> u64 {
        self.upper[0].len() as u64
    }

    fn push_tile_root(&mut self, root: Hash) {
        self.upper[0].push(root);
        let mut level = 0;
        while self.upper[level].len().is_multiple_of(2) {
            let n = self.upper[level].len();
            let node = merkle::node_hash(self.alg, &self.upper[level][n - 2], &self.upper[level][n - 1]);
            if self.upper.len() == level + 1 {
                self.upper.push(Vec::new());
            }
            self.upper[level + 1].push(node);
            level += 1;
        }
    }

    /// Append leaves; returns the tiles they completed.
    pub fn append(&mut self, leaves: &[Hash]) -> Vec<NewTile> {
        let tiles = self.tiles_completed_by(leaves);
        self.commit(leaves, &tiles);
        tiles
    }

    /// The tiles that appending `leaves` would complete, without changing the tree (the
    /// sequencer stores them before the tree in memory moves).
    pub fn tiles_completed_by(&self, leaves: &[Hash]) -> Vec<NewTile> {
        let mut done = Vec::new();
        let mut partial = self.partial.clone();
        for leaf in leaves {
            partial.push(*leaf);
            if partial.len() as u64 == TILE_SIZE {
                let leaves = std::mem::take(&mut partial);
                let root = merkle::subtree(self.alg, &leaves);
                done.push(NewTile { tile: self.complete_tiles() + done.len() as u64, leaves, root });
            }
        }
        done
    }

    /// Append `leaves` once their tiles (from [`Self::tiles_completed_by`]) are stored.
    pub fn commit(&mut self, leaves: &[Hash], tiles: &[NewTile]) {
        for t in tiles {
            self.push_tile_root(t.root);
        }
        let mut all = std::mem::take(&mut self.partial);
        all.extend_from_slice(leaves);
        self.partial = all.split_off(tiles.len() * TILE_SIZE as usize);
        self.size += leaves.len() as u64;
        if let Some(last) = leaves.last() {
            self.last_leaf = *last;
        }
    }

    /// Nodes of this tree with extra tiles read from storage.
    pub fn view<'a>(&'a self, tiles: &'a HashMap<u64, Arc<Vec<Hash>>>) -> View<'a> {
        View { cache: self, tiles }
    }
}

pub struct View<'a> {
    cache: &'a TreeCache,
    tiles: &'a HashMap<u64, Arc<Vec<Hash>>>,
}

impl Nodes for View<'_> {
    fn node(&self, level: u32, index: u64) -> Result<Hash, NeedTile> {
        if level >= TILE_BITS {
            let l = (level - TILE_BITS) as usize;
            // Callers ask only for complete nodes inside the tree; a miss means a bug, and the
            // empty root makes every proof fail verification instead of panicking.
            return Ok(self
                .cache
                .upper
                .get(l)
                .and_then(|v| v.get(index as usize))
                .copied()
                .unwrap_or_else(|| merkle::empty_root(self.cache.alg)));
        }
        let start = index << level;
        let tile = start >> TILE_BITS;
        let offset = (start - (tile << TILE_BITS)) as usize;
        let width = 1usize << level;
        let leaves: &[Hash] = if tile == self.cache.complete_tiles() {
            &self.cache.partial
        } else if let Some(t) = self.tiles.get(&tile) {
            t
        } else {
            return Err(NeedTile(tile));
        };
        match leaves.get(offset..offset + width) {
            Some(slice) => Ok(merkle::subtree(self.cache.alg, slice)),
            None => Ok(merkle::empty_root(self.cache.alg)),
        }
    }

    fn alg(&self) -> HashAlg {
        self.cache.alg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion, MemoryTree};

    /// The tiled cache gives the same roots and proofs as the plain definition, across tile
    /// boundaries and for older tree sizes.
    #[test]
    fn tiles_agree_with_memory_tree() {
        let alg = HashAlg::Sm3;
        let leaves: Vec<Hash> = (0..(3 * TILE_SIZE + 17)).map(|i| merkle::leaf_hash(alg, &i.to_be_bytes())).collect();
        let mut cache = TreeCache::empty(alg);
        let mut stored = HashMap::new();
        for chunk in leaves.chunks(100) {
            for t in cache.append(chunk) {
                assert_eq!(t.leaves.len() as u64, TILE_SIZE);
                stored.insert(t.tile, Arc::new(t.leaves));
            }
        }
        assert_eq!(cache.size, leaves.len() as u64);
        let mem = MemoryTree { alg, leaves: leaves.clone() };
        let view = cache.view(&stored);
        for size in [1, 2, 255, 256, 257, 511, 512, 700, cache.size] {
            let r = root(&view, size).unwrap();
            assert_eq!(r, root(&mem, size).unwrap(), "root {size}");
            for m in [0, size / 3, size - 1] {
                let p = inclusion_proof(&view, m, size).unwrap();
                assert_eq!(p, inclusion_proof(&mem, m, size).unwrap());
                assert!(verify_inclusion(alg, m, size, &leaves[m as usize], &p, &r));
            }
            for first in [1, size / 2, size] {
                if first == 0 {
                    continue;
                }
                let p = consistency_proof(&view, first, size).unwrap();
                assert!(verify_consistency(alg, first, size, &root(&mem, first).unwrap(), &r, &p), "{first}..{size}");
            }
        }
        // Without the stored tiles the view asks for them.
        let empty = HashMap::new();
        assert_eq!(inclusion_proof(&cache.view(&empty), 5, cache.size), Err(NeedTile(0)));
        // Rebuilt from parts it is the same tree.
        let roots: Vec<Hash> = (0..3).map(|t| merkle::subtree(alg, &leaves[t * 256..(t + 1) * 256])).collect();
        let again = TreeCache::from_parts(alg, roots, leaves[768..].to_vec(), *leaves.last().unwrap());
        assert_eq!(root(&again.view(&stored), again.size).unwrap(), root(&mem, cache.size).unwrap());
    }
}
