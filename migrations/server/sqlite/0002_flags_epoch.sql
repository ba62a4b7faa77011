-- Schema 2 on the server: why an applied event was flagged, the time reports use (the device's
-- clock clamped to the server's), and the database's identity for pull cursors.
ALTER TABLE events ADD COLUMN flags TEXT;
ALTER TABLE events ADD COLUMN effective_time TEXT;

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
-- A new database gets a new epoch: cursors of another database mean nothing here.
INSERT INTO server_meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));
