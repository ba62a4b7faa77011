-- Issue 6, retention: acknowledged events leave the phone after the retention period, and what
-- they made is kept here, the baseline every replay of the projection starts from
-- (crates/core/src/store/retention.rs). Same columns, in the same order, as the projection's
-- tables: a migration that adds a column to households, residents or visits adds it here too.
CREATE TABLE base_households AS SELECT * FROM households WHERE 0;
CREATE TABLE base_residents AS SELECT * FROM residents WHERE 0;
CREATE TABLE base_visits AS SELECT * FROM visits WHERE 0;
