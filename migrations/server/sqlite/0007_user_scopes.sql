-- Issue 13: a user's scope is a set of places (a volunteer given two hamlets, a team leader a
-- team's hamlets). `users.scope_code` stays only because SQLite cannot drop a column that is a
-- foreign key; it holds the scope's first place and nothing reads it.
CREATE TABLE user_scopes (
    user_id    TEXT NOT NULL REFERENCES users(id),
    place_code TEXT NOT NULL REFERENCES places(code),
    PRIMARY KEY (user_id, place_code)
) STRICT;
INSERT INTO user_scopes (user_id, place_code) SELECT id, scope_code FROM users;
