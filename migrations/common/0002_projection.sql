-- Current state derived by the reducer (crates/core/src/reducer.rs); never written otherwise.
CREATE TABLE households (
    id                    TEXT PRIMARY KEY,
    hamlet_code           TEXT NOT NULL REFERENCES places(code),
    address               TEXT NOT NULL,
    head_name             TEXT NOT NULL,
    members               INTEGER,
    smartphones           INTEGER,
    has_internet_computer INTEGER,
    version               INTEGER NOT NULL,
    needs_review          INTEGER NOT NULL DEFAULT 0,
    search_key            TEXT NOT NULL
) STRICT;
CREATE INDEX households_hamlet ON households(hamlet_code);

CREATE TABLE residents (
    id             TEXT PRIMARY KEY,
    household_id   TEXT NOT NULL REFERENCES households(id),
    full_name      TEXT NOT NULL,
    birth_year     INTEGER NOT NULL,
    sex            TEXT NOT NULL,
    cccd           TEXT,
    phone          TEXT,
    version        INTEGER NOT NULL,
    needs_review   INTEGER NOT NULL DEFAULT 0,
    status         TEXT,
    reason_code    TEXT,
    follow_up      TEXT,
    deciding_visit TEXT,
    visit_count    INTEGER NOT NULL DEFAULT 0,
    search_key     TEXT NOT NULL
) STRICT;
CREATE INDEX residents_household ON residents(household_id);

CREATE TABLE visits (
    id          TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents(id),
    status      TEXT NOT NULL,
    reason_code TEXT,
    action      TEXT,
    follow_up   TEXT,
    note        TEXT,
    author      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    device_time TEXT NOT NULL
) STRICT;
CREATE INDEX visits_resident ON visits(resident_id);
