-- Sentinel's own store. Only Sentinel writes here; watched systems are never written.
-- Times are Unix milliseconds (UTC).

CREATE TABLE alerts (
    watch          TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    incident       INTEGER NOT NULL,
    broken_since   INTEGER    NOT NULL,
    fired_at       INTEGER,
    held_since     INTEGER,
    resolved_at    INTEGER,
    notified_at    INTEGER,
    title          TEXT    NOT NULL,
    facts          TEXT    NOT NULL,   -- JSON array of strings
    value          REAL,
    updated_at     INTEGER    NOT NULL,
    notice_key     TEXT,               -- the notice that told the operator of this incident
    PRIMARY KEY (watch, subject)
);

-- Snoozes (until a time) and mutes (until_at NULL: until unmuted). subject NULL: whole watch.
CREATE TABLE silences (
    id          INTEGER PRIMARY KEY,
    watch       TEXT NOT NULL,
    subject     TEXT,
    until_at    INTEGER,
    reason      TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX silences_watch ON silences (watch);

-- First time each heartbeat watch was seen: the reference for "never pinged".
CREATE TABLE heartbeat_checks (
    watch       TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

-- Every ping received, newest last.
CREATE TABLE pings (
    id           INTEGER PRIMARY KEY,
    watch        TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('success', 'start', 'fail', 'log')),
    exit_status  INTEGER,
    received_at  INTEGER    NOT NULL,
    remote       TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    run_id       TEXT
);
CREATE INDEX pings_watch ON pings (watch, id);

-- Completed runs (a start followed by a success or failure) and how long they took.
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    watch        TEXT    NOT NULL,
    started_at   INTEGER    NOT NULL,
    finished_at  INTEGER    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('success', 'fail')),
    exit_status  INTEGER,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX runs_watch ON runs (watch, id);

-- Per-watch remembered numbers (baselines) and small state.
CREATE TABLE baselines (
    watch       TEXT NOT NULL,
    subject     TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (watch, subject, name)
);

-- Every notice is written here before it is sent. `key` makes delivery idempotent.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    key              TEXT    NOT NULL UNIQUE,
    channel          TEXT    NOT NULL,
    payload          TEXT    NOT NULL,     -- JSON notice
    edits_key        TEXT,                 -- the notice this one edits, for channels that can
    created_at       INTEGER    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'dead')) DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER    NOT NULL,
    last_error       TEXT,
    sent_at          INTEGER,
    external_id      TEXT                  -- the channel's id for the delivered message
);
CREATE INDEX outbox_pending ON outbox (state, channel, id);
