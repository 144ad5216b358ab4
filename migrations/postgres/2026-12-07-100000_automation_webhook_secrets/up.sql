-- The secret that signs an automation's "call a webhook" requests (Standard Webhooks, as webhook
-- endpoints' deliveries are signed). Automations made before get one here: 32 random bytes
-- (two version-4 UUIDs' worth of gen_random_uuid, which draws from a secure source), in base64.
ALTER TABLE automations ADD COLUMN webhook_secret TEXT;
UPDATE automations SET webhook_secret = 'whsec_' || encode(
    decode(replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'),
    'base64'
);
ALTER TABLE automations ALTER COLUMN webhook_secret SET NOT NULL;
