//! The ledger's vocabulary, as served by the API and checked by verifiers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Format name in signed tree heads and bundles.
pub const LOG_FORMAT: &str = "yiwang-ledger/1";

/// Leaves per tile (2^8).
pub const TILE_BITS: u32 = 8;
pub const TILE_SIZE: u64 = 1 << TILE_BITS;

/// One leaf without its record: what anyone may see. The leaf hash covers exactly these
/// fields (`leaf_hash = H(0x00 ‖ canonical {content, index, key, prev, source})`), and the
/// content hash covers the record, which only those entitled to it see.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Envelope {
    pub index: u64,
    pub source: String,
    pub key: String,
    /// H(canonical record), hex.
    pub content: String,
    /// Leaf hash of the previous entry (64 zeros for the first), hex.
    pub prev: String,
    pub leaf_hash: String,
    pub sequenced_at: String,
}

/// A leaf with its record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The recorded row (column → value), canonical JSON.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// A signed tree head (STH): the log commits to its first `tree_size` entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SignedHead {
    pub format: String,
    /// `sm3` or `sha256`.
    pub hash: String,
    pub tree_size: u64,
    /// Merkle root, hex.
    pub root: String,
    pub timestamp: String,
    pub key_id: String,
    /// Signature (base64) over the canonical JSON of the fields above, excluding `signature`.
    pub signature: String,
}

/// A log signing key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LogKey {
    pub key_id: String,
    /// `SM2-SM3` or `Ed25519`.
    pub algorithm: String,
    /// SEC1 uncompressed (SM2) or 32 bytes (Ed25519), hex.
    pub public_key: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// What the log is: for verifiers and the public page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogInfo {
    pub format: String,
    pub hash: String,
    /// Entries appended so far.
    pub tree_size: u64,
    /// Rows captured and waiting for the sequencer.
    pub pending: u64,
    pub latest_head: Option<SignedHead>,
    pub keys: Vec<LogKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    /// Audit path, leaf to root, hex.
    pub path: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub path: Vec<String>,
}

/// One record of a bundle with its proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProvenEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub proof: Vec<String>,
    /// The recorded row still reads the same in the database now.
    pub matches_source: bool,
}

/// Everything needed to check offline that some records are in the log: the records, their
/// inclusion proofs against one signed head, and the key that signed it. "Verify this history"
/// on a case page hands this out; `tools/ledger_verify.py bundle FILE` checks it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProofBundle {
    pub format: String,
    pub hash: String,
    pub head: Option<SignedHead>,
    pub key: Option<LogKey>,
    pub entries: Vec<ProvenEntry>,
    /// Keys of records captured but not yet in a signed head.
    pub pending: Vec<String>,
}

/// The result of checking a bundle, per record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleCheck {
    pub head_signature_valid: bool,
    pub entries: Vec<EntryCheck>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryCheck {
    pub key: String,
    pub index: u64,
    pub content_matches: bool,
    pub included: bool,
    pub matches_source: bool,
}

impl BundleCheck {
    pub fn all_valid(&self) -> bool {
        self.head_signature_valid && self.entries.iter().all(|e| e.content_matches && e.included && e.matches_source)
    }
}

/// What `yiwang ledger verify` found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
pub struct AuditReport {
    pub hash: String,
    pub entries_checked: u64,
    pub heads_checked: u64,
    pub source_rows_checked: u64,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One problem, with the log position it concerns where there is one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub position: Option<u64>,
    pub source: Option<String>,
    pub key: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A log entry's record no longer matches its content hash.
    EntryEdited,
    /// Log positions missing (rows deleted).
    EntryDeleted,
    /// An entry sits at a position it was not appended at (rows reordered or moved).
    EntryMoved,
    /// The hash chain breaks: an entry was replaced with a self-consistent forgery.
    ChainBroken,
    /// A signed head's root does not match the recomputed tree.
    HeadMismatch,
    /// A signed head's signature is invalid or its key unknown.
    HeadSignature,
    /// A recorded row was changed after it was recorded.
    SourceEdited,
    /// A recorded row was deleted.
    SourceDeleted,
    /// A row exists in a recorded table that never reached the log.
    SourceUnrecorded,
}
