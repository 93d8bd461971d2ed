-- Where the holder published a directory profile (the verifier, the choices made, whether to
-- republish by itself), sealed under the holder's data key like the rest of the store. The id
-- is derived from the data key and the verifier, so the database cannot tell which verifier.
CREATE TABLE directory_publications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX directory_publications_account ON directory_publications (account_id);
