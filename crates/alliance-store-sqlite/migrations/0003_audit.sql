-- The audit trail: who did what to which record, when, from where. Ids only, never content.
-- Append-only (triggers refuse UPDATE and DELETE), each entry chained to the one before by a
-- keyed MAC (HMAC-SHA-256 under a key derived from the master key, which is not in the
-- database). Kept in step with alliance-store-postgres/migrations/0003_audit.sql.
CREATE TABLE audit_log (
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT,
    record_type TEXT NOT NULL,
    record_id TEXT,
    child_id TEXT,
    category TEXT NOT NULL
        CONSTRAINT audit_log_category CHECK (category IN ('general', 'safeguarding', 'allegation')),
    detail TEXT,
    request_id TEXT NOT NULL,
    address TEXT NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (seq)
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_child ON audit_log (child_id, seq);

-- The newest entry's sequence number and MAC. Appends lock this row, so appends from any
-- number of processes form one chain. It only moves forward.
CREATE TABLE audit_head (
    id BIGINT NOT NULL CONSTRAINT audit_head_singleton CHECK (id = 1),
    seq BIGINT NOT NULL,
    mac BLOB NOT NULL,
    PRIMARY KEY (id)
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, zeroblob(32));

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the audit head only moves forward');
END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head cannot be removed');
END;
