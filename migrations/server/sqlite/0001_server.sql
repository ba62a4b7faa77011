-- The server's own tables (SQLite).
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('volunteer', 'team_leader', 'commune_police', 'province_police', 'trainer', 'admin')),
    scope_code  TEXT NOT NULL REFERENCES places(code),
    created_at  TEXT NOT NULL
) STRICT;

-- One-time enrollment codes; only a hash is kept.
CREATE TABLE enrollment_codes (
    code_hash   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    device_id   TEXT
) STRICT;

-- Enrolled devices; only a hash of the device token is kept.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TEXT NOT NULL,
    last_seen_at TEXT,
    last_seq     INTEGER NOT NULL DEFAULT 0,
    app_version  TEXT,
    revoked_at   TEXT
) STRICT;

-- Every event received, applied or rejected, in arrival order (server_seq).
CREATE TABLE events (
    server_seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    device_id   TEXT NOT NULL REFERENCES devices(id),
    seq         INTEGER NOT NULL,
    author      TEXT NOT NULL,
    device_time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    -- '/province/commune/hamlet/' of the household the event is about; NULL when unknown
    place_path  TEXT,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    errors      TEXT,
    UNIQUE (device_id, seq)
) STRICT;
CREATE INDEX events_status_seq ON events(status, server_seq);
