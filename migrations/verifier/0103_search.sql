-- The search index: for each profile, one row per competency code it holds (valid, from a
-- trusted issuer; key 'c:<code>'), one per declared region (key 'r:<code>'), and one with the
-- key '' standing for the whole profile (none while no competency is shown). Each row carries
-- the sort keys and the profile's filters, so that a page of results is a range scan of one
-- index that stops at the page's end, whatever the number of profiles. Derived data: rebuilt
-- per profile by `search::reindex` whenever a profile, a status or the trusted issuers change.
CREATE TABLE search_index (
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- The best normalised level under this key; -1 when none is known.
    level DOUBLE PRECISION NOT NULL,
    situation TEXT,
    available_from TEXT,
    -- Declared regions and contract types, each list between commas: ',84,11,'.
    regions TEXT NOT NULL,
    contracts TEXT NOT NULL,
    -- On the '' row only: the issuers of the profile's competencies, separated by spaces.
    issuers TEXT,
    PRIMARY KEY (profile_id, key)
);
CREATE INDEX search_by_name ON search_index (key, name, profile_id);
CREATE INDEX search_by_recent ON search_index (key, updated_at DESC, profile_id DESC);
CREATE INDEX search_by_level ON search_index (key, level DESC, name, profile_id);

-- The framework codes (ESCO, RNCP, RS, ROME) seen, each with the competency codes it was seen
-- with: a search by framework code becomes a search by those codes.
CREATE TABLE framework_codes (
    framework_code TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (framework_code, code)
);
INSERT INTO framework_codes (framework_code, code)
SELECT DISTINCT cf.code, pc.code FROM competency_frameworks cf
JOIN profile_competencies pc ON pc.id = cf.competency_id;
DROP TABLE competency_frameworks;

-- The competency names as shown, for facet labels.
ALTER TABLE competency_names ADD COLUMN name TEXT;
UPDATE competency_names SET name = (
    SELECT MIN(pc.name) FROM profile_competencies pc
    WHERE pc.code = competency_names.code AND pc.name_folded = competency_names.name_folded
);

-- The index of the profiles already published (as `search::reindex` builds it).
INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts)
SELECT p.id, 'c:' || c.code, p.name, p.updated_at, COALESCE(MAX(c.level_value), -1), p.situation, p.available_from,
    COALESCE((SELECT ',' || string_agg(t.value, ',') || ',' FROM profile_tags t WHERE t.profile_id = p.id AND t.kind = 'region'), ''),
    COALESCE((SELECT ',' || string_agg(t.value, ',') || ',' FROM profile_tags t WHERE t.profile_id = p.id AND t.kind = 'contract'), '')
FROM profiles p JOIN profile_competencies c ON c.profile_id = p.id
WHERE c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers)
GROUP BY p.id, c.code;
INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts, issuers)
SELECT s.profile_id, '', MIN(s.name), MIN(s.updated_at), MAX(s.level), MIN(s.situation), MIN(s.available_from), MIN(s.regions), MIN(s.contracts),
    (SELECT string_agg(i.issuer, ' ') FROM (SELECT DISTINCT c.issuer FROM profile_competencies c
        WHERE c.profile_id = s.profile_id AND c.status = 'valid' AND c.issuer IN (SELECT issuer FROM trusted_issuers)) i)
FROM search_index s
GROUP BY s.profile_id;
INSERT INTO search_index (profile_id, key, name, updated_at, level, situation, available_from, regions, contracts)
SELECT s.profile_id, 'r:' || t.value, s.name, s.updated_at, s.level, s.situation, s.available_from, s.regions, s.contracts
FROM search_index s JOIN profile_tags t ON t.profile_id = s.profile_id AND t.kind = 'region'
WHERE s.key = '';
