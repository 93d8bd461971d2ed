-- Verified addresses and password reset. An account's address counts once its owner followed
-- the link (or typed the code) mailed to it: roles, invitations and credential offers attach
-- only then. Accounts made before this migration start unverified (nothing they hold is taken
-- away; what comes next waits until they confirm). `language` is the one its mail speaks.
ALTER TABLE accounts ADD COLUMN email_verified_at BIGINT;
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'fr';

-- A link mailed to an address: `verify` (the address, or the new one on a change: `email`
-- becomes the account's once verified) or `reset` (a new password). Only the SHA-256 of the
-- link's secret is kept, and of the verification code (bound to the link).
CREATE TABLE email_links (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    code_hash TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_links_account ON email_links (account_id, purpose, created_at);
