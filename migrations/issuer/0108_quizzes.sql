-- Quizzes written by an organisation's trainers (the model of `carnet_core::quiz`), opened to a
-- session for a time window (wall-clock times of the session), answered once by each trainee,
-- graded automatically where possible and by hand for short answers.
CREATE TABLE quizzes (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    quiz TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX quizzes_organisation ON quizzes (organisation_id, created_at);

CREATE TABLE quiz_openings (
    id TEXT PRIMARY KEY,
    quiz_id TEXT NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    opened_by TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX quiz_openings_session ON quiz_openings (session_id, opens_at);

CREATE TABLE quiz_submissions (
    opening_id TEXT NOT NULL REFERENCES quiz_openings (id) ON DELETE CASCADE,
    trainee_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    answers TEXT NOT NULL,
    grade TEXT NOT NULL,
    score BIGINT NOT NULL,
    submitted_at BIGINT NOT NULL,
    graded_by TEXT REFERENCES accounts (id),
    graded_at BIGINT,
    PRIMARY KEY (opening_id, trainee_id)
);

-- A quiz result as the evidence of an evaluation.
ALTER TABLE evaluations ADD COLUMN evidence_quiz_id TEXT REFERENCES quiz_openings (id);
