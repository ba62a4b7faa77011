-- Sneakernet bundles (crates/server/src/bundle.rs): keys and the import audit.

-- The ed25519 public key (base64) a device signs its bundles with, sent at enrollment;
-- NULL for devices enrolled by older apps.
ALTER TABLE devices ADD COLUMN signing_key TEXT;

-- The server's X25519 key pairs that bundles are sealed to. Row 1 is made on first use and is the
-- one enrollments hand out; a bundle names the key it was sealed to by fingerprint.
CREATE TABLE server_keys (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,  -- hex, first 16 bytes of SHA-256 of the public key
    public_key  TEXT NOT NULL,         -- base64
    secret_key  BLOB NOT NULL,         -- 32 bytes; never leaves this database
    created_at  TEXT NOT NULL
) STRICT;

-- Every bundle import attempt: what was imported, by whom and with what result. No personal
-- values: the bundle's hash, the device, counts, a reason code.
CREATE TABLE bundle_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256      TEXT NOT NULL,         -- hex SHA-256 of the whole file
    -- the device: verified for imported bundles, as the plain header claims for refused ones
    device_id   TEXT,
    events      INTEGER,               -- events in the bundle (as its header says)
    first_seq   INTEGER,
    last_seq    INTEGER,
    applied     INTEGER NOT NULL DEFAULT 0,  -- including flagged
    flagged     INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    imported_by TEXT NOT NULL,         -- free text given by the person importing (`--by`)
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    -- started: interrupted before it finished; refused: see reason (applied counts what earlier
    -- batches applied before a refusal, exactly as pushes would have)
    outcome     TEXT NOT NULL CHECK (outcome IN ('started', 'imported', 'refused')),
    reason      TEXT                   -- a stable code: damaged, other_server, forbidden, …
) STRICT;
CREATE INDEX bundle_imports_sha256 ON bundle_imports(sha256);
