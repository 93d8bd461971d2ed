-- What the holder declares of themselves (availability), sealed under their data key.
CREATE TABLE holder_profiles (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
