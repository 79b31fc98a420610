-- Openness (政务公开 · 数据开放): disclosed documents with interpretations, disclosure on
-- application, open datasets with resources, queryable rows, requests and ratings.

-- 主动公开: documents with their metadata; a plain-language interpretation (政策解读) rides along.
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    -- JSON {title, body, qa: [[q, a]]} or NULL
    interpretation TEXT,
    -- draft | published | withdrawn (visibility also follows publish_at / withdraw_at)
    status TEXT NOT NULL,
    publish_at TEXT,
    withdraw_at TEXT,
    withdraw_reason TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX documents_department ON documents (department_code, issued_on);
CREATE INDEX documents_publish ON documents (status, publish_at);

-- Every saved version (history kept when a document changes or is withdrawn).
CREATE TABLE document_history (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id),
    version BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (doc_id, version)
);

CREATE TABLE document_files (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    data {{BLOB}} NOT NULL,
    PRIMARY KEY (doc_id, name)
);

-- 依申请公开.
CREATE TABLE disclosure_requests (
    request_id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    requester TEXT NOT NULL,
    account TEXT,
    requester_name TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    description TEXT NOT NULL,
    purpose TEXT NOT NULL,
    -- received | extended | answered
    status TEXT NOT NULL,
    received_on TEXT NOT NULL,
    due_date TEXT NOT NULL,
    extension_reason TEXT,
    -- disclosed | partial | refused | not_held | not_ours
    decision TEXT,
    answer TEXT,
    answered_at TEXT,
    answered_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX disclosure_requests_department ON disclosure_requests (department_code, status);
CREATE INDEX disclosure_requests_requester ON disclosure_requests (requester, created_at);

-- 开放数据: datasets (CKAN packages) and their resources.
CREATE TABLE datasets (
    dataset_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    notes TEXT NOT NULL,
    organization TEXT NOT NULL,
    organization_title TEXT NOT NULL,
    license_id TEXT NOT NULL,
    -- JSON arrays
    group_names TEXT NOT NULL,
    tags TEXT NOT NULL,
    update_cycle TEXT NOT NULL,
    -- unconditional | conditional (开放类型)
    open_type TEXT NOT NULL,
    downloads BIGINT NOT NULL DEFAULT 0,
    metadata_created TEXT NOT NULL,
    metadata_modified TEXT NOT NULL
);
CREATE INDEX datasets_organization ON datasets (organization);

CREATE TABLE dataset_resources (
    resource_id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets (dataset_id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    format TEXT NOT NULL,
    mimetype TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data {{BLOB}} NOT NULL,
    -- JSON [{id, type}] for tabular resources (datastore)
    fields TEXT,
    row_count BIGINT NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE INDEX dataset_resources_dataset ON dataset_resources (dataset_id, position);

-- Tabular rows of CSV resources (datastore), as JSON objects.
CREATE TABLE datastore_rows (
    resource_id TEXT NOT NULL REFERENCES dataset_resources (resource_id),
    row_no BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (resource_id, row_no)
);

CREATE TABLE dataset_ratings (
    dataset_id TEXT NOT NULL REFERENCES datasets (dataset_id),
    rater TEXT NOT NULL,
    level BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (dataset_id, rater)
);

-- 数据需求: what the public asks to be opened.
CREATE TABLE dataset_requests (
    request_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    organization TEXT,
    requester TEXT NOT NULL,
    status TEXT NOT NULL,
    reply TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
