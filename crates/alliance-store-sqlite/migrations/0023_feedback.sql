-- Feedback on single-use links and measure responses (issue 17). Kept in step with
-- alliance-store-postgres/migrations/0023_feedback.sql. Instants are BIGINT microseconds.

-- A single-use link: the child's kiosk link for one session (no carer), or a carer's link to
-- their version of a measure (carer_id set). The token is stored only as its SHA-256; the
-- link is spent by a conditional update in the transaction that records the response.
CREATE TABLE feedback_links (
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    session_id TEXT REFERENCES therapy_sessions (id),
    carer_id TEXT REFERENCES carers (id),
    respondent TEXT NOT NULL,
    measure_id TEXT NOT NULL,
    measure_version BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT feedback_links_token_hash_key UNIQUE (token_hash),
    CONSTRAINT feedback_links_expiry CHECK (expires_at > created_at),
    CONSTRAINT feedback_links_respondent CHECK (respondent IN ('child', 'carer', 'therapist')),
    CONSTRAINT feedback_links_carer CHECK ((respondent = 'carer') = (carer_id IS NOT NULL))
);
CREATE INDEX feedback_links_case ON feedback_links (case_id, created_at);

-- One response to one version of a measure: by the child (through a kiosk link), a carer
-- (through their link) or the therapist (on the session record). The answers and their score
-- are stored only sealed under the child's clinical key (bound to this table, column and
-- row). Responses are appended, never changed.
CREATE TABLE measure_responses (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    session_id TEXT REFERENCES therapy_sessions (id),
    respondent TEXT NOT NULL,
    carer_id TEXT REFERENCES carers (id),
    measure_id TEXT NOT NULL,
    measure_version BIGINT NOT NULL,
    link_id TEXT REFERENCES feedback_links (id),
    recorded_by TEXT REFERENCES users (id),
    given_at BIGINT NOT NULL,
    answers BLOB NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT measure_responses_respondent CHECK (respondent IN ('child', 'carer', 'therapist')),
    CONSTRAINT measure_responses_link_key UNIQUE (link_id)
);
CREATE INDEX measure_responses_child ON measure_responses (child_id, given_at);
CREATE INDEX measure_responses_session ON measure_responses (session_id);
