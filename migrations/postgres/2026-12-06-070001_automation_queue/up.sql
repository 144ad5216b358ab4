-- Events waiting to meet the automations: one row per stored event that an active automation
-- watches, added in the event's transaction. A matcher takes a batch of them (FOR UPDATE SKIP
-- LOCKED), matches them and deletes them in one transaction, so each event is matched once.
CREATE TABLE automation_queue (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE
);
-- Match jobs queued before the queue existed move to it.
INSERT INTO automation_queue (event_id)
SELECT DISTINCT payload::json ->> 'event_id' FROM jobs
WHERE kind = 'automation.match' AND status IN ('queued', 'running')
  AND payload::json ->> 'event_id' IN (SELECT id FROM events);
DELETE FROM jobs WHERE kind = 'automation.match' AND status IN ('queued', 'running');
