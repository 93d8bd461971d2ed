-- A session's rooms: its information room (staff post, everyone reads) and private chats
-- between two participants (`pair` is their two account ids, sorted). Trainers, managers and
-- the organisation's administrators moderate them all.
CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    pair TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (session_id, pair)
);

CREATE TABLE room_members (
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX room_members_account ON room_members (account_id);

-- A removed message keeps its place, without its text.
CREATE TABLE room_messages (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body TEXT,
    at BIGINT NOT NULL,
    removed_at BIGINT,
    removed_by TEXT REFERENCES accounts (id)
);
CREATE INDEX room_messages_room ON room_messages (room_id, at, id);

-- A member muted in a session cannot post in its rooms until `until`.
CREATE TABLE room_mutes (
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    until BIGINT NOT NULL,
    muted_by TEXT NOT NULL REFERENCES accounts (id),
    reason TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, account_id)
);
