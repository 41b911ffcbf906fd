-- Evidence packs built beside the evaluation loop: each request's progress ('requested',
-- 'building', 'built', 'failed'), the chat message it answers, what became of it (the PDF's
-- path, or why no pack was built) and when. A dispute is reminded of once, a day before its
-- evidence is due.
ALTER TABLE evidence_requests ADD COLUMN reply_to_message INTEGER;
ALTER TABLE evidence_requests ADD COLUMN detail TEXT;
ALTER TABLE evidence_requests ADD COLUMN finished_at INTEGER;
ALTER TABLE disputes ADD COLUMN reminded_at INTEGER;
CREATE INDEX evidence_requests_status ON evidence_requests (status, id);
