-- Private process notes, contact logs and supervision records (issue 12).

CREATE TABLE process_notes (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    author TEXT NOT NULL REFERENCES users (id),
    -- Sealed under the child's process-notes key; read by its author alone.
    text BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX process_notes_author_child ON process_notes (author, child_id);

CREATE TABLE contact_logs (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    -- NULL: a contact with a professional.
    carer_id TEXT REFERENCES carers (id),
    kind TEXT NOT NULL CONSTRAINT contact_logs_kind_known CHECK (kind IN
        ('meeting', 'phone-call', 'video-call', 'message', 'email', 'letter')),
    contacted_on TEXT NOT NULL,
    overridden BOOLEAN NOT NULL,
    -- Sealed under the child's clinical key: who, what was shared and agreed, the basis, an
    -- override's reason.
    detail BYTEA NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT contact_logs_override_is_for_carers CHECK (overridden = FALSE OR carer_id IS NOT NULL)
);
CREATE INDEX contact_logs_case ON contact_logs (case_id);

CREATE TABLE supervisions (
    id TEXT NOT NULL,
    supervisor TEXT NOT NULL REFERENCES users (id),
    supervisee TEXT NOT NULL REFERENCES users (id),
    held_on TEXT NOT NULL,
    minutes BIGINT NOT NULL CONSTRAINT supervisions_minutes_bounded CHECK (minutes BETWEEN 5 AND 600),
    -- Case numbers (C00042), comma-separated: never a name.
    cases TEXT NOT NULL,
    is_group BOOLEAN NOT NULL,
    -- Sealed under the service key `supervision`: the actions agreed.
    actions BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX supervisions_supervisee ON supervisions (supervisee);
CREATE INDEX supervisions_supervisor ON supervisions (supervisor);
