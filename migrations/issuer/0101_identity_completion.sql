-- Identity checked by a centre at enrolment (the source of the identity credential), and the
-- planned hours of a session (for the completion certificate until attendance is recorded).

CREATE TABLE trainee_identities (
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    claims TEXT NOT NULL,
    checked_by TEXT NOT NULL REFERENCES accounts (id),
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, account_id)
);

ALTER TABLE training_sessions ADD COLUMN planned_hours BIGINT NOT NULL DEFAULT 0;
