-- Evaluation (评价考核): electronic supervision alerts (电子监察), ratings (好差评) with their
-- rectification follow-ups, and 12345-style tickets (咨询投诉).

-- 实收费用 per case, compared with the published fees.
ALTER TABLE cases ADD COLUMN fee_fen BIGINT;

-- One alert per rule, subject (case or ticket) and scope (e.g. a branch's step): a yellow
-- warning turns red in place; a condition that goes away clears an alert nobody acted on yet.
CREATE TABLE oversight_alerts (
    alert_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    level TEXT NOT NULL,
    -- open | explained | rectified | closed | cleared
    status TEXT NOT NULL,
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    detail TEXT NOT NULL,
    explanation TEXT,
    rectification TEXT,
    closing_note TEXT,
    raised_at TEXT NOT NULL,
    red_at TEXT,
    updated_at TEXT NOT NULL,
    -- China month (YYYY-MM) it was raised in: scores count by it.
    month TEXT NOT NULL
);
CREATE UNIQUE INDEX oversight_alerts_key ON oversight_alerts (rule, subject, scope);
CREATE INDEX oversight_alerts_department ON oversight_alerts (department_code, status);
CREATE INDEX oversight_alerts_month ON oversight_alerts (month, department_code);

-- Small facts the jobs keep (the last sweep).
CREATE TABLE oversight_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- 一次一评 at the window: a visit the window opened for rating (the id is the capability the
-- applicant's phone or the rating pad uses).
CREATE TABLE rating_visits (
    visit_id TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    staff TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rated_at TEXT
);

-- 好差评: one per case online (一事一评), one per window visit (一次一评).
CREATE TABLE ratings (
    rating_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    case_id TEXT,
    visit_id TEXT,
    department_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    level BIGINT NOT NULL,
    dimensions TEXT NOT NULL,
    comment TEXT NOT NULL,
    -- 'person:<ID>' or 'business:<code>'; none for an anonymous visit rating.
    rater TEXT,
    account TEXT,
    -- An upheld appeal (malicious review) takes it out of the published results.
    excluded BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    month TEXT NOT NULL
);
CREATE UNIQUE INDEX ratings_case ON ratings (case_id);
CREATE UNIQUE INDEX ratings_visit ON ratings (visit_id);
CREATE INDEX ratings_month ON ratings (month, department_code);

-- 差评整改: every bad review (levels 1 and 2) is verified, rectified and answered.
CREATE TABLE rating_followups (
    rating_id TEXT PRIMARY KEY REFERENCES ratings (rating_id),
    department_code TEXT NOT NULL,
    -- open | replied | appealed | closed
    status TEXT NOT NULL,
    due_date TEXT NOT NULL,
    verification TEXT,
    rectification TEXT,
    reply TEXT,
    replied_at TEXT,
    replied_by TEXT,
    appeal_reason TEXT,
    appeal_decision TEXT,
    closed_at TEXT,
    closed_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX rating_followups_department ON rating_followups (department_code, status);

-- 12345: enquiries, complaints, suggestions, reports and requests for help.
CREATE TABLE tickets (
    ticket_id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    -- received | dispatched | handling | replied | closed | merged
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    item_code TEXT,
    item_name TEXT,
    department_code TEXT,
    department_name TEXT,
    submitter TEXT,
    account TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    -- SHA-256 of the query code an anonymous reporter follows the ticket with.
    query_hash TEXT,
    master_id TEXT,
    due_at TEXT NOT NULL,
    escalation BIGINT NOT NULL DEFAULT 0,
    reply TEXT,
    replied_at TEXT,
    follow_up TEXT,
    satisfaction BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    month TEXT NOT NULL
);
CREATE INDEX tickets_department ON tickets (department_code, status);
CREATE INDEX tickets_submitter ON tickets (submitter, created_at);
CREATE INDEX tickets_month ON tickets (month);

CREATE TABLE ticket_events (
    id {{AUTO_ID}},
    ticket_id TEXT NOT NULL REFERENCES tickets (ticket_id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    note TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
