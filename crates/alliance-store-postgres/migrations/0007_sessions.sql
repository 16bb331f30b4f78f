-- The regular frame: each case's regular weekly slot, the therapy sessions booked for it (by
-- the slot, or by hand), and the history of changes to the frame. Kept in step with
-- alliance-store-sqlite/migrations/0007_sessions.sql.
-- Civil dates are TEXT 'YYYY-MM-DD' and wall-clock times TEXT 'HH:MM' (Europe/London, as
-- agreed with the family: a weekly 15:30 stays 15:30 across the clock changes); instants are
-- BIGINT microseconds. A reason given for a change or an absence is stored only sealed (the
-- child's identity key). The table of sessions is `therapy_sessions`: `sessions` holds the
-- sign-in sessions.

-- A case's regular slot: every weekday at start for minutes, from from_date until until_date
-- (inclusive), in a room with a therapist, following a term calendar.
CREATE TABLE regular_slots (
    case_id TEXT NOT NULL REFERENCES cases (id),
    calendar_id TEXT NOT NULL REFERENCES term_calendars (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    therapist_id TEXT NOT NULL REFERENCES users (id),
    weekday TEXT NOT NULL CONSTRAINT regular_slots_weekday CHECK (weekday IN
        ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')),
    start TEXT NOT NULL,
    minutes BIGINT NOT NULL CONSTRAINT regular_slots_minutes CHECK (minutes BETWEEN 5 AND 240),
    from_date TEXT NOT NULL,
    until_date TEXT,
    version BIGINT NOT NULL CONSTRAINT regular_slots_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (case_id),
    CONSTRAINT regular_slots_dates CHECK (until_date IS NULL OR until_date >= from_date)
);

-- A session booked: a room for a therapist with a child at a London date and time. A session
-- cancelled (by the child or family, the school or the therapist) frees its room and its
-- therapist; one the child did not attend does not (the room was held, the therapist waited).
CREATE TABLE therapy_sessions (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    therapist_id TEXT NOT NULL REFERENCES users (id),
    date TEXT NOT NULL,
    start TEXT NOT NULL,
    minutes BIGINT NOT NULL CONSTRAINT therapy_sessions_minutes CHECK (minutes BETWEEN 5 AND 240),
    -- Made by the regular slot (not added or moved by hand).
    regular BOOLEAN NOT NULL,
    attendance TEXT CONSTRAINT therapy_sessions_attendance CHECK (attendance IS NULL OR
        attendance IN ('attended', 'late', 'did-not-attend', 'cancelled-by-child-or-family',
            'cancelled-by-school', 'cancelled-by-therapist')),
    late_minutes BIGINT,
    -- Sealed under the child's identity key.
    reason BYTEA,
    cancelled BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT therapy_sessions_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT therapy_sessions_late CHECK ((attendance = 'late' AND late_minutes BETWEEN 1 AND 240)
        OR ((attendance IS NULL OR attendance <> 'late') AND late_minutes IS NULL)),
    CONSTRAINT therapy_sessions_cancelled CHECK ((attendance IS NULL AND cancelled = FALSE)
        OR (attendance IS NOT NULL AND cancelled = (attendance IN
            ('cancelled-by-child-or-family', 'cancelled-by-school', 'cancelled-by-therapist'))))
);
CREATE INDEX therapy_sessions_room_day ON therapy_sessions (room_id, date);
CREATE INDEX therapy_sessions_therapist_day ON therapy_sessions (therapist_id, date);
CREATE INDEX therapy_sessions_case ON therapy_sessions (case_id, date, start);

-- The frame's history: a slot set, a session moved, added or cancelled, by whom, when and why.
CREATE TABLE frame_changes (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    what TEXT NOT NULL CONSTRAINT frame_changes_what CHECK (what IN
        ('slot-set', 'moved', 'added', 'cancelled')),
    -- No foreign key: a planned session is deleted when its slot is replaced.
    session_id TEXT,
    by_id TEXT NOT NULL REFERENCES users (id),
    -- Sealed under the child's identity key.
    reason BYTEA NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX frame_changes_case ON frame_changes (case_id, at);
