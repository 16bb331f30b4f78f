-- Staff accounts, roles, supervision, sign-in sessions, throttling, API tokens, first-run
-- setup codes and the drafts kept when a session expires mid-form.
-- Kept in step with alliance-store-postgres/migrations/0002_accounts.sql.

-- Whether roles that read children's records must use a second factor (policy default: yes;
-- a demo service turns it off so a newcomer can look around).
ALTER TABLE service ADD COLUMN second_factor_required BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE users (
    id TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    registration TEXT NOT NULL,
    registration_number TEXT,
    email TEXT,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    -- The TOTP secret, sealed (XChaCha20-Poly1305, bound to this row and column).
    totp_secret BLOB,
    -- The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step BIGINT,
    version BIGINT NOT NULL CONSTRAINT users_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CONSTRAINT user_roles_role CHECK (role IN
        ('therapist', 'supervisor', 'dsl', 'deputy-dsl', 'service-lead', 'administrator', 'staff')),
    PRIMARY KEY (user_id, role)
);

-- Who supervises whom; named access lets the supervisor see children's names (audited).
CREATE TABLE supervision (
    supervisor_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    supervisee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    named_access BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (supervisor_id, supervisee_id),
    CONSTRAINT supervision_not_self CHECK (supervisor_id <> supervisee_id)
);
CREATE INDEX supervision_supervisee ON supervision (supervisee_id);

-- One-time recovery codes for a lost second factor, stored as SHA-256.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Server-side sessions. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    -- False between the password and the second factor: such a session opens nothing else.
    second_factor_done BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    user_agent TEXT NOT NULL,
    address TEXT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT,
    PRIMARY KEY (token_hash)
);
CREATE INDEX sessions_user ON sessions (user_id, ended_at);

-- Failed sign-in attempts, per account name (known or not) and per address, for throttling
-- that holds across several Alliance processes.
CREATE TABLE login_failures (
    id TEXT NOT NULL,
    account_key TEXT NOT NULL,
    address TEXT NOT NULL,
    failed_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX login_failures_account ON login_failures (account_key, failed_at);
CREATE INDEX login_failures_address ON login_failures (address, failed_at);

CREATE TABLE api_tokens (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    scope TEXT NOT NULL CONSTRAINT api_tokens_scope CHECK (scope IN ('read', 'read-write')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The one-time code printed on the console for the first-run setup page.
CREATE TABLE setup_codes (
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (code_hash)
);

-- A form submitted on an expired session, sealed, waiting for its author to sign in again.
CREATE TABLE resume_drafts (
    token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sealed_form BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (token_hash)
);
CREATE INDEX resume_drafts_user ON resume_drafts (user_id);
