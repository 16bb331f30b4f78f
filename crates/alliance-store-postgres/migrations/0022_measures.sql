-- The measure library (issue 17, helper A). Kept in step with
-- alliance-store-sqlite/migrations/0022_measures.sql. Instants are BIGINT microseconds.

-- A definition a service added (shipped ones live in the binary). Each (id, version) is
-- written once and never changed: a measure in use changes only by a new version. The
-- definition is kept as validated, canonical JSON, beside the text as it was pasted.
CREATE TABLE measure_definitions (
    measure_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    respondent TEXT NOT NULL,
    definition TEXT NOT NULL,
    source_text TEXT NOT NULL,
    added_by TEXT NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (measure_id, version),
    CONSTRAINT measure_definitions_version CHECK (version > 0),
    CONSTRAINT measure_definitions_respondent CHECK (respondent IN ('child', 'carer', 'therapist'))
);

-- A licensed measure's wording, loaded by the service from its own file: one per definition
-- version (shipped or added); loading again replaces it.
CREATE TABLE measure_wordings (
    measure_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    wording TEXT NOT NULL,
    loaded_by TEXT NOT NULL REFERENCES users (id),
    loaded_at BIGINT NOT NULL,
    PRIMARY KEY (measure_id, version)
);
