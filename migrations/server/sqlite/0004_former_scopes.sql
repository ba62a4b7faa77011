-- Places a user worked in before being reassigned: their phones' unsent records from there are
-- still accepted (recorded while assigned), while pulls follow the current scope only.
CREATE TABLE former_scopes (
    user_id    TEXT NOT NULL REFERENCES users(id),
    scope_code TEXT NOT NULL REFERENCES places(code),
    until      TEXT NOT NULL,
    PRIMARY KEY (user_id, scope_code)
) STRICT;
