-- Retention: legal holds, the DSL's flags, destruction requests (issue 15). Kept in step with
-- alliance-store-postgres/migrations/0017_retention.sql. Instants are BIGINT microseconds.
--
-- Nothing here holds a retention date: dates are worked out afresh from the child's facts on
-- every read (a re-referral puts the clinical date off again), and a safeguarding-driven date
-- must not be readable by anyone but the DSL.

-- A legal hold on a child's records: while one is set (not lifted), nothing of the child's is
-- destroyed. Its reasons are sealed under the service key `legal-holds` (so destroying a
-- class never loses them), bound to this table, the column and the row. One hold is set at a
-- time (`legal_holds_one_active`); a lifted hold is kept, never deleted.
CREATE TABLE legal_holds (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    reason BLOB NOT NULL,
    set_by TEXT NOT NULL REFERENCES users (id),
    set_at BIGINT NOT NULL,
    lifted_by TEXT REFERENCES users (id),
    lifted_at BIGINT,
    lift_reason BLOB,
    version BIGINT NOT NULL CONSTRAINT legal_holds_version_positive CHECK (version >= 1),
    PRIMARY KEY (id),
    CONSTRAINT legal_holds_lifted_complete CHECK (
        (lifted_at IS NULL) = (lifted_by IS NULL)
        AND (lifted_at IS NULL) = (lift_reason IS NULL))
);
CREATE INDEX legal_holds_child ON legal_holds (child_id, set_at);
CREATE UNIQUE INDEX legal_holds_one_active ON legal_holds (child_id) WHERE lifted_at IS NULL;

CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN
    SELECT RAISE(ABORT, 'a legal hold is kept once set: lift it instead');
END;

-- The DSL's flag on a child's safeguarding records (the 75-year rule). Whether it is set is
-- sealed under the child's safeguarding key (`flag`, bound to this table, column and child),
-- so the database alone says nothing about why a child's records are kept.
CREATE TABLE retention_flags (
    child_id TEXT NOT NULL REFERENCES children (id),
    flag BLOB NOT NULL,
    set_by TEXT NOT NULL REFERENCES users (id),
    set_at BIGINT NOT NULL,
    version BIGINT NOT NULL CONSTRAINT retention_flags_version_positive CHECK (version >= 1),
    PRIMARY KEY (child_id)
);

-- A request to destroy one class of a child's record: asked for (an administrator; the DSL for
-- the safeguarding records), then destroyed (approved by the service lead or the DSL, the key
-- destroyed, the row the tombstone), refused by an approver, or withdrawn by its requester.
-- One open request per child and class, and one destruction: a class is never destroyed twice.
-- A decided request is final, and no request is ever deleted.
CREATE TABLE destruction_requests (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    class TEXT NOT NULL
        CONSTRAINT destruction_requests_class_known CHECK (class IN ('clinical', 'process-notes', 'safeguarding')),
    status TEXT NOT NULL
        CONSTRAINT destruction_requests_status_known CHECK (status IN ('requested', 'destroyed', 'refused', 'withdrawn')),
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at BIGINT NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at BIGINT,
    -- Approved by its own requester, the sole practitioner, after the cooling-off and their
    -- password again.
    sole_practitioner BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT destruction_requests_version_positive CHECK (version >= 1),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT destruction_requests_decided_complete CHECK (
        (status <> 'requested') = (decided_by IS NOT NULL)
        AND (status <> 'requested') = (decided_at IS NOT NULL)),
    CONSTRAINT destruction_requests_sole_destroyed CHECK (sole_practitioner = FALSE OR status = 'destroyed')
);
CREATE INDEX destruction_requests_child ON destruction_requests (child_id, requested_at);
CREATE INDEX destruction_requests_status ON destruction_requests (status, requested_at);
CREATE UNIQUE INDEX destruction_requests_one_open ON destruction_requests (child_id, class) WHERE status = 'requested';
CREATE UNIQUE INDEX destruction_requests_one_destroyed ON destruction_requests (child_id, class) WHERE status = 'destroyed';

CREATE TRIGGER destruction_requests_no_delete BEFORE DELETE ON destruction_requests
BEGIN
    SELECT RAISE(ABORT, 'a destruction request is kept: it is the record of what was destroyed');
END;

-- Decided is final; and a request stays the same child's and class's, asked by the same person
-- at the same time. `IS` compares NULLs as values.
CREATE TRIGGER destruction_requests_no_update BEFORE UPDATE ON destruction_requests
WHEN OLD.status <> 'requested' OR NOT (
    NEW.id IS OLD.id
    AND NEW.child_id IS OLD.child_id
    AND NEW.class IS OLD.class
    AND NEW.requested_by IS OLD.requested_by
    AND NEW.requested_at IS OLD.requested_at
)
BEGIN
    SELECT RAISE(ABORT, 'a decided destruction request is final, and a request stays what it asked for');
END;
