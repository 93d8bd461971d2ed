-- Outgoing e-mail, written in the transaction of the change that causes it and sent by a job
-- (`mail.send`): kept when no SMTP server is configured, so that the platform administrator
-- reads it in the portal. `sent_at` is set once the SMTP server took it. The bodies carry
-- secrets (an invitation's link): sealed under the service's key.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body BYTEA NOT NULL,
    html_body BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_created ON outbox (created_at);
