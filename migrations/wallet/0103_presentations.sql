-- Presentation requests awaiting the holder's answer, and the log of what was shared, with
-- whom and when: both sealed under the holder's data key.
CREATE TABLE presentation_requests (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX presentation_requests_account ON presentation_requests (account_id, expires_at);

CREATE TABLE presentation_log (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX presentation_log_account ON presentation_log (account_id, at);
