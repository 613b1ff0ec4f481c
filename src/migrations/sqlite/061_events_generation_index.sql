-- The fold's index carries each event's generation (ADR 0020): a new-event fold skips the rows
-- its hour already counted on the index alone, without reading them from the table. It replaces
-- events_org_ts, whose (org_id, ts) prefix it keeps for every other reader.
CREATE INDEX events_org_ts_generation ON events (org_id, ts, generation);
DROP INDEX events_org_ts;
