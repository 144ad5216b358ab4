-- Auto-pair: questionnaire answers per participant, the admins' scoring rules per program and
-- the proposal waiting for confirmation.
ALTER TABLE participants ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';

CREATE TABLE auto_pair (
    program_id TEXT PRIMARY KEY NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- AutoPairRules as JSON.
    rules TEXT NOT NULL,
    -- The proposal (JSON) and its id; a new run or a change gives a new id.
    proposal_id TEXT,
    proposal TEXT,
    updated_at TIMESTAMP NOT NULL
);
