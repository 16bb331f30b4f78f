-- Subject access requests (policy section 5; issue 15): the request and its checks, the
-- pauses of its clock, the named reviewer's window, each item's decision, and the release.
-- Kept in step with alliance-store-postgres/migrations/0018_subject_access.sql.
-- Instants are BIGINT microseconds; days (received, paused, extended, told) are TEXT
-- `YYYY-MM-DD`, the day the law counts.

-- A request. Readable on purpose: ids, the kind of requester, the days, the status and the
-- reviewer's window, which the administrator's list, the due date and the retention holds
-- need without a key. What it says is sealed under the child's identity key, bound to its
-- table, column and row: `details` (the requester's name, organisation and authority seen,
-- the identity and authority checks, the young person's competence and wishes, the
-- extension's reason, a refusal's or withdrawal's reason). `opinion` (the serious-harm
-- opinion) and `bundle` (what was released) are sealed under the child's clinical key. A request is never deleted, and once
-- closed (released, refused, withdrawn) never changes.
CREATE TABLE subject_access_requests (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    requester_kind TEXT NOT NULL CONSTRAINT subject_access_requests_requester_known
        CHECK (requester_kind IN ('young-person', 'parental-responsibility', 'representative')),
    -- The carer with parental responsibility who asked.
    carer_id TEXT REFERENCES carers (id),
    details BLOB NOT NULL,
    received_on TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT subject_access_requests_status_known CHECK (status IN (
        'logged', 'paused', 'checked', 'in-review', 'dsl-review', 'ready', 'released',
        'refused', 'withdrawn')),
    -- The two-month extension: the day it was decided and the day the requester was told.
    extended_on TEXT,
    extension_told_on TEXT,
    -- The named reviewer and the end of their window.
    reviewer_id TEXT REFERENCES users (id),
    reviewer_until BIGINT,
    reviewer_named_by TEXT REFERENCES users (id),
    opinion BLOB,
    dsl_reviewed_by TEXT REFERENCES users (id),
    dsl_reviewed_at BIGINT,
    -- The bundle as released (its JSON, sealed under the child's clinical key): what went.
    bundle BLOB,
    closed_by TEXT REFERENCES users (id),
    closed_at BIGINT,
    logged_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL CONSTRAINT subject_access_requests_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT subject_access_requests_carer_for_parent CHECK (
        (requester_kind = 'parental-responsibility') = (carer_id IS NOT NULL)),
    CONSTRAINT subject_access_requests_reviewer_complete CHECK (
        (reviewer_id IS NULL) = (reviewer_until IS NULL)
        AND (reviewer_id IS NULL) = (reviewer_named_by IS NULL)),
    CONSTRAINT subject_access_requests_told_after_extension CHECK (
        extension_told_on IS NULL OR extended_on IS NOT NULL),
    CONSTRAINT subject_access_requests_dsl_review_complete CHECK (
        (dsl_reviewed_by IS NULL) = (dsl_reviewed_at IS NULL)),
    CONSTRAINT subject_access_requests_bundle_when_released CHECK (
        (status = 'released') = (bundle IS NOT NULL)),
    CONSTRAINT subject_access_requests_closed_complete CHECK (
        (status IN ('released', 'refused', 'withdrawn')) = (closed_by IS NOT NULL)
        AND (closed_by IS NULL) = (closed_at IS NULL))
);
-- A child's requests, newest first; and the count of open ones the destruction hold asks for.
CREATE INDEX subject_access_requests_child ON subject_access_requests (child_id, status);
-- The requests one reviewer holds.
CREATE INDEX subject_access_requests_reviewer ON subject_access_requests (reviewer_id, reviewer_until);
-- The list, newest first.
CREATE INDEX subject_access_requests_received ON subject_access_requests (received_on DESC, id);

CREATE TRIGGER subject_access_requests_no_delete BEFORE DELETE ON subject_access_requests
BEGIN
    SELECT RAISE(ABORT, 'a subject access request is kept: it cannot be deleted');
END;

-- Closed is final; and whatever the status, a request stays the same child's, received on
-- the same day and logged by the same person. `IS` compares NULLs as values.
CREATE TRIGGER subject_access_requests_no_update BEFORE UPDATE ON subject_access_requests
WHEN OLD.status IN ('released', 'refused', 'withdrawn') OR NOT (
    NEW.id IS OLD.id
    AND NEW.child_id IS OLD.child_id
    AND NEW.received_on IS OLD.received_on
    AND NEW.logged_by IS OLD.logged_by
    AND NEW.created_at IS OLD.created_at
)
BEGIN
    SELECT RAISE(ABORT, 'a closed subject access request is final, and a request stays the same child''s');
END;

-- The clock paused while identity or clarification is awaited: from `started_on` until
-- `ended_on` (NULL while still paused: no due date yet). At most one open pause a request.
CREATE TABLE subject_access_pauses (
    id TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES subject_access_requests (id),
    reason TEXT NOT NULL CONSTRAINT subject_access_pauses_reason_known
        CHECK (reason IN ('identity', 'clarification')),
    started_on TEXT NOT NULL,
    ended_on TEXT,
    started_by TEXT NOT NULL REFERENCES users (id),
    ended_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT subject_access_pauses_dates CHECK (ended_on IS NULL OR ended_on >= started_on),
    CONSTRAINT subject_access_pauses_end_complete CHECK ((ended_on IS NULL) = (ended_by IS NULL))
);
CREATE INDEX subject_access_pauses_request ON subject_access_pauses (request_id, started_on);
CREATE UNIQUE INDEX subject_access_pauses_one_open ON subject_access_pauses (request_id)
    WHERE ended_on IS NULL;

-- Each item of the record decided for a request: disclose, redact (the passages to remove),
-- withhold (a coded reason). `detail` (the passages, the reason's words) is sealed under the
-- child's key of the item's class (`sealed_class`), so destroying that class destroys the
-- decision's quotations too. Readable: the item, the decision, the reason's code, who decided.
CREATE TABLE subject_access_items (
    request_id TEXT NOT NULL REFERENCES subject_access_requests (id),
    item_kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    decision TEXT NOT NULL CONSTRAINT subject_access_items_decision_known
        CHECK (decision IN ('disclose', 'redact', 'withhold')),
    reason TEXT CONSTRAINT subject_access_items_reason_known CHECK (reason IS NULL OR reason IN (
        'serious-harm', 'third-party', 'given-in-confidence', 'child-abuse-data',
        'legal-privilege', 'other')),
    sealed_class TEXT NOT NULL CONSTRAINT subject_access_items_class_known
        CHECK (sealed_class IN ('identity', 'clinical', 'process-notes', 'safeguarding')),
    detail BLOB NOT NULL,
    decided_by TEXT NOT NULL REFERENCES users (id),
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, item_kind, item_id),
    -- A redaction or a withholding gives its reason; a disclosure needs none.
    CONSTRAINT subject_access_items_reason_given CHECK (
        (decision = 'disclose') = (reason IS NULL))
);
