-- Each person's notifications are the mail written to them: the list on every portal (with
-- what is unread), and how each kind reaches them (`notification_preferences`: `immediate`,
-- `daily` for one summary a day, or `never`, the list only). `held` says why a message was not
-- mailed at once: `never`, `daily` (waiting for the summary) or `summarised`.
ALTER TABLE outbox ADD COLUMN account_id TEXT;
ALTER TABLE outbox ADD COLUMN read_at BIGINT;
ALTER TABLE outbox ADD COLUMN held TEXT;
CREATE INDEX outbox_account ON outbox (account_id, created_at);

CREATE TABLE notification_preferences (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    PRIMARY KEY (account_id, kind)
);
