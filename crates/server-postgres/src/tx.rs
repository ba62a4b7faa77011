//! Every statement of the server on PostgreSQL: the seam's traits over one transaction.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use chrono::{DateTime, NaiveDate, Utc};
use gocua_core::event::{Event, GeoPosition, Payload};
use gocua_core::funnel::{FunnelState, VisitAction};
use gocua_core::model::{Household, Resident, Review, Sex, Visit};
use gocua_core::places::{Place, PlaceLevel};
use gocua_core::reasons::{Reason, ReasonCatalog};
use gocua_core::reducer::Projection;
use gocua_core::report::lists::ListRow;
use gocua_core::report::{DayRange, Facts};
use gocua_core::scope::Scope;
use gocua_core::spotcheck::CheckOutcome;
use gocua_core::sync::protocol::{Flag, Role, UserInfo};
use gocua_core::text::fold;
use gocua_server_store::*;
use postgres::Row;
use postgres::types::{FromSql, ToSql};
use uuid::Uuid;

use crate::conn::{OwnedParam, PgConn, store_error};

/// Rows of the keys in `$1` (an array of `$ty`), by `$order`: `$select` names each key as
/// `k.key`. One primary-key probe per key whatever the planner's statistics say: the generic
/// plan of `key = ANY($1)` (or `IN (SELECT unnest($1))`), made while a table was small, scans
/// the whole table once it has grown, until the next ANALYZE (3.6 against 0.07 ms at 21,000
/// rows); `LIMIT 1` keeps the subquery from being flattened into such a join.
macro_rules! by_keys {
    ($ty:literal, $select:expr, $order:literal) => {
        concat!(
            "SELECT f.* FROM (SELECT DISTINCT unnest($1::",
            $ty,
            "[])) AS k(key) CROSS JOIN LATERAL (",
            $select,
            " LIMIT 1) AS f ORDER BY ",
            $order
        )
    };
}

type Param<'a> = &'a (dyn ToSql + Sync);

/// One transaction on one connection (begun and ended by the store).
pub(crate) struct PgTx<'c> {
    conn: &'c mut PgConn,
    /// The first statement that failed: PostgreSQL aborted the transaction then, so it cannot
    /// commit even if the closure goes on.
    pub(crate) failed: Option<StoreError>,
}

impl<'c> PgTx<'c> {
    /// The places `codes` name and their ancestors, in one round trip up the tree: each code's
    /// chain from the place up, nearest first, chains one after another. It reads a level past
    /// the deepest real tree, so that a walk over the rows still finds a loop.
    fn ancestry(&mut self, codes: &[String]) -> StoreResult<Vec<Place>> {
        let rows = self.query(
            // each step a key probe (`LIMIT 1` keeps the planner from hashing the whole table)
            "WITH RECURSIVE up (start, code, name, level, division_type, parent_code, depth) AS (
                 SELECT f.code, f.*, 0
                 FROM (SELECT DISTINCT unnest($1::text[])) AS k(key)
                 CROSS JOIN LATERAL (SELECT code, name, level, division_type, parent_code FROM places
                                     WHERE code = k.key LIMIT 1) AS f
                 UNION ALL
                 SELECT up.start, p.*, up.depth + 1
                 FROM up
                 CROSS JOIN LATERAL (SELECT code, name, level, division_type, parent_code FROM places
                                     WHERE code = up.parent_code LIMIT 1) AS p
                 WHERE up.depth <= $2
             )
             SELECT code, name, level, division_type, parent_code FROM up ORDER BY start, depth",
            &[&codes, &(gocua_core::places::MAX_DEPTH as i32 + 1)],
        )?;
        rows.iter().map(place_from_row).collect()
    }

    pub(crate) fn new(conn: &'c mut PgConn) -> Self {
        PgTx { conn, failed: None }
    }

    fn noted<T>(&mut self, result: Result<T, postgres::Error>) -> StoreResult<T> {
        result.map_err(|e| {
            let error = store_error(&e);
            self.failed.get_or_insert_with(|| error.clone());
            error
        })
    }

    fn query(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let result = self.conn.query(sql, params);
        self.noted(result)
    }

    fn query_opt(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Option<Row>> {
        let mut rows = self.query(sql, params)?;
        if rows.len() > 1 {
            return Err(StoreError::Corrupt(format!("{} rows where one was expected", rows.len())));
        }
        Ok(rows.pop())
    }

    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<u64> {
        let result = self.conn.execute(sql, params);
        self.noted(result)
    }

    /// A write whose answer nobody reads: it waits in the connection's pipeline and is sent
    /// with the next statement that needs an answer, or with the COMMIT; an error it meets
    /// there fails that statement, or the commit.
    fn defer(&mut self, sql: &'static str, params: Vec<OwnedParam>) -> StoreResult<()> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.conn.defer(sql, params);
        Ok(())
    }
}

/// Owned parameters for [`PgTx::defer`].
macro_rules! owned {
    ($($param:expr),* $(,)?) => {
        vec![$(Box::new($param) as crate::conn::OwnedParam),*]
    };
}

mod report;

// ---------------------------------------------------------------------------------------------
// Values in and out

fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> StoreResult<T> {
    row.try_get(i).map_err(|e| {
        let source = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
        StoreError::Corrupt(format!("column {i}{source}"))
    })
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unreadable {what}: {value}"))
}

fn to_i64(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Failed(format!("{value} is too large for the database")))
}

fn to_u64(value: i64) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| corrupt("count", &value.to_string()))
}

fn to_u32(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| corrupt("number", &value.to_string()))
}

fn opt_u32(value: Option<i64>) -> StoreResult<Option<u32>> {
    value.map(to_u32).transpose()
}

/// The items with the last of each key only (one upsert statement may not touch a row twice;
/// SQLite's row-by-row `INSERT OR REPLACE` kept the last).
fn last_of_each<T, K: Hash + Eq>(items: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut out: Vec<&T> = items.iter().rev().filter(|item| seen.insert(key(item))).collect();
    out.reverse();
    out
}

fn status_text(status: &StoredStatus) -> (&'static str, Option<&str>) {
    match status {
        StoredStatus::Applied => ("applied", None),
        StoredStatus::Rejected(errors) => ("rejected", errors.as_deref()),
    }
}

fn stored_status(status: &str, errors: Option<String>) -> StoreResult<StoredStatus> {
    match status {
        "applied" => Ok(StoredStatus::Applied),
        "rejected" => Ok(StoredStatus::Rejected(errors)),
        other => Err(corrupt("event status", other)),
    }
}

fn role(code: &str) -> StoreResult<Role> {
    Role::from_code(code).ok_or_else(|| corrupt("role", code))
}

fn review(code: Option<String>) -> StoreResult<Option<Review>> {
    code.map(|c| Review::from_code(&c).ok_or_else(|| corrupt("review", &c))).transpose()
}

fn field_versions(json: &str) -> StoreResult<BTreeMap<String, u32>> {
    serde_json::from_str(json).map_err(|_| corrupt("field versions", json))
}

fn funnel(code: &str) -> StoreResult<FunnelState> {
    FunnelState::from_code(code).ok_or_else(|| corrupt("funnel state", code))
}

fn action_code(action: VisitAction) -> StoreResult<String> {
    match serde_json::to_value(action)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Failed(format!("visit action {other} is not a code"))),
    }
}

fn payload(json: &str) -> StoreResult<Payload> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("unreadable event payload: {e}")))
}

/// `[lo, hi)`: the strings that start with `prefix`, in bytewise order (place paths are
/// `COLLATE "C"`), so a prefix is a range of an index. `hi` is the prefix with its last
/// character replaced by the next one.
fn prefix_range(prefix: &str) -> (String, String) {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return (prefix.to_owned(), chars.into_iter().collect());
        }
    }
    // empty (or only U+10FFFF): every path
    (prefix.to_owned(), char::MAX.to_string().repeat(4))
}

/// Whether a place path is a province's (or the root's): `/12/` has one code.
fn is_broad(path: &str) -> bool {
    path.split('/').filter(|c| !c.is_empty()).count() <= 1
}

