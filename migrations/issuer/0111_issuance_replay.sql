-- A wallet that lost the credential response asks again with the same request and gets the
-- same credentials: the request's digest, and the response sealed under a key derived from the
-- access token (which is stored only as a hash, so the database alone cannot open it).
ALTER TABLE vci_access_tokens ADD COLUMN request_digest TEXT;
ALTER TABLE vci_access_tokens ADD COLUMN response_sealed BYTEA;
