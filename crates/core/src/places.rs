//! The hierarchy of places as data of any depth: province → [district] → commune → hamlet.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How deep a place sits. Stored, not inferred, so older plans' districts fit as well.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    /// Tỉnh / thành phố trung ương.
    Province,
    /// Huyện (abolished July 2025, kept for older data).
    District,
    /// Xã / phường / thị trấn / đặc khu.
    Commune,
    /// Thôn, bản, ấp, tổ dân phố, khu phố (defined locally).
    Hamlet,
    /// One household given to a volunteer on its own (its code is the household's id): a scope's
    /// place below a hamlet, never a row of the place catalog.
    Household,
}

impl PlaceLevel {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            PlaceLevel::Province => "province",
            PlaceLevel::District => "district",
            PlaceLevel::Commune => "commune",
            PlaceLevel::Hamlet => "hamlet",
            PlaceLevel::Household => "household",
        }
    }
    /// Parses [`PlaceLevel::code`].
    pub fn from_code(code: &str) -> Option<PlaceLevel> {
        [PlaceLevel::Province, PlaceLevel::District, PlaceLevel::Commune, PlaceLevel::Hamlet, PlaceLevel::Household]
            .into_iter()
            .find(|l| l.code() == code)
    }
}

/// One administrative place.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Unique code: the statistics office's 2-digit province and 5-digit commune codes;
    /// hamlets get their commune's code, a dash and a local suffix (`03445-01`).
    pub code: String,
    /// Official name, e.g. "Xã Mường Tè".
    pub name: String,
    /// Level in the tree.
    pub level: PlaceLevel,
    /// The local kind of unit, e.g. "xã", "phường", "đặc khu", "bản".
    pub division_type: String,
    /// The parent place, `None` for a province.
    pub parent_code: Option<String>,
}

/// Pads a statistics-office province code to its official two digits.
pub fn province_code(raw: &str) -> String {
    format!("{:0>2}", raw.trim())
}

/// Pads a statistics-office commune code to its official five digits.
pub fn commune_code(raw: &str) -> String {
    format!("{:0>5}", raw.trim())
}

#[derive(Debug, Deserialize)]
struct AdminUnitRow {
    code: String,
    name: String,
    division_type: String,
    parent_code: String,
}

/// Reads the statistics office's list (`code,name,division_type,parent_code,parent_name`):
/// rows without a parent are provinces, the others communes. Codes are padded to the official
/// widths so that province `4` and commune `00004` stay distinct.
pub fn read_admin_units_csv(reader: impl std::io::Read) -> Result<Vec<Place>, Error> {
    let mut rdr = csv::Reader::from_reader(reader);
    let mut places = Vec::new();
    for (i, row) in rdr.deserialize::<AdminUnitRow>().enumerate() {
        let row = row.map_err(|e| Error::invalid_input(format!("dòng {} / line {}: {e}", i + 2, i + 2)))?;
        if row.code.trim().is_empty() || row.name.trim().is_empty() {
            return Err(Error::invalid_input(format!(
                "dòng {} thiếu mã hoặc tên / line {} lacks a code or a name",
                i + 2,
                i + 2
            )));
        }
        let place = if row.parent_code.trim().is_empty() {
            Place {
                code: province_code(&row.code),
                name: row.name.trim().to_owned(),
                level: PlaceLevel::Province,
                division_type: row.division_type.trim().to_owned(),
                parent_code: None,
            }
        } else {
            Place {
                code: commune_code(&row.code),
                name: row.name.trim().to_owned(),
                level: PlaceLevel::Commune,
                division_type: row.division_type.trim().to_owned(),
                parent_code: Some(province_code(&row.parent_code)),
            }
        };
        places.push(place);
    }
    Ok(places)
}

/// The household a scope's place code names, when it names one: a household assigned on its
/// own is given by its id (place codes are statistics-office digits, never a UUID).
pub fn household_of(code: &str) -> Option<uuid::Uuid> {
    if code.len() != 36 {
        return None;
    }
    uuid::Uuid::parse_str(code).ok()
}

/// The place a household assigned on its own stands for in a scope: under its hamlet, named by
/// its address.
pub fn household_place(id: uuid::Uuid, hamlet_code: &str, address: &str) -> Place {
    Place {
        code: id.to_string(),
        name: address.to_owned(),
        level: PlaceLevel::Household,
        division_type: "hộ".into(),
        parent_code: Some(hamlet_code.to_owned()),
    }
}

/// The path of a household's records: its hamlet's path and its id, so a scope holding the
/// hamlet (or anything above) holds it by prefix, and a scope holding the household alone
/// holds nothing else.
pub fn household_path(hamlet_path: &str, id: uuid::Uuid) -> String {
    format!("{hamlet_path}{id}/")
}

/// The deepest a place tree goes (province, district, commune, hamlet, with room to spare):
/// a longer chain of parents is a loop.
pub const MAX_DEPTH: usize = 16;

