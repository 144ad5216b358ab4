-- One-time links sent by email: an invitation to set a first password, a password reset,
-- a mentor's answer to one request. Only the token's SHA-256 is kept.
CREATE TABLE link_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- invitation, password_reset or request_answer (cohort_domain::auth::LinkPurpose)
    purpose TEXT NOT NULL,
    -- What the link acts on besides the person: the mentor request, for request_answer.
    subject_id TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX link_tokens_by_person ON link_tokens (person_id, purpose);
CREATE INDEX link_tokens_expired ON link_tokens (organization_id, expires_at);
