-- Idempotency keys: the first request with a key claims it (a pending row whose lease ends, so a
-- crash mid-request does not hold the key forever) and stores its response, which later requests
-- with the same key and body get back for 24 hours instead of writing again.
CREATE TABLE idempotency_keys (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Who sent it: a person's id, or "api-key:" and the key's id.
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the method, path and body: the same key with another request is refused.
    request_hash TEXT NOT NULL,
    -- Null while the first request runs.
    response_status INTEGER,
    response_content_type TEXT,
    response_location TEXT,
    response_body BYTEA,
    -- While the first request runs, others wait until then; after it, one may take the key over.
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, caller, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
