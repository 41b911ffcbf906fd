-- Log templates learned per source (the new_error watch and `sentinel logs`), and how far each
-- tailed log file has been read.

CREATE TABLE log_templates (
    source      TEXT    NOT NULL,
    id          INTEGER NOT NULL,
    template    TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,   -- Unix milliseconds
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE TABLE log_offsets (
    source      TEXT    NOT NULL,
    state       TEXT    NOT NULL,   -- JSON: per file, identity and offset
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (source)
);
