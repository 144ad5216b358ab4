-- A person's photo (an https address), shown where their name is; set by admins or by themselves.
ALTER TABLE people ADD COLUMN photo_url TEXT;
-- The attribute keys a program's participants may change on their own profile (PATCH /me), as a
-- JSON array of strings. Empty: only admins change attributes.
ALTER TABLE programs ADD COLUMN participant_editable_attributes TEXT NOT NULL DEFAULT '[]';
