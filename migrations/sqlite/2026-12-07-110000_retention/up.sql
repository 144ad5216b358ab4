-- How long each organisation keeps what grows with use; the hourly purge deletes what is older
-- (`crate::retention`). Rows without an organisation (Cohort's own jobs) use the same defaults.
ALTER TABLE organizations ADD COLUMN refresh_token_retention_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE organizations ADD COLUMN job_retention_days INTEGER NOT NULL DEFAULT 14;
ALTER TABLE organizations ADD COLUMN dead_job_retention_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE organizations ADD COLUMN webhook_delivery_retention_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE organizations ADD COLUMN email_delivery_retention_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE organizations ADD COLUMN event_retention_days INTEGER NOT NULL DEFAULT 365;

-- The purge finds one organisation's old rows through these instead of reading whole tables.
CREATE INDEX refresh_tokens_expired ON refresh_tokens (organization_id, expires_at);
CREATE INDEX refresh_tokens_revoked ON refresh_tokens (organization_id, revoked_at);
CREATE INDEX jobs_finished ON jobs (organization_id, status, finished_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (organization_id, created_at);
CREATE INDEX email_deliveries_sent ON email_deliveries (organization_id, sent_at);
CREATE INDEX events_created ON events (organization_id, created_at);
