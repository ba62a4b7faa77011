-- Schema 6 (issue 14), on the device and the server's SQLite:
-- a person's tombstone (resident_removed.v1): why they were removed, NULL while they count. The
-- row stays, so visits recorded offline meanwhile are kept; lists and counts skip it;
-- and what a spot-check found about a claimed activation (claim_checked.v1), with the visit it
-- checked: the finding holds while that visit is still the deciding one.
ALTER TABLE residents ADD COLUMN removed TEXT;
ALTER TABLE residents ADD COLUMN claim_check TEXT;
ALTER TABLE residents ADD COLUMN checked_visit TEXT;
