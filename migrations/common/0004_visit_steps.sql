-- The guidance checklist's steps of a visit (a JSON array of step codes, NULL for none),
-- shared by the device and the server.
ALTER TABLE visits ADD COLUMN steps TEXT;
