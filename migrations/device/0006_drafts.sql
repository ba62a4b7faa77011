-- Forms being filled in (the visit form, a new household, a new resident), saved as the
-- volunteer types so nothing is lost when the phone sends the app to the background and the
-- system ends it. Kept in the device store, never in the WebView's storage: a draft can hold a
-- CCCD number.
CREATE TABLE drafts (
    key      TEXT PRIMARY KEY,
    value    TEXT NOT NULL,
    saved_at TEXT NOT NULL
) STRICT;
