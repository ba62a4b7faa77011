-- Schema 7 on the device: the retention baseline keeps a merged record's pointer too
-- (residents.merged_into, migrations/common/0007).
ALTER TABLE base_residents ADD COLUMN merged_into TEXT;

-- Pairs the office looked at and found to be two different people (same name and birth year,
-- say): no longer shown as likely duplicates on this device. Smaller id first.
CREATE TABLE not_duplicates (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    PRIMARY KEY (a, b)
) STRICT;
