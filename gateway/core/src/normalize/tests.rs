#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use proptest::prelude::*;

/// Finds `needle` in the normalized text and returns the original text it maps back to.
fn back<'a>(text: &'a str, needle: &str) -> &'a str {
    let n = normalize(text);
    let at = n
        .as_str()
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {:?}", n.as_str()));
    &text[n.original_range(at..at + needle.len())]
}

#[test]
fn ascii_is_borrowed_with_identity_map() {
    let n = normalize("Plain ASCII, nothing to do.");
    assert!(matches!(n.text, Cow::Borrowed(_)));
    assert!(n.is_identity());
    assert_eq!(n.original_range(6..11), 6..11);
}

#[test]
fn fullwidth_folds_to_ascii() {
    let text = "to ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ!";
    assert_eq!(normalize(text).as_str(), "to john@example.com!");
    assert_eq!(
        back(text, "john@example.com"),
        "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    );
    assert_eq!(back(text, "!"), "!");
}

#[test]
fn zero_width_inside_is_removed_and_covered() {
    let text = "a jane\u{200B}.doe@ex\u{200D}ample.com b";
    assert_eq!(normalize(text).as_str(), "a jane.doe@example.com b");
    assert_eq!(
        back(text, "jane.doe@example.com"),
        "jane\u{200B}.doe@ex\u{200D}ample.com"
    );
}

#[test]
fn cyrillic_and_greek_look_alikes_fold() {
    let text = "x рrіvіlеgеd ΡΟ y";
    assert_eq!(normalize(text).as_str(), "x privileged PO y");
    assert_eq!(back(text, "privileged"), "рrіvіlеgеd");
    assert_eq!(back(text, "PO"), "ΡΟ");
}

#[test]
fn soft_hyphen_and_dashes_and_spaces() {
    let text = "ssn 123\u{00AD}-45\u{2013}6789 card 4111\u{00A0}1111";
    assert_eq!(normalize(text).as_str(), "ssn 123-45-6789 card 4111 1111");
    assert_eq!(back(text, "123-45-6789"), "123\u{00AD}-45\u{2013}6789");
    assert_eq!(back(text, "4111 1111"), "4111\u{00A0}1111");
}

#[test]
fn tag_characters_are_removed() {
    let text = "se\u{E0063}\u{E0072}cret";
    assert_eq!(normalize(text).as_str(), "secret");
    assert_eq!(back(text, "secret"), text);
    // A match that ends before the tag characters does not cover them.
    assert_eq!(back(text, "se"), "se");
}

#[test]
fn combining_marks_compose_and_widen() {
    let text = "cafe\u{0301} ﬁle";
    let n = normalize(text);
    assert_eq!(n.as_str(), "café file");
    assert_eq!(back(text, "é"), "e\u{0301}");
    // Half of a ligature maps back to the whole ligature.
    assert_eq!(back(text, "i"), "ﬁ");
    assert_eq!(back(text, "ile"), "ﬁle");
}

#[test]
fn unchanged_non_ascii_keeps_exact_offsets() {
    let text = "Müller – Zoë";
    let n = normalize(text);
    assert_eq!(n.as_str(), "Müller - Zoë");
    assert_eq!(back(text, "ü"), "ü");
    assert_eq!(back(text, "Zoë"), "Zoë");
}

#[test]
fn lowercase_folds_non_ascii_case() {
    let text = "PRIVILÉGIÉ ET CONFIDENTIEL";
    let n = normalize_lowercase(text);
    assert_eq!(n.as_str(), "privilégié et confidentiel");
    let r = n.original_range(0.."privilégié".len());
    assert_eq!(&text[r], "PRIVILÉGIÉ");
    assert_eq!(normalize_lowercase("ABC").as_str(), "abc");
}

#[test]
fn all_invisible_text_maps_empty_ranges() {
    let text = "\u{200B}\u{200B}";
    let n = normalize(text);
    assert_eq!(n.as_str(), "");
    assert_eq!(n.original_range(0..0), text.len()..text.len());
}

proptest! {
    #[test]
    fn ranges_are_in_bounds_and_on_char_boundaries(
        text in "[a-zA-Z0-9 @.\u{200B}\u{00AD}\u{FF41}-\u{FF5A}\u{0430}-\u{0450}\u{0301}\u{00E9}\u{FB01}\u{2013}\u{00A0}]{0,40}",
        a in 0usize..120,
        b in 0usize..120,
    ) {
        let n = normalize(&text);
        let (a, b) = (a.min(b), a.max(b));
        let r = n.original_range(a..b);
        prop_assert!(r.start <= r.end && r.end <= text.len());
        prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
    }

    #[test]
    fn each_normalized_char_maps_to_original_it_came_from(
        text in "[a-z \u{FF41}-\u{FF5A}\u{0430}\u{0435}\u{200B}]{1,30}",
    ) {
        let n = normalize(&text);
        for (i, c) in n.as_str().char_indices() {
            let r = n.original_range(i..i + c.len_utf8());
            prop_assert!(!r.is_empty());
            let orig = &text[r];
            let renorm = normalize(orig);
            prop_assert!(renorm.as_str().contains(c), "{c:?} from {orig:?}");
        }
    }
}
