ALTER TABLE automations DROP COLUMN webhook_secret;
