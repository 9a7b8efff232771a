//! Shell-style globs (`*`, `?`) for model names and field names.
//!
//! Rule authors and operators write `gpt-4o*` or `*_strategy__c`; a full glob library would
//! bring character classes and path semantics nobody asked for. Matching is linear-time with one
//! backtrack point (the classic two-pointer algorithm), so a hostile pattern cannot blow up.

/// A compiled glob. ASCII case-sensitive unless built with [`Glob::case_insensitive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<u8>,
    case_insensitive: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.as_bytes().to_vec(),
            case_insensitive: false,
        }
    }

    pub fn case_insensitive(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_ascii_lowercase().into_bytes(),
            case_insensitive: true,
        }
    }

    /// Whether the pattern has any wildcard (a plain name can use a hash lookup instead).
    pub fn is_literal(&self) -> bool {
        !self.pattern.iter().any(|b| matches!(b, b'*' | b'?'))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.pattern).unwrap_or("")
    }

    pub fn matches(&self, text: &str) -> bool {
        if self.case_insensitive {
            let lower = text.to_ascii_lowercase();
            wildcard(&self.pattern, lower.as_bytes(), b'*', b'?')
        } else {
            wildcard(&self.pattern, text.as_bytes(), b'*', b'?')
        }
    }
}

/// Classic iterative wildcard matching over any symbol type (bytes for ASCII, chars otherwise):
/// on a mismatch only the most recent `*` is retried, so the cost stays near-linear and a
/// hostile pattern cannot blow up. Shared by model globs here and field globs in the rules.
pub(crate) fn wildcard<T: PartialEq + Copy>(g: &[T], k: &[T], star_sym: T, any: T) -> bool {
    let (mut gi, mut ki) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ki < k.len() {
        match g.get(gi) {
            Some(&c) if c == star_sym => {
                star = Some((gi, ki));
                gi += 1;
            }
            Some(&c) if c == any || c == k[ki] => {
                gi += 1;
                ki += 1;
            }
            _ => match star {
                Some((sg, sk)) => {
                    gi = sg + 1;
                    ki = sk + 1;
                    star = Some((sg, sk + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|&c| c == star_sym)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(Glob::new("gpt-4o*").matches("gpt-4o"));
        assert!(Glob::new("gpt-4o*").matches("gpt-4o-mini-2024-07-18"));
        assert!(!Glob::new("gpt-4o*").matches("gpt-4"));
        assert!(Glob::new("*_strategy__c").matches("legal_case_strategy__c"));
        assert!(!Glob::new("*_strategy__c").matches("legal_case_strategy__c2"));
        assert!(Glob::new("claude-?-*").matches("claude-3-opus"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("a*b*c").matches("aXXbYYbZc"));
        assert!(!Glob::new("a*b*c").matches("aXXbYY"));
        assert!(Glob::case_insensitive("Legal_*").matches("LEGAL_notes"));
        assert!(!Glob::new("Legal_*").matches("LEGAL_notes"));
        assert!(Glob::new("exact").is_literal());
    }

    #[test]
    fn pathological_pattern_is_linear() {
        let p = Glob::new(&"*a".repeat(50));
        assert!(!p.matches(&"a".repeat(49)));
        assert!(p.matches(&"a".repeat(60)));
    }
}
