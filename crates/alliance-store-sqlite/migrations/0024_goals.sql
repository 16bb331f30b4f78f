-- The child's own goals and their ratings (issue 17, helper C). Kept in step with
-- alliance-store-postgres/migrations/0024_goals.sql. Instants are BIGINT microseconds.

-- A goal of the child's (goal-based outcomes): at most three open on a case at once, each
-- holding one of the case's slots 1 to 3 (a slot is freed when the goal is closed, so the
-- unique (case, slot) pair settles two writers at once). Who set it and when are readable
-- (no content); the words are in goal_wordings, sealed. Closing sets the status (reached or
-- put aside) and the date; a goal is never deleted. Changed at an optimistic version.
CREATE TABLE goals (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    slot BIGINT,
    set_by TEXT NOT NULL,
    set_on TEXT NOT NULL,
    status TEXT NOT NULL,
    closed_on TEXT,
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT goals_case_slot UNIQUE (case_id, slot),
    CONSTRAINT goals_slot CHECK (slot IS NULL OR (slot >= 1 AND slot <= 3)),
    CONSTRAINT goals_set_by CHECK (set_by IN ('child', 'child-with-therapist', 'carer')),
    CONSTRAINT goals_status CHECK (status IN ('open', 'reached', 'put-aside')),
    CONSTRAINT goals_open CHECK (
        (status = 'open' AND slot IS NOT NULL AND closed_on IS NULL)
        OR (status <> 'open' AND slot IS NULL AND closed_on IS NOT NULL)
    ),
    CONSTRAINT goals_version CHECK (version >= 1)
);
CREATE INDEX goals_child ON goals (child_id, created_at);

-- Each wording of a goal, one row a version: rewording adds a row and the earlier words
-- stay. The words are stored only sealed under the child's clinical key (bound to this
-- table, column and row).
CREATE TABLE goal_wordings (
    id TEXT NOT NULL,
    goal_id TEXT NOT NULL REFERENCES goals (id),
    number BIGINT NOT NULL,
    content BLOB NOT NULL,
    written_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT goal_wordings_goal_number UNIQUE (goal_id, number),
    CONSTRAINT goal_wordings_number CHECK (number >= 1)
);

-- A rating of a goal, 0 to 10, optionally in a session. The value and who rated it are
-- stored only sealed under the child's clinical key (bound to this table, column and row).
-- Ratings are appended, never changed.
CREATE TABLE goal_ratings (
    id TEXT NOT NULL,
    goal_id TEXT NOT NULL REFERENCES goals (id),
    session_id TEXT REFERENCES therapy_sessions (id),
    rated_on TEXT NOT NULL,
    content BLOB NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX goal_ratings_goal ON goal_ratings (goal_id, created_at);
