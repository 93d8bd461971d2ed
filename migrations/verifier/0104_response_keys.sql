-- Each OpenID4VP request's ephemeral key for its encrypted response (direct_post.jwt): the
-- private JWK sealed under the service's secret key, the public one as sent. Made when the
-- request is first handed to a wallet.
ALTER TABLE vp_requests ADD COLUMN response_key BYTEA;
ALTER TABLE vp_requests ADD COLUMN response_jwk TEXT;
