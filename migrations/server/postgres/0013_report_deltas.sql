-- Issue 15: a push appends its changes to the report's counters here instead of updating the
-- counters' rows (crates/server-postgres/src/tx/report.rs). Updating one row per hamlet on every
-- push left a chain of dead row versions that a hot standby's feedback keeps for seconds, and
-- made concurrent pushes in one hamlet wait on each other's row locks. A report reads the
-- counters plus these rows; `Tx::fold_counts` (every few seconds, `reports::keep_counters`)
-- moves them into the counters in one transaction. No keys: nothing conflicts.
CREATE TABLE report_state_deltas (
    hamlet_code TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    n           BIGINT NOT NULL
);

CREATE TABLE report_household_deltas (
    hamlet_code   TEXT NOT NULL,
    listed        BIGINT NOT NULL,
    surveyed      BIGINT NOT NULL,
    members       BIGINT NOT NULL,
    smartphones   BIGINT NOT NULL,
    with_computer BIGINT NOT NULL
);

CREATE TABLE report_flow_deltas (
    hamlet_code TEXT NOT NULL,
    day         DATE NOT NULL,
    author      UUID NOT NULL,
    activated   BIGINT NOT NULL,
    visits      BIGINT NOT NULL,
    referred    BIGINT NOT NULL
);
