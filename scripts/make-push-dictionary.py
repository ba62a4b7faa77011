#!/usr/bin/env python3
# How crates/core/src/sync/push-dictionary-v1.txt was made: made-up sample events of every kind
# in the compact push form (schema 3), after a list of common Vietnamese name parts and the
# reason and action codes. No real person. The dictionary is frozen once shipped (apps in the
# field compress with it; a test pins its SHA-256): a better one becomes v2, never a new v1.
# Usage: python3 scripts/make-push-dictionary.py > /tmp/candidate.txt
import json, random, sys, datetime
random.seed(20261122)
def uid(prefix, n): return f"{prefix}-{n:012x}"
D = "5d0c4f3a-9b7e-8a21-b6f4"  # made-up device prefix shape (event ids)
R = "c83e1b07-24d9-8f5c-9e12"  # made-up record prefix shape
family = ["Nguyễn","Trần","Lê","Phạm","Hoàng","Huỳnh","Phan","Vũ","Võ","Đặng","Bùi","Đỗ","Hồ","Ngô","Dương","Lý",
          "Lò","Hà","Vàng","Giàng","Sùng","Lầu","Thào","Mùa","Lường","Cà","Quàng","Lù","Chảo","Tẩn","Triệu","Nông","Đinh","Lương"]
middle = ["Văn","Thị","Đức","Minh","Ngọc","Thu","Mai","Quang","Hữu","Công","Xuân","Thanh","Hồng","A","Seo","Páo"]
given = ["An","Anh","Bình","Chiến","Cường","Dũng","Dung","Giang","Hà","Hải","Hạnh","Hằng","Hiền","Hoa","Hòa","Hùng","Hương",
         "Huyền","Khánh","Lan","Liên","Linh","Long","Mai","Minh","Nam","Nga","Ngọc","Nhung","Phóng","Phương","Quân","Sơn",
         "Tâm","Thảo","Thắng","Thủy","Trang","Tú","Tuấn","Vân","Xuân","Dơ","Chư","Sính","Mỷ","Pằng","Xá"]
statuses = ["no_chip_cccd","not_registered","registered_pending","approved_not_activated","activated_level1","activated_level2","used_portal"]
reasons = ["in_prison","abroad","absent_unreachable","needs_phone_update","needs_unlock","needs_device_change","no_smartphone","not_eligible","deceased","moved_away","refused","other"]
actions = ["installed_app","guided_level1","referred_level2","guided_activation","guided_portal"]
events = []
seq = 40; rec = 60; t = 1790000000
def ev(payload):
    global seq, t
    seq += 1; t += random.randint(30, 400)

    ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    events.append({"seq": seq, "device_time": ts, "payload": payload})
def newrec():
    global rec
    rec += 1; return uid(R, rec)
def name(): return f"{random.choice(family)} {random.choice(middle)} {random.choice(given)}"
# rarer shapes first
hh0 = uid(R, 3)
ev({"type":"household_removed.v1","household_id":hh0,"reason":"duplicate"})
ev({"type":"household_edited.v2","household_id":uid(R,7),"base_version":2,"address":"Tổ 3, khu 5","head_name":name()})
ev({"type":"resident_edited.v2","resident_id":uid(R,9),"base_version":1,"full_name":name(),"birth_year":1986,"sex":"female","cccd":"","phone":"0912345678"})
ev({"type":"household_surveyed.v1","household_id":uid(R,7),"members":5,"smartphones":2,"has_internet_computer":False})
ev({"type":"visit_recorded.v1","visit_id":newrec(),"resident_id":uid(R,9),"status":"registered_pending","action":"guided_level1","follow_up":"2026-10-12","note":"Hẹn quay lại sau khi được phê duyệt"})
for i, hh in enumerate(range(3)):
    hid = newrec()
    ev({"type":"household_created.v1","household_id":hid,"hamlet_code":f"0{random.randint(1000,9999)}-0{i+1}","address":f"Số {random.randint(1,150)} {['Thôn','Bản','Tổ','Xóm'][i]} {random.randint(1,9)}","head_name":name()})
    ids = []
    for r in range(4):
        rid = newrec(); ids.append(rid)
        year = random.randint(1950, 2008); sex = random.choice(["male","female"])
        century = (year - 1900)//100; digit = century*2 + (1 if sex=="female" else 0)
        cccd = f"0{random.randint(1,96):02d}{digit}{year%100:02d}{random.randint(0,999999):06d}" if r != 3 else None
        phone = f"0{random.choice([3,5,7,8,9])}{random.randint(0,99999999):08d}" if r % 2 == 0 else None
        ev({"type":"resident_added.v1","resident_id":rid,"household_id":hid,"full_name":name(),"birth_year":year,"sex":sex,"cccd":cccd,"phone":phone})
    for r, rid in enumerate(ids):
        st = statuses[(i*4 + r) % 7]
        p = {"type":"visit_recorded.v1","visit_id":newrec(),"resident_id":rid,"status":st}
        if st in ("no_chip_cccd","not_registered","approved_not_activated"):
            p["reason_code"] = reasons[(i*4+r) % len(reasons)]
        if st.startswith("activated") or st == "used_portal":
            p["action"] = actions[(i+r) % len(actions)]
        ev(p)
body = {"schema_version":3,"app_version":"0.1.0","device_id":uid(D.replace("8a21","7a21"),0x7d3a90c2b1e4),
        "author":"0a9f3e21-6c4b-7d18-8e05-3b27c1f9d604","events":events}
words = " ".join(family + middle + given + reasons + actions)
out = words + "\n" + json.dumps(body, ensure_ascii=False, separators=(",",":"))
sys.stdout.write(out)

