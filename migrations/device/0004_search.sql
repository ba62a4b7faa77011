-- Household search on the device (DeviceStore::households), fast at 50,000 residents.
--
-- household_search holds one row per household that is not removed, in the order the list shows
-- (hamlet, then the head's search key, then id), with what the search filters on: the
-- residents' folded names, their states and reasons, and the earliest return visit. A search is
-- then one walk of this table in list order that stops at the page's limit, instead of a join and
-- a sort of every household with every resident.
--
-- It is derived data, like an index: the triggers below rebuild a household's row whenever the
-- household or one of its residents is written or deleted (INSERT OR REPLACE fires the insert
-- trigger), from the view household_search_source, which is the one definition of a row.

CREATE TABLE household_search (
    hamlet_code    TEXT NOT NULL,
    sort_key       TEXT NOT NULL,            -- households.search_key: head's name and address
    household_id   TEXT NOT NULL UNIQUE,
    names          TEXT NOT NULL,            -- every resident's search_key, each after a newline
    statuses       TEXT NOT NULL,            -- '|state|' per resident, '|-|' for not visited yet
    open_statuses  TEXT NOT NULL,            -- the same, of residents without a reason code
    reasons        INTEGER NOT NULL,         -- residents with a cannot-activate reason
    next_follow_up TEXT,                     -- the earliest return visit date (YYYY-MM-DD)
    PRIMARY KEY (hamlet_code, sort_key, household_id)
) STRICT, WITHOUT ROWID;

CREATE VIEW household_search_source AS
SELECT h.hamlet_code AS hamlet_code,
       h.search_key AS sort_key,
       h.id AS household_id,
       coalesce(group_concat(char(10) || r.search_key, ''), '') AS names,
       coalesce(group_concat('|' || coalesce(r.status, '-') || '|', '') FILTER (WHERE r.id IS NOT NULL), '')
           AS statuses,
       coalesce(group_concat('|' || coalesce(r.status, '-') || '|', '')
           FILTER (WHERE r.id IS NOT NULL AND r.reason_code IS NULL), '') AS open_statuses,
       count(r.reason_code) AS reasons,
       min(r.follow_up) AS next_follow_up
FROM households h LEFT JOIN residents r ON r.household_id = h.id
WHERE h.removed IS NULL
GROUP BY h.id;

INSERT INTO household_search
    (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
FROM household_search_source;

CREATE TRIGGER household_search_on_household_insert AFTER INSERT ON households BEGIN
    DELETE FROM household_search WHERE household_id = new.id;
    INSERT INTO household_search
        (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
    SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
    FROM household_search_source WHERE household_id = new.id;
END;

CREATE TRIGGER household_search_on_household_update AFTER UPDATE ON households BEGIN
    DELETE FROM household_search WHERE household_id IN (old.id, new.id);
    INSERT INTO household_search
        (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
    SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
    FROM household_search_source WHERE household_id IN (old.id, new.id);
END;

CREATE TRIGGER household_search_on_household_delete AFTER DELETE ON households BEGIN
    DELETE FROM household_search WHERE household_id = old.id;
END;

CREATE TRIGGER household_search_on_resident_insert AFTER INSERT ON residents BEGIN
    DELETE FROM household_search WHERE household_id = new.household_id;
    INSERT INTO household_search
        (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
    SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
    FROM household_search_source WHERE household_id = new.household_id;
END;

CREATE TRIGGER household_search_on_resident_update AFTER UPDATE ON residents BEGIN
    DELETE FROM household_search WHERE household_id IN (old.household_id, new.household_id);
    INSERT INTO household_search
        (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
    SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
    FROM household_search_source WHERE household_id IN (old.household_id, new.household_id);
END;

CREATE TRIGGER household_search_on_resident_delete AFTER DELETE ON residents BEGIN
    DELETE FROM household_search WHERE household_id = old.household_id;
    INSERT INTO household_search
        (hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up)
    SELECT hamlet_code, sort_key, household_id, names, statuses, open_statuses, reasons, next_follow_up
    FROM household_search_source WHERE household_id = old.household_id;
END;
