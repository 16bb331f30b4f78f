-- The service's settings, one validated JSON document per name (`frame-policy`: how children
-- are prepared for breaks and endings, and what calendar feeds say). Not confidential.
-- Kept in step with the other engine's 0008_settings.sql.
CREATE TABLE settings (
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    version BIGINT NOT NULL CONSTRAINT settings_version_positive CHECK (version >= 1),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name)
);
