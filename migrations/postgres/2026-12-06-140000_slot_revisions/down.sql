DROP TABLE slot_revisions;
