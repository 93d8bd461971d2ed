-- A list's fill is counted from its entries when needed (issuer/src/status.rs): no row is
-- updated per credential, so concurrent issuances no longer queue on this counter.
ALTER TABLE status_lists DROP COLUMN allocated;
