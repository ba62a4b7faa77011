-- The office's remembered column layouts: when an officer corrects which column holds which
-- field, the next list with the same headers is mapped the same way. Keyed by a hash of the
-- folded headers (gocua_import::Layout::fingerprint); `layout` is the importer's JSON. No cell
-- of any list is kept here.
CREATE TABLE import_layouts (
    fingerprint TEXT PRIMARY KEY,
    layout      TEXT NOT NULL,
    saved_at    TEXT NOT NULL
) STRICT;
