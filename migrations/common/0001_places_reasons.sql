-- The place tree (any depth) and the cannot-activate reason catalog.
CREATE TABLE places (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    division_type TEXT NOT NULL,
    parent_code   TEXT REFERENCES places(code)
) STRICT;
CREATE INDEX places_parent ON places(parent_code);

CREATE TABLE reasons (
    code               TEXT PRIMARY KEY,
    label_vi           TEXT NOT NULL,
    label_en           TEXT NOT NULL,
    can_activate_later INTEGER NOT NULL CHECK (can_activate_later IN (0, 1)),
    police_only        INTEGER NOT NULL CHECK (police_only IN (0, 1)),
    requires_note      INTEGER NOT NULL CHECK (requires_note IN (0, 1)),
    province_code      TEXT,
    sort_order         INTEGER NOT NULL
) STRICT;

-- The national list of DOMAIN.md (seed 001: "có thể kích hoạt" / "chưa thể kích hoạt").
INSERT INTO reasons (code, label_vi, label_en, can_activate_later, police_only, requires_note, province_code, sort_order) VALUES
    ('in_prison',           'Đi tù',                                 'In prison',                                  0, 1, 0, NULL, 10),
    ('abroad',              'Đi nước ngoài',                         'Abroad',                                     0, 0, 0, NULL, 20),
    ('absent_unreachable',  'Vắng mặt, không liên lạc được',         'Absent, unreachable',                        1, 0, 0, NULL, 30),
    ('needs_phone_update',  'Cần cập nhật số điện thoại',            'Phone number on record must be updated',     1, 0, 0, NULL, 40),
    ('needs_unlock',        'Cần mở khóa tài khoản',                 'Account locked, must be unlocked',           1, 0, 0, NULL, 50),
    ('needs_device_change', 'Cần thay đổi thiết bị',                 'Account bound to another device',            1, 0, 0, NULL, 60),
    ('no_smartphone',       'Không có điện thoại thông minh',        'No smartphone',                              1, 0, 0, NULL, 70),
    ('not_eligible',        'Không đủ điều kiện',                    'Not eligible',                               0, 0, 0, NULL, 80),
    ('deceased',            'Đã chết',                               'Deceased',                                   0, 0, 0, NULL, 90),
    ('moved_away',          'Đã chuyển đi',                          'Moved away',                                 0, 0, 0, NULL, 100),
    ('refused',             'Từ chối',                               'Refused',                                    1, 0, 0, NULL, 110),
    ('other',               'Khác',                                  'Other',                                      1, 0, 1, NULL, 120);
