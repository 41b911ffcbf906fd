-- What a watch remembers between evaluations (baselines, learned routes, read positions): the
-- table is named for what it holds.
ALTER TABLE baselines RENAME TO watch_memory;
