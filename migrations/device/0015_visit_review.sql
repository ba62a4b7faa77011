-- On the device (issue 14, additive): the retention baseline keeps a visit's review too
-- (visits.review, migrations/common/0009), in the same column order. A pulled event's clock
-- flag is kept in `events.flags` like a pushed one's, so a replay flags its visit again.
ALTER TABLE base_visits ADD COLUMN review TEXT;
