-- A trainee's request that the centre attest their identity (so that they can share verified
-- details): open until the centre attests it.
CREATE TABLE identity_requests (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    handled_at BIGINT
);
CREATE INDEX identity_requests_open ON identity_requests (organisation_id, handled_at);
