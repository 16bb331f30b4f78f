-- Tasks and notices, the rules' scheduled firings that raise them, comments on tasks, the
-- queue of nudges (a message telling someone their inbox has something new), and imported bank
-- holidays. Kept in step with alliance-store-sqlite/migrations/0005_tasks.sql.
-- Instants are BIGINT microseconds; civil dates TEXT 'YYYY-MM-DD'. Titles carry case numbers,
-- never names; a comment's text is stored only sealed.

-- What a change scheduled: a rule to fire at fire_at for a recipient (a user's id, or 'role:'
-- and a role's code). Claimed by one worker at a time (until claimed_until), fired once.
CREATE TABLE firings (
    id TEXT NOT NULL,
    rule TEXT NOT NULL,
    fire_at BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    -- No foreign key: the child may be destroyed after the firing was scheduled.
    subject_child TEXT,
    subject_type TEXT,
    subject_id TEXT,
    reference TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    fired_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT firings_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX firings_due ON firings (fired_at, fire_at);

CREATE TABLE tasks (
    id TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT tasks_kind CHECK (kind IN ('task', 'notice')),
    rule TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    subject_child TEXT,
    subject_type TEXT,
    subject_id TEXT,
    due_at BIGINT,
    -- How many steps of the rule's escalation ladder have been taken.
    escalation_level BIGINT NOT NULL DEFAULT 0,
    -- Completed (a task) or read (a notice), and by whom.
    done_at BIGINT,
    done_by TEXT REFERENCES users (id),
    version BIGINT NOT NULL CONSTRAINT tasks_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX tasks_owner ON tasks (owner_id, done_at, due_at);
CREATE INDEX tasks_overdue ON tasks (done_at, due_at);

CREATE TABLE task_comments (
    id TEXT NOT NULL,
    task_id TEXT NOT NULL REFERENCES tasks (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    -- Sealed under the service key 'task-comments'.
    text BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX task_comments_task ON task_comments (task_id, created_at);

-- One message to a person that something new is in their inbox, sent at or after not_before.
CREATE TABLE nudges (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    not_before BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id)
);
CREATE INDEX nudges_due ON nudges (sent_at, not_before);
-- One pending nudge per person, whichever process queues it.
CREATE UNIQUE INDEX nudges_one_pending ON nudges (user_id) WHERE sent_at IS NULL;

-- Bank holidays imported into this database (the shipped ones are in the binary).
CREATE TABLE bank_holidays (
    division TEXT NOT NULL,
    date TEXT NOT NULL,
    title TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (division, date)
);
