-- Telling people what happened: when each side of a chat was last told of new messages (one
-- mail per chat per quiet period, not one per line), and where a candidate's wallet takes the
-- notices meant for them (the verifier knows no candidate's address: the wallet mails them).
ALTER TABLE chats ADD COLUMN company_told_at BIGINT;
ALTER TABLE chats ADD COLUMN candidate_told_at BIGINT;
ALTER TABLE profiles ADD COLUMN notify_url TEXT;
