ALTER TABLE programs DROP COLUMN participant_editable_attributes;
ALTER TABLE people DROP COLUMN photo_url;
