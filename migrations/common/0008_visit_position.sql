-- Issue 14, additive (schema 7 still), on the device and the server's SQLite: where the phone
-- was when a visit was recorded, if the volunteer let it say (visit_recorded.v1's optional
-- `position`), for the police's spot-check. All three or none: latitude and longitude in
-- millionths of a degree, the accuracy in metres. Non-police phones never receive them
-- (privacy::mask_payload).
ALTER TABLE visits ADD COLUMN lat_e6 INTEGER;
ALTER TABLE visits ADD COLUMN lon_e6 INTEGER;
ALTER TABLE visits ADD COLUMN accuracy_m INTEGER;
