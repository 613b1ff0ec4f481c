-- New events are found by their quarter hour and transaction (ADR 0028): a steady pass reads
-- the rows stored in an hour since its fold watermark with one seek per quarter hour on
-- (org_id, quarter, txid), where the (org_id, ts, txid) index made it walk every entry of the
-- hour — a walk that grew with how full the hour already was (71 ms per pass and organization
-- for an hour of 420,000 events, the rate of 10 million a day). The quarter is `ts / 900000`
-- (quarter hours since the epoch), so that the hours of every zone, :30 and :45 offsets
-- included, are whole quarters; events before 1970 never take this path. Each partition gets
-- its own; partitions created later inherit it.
CREATE INDEX events_org_quarter_txid_idx ON events (org_id, (ts / 900000), txid);
