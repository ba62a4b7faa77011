-- The volunteers and leaders whose events this device pulled (name and role, from each pull
-- page's `people`), so a team leader's phone can say who did what. No citizen data.
CREATE TABLE people (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL
) STRICT;
