-- Each message's position in its room's live stream, and its removal's.
ALTER TABLE room_messages ADD COLUMN seq BIGINT;
ALTER TABLE room_messages ADD COLUMN removed_seq BIGINT;
CREATE INDEX room_messages_seq ON room_messages (room_id, seq);
CREATE INDEX room_messages_removed_seq ON room_messages (room_id, removed_seq);
