-- Issue 15: the report's counters, kept by every write (crates/server-postgres/src/tx/report.rs,
-- `recount`), so a province's report reads a few thousand rows instead of grouping two million
-- people and ten million visits. The same tables as SQLite's 0012; '' stands for none in a key.
CREATE TABLE report_states (
    hamlet_code TEXT NOT NULL,
    status      TEXT NOT NULL,    -- '' when not visited yet
    reason_code TEXT NOT NULL,    -- '' when none
    confirmed   BOOLEAN NOT NULL, -- a spot-check confirmed the activation
    n           BIGINT NOT NULL,
    PRIMARY KEY (hamlet_code, status, reason_code, confirmed)
);

CREATE TABLE report_households (
    hamlet_code   TEXT PRIMARY KEY,
    listed        BIGINT NOT NULL,
    surveyed      BIGINT NOT NULL,
    members       BIGINT NOT NULL,
    smartphones   BIGINT NOT NULL,
    with_computer BIGINT NOT NULL
);

-- by Vietnam's calendar day (UTC+7, `gocua_core::report::REPORT_UTC_OFFSET_MINUTES`) and author:
-- first activations (a person's earliest activated visit, ties by visit id), visits, referrals
CREATE TABLE report_flows (
    hamlet_code TEXT NOT NULL,
    day         DATE NOT NULL,
    author      UUID NOT NULL,
    activated   BIGINT NOT NULL,
    visits      BIGINT NOT NULL,
    referred    BIGINT NOT NULL,
    PRIMARY KEY (hamlet_code, day, author)
);

INSERT INTO report_states (hamlet_code, status, reason_code, confirmed, n)
SELECT h.hamlet_code, coalesce(r.status, ''), coalesce(r.reason_code, ''),
       coalesce(r.claim_check = 'confirmed', false), count(*)
FROM residents r JOIN households h ON h.id = r.household_id
WHERE r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO report_households (hamlet_code, listed, surveyed, members, smartphones, with_computer)
SELECT hamlet_code, count(*), count(members), coalesce(sum(members), 0), coalesce(sum(smartphones), 0),
       count(*) FILTER (WHERE has_internet_computer)
FROM households WHERE removed IS NULL
GROUP BY 1;

INSERT INTO report_flows (hamlet_code, day, author, activated, visits, referred)
SELECT hamlet_code, day, author, sum(activated), sum(visits), sum(referred) FROM (
    SELECT h.hamlet_code, (v.device_time AT TIME ZONE 'UTC' + interval '420 minutes')::date AS day, v.author,
           0 AS activated, 1 AS visits, coalesce(v.action = 'referred_level2', false)::int AS referred
    FROM visits v JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id
    WHERE r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
    UNION ALL
    SELECT h.hamlet_code, (f.device_time AT TIME ZONE 'UTC' + interval '420 minutes')::date, f.author, 1, 0, 0
    FROM (SELECT DISTINCT ON (resident_id) resident_id, author, device_time FROM visits
          WHERE status IN ('activated_level1', 'activated_level2', 'used_portal')
          ORDER BY resident_id, device_time, id) f
    JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
    WHERE r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
) AS rows
GROUP BY 1, 2, 3;

-- the campaign sets a report or a pull looks up by place, apart from the rest of the log
CREATE INDEX events_campaigns ON events (place_path, server_seq)
    WHERE status = 'applied' AND type = 'campaign_set.v1';
