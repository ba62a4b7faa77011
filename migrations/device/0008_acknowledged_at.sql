-- Retention ages an acknowledged event by when this phone learned the server had it (the push
-- answer, or the pull page that brought it), by the phone's clock, not by when it was recorded:
-- a record made offline 40 days ago and acknowledged today stays on the phone 30 more days, in
-- case the server is restored from a backup and needs it again (crates/core/src/store/retention.rs).
-- RFC 3339 in UTC to the millisecond; NULL while not acknowledged.
ALTER TABLE events ADD COLUMN acknowledged_at TEXT;

-- When events acknowledged before this migration were acknowledged is not known, only that it was
-- before now: they age from now, the one time that can never purge one earlier than its due.
UPDATE events SET acknowledged_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE sync_state = 'acknowledged';
