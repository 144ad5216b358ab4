ALTER TABLE providers DROP COLUMN slot_revision;
DROP TABLE slot_revisions;
