-- Issue 14: a household may be assigned on its own (a scope's place is then the household's
-- id). A household's records are stored under its own path, its hamlet's path and its id
-- (`/12/03445/03445-01/<id>/`), so a scope of that household alone selects them by prefix
-- and a hamlet's scope (or anything above) still holds them. Records stored before move
-- there; one whose household cannot be told keeps its path. Assignments and campaigns stay where
-- they are (a commune's path).
UPDATE events SET place_path = place_path || owner.household_id || '/'
FROM (
    SELECT e.server_seq AS server_seq,
           COALESCE(
               json_extract(e.payload, '$.household_id'),
               (SELECT r.household_id FROM residents r
                 WHERE r.id = COALESCE(json_extract(e.payload, '$.resident_id'), json_extract(e.payload, '$.kept'))),
               (SELECT h.id FROM households h WHERE h.id = json_extract(e.payload, '$.record_id')),
               (SELECT r.household_id FROM residents r WHERE r.id = json_extract(e.payload, '$.record_id'))
           ) AS household_id
    FROM events e
    WHERE e.type NOT IN ('assignment_set.v1', 'campaign_set.v1') AND e.place_path IS NOT NULL
) AS owner
WHERE events.server_seq = owner.server_seq AND owner.household_id IS NOT NULL;

UPDATE erasures SET place_path = place_path || (SELECT r.household_id FROM residents r WHERE r.id = erasures.resident_id) || '/'
WHERE place_path != '' AND EXISTS (SELECT 1 FROM residents r WHERE r.id = erasures.resident_id);

-- A scope's place may now be a household's id, which is no row of `places`: the two tables of
-- scope places lose that foreign key (SQLite rebuilds a table to drop one).
CREATE TABLE user_scopes_new (
    user_id    TEXT NOT NULL REFERENCES users(id),
    place_code TEXT NOT NULL,   -- a place's code, or a household's id
    PRIMARY KEY (user_id, place_code)
) STRICT;
INSERT INTO user_scopes_new (user_id, place_code) SELECT user_id, place_code FROM user_scopes;
DROP TABLE user_scopes;
ALTER TABLE user_scopes_new RENAME TO user_scopes;

CREATE TABLE former_scopes_new (
    user_id    TEXT NOT NULL REFERENCES users(id),
    scope_code TEXT NOT NULL,   -- a place's code, or a household's id
    until      TEXT NOT NULL,
    PRIMARY KEY (user_id, scope_code)
) STRICT;
INSERT INTO former_scopes_new (user_id, scope_code, until) SELECT user_id, scope_code, until FROM former_scopes;
DROP TABLE former_scopes;
ALTER TABLE former_scopes_new RENAME TO former_scopes;
