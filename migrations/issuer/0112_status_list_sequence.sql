-- Each organisation's status lists are numbered 1, 2, 3… in the order they were opened, and a
-- number is taken once (issuer/src/status.rs): instances that find the open list full, or no
-- list yet, at the same moment all insert the next number, one insert wins and every one of
-- them goes on with the list that won. Existing lists are numbered by when they were opened;
-- among lists opened in the same millisecond, the one `open_list` took as the newest (the
-- smallest id) gets the highest number, so it stays the open one.
ALTER TABLE status_lists ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE status_lists SET seq = (
    SELECT COUNT(*) FROM status_lists s
    WHERE s.organisation_id = status_lists.organisation_id
      AND (s.created_at < status_lists.created_at
           OR (s.created_at = status_lists.created_at AND s.id >= status_lists.id))
);
CREATE UNIQUE INDEX status_lists_seq ON status_lists (organisation_id, seq);
