-- The secret that signs an automation's "call a webhook" requests (Standard Webhooks, as webhook
-- endpoints' deliveries are signed). Automations made before get one here. SQLite has no base64:
-- hex digits are base64 digits too, so 48 of them decode to 36 bytes, 24 of them random.
ALTER TABLE automations ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
UPDATE automations SET webhook_secret = 'whsec_' || hex(randomblob(24));
