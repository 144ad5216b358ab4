-- The revision of each organisation's free slots. Every write that may change an answer of
-- GET /services/{id}/slots (providers, their availability and certifications; a service's rules;
-- a person's name, bio or zone; the organisation's zone) adds one in its own transaction
-- (booking::repo::slots_changed), so a process holding an answer cached at an older revision
-- knows it is stale, whichever process wrote. No row: revision 0.
CREATE TABLE slot_revisions (
    organization_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL
);
-- Bookings made, moved or cancelled add one to their provider's own revision instead, so on
-- PostgreSQL bookings of different providers never wait for each other's commit on one row.
-- An answer is cached under its organisation's revision and the sum of its certified providers'.
ALTER TABLE providers ADD COLUMN slot_revision BIGINT NOT NULL DEFAULT 0;
