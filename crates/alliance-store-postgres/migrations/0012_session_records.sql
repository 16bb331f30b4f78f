-- Session records: one per session, written as a draft, signed (locked), then changed only by
-- amendment, the original kept; the case's lead may share a signed record with the case's
-- parent-worker. Kept in step with the other engine's 0012_session_records.sql.
-- Instants are BIGINT microseconds. What a record says is stored only sealed under the
-- child's clinical key, bound to its table, column and row: session_records.content and
-- session_record_amendments.content (the record as amended, and why). Readable on purpose:
-- ids, the status, the version and the instants, which the lists and the access rules need
-- without a key.

-- A session's record. Its content is replaced while it is a draft (sealed afresh at every
-- save); once signed it is never replaced again, and only the version and the sharing move.
CREATE TABLE session_records (
    id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES therapy_sessions (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    -- Who writes and signs it; a draft is theirs alone.
    author TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL
        CONSTRAINT session_records_status_known CHECK (status IN ('draft', 'signed')),
    -- Sealed under the child's clinical key.
    content BYTEA NOT NULL,
    version BIGINT NOT NULL CONSTRAINT session_records_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    signed_at BIGINT,
    -- Set while the lead shares it with the case's parent-worker, and by whom.
    shared_at BIGINT,
    shared_by TEXT REFERENCES users (id),
    PRIMARY KEY (id),
    CONSTRAINT session_records_session UNIQUE (session_id),
    CONSTRAINT session_records_signing_complete CHECK ((status = 'signed') = (signed_at IS NOT NULL)),
    CONSTRAINT session_records_shared_when_signed CHECK (shared_at IS NULL OR status = 'signed'),
    CONSTRAINT session_records_sharing_complete CHECK ((shared_at IS NULL) = (shared_by IS NULL))
);
CREATE INDEX session_records_case ON session_records (case_id);

-- Amendments to signed records, read oldest first; never edited or removed.
CREATE TABLE session_record_amendments (
    id TEXT NOT NULL,
    record_id TEXT NOT NULL REFERENCES session_records (id),
    -- Sealed under the child's clinical key: the record as amended, and the reason.
    content BYTEA NOT NULL,
    author TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX session_record_amendments_record ON session_record_amendments (record_id);
