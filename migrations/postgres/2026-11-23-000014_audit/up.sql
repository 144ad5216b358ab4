-- The audit log: one row per admin write, written in the same transaction as the change.
-- Nothing updates these rows through the API; the retention job deletes old ones, and erasing a
-- person rewrites the summaries that named them.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    occurred_at TIMESTAMP NOT NULL,
    -- `dashboard`, `api_key` (any other client: integrations, scripts, mobile apps) or `system`.
    source TEXT NOT NULL,
    -- The person acting (null for the system); no foreign key, so the entry outlives a deleted person.
    actor_person_id TEXT,
    actor_api_key_id TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    -- JSON objects of the changed fields only, secrets left out; null when the object did not exist.
    before_summary TEXT,
    after_summary TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_org_id ON audit_log (organization_id, id);
CREATE INDEX audit_log_object ON audit_log (organization_id, object_type, object_id);
CREATE INDEX audit_log_occurred ON audit_log (organization_id, occurred_at);
ALTER TABLE organizations ADD COLUMN audit_retention_days INTEGER NOT NULL DEFAULT 365;
