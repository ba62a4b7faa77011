-- Issue 14: records the server rejected are dealt with on the phone (crates/core/src/store/rejected.rs).
-- The volunteer corrects one and sends it again (a new event), sends it again unchanged (its household
-- or person was rejected before it and has been sent again since), or gives it up. The rejected event's
-- row stays, for the record, and says how it was dealt with: the id of the event that replaced it, or
-- 'discarded'. NULL while it waits for a person, which is what "Bị từ chối: N" counts.
ALTER TABLE events ADD COLUMN resolved_by TEXT;
-- When it was dealt with: RFC 3339 in UTC, by the phone's clock.
ALTER TABLE events ADD COLUMN resolved_at TEXT;
