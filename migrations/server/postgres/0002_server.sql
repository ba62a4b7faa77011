-- The PostgreSQL server's first schema, part 2: what migrations/server/sqlite/0001–0007 make, in
-- their latest shape. Differences from SQLite: a user's scope lives only in user_scopes (no
-- users.scope_code); events.server_seq is assigned by the writer inside the serialized write
-- transaction (no sequence); place paths compare bytewise (COLLATE "C") so a prefix is a range
-- of the pull index.

CREATE TABLE users (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('volunteer', 'team_leader', 'commune_police', 'province_police', 'trainer', 'admin')),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_name ON users(name);

-- A user's scope: one or more places, each with everything under it.
CREATE TABLE user_scopes (
    user_id    UUID NOT NULL REFERENCES users(id),
    place_code TEXT NOT NULL REFERENCES places(code),
    PRIMARY KEY (user_id, place_code)
);

-- Places a user worked in before being reassigned: their phones' unsent records from there are
-- still accepted (recorded while assigned), while pulls follow the current scope only.
CREATE TABLE former_scopes (
    user_id    UUID NOT NULL REFERENCES users(id),
    scope_code TEXT NOT NULL REFERENCES places(code),
    until      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, scope_code)
);

-- One-time enrollment codes; only a hash is kept.
CREATE TABLE enrollment_codes (
    code_hash   TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    device_id   UUID
);

-- Enrolled devices; only a hash of the device token is kept.
CREATE TABLE devices (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    app_version  TEXT,
    revoked_at   TIMESTAMPTZ,
    -- the ed25519 public key (base64) a device signs its bundles with; NULL for older apps
    signing_key  TEXT
);
CREATE INDEX devices_user ON devices(user_id);

-- Every event received, applied or rejected, in the server's order (server_seq: assigned by
-- the writer, which holds the one write lock, so server_seq order is commit order).
CREATE TABLE events (
    server_seq     BIGINT PRIMARY KEY CHECK (server_seq > 0),
    id             UUID NOT NULL UNIQUE,
    device_id      UUID NOT NULL REFERENCES devices(id),
    seq            BIGINT NOT NULL,
    author         UUID NOT NULL,
    device_time    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    type           TEXT NOT NULL,
    -- JSON text exactly as written (a round trip through jsonb would reorder keys)
    payload        TEXT NOT NULL,
    -- '/province/commune/hamlet/' of the household the event is about; NULL when unknown
    place_path     TEXT COLLATE "C",
    status         TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    errors         TEXT,
    -- why an applied event was flagged (JSON array), and the time reports use
    flags          TEXT,
    effective_time TIMESTAMPTZ,
    UNIQUE (device_id, seq)
);
-- The pull: applied events under a place path prefix after a cursor, in server_seq order.
CREATE INDEX events_applied_path ON events (place_path, server_seq) WHERE status = 'applied';

-- The database's identity for pull cursors: a new database gets a new epoch.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO server_meta (key, value) VALUES ('epoch', md5(random()::text || clock_timestamp()::text));

-- The server's X25519 key pairs that bundles are sealed to. Row 1 is made on first use and is the
-- one enrollments hand out; a bundle names the key it was sealed to by fingerprint.
CREATE TABLE server_keys (
    id          BIGINT PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,  -- hex, first 16 bytes of SHA-256 of the public key
    public_key  TEXT NOT NULL,         -- base64
    secret_key  BYTEA NOT NULL,        -- 32 bytes; never leaves this database
    created_at  TIMESTAMPTZ NOT NULL
);

-- Every bundle import attempt (no personal values: the file's hash, the device, counts, a reason).
CREATE TABLE bundle_imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256      TEXT NOT NULL,
    device_id   UUID,
    events      BIGINT,
    first_seq   BIGINT,
    last_seq    BIGINT,
    applied     BIGINT NOT NULL DEFAULT 0,
    flagged     BIGINT NOT NULL DEFAULT 0,
    duplicates  BIGINT NOT NULL DEFAULT 0,
    rejected    BIGINT NOT NULL DEFAULT 0,
    imported_by TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     TEXT NOT NULL CHECK (outcome IN ('started', 'imported', 'refused')),
    reason      TEXT
);
CREATE INDEX bundle_imports_sha256 ON bundle_imports(sha256);

-- The audit log: append-only and hash-chained. `at` and `detail` are TEXT exactly as hashed.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_user   TEXT,
    actor_device TEXT,
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'nhật ký kiểm tra chỉ được ghi thêm / the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE fires no row trigger: refuse it too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Residents erased on request: no personal value, only where and when.
CREATE TABLE erasures (
    resident_id UUID PRIMARY KEY,
    place_path  TEXT COLLATE "C" NOT NULL,  -- the household's place path at erasure time
    at_seq      BIGINT NOT NULL,            -- the server's last server_seq at erasure time
    erased_at   TIMESTAMPTZ NOT NULL,
    erased_by   TEXT NOT NULL
);
