-- On the device (issue 14, additive): the retention baseline keeps a visit's position too
-- (visits.lat_e6, lon_e6, accuracy_m, migrations/common/0008), in the same column order.
ALTER TABLE base_visits ADD COLUMN lat_e6 INTEGER;
ALTER TABLE base_visits ADD COLUMN lon_e6 INTEGER;
ALTER TABLE base_visits ADD COLUMN accuracy_m INTEGER;
