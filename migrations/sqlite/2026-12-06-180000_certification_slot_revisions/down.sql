ALTER TABLE providers ADD COLUMN slot_revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE certifications DROP COLUMN slot_revision;
