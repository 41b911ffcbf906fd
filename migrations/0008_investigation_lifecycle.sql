-- An investigation request moves approved -> running -> done or failed, once. When it started
-- and ended, and what it ended with (the report's verdict, or why it failed). Times are Unix
-- milliseconds (UTC).
ALTER TABLE investigation_requests ADD COLUMN started_at INTEGER;
ALTER TABLE investigation_requests ADD COLUMN finished_at INTEGER;
ALTER TABLE investigation_requests ADD COLUMN outcome TEXT;
CREATE INDEX investigation_requests_status ON investigation_requests (status, id);