/// The place `code` and its ancestors, root first, looked up one by one with `place`; empty
/// when the code is unknown. `looped` makes the error for a tree whose parents loop. The one
/// walk every store uses (the device's SQL, the server's seam, a push batch's cache).
pub fn lineage_with<E>(
    code: &str,
    mut place: impl FnMut(&str) -> Result<Option<Place>, E>,
    looped: impl FnOnce(&str) -> E,
) -> Result<Vec<Place>, E> {
    let mut chain = Vec::new();
    let mut next = Some(code.to_owned());
    while let Some(code) = next {
        if chain.len() > MAX_DEPTH {
            return Err(looped(&code));
        }
        match place(&code)? {
            Some(p) => {
                next = p.parent_code.clone();
                chain.push(p);
            }
            None => break,
        }
    }
    chain.reverse();
    Ok(chain)
}

/// The `/root/…/code/` path of the place a lineage ends at, which scopes are matched on by
/// prefix; `None` for an empty lineage (an unknown place).
pub fn path_of(lineage: &[Place]) -> Option<String> {
    if lineage.is_empty() {
        return None;
    }
    let codes: Vec<&str> = lineage.iter().map(|p| p.code.as_str()).collect();
    Some(format!("/{}/", codes.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, parent: Option<&str>) -> Place {
        Place {
            code: code.into(),
            name: code.into(),
            level: PlaceLevel::Hamlet,
            division_type: "thôn".into(),
            parent_code: parent.map(Into::into),
        }
    }

    #[test]
    fn a_household_is_a_place_below_its_hamlet_by_id() {
        let id = uuid::Uuid::from_u128(0x42);
        assert_eq!(household_of(&id.to_string()), Some(id));
        assert_eq!(household_of("03445-01"), None);
        assert_eq!(household_of("12"), None);
        let path = household_path("/12/03445/03445-01/", id);
        assert_eq!(path, format!("/12/03445/03445-01/{id}/"));
        assert!(path.starts_with("/12/03445/03445-01/"), "the hamlet's scope holds it");
        let place = household_place(id, "03445-01", "Số 4");
        assert_eq!((place.level, place.parent_code.as_deref()), (PlaceLevel::Household, Some("03445-01")));
        assert_eq!(PlaceLevel::from_code("household"), Some(PlaceLevel::Household));
    }

    #[test]
    fn a_lineage_walks_up_to_the_root_and_a_loop_is_an_error() {
        let tree = [place("12", None), place("03445", Some("12")), place("03445-01", Some("03445"))];
        let find = |c: &str| Ok::<_, String>(tree.iter().find(|p| p.code == c).cloned());
        let chain = lineage_with("03445-01", find, |c| format!("loop at {c}")).unwrap();
        assert_eq!(path_of(&chain).as_deref(), Some("/12/03445/03445-01/"));
        assert_eq!(path_of(&lineage_with("nowhere", find, |c| format!("loop at {c}")).unwrap()), None);
        let looped = [place("a", Some("b")), place("b", Some("a"))];
        let find = |c: &str| Ok::<_, String>(looped.iter().find(|p| p.code == c).cloned());
        assert!(lineage_with("a", find, |c| format!("loop at {c}")).unwrap_err().starts_with("loop at"));
    }

    fn real_list() -> Vec<Place> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/vn-admin-units-2025.csv");
        read_admin_units_csv(std::fs::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn the_2025_list_has_34_provinces_and_3321_communes() {
        let places = real_list();
        let provinces = places.iter().filter(|p| p.level == PlaceLevel::Province).count();
        let communes = places.iter().filter(|p| p.level == PlaceLevel::Commune).count();
        assert_eq!((provinces, communes), (34, 3321));
        let mut codes: Vec<_> = places.iter().map(|p| p.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), places.len(), "padded codes are unique across levels");
        let province_codes: std::collections::HashSet<_> =
            places.iter().filter(|p| p.level == PlaceLevel::Province).map(|p| p.code.clone()).collect();
        assert!(places.iter().filter_map(|p| p.parent_code.as_ref()).all(|c| province_codes.contains(c)));
        let muong_te = places.iter().find(|p| p.name == "Xã Mường Tè").unwrap();
        assert_eq!(muong_te.code, "03445");
        assert_eq!(muong_te.parent_code.as_deref(), Some("12"));
    }

    #[test]
    fn the_copy_in_the_repo_matches_the_shared_one_when_present() {
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/vn-admin-units-2025.csv");
        let ours = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/vn-admin-units-2025.csv");
        if let Ok(shared) = std::fs::read(shared) {
            assert_eq!(shared, std::fs::read(ours).unwrap());
        }
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let err = read_admin_units_csv("code,name,division_type,parent_code,parent_name\n1,,tỉnh,,\n".as_bytes())
            .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
