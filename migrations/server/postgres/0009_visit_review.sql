-- Issue 14, additive (schema 7 still): a visit recorded on a phone with a wrong clock awaits a
-- look in the review queue (`clock_ahead`, `clock_behind`); `review_resolved.v1` clears it.
ALTER TABLE visits ADD COLUMN review TEXT;
