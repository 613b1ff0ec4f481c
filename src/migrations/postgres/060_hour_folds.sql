-- Incremental hour folds (ADR 0019). Each event carries the id of the transaction that stored
-- it; an hour's watermark is the snapshot its last fold read, so "stored after the watermark"
-- is "not visible in that snapshot", whatever order concurrent transactions commit in. NULL for
-- events stored before this migration: they count as folded wherever an hour has a fold. The
-- default is set after the column is added, so existing rows are not rewritten.
ALTER TABLE events ADD COLUMN txid xid8;
ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();

-- A mark whose hour lost an event it had counted (a dethroned supersede head) or that was set
-- by hand (backfill, rebuild): that hour is folded again from all its events.
ALTER TABLE dirty_hours ADD COLUMN refold boolean NOT NULL DEFAULT false;

-- What each hour's stored rollups include: every visible event of the hour committed in the
-- watermark snapshot (pg_snapshot as text). An hour without a row is folded whole.
CREATE TABLE hour_folds (
  org_id     text COLLATE "C" NOT NULL,
  hour_start bigint NOT NULL,
  watermark  text NOT NULL,
  PRIMARY KEY (org_id, hour_start)
);
