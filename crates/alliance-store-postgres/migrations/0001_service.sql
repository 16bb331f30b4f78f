-- The service that runs this Alliance database (one database holds one service): a single
-- row once set up. Kept in step with alliance-store-sqlite/migrations/0001_service.sql.
-- Conventions for every table, on both engines: ids are TEXT (UUIDs), instants are BIGINT
-- microseconds since the Unix epoch (UTC), and every CHECK constraint is named.
CREATE TABLE service (
    id BIGINT NOT NULL CONSTRAINT service_singleton CHECK (id = 1),
    name TEXT NOT NULL,
    nation TEXT NOT NULL
        CONSTRAINT service_nation CHECK (nation IN ('england', 'wales', 'scotland', 'northern-ireland')),
    is_demo BOOLEAN NOT NULL,
    version BIGINT NOT NULL CONSTRAINT service_version_positive CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id)
);
