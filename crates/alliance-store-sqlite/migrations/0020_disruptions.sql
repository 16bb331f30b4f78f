-- Kept in step with alliance-store-postgres/migrations/0020_disruptions.sql.
-- Disruptions to sessions, incidents in them, and their addenda (issue 16). Instants are
-- BIGINT microseconds. A site's emergency procedures and daily cover are directory data kept
-- as one settings document per site (`site-emergency:{site id}`), so they need no table here.

-- A disruption: about a room and a session, never about the child. No child id: the report
-- reads this table alone (with the sessions held) and can name no child. The note is plain,
-- short and optional (users are told not to name children). Never deleted: a mistaken one is
-- withdrawn by its author and left out of the report.
CREATE TABLE session_disruptions (
    id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES therapy_sessions (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- The session's date, YYYY-MM-DD (Europe/London), for the report's period.
    date TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT session_disruptions_kind_known CHECK (
        kind IN ('knock', 'noise', 'alarm', 'room', 'cut-short', 'phone', 'other')),
    minutes BIGINT NOT NULL CONSTRAINT session_disruptions_minutes_range CHECK (
        minutes >= 0 AND minutes <= 240),
    note TEXT,
    logged_by TEXT NOT NULL REFERENCES users (id),
    logged_at BIGINT NOT NULL,
    withdrawn_by TEXT REFERENCES users (id),
    withdrawn_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT session_disruptions_note_short CHECK (note IS NULL OR length(note) <= 200),
    CONSTRAINT session_disruptions_withdrawal_complete CHECK (
        (withdrawn_by IS NULL) = (withdrawn_at IS NULL))
);
-- A session's own list.
CREATE INDEX session_disruptions_session ON session_disruptions (session_id, logged_at);
-- The report: a period, optionally one site.
CREATE INDEX session_disruptions_date ON session_disruptions (date, site_id);

-- An incident: clinical record. Everything it says is sealed under the child's clinical key
-- (bound to this table, column and row). Readable on purpose: the child and case (the gate),
-- the session (the session's links), the concern it is linked to (the DSL reads only linked
-- incidents, decided without a key), who recorded it and when. Never changed once written:
-- corrections are addenda.
CREATE TABLE incidents (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    session_id TEXT REFERENCES therapy_sessions (id),
    concern_id TEXT REFERENCES concerns (id),
    content BLOB NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
-- A child's incidents, newest first.
CREATE INDEX incidents_child ON incidents (child_id, recorded_at);

-- A correction to an incident, with its reason (sealed together under the child's clinical
-- key). Never changed once written.
CREATE TABLE incident_addenda (
    id TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    content BLOB NOT NULL,
    written_by TEXT NOT NULL REFERENCES users (id),
    written_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX incident_addenda_incident ON incident_addenda (incident_id, written_at);
