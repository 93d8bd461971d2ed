-- Offers: a company's text and/or PDF, the personal claims it asks of candidates who accept,
-- sent to profiles. Each recipient has an OpenID4VP request of their own (its `vp_requests`
-- row has the recipient's id).
CREATE TABLE offer_documents (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    file_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX offer_documents_company ON offer_documents (company_id);

CREATE TABLE offers (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT,
    document_id TEXT REFERENCES offer_documents (id),
    contract_type TEXT,
    place TEXT,
    claims TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX offers_company ON offers (company_id, created_at);

CREATE TABLE offer_recipients (
    id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    viewed_at BIGINT,
    answered_at BIGINT,
    UNIQUE (offer_id, profile_id)
);
CREATE INDEX offer_recipients_profile ON offer_recipients (profile_id, sent_at);

-- What a candidate disclosed on accepting, verified: only those claims, and the consent
-- receipt they signed. Deleted once the retention period has passed since the last contact
-- (the acceptance, or a chat message), or at once when the candidate asks.
CREATE TABLE disclosures (
    recipient_id TEXT PRIMARY KEY REFERENCES offer_recipients (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    claims TEXT NOT NULL,
    consent_receipt TEXT,
    received_at BIGINT NOT NULL,
    last_contact_at BIGINT NOT NULL
);
CREATE INDEX disclosures_company ON disclosures (company_id, received_at);
CREATE INDEX disclosures_contact ON disclosures (last_contact_at);

-- A private chat between a company and a candidate, opened when the candidate accepts an
-- offer. With no message for 30 days it is deleted, messages included (a notice goes to both
-- sides a week before).
CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL UNIQUE REFERENCES offer_recipients (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL,
    warned_at BIGINT
);
CREATE INDEX chats_activity ON chats (last_message_at);
CREATE INDEX chats_company ON chats (company_id, last_message_at);
CREATE INDEX chats_profile ON chats (profile_id, last_message_at);

CREATE TABLE chat_messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender TEXT NOT NULL,
    author_id TEXT,
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX chat_messages_chat ON chat_messages (chat_id, at);