const PLACE_COLUMNS: &str = "code, name, level, division_type, parent_code";

fn place_from_row(row: &Row) -> StoreResult<Place> {
    let level: String = get(row, 2)?;
    Ok(Place {
        code: get(row, 0)?,
        name: get(row, 1)?,
        level: PlaceLevel::from_code(&level).ok_or_else(|| corrupt("place level", &level))?,
        division_type: get(row, 3)?,
        parent_code: get(row, 4)?,
    })
}

fn reason_from_row(row: &Row) -> StoreResult<Reason> {
    Ok(Reason {
        code: get(row, 0)?,
        label_vi: get(row, 1)?,
        label_en: get(row, 2)?,
        can_activate_later: get(row, 3)?,
        police_only: get(row, 4)?,
        requires_note: get(row, 5)?,
        province_code: get(row, 6)?,
        sort_order: get(row, 7)?,
    })
}

fn user_from_row(row: &Row) -> StoreResult<UserRow> {
    user_at(row, 0)
}

/// A user from the columns of `user_select!` starting at `at`.
fn user_at(row: &Row, at: usize) -> StoreResult<UserRow> {
    let role_code: String = get(row, at + 2)?;
    let codes: Vec<String> = get(row, at + 4)?;
    Ok(UserRow {
        id: get(row, at)?,
        name: get(row, at + 1)?,
        role: role(&role_code)?,
        scope: Scope::new(codes).map_err(|e| StoreError::Corrupt(format!("a user's scope: {e}")))?,
        created_at: get(row, at + 3)?,
    })
}

fn code_from_row(row: &Row) -> StoreResult<CodeRow> {
    Ok(CodeRow {
        code_hash: get(row, 0)?,
        user_id: get(row, 1)?,
        created_at: get(row, 2)?,
        expires_at: get(row, 3)?,
        used_at: get(row, 4)?,
    })
}

fn device_from_row(row: &Row) -> StoreResult<DeviceRow> {
    Ok(DeviceRow {
        id: get(row, 0)?,
        user_id: get(row, 1)?,
        name: get(row, 2)?,
        token_hash: get(row, 3)?,
        enrolled_at: get(row, 4)?,
        last_seen_at: get(row, 5)?,
        last_seq: to_u64(get(row, 6)?)?,
        app_version: get(row, 7)?,
        revoked_at: get(row, 8)?,
        signing_key: get(row, 9)?,
    })
}

fn household_from_row(row: &Row) -> StoreResult<Household> {
    let fv: String = get(row, 9)?;
    Ok(Household {
        id: get(row, 0)?,
        hamlet_code: get(row, 1)?,
        address: get(row, 2)?,
        head_name: get(row, 3)?,
        members: opt_u32(get(row, 4)?)?,
        smartphones: opt_u32(get(row, 5)?)?,
        has_internet_computer: get(row, 6)?,
        version: to_u32(get(row, 7)?)?,
        review: review(get(row, 8)?)?,
        field_versions: field_versions(&fv)?,
        removed: get(row, 10)?,
    })
}

fn resident_from_row(row: &Row) -> StoreResult<Resident> {
    let sex: String = get(row, 4)?;
    let status: Option<String> = get(row, 9)?;
    let fv: String = get(row, 14)?;
    Ok(Resident {
        id: get(row, 0)?,
        household_id: get(row, 1)?,
        full_name: get(row, 2)?,
        birth_year: get(row, 3)?,
        sex: Sex::from_code(&sex).ok_or_else(|| corrupt("sex", &sex))?,
        cccd: get(row, 5)?,
        phone: get(row, 6)?,
        version: to_u32(get(row, 7)?)?,
        review: review(get(row, 8)?)?,
        status: status.as_deref().map(funnel).transpose()?,
        reason_code: get(row, 10)?,
        follow_up: get(row, 11)?,
        deciding_visit: get(row, 12)?,
        visit_count: to_u32(get(row, 13)?)?,
        field_versions: field_versions(&fv)?,
        removed: get(row, 15)?,
        claim_check: match get::<Option<String>>(row, 16)? {
            Some(code) => Some(CheckOutcome::from_code(&code).ok_or_else(|| corrupt("check outcome", &code))?),
            None => None,
        },
        checked_visit: get(row, 17)?,
        merged_into: get(row, 18)?,
    })
}

/// An event selected as `server_seq, id, device_id, seq, author, device_time, payload`.
fn event_from_row(row: &Row) -> StoreResult<(u64, Event)> {
    let json: String = get(row, 6)?;
    let event = Event {
        id: get(row, 1)?,
        device_id: get(row, 2)?,
        seq: to_u64(get(row, 3)?)?,
        author: get(row, 4)?,
        device_time: get(row, 5)?,
        payload: payload(&json)?,
    };
    Ok((to_u64(get(row, 0)?)?, event))
}

fn visit_from_row(row: &Row) -> StoreResult<Visit> {
    let status: String = get(row, 2)?;
    let action: Option<String> = get(row, 4)?;
    let steps: Option<String> = get(row, 10)?;
    Ok(Visit {
        id: get(row, 0)?,
        resident_id: get(row, 1)?,
        status: funnel(&status)?,
        reason_code: get(row, 3)?,
        action: action
            .map(|a| {
                serde_json::from_value::<VisitAction>(serde_json::Value::String(a.clone()))
                    .map_err(|_| corrupt("visit action", &a))
            })
            .transpose()?,
        follow_up: get(row, 5)?,
        note: get(row, 6)?,
        author: get(row, 7)?,
        device_id: get(row, 8)?,
        device_time: get(row, 9)?,
        steps: match steps {
            Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("checklist steps", &json))?,
            None => Vec::new(),
        },
        position: match (get::<Option<i32>>(row, 11)?, get::<Option<i32>>(row, 12)?, get::<Option<i32>>(row, 13)?) {
            (Some(lat_e6), Some(lon_e6), Some(accuracy)) => {
                Some(GeoPosition { lat_e6, lon_e6, accuracy_m: to_u32(i64::from(accuracy))? })
            }
            _ => None,
        },
        review: review(get(row, 14)?)?,
    })
}

fn erasure_from_row(row: &Row) -> StoreResult<ErasureRow> {
    Ok(ErasureRow {
        resident_id: get(row, 0)?,
        place_path: get(row, 1)?,
        at_seq: to_u64(get(row, 2)?)?,
        erased_at: get(row, 3)?,
        erased_by: get(row, 4)?,
    })
}

fn audit_from_row(row: &Row) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: get(row, 0)?,
        at: get(row, 1)?,
        actor_user: get(row, 2)?,
        actor_device: get(row, 3)?,
        action: get(row, 4)?,
        detail: get(row, 5)?,
        prev_hash: get(row, 6)?,
        hash: get(row, 7)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Catalog

