-- Each message's position in its chat's live stream.
ALTER TABLE chat_messages ADD COLUMN seq BIGINT;
CREATE INDEX chat_messages_seq ON chat_messages (chat_id, seq);
