-- The explanation library: each service's versions of the texts that explain therapy,
-- confidentiality and its limits to children, young people and their parents and carers
-- (the Alliance defaults ship in the binary and are not stored). A version is never changed
-- once written, except to mark it reviewed or published: every version is kept, because the
-- record must show what a child was actually given. Not confidential: no child is named.
-- Kept in step with the other engine's 0010_explanations.sql.
CREATE TABLE explanation_versions (
    id TEXT NOT NULL,
    topic TEXT NOT NULL,
    -- The audience's code: 3-7, 8-11, 12-15, 16-25 or parents.
    audience TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'en-GB',
    -- False where the readability formulas do not apply (another language, easy-read).
    measured BOOLEAN NOT NULL,
    number BIGINT NOT NULL CONSTRAINT explanation_versions_number_positive CHECK (number >= 1),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- JSON: a list of picture descriptions.
    pictures TEXT NOT NULL,
    -- The version id it was copied from, or 'default' for the shipped text.
    based_on TEXT NOT NULL,
    review_state TEXT NOT NULL
        CONSTRAINT explanation_versions_review_state_known CHECK (review_state IN ('draft', 'reviewed')),
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at BIGINT,
    published BOOLEAN NOT NULL,
    published_at BIGINT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT explanation_versions_number_key UNIQUE (topic, audience, language, number),
    CONSTRAINT explanation_versions_review_complete CHECK (
        (review_state = 'draft' AND reviewed_by IS NULL AND reviewed_at IS NULL)
        OR (review_state = 'reviewed' AND reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)
    ),
    CONSTRAINT explanation_versions_publication_complete CHECK (
        (published AND published_at IS NOT NULL) OR (NOT published AND published_at IS NULL)
    )
);
