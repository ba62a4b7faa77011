-- The PostgreSQL server's first schema, part 1: what migrations/common/0001–0005 make on SQLite
-- (the place tree, the cannot-activate reason catalog, the reducer's projection), in its latest
-- shape, with native types: uuid ids, boolean flags, bigint for the reducer's u32 counters,
-- date for follow-up days, timestamptz for times. JSON stays text (field_versions, steps), as the
-- reducer writes it. Applied by gocua-server-postgres's own runner (schema_migrations).

CREATE TABLE places (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    division_type TEXT NOT NULL,
    parent_code   TEXT REFERENCES places(code)
);
CREATE INDEX places_parent ON places(parent_code);

CREATE TABLE reasons (
    code               TEXT PRIMARY KEY,
    label_vi           TEXT NOT NULL,
    label_en           TEXT NOT NULL,
    can_activate_later BOOLEAN NOT NULL,
    police_only        BOOLEAN NOT NULL,
    requires_note      BOOLEAN NOT NULL,
    province_code      TEXT,
    sort_order         BIGINT NOT NULL
);

-- The national list of DOMAIN.md (common/0001), and the reason non-police phones see in place of
-- a police-only one (common/0005).
INSERT INTO reasons (code, label_vi, label_en, can_activate_later, police_only, requires_note, province_code, sort_order) VALUES
    ('in_prison',           'Đi tù',                                 'In prison',                                  false, true,  false, NULL, 10),
    ('abroad',              'Đi nước ngoài',                         'Abroad',                                     false, false, false, NULL, 20),
    ('absent_unreachable',  'Vắng mặt, không liên lạc được',         'Absent, unreachable',                        true,  false, false, NULL, 30),
    ('needs_phone_update',  'Cần cập nhật số điện thoại',            'Phone number on record must be updated',     true,  false, false, NULL, 40),
    ('needs_unlock',        'Cần mở khóa tài khoản',                 'Account locked, must be unlocked',           true,  false, false, NULL, 50),
    ('needs_device_change', 'Cần thay đổi thiết bị',                 'Account bound to another device',            true,  false, false, NULL, 60),
    ('no_smartphone',       'Không có điện thoại thông minh',        'No smartphone',                              true,  false, false, NULL, 70),
    ('not_eligible',        'Không đủ điều kiện',                    'Not eligible',                               false, false, false, NULL, 80),
    ('deceased',            'Đã chết',                               'Deceased',                                   false, false, false, NULL, 90),
    ('moved_away',          'Đã chuyển đi',                          'Moved away',                                 false, false, false, NULL, 100),
    ('refused',             'Từ chối',                               'Refused',                                    true,  false, false, NULL, 110),
    ('other',               'Khác',                                  'Other',                                      true,  false, true,  NULL, 120),
    ('withheld',            'Lý do chỉ công an được xem',            'Reason visible to the police only',          false, false, false, NULL, 1000);

-- Current state derived by the reducer (crates/core/src/reducer.rs); never written otherwise.
CREATE TABLE households (
    id                    UUID PRIMARY KEY,
    hamlet_code           TEXT NOT NULL REFERENCES places(code),
    address               TEXT NOT NULL,
    head_name             TEXT NOT NULL,
    members               BIGINT,
    smartphones           BIGINT,
    has_internet_computer BOOLEAN,
    version               BIGINT NOT NULL,
    review                TEXT CHECK (review IN ('parallel_update', 'conflict')),
    field_versions        TEXT NOT NULL DEFAULT '{}',
    removed               TEXT,
    search_key            TEXT NOT NULL
);
CREATE INDEX households_hamlet ON households(hamlet_code);

CREATE TABLE residents (
    id             UUID PRIMARY KEY,
    household_id   UUID NOT NULL REFERENCES households(id),
    full_name      TEXT NOT NULL,
    birth_year     INTEGER NOT NULL,
    sex            TEXT NOT NULL,
    cccd           TEXT,
    phone          TEXT,
    version        BIGINT NOT NULL,
    review         TEXT CHECK (review IN ('parallel_update', 'conflict')),
    status         TEXT,
    reason_code    TEXT,
    follow_up      DATE,
    deciding_visit UUID,
    visit_count    BIGINT NOT NULL DEFAULT 0,
    field_versions TEXT NOT NULL DEFAULT '{}',
    search_key     TEXT NOT NULL
);
CREATE INDEX residents_household ON residents(household_id);

CREATE TABLE visits (
    id          UUID PRIMARY KEY,
    resident_id UUID NOT NULL REFERENCES residents(id),
    status      TEXT NOT NULL,
    reason_code TEXT,
    action      TEXT,
    follow_up   DATE,
    note        TEXT,
    author      UUID NOT NULL,
    device_id   UUID NOT NULL,
    device_time TIMESTAMPTZ NOT NULL,
    -- the guidance checklist's steps (a JSON array of step codes), NULL for none
    steps       TEXT
);
CREATE INDEX visits_resident ON visits(resident_id);
