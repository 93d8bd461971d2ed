-- Where each credential's status is, for the refresh job, which cannot open the holders'
-- stores: the reference (issuer, list URL, index) is sealed under the service's secret key,
-- so the database alone still reveals nothing; the status found is kept beside it.
CREATE TABLE credential_status (
    credential_id TEXT PRIMARY KEY REFERENCES wallet_credentials (id) ON DELETE CASCADE,
    sealed_reference BYTEA NOT NULL,
    status TEXT NOT NULL,
    checked_at BIGINT
);
CREATE INDEX credential_status_checked ON credential_status (checked_at);
