-- Schema 7 on the device: peak campaigns as the office planned them (campaign_set.v1, the latest
-- of each), with their quotas; every device under the campaign's place pulls them, so a phone
-- shows the quota it was given offline. `plan` is the event's payload as JSON.
CREATE TABLE campaigns (
    id     TEXT PRIMARY KEY,
    place  TEXT NOT NULL,
    starts TEXT NOT NULL,   -- YYYY-MM-DD
    ends   TEXT NOT NULL,   -- YYYY-MM-DD, inclusive
    plan   TEXT NOT NULL
) STRICT;
-- and its baseline, like the projection's (crates/core/src/store/retention.rs)
CREATE TABLE base_campaigns AS SELECT * FROM campaigns WHERE 0;
