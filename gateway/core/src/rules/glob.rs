//! Field-name matching for `kind = "field"` rules.
//!
//! A field rule lists object keys (`legal_case_strategy__c`) or globs over them
//! (`*_privileged__c`): `*` matches any run of characters, `?` exactly one. Matching ignores
//! ASCII case and invisible characters, and runs on the NFKC form of the key, because a client
//! that sends `Legal_Case_Strategy__c` or `legal\u{200B}_case_strategy__c` means the same field
//! (and an attacker would rely on the difference). Exact names are looked up in a hash map;
//! globs are few and tried one by one.

use super::RuleIdx;
use crate::glob::wildcard;
use crate::normalize::normalize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Why a field glob was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GlobError {
    Empty,
    Unsupported(char),
    MatchesEverything,
}

impl GlobError {
    pub(crate) fn message(&self, glob: &str) -> String {
        match self {
            GlobError::Empty => "empty field name".into(),
            GlobError::Unsupported(c) => format!("unsupported `{c}` in field glob `{glob}`"),
            GlobError::MatchesEverything => format!("field glob `{glob}` matches every field"),
        }
    }

    pub(crate) fn hint(&self) -> &'static str {
        match self {
            GlobError::Empty => "remove the empty entry from `fields`",
            GlobError::Unsupported(_) => {
                "field globs support `*` (any run of characters) and `?` (one character) only"
            }
            GlobError::MatchesEverything => {
                "name the fields, or anchor the glob with a prefix or suffix such as \"*_privileged__c\""
            }
        }
    }
}

/// Folds a key (or a name from a rule) for comparison: NFKC, invisible characters removed,
/// look-alikes folded, lowercase. Borrowed for the common lowercase ASCII key.
pub(crate) fn fold_key(key: &str) -> Cow<'_, str> {
    if key.is_ascii() {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(key.to_ascii_lowercase())
        } else {
            Cow::Borrowed(key)
        }
    } else {
        Cow::Owned(normalize(key).as_str().to_lowercase())
    }
}

/// Checks a glob and returns its folded form.
pub(crate) fn parse_glob(glob: &str) -> Result<String, GlobError> {
    if glob.is_empty() {
        return Err(GlobError::Empty);
    }
    if let Some(c) = glob
        .chars()
        .find(|c| matches!(c, '[' | ']' | '{' | '}' | '\\'))
    {
        return Err(GlobError::Unsupported(c));
    }
    if glob.chars().all(|c| c == '*') {
        return Err(GlobError::MatchesEverything);
    }
    Ok(fold_key(glob).into_owned())
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Wildcard match of folded `key` against folded `glob` (`*`, `?`).
fn glob_match(glob: &str, key: &str) -> bool {
    if glob.is_ascii() && key.is_ascii() {
        wildcard(glob.as_bytes(), key.as_bytes(), b'*', b'?')
    } else {
        let g: Vec<char> = glob.chars().collect();
        let k: Vec<char> = key.chars().collect();
        wildcard(&g, &k, '*', '?')
    }
}

/// All field names and globs of all field rules.
#[derive(Debug, Default)]
pub(crate) struct FieldMatcher {
    exact: HashMap<String, Vec<RuleIdx>, BuildHasherDefault<KeyHasher>>,
    globs: Vec<(String, RuleIdx)>,
}

/// A multiply-rotate hash (FxHash) for the name table, run once per key of every body.
///
/// SipHash's keyed hashing defends a table that an attacker fills; this one is filled from rule
/// files only, and bodies merely look names up in it, so colliding keys cost one lookup each.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut le = [0u8; 8];
            le.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(le)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FieldMatcher {
    /// Adds an already folded name or glob (see [`parse_glob`]).
    pub(crate) fn add(&mut self, folded: String, rule: RuleIdx) {
        if is_glob(&folded) {
            self.globs.push((folded, rule));
        } else {
            let rules = self.exact.entry(folded).or_default();
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.globs.is_empty()
    }

    /// The gate over every name and glob, for finding fields inside free text.
    pub(crate) fn gate(&self) -> crate::records::FieldGate {
        crate::records::FieldGate::new(
            self.exact
                .keys()
                .map(String::as_str)
                .chain(self.globs.iter().map(|(g, _)| g.as_str())),
        )
    }

    /// Appends every rule whose names match `key`, each once, in rule order.
    pub(crate) fn matches(
        &self,
        key: &str,
        mut keep: impl FnMut(RuleIdx) -> bool,
        out: &mut Vec<RuleIdx>,
    ) {
        if self.is_empty() {
            return;
        }
        let key = fold_key(key);
        let first = out.len();
        if let Some(rules) = self.exact.get(key.as_ref()) {
            out.extend(rules.iter().copied().filter(|&r| keep(r)));
        }
        for (glob, rule) in &self.globs {
            if keep(*rule) && glob_match(glob, &key) {
                out.push(*rule);
            }
        }
        out[first..].sort_unstable();
        let mut seen = first;
        for i in first..out.len() {
            if i == first || out[i] != out[seen - 1] {
                out[seen] = out[i];
                seen += 1;
            }
        }
        out.truncate(seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_semantics() {
        assert!(glob_match("*_privileged__c", "matter_privileged__c"));
        assert!(glob_match("*_privileged__c", "_privileged__c"));
        assert!(!glob_match("*_privileged__c", "privileged__c"));
        assert!(glob_match("legal_?", "legal_x"));
        assert!(!glob_match("legal_?", "legal_xy"));
        assert!(glob_match("a*b*c", "a_b_b_c"));
        assert!(!glob_match("a*b*c", "a_b_b_d"));
        assert!(glob_match("notes*", "notes"));
    }

    #[test]
    fn parse_glob_refuses_bad_globs() {
        assert_eq!(parse_glob(""), Err(GlobError::Empty));
        assert_eq!(parse_glob("**"), Err(GlobError::MatchesEverything));
        assert_eq!(parse_glob("a[bc]"), Err(GlobError::Unsupported('[')));
        assert_eq!(
            parse_glob("Settlement_Terms__c").as_deref(),
            Ok("settlement_terms__c")
        );
    }

    #[test]
    fn keys_fold_case_and_invisible_characters() {
        let mut m = FieldMatcher::default();
        m.add(
            parse_glob("legal_case_strategy__c").unwrap_or_default(),
            RuleIdx(0),
        );
        m.add(
            parse_glob("*_privileged__c").unwrap_or_default(),
            RuleIdx(1),
        );
        m.add(parse_glob("*_strategy__c").unwrap_or_default(), RuleIdx(1));
        let mut out = Vec::new();
        for key in [
            "legal_case_strategy__c",
            "Legal_Case_Strategy__c",
            "legal\u{200B}_case_strategy__c",
            "ｌｅｇａｌ_case_strategy__c",
        ] {
            out.clear();
            m.matches(key, |_| true, &mut out);
            assert_eq!(out, [RuleIdx(0), RuleIdx(1)], "{key:?}");
        }
        out.clear();
        m.matches("Matter_Privileged__c", |_| true, &mut out);
        assert_eq!(out, [RuleIdx(1)]);
        out.clear();
        m.matches("Matter_Privileged__c", |r| r != RuleIdx(1), &mut out);
        assert!(out.is_empty());
        m.matches("description", |_| true, &mut out);
        assert!(out.is_empty());
    }
}
