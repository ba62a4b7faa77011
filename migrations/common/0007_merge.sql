-- Schema 7 (issue 14), on the device and the server's SQLite: a person's record merged into
-- another record of the same person (residents_merged.v1) points at it; its removed column
-- says 'merged'. A visit recorded on it later lands on the record it points at.
ALTER TABLE residents ADD COLUMN merged_into TEXT;
