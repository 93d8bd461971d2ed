-- The centre's competency model, sessions, evaluations, and credential issuance
-- (OpenID4VCI pre-authorized code flow, Token Status Lists). Times are Unix milliseconds.

-- Signing keys per organisation. The private JWK is sealed (AES-256-GCM) under the process
-- secret key; retired keys stay published so old credentials keep verifying.
CREATE TABLE issuer_keys (
    kid TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed_private_jwk BYTEA NOT NULL,
    active INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX issuer_keys_one_active ON issuer_keys (organisation_id) WHERE active = 1;

-- Level scales: ordered labels (bronze < argent < or) or a score out of `max_score` with a
-- pass mark. Each level has a rank and a value in [0, 1] so levels compare across centres.
CREATE TABLE level_scales (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    levels TEXT NOT NULL,
    max_score BIGINT,
    pass_score BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE competencies (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    framework_codes TEXT NOT NULL,
    scale_id TEXT NOT NULL REFERENCES level_scales (id),
    created_at BIGINT NOT NULL,
    UNIQUE (organisation_id, code)
);

CREATE TABLE training_sessions (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE session_members (
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, account_id, role)
);
CREATE INDEX session_members_account ON session_members (account_id);

-- Append-only: a correction is a new row that supersedes the old one.
CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES training_sessions (id),
    trainee_id TEXT NOT NULL REFERENCES accounts (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    evaluator_id TEXT NOT NULL REFERENCES accounts (id),
    evaluator_role TEXT NOT NULL,
    validated INTEGER NOT NULL,
    level_label TEXT NOT NULL,
    level_rank BIGINT NOT NULL,
    level_value TEXT NOT NULL,
    score BIGINT,
    comment TEXT NOT NULL,
    evidence_url TEXT,
    assessed_on TEXT NOT NULL,
    supersedes TEXT REFERENCES evaluations (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX evaluations_trainee ON evaluations (organisation_id, trainee_id, created_at);
CREATE UNIQUE INDEX evaluations_superseded_once ON evaluations (supersedes);

-- Credential offers (pre-authorized code flow). The secret in the offer URI is also the
-- pre-authorized code: stored as its SHA-256 for lookup, and sealed for showing it again to
-- the trainee and the staff. Single use; expires.
CREATE TABLE credential_offers (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    evaluation_id TEXT REFERENCES evaluations (id),
    code_hash TEXT NOT NULL UNIQUE,
    sealed_code BYTEA NOT NULL,
    tx_code_hash TEXT,
    sealed_tx_code BYTEA,
    tx_code_failures INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT
);
CREATE INDEX credential_offers_account ON credential_offers (account_id, created_at);

CREATE TABLE vci_access_tokens (
    token_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES credential_offers (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE vci_nonces (
    nonce_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Status lists: 2 bits per entry (valid, revoked, suspended). Indices are drawn at random and
-- never reused: an entry, once allocated, is never deleted.
CREATE TABLE status_lists (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    size BIGINT NOT NULL,
    allocated BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    offer_id TEXT NOT NULL REFERENCES credential_offers (id),
    configuration_id TEXT NOT NULL,
    vct TEXT NOT NULL,
    kid TEXT NOT NULL,
    holder_thumbprint TEXT NOT NULL,
    status_list_id TEXT NOT NULL REFERENCES status_lists (id),
    status_idx BIGINT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    status_reason TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT,
    UNIQUE (status_list_id, status_idx)
);
CREATE INDEX credentials_account ON credentials (organisation_id, account_id);
