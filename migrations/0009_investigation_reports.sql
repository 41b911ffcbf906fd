-- What an investigation answered, kept whole: the report as JSON (what machines read) and as
-- Markdown (what the operator reads), with its verdict for listing and what the model cost (in
-- US dollars, for the daily budget). One per request.
CREATE TABLE investigation_reports (
    request_id  INTEGER PRIMARY KEY REFERENCES investigation_requests (id),
    created_at  INTEGER NOT NULL,
    verdict     TEXT    NOT NULL,
    dollars     REAL    NOT NULL DEFAULT 0,
    json        TEXT    NOT NULL,
    markdown    TEXT    NOT NULL
);

-- Where the answer goes in the chat: the message it replies to (the page, the question or the
-- report a follow-up continues), the report a follow-up continues, and the message carrying
-- the report once sent (so a reply to it is a follow-up).
ALTER TABLE investigation_requests ADD COLUMN reply_to_message INTEGER;
ALTER TABLE investigation_requests ADD COLUMN follows_up INTEGER REFERENCES investigation_requests (id);
ALTER TABLE investigation_requests ADD COLUMN report_message INTEGER;
CREATE INDEX investigation_requests_report_message ON investigation_requests (report_message);
