-- What a centre archives instead of deleting once it is used: kept for the history and the
-- credentials already signed, no longer offered for new work.
ALTER TABLE competencies ADD COLUMN archived_at BIGINT;
ALTER TABLE level_scales ADD COLUMN archived_at BIGINT;
ALTER TABLE courses ADD COLUMN archived_at BIGINT;
ALTER TABLE formations ADD COLUMN archived_at BIGINT;
ALTER TABLE resources ADD COLUMN archived_at BIGINT;
