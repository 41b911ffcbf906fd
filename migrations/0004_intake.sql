-- Alerts pushed to Sentinel by other systems (Alertmanager's webhook). One row per alert and
-- watch, keyed by the sender's fingerprint: a re-sent alert updates its row. Times are Unix
-- milliseconds (UTC); ends_at is NULL while the sender gave no end.

CREATE TABLE intake_alerts (
    watch          TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels         TEXT    NOT NULL,   -- JSON object
    annotations    TEXT    NOT NULL,   -- JSON object
    generator_url  TEXT    NOT NULL DEFAULT '',
    starts_at      INTEGER,
    ends_at        INTEGER,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (watch, fingerprint)
);
