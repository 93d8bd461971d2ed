-- Sign-in and recovery failures are counted per address and account (a stranger's failures
-- from elsewhere slow an account down, they cannot lock it), and per purpose (a wrong recovery
-- code does not count against sign-in).
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign-in';
CREATE INDEX login_failures_client ON login_failures (email, purpose, client, at);
