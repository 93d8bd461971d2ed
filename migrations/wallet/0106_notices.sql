-- Where a verifier tells the wallet of news for one of its holders (an offer, messages, a chat
-- about to be deleted): a random address per publication, given with it; only its SHA-256 is
-- kept, with the account to mail and the publication it came with (withdrawn, it goes).
CREATE TABLE notice_handles (
    handle_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    publication_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notice_handles_publication ON notice_handles (publication_id);
