-- Rooms described, materials, play kits, pre-session checklists and checks (issue 16). Kept in step with
-- alliance-store-postgres/migrations/0019_room_care.sql. Instants are BIGINT microseconds;
-- dates TEXT (YYYY-MM-DD). Nothing here holds anything about a child: it is directory data
-- (everyone who works here reads it, administrators write it), and a room check belongs to
-- a session by its id alone.

-- A room described: the arrangement in words, the labelled layout and what else uses the
-- room and when (JSON, checked by the core), and the room's own checklist when it has one
-- (JSON list; NULL: the service's checklist).
CREATE TABLE room_descriptions (
    room_id TEXT NOT NULL REFERENCES rooms (id),
    description TEXT NOT NULL,
    checklist TEXT,
    version BIGINT NOT NULL CONSTRAINT room_descriptions_version_positive CHECK (version >= 1),
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (room_id)
);

-- A play kit a therapist carries between sites.
CREATE TABLE play_kits (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    holder_id TEXT NOT NULL REFERENCES users (id),
    site_id TEXT REFERENCES sites (id),
    version BIGINT NOT NULL CONSTRAINT play_kits_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT play_kits_name_unique UNIQUE (name)
);
CREATE INDEX play_kits_holder ON play_kits (holder_id);

-- Where a kit went, when and by whom: appended, never changed.
CREATE TABLE play_kit_moves (
    id TEXT NOT NULL,
    kit_id TEXT NOT NULL REFERENCES play_kits (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    moved_on TEXT NOT NULL,
    moved_by TEXT NOT NULL REFERENCES users (id),
    moved_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX play_kit_moves_kit ON play_kit_moves (kit_id, moved_at);

-- A material, in one room or one kit, with its condition. The category is one of the
-- service's (a settings document); it is kept as written.
CREATE TABLE materials (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    room_id TEXT REFERENCES rooms (id),
    kit_id TEXT REFERENCES play_kits (id),
    quantity BIGINT CONSTRAINT materials_quantity_positive CHECK (quantity IS NULL OR quantity >= 1),
    condition TEXT NOT NULL CONSTRAINT materials_condition_known CHECK (
        condition IN ('good', 'needs-cleaning', 'needs-replacing', 'missing')),
    version BIGINT NOT NULL CONSTRAINT materials_version_positive CHECK (version >= 1),
    updated_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT materials_one_place CHECK (
        (room_id IS NULL AND kit_id IS NOT NULL) OR (room_id IS NOT NULL AND kit_id IS NULL))
);
CREATE INDEX materials_room ON materials (room_id);
CREATE INDEX materials_kit ON materials (kit_id);

-- A session's room check: one per session, each item ok or a problem with a short note
-- (JSON), and whether any was a problem (so a week's checks are read in one query).
CREATE TABLE room_checks (
    session_id TEXT NOT NULL REFERENCES therapy_sessions (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    items TEXT NOT NULL,
    problems BOOLEAN NOT NULL,
    checked_by TEXT NOT NULL REFERENCES users (id),
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (session_id)
);
