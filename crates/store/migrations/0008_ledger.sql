-- The tamper-evident ledger (数据铁笼): an append-only Merkle log (RFC 6962) of every recorded
-- row. Capture triggers (installed by the ledger at start, generated from its source list)
-- queue each new or changed row in the writing transaction; the sequencer appends queued
-- rows to the log in batches.

CREATE TABLE ledger_queue (
    -- Ids grow with each insert; the sequencer deletes a prefix, so reuse is harmless.
    id {{ROW_ID}},
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    -- The row as JSON (column -> value) at the moment of writing.
    record TEXT NOT NULL
);

-- One row per leaf. record is canonical JSON; content_hash = H(record);
-- leaf_hash = H(0x00 || canonical {"content","index","key","prev","source"}).
CREATE TABLE ledger_entries (
    leaf_index BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    record TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    sequenced_at TEXT NOT NULL
);
CREATE INDEX ledger_entries_source ON ledger_entries (source, source_key);

-- Complete tiles of 256 leaf hashes (concatenated) and their subtree root: proofs read one
-- tile instead of 256 rows, and start-up loads only the roots.
CREATE TABLE ledger_tiles (
    tile BIGINT PRIMARY KEY,
    leaves {{BLOB}} NOT NULL,
    root TEXT NOT NULL
);

-- Signed tree heads.
CREATE TABLE ledger_heads (
    id {{AUTO_ID}},
    tree_size BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX ledger_heads_size ON ledger_heads (tree_size);

-- Log signing keys; private keys encrypted under the master key like seal keys.
CREATE TABLE ledger_keys (
    key_id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- The log's head: its hash algorithm (fixed when the log starts), size and last leaf.
CREATE TABLE ledger_state (
    id BIGINT PRIMARY KEY,
    hash_alg TEXT NOT NULL,
    tree_size BIGINT NOT NULL,
    last_leaf TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
