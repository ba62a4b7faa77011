-- Issue 14: a household may be assigned on its own (a scope's place is then the household's
-- id). A household's records are stored under its own path, its hamlet's path and its id
-- (`/12/03445/03445-01/<id>/`), so a scope of that household alone selects them by prefix
-- and a hamlet's scope (or anything above) still holds them. Records stored before move
-- there; one whose household cannot be told keeps its path. Assignments and campaigns stay where
-- they are (a commune's path).
UPDATE events SET place_path = events.place_path || owner.household_id::text || '/'
FROM (
    SELECT e.server_seq AS server_seq,
           COALESCE(
               (e.payload::jsonb ->> 'household_id')::uuid,
               (SELECT r.household_id FROM residents r
                 WHERE r.id = COALESCE(e.payload::jsonb ->> 'resident_id', e.payload::jsonb ->> 'kept')::uuid),
               (SELECT h.id FROM households h WHERE h.id = (e.payload::jsonb ->> 'record_id')::uuid),
               (SELECT r.household_id FROM residents r WHERE r.id = (e.payload::jsonb ->> 'record_id')::uuid)
           ) AS household_id
    FROM events e
    WHERE e.type NOT IN ('assignment_set.v1', 'campaign_set.v1') AND e.place_path IS NOT NULL
) AS owner
WHERE events.server_seq = owner.server_seq AND owner.household_id IS NOT NULL;

UPDATE erasures SET place_path = erasures.place_path || r.household_id::text || '/'
FROM residents r
WHERE r.id = erasures.resident_id AND erasures.place_path != '';

-- A scope's place may now be a household's id, which is no row of `places`.
ALTER TABLE user_scopes DROP CONSTRAINT user_scopes_place_code_fkey;
ALTER TABLE former_scopes DROP CONSTRAINT former_scopes_scope_code_fkey;
