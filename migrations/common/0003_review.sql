-- Schema 2: edits carry only changed fields; a record remembers which version changed each
-- field, and why it waits for review (parallel_update | conflict). Households get tombstones.
ALTER TABLE households DROP COLUMN needs_review;
ALTER TABLE households ADD COLUMN review TEXT CHECK (review IN ('parallel_update', 'conflict'));
ALTER TABLE households ADD COLUMN field_versions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE households ADD COLUMN removed TEXT;
ALTER TABLE residents DROP COLUMN needs_review;
ALTER TABLE residents ADD COLUMN review TEXT CHECK (review IN ('parallel_update', 'conflict'));
ALTER TABLE residents ADD COLUMN field_versions TEXT NOT NULL DEFAULT '{}';
