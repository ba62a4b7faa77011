-- Schema 7 (issue 14): a person's record merged into another record of the same person
-- (residents_merged.v1) points at it; its removed column says 'merged'.
ALTER TABLE residents ADD COLUMN merged_into UUID;
