-- The district dashboard's sign-in (issue 15): an account for a server user, made by an admin
-- command (`admin set-password`: no default password), the password only as an Argon2id PHC
-- string; failed sign-ins counted for a lockout that holds across restarts and servers. Sessions
-- are kept by the SHA-256 of their cookie's random token (a leaked table opens nothing), with the
-- CSRF token the page must send back, and expire when idle and at an absolute limit.
CREATE TABLE web_accounts (
    user_id         TEXT PRIMARY KEY REFERENCES users(id),
    login           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    changed_at      TEXT NOT NULL
) STRICT;

CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX web_sessions_user ON web_sessions(user_id);
