-- Schema 6 on the device (the commune police office, issue 14): a removed person
-- (residents.removed, migrations/common/0006) leaves the household list's search row; the office
-- keeps a log of the lists it imported, with what undoing each takes, and who works where.

ALTER TABLE base_residents ADD COLUMN removed TEXT;
ALTER TABLE base_residents ADD COLUMN claim_check TEXT;
ALTER TABLE base_residents ADD COLUMN checked_visit TEXT;

DROP VIEW household_search_source;
CREATE VIEW household_search_source AS
SELECT h.hamlet_code AS hamlet_code,
       h.search_key AS sort_key,
       h.id AS household_id,
       coalesce(group_concat(char(10) || r.search_key, ''), '') AS names,
       coalesce(group_concat('|' || coalesce(r.status, '-') || '|', '') FILTER (WHERE r.id IS NOT NULL), '')
           AS statuses,
       coalesce(group_concat('|' || coalesce(r.status, '-') || '|', '')
           FILTER (WHERE r.id IS NOT NULL AND r.reason_code IS NULL), '') AS open_statuses,
       count(r.reason_code) AS reasons,
       min(r.follow_up) AS next_follow_up
FROM households h LEFT JOIN residents r ON r.household_id = h.id AND r.removed IS NULL
WHERE h.removed IS NULL
GROUP BY h.id;

DELETE FROM household_search;
INSERT INTO household_search
    (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
FROM household_search_source;

-- One row per list this device imported (the office). `undo` is what undoing it takes
-- (gocua_import::UndoRecord as JSON: the records it created and each field it changed with the
-- value before), personal data kept only in this encrypted store; `summary` is the counts shown.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,   -- UUIDv7
    file_name    TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,      -- RFC 3339
    author       TEXT NOT NULL,      -- the user who imported it
    first_seq    INTEGER NOT NULL,   -- this device's events that recorded it
    last_seq     INTEGER NOT NULL,
    summary      TEXT NOT NULL,      -- JSON counts
    undo         TEXT NOT NULL,      -- JSON, see above
    undone_at    TEXT,               -- RFC 3339, once undone
    undo_summary TEXT                -- JSON counts of the undo
) STRICT;

-- Who works where, as the office assigned it (assignment_set.v1, its own and pulled): one row
-- per volunteer or team leader, the latest assignment. The server keeps it as users' scopes.
CREATE TABLE assignments (
    user_id     TEXT PRIMARY KEY,
    places      TEXT NOT NULL,       -- place codes, sorted, joined by commas (Scope::key)
    assigned_by TEXT NOT NULL
) STRICT;
-- and its baseline, like the projection's (crates/core/src/store/retention.rs)
CREATE TABLE base_assignments AS SELECT * FROM assignments WHERE 0;

-- Spot-check samples the office drew (crates/core/src/spotcheck.rs): the draw's seed and rate,
-- and the claims it drew, kept as drawn (new activations do not change a drawn sample).
CREATE TABLE spot_checks (
    id        TEXT PRIMARY KEY,      -- UUIDv7
    seed      TEXT NOT NULL,
    percent   INTEGER NOT NULL,
    drawn_at  TEXT NOT NULL,         -- RFC 3339
    drawn_by  TEXT NOT NULL
) STRICT;
CREATE TABLE spot_check_items (
    sample_id   TEXT NOT NULL REFERENCES spot_checks(id),
    resident_id TEXT NOT NULL,
    visit_id    TEXT NOT NULL,
    author      TEXT NOT NULL,
    PRIMARY KEY (sample_id, visit_id)
) STRICT;
