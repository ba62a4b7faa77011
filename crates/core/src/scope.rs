//! A user's scope: the set of places they may see and change, each with everything under it (a
//! volunteer given two hamlets, a team leader their team's hamlets, an officer a commune).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One or more place codes, sorted and without repeats. Containment is decided on place paths
/// (`/province/commune/hamlet/`), which only a store can resolve: see [`ScopePaths`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Scope {
    codes: Vec<String>,
}

impl Scope {
    /// A scope of these places; refuses an empty set or an empty code.
    pub fn new<S: Into<String>>(codes: impl IntoIterator<Item = S>) -> Result<Scope, Error> {
        // a household given on its own is written as its id is everywhere else (lowercase,
        // hyphenated), so the key a phone sends back is the key the server holds
        let canonical = |code: &str| match crate::places::household_of(code) {
            Some(id) => id.to_string(),
            None => code.to_owned(),
        };
        let mut codes: Vec<String> = codes.into_iter().map(|c| canonical(c.into().trim())).collect();
        if codes.iter().any(|c| c.is_empty() || c.contains(',')) {
            return Err(Error::invalid_input(
                "mã địa bàn không được trống hay chứa dấu phẩy / a place code may not be empty or hold a comma",
            ));
        }
        codes.sort();
        codes.dedup();
        if codes.is_empty() {
            return Err(Error::invalid_input("phạm vi cần ít nhất một địa bàn / a scope needs at least one place"));
        }
        Ok(Scope { codes })
    }

    /// A scope of one place.
    pub fn single(code: impl Into<String>) -> Scope {
        Scope { codes: vec![code.into()] }
    }

    /// The place codes, sorted.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// The first code (the only one of a single-place scope): what apps before scope sets were
    /// told their scope was.
    pub fn first(&self) -> &str {
        &self.codes[0]
    }

    /// The canonical text form, codes joined by commas: what a phone sends as `scope=` with a
    /// pull, so the server sees when it changed. A single place's key is its code.
    pub fn key(&self) -> String {
        self.codes.join(",")
    }

    /// Parses [`Scope::key`].
    pub fn parse_key(key: &str) -> Result<Scope, Error> {
        Scope::new(key.split(','))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl TryFrom<Vec<String>> for Scope {
    type Error = Error;
    fn try_from(codes: Vec<String>) -> Result<Self, Self::Error> {
        Scope::new(codes)
    }
}

impl From<Scope> for Vec<String> {
    fn from(scope: Scope) -> Self {
        scope.codes
    }
}

/// A scope with the `/…/code/` path of each of its places: what containment is checked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePaths {
    scope: Scope,
    paths: Vec<String>,
}

impl ScopePaths {
    /// Pairs a scope with the paths of its places (same order as [`Scope::codes`]). Refuses a
    /// path that does not end in its place's code.
    pub fn new(scope: Scope, paths: Vec<String>) -> Result<ScopePaths, Error> {
        let matches = paths.len() == scope.codes.len()
            && scope.codes.iter().zip(&paths).all(|(code, path)| path.ends_with(&format!("/{code}/")));
        if !matches {
            return Err(Error::invalid_input(format!("đường dẫn không khớp phạm vi {scope} / paths do not match")));
        }
        Ok(ScopePaths { scope, paths })
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The paths of its places.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Whether the place at `path` lies in the scope (under one of its places, or one of them).
    pub fn contains_path(&self, path: &str) -> bool {
        self.paths.iter().any(|scope| path.starts_with(scope.as_str()))
    }

    /// Whether the place `code` is one of the scope's places or lies under one (`path` is its
    /// path).
    pub fn contains(&self, path: Option<&str>) -> bool {
        path.is_some_and(|p| self.contains_path(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_a_sorted_set_with_a_canonical_key() {
        let scope = Scope::new(["03445-02", "03445-01", "03445-02"]).unwrap();
        assert_eq!(scope.codes(), ["03445-01", "03445-02"]);
        assert_eq!(scope.key(), "03445-01,03445-02");
        assert_eq!(Scope::parse_key(&scope.key()).unwrap(), scope);
        assert_eq!(Scope::single("03445").key(), "03445");
        assert!(Scope::new(Vec::<String>::new()).is_err());
        assert!(Scope::parse_key("03445,,03446").is_err());
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, r#"["03445-01","03445-02"]"#);
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        assert!(serde_json::from_str::<Scope>("[]").is_err());
    }

    #[test]
    fn a_household_s_id_is_kept_in_its_one_spelling() {
        let id = "0190A0C0-0000-7000-8000-0000000000E1";
        let scope = Scope::new([id, "03445-01"]).unwrap();
        assert_eq!(scope.key(), "0190a0c0-0000-7000-8000-0000000000e1,03445-01");
        assert_eq!(Scope::parse_key(&scope.key()).unwrap(), scope);
    }

    #[test]
    fn containment_is_under_any_of_the_places() {
        let scope = Scope::new(["03445-01", "03637"]).unwrap();
        let paths = ScopePaths::new(scope.clone(), vec!["/12/03445/03445-01/".into(), "/12/03637/".into()]).unwrap();
        assert!(paths.contains_path("/12/03445/03445-01/"));
        assert!(paths.contains_path("/12/03637/03637-01/"));
        assert!(!paths.contains_path("/12/03445/03445-02/"), "a sibling hamlet is outside");
        assert!(!paths.contains_path("/12/03445/"), "the commune above is outside");
        assert!(!paths.contains(None));
        assert!(ScopePaths::new(scope, vec!["/12/03445/".into(), "/12/03637/".into()]).is_err());
    }
}
