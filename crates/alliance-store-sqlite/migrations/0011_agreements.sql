-- Therapy agreements, consent and assent, the first-session checklist and consent links.
-- Kept in step with the other engine's 0011_agreements.sql.
-- Civil dates are TEXT 'YYYY-MM-DD'; instants are BIGINT microseconds. What was agreed and
-- what was said is stored only sealed under the child's clinical key, bound to its table,
-- column and row: agreements.content, consent_entries.detail and checklist_items.words.
-- Readable on purpose: ids, numbers, statuses, kinds, dates and codes, which the consent
-- rules and the lists need without a key. A consent link is kept only as the SHA-256 of its
-- token, so a copy of the database opens no link.

-- A case's agreement, one row per version. A version is never edited: a change is a new
-- version; only its status moves (draft, then active, then superseded when another version
-- becomes active).
CREATE TABLE agreements (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    number BIGINT NOT NULL CONSTRAINT agreements_number_positive CHECK (number >= 1),
    status TEXT NOT NULL
        CONSTRAINT agreements_status_known CHECK (status IN ('draft', 'active', 'superseded')),
    -- Sealed under the child's clinical key.
    content BLOB NOT NULL,
    -- The regular slot's version when the version was written (NULL: no slot then).
    slot_version BIGINT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    activated_by TEXT REFERENCES users (id),
    activated_at BIGINT,
    superseded_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT agreements_case_number UNIQUE (case_id, number),
    CONSTRAINT agreements_activation_complete CHECK ((activated_by IS NULL) = (activated_at IS NULL)),
    CONSTRAINT agreements_supersession_complete CHECK ((status = 'superseded') = (superseded_at IS NOT NULL))
);
-- At most one active version per case.
CREATE UNIQUE INDEX agreements_one_active ON agreements (case_id) WHERE status = 'active';

-- Consent, assent, objections, decisions and withdrawals, read in the order recorded.
CREATE TABLE consent_entries (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    kind TEXT NOT NULL CONSTRAINT consent_entries_kind_known CHECK (kind IN
        ('assent', 'dissent', 'dissent-discussed', 'judged-competent', 'judged-not-competent',
         'own-consent', 'own-refusal', 'parental-consent', 'parental-objection',
         'lead-proceeds', 'lead-does-not-proceed', 'court-order', 'withdrawal')),
    carer_id TEXT REFERENCES carers (id),
    agreement_id TEXT REFERENCES agreements (id),
    via TEXT NOT NULL CONSTRAINT consent_entries_via_known CHECK (via IN ('in-person', 'link')),
    given_on TEXT NOT NULL,
    -- Sealed under the child's clinical key: the words, the reasoning, what carers may be
    -- told, a typed name.
    detail BLOB NOT NULL,
    -- NULL: a carer, through a consent link.
    recorded_by TEXT REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT consent_entries_recorder CHECK (recorded_by IS NOT NULL OR via = 'link')
);
CREATE INDEX consent_entries_case ON consent_entries (case_id);

-- The first-session checklist: what was explained to whom, when and how.
CREATE TABLE checklist_items (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    topic TEXT NOT NULL,
    explained_on TEXT NOT NULL,
    -- Method codes, comma-separated (spoken, handout, drawing, story).
    methods TEXT NOT NULL,
    to_whom TEXT NOT NULL
        CONSTRAINT checklist_items_to_whom_known CHECK (to_whom IN ('child', 'parent', 'both')),
    library_version TEXT REFERENCES explanation_versions (id),
    -- The child's age band then (its code).
    band TEXT NOT NULL,
    revisit BOOLEAN NOT NULL,
    -- Sealed under the child's clinical key: what the child said back, what to revisit.
    words BLOB NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX checklist_items_child ON checklist_items (child_id);

-- Single-use links for a carer to give or refuse consent; spent in the transaction that
-- records the answer.
CREATE TABLE consent_links (
    id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    carer_id TEXT NOT NULL REFERENCES carers (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT consent_links_token_hash_key UNIQUE (token_hash),
    CONSTRAINT consent_links_expiry CHECK (expires_at > created_at)
);
CREATE INDEX consent_links_case ON consent_links (case_id);
