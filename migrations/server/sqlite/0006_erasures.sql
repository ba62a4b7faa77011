-- Issue 6: residents erased on request (crates/server/src/resident_rights.rs). Their personal
-- values are already gone from events and projection; this row tells the phones of their place
-- to do the same (PullResponse.erased), and holds no personal value itself.
CREATE TABLE erasures (
    resident_id TEXT PRIMARY KEY,
    place_path  TEXT NOT NULL,         -- the household's place path at erasure time
    at_seq      INTEGER NOT NULL,      -- the server's last server_seq at erasure time
    erased_at   TEXT NOT NULL,
    erased_by   TEXT NOT NULL          -- who carried it out (as given to the command)
) STRICT;
