-- Automations: their definitions (each version kept, so an event meets the version in force when
-- it arrived), runs per (automation, event), each run's actions, the per-contact frequency
-- state, and badges.
CREATE TABLE automations (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    -- AutomationInput minus the name and state, as JSON.
    definition TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name)
);
CREATE INDEX automations_by_trigger ON automations (organization_id, trigger_type);

CREATE TABLE automation_versions (
    automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    PRIMARY KEY (automation_id, version)
);

CREATE TABLE automation_runs (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id TEXT,
    outcome TEXT NOT NULL,
    -- Each condition's outcome, as JSON.
    conditions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- One run per automation and event, however many workers race.
    UNIQUE (automation_id, event_id)
);
CREATE INDEX automation_runs_by_automation ON automation_runs (automation_id, id);
-- Matching looks up which automations an event already met.
CREATE INDEX automation_runs_by_event ON automation_runs (event_id);

CREATE TABLE automation_run_actions (
    run_id TEXT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    automation_id TEXT NOT NULL,
    -- The action as the run's version defined it, as JSON.
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    due_at TIMESTAMP,
    done_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX automation_run_actions_by_state ON automation_run_actions (automation_id, state);

-- When an automation last ran for a person: the row is locked while the frequency limit is checked.
CREATE TABLE automation_contacts (
    automation_id TEXT NOT NULL REFERENCES automations (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL,
    last_run_at TIMESTAMP,
    PRIMARY KEY (automation_id, person_id)
);

CREATE TABLE badges (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE person_badges (
    badge_id TEXT NOT NULL REFERENCES badges (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    awarded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (badge_id, person_id)
);
CREATE INDEX person_badges_by_person ON person_badges (person_id);
