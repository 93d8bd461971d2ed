-- A message's attachment (a calendar invitation: `text/calendar; method=REQUEST`), sealed
-- like its bodies.
ALTER TABLE outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE outbox ADD COLUMN attachment_type TEXT;
ALTER TABLE outbox ADD COLUMN attachment BYTEA;
