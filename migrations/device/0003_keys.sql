-- Keys of sneakernet bundles (crates/core/src/bundle.rs).

-- The device's ed25519 signing keys. One is made before enrolling (device_id NULL, "pending"),
-- its public half is sent with the enrollment, and the enrollment binds it to the device id.
-- The secret never leaves the device.
CREATE TABLE signing_keys (
    public_key  TEXT PRIMARY KEY,  -- base64, as sent to the server
    secret_key  BLOB NOT NULL,     -- the 32-byte ed25519 seed
    created_at  TEXT NOT NULL,
    device_id   TEXT UNIQUE        -- the enrollment it belongs to; NULL while pending
) STRICT;

-- The server's X25519 public key (base64) from the enrollment; NULL from a server without one.
ALTER TABLE enrollment ADD COLUMN server_key TEXT;
