-- The revision of each organisation's free slots. Every write that may change an answer of
-- GET /services/{id}/slots (bookings made, moved or cancelled; providers, their availability and
-- certifications; a service's rules; a person's name, bio or zone; the organisation's zone) adds
-- one in its own transaction (booking::repo::slots_changed), so a process holding an answer
-- cached at an older revision knows it is stale, whichever process wrote. No row: revision 0.
CREATE TABLE slot_revisions (
    organization_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL
);
