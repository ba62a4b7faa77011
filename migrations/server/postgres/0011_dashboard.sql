-- The district dashboard's sign-in (issue 15), as `server/sqlite/0011_dashboard.sql`: accounts
-- made by an admin command with an Argon2id password hash and a lockout counter, and sessions
-- kept by the SHA-256 of their token with their CSRF token and expiry.
CREATE TABLE web_accounts (
    user_id         UUID PRIMARY KEY REFERENCES users(id),
    login           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until    TIMESTAMPTZ,
    changed_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users(id),
    csrf         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
