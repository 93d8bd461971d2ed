-- The holder's encrypted store. Each account has a random data key, kept only wrapped: by a key
-- derived (argon2id) from the password, by one derived from the recovery code shown once at
-- registration, and per session by a key derived from the session cookie's secret (which the
-- database never holds). Holder keys and credentials are sealed (AES-256-GCM) under the data
-- key, so the database alone reveals no claim, key or issuer.
CREATE TABLE holder_keyrings (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    password_salt BYTEA NOT NULL,
    by_password BYTEA NOT NULL,
    recovery_salt BYTEA NOT NULL,
    by_recovery BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE session_keys (
    token_hash TEXT PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
    sealed_data_key BYTEA NOT NULL
);

-- One key per credential copy, so that copies cannot be linked by their key.
CREATE TABLE holder_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX holder_keys_account ON holder_keys (account_id);

CREATE TABLE wallet_credentials (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL REFERENCES holder_keys (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX wallet_credentials_account ON wallet_credentials (account_id, received_at);
