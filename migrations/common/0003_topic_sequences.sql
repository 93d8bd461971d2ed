-- The position of each live topic (a room, a chat): a counter taken in the writing
-- transaction, whose row lock makes the positions of one topic follow commit order, so a
-- watcher resuming after any position misses nothing and sees nothing twice.
CREATE TABLE topic_sequences (
    topic TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
