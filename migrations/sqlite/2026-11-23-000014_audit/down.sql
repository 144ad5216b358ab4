ALTER TABLE organizations DROP COLUMN audit_retention_days;
DROP TABLE audit_log;
