-- Calendar feeds: each person's sessions as an iCalendar document at a private address that
-- their calendar program subscribes to. The address holds a secret token; only its SHA-256 is
-- kept (like API tokens), so a copy of the database opens no feed. One live feed per person:
-- a new one revokes the old, and a password change, a change of roles or deactivation revokes
-- it with the person's sessions and tokens. Not confidential: ids and times only.
-- Kept in step with the other engine's 0009_calendar_feeds.sql.
CREATE TABLE calendar_feeds (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (id),
    CONSTRAINT calendar_feeds_token_hash_key UNIQUE (token_hash)
);
CREATE UNIQUE INDEX calendar_feeds_one_live ON calendar_feeds (user_id) WHERE revoked_at IS NULL;
