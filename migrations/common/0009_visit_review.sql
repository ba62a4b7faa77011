-- Issue 14, additive (schema 7 still), on the device and the server's SQLite: a visit recorded
-- on a phone with a wrong clock awaits a look in the review queue (`clock_ahead`,
-- `clock_behind`: the server counted it at its arrival); `review_resolved.v1` clears it.
ALTER TABLE visits ADD COLUMN review TEXT;