impl Catalog for PgTx<'_> {
    fn place(&mut self, code: &str) -> StoreResult<Option<Place>> {
        const SQL: &str = "SELECT code, name, level, division_type, parent_code FROM places WHERE code = $1";
        debug_assert!(SQL.contains(PLACE_COLUMNS));
        self.query_opt(SQL, &[&code])?.as_ref().map(place_from_row).transpose()
    }

    fn lineage(&mut self, code: &str) -> StoreResult<Vec<Place>> {
        let mut fetched = self.ancestry(std::slice::from_ref(&code.to_owned()))?.into_iter();
        // the walk over what was read: the same lineage, and the same error for a loop
        gocua_core::places::lineage_with(code, |_| Ok(fetched.next()), gocua_server_store::looped)
    }

    fn lineages(&mut self, codes: &[String]) -> StoreResult<Vec<Place>> {
        let mut found = self.ancestry(codes)?;
        found.sort_by(|a, b| a.code.cmp(&b.code));
        found.dedup_by(|a, b| a.code == b.code);
        Ok(found)
    }

    fn places(&mut self, codes: &[String]) -> StoreResult<Vec<Place>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            by_keys!(
                "text",
                "SELECT code, name, level, division_type, parent_code FROM places WHERE code = k.key",
                "f.code COLLATE \"C\""
            ),
            &[&codes],
        )?
        .iter()
        .map(place_from_row)
        .collect()
    }

    fn children(&mut self, code: &str) -> StoreResult<Vec<Place>> {
        // bytewise, as SQLite's BINARY collation orders them
        self.query(
            "SELECT code, name, level, division_type, parent_code FROM places WHERE parent_code = $1
             ORDER BY name COLLATE \"C\", code COLLATE \"C\"",
            &[&code],
        )?
        .iter()
        .map(place_from_row)
        .collect()
    }

    fn upsert_places(&mut self, places: &[Place]) -> StoreResult<usize> {
        if places.is_empty() {
            return Ok(0);
        }
        let places = last_of_each(places, |p| p.code.clone());
        let codes: Vec<&str> = places.iter().map(|p| p.code.as_str()).collect();
        let names: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
        let levels: Vec<&str> = places.iter().map(|p| p.level.code()).collect();
        let types: Vec<&str> = places.iter().map(|p| p.division_type.as_str()).collect();
        let parents: Vec<Option<&str>> = places.iter().map(|p| p.parent_code.as_deref()).collect();
        self.execute(
            "INSERT INTO places (code, name, level, division_type, parent_code)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                 division_type = excluded.division_type, parent_code = excluded.parent_code",
            &[&codes, &names, &levels, &types, &parents],
        )?;
        Ok(codes.len())
    }

    fn reasons(&mut self) -> StoreResult<ReasonCatalog> {
        let rows = self.query(
            "SELECT code, label_vi, label_en, can_activate_later, police_only, requires_note, province_code,
                    sort_order FROM reasons",
            &[],
        )?;
        Ok(ReasonCatalog::new(rows.iter().map(reason_from_row).collect::<StoreResult<_>>()?))
    }

    fn upsert_reasons(&mut self, reasons: &[Reason]) -> StoreResult<()> {
        if reasons.is_empty() {
            return Ok(());
        }
        let reasons = last_of_each(reasons, |r| r.code.clone());
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        let vi: Vec<&str> = reasons.iter().map(|r| r.label_vi.as_str()).collect();
        let en: Vec<&str> = reasons.iter().map(|r| r.label_en.as_str()).collect();
        let later: Vec<bool> = reasons.iter().map(|r| r.can_activate_later).collect();
        let police: Vec<bool> = reasons.iter().map(|r| r.police_only).collect();
        let note: Vec<bool> = reasons.iter().map(|r| r.requires_note).collect();
        let province: Vec<Option<&str>> = reasons.iter().map(|r| r.province_code.as_deref()).collect();
        let order: Vec<i64> = reasons.iter().map(|r| r.sort_order).collect();
        self.execute(
            "INSERT INTO reasons (code, label_vi, label_en, can_activate_later, police_only, requires_note,
                                  province_code, sort_order)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::boolean[],
                                  $6::boolean[], $7::text[], $8::bigint[])
             ON CONFLICT (code) DO UPDATE SET label_vi = excluded.label_vi, label_en = excluded.label_en,
                 can_activate_later = excluded.can_activate_later, police_only = excluded.police_only,
                 requires_note = excluded.requires_note, province_code = excluded.province_code,
                 sort_order = excluded.sort_order",
            &[&codes, &vi, &en, &later, &police, &note, &province, &order],
        )?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Users

/// A user's columns and their scope's codes (sorted bytewise, as `Scope` sorts them).
macro_rules! user_select {
    ($where:literal) => {
        concat!(
            "SELECT u.id, u.name, u.role, u.created_at,
                    array(SELECT s.place_code FROM user_scopes s WHERE s.user_id = u.id
                          ORDER BY s.place_code COLLATE \"C\") AS scope
             FROM users u ",
            $where
        )
    };
}

impl PgTx<'_> {
    fn insert_scope(&mut self, id: Uuid, scope: &Scope) -> StoreResult<()> {
        self.execute(
            "INSERT INTO user_scopes (user_id, place_code) SELECT $1, unnest($2::text[])",
            &[&id, &scope.codes()],
        )?;
        Ok(())
    }
}

