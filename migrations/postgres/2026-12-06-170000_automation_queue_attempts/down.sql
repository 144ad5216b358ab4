ALTER TABLE automation_queue DROP COLUMN last_error;
ALTER TABLE automation_queue DROP COLUMN attempts;
