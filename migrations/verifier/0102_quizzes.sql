-- Recruiters' quizzes (the model and its grading are carnet-core's `quiz`), sent with an offer
-- or alone to chosen profiles; each candidate answers once through their wallet.
CREATE TABLE quizzes (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    quiz TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX quizzes_company ON quizzes (company_id, created_at);

CREATE TABLE quiz_assignments (
    id TEXT PRIMARY KEY,
    quiz_id TEXT NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    offer_id TEXT REFERENCES offers (id) ON DELETE SET NULL,
    sent_at BIGINT NOT NULL,
    answered_at BIGINT,
    answers TEXT,
    grade TEXT,
    score BIGINT,
    UNIQUE (quiz_id, profile_id)
);
CREATE INDEX quiz_assignments_profile ON quiz_assignments (profile_id, sent_at);