impl Users for PgTx<'_> {
    fn insert_user(&mut self, user: &UserRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO users (id, name, role, created_at) VALUES ($1, $2, $3, $4)",
            &[&user.id, &user.name, &user.role.code(), &user.created_at],
        )?;
        self.insert_scope(user.id, &user.scope)
    }

    fn user(&mut self, id: Uuid) -> StoreResult<Option<UserRow>> {
        self.query_opt(user_select!("WHERE u.id = $1"), &[&id])?.as_ref().map(user_from_row).transpose()
    }

    fn user_named(&mut self, name: &str, scope: &Scope) -> StoreResult<Option<UserRow>> {
        let rows = self.query(
            user_select!(
                "WHERE u.name = $1
                   AND array(SELECT s.place_code FROM user_scopes s WHERE s.user_id = u.id
                             ORDER BY s.place_code COLLATE \"C\") = $2::text[]
                 ORDER BY u.created_at, u.id LIMIT 1"
            ),
            &[&name, &scope.codes()],
        )?;
        rows.first().map(user_from_row).transpose()
    }

    fn user_infos(&mut self, ids: &[Uuid]) -> StoreResult<Vec<UserInfo>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query(by_keys!("uuid", "SELECT id, name, role FROM users WHERE id = k.key", "f.id"), &[&ids])?
            .iter()
            .map(|row| {
                let code: String = get(row, 2)?;
                Ok(UserInfo { id: get(row, 0)?, name: get(row, 1)?, role: role(&code)? })
            })
            .collect()
    }

    fn users_in(&mut self, codes: &[String]) -> StoreResult<Vec<UserRow>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            user_select!(
                "WHERE u.id IN (SELECT s.user_id FROM user_scopes s WHERE s.place_code = ANY($1::text[]))
                    OR u.id IN (SELECT s.user_id FROM user_scopes s JOIN households h ON h.id::text = s.place_code
                                WHERE h.hamlet_code = ANY($1::text[]))
                 ORDER BY u.id"
            ),
            &[&codes],
        )?
        .iter()
        .map(user_from_row)
        .collect()
    }

    fn users_of_role_in(&mut self, role: Role, codes: &[String]) -> StoreResult<Vec<UserRow>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            user_select!(
                "WHERE u.role = $2
                   AND u.id IN (SELECT s.user_id FROM user_scopes s WHERE s.place_code = ANY($1::text[]))
                 ORDER BY u.id"
            ),
            &[&codes, &role.code()],
        )?
        .iter()
        .map(user_from_row)
        .collect()
    }

    fn set_user_scope(&mut self, id: Uuid, scope: &Scope) -> StoreResult<()> {
        self.execute("DELETE FROM user_scopes WHERE user_id = $1", &[&id])?;
        self.insert_scope(id, scope)
    }

    fn set_user_role(&mut self, id: Uuid, role: Role) -> StoreResult<()> {
        self.execute("UPDATE users SET role = $2 WHERE id = $1", &[&id, &role.code()])?;
        Ok(())
    }

    fn add_former_places(&mut self, id: Uuid, codes: &[String], until: DateTime<Utc>) -> StoreResult<()> {
        let codes: Vec<&String> = last_of_each(codes, |c| c.clone());
        if codes.is_empty() {
            return Ok(());
        }
        self.execute(
            "INSERT INTO former_scopes (user_id, scope_code, until) SELECT $1, unnest($2::text[]), $3
             ON CONFLICT (user_id, scope_code) DO UPDATE SET until = excluded.until",
            &[&id, &codes, &until],
        )?;
        Ok(())
    }

    fn former_places(&mut self, id: Uuid) -> StoreResult<Vec<String>> {
        self.query("SELECT scope_code FROM former_scopes WHERE user_id = $1 ORDER BY scope_code COLLATE \"C\"", &[&id])?
            .iter()
            .map(|row| get(row, 0))
            .collect()
    }

    fn insert_code(&mut self, code: &CodeRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO enrollment_codes (code_hash, user_id, created_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&code.code_hash, &code.user_id, &code.created_at, &code.expires_at, &code.used_at],
        )?;
        Ok(())
    }

    fn code(&mut self, code_hash: &str) -> StoreResult<Option<CodeRow>> {
        self.query_opt(
            "SELECT code_hash, user_id, created_at, expires_at, used_at FROM enrollment_codes WHERE code_hash = $1",
            &[&code_hash],
        )?
        .as_ref()
        .map(code_from_row)
        .transpose()
    }

    fn use_code(&mut self, code_hash: &str, at: DateTime<Utc>, device: Uuid) -> StoreResult<bool> {
        let changed = self.execute(
            "UPDATE enrollment_codes SET used_at = $2, device_id = $3 WHERE code_hash = $1 AND used_at IS NULL",
            &[&code_hash, &at, &device],
        )?;
        Ok(changed == 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Devices

macro_rules! device_select {
    ($where:literal) => {
        concat!(
            "SELECT id, user_id, name, token_hash, enrolled_at, last_seen_at, last_seq, app_version, revoked_at,
                    signing_key FROM devices ",
            $where
        )
    };
}

/// A device (the columns of `device_select!`), its user's (those of `user_select!`) and the
/// user's former places, by `$where` on `d`.
macro_rules! holder_select {
    ($where:literal) => {
        concat!(
            "SELECT d.id, d.user_id, d.name, d.token_hash, d.enrolled_at, d.last_seen_at, d.last_seq,
                    d.app_version, d.revoked_at, d.signing_key,
                    u.id, u.name, u.role, u.created_at,
                    array(SELECT s.place_code FROM user_scopes s WHERE s.user_id = u.id
                          ORDER BY s.place_code COLLATE \"C\"),
                    array(SELECT f.scope_code FROM former_scopes f WHERE f.user_id = u.id
                          ORDER BY f.scope_code COLLATE \"C\")
             FROM devices d LEFT JOIN users u ON u.id = d.user_id ",
            $where
        )
    };
}

impl Auth for PgTx<'_> {
    fn device_holder(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceHolder>> {
        // one round trip instead of three, on every request
        let row = match key {
            DeviceKey::TokenHash(hash) => self.query_opt(holder_select!("WHERE d.token_hash = $1"), &[&hash])?,
            DeviceKey::Id(id) => self.query_opt(holder_select!("WHERE d.id = $1"), &[&id])?,
        };
        let Some(row) = row else { return Ok(None) };
        let device = device_from_row(&row)?;
        if get::<Option<Uuid>>(&row, 10)?.is_none() {
            return Err(StoreError::Corrupt(format!("the user of device {} is missing", device.id)));
        }
        Ok(Some(DeviceHolder { device, user: user_at(&row, 10)?, former_places: get(&row, 15)? }))
    }
}

impl Devices for PgTx<'_> {
    fn insert_device(&mut self, d: &DeviceRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at, last_seen_at, last_seq, app_version,
                                  revoked_at, signing_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &d.id,
                &d.user_id,
                &d.name,
                &d.token_hash,
                &d.enrolled_at,
                &d.last_seen_at,
                &to_i64(d.last_seq)?,
                &d.app_version,
                &d.revoked_at,
                &d.signing_key,
            ],
        )?;
        Ok(())
    }

    fn device(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceRow>> {
        let row = match key {
            DeviceKey::TokenHash(hash) => self.query_opt(device_select!("WHERE token_hash = $1"), &[&hash])?,
            DeviceKey::Id(id) => self.query_opt(device_select!("WHERE id = $1"), &[&id])?,
        };
        row.as_ref().map(device_from_row).transpose()
    }

    fn devices(&mut self, user: Option<Uuid>) -> StoreResult<Vec<DeviceRow>> {
        self.query(device_select!("WHERE $1::uuid IS NULL OR user_id = $1 ORDER BY enrolled_at DESC, id"), &[&user])?
            .iter()
            .map(device_from_row)
            .collect()
    }

    fn revoke_device(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let changed =
            self.execute("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", &[&id, &at])?;
        Ok(changed == 1)
    }

    fn record_push(&mut self, id: Uuid, last_seq: u64, seen_at: DateTime<Utc>, app_version: &str) -> StoreResult<()> {
        self.defer(
            "UPDATE devices SET last_seq = $2, last_seen_at = $3, app_version = $4 WHERE id = $1",
            owned![id, to_i64(last_seq)?, seen_at, app_version.to_owned()],
        )
    }

    fn record_unsent(&mut self, id: Uuid, unsent: u64) -> StoreResult<()> {
        self.defer("UPDATE devices SET unsent = $2 WHERE id = $1", owned![id, to_i64(unsent)?])
    }

    fn unsent_counts(&mut self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, u64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query("SELECT id, unsent FROM devices WHERE id = ANY($1::uuid[]) AND unsent IS NOT NULL", &[&ids])?
            .iter()
            .map(|row| Ok((get(row, 0)?, to_u64(get::<i64>(row, 1)?)?)))
            .collect()
    }

    fn set_probe_hash(&mut self, id: Uuid, probe_hash: &str) -> StoreResult<()> {
        self.execute("UPDATE devices SET probe_hash = $2 WHERE id = $1", &[&id, &probe_hash])?;
        Ok(())
    }

    fn probe_status(&mut self, id: Uuid) -> StoreResult<Option<ProbeRow>> {
        let row = self.query_opt("SELECT probe_hash, revoked_at FROM devices WHERE id = $1", &[&id])?;
        row.map(|row| Ok(ProbeRow { probe_hash: get(&row, 0)?, revoked_at: get(&row, 1)? })).transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Events

impl Events for PgTx<'_> {
    fn last_server_seq(&mut self) -> StoreResult<u64> {
        let row = self.query("SELECT coalesce(max(server_seq), 0)::bigint FROM events", &[])?;
        to_u64(get(&row[0], 0)?)
    }

    fn stored_outcomes(&mut self, ids: &[Uuid]) -> StoreResult<Vec<StoredOutcome>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            by_keys!("uuid", "SELECT id, server_seq, status, errors FROM events WHERE id = k.key", "f.server_seq"),
            &[&ids],
        )?
        .iter()
        .map(|row| {
            let status: String = get(row, 2)?;
            Ok(StoredOutcome {
                id: get(row, 0)?,
                server_seq: to_u64(get(row, 1)?)?,
                status: stored_status(&status, get(row, 3)?)?,
            })
        })
        .collect()
    }

    fn insert_events(&mut self, events: &[NewEvent<'_>]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let n = events.len();
        let mut server_seq = Vec::with_capacity(n);
        let mut id = Vec::with_capacity(n);
        let mut device = Vec::with_capacity(n);
        let mut seq = Vec::with_capacity(n);
        let mut author = Vec::with_capacity(n);
        let mut device_time = Vec::with_capacity(n);
        let mut received = Vec::with_capacity(n);
        let mut kind = Vec::with_capacity(n);
        let mut payloads = Vec::with_capacity(n);
        let mut path = Vec::with_capacity(n);
        let mut status = Vec::with_capacity(n);
        let mut errors = Vec::with_capacity(n);
        let mut flags = Vec::with_capacity(n);
        let mut effective = Vec::with_capacity(n);
        for e in events {
            server_seq.push(to_i64(e.server_seq)?);
            id.push(e.event.id);
            device.push(e.event.device_id);
            seq.push(to_i64(e.event.seq)?);
            author.push(e.event.author);
            device_time.push(e.event.device_time);
            received.push(e.received_at);
            kind.push(e.event.payload.type_name());
            payloads.push(serde_json::to_string(&e.event.payload).map_err(|e| StoreError::Failed(e.to_string()))?);
            path.push(e.place_path.clone());
            let (s, errs) = status_text(&e.status);
            status.push(s);
            errors.push(errs.map(str::to_owned));
            flags.push(e.flags.clone());
            effective.push(e.effective_time);
        }
        self.defer(
            "INSERT INTO events (server_seq, id, device_id, seq, author, device_time, received_at, type, payload,
                                 place_path, status, errors, flags, effective_time)
             SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::bigint[], $5::uuid[],
                                  $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],
                                  $11::text[], $12::text[], $13::text[], $14::timestamptz[])",
            owned![
                server_seq,
                id,
                device,
                seq,
                author,
                device_time,
                received,
                kind,
                payloads,
                path,
                status,
                errors,
                flags,
                effective,
            ],
        )?;
        Ok(())
    }

    fn applied_events(&mut self, query: &EventQuery<'_>) -> StoreResult<Vec<(u64, Event)>> {
        if query.paths.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        let (after, limit) = (to_i64(query.after)?, i64::from(query.limit));
        let rows = if query.paths.iter().any(|p| is_broad(p)) {
            // a province (or wider): most events match, so the first `limit` in server_seq
            // order are found by walking the primary key
            self.query(
                "SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events
                 WHERE status = 'applied' AND server_seq > $2 AND ($3 OR device_id <> $4)
                   AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS p(path) WHERE starts_with(place_path, p.path))
                 ORDER BY server_seq LIMIT $5",
                &[&query.paths, &after, &query.include_own, &query.device, &limit],
            )?
        } else {
            // a commune or a hamlet: a small share of the log, found by its range of the pull
            // index, per path; then the first `limit` of them all (a path inside another finds
            // the same events: IN dedupes)
            let (lo, hi): (Vec<String>, Vec<String>) = query.paths.iter().map(|p| prefix_range(p)).unzip();
            self.query(
                "SELECT e.server_seq, e.id, e.device_id, e.seq, e.author, e.device_time, e.payload
                 FROM events e
                 WHERE e.server_seq IN (
                     SELECT m.server_seq
                     FROM unnest($1::text[], $2::text[]) AS r(lo, hi)
                     CROSS JOIN LATERAL (
                         SELECT x.server_seq FROM events x
                         WHERE x.status = 'applied' AND x.server_seq > $3
                           AND x.place_path >= r.lo AND x.place_path < r.hi AND starts_with(x.place_path, r.lo)
                           AND ($4 OR x.device_id <> $5)
                         ORDER BY x.server_seq LIMIT $6) m)
                 ORDER BY e.server_seq LIMIT $6",
                &[&lo, &hi, &after, &query.include_own, &query.device, &limit],
            )?
        };
        rows.iter().map(event_from_row).collect()
    }

    fn campaign_events_at(&mut self, paths: &[String], after: u64, upto: u64) -> StoreResult<Vec<(u64, Event)>> {
        if paths.is_empty() || upto <= after {
            return Ok(Vec::new());
        }
        // the type spelled out (`gocua_core::event::CAMPAIGN_SET`), so the partial index
        // `events_campaigns` (0012) answers it
        let rows = self.query(
            "SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events
             WHERE status = 'applied' AND type = 'campaign_set.v1' AND place_path = ANY($1)
               AND server_seq > $2 AND server_seq <= $3
             ORDER BY server_seq",
            &[&paths, &to_i64(after)?, &to_i64(upto)?],
        )?;
        rows.iter().map(event_from_row).collect()
    }

    fn clock_flagged(&mut self, server_seqs: &[u64]) -> StoreResult<Vec<(u64, Flag)>> {
        if server_seqs.is_empty() {
            return Ok(Vec::new());
        }
        let seqs: Vec<i64> = server_seqs.iter().map(|s| to_i64(*s)).collect::<StoreResult<_>>()?;
        let rows = self.query(
            "SELECT server_seq, flags FROM events
             WHERE server_seq = ANY($1) AND status = 'applied' AND flags LIKE '%clock_%'
             ORDER BY server_seq",
            &[&seqs],
        )?;
        let mut out = Vec::new();
        for row in &rows {
            let flags: String = get(row, 1)?;
            if let Some(flag) = Flag::clock_among(&flags) {
                out.push((to_u64(get(row, 0)?)?, flag));
            }
        }
        Ok(out)
    }

    fn events_mentioning(&mut self, id: Uuid) -> StoreResult<Vec<MentioningEvent>> {
        self.query(
            "SELECT e.server_seq, e.type, e.payload, e.device_time, e.received_at, e.status,
                    coalesce(u.name, ''), coalesce(d.name, '')
             FROM events e LEFT JOIN users u ON u.id = e.author LEFT JOIN devices d ON d.id = e.device_id
             WHERE strpos(e.payload, $1) > 0 ORDER BY e.server_seq",
            &[&id.to_string()],
        )?
        .iter()
        .map(|row| {
            let json: String = get(row, 2)?;
            Ok(MentioningEvent {
                server_seq: to_u64(get(row, 0)?)?,
                type_name: get(row, 1)?,
                payload: payload(&json)?,
                device_time: get(row, 3)?,
                received_at: get(row, 4)?,
                status: get(row, 5)?,
                author_name: get(row, 6)?,
                device_name: get(row, 7)?,
            })
        })
        .collect()
    }

    fn rewrite_payload(&mut self, server_seq: u64, payload: &Payload) -> StoreResult<()> {
        let json = serde_json::to_string(payload).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.execute("UPDATE events SET payload = $2 WHERE server_seq = $1", &[&to_i64(server_seq)?, &json])?;
        Ok(())
    }

    fn count_events(&mut self, status: &str) -> StoreResult<u64> {
        let row = self.query("SELECT count(*) FROM events WHERE status = $1", &[&status])?;
        to_u64(get(&row[0], 0)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Projection

macro_rules! household_select {
    ($where:literal) => {
        concat!(
            "SELECT id, hamlet_code, address, head_name, members, smartphones, has_internet_computer, version,
                    review, field_versions, removed FROM households ",
            $where
        )
    };
}

macro_rules! resident_select {
    ($where:literal) => {
        concat!(
            "SELECT id, household_id, full_name, birth_year, sex, cccd, phone, version, review, status,
                    reason_code, follow_up, deciding_visit, visit_count, field_versions, removed, claim_check,
                    checked_visit, merged_into FROM residents ",
            $where
        )
    };
}

macro_rules! visit_select {
    ($where:literal) => {
        concat!(
            "SELECT id, resident_id, status, reason_code, action, follow_up, note, author, device_id,
                    device_time, steps, lat_e6, lon_e6, accuracy_m, review FROM visits ",
            $where
        )
    };
}

impl ProjectionRows for PgTx<'_> {
    fn households(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Household>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query(by_keys!("uuid", household_select!("WHERE id = k.key"), "f.id"), &[&ids])?
            .iter()
            .map(household_from_row)
            .collect()
    }

    fn residents(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Resident>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query(by_keys!("uuid", resident_select!("WHERE id = k.key"), "f.id"), &[&ids])?
            .iter()
            .map(resident_from_row)
            .collect()
    }

    fn visits_existing(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.query(by_keys!("uuid", "SELECT id FROM visits WHERE id = k.key", "f.id"), &[&ids])?
            .iter()
            .map(|row| get(row, 0))
            .collect()
    }

    fn visits_of(&mut self, resident: Uuid) -> StoreResult<Vec<Visit>> {
        // newest first: UUIDv7 ids sort by creation (uuid order is the text form's order)
        self.query(visit_select!("WHERE resident_id = $1 ORDER BY id DESC"), &[&resident])?
            .iter()
            .map(visit_from_row)
            .collect()
    }

    fn put_households(&mut self, households: &[Household]) -> StoreResult<()> {
        if households.is_empty() {
            return Ok(());
        }
        let hs = last_of_each(households, |h| h.id);
        let ids: Vec<Uuid> = hs.iter().map(|h| h.id).collect();
        let hamlets: Vec<String> = hs.iter().map(|h| h.hamlet_code.clone()).collect();
        let addresses: Vec<String> = hs.iter().map(|h| h.address.clone()).collect();
        let heads: Vec<String> = hs.iter().map(|h| h.head_name.clone()).collect();
        let members: Vec<Option<i64>> = hs.iter().map(|h| h.members.map(i64::from)).collect();
        let phones: Vec<Option<i64>> = hs.iter().map(|h| h.smartphones.map(i64::from)).collect();
        let internet: Vec<Option<bool>> = hs.iter().map(|h| h.has_internet_computer).collect();
        let versions: Vec<i64> = hs.iter().map(|h| i64::from(h.version)).collect();
        let reviews: Vec<Option<&'static str>> = hs.iter().map(|h| h.review.map(Review::code)).collect();
        let fvs: Vec<String> = hs
            .iter()
            .map(|h| serde_json::to_string(&h.field_versions))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let removed: Vec<Option<String>> = hs.iter().map(|h| h.removed.clone()).collect();
        let keys: Vec<String> = hs.iter().map(|h| fold(&format!("{} {}", h.head_name, h.address))).collect();
        self.defer(
            "INSERT INTO households (id, hamlet_code, address, head_name, members, smartphones,
                                     has_internet_computer, version, review, field_versions, removed, search_key)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                                  $7::boolean[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[])
             ON CONFLICT (id) DO UPDATE SET hamlet_code = excluded.hamlet_code, address = excluded.address,
                 head_name = excluded.head_name, members = excluded.members, smartphones = excluded.smartphones,
                 has_internet_computer = excluded.has_internet_computer, version = excluded.version,
                 review = excluded.review, field_versions = excluded.field_versions, removed = excluded.removed,
                 search_key = excluded.search_key",
            owned![ids, hamlets, addresses, heads, members, phones, internet, versions, reviews, fvs, removed, keys,],
        )?;
        Ok(())
    }

    fn put_residents(&mut self, residents: &[Resident]) -> StoreResult<()> {
        if residents.is_empty() {
            return Ok(());
        }
        let rs = last_of_each(residents, |r| r.id);
        let ids: Vec<Uuid> = rs.iter().map(|r| r.id).collect();
        let households: Vec<Uuid> = rs.iter().map(|r| r.household_id).collect();
        let names: Vec<String> = rs.iter().map(|r| r.full_name.clone()).collect();
        let years: Vec<i32> = rs.iter().map(|r| r.birth_year).collect();
        let sexes: Vec<&'static str> = rs.iter().map(|r| r.sex.code()).collect();
        let cccds: Vec<Option<String>> = rs.iter().map(|r| r.cccd.clone()).collect();
        let phones: Vec<Option<String>> = rs.iter().map(|r| r.phone.clone()).collect();
        let versions: Vec<i64> = rs.iter().map(|r| i64::from(r.version)).collect();
        let reviews: Vec<Option<&'static str>> = rs.iter().map(|r| r.review.map(Review::code)).collect();
        let statuses: Vec<Option<&'static str>> = rs.iter().map(|r| r.status.map(FunnelState::code)).collect();
        let reasons: Vec<Option<String>> = rs.iter().map(|r| r.reason_code.clone()).collect();
        let follow_ups: Vec<Option<NaiveDate>> = rs.iter().map(|r| r.follow_up).collect();
        let deciding: Vec<Option<Uuid>> = rs.iter().map(|r| r.deciding_visit).collect();
        let counts: Vec<i64> = rs.iter().map(|r| i64::from(r.visit_count)).collect();
        let fvs: Vec<String> = rs
            .iter()
            .map(|r| serde_json::to_string(&r.field_versions))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let keys: Vec<String> = rs.iter().map(|r| fold(&r.full_name)).collect();
        let removed: Vec<Option<String>> = rs.iter().map(|r| r.removed.clone()).collect();
        let checks: Vec<Option<&'static str>> = rs.iter().map(|r| r.claim_check.map(CheckOutcome::code)).collect();
        let checked: Vec<Option<Uuid>> = rs.iter().map(|r| r.checked_visit).collect();
        let merged_into: Vec<Option<Uuid>> = rs.iter().map(|r| r.merged_into).collect();
        self.defer(
            "INSERT INTO residents (id, household_id, full_name, birth_year, sex, cccd, phone, version, review,
                                    status, reason_code, follow_up, deciding_visit, visit_count, field_versions,
                                    search_key, removed, claim_check, checked_visit, merged_into)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[], $6::text[],
                                  $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::date[],
                                  $13::uuid[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[],
                                  $19::uuid[], $20::uuid[])
             ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, full_name = excluded.full_name,
                 birth_year = excluded.birth_year, sex = excluded.sex, cccd = excluded.cccd, phone = excluded.phone,
                 version = excluded.version, review = excluded.review, status = excluded.status,
                 reason_code = excluded.reason_code, follow_up = excluded.follow_up,
                 deciding_visit = excluded.deciding_visit, visit_count = excluded.visit_count,
                 field_versions = excluded.field_versions, search_key = excluded.search_key,
                 removed = excluded.removed, claim_check = excluded.claim_check,
                 checked_visit = excluded.checked_visit, merged_into = excluded.merged_into",
            owned![
                ids,
                households,
                names,
                years,
                sexes,
                cccds,
                phones,
                versions,
                reviews,
                statuses,
                reasons,
                follow_ups,
                deciding,
                counts,
                fvs,
                keys,
                removed,
                checks,
                checked,
                merged_into,
            ],
        )?;
        Ok(())
    }

    fn add_visits(&mut self, visits: &[Visit]) -> StoreResult<()> {
        if visits.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = visits.iter().map(|v| v.id).collect();
        let residents: Vec<Uuid> = visits.iter().map(|v| v.resident_id).collect();
        let statuses: Vec<&'static str> = visits.iter().map(|v| v.status.code()).collect();
        let reasons: Vec<Option<String>> = visits.iter().map(|v| v.reason_code.clone()).collect();
        let actions: Vec<Option<String>> =
            visits.iter().map(|v| v.action.map(action_code).transpose()).collect::<StoreResult<_>>()?;
        let follow_ups: Vec<Option<NaiveDate>> = visits.iter().map(|v| v.follow_up).collect();
        let notes: Vec<Option<String>> = visits.iter().map(|v| v.note.clone()).collect();
        let authors: Vec<Uuid> = visits.iter().map(|v| v.author).collect();
        let devices: Vec<Uuid> = visits.iter().map(|v| v.device_id).collect();
        let times: Vec<DateTime<Utc>> = visits.iter().map(|v| v.device_time).collect();
        let steps: Vec<Option<String>> = visits
            .iter()
            .map(|v| if v.steps.is_empty() { Ok(None) } else { serde_json::to_string(&v.steps).map(Some) })
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let lats: Vec<Option<i32>> = visits.iter().map(|v| v.position.map(|p| p.lat_e6)).collect();
        let lons: Vec<Option<i32>> = visits.iter().map(|v| v.position.map(|p| p.lon_e6)).collect();
        let accuracies: Vec<Option<i32>> = visits
            .iter()
            .map(|v| v.position.map(|p| i32::try_from(p.accuracy_m)).transpose())
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        let reviews: Vec<Option<&'static str>> = visits.iter().map(|v| v.review.map(Review::code)).collect();
        self.defer(
            "INSERT INTO visits (id, resident_id, status, reason_code, action, follow_up, note, author, device_id,
                                 device_time, steps, lat_e6, lon_e6, accuracy_m, review)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[],
                                  $7::text[], $8::uuid[], $9::uuid[], $10::timestamptz[], $11::text[],
                                  $12::int4[], $13::int4[], $14::int4[], $15::text[])",
            owned![
                ids, residents, statuses, reasons, actions, follow_ups, notes, authors, devices, times, steps, lats,
                lons, accuracies, reviews
            ],
        )?;
        Ok(())
    }

    fn set_visit_reviews(&mut self, reviews: &[(Uuid, Option<Review>)]) -> StoreResult<()> {
        for (visit, review) in reviews {
            self.defer("UPDATE visits SET review = $2 WHERE id = $1", owned![*visit, review.map(Review::code)])?;
        }
        Ok(())
    }

    fn move_visits(&mut self, moves: &[(Uuid, Uuid)]) -> StoreResult<()> {
        if moves.is_empty() {
            return Ok(());
        }
        // in order: a record merged into one that is merged on in the same batch moves twice
        for (from, to) in moves {
            self.defer("UPDATE visits SET resident_id = $2 WHERE resident_id = $1", owned![*from, *to])?;
        }
        Ok(())
    }

    fn recount(&mut self, households: &[Uuid], residents: &[Uuid], share: Share) -> StoreResult<()> {
        self.recount_counters(households, residents, share)
    }

    fn add_counts(&mut self, delta: &CountDelta) -> StoreResult<()> {
        self.add_to_counters(delta)
    }

    fn recount_firsts(&mut self, people: &[(Uuid, String)], added: &[Uuid]) -> StoreResult<()> {
        self.recount_first_activations(people, added)
    }

    fn fold_counts(&mut self) -> StoreResult<u64> {
        self.fold_deltas()
    }

    fn dump_projection(&mut self) -> StoreResult<Projection> {
        let mut projection = Projection::default();
        for row in self.query(household_select!(""), &[])? {
            let h = household_from_row(&row)?;
            projection.households.insert(h.id, h);
        }
        for row in self.query(resident_select!(""), &[])? {
            let r = resident_from_row(&row)?;
            projection.residents.insert(r.id, r);
        }
        for row in self.query(visit_select!(""), &[])? {
            let v = visit_from_row(&row)?;
            projection.visits.insert(v.id, v);
        }
        Ok(projection)
    }

    fn projection_in(&mut self, hamlets: &[String]) -> StoreResult<Projection> {
        let mut projection = Projection::default();
        for row in self.query(household_select!("WHERE hamlet_code = ANY($1::text[])"), &[&hamlets])? {
            let h = household_from_row(&row)?;
            projection.households.insert(h.id, h);
        }
        let residents =
            resident_select!("WHERE household_id IN (SELECT id FROM households WHERE hamlet_code = ANY($1::text[]))");
        for row in self.query(residents, &[&hamlets])? {
            let r = resident_from_row(&row)?;
            projection.residents.insert(r.id, r);
        }
        let visits = visit_select!(
            "WHERE resident_id IN (SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
                                   WHERE h.hamlet_code = ANY($1::text[]))"
        );
        for row in self.query(visits, &[&hamlets])? {
            let v = visit_from_row(&row)?;
            projection.visits.insert(v.id, v);
        }
        Ok(projection)
    }

    fn list_rows(&mut self, hamlet: &str) -> StoreResult<Vec<ListRow>> {
        let activated: Vec<&str> =
            FunnelState::ALL.into_iter().filter(|s| s.is_activated()).map(FunnelState::code).collect();
        let rows = self.query(
            "SELECT r.id, r.full_name, r.birth_year, r.sex, r.cccd, r.phone, h.head_name, h.address, h.hamlet_code,
                    r.status, r.reason_code, r.claim_check, f.at, f.author
             FROM residents r JOIN households h ON h.id = r.household_id
             LEFT JOIN (SELECT DISTINCT ON (v.resident_id) v.resident_id, v.author, v.device_time AS at
                        FROM visits v JOIN residents r2 ON r2.id = v.resident_id
                        JOIN households h2 ON h2.id = r2.household_id
                        WHERE h2.hamlet_code = $1 AND v.status = ANY($2::text[])
                        ORDER BY v.resident_id, v.device_time, v.id) f ON f.resident_id = r.id
             WHERE h.hamlet_code = $1 AND r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
             ORDER BY h.head_name, h.id, r.birth_year, r.full_name, r.id",
            &[&hamlet, &activated],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let sex: String = get(row, 3)?;
            let status: Option<String> = get(row, 9)?;
            let check: Option<String> = get(row, 11)?;
            out.push(ListRow {
                resident_id: get(row, 0)?,
                full_name: get(row, 1)?,
                birth_year: get(row, 2)?,
                sex: Sex::from_code(&sex).ok_or_else(|| corrupt("sex", &sex))?,
                cccd: get(row, 4)?,
                phone: get(row, 5)?,
                head_name: get(row, 6)?,
                address: get(row, 7)?,
                hamlet_code: get(row, 8)?,
                status: status.as_deref().map(funnel).transpose()?,
                reason_code: get(row, 10)?,
                claim_check: match check {
                    Some(code) => Some(CheckOutcome::from_code(&code).ok_or_else(|| corrupt("check outcome", &code))?),
                    None => None,
                },
                activated_at: get(row, 12)?,
                activated_by: get(row, 13)?,
            });
        }
        Ok(out)
    }

    fn report_facts(&mut self, hamlets: &[String], range: &DayRange) -> StoreResult<Facts> {
        self.counted_facts(hamlets, range)
    }
}

