-- Term calendars: a school's or site's terms, half-terms, INSET days and closures, which
-- the regular weekly sessions follow. Kept as one validated document per calendar (terms and
-- closures are always read and written whole). Not confidential: a school's calendar is
-- public. Kept in step with the other engine's 0006_term_calendars.sql.
CREATE TABLE term_calendars (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The site whose calendar this is (one per site), or none for a shared one.
    site_id TEXT REFERENCES sites (id),
    -- JSON: {"terms": [...], "closures": [...]}, validated again whenever it is read.
    document TEXT NOT NULL,
    version BIGINT NOT NULL CONSTRAINT term_calendars_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT term_calendars_name_key UNIQUE (name),
    CONSTRAINT term_calendars_site_key UNIQUE (site_id)
);
