-- The phone's own tables.
CREATE TABLE enrollment (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    server_url    TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    token         TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope_code    TEXT NOT NULL,
    enrolled_at   TEXT NOT NULL
) STRICT;

-- Every event this device knows: its own (origin 'local') and those pulled from the server.
CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    author        TEXT NOT NULL,
    device_time   TEXT NOT NULL,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    origin        TEXT NOT NULL CHECK (origin IN ('local', 'pulled')),
    -- local events: unsent → acknowledged | rejected; pulled events: acknowledged
    sync_state    TEXT NOT NULL CHECK (sync_state IN ('unsent', 'acknowledged', 'rejected')),
    reject_errors TEXT,
    server_seq    INTEGER,
    UNIQUE (device_id, seq)
) STRICT;

-- Local events not yet acknowledged by the server, in sequence order.
CREATE TABLE outbox (
    seq      INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE REFERENCES events(id)
) STRICT;

CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
