-- Safeguarding concerns about children and allegations against staff: drafts (their author's
-- alone), then submitted and sealed; what happens next is appended as steps, corrections and
-- what is learnt later as addenda, other children involved as links. Kept in step with
-- alliance-store-sqlite/migrations/0014_safeguarding.sql.
-- Instants are BIGINT microseconds. What a concern, a step and an addendum say is stored only
-- sealed, under the key `sealed_under` names (the child's safeguarding key, the service key
-- `safeguarding-intake` before the DSL has matched a looked-up child, or the service key
-- `allegations`), bound to its table, column and row: concerns.content, concerns.lookup (the
-- child as typed at a look-up, always under the intake key), concern_steps.detail and
-- concern_addenda.content. Readable on purpose: ids, the kind, the status, the urgency, the
-- sealing and the instants, which the queues and the access rules need without a key.
-- Once submitted, a concern is sealed by the database itself, whatever the route: the
-- triggers below refuse its deletion and every change but the DSL's one matching of a
-- looked-up child; steps, addenda and links are never changed or removed. The server's role
-- is granted neither UPDATE nor DELETE on steps, addenda and links, nor TRUNCATE on any of
-- the four (a row trigger does not see a TRUNCATE).

CREATE TABLE concerns (
    id TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT concerns_kind_known CHECK (kind IN ('concern', 'allegation')),
    status TEXT NOT NULL
        CONSTRAINT concerns_status_known CHECK (status IN ('draft', 'submitted')),
    -- NULL until the DSL matches a concern raised by look-up.
    child_id TEXT REFERENCES children (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    -- For an allegation: the member of staff it is about.
    subject_user_id TEXT REFERENCES users (id),
    -- The session it was raised from, if any.
    session_id TEXT REFERENCES therapy_sessions (id),
    -- Is the child in immediate danger: fixed at submission.
    urgent BOOLEAN NOT NULL,
    sealed_under TEXT NOT NULL
        CONSTRAINT concerns_sealed_under_known CHECK (sealed_under IN ('child', 'intake', 'allegations')),
    content BYTEA NOT NULL,
    lookup BYTEA,
    version BIGINT NOT NULL CONSTRAINT concerns_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT concerns_submission_complete CHECK ((status = 'submitted') = (submitted_at IS NOT NULL)),
    CONSTRAINT concerns_subject_of_allegation CHECK ((kind = 'allegation') = (subject_user_id IS NOT NULL)),
    CONSTRAINT concerns_child_key_has_child CHECK (sealed_under <> 'child' OR child_id IS NOT NULL)
);
-- What one person raised, newest first.
CREATE INDEX concerns_author ON concerns (author_id, created_at DESC);
CREATE INDEX concerns_child ON concerns (child_id);
-- The DSL's queues: submitted, of a kind, by when.
CREATE INDEX concerns_queue ON concerns (kind, status, submitted_at);

-- Other children a concern involves.
CREATE TABLE concern_links (
    concern_id TEXT NOT NULL REFERENCES concerns (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    linked_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (concern_id, child_id)
);
CREATE INDEX concern_links_child ON concern_links (child_id);

-- What was done about a submitted concern, oldest first.
CREATE TABLE concern_steps (
    id TEXT NOT NULL,
    concern_id TEXT NOT NULL REFERENCES concerns (id),
    kind TEXT NOT NULL CONSTRAINT concern_steps_kind_known CHECK (kind IN ('acknowledged',
        'matched', 'linked-child', 'emergency-call', 'school-dsl-told', 'statutory-report',
        'designated-officer-referral')),
    actor_id TEXT NOT NULL REFERENCES users (id),
    sealed_under TEXT NOT NULL
        CONSTRAINT concern_steps_sealed_under_known CHECK (sealed_under IN ('child', 'intake', 'allegations')),
    detail BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX concern_steps_concern ON concern_steps (concern_id, created_at);

-- Corrections and what was learnt later, with the reason, oldest first.
CREATE TABLE concern_addenda (
    id TEXT NOT NULL,
    concern_id TEXT NOT NULL REFERENCES concerns (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    sealed_under TEXT NOT NULL
        CONSTRAINT concern_addenda_sealed_under_known CHECK (sealed_under IN ('child', 'intake', 'allegations')),
    content BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX concern_addenda_concern ON concern_addenda (concern_id, created_at);

-- A submitted concern is never deleted, and changes once only: the DSL matches a looked-up
-- child (child_id from NULL, the content re-sealed under that child's key, the sealing,
-- version and updated_at with it), and nothing else moves. A draft may change or go.
-- IS NOT DISTINCT FROM compares NULLs as values, so no comparison here is ever unknown.
CREATE FUNCTION concerns_refuse_sealed_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'submitted' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a submitted concern is sealed: it cannot be deleted';
    END IF;
    IF NOT (
        OLD.child_id IS NULL AND NEW.child_id IS NOT NULL
        AND NEW.id IS NOT DISTINCT FROM OLD.id
        AND NEW.kind IS NOT DISTINCT FROM OLD.kind
        AND NEW.status IS NOT DISTINCT FROM OLD.status
        AND NEW.author_id IS NOT DISTINCT FROM OLD.author_id
        AND NEW.subject_user_id IS NOT DISTINCT FROM OLD.subject_user_id
        AND NEW.session_id IS NOT DISTINCT FROM OLD.session_id
        AND NEW.urgent IS NOT DISTINCT FROM OLD.urgent
        AND NEW.lookup IS NOT DISTINCT FROM OLD.lookup
        AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
        AND NEW.submitted_at IS NOT DISTINCT FROM OLD.submitted_at
    ) THEN
        RAISE EXCEPTION 'a submitted concern is sealed: add an addendum';
    END IF;
    RETURN NEW;
END
$$;

-- Steps, addenda and links: appended, never changed or removed.
CREATE FUNCTION concern_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: a concern''s steps, addenda and linked children are append-only', TG_TABLE_NAME;
END
$$;

CREATE TRIGGER concerns_sealed_no_delete BEFORE DELETE ON concerns
    FOR EACH ROW EXECUTE FUNCTION concerns_refuse_sealed_change();
CREATE TRIGGER concerns_sealed_no_update BEFORE UPDATE ON concerns
    FOR EACH ROW EXECUTE FUNCTION concerns_refuse_sealed_change();
CREATE TRIGGER concern_links_no_update BEFORE UPDATE ON concern_links
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
CREATE TRIGGER concern_links_no_delete BEFORE DELETE ON concern_links
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
CREATE TRIGGER concern_steps_no_update BEFORE UPDATE ON concern_steps
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
CREATE TRIGGER concern_steps_no_delete BEFORE DELETE ON concern_steps
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
CREATE TRIGGER concern_addenda_no_update BEFORE UPDATE ON concern_addenda
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
CREATE TRIGGER concern_addenda_no_delete BEFORE DELETE ON concern_addenda
    FOR EACH ROW EXECUTE FUNCTION concern_refuse_change();
