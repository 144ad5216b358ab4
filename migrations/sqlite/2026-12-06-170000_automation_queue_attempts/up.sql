-- A queued event whose matching keeps failing (a write that fails for it alone) is tried alone
-- and counted here; after 5 failed attempts the matchers leave it out, so one event cannot hold up
-- the queue. last_error says why, for an operator.
ALTER TABLE automation_queue ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE automation_queue ADD COLUMN last_error TEXT;
