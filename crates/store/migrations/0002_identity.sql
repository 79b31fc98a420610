-- Staff accounts and server-side sessions (revocable). The identity issue extends this.

CREATE TABLE staff_accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,      -- argon2id PHC string
    department_code TEXT REFERENCES departments(credit_code),
    roles TEXT NOT NULL,              -- comma-separated role names
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,         -- SHA-256 of the cookie value; the value itself is never stored
    username TEXT NOT NULL REFERENCES staff_accounts(username),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(username);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Audit trail of staff actions (who, what, when, result, source).
CREATE TABLE audit_log (
    id {{AUTO_ID}},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
