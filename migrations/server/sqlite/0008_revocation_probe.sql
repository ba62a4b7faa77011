-- Issue 14: a locked phone still learns it was revoked. At enrollment a device is also given a
-- revocation probe, a second random secret that its app keeps outside the encrypted database
-- (in the OS key store), so it can ask `POST /api/v1/device/status` while its database is
-- closed. Only the probe's SHA-256 is kept, as for the token; NULL for devices enrolled before.
ALTER TABLE devices ADD COLUMN probe_hash TEXT;
