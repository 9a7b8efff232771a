//! The character tables behind [`normalize`](super::normalize).
//!
//! Three questions are answered per character, after NFKC has run:
//! - is it invisible (removed: zero-width characters, bidi controls, tag characters, variation
//!   selectors, soft hyphen — the Unicode `Default_Ignorable_Code_Point` set, minus nothing)?
//! - is it a look-alike of an ASCII letter from another script (folded to that letter)?
//! - is it a dash or space variant that NFKC keeps (folded to `-` or ` `)?
//!
//! The look-alike table is a hand-picked subset of Unicode TR39 `confusables.txt`: single code
//! points from Cyrillic, Greek and Latin-extended blocks whose prototype is one ASCII letter and
//! that are used in homograph attacks ("privіleged" with a Cyrillic `і`). It deliberately does not
//! fold letters that merely resemble a letter in some fonts (Cyrillic `п`, Greek `η`), because a
//! fold that is too eager makes legitimate Russian or Greek text match English rules.

/// Whether `c` is removed before matching: it renders as nothing (or only changes layout), so an
/// attacker can put it inside a keyword without a reader noticing.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                      // soft hyphen
        | '\u{034F}'                    // combining grapheme joiner
        | '\u{061C}'                    // Arabic letter mark
        | '\u{115F}'..='\u{1160}'       // Hangul fillers
        | '\u{17B4}'..='\u{17B5}'       // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'       // Mongolian variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'       // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'       // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'       // word joiner, invisible operators, bidi isolates
        | '\u{3164}'                    // Hangul filler
        | '\u{FE00}'..='\u{FE0F}'       // variation selectors
        | '\u{FEFF}'                    // zero-width no-break space (BOM)
        | '\u{FFA0}'                    // halfwidth Hangul filler
        | '\u{1BCA0}'..='\u{1BCA3}'     // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'     // musical symbol format controls
        | '\u{E0000}'..='\u{E0FFF}' // tag characters and variation selectors supplement
    )
}

/// The ASCII character `c` is folded to for matching, if any.
pub(crate) fn fold(c: char) -> Option<char> {
    let folded = match c {
        // Dashes that NFKC keeps as they are.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        // Spaces. NFKC already maps most of these to U+0020; listed so that the intent does not
        // depend on the normalization tables.
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        '\u{0085}' | '\u{2028}' | '\u{2029}' => ' ',
        _ => return confusable(c),
    };
    Some(folded)
}

/// Look-alikes of ASCII letters (see the module docs for how the table was chosen).
fn confusable(c: char) -> Option<char> {
    let folded = match c {
        // Cyrillic lowercase
        'а' => 'a',
        'в' => 'b', // only as a small-caps look-alike; harmless since `в` never occurs in English
        'е' => 'e',
        'һ' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'с' => 'c',
        'ѕ' => 's',
        'у' => 'y',
        'х' => 'x',
        'ԁ' => 'd',
        'ԝ' => 'w',
        'ү' => 'y',
        // Cyrillic uppercase
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'Н' => 'H',
        'І' => 'I',
        'Ӏ' => 'I',
        'Ј' => 'J',
        'К' => 'K',
        'М' => 'M',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Ѕ' => 'S',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        'Ү' => 'Y',
        'Ԁ' => 'D',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        // Greek uppercase
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        // Greek lowercase
        'α' => 'a',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'υ' => 'u',
        'χ' => 'x',
        'ϲ' => 'c',
        'ϳ' => 'j',
        'Ϲ' => 'C',
        // Latin extensions
        'ı' => 'i',
        'İ' => 'I',
        'ɡ' => 'g',
        'ɑ' => 'a',
        'ɩ' => 'i',
        'ʏ' => 'y',
        // Armenian
        'օ' => 'o',
        'ս' => 'u',
        'ց' => 'g',
        _ => return None,
    };
    Some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_ascii_and_identity_free() {
        for c in ('\u{80}'..='\u{10FFFF}').filter(|c| !c.is_ascii()) {
            if let Some(f) = fold(c) {
                assert!(f.is_ascii(), "{c:?} folds to non-ASCII {f:?}");
                assert!(!is_invisible(c), "{c:?} is both folded and removed");
            }
        }
    }

    #[test]
    fn ascii_is_never_touched() {
        for c in '\0'..='\u{7F}' {
            assert_eq!(fold(c), None);
            assert!(!is_invisible(c));
        }
    }

    #[test]
    fn known_attack_characters() {
        assert!(is_invisible('\u{200B}'));
        assert!(is_invisible('\u{00AD}'));
        assert!(is_invisible('\u{E0041}'));
        assert!(is_invisible('\u{202E}'));
        assert_eq!(fold('\u{2013}'), Some('-'));
        assert_eq!(fold('\u{00A0}'), Some(' '));
        assert_eq!(fold('і'), Some('i'));
        assert_eq!(fold('Ρ'), Some('P'));
        assert_eq!(fold('é'), None);
    }
}
