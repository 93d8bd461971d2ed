-- Competencies a course (and through its courses, a formation) works on; evidence of an
-- evaluation as an uploaded resource.
CREATE TABLE course_competencies (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    competency_id TEXT NOT NULL REFERENCES competencies (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, competency_id)
);

ALTER TABLE evaluations ADD COLUMN evidence_resource_id TEXT REFERENCES resources (id);
