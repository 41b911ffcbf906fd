-- Telegram pages and the operator's answers to them. Times are Unix milliseconds (UTC).

-- One row per inline button sent: Telegram carries only `id` (callback_data is at most 64
-- bytes); what the button does and to which alert lives here.
CREATE TABLE chat_buttons (
    id          TEXT    PRIMARY KEY,
    action      TEXT    NOT NULL,
    watch       TEXT    NOT NULL,
    subjects    TEXT    NOT NULL,   -- JSON array of the page's subjects
    notice_key  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Which alert each delivered page message is about (so a reply to it has context).
CREATE TABLE chat_pages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    watch       TEXT    NOT NULL,
    subjects    TEXT    NOT NULL,   -- JSON array
    notice_key  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

-- Small state of the chat loop (the getUpdates offset).
CREATE TABLE chat_state (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);

-- Investigations the operator approved (by a button, a reply or /investigate).
CREATE TABLE investigation_requests (
    id            INTEGER PRIMARY KEY,
    requested_by  TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    watch         TEXT,               -- the alert it is about, if any
    subjects      TEXT,               -- JSON array
    notice_key    TEXT,
    question      TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'approved'
);

-- Evidence the operator asked for about a customer (/evidence).
CREATE TABLE evidence_requests (
    id            INTEGER PRIMARY KEY,
    requested_by  TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    customer      TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'requested'
);

-- The operator's verdicts on pages ("not actionable").
CREATE TABLE verdicts (
    id          INTEGER PRIMARY KEY,
    watch       TEXT    NOT NULL,
    subjects    TEXT    NOT NULL,     -- JSON array
    notice_key  TEXT    NOT NULL,
    verdict     TEXT    NOT NULL,
    given_by    TEXT    NOT NULL,
    given_at    INTEGER NOT NULL
);

-- Every gate the operator passed through the chat: who, when, what, on what.
CREATE TABLE gates (
    id          INTEGER PRIMARY KEY,
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
);
