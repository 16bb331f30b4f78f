-- The directory (sites and their rooms), children, their carers, cases and case teams.
-- Kept in step with alliance-store-postgres/migrations/0004_children.sql.
-- Civil dates are TEXT 'YYYY-MM-DD' (they sort and compare as dates); instants are BIGINT
-- microseconds. A child's identity, a carer's details, a referral reason and a closing summary
-- are stored only sealed (bound to their table, column and row); the NHS number and UPN only as
-- keyed hashes, so duplicates are found without storing the identifiers readably.

-- Case numbers come from the service row: taking one locks the row, so numbers are never
-- given twice, whichever process asks.
ALTER TABLE service ADD COLUMN next_case_number BIGINT NOT NULL DEFAULT 1;

CREATE TABLE sites (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT sites_kind CHECK (kind IN ('school', 'clinic', 'community')),
    address TEXT,
    phone TEXT,
    out_of_hours TEXT,
    school_dsl_name TEXT,
    school_dsl_contact TEXT,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT sites_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT sites_name_key UNIQUE (name)
);

CREATE TABLE rooms (
    id TEXT NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    capacity BIGINT NOT NULL CONSTRAINT rooms_capacity CHECK (capacity BETWEEN 1 AND 200),
    step_free BOOLEAN NOT NULL,
    accessibility_notes TEXT,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT rooms_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT rooms_site_name_key UNIQUE (site_id, name)
);

CREATE TABLE children (
    id TEXT NOT NULL,
    -- The child's details, sealed under the child's identity key.
    details BLOB NOT NULL,
    -- Keyed hashes of the NHS number and the UPN.
    nhs_lookup TEXT,
    upn_lookup TEXT,
    version BIGINT NOT NULL CONSTRAINT children_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT children_nhs_lookup_key UNIQUE (nhs_lookup),
    CONSTRAINT children_upn_lookup_key UNIQUE (upn_lookup)
);

CREATE TABLE carers (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    -- The carer's details, sealed under the child's identity key.
    details BLOB NOT NULL,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT carers_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX carers_child ON carers (child_id);

CREATE TABLE cases (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    number BIGINT NOT NULL,
    referral_source TEXT NOT NULL CONSTRAINT cases_referral_source CHECK (referral_source IN
        ('school', 'gp', 'parent-or-carer', 'self', 'social-care', 'camhs', 'other')),
    referral_received TEXT NOT NULL,
    first_seen TEXT,
    -- Sealed under the child's clinical key.
    referral_reason BLOB,
    closed_on TEXT,
    closure_reason TEXT CONSTRAINT cases_closure_reason CHECK (closure_reason IS NULL OR
        closure_reason IN ('planned-ending', 'planned-transfer', 'disengaged',
            'consent-withdrawn', 'moved-away', 'other-unplanned')),
    -- Sealed under the child's clinical key.
    closing_summary BLOB,
    version BIGINT NOT NULL CONSTRAINT cases_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT cases_number_key UNIQUE (number),
    CONSTRAINT cases_closure_complete CHECK ((closed_on IS NULL) = (closure_reason IS NULL))
);
-- A child has at most one open case: a re-referral opens a new one after the last closed.
CREATE UNIQUE INDEX cases_one_open ON cases (child_id) WHERE closed_on IS NULL;
CREATE INDEX cases_child ON cases (child_id, number);

-- Who works on a case, from starts_on until the day before ends_on.
CREATE TABLE case_members (
    id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CONSTRAINT case_members_role CHECK (role IN
        ('lead', 'co-worker', 'parent-worker', 'cover')),
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT case_members_dates CHECK (ends_on IS NULL OR ends_on > starts_on)
);
CREATE INDEX case_members_case ON case_members (case_id);
CREATE INDEX case_members_user ON case_members (user_id, case_id);
