-- Every change of an organization row (a data version bump, a rename, a new time zone, a
-- removal) is announced on one channel, as "<schema>.<org id>", when its transaction commits:
-- processes that keep organization rows between requests drop theirs then (ADR 0022). A
-- trigger, so that no write path, present or future, can change a row without the notice.
CREATE FUNCTION notify_org_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('meterboard_org_changes', TG_TABLE_SCHEMA || '.' || OLD.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER orgs_notify_change AFTER UPDATE OR DELETE ON orgs FOR EACH ROW EXECUTE FUNCTION notify_org_change();
