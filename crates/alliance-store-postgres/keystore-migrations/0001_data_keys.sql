-- The key store: its own database, with its own (short) backup retention, so that destroying
-- a key makes what it sealed unreadable in every backup of the main database once the key
-- store's backups have aged out. Data keys are stored only wrapped by the master key, which
-- is never in any database. Kept in step with the SQLite key store's migrations.
CREATE TABLE data_keys (
    -- A child's id, or 'service' for the service's own keys.
    owner TEXT NOT NULL,
    -- A record class (clinical, process-notes, safeguarding) or a service purpose.
    class TEXT NOT NULL,
    key_version BIGINT NOT NULL,
    master_version BIGINT NOT NULL,
    -- Empty once the key has been destroyed.
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    destroyed_at BIGINT,
    PRIMARY KEY (owner, class)
);
CREATE INDEX data_keys_master ON data_keys (master_version);
