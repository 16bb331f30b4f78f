-- Children's emergency details and safety plans (issue 16). Kept in step with
-- alliance-store-postgres/migrations/0021_emergency.sql. Instants are BIGINT microseconds.

-- A child's emergency details beyond their carers (who may collect is on each carer, in
-- carers.details): medical needs, allergies, medication kept on site, the GP, and people who
-- may not collect who are not carers. One row a child, stored only sealed under the child's
-- identity key (bound to this table, column and the child's id). Changed in place with an
-- optimistic version.
CREATE TABLE emergency_details (
    child_id TEXT NOT NULL REFERENCES children (id),
    details BLOB NOT NULL,
    version BIGINT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (child_id),
    CONSTRAINT emergency_details_version CHECK (version >= 1)
);

-- A young person's safety plan, one row a version: a new version replaces the plan in use,
-- and the old ones stay. The plan (its sections, whom it was written with, when, and its
-- review date) is stored only sealed under the child's clinical key (bound to this table,
-- column and row). Versions count from 1 for each child; two people writing at once cannot
-- both write the same number.
CREATE TABLE safety_plans (
    id TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    number BIGINT NOT NULL,
    plan BLOB NOT NULL,
    written_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT safety_plans_child_number UNIQUE (child_id, number),
    CONSTRAINT safety_plans_number CHECK (number >= 1)
);
