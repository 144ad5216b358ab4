DROP TABLE pairing_invitations;
DROP TABLE pairings;
DROP TABLE mentor_requests;
ALTER TABLE participants DROP COLUMN capacity;
DROP TABLE pairing_settings;
