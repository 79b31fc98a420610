-- Unified identity: natural persons, legal persons and their agents, sessions for every kind of
-- account, login history, password resets, staff TOTP, the notification outbox and the
-- OpenID Connect provider's clients, codes, grants, refresh tokens, consents and signing keys.

-- 自然人 natural persons. `subject` is the opaque public identifier (OIDC `sub`).
CREATE TABLE persons (
    subject TEXT PRIMARY KEY,
    id_number TEXT NOT NULL UNIQUE,       -- GB 11643, 18 characters, upper-case X
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT NOT NULL,
    assurance BIGINT NOT NULL DEFAULT 1,  -- 1 self-declared, 2 verified online, 3 verified in person
    verified_at TEXT,
    verified_by TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

-- 法人 legal persons, bound to the legal representative's verified personal account.
CREATE TABLE businesses (
    credit_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    representative TEXT NOT NULL REFERENCES persons(subject),
    created_at TEXT NOT NULL
);

-- 经办人 agents authorised by the representative, with scopes and an expiry.
CREATE TABLE business_agents (
    id {{AUTO_ID}},
    credit_code TEXT NOT NULL REFERENCES businesses(credit_code),
    person TEXT NOT NULL REFERENCES persons(subject),
    scopes TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX business_agents_person ON business_agents(person);
CREATE INDEX business_agents_business ON business_agents(credit_code);

-- Sessions for staff and persons alike replace the staff-only table (sessions are ephemeral:
-- signing everyone out once at upgrade is acceptable).
DROP TABLE sessions;
CREATE TABLE auth_sessions (
    id_hash TEXT PRIMARY KEY,             -- SHA-256 of the cookie value
    handle TEXT NOT NULL UNIQUE,          -- shown on the account page to revoke a session
    kind TEXT NOT NULL,                   -- staff | person
    principal TEXT NOT NULL,              -- staff username or person subject
    stage TEXT NOT NULL,                  -- full | totp (second factor pending) | enroll
    acting_for TEXT,                      -- credit code when a person acts for a business
    csrf_token TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_principal ON auth_sessions(kind, principal);
CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at);

CREATE TABLE login_events (
    id {{AUTO_ID}},
    kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    at TEXT NOT NULL,
    result TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX login_events_principal ON login_events(kind, principal, id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

ALTER TABLE staff_accounts ADD COLUMN region_code TEXT;
ALTER TABLE staff_accounts ADD COLUMN phone TEXT;
ALTER TABLE staff_accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- Notification outbox: written in the same transaction as the change that causes a message.
CREATE TABLE outbox (
    id {{AUTO_ID}},
    channel TEXT NOT NULL,                -- sms | email | inbox | webhook
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(sent_at, id);

-- OpenID Connect provider.
CREATE TABLE oidc_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,            -- SHA-256 of a 256-bit random secret
    redirect_uris TEXT NOT NULL,          -- newline-separated, exact match
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '',
    scopes TEXT NOT NULL,                 -- space-separated scopes the client may ask for
    id_token_alg TEXT NOT NULL,           -- RS256 | EdDSA
    subject_kind TEXT NOT NULL,           -- person | staff
    department_code TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    acting_for TEXT,
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    session_handle TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    grant_id TEXT
);

-- One grant per successful code exchange; refresh tokens rotate within it.
CREATE TABLE oidc_grants (
    grant_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    acting_for TEXT,
    scope TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    session_handle TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX oidc_grants_session ON oidc_grants(session_handle);
CREATE INDEX oidc_grants_principal ON oidc_grants(kind, principal);

CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oidc_grants(grant_id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX oidc_refresh_grant ON oidc_refresh_tokens(grant_id);

CREATE TABLE oidc_consents (
    kind TEXT NOT NULL,
    principal TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (kind, principal, client_id)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,                    -- RS256 | EdDSA
    private_der TEXT NOT NULL,            -- hex DER: PKCS#1 for RSA, PKCS#8 for Ed25519
    public_jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
