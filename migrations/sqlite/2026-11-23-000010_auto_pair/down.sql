DROP TABLE auto_pair;
ALTER TABLE participants DROP COLUMN answers;
