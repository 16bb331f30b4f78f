-- Break-glass grants and the audit trail's indexes for its pages (issue 15). Kept in step
-- with alliance-store-sqlite/migrations/0016_break_glass.sql. Instants are BIGINT
-- microseconds.

-- A grant: one person's time-limited read of one child's record (policy section 1). Its
-- reason is stored only sealed (service key `break-glass`, bound to this table, column and
-- row). Readable on purpose: who, which child, from when until when, ended early, reviewed
-- by whom and when, which the child's gate and the review list need without a key. It ends
-- by the clock: no job changes a row when it expires. A grant is never deleted; its holder
-- may end it once, and a reviewer mark it reviewed once.
CREATE TABLE break_glass_grants (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    reason BYTEA NOT NULL,
    starts_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    -- From 15 minutes to 12 hours, whatever the service sets.
    CONSTRAINT break_glass_grants_duration CHECK (
        expires_at - starts_at >= 900000000 AND expires_at - starts_at <= 43200000000),
    CONSTRAINT break_glass_grants_ended_within CHECK (
        ended_at IS NULL OR (ended_at >= starts_at AND ended_at <= expires_at)),
    CONSTRAINT break_glass_grants_review_complete CHECK (
        (reviewed_by IS NULL) = (reviewed_at IS NULL))
);
-- The gate's question: does this person hold a grant for this child in force now?
CREATE INDEX break_glass_grants_user_child ON break_glass_grants (user_id, child_id, expires_at);
-- A person's own grants, newest first.
CREATE INDEX break_glass_grants_user ON break_glass_grants (user_id, starts_at);
-- The review list: not yet reviewed, or reviewed, newest first.
CREATE INDEX break_glass_grants_review ON break_glass_grants (reviewed_at, starts_at);

-- Never deleted; only the end (once) and the review (once) are ever set.
CREATE FUNCTION break_glass_grants_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a break-glass grant is kept: it cannot be deleted';
    END IF;
    IF NOT (
        NEW.id IS NOT DISTINCT FROM OLD.id
        AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id
        AND NEW.child_id IS NOT DISTINCT FROM OLD.child_id
        AND NEW.reason IS NOT DISTINCT FROM OLD.reason
        AND NEW.starts_at IS NOT DISTINCT FROM OLD.starts_at
        AND NEW.expires_at IS NOT DISTINCT FROM OLD.expires_at
        AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
        AND (OLD.ended_at IS NULL OR NEW.ended_at IS NOT DISTINCT FROM OLD.ended_at)
        AND (OLD.reviewed_at IS NULL
            OR (NEW.reviewed_at IS NOT DISTINCT FROM OLD.reviewed_at
                AND NEW.reviewed_by IS NOT DISTINCT FROM OLD.reviewed_by))
    ) THEN
        RAISE EXCEPTION 'a break-glass grant only ends and is reviewed, once each';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER break_glass_grants_no_delete BEFORE DELETE ON break_glass_grants
    FOR EACH ROW EXECUTE FUNCTION break_glass_grants_refuse_change();
CREATE TRIGGER break_glass_grants_no_rewrite BEFORE UPDATE ON break_glass_grants
    FOR EACH ROW EXECUTE FUNCTION break_glass_grants_refuse_change();

-- The audit pages read newest first by child (audit_log_child) and by actor
-- (audit_log_actor), both (…, seq) since 0003_audit.sql; the administrators' view reads by
-- category, and its filter by action.
CREATE INDEX audit_log_category ON audit_log (category, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
