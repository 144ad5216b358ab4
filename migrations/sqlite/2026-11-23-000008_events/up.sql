-- What happened in an organisation, stored before anything reacts to it (automations match
-- these). One row per cause: the dedupe key names it (an integration's idempotency key, or
-- Cohort's own cause such as "step.missed:<step>:<person>").
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    program_id TEXT REFERENCES programs (id) ON DELETE CASCADE,
    person_id TEXT REFERENCES people (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    occurred_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_by_organization ON events (organization_id, id);
