-- Electronic licences and seals (电子证照库 · 电子印章).

-- Licence types (证照目录) as JSON documents.
CREATE TABLE licence_types (
    code TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Seals of issuing departments. Private keys are encrypted (SM4-GCM under the master key).
CREATE TABLE seals (
    seal_id TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    name TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    retired_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX seals_department ON seals (department_code, algorithm);

-- Serial numbers per type and issuer.
CREATE TABLE licence_serials (
    type_code TEXT NOT NULL,
    issuer_code TEXT NOT NULL,
    last_no BIGINT NOT NULL,
    PRIMARY KEY (type_code, issuer_code)
);

CREATE TABLE licences (
    identifier TEXT PRIMARY KEY,
    type_code TEXT NOT NULL,
    issuer_code TEXT NOT NULL,
    serial TEXT NOT NULL,
    version BIGINT NOT NULL,
    holder_id TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    type_name TEXT NOT NULL,
    number TEXT NOT NULL,
    issuer_name TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    valid_to TEXT,
    -- valid | revoked | superseded (expired is computed from valid_to)
    status TEXT NOT NULL,
    status_reason TEXT,
    status_at TEXT,
    superseded_by TEXT,
    case_id TEXT,
    -- The canonical JSON that the signature covers, and the signature (base64).
    document TEXT NOT NULL,
    signature TEXT NOT NULL,
    seal_id TEXT NOT NULL REFERENCES seals (seal_id),
    created_at TEXT NOT NULL
);
CREATE INDEX licences_holder ON licences (holder_id, type_code);
CREATE INDEX licences_issuer ON licences (issuer_code, created_at);
CREATE INDEX licences_case ON licences (case_id);

-- 加注件: one-use annotated copies for a third party.
CREATE TABLE licence_copies (
    token TEXT PRIMARY KEY,
    identifier TEXT NOT NULL REFERENCES licences (identifier),
    holder_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    recipient TEXT NOT NULL,
    made_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX licence_copies_licence ON licence_copies (identifier);

-- Every use of a licence: who used whose licence, for which case.
CREATE TABLE licence_uses (
    id {{AUTO_ID}},
    identifier TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    case_id TEXT,
    used_by TEXT NOT NULL,
    department_code TEXT,
    purpose TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX licence_uses_licence ON licence_uses (identifier, id);

-- A case material may be an e-licence instead of an upload.
ALTER TABLE case_materials ADD COLUMN licence_id TEXT;
