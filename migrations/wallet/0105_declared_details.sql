-- The personal details the holder declares when answering offers (phone, town, a short
-- presentation…), kept to fill the next answer, sealed under their data key.
CREATE TABLE holder_details (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
