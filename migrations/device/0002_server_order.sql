-- Schema 2 on the device: why the server flagged a local event, and the index the replay in
-- server order (then unsent events by sequence) walks.
ALTER TABLE events ADD COLUMN flags TEXT;
CREATE INDEX events_server_seq ON events(server_seq);
