-- The verifier's directory. Trusted issuers: only credentials they signed are accepted, with
-- their published keys kept here (refreshed from their JWT VC Issuer Metadata).
CREATE TABLE trusted_issuers (
    issuer TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    jwks TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- OpenID4VP requests this verifier sent and awaits an answer to: a directory publication, or
-- an offer (then `recipient_id`). Each is answered once; the nonce binds the answer to it.
CREATE TABLE vp_requests (
    id TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX vp_requests_expiry ON vp_requests (expires_at);

-- A published profile: the holder's key for this verifier (the consent receipt's), the name
-- disclosed, and what the holder declared. Nothing else about the person is ever here.
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    holder_kid TEXT NOT NULL UNIQUE,
    holder_jwk TEXT NOT NULL,
    name TEXT NOT NULL,
    situation TEXT,
    available_from TEXT,
    published_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_contact_at BIGINT NOT NULL
);
CREATE INDEX profiles_updated ON profiles (updated_at);
CREATE INDEX profiles_name ON profiles (name);

-- Declared regions and contract types, one row each, for filters and facets.
CREATE TABLE profile_tags (
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (profile_id, kind, value)
);
CREATE INDEX profile_tags_value ON profile_tags (kind, value);

-- One verified competency credential of a profile: the facts disclosed, and where its status
-- is (re-checked by a job; only `valid` ones are shown).
CREATE TABLE profile_competencies (
    id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    level_label TEXT,
    level_value DOUBLE PRECISION,
    validated_on TEXT,
    claims TEXT NOT NULL,
    status_uri TEXT,
    status_idx BIGINT,
    status TEXT NOT NULL,
    checked_at BIGINT NOT NULL
);
CREATE INDEX profile_competencies_profile ON profile_competencies (profile_id);
CREATE INDEX profile_competencies_code ON profile_competencies (code, level_value);
CREATE INDEX profile_competencies_status ON profile_competencies (checked_at);

-- Framework codes (ESCO, RNCP, RS, ROME) of each competency, for search.
CREATE TABLE competency_frameworks (
    competency_id TEXT NOT NULL REFERENCES profile_competencies (id) ON DELETE CASCADE,
    framework TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (competency_id, framework)
);
CREATE INDEX competency_frameworks_code ON competency_frameworks (code);

-- Holder proofs seen, so that none is used twice while it is fresh.
CREATE TABLE holder_proofs (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- The distinct competency names, for free-text search: a small table scanned instead of every
-- profile's competencies.
CREATE TABLE competency_names (
    code TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    PRIMARY KEY (code, name_folded)
);
