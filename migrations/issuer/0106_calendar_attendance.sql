-- A session's time zone: its events are kept in wall-clock time there.
ALTER TABLE training_sessions ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Europe/Paris';

-- The session's calendar: courses, exams and other events, in the session's wall-clock time
-- (`YYYY-MM-DDTHH:MM`). A cancelled event stays, marked, so that feeds can say so.
CREATE TABLE calendar_events (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    place TEXT,
    course_id TEXT REFERENCES courses (id) ON DELETE SET NULL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX calendar_events_session ON calendar_events (session_id, starts_at);

-- Secret links to iCalendar feeds, stored hashed: a person's own (every session they are in,
-- `session_id` NULL) or one session's. Access is checked again at each fetch.
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id TEXT REFERENCES training_sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX calendar_feeds_owner ON calendar_feeds (account_id, session_id);

-- Attendance (émargement) per half-day. A slot's check-in code is derived from its secret and
-- the current 30-second window; the trainer countersigns the slot once it is taken.
CREATE TABLE attendance_slots (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES training_sessions (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    half TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    title TEXT NOT NULL,
    event_id TEXT REFERENCES calendar_events (id) ON DELETE SET NULL,
    code_secret TEXT NOT NULL,
    countersigned_by TEXT REFERENCES accounts (id),
    countersigned_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (session_id, day, half)
);

-- One trainee's status in one slot: present, absent, late or excused; by the trainer, or by the
-- trainee checking in with the slot's code.
CREATE TABLE attendance_marks (
    slot_id TEXT NOT NULL REFERENCES attendance_slots (id) ON DELETE CASCADE,
    trainee_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    note TEXT,
    source TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at BIGINT NOT NULL,
    PRIMARY KEY (slot_id, trainee_id)
);
CREATE INDEX attendance_marks_trainee ON attendance_marks (trainee_id);
