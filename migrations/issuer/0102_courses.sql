-- Courses (modules, chapters) with reusable resources, and formations grouping courses. A
-- resource can be shared by several courses (the same row) or duplicated (a copy). A session
-- is an instance of a formation.

CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT,
    url TEXT,
    file_key TEXT,
    media_type TEXT,
    size BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE course_resources (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (course_id, resource_id)
);

CREATE TABLE formations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE formation_courses (
    formation_id TEXT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (formation_id, course_id)
);

ALTER TABLE training_sessions ADD COLUMN formation_id TEXT REFERENCES formations (id);
