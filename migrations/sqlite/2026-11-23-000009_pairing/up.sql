-- Pairing of mentees and mentors: settings per program, requests, pairings.
CREATE TABLE pairing_settings (
    program_id TEXT PRIMARY KEY NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    process TEXT NOT NULL,
    mentor_capacity INTEGER NOT NULL,
    request_expiry_days INTEGER NOT NULL,
    remind_before_expiry BOOLEAN NOT NULL DEFAULT 1,
    unresponsive_days INTEGER NOT NULL,
    -- The launch checklist items an admin marked done (a JSON array of keys).
    checklist_done TEXT NOT NULL DEFAULT '[]',
    enabled BOOLEAN NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);

-- A mentor's own capacity, when it differs from the program's.
ALTER TABLE participants ADD COLUMN capacity INTEGER;

CREATE TABLE mentor_requests (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    mentee_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    mentor_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    decline_message TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    decided_at TIMESTAMP
);
-- A mentee holds at most one open request per program.
CREATE UNIQUE INDEX mentor_requests_one_open ON mentor_requests (program_id, mentee_id) WHERE status = 'open';
CREATE INDEX mentor_requests_by_program ON mentor_requests (program_id, id);

CREATE TABLE pairings (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    mentee_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    mentor_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    request_id TEXT REFERENCES mentor_requests (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT
);
-- A mentee is never paired twice in a program at once.
CREATE UNIQUE INDEX pairings_one_active ON pairings (program_id, mentee_id) WHERE ended_at IS NULL;
CREATE INDEX pairings_by_mentor ON pairings (program_id, mentor_id);

-- Invitations to choose a mentor: when a mentee was first and last invited (a cooldown keeps
-- a second invitation from following too soon).
CREATE TABLE pairing_invitations (
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    mentee_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    first_sent_at TIMESTAMP NOT NULL,
    last_sent_at TIMESTAMP NOT NULL,
    times INTEGER NOT NULL,
    PRIMARY KEY (program_id, mentee_id)
);
