-- Incremental hour folds (ADR 0019). Each event carries the dirty generation of the transaction
-- that stored it (NULL for events stored before this migration: they count as folded wherever
-- an hour has a fold). SQLite serializes writers, so generations follow commit order.
ALTER TABLE events ADD COLUMN generation INTEGER;

-- A mark whose hour lost an event it had counted (a dethroned supersede head) or that was set
-- by hand (backfill, rebuild): that hour is folded again from all its events.
ALTER TABLE dirty_hours ADD COLUMN refold INTEGER NOT NULL DEFAULT 0 CHECK (refold IN (0, 1));

-- What each hour's stored rollups include: every visible event of the hour stored at or before
-- the watermark (here a generation, as text). An hour without a row is folded whole.
CREATE TABLE hour_folds (
  org_id     TEXT    NOT NULL,
  hour_start INTEGER NOT NULL,
  watermark  TEXT    NOT NULL,
  PRIMARY KEY (org_id, hour_start)
) STRICT, WITHOUT ROWID;
