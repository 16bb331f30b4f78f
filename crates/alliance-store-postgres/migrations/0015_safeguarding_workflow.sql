-- The DSL's workflow after a concern's acknowledgement (issue 14): more kinds of step
-- (information gathered, the decision, referral, chasing, the outcome, closing, re-opening,
-- information sharing, and what is shared with a therapist on the child's case team, whose id
-- a `shared-with-team` step keeps readable so their list of it is found by it), and the
-- transfer of a child's safeguarding file to a new school. Kept in step with
-- alliance-store-sqlite/migrations/0015_safeguarding_workflow.sql.
-- Instants are BIGINT microseconds. The server's role keeps no UPDATE, DELETE or TRUNCATE on
-- concern_steps (the table is altered, not re-created, so its grants and its append-only
-- triggers stay as 0014_safeguarding.sql left them), and is granted neither DELETE nor
-- TRUNCATE on safeguarding_transfers.

ALTER TABLE concern_steps DROP CONSTRAINT concern_steps_kind_known;
ALTER TABLE concern_steps ADD CONSTRAINT concern_steps_kind_known CHECK (kind IN ('acknowledged',
    'matched', 'linked-child', 'emergency-call', 'school-dsl-told', 'statutory-report',
    'designated-officer-referral', 'information-gathered', 'decided', 'referred',
    'chased', 'outcome', 'closed', 'reopened', 'information-shared', 'shared-with-team'));
-- A `shared-with-team` step: the therapist it was shared with.
ALTER TABLE concern_steps ADD COLUMN shared_with TEXT REFERENCES users (id);
-- What was shared with one therapist, oldest first.
CREATE INDEX concern_steps_shared_with ON concern_steps (shared_with, created_at);

-- A transfer of a child's safeguarding file to a new school: started (pending), sent (the
-- passphrase-encrypted file made and handed over; it may be sent again, with a new file),
-- received (the new school confirmed; final). What it says is stored only sealed under the
-- child's safeguarding key, bound to its table, column and row: destination (the new school,
-- its DSL, the start), export (the encrypted file) and receipt (who confirmed, and how).
-- Readable on purpose: ids, the status, the deadline and the instants, which the task lists
-- need without a key. A transfer is never deleted, and once received never changes.
CREATE TABLE safeguarding_transfers (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    started_by TEXT NOT NULL REFERENCES users (id),
    destination BYTEA NOT NULL,
    -- The last moment the file may go.
    due_at BIGINT NOT NULL,
    counted_in TEXT NOT NULL
        CONSTRAINT safeguarding_transfers_counted_in_known CHECK (counted_in IN ('school-days', 'working-days')),
    status TEXT NOT NULL
        CONSTRAINT safeguarding_transfers_status_known CHECK (status IN ('pending', 'sent', 'received')),
    export BYTEA,
    sent_by TEXT REFERENCES users (id),
    sent_at BIGINT,
    receipt BYTEA,
    received_by TEXT REFERENCES users (id),
    received_at BIGINT,
    version BIGINT NOT NULL CONSTRAINT safeguarding_transfers_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    -- Sent (and received, which follows sending): the file, by whom and when, all three.
    CONSTRAINT safeguarding_transfers_sending_complete CHECK (
        (status <> 'pending') = (export IS NOT NULL)
        AND (status <> 'pending') = (sent_by IS NOT NULL)
        AND (status <> 'pending') = (sent_at IS NOT NULL)),
    CONSTRAINT safeguarding_transfers_receipt_complete CHECK (
        (status = 'received') = (receipt IS NOT NULL)
        AND (status = 'received') = (received_by IS NOT NULL)
        AND (status = 'received') = (received_at IS NOT NULL))
);
-- A child's transfers, newest first.
CREATE INDEX safeguarding_transfers_child ON safeguarding_transfers (child_id, created_at DESC);

-- Never deleted. Received is final; and whatever the status, a transfer stays the same
-- child's, started by the same person at the same time.
CREATE FUNCTION safeguarding_transfers_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a safeguarding file''s transfer is kept: it cannot be deleted';
    END IF;
    IF OLD.status = 'received' OR NOT (
        NEW.id IS NOT DISTINCT FROM OLD.id
        AND NEW.child_id IS NOT DISTINCT FROM OLD.child_id
        AND NEW.started_by IS NOT DISTINCT FROM OLD.started_by
        AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
    ) THEN
        RAISE EXCEPTION 'a received transfer is final, and a transfer stays the same child''s';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER safeguarding_transfers_no_delete BEFORE DELETE ON safeguarding_transfers
    FOR EACH ROW EXECUTE FUNCTION safeguarding_transfers_refuse_change();
CREATE TRIGGER safeguarding_transfers_no_update BEFORE UPDATE ON safeguarding_transfers
    FOR EACH ROW EXECUTE FUNCTION safeguarding_transfers_refuse_change();
