//! Vietnamese text folding for search: case-, diacritic- and normalization-insensitive keys.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text to a search key: NFD-decomposes it (so NFC and NFD input agree), drops the
/// combining marks (tones and vowel hats), maps `đ`/`Đ` to `d`, lower-cases, and collapses runs
/// of whitespace to one space.
///
/// `fold("Nguyễn Thị Đào") == "nguyen thi dao"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// True when every whitespace-separated word of `query` occurs in `haystack`, both folded.
/// An empty query matches everything.
pub fn matches(haystack: &str, query: &str) -> bool {
    let hay = fold(haystack);
    fold(query).split(' ').filter(|w| !w.is_empty()).all(|w| hay.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::nfc("Nguy\u{1ec5}n", "nguyen")]
    #[case::nfd("Nguye\u{302}\u{303}n", "nguyen")]
    #[case::upper("NGUYỄN", "nguyen")]
    #[case::d_stroke("Đặng Đình", "dang dinh")]
    #[case::spaces("  Lò   Văn\tPhóng ", "lo van phong")]
    #[case::ascii("Mường Tè", "muong te")]
    fn folds(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(fold(input), expected);
    }

    #[test]
    fn nfc_and_nfd_fold_alike() {
        let nfc: String = "Nguyễn Thị Ánh Tuyết".nfc().collect();
        let nfd: String = "Nguyễn Thị Ánh Tuyết".nfd().collect();
        assert_ne!(nfc, nfd, "the two inputs must really differ in bytes");
        assert_eq!(fold(&nfc), fold(&nfd));
    }

    #[rstest]
    #[case("Nguyễn Văn An", "nguyen", true)]
    #[case("Nguyễn Văn An", "NGUYEN an", true)]
    #[case("Nguyễn Văn An", "Nguye\u{302}\u{303}n", true)]
    #[case("Đỗ Thị Hoa", "do hoa", true)]
    #[case("Đỗ Thị Hoa", "dao", false)]
    #[case("Lò Văn Phóng", "", true)]
    fn matches_queries(#[case] hay: &str, #[case] query: &str, #[case] expected: bool) {
        assert_eq!(matches(hay, query), expected);
    }
}
