-- An organisation's own wording of an email; without a row the built-in default applies.
CREATE TABLE email_templates (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    template_key TEXT NOT NULL,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, template_key)
);

-- One row per email handed to the transport: the delivery key is checked before sending,
-- so a job that runs again does not send the same message twice.
CREATE TABLE email_deliveries (
    delivery_key TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    transport TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
