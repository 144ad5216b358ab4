-- Program steps and their deliveries (one per step and person, at most).
CREATE TABLE steps (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    viewer_type TEXT NOT NULL,
    action_type TEXT NOT NULL,
    link_url TEXT,
    publish_type TEXT NOT NULL,
    -- scheduled: the local wall time the admin chose, and the instant it means in the program's zone.
    scheduled_for TIMESTAMP,
    publish_at TIMESTAMP,
    -- triggered: what, how long after, and whether participants from before the step count.
    trigger_name TEXT,
    delay_amount INTEGER,
    delay_unit TEXT,
    include_existing BOOLEAN NOT NULL DEFAULT FALSE,
    due_date DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX steps_by_program ON steps (program_id, id);

CREATE TABLE step_deliveries (
    step_id TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The step's organisation, for tenant-scoped reads; the step's foreign key already ties the
    -- delivery to it (one check fewer per row when a step reaches 50,000 people).
    organization_id TEXT NOT NULL,
    delivered_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    completed_at TIMESTAMP,
    missed_at TIMESTAMP,
    PRIMARY KEY (step_id, person_id)
);
CREATE INDEX step_deliveries_feed ON step_deliveries (person_id, delivered_at);

-- A notification belongs to its organisation through its person (whose foreign key cascades);
-- the second check cost a lookup per row when a step notifies 50,000 people at once.
ALTER TABLE notifications DROP CONSTRAINT notifications_organization_id_fkey;