// ---------------------------------------------------------------------------------------------
// Erasures

impl Erasures for PgTx<'_> {
    fn erased_among(&mut self, residents: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if residents.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            by_keys!("uuid", "SELECT resident_id FROM erasures WHERE resident_id = k.key", "f.resident_id"),
            &[&residents],
        )?
        .iter()
        .map(|row| get(row, 0))
        .collect()
    }

    fn erasure(&mut self, resident: Uuid) -> StoreResult<Option<ErasureRow>> {
        self.query_opt(
            "SELECT resident_id, place_path, at_seq, erased_at, erased_by FROM erasures WHERE resident_id = $1",
            &[&resident],
        )?
        .as_ref()
        .map(erasure_from_row)
        .transpose()
    }

    fn put_erasure(&mut self, row: &ErasureRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO erasures (resident_id, place_path, at_seq, erased_at, erased_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (resident_id) DO UPDATE SET at_seq = excluded.at_seq, erased_at = excluded.erased_at,
                                                     erased_by = excluded.erased_by",
            &[&row.resident_id, &row.place_path, &to_i64(row.at_seq)?, &row.erased_at, &row.erased_by],
        )?;
        Ok(())
    }

    fn erased_since(&mut self, paths: &[String], since_seq: u64) -> StoreResult<Vec<Uuid>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        self.query(
            "SELECT resident_id FROM erasures
             WHERE at_seq >= $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(place_path, p))
             ORDER BY resident_id",
            &[&to_i64(since_seq)?, &paths],
        )?
        .iter()
        .map(|row| get(row, 0))
        .collect()
    }

    fn redact_projection(
        &mut self,
        resident: Uuid,
        household: Uuid,
        names: &[String],
        erased_name: &str,
    ) -> StoreResult<()> {
        self.execute(
            "UPDATE residents SET full_name = $2, cccd = NULL, phone = NULL, search_key = $3 WHERE id = $1",
            &[&resident, &erased_name, &fold(erased_name)],
        )?;
        self.execute(
            "UPDATE visits SET note = NULL, lat_e6 = NULL, lon_e6 = NULL, accuracy_m = NULL
             WHERE resident_id = $1 AND (note IS NOT NULL OR lat_e6 IS NOT NULL)",
            &[&resident],
        )?;
        let row = self.query_opt("SELECT head_name, address FROM households WHERE id = $1", &[&household])?;
        if let Some(row) = row {
            let head: String = get(&row, 0)?;
            let address: String = get(&row, 1)?;
            if names.contains(&head) {
                self.execute(
                    "UPDATE households SET head_name = $2, search_key = $3 WHERE id = $1",
                    &[&household, &erased_name, &fold(&format!("{erased_name} {address}"))],
                )?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Audit, bundles, meta

impl Audit for PgTx<'_> {
    fn audit_head(&mut self) -> StoreResult<Option<(i64, String)>> {
        let row = self.query_opt("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &[])?;
        row.map(|row| Ok((get(&row, 0)?, get(&row, 1)?))).transpose()
    }

    fn insert_audit(&mut self, r: &AuditRow) -> StoreResult<()> {
        self.defer(
            "INSERT INTO audit_log (seq, at, actor_user, actor_device, action, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            owned![
                r.seq,
                r.at.clone(),
                r.actor_user.clone(),
                r.actor_device.clone(),
                r.action.clone(),
                r.detail.clone(),
                r.prev_hash.clone(),
                r.hash.clone()
            ],
        )
    }

    fn audit_rows(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRow>> {
        self.query(
            "SELECT seq, at, actor_user, actor_device, action, detail, prev_hash, hash FROM audit_log
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after_seq, &i64::from(limit)],
        )?
        .iter()
        .map(audit_from_row)
        .collect()
    }
}

impl Bundles for PgTx<'_> {
    fn server_key(&mut self, fingerprint: Option<&str>) -> StoreResult<Option<Vec<u8>>> {
        let row = match fingerprint {
            Some(fp) => self.query_opt("SELECT secret_key FROM server_keys WHERE fingerprint = $1", &[&fp])?,
            None => self.query_opt("SELECT secret_key FROM server_keys WHERE id = 1", &[])?,
        };
        row.map(|row| get(&row, 0)).transpose()
    }

    fn insert_server_key_if_absent(&mut self, key: &ServerKeyRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO server_keys (id, fingerprint, public_key, secret_key, created_at)
             VALUES (1, $1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&key.fingerprint, &key.public_key, &key.secret_key, &key.created_at],
        )?;
        Ok(())
    }

    fn start_bundle_import(&mut self, row: &BundleImportStart) -> StoreResult<i64> {
        let events = row.events.map(to_i64).transpose()?;
        let rows = self.query(
            "INSERT INTO bundle_imports (sha256, device_id, events, imported_by, started_at, outcome)
             VALUES ($1, $2, $3, $4, $5, 'started') RETURNING id",
            &[&row.sha256, &row.device_id, &events, &row.imported_by, &row.started_at],
        )?;
        get(&rows[0], 0)
    }

    fn finish_bundle_import(&mut self, id: i64, row: &BundleImportEnd) -> StoreResult<()> {
        let first = row.seqs.map(|(first, _)| to_i64(first)).transpose()?;
        let last = row.seqs.map(|(_, last)| to_i64(last)).transpose()?;
        self.execute(
            "UPDATE bundle_imports SET applied = $2, flagged = $3, duplicates = $4, rejected = $5, first_seq = $6,
                 last_seq = $7, finished_at = $8, outcome = $9, reason = $10
             WHERE id = $1",
            &[
                &id,
                &to_i64(row.applied)?,
                &to_i64(row.flagged)?,
                &to_i64(row.duplicates)?,
                &to_i64(row.rejected)?,
                &first,
                &last,
                &row.finished_at,
                &row.outcome,
                &row.reason,
            ],
        )?;
        Ok(())
    }

    fn bundle_imports(&mut self) -> StoreResult<Vec<BundleImportRow>> {
        self.query(
            "SELECT id, sha256, device_id, events, imported_by, started_at, outcome, reason, applied, flagged,
                    duplicates, rejected FROM bundle_imports ORDER BY id",
            &[],
        )?
        .iter()
        .map(|row| {
            let events: Option<i64> = get(row, 3)?;
            Ok(BundleImportRow {
                id: get(row, 0)?,
                start: BundleImportStart {
                    sha256: get(row, 1)?,
                    device_id: get(row, 2)?,
                    events: events.map(to_u64).transpose()?,
                    imported_by: get(row, 4)?,
                    started_at: get(row, 5)?,
                },
                outcome: get(row, 6)?,
                reason: get(row, 7)?,
                counts: (to_u64(get(row, 8)?)?, to_u64(get(row, 9)?)?, to_u64(get(row, 10)?)?, to_u64(get(row, 11)?)?),
            })
        })
        .collect()
    }
}

