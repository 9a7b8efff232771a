//! Build-time errors: everything wrong with a set of rule files, reported at once.
//!
//! Each [`RuleError`] names the file, the 1-based line and column of the offending key or value,
//! what is wrong and, where we can tell, how to fix it:
//!
//! ```text
//! rules/pii.toml:12:11: error: unknown class `secret`
//!   = hint: class is one of: public, internal, confidential, privileged
//! ```
//!
//! Search-time problems are not errors of this kind: see [`LimitHit`](super::LimitHit).

use std::fmt;
use std::ops::Range;

/// What kind of mistake a [`RuleError`] reports. Lets tools and tests tell errors apart without
/// parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// A rule directory or file could not be read.
    Io,
    /// The file is not valid TOML.
    Syntax,
    /// A key that rule files do not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A key that exists, but not for this rule's kind (`pattern` on a literal rule).
    KeyNotForKind,
    /// A value of the wrong type or an unknown name (class, action, mode, validator, ...).
    InvalidValue,
    /// Two rules share an id.
    DuplicateId,
    /// A regex that does not parse.
    Regex,
    /// A regex, dictionary or file over the size limits.
    TooBig,
    /// A field name glob that is not supported.
    Glob,
    /// A `patterns_file` that is missing, unreadable or empty.
    PatternsFile,
    /// A literal rule with no patterns, or an empty pattern.
    EmptyPattern,
}

/// One problem in one rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    kind: RuleErrorKind,
    file: String,
    line: usize,
    column: usize,
    message: String,
    hint: Option<String>,
}

impl RuleError {
    pub(crate) fn new(
        kind: RuleErrorKind,
        file: &str,
        (line, column): (usize, usize),
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Self {
            kind,
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    pub fn kind(&self) -> RuleErrorKind {
        self.kind
    }
    /// The rule file (its name as given in [`RuleSource::name`](super::RuleSource)).
    pub fn file(&self) -> &str {
        &self.file
    }
    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }
    /// 1-based column, counted in characters.
    pub fn column(&self) -> usize {
        self.column
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleError {}

/// Every error found while loading or compiling a rule set. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors {
    errors: Vec<RuleError>,
}

impl RuleErrors {
    /// `None` when there is nothing to report.
    pub(crate) fn from_vec(errors: Vec<RuleError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self { errors })
    }

    pub(crate) fn one(error: RuleError) -> Self {
        Self {
            errors: vec![error],
        }
    }

    pub fn errors(&self) -> &[RuleError] {
        &self.errors
    }
}

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

/// Collects errors for one file, turning byte offsets into line and column.
pub(crate) struct Sink<'a> {
    file: &'a str,
    text: &'a str,
    pub(crate) errors: &'a mut Vec<RuleError>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str, errors: &'a mut Vec<RuleError>) -> Self {
        Self { file, text, errors }
    }

    pub(crate) fn file(&self) -> &'a str {
        self.file
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    pub(crate) fn error(
        &mut self,
        kind: RuleErrorKind,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let pos = line_col(self.text, span.start);
        self.errors
            .push(RuleError::new(kind, self.file, pos, message, hint));
    }

    /// `file:line` of a byte offset, for [`Rule::source`](super::Rule) and example failures.
    pub(crate) fn location(&self, offset: usize) -> String {
        let (line, _) = line_col(self.text, offset);
        format!("{}:{line}", self.file)
    }
}

/// 1-based line and character column of byte `offset` (clamped to the text).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\nbé = 'x'\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // `=` after `bé ` is the 4th character although the 5th byte.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn display_has_position_and_hint() {
        let e = RuleError::new(
            RuleErrorKind::InvalidValue,
            "rules/x.toml",
            (3, 9),
            "unknown class `secret`",
            Some("class is one of: public".into()),
        );
        assert_eq!(
            e.to_string(),
            "rules/x.toml:3:9: error: unknown class `secret`\n  = hint: class is one of: public"
        );
        let all = RuleErrors::from_vec(vec![e.clone(), e]).map(|e| e.to_string());
        assert_eq!(all.map(|s| s.lines().count()), Some(4));
        assert!(RuleErrors::from_vec(Vec::new()).is_none());
    }
}
