-- What keeps ping intake and the heartbeat watch fast however many pings are stored, and a
-- count of every recorded evaluation. Times are Unix milliseconds (UTC).

-- The latest ping of each kind (the heartbeat watch) and the open start a finish closes.
CREATE INDEX pings_kind ON pings (watch, kind, id);
-- Runs with a run id (`?rid=`): their start and finishes, without walking other runs.
CREATE INDEX pings_run ON pings (watch, run_id, kind, id) WHERE run_id IS NOT NULL;
-- The latest ping that carried output.
CREATE INDEX pings_body ON pings (watch, id) WHERE body != '';

-- One row per watch: how many evaluations were recorded, how many of them blind, the last.
CREATE TABLE watch_evaluations (
    watch               TEXT    PRIMARY KEY,
    evaluations         INTEGER NOT NULL,
    blind               INTEGER NOT NULL,
    last_evaluated_at   INTEGER NOT NULL
);
