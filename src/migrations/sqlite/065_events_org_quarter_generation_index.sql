-- New events are found by their quarter hour and generation (ADR 0028): a steady pass reads the
-- rows stored in an hour since its fold watermark with one seek per quarter hour on
-- (org_id, quarter, generation), where (org_id, ts, generation) made it walk every entry of the
-- hour — a walk that grew with how full the hour already was (+20 ms a pass per 100,000 events
-- of an organization's hour). The quarter is `ts / 900000`, quarter hours since the epoch, so
-- that the hours of every zone (:30 and :45 offsets included) are whole quarters; events before
-- 1970 never take this path.
CREATE INDEX events_org_quarter_generation ON events (org_id, ts / 900000, generation);
