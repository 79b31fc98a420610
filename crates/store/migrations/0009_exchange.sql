-- Data sharing and exchange (数据共享交换): the information resource catalog, member systems,
-- access requests and the access log the citizen's "who accessed my data" page reads.

-- 政务信息资源目录: one row per resource; the catalog elements as a JSON document.
CREATE TABLE exchange_resources (
    code TEXT PRIMARY KEY,
    provider_code TEXT NOT NULL,
    -- 1 unconditional, 2 conditional, 3 not shared
    sharing_type INTEGER NOT NULL,
    doc TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX exchange_resources_provider ON exchange_resources (provider_code);

-- Member systems (成员单位的应用系统): a department's subsystem with its Ed25519 public key
-- for signed client assertions (RFC 7523).
CREATE TABLE exchange_members (
    member_id TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    -- calls per second allowed on unconditional resources
    rate_per_sec INTEGER NOT NULL,
    disabled_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX exchange_members_department ON exchange_members (department_code);

-- Access requests for conditional resources (共享申请) and their approvals.
CREATE TABLE exchange_grants (
    grant_id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES exchange_members (member_id),
    resource_code TEXT NOT NULL REFERENCES exchange_resources (code),
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    -- JSON array of data item names
    fields TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    rate_per_sec INTEGER NOT NULL,
    -- pending | approved | rejected | revoked
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT
);
CREATE INDEX exchange_grants_member ON exchange_grants (member_id, resource_code);
CREATE INDEX exchange_grants_resource ON exchange_grants (resource_code, status);

-- The shared store (共享库): base data providers push into yiwang, one JSON record per subject.
CREATE TABLE exchange_records (
    resource_code TEXT NOT NULL,
    subject TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (resource_code, subject)
);

-- Bumped by every change to resources, members or grants, so gateways on other nodes notice
-- within one log batch.
CREATE TABLE exchange_state (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO exchange_state (id, generation) VALUES (1, 1);

-- The gateway's signing keys (private part encrypted under the master key).
CREATE TABLE exchange_keys (
    key_id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- Every exchange: who asked, for what, about whom, why, and what came of it. Rows are never
-- changed. They are written in batches; each batch's digest (over its rows) is a row of
-- exchange_log_batches, which the ledger records, so any edited or deleted log row shows.
CREATE TABLE exchange_log (
    exchange_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    at TEXT NOT NULL,
    -- gateway | workflow | workbench
    channel TEXT NOT NULL,
    consumer TEXT NOT NULL,
    consumer_department TEXT NOT NULL,
    resource_code TEXT NOT NULL,
    provider_department TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    case_number TEXT,
    grant_id TEXT,
    -- ok | not_found | denied | provider_error
    result TEXT NOT NULL,
    -- JSON array of the data items released
    fields TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    -- SHA-256 of the records released (hex), covered by the signature
    body_hash TEXT NOT NULL,
    latency_us BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX exchange_log_subject ON exchange_log (subject, at);
CREATE INDEX exchange_log_resource ON exchange_log (resource_code, consumer);
CREATE INDEX exchange_log_batch ON exchange_log (batch_id);

-- One row per log batch: how many records and the SHA-256 over their digests in exchange_id
-- order (see docs/exchange.md).
CREATE TABLE exchange_log_batches (
    batch_id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    records BIGINT NOT NULL,
    digest TEXT NOT NULL
);
