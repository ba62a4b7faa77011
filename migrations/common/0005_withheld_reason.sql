-- Issue 6: what a volunteer's or team leader's phone shows in place of a police-only reason
-- (the server masks it when it sends the visit). Never offered in a form, never accepted as input.
INSERT OR IGNORE INTO reasons (code, label_vi, label_en, can_activate_later, police_only, requires_note, province_code, sort_order) VALUES
    ('withheld', 'Lý do chỉ công an được xem', 'Reason visible to the police only', 0, 0, 0, NULL, 1000);
