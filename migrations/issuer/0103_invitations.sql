-- Invitations to join an organisation (and a session) by e-mail address. The link's secret is
-- stored as its SHA-256; the invitation is accepted by the account with that address.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    session_id TEXT REFERENCES training_sessions (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT REFERENCES accounts (id)
);
CREATE INDEX invitations_organisation ON invitations (organisation_id, created_at);
