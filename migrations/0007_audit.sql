-- What an investigation sent to a model and got back, and every tool it called with what the
-- tool returned, in the order written. Append-only: each row's hash covers the row before it
-- and its own content, so an edited, deleted or reordered row breaks the chain
-- (`sentinel audit verify`). Times are Unix milliseconds (UTC).
CREATE TABLE audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    investigation  TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