impl Meta for PgTx<'_> {
    fn epoch(&mut self) -> StoreResult<String> {
        let row = self
            .query_opt("SELECT value FROM server_meta WHERE key = 'epoch'", &[])?
            .ok_or_else(|| StoreError::Corrupt("the database has no epoch".into()))?;
        get(&row, 0)
    }

    fn set_epoch(&mut self, epoch: &str) -> StoreResult<()> {
        if self.execute("UPDATE server_meta SET value = $1 WHERE key = 'epoch'", &[&epoch])? != 1 {
            return Err(StoreError::Corrupt("the database has no epoch".into()));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard's accounts and sessions

impl WebAccounts for PgTx<'_> {
    fn web_account_by_login(&mut self, login: &str) -> StoreResult<Option<WebAccountRow>> {
        let Some(row) = self.query_opt(
            "SELECT user_id, login, password_hash, failed_sign_ins, locked_until, changed_at
             FROM web_accounts WHERE login = $1",
            &[&login],
        )?
        else {
            return Ok(None);
        };
        let failed: i32 = get(&row, 3)?;
        Ok(Some(WebAccountRow {
            user_id: get(&row, 0)?,
            login: get(&row, 1)?,
            password_hash: get(&row, 2)?,
            failed_sign_ins: u32::try_from(failed).map_err(|_| corrupt("failed sign-ins", &failed.to_string()))?,
            locked_until: get(&row, 4)?,
            changed_at: get(&row, 5)?,
        }))
    }

    fn put_web_account(&mut self, a: &WebAccountRow) -> StoreResult<()> {
        let failed = i32::try_from(a.failed_sign_ins).unwrap_or(i32::MAX);
        self.execute(
            "INSERT INTO web_accounts (user_id, login, password_hash, failed_sign_ins, locked_until, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash,
               failed_sign_ins = excluded.failed_sign_ins, locked_until = excluded.locked_until,
               changed_at = excluded.changed_at",
            &[&a.user_id, &a.login, &a.password_hash, &failed, &a.locked_until, &a.changed_at],
        )?;
        Ok(())
    }

    fn set_sign_in_failures(
        &mut self,
        user: Uuid,
        failed: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let failed = i32::try_from(failed).unwrap_or(i32::MAX);
        self.execute(
            "UPDATE web_accounts SET failed_sign_ins = $2, locked_until = $3 WHERE user_id = $1",
            &[&user, &failed, &locked_until],
        )?;
        Ok(())
    }

    fn insert_web_session(&mut self, s: &WebSessionRow) -> StoreResult<()> {
        self.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&s.token_hash, &s.user_id, &s.csrf, &s.created_at, &s.last_seen_at, &s.expires_at],
        )?;
        Ok(())
    }

    fn web_session(&mut self, token_hash: &str) -> StoreResult<Option<WebSessionRow>> {
        let Some(row) = self.query_opt(
            "SELECT token_hash, user_id, csrf, created_at, last_seen_at, expires_at FROM web_sessions
             WHERE token_hash = $1",
            &[&token_hash],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(WebSessionRow {
            token_hash: get(&row, 0)?,
            user_id: get(&row, 1)?,
            csrf: get(&row, 2)?,
            created_at: get(&row, 3)?,
            last_seen_at: get(&row, 4)?,
            expires_at: get(&row, 5)?,
        }))
    }

    fn touch_web_session(&mut self, token_hash: &str, seen: DateTime<Utc>, expires: DateTime<Utc>) -> StoreResult<()> {
        self.execute(
            "UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1",
            &[&token_hash, &seen, &expires],
        )?;
        Ok(())
    }

    fn delete_web_session(&mut self, token_hash: &str) -> StoreResult<()> {
        self.execute("DELETE FROM web_sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn delete_web_sessions_of(&mut self, user: Uuid) -> StoreResult<()> {
        self.execute("DELETE FROM web_sessions WHERE user_id = $1", &[&user])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_a_bytewise_range() {
        assert_eq!(prefix_range("/12/03445/"), ("/12/03445/".to_owned(), "/12/034450".to_owned()));
        let (lo, hi) = prefix_range("/12/");
        for inside in ["/12/", "/12/03445/", "/12/\u{10FFFF}"] {
            assert!(inside >= lo.as_str() && inside < hi.as_str(), "{inside}");
        }
        for outside in ["/1/", "/120/", "/13/", "/12"] {
            assert!(!(outside >= lo.as_str() && outside < hi.as_str()), "{outside}");
        }
        let (lo, hi) = prefix_range("");
        assert!("/12/" >= lo.as_str() && "/12/" < hi.as_str());
    }

    #[test]
    fn the_last_of_each_key_is_kept_in_order() {
        let items = [(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd')];
        let kept: Vec<_> = last_of_each(&items, |i| i.0).into_iter().copied().collect();
        assert_eq!(kept, [(2, 'b'), (1, 'c'), (3, 'd')]);
    }
}
