-- Applications and cases (办件), their department branches, timeline, materials, inbox.

-- Per-item workflow definitions (form, pre-check rules, steps) as data.
CREATE TABLE item_workflows (
    impl_code TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Daily case-number sequence per item (4 digits, STANDARDS.md).
CREATE TABLE case_sequences (
    item_code TEXT NOT NULL,
    day TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (item_code, day)
);

CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    case_number TEXT UNIQUE,
    target_kind TEXT NOT NULL,
    target_code TEXT NOT NULL,
    title TEXT NOT NULL,
    lead_department TEXT NOT NULL,
    lead_department_name TEXT NOT NULL,
    -- Who may see it online: 'person:<ID number>' or 'business:<credit code>'.
    owner TEXT NOT NULL,
    account TEXT,
    applicant_kind TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_id_number TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    agent_id_number TEXT NOT NULL,
    assurance BIGINT NOT NULL,
    contact_phone TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    form TEXT NOT NULL,
    delivery TEXT NOT NULL,
    delivery_address TEXT,
    submit_key TEXT,
    submitted_at TEXT,
    accepted_at TEXT,
    concluded_at TEXT,
    due_date TEXT,
    paused_since TEXT,
    corrections BIGINT NOT NULL DEFAULT 0,
    correction_note TEXT,
    decision_note TEXT,
    version BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_submit_key ON cases (owner, submit_key);
CREATE INDEX cases_owner ON cases (owner, updated_at);
CREATE INDEX cases_lead ON cases (lead_department, status);

CREATE TABLE case_branches (
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    branch_no BIGINT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    steps TEXT NOT NULL,
    step_index BIGINT NOT NULL,
    status TEXT NOT NULL,
    step_started TEXT,
    step_due TEXT,
    decided_at TEXT,
    form TEXT NOT NULL,
    PRIMARY KEY (case_id, branch_no)
);
CREATE INDEX case_branches_queue ON case_branches (department_code, status);

CREATE TABLE case_events (
    id {{AUTO_ID}},
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    step TEXT NOT NULL,
    department_code TEXT,
    department_name TEXT,
    branch_no BIGINT,
    note TEXT NOT NULL,
    actor TEXT
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Uploaded files, stored once by content hash and shared by every department of a case.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data {{BLOB}} NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE case_materials (
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (case_id, name)
);

-- In-app inbox (站内消息) per person account.
CREATE TABLE inbox (
    id {{AUTO_ID}},
    account TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX inbox_account ON inbox (account, id);
