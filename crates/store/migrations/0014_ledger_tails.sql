-- Insert-only recorded tables with increasing ids (case events, staff actions, …) are read by
-- the ledger's sequencer from the table itself, past the last id it appended, instead of
-- through capture triggers and ledger_queue: the writers' transactions carry no extra insert.
-- One row per such table, created when the ledger starts reading it (at the table's highest
-- id then: earlier rows were captured by triggers) and advanced with each append.
CREATE TABLE ledger_tails (
    source TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
