-- The audit log: every read or change of personal data (a push, a pull page, an officer's
-- action), who did it, from which device, when. Ids, counts and server_seq ranges only, never a
-- personal value. Each row's hash covers the row and the previous row's hash, so a changed,
-- removed or inserted row breaks the chain (`gocua-server admin verify-audit`).
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_user   TEXT,
    actor_device TEXT,
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm / the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'nhật ký kiểm tra chỉ được ghi thêm / the audit log is append-only');
END;
