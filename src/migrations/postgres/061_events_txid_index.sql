-- The fold's index carries each event's txid (ADR 0020): a new-event fold reads only index
-- entries with txid >= the watermark's xmin, so the rows its hour already counted are skipped
-- in the index instead of being fetched from the heap. It replaces events_org_ts_idx, whose
-- (org_id, ts) prefix it keeps for every other reader; each partition gets its own.
CREATE INDEX events_org_ts_txid_idx ON events (org_id, ts, txid);
DROP INDEX events_org_ts_idx;
