-- Issue 14, additive (schema 7 still): where the phone was when a visit was recorded, if the
-- volunteer let it say (visit_recorded.v1's optional `position`), for the police's spot-check.
-- All three or none: latitude and longitude in millionths of a degree, the accuracy in metres.
ALTER TABLE visits
    ADD COLUMN lat_e6 INTEGER,
    ADD COLUMN lon_e6 INTEGER,
    ADD COLUMN accuracy_m INTEGER;
