//! Rule files, compiled once into matchers that scan text and field names.
//!
//! Security teams write rules in TOML (`rules/*.toml`, format in `DESIGN.md`): a rule names what
//! to look for (`kind = "field" | "literal" | "regex"`), what to do with it (`action`), how
//! sensitive it is (`class`), and carries its own examples. This module turns a set of such
//! files into a [`RuleSet`] in two layers:
//!
//! 1. [`file`]: serde types that mirror the file, spans on every value, unknown keys refused.
//! 2. [`build`]: checks every rule and compiles all of them together. Every mistake in every file
//!    is reported at once as [`RuleErrors`], each with `file:line:column` and a hint.
//!
//! The compiled [`RuleSet`] only searches: one Aho-Corasick automaton holds the literals of all
//! literal rules, the regexes are compiled once and grouped by where they can match, a hash map
//! holds every field name ([`engine`] explains the search). Build it off the hot path, share it
//! behind an `Arc`, swap it atomically on reload.
//!
//! ```
//! use sovgate_core::rules::{compile, RuleSource};
//! use sovgate_core::types::Direction;
//!
//! let rules = compile(&[RuleSource {
//!     name: "rules/pii.toml".into(),
//!     text: r#"
//!         [[rule]]
//!         id = "pii.email"
//!         kind = "regex"
//!         pattern = '''[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'''
//!         action = "pseudonymize"
//!         class = "confidential"
//!     "#.into(),
//!     base_dir: None,
//! }]).unwrap();
//! let mut found = Vec::new();
//! rules.scan("write to jane@example.com", Direction::Request, &mut found).unwrap();
//! assert_eq!(found[0].range, 9..25);
//! assert_eq!(rules.rule(found[0].rule).placeholder_label, "EMAIL");
//! ```
//!
//! Matching runs on [`normalize`](crate::normalize)d text (NFKC, invisible characters removed,
//! look-alikes folded) and reports ranges in the original text.
//!
//! Semantics a rule author can rely on:
//! - **Literals match on word boundaries** where they start or end with a word character: the
//!   matter name `Acme` matches "Acme Corp" and "(Acme)", never "Acmeister" or "BigAcme".
//!   `case_insensitive` folds case (ASCII in the automaton, other letters through a lowercased
//!   view of non-ASCII text).
//! - **Every rule finds what its own pattern finds**: a match of one rule never hides a match of
//!   another on the same words; overlapping matches of one rule merge into one finding.
//! - **Regexes** use `regex-automata` syntax; look-around and backreferences fall back to
//!   `fancy-regex` with a backtrack limit, and hitting the limit is a [`LimitHit`] (block).
//! - **Validators** ([`Validator`]): a regex match that fails `validate` is no finding.
//!
//! How the search stays fast (gated word starts and character runs instead of a full automaton
//! pass per rule) is described in the `engine` and `gate` modules.

mod build;
mod check;
mod embedded;
mod engine;
mod error;
mod examples;
mod file;
mod gate;
mod glob;
mod limits;
mod literal;
mod pattern;
mod required;
mod scan;
mod stream_bound;
mod validate;

#[cfg(test)]
mod tests;

pub use embedded::{default_rule_set, embedded_sources};
pub use error::{RuleError, RuleErrorKind, RuleErrors};
pub use examples::ExampleFailure;
pub use stream_bound::{StreamBound, MAX_HOLD};
pub use validate::Validator;

use crate::types::{Action, AppliesTo, Class, Extent, Mode, Scope};
use std::ops::Range;
use std::path::PathBuf;

/// The text of one rule file and where it came from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Shown in errors, e.g. `rules/pii.toml`.
    pub name: String,
    pub text: String,
    /// Where `patterns_file` paths are resolved; `None` for embedded rules.
    pub base_dir: Option<PathBuf>,
}

/// Index of a rule in [`RuleSet::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleIdx(pub u32);

impl RuleIdx {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Object keys (field names).
    Field,
    /// Fixed strings in text, from `patterns` and/or `patterns_file`.
    Literal,
    /// A regular expression over text, optionally validated.
    Regex,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Field => "field",
            RuleKind::Literal => "literal",
            RuleKind::Regex => "regex",
        }
    }
}

/// One compiled rule: what the rest of the gateway needs to act on its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub kind: RuleKind,
    pub action: Action,
    pub class: Class,
    pub mode: Mode,
    pub applies_to: AppliesTo,
    /// `extent = "value"`: the action covers the whole string holding the match.
    pub extent: Extent,
    pub scope: Scope,
    /// Label for pseudonym placeholders (`placeholder`, default: the id's last segment in
    /// upper case, `pii.email` → `EMAIL`).
    pub placeholder_label: String,
    /// Redaction text (`replacement`, default `[REDACTED:<id>]`).
    pub replacement: String,
    /// `file:line` where the rule is defined.
    pub source: String,
}

/// A literal or regex rule matched `range` (byte offsets in the text given to
/// [`RuleSet::scan`], on character boundaries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextMatch {
    pub rule: RuleIdx,
    pub range: Range<usize>,
}

/// A matching limit (the fancy-regex backtrack limit) was hit: the text could not be fully
/// inspected for `rule`. Callers must treat this as a block, never as "no finding".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitHit {
    pub rule: RuleIdx,
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "matching limit hit for rule #{}", self.rule.0)
    }
}

impl std::error::Error for LimitHit {}

/// Compiled rules. Cheap to search, `Send + Sync`, built once per (re)load.
pub struct RuleSet {
    rules: Vec<Rule>,
    fields: glob::FieldMatcher,
    /// Where field names may occur inside free text (records pasted into prompts).
    field_gate: crate::records::FieldGate,
    engine: engine::Engine,
    examples: Vec<examples::Example>,
    /// Whether any literal or regex rule covers requests / responses.
    scans: [bool; 2],
    /// What a streaming scanner of model output must hold back ([`StreamBound`]).
    stream_bound: StreamBound,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .field("examples", &self.examples.len())
            .field("literal_memory", &self.engine.memory_usage())
            .finish_non_exhaustive()
    }
}

/// Compiles rule files. Reports every error in every file, or none.
pub fn compile(sources: &[RuleSource]) -> Result<RuleSet, RuleErrors> {
    build::compile(sources)
}

/// Loads and compiles every `*.toml` file directly inside each directory (sorted by name, not
/// recursive). Unreadable directories and files, and directories without rule files, are errors
/// too, reported together with the compile errors of the files that could be read.
pub fn load_dirs(dirs: &[PathBuf]) -> Result<RuleSet, RuleErrors> {
    let mut errors = Vec::new();
    let mut sources = Vec::new();
    for dir in dirs {
        let dir_name = dir.display().to_string();
        let io_error = |message: String, hint: Option<String>| {
            RuleError::new(RuleErrorKind::Io, &dir_name, (1, 1), message, hint)
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(io_error(
                    format!("cannot read rule directory: {e}"),
                    Some("check `[rules] dirs` in the config".into()),
                ));
                continue;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            errors.push(io_error(
                "no *.toml rule files in this directory".into(),
                Some("add a rule file, or remove the directory from `[rules] dirs`".into()),
            ));
        }
        for path in files {
            let name = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push(RuleSource {
                    name,
                    text,
                    base_dir: Some(dir.clone()),
                }),
                Err(e) => errors.push(RuleError::new(
                    RuleErrorKind::Io,
                    &name,
                    (1, 1),
                    format!("cannot read rule file: {e}"),
                    None,
                )),
            }
        }
    }
    let compiled = compile(&sources);
    match (compiled, RuleErrors::from_vec(errors)) {
        (Ok(set), None) => Ok(set),
        (Ok(_), Some(io)) => Err(io),
        (Err(e), io) => {
            let mut all = io.map(|io| io.errors().to_vec()).unwrap_or_default();
            all.extend(e.errors().iter().cloned());
            Err(RuleErrors::from_vec(all).unwrap_or(e))
        }
    }
}

impl RuleSet {
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule at `idx`. Indices come from this set's own findings, so they are always valid.
    pub fn rule(&self, idx: RuleIdx) -> &Rule {
        &self.rules[idx.index()]
    }

    /// Looks a rule up by id.
    pub fn find(&self, id: &str) -> Option<RuleIdx> {
        self.rules
            .iter()
            .position(|r| r.id == id)
            .map(|i| RuleIdx(i as u32))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any literal or regex rule scans model output (`scope = "response"` or `"both"`).
    pub fn scans_responses(&self) -> bool {
        self.scans[1]
    }

    /// The hold-back profile of the response rules, for streaming scanners.
    pub fn response_stream_bound(&self) -> &StreamBound {
        &self.stream_bound
    }

    pub fn has_field_rules(&self) -> bool {
        !self.fields.is_empty()
    }

    /// Field rules whose names or globs match object key `key` (JSON-decoded), for traffic in
    /// direction `dir`. Case, NFKC forms and invisible characters in the key do not matter:
    /// `Legal_Case_Strategy__c` and `legal\u{200B}_case_strategy__c` both hit
    /// `legal_case_strategy__c`. Appends each matching rule once, in rule order.
    pub fn match_field(&self, key: &str, dir: crate::types::Direction, out: &mut Vec<RuleIdx>) {
        self.fields.matches(key, |r| self.covers(r, dir), out);
    }

    /// The field-name gate, for [`crate::records::find_sites`].
    pub fn field_gate(&self) -> &crate::records::FieldGate {
        &self.field_gate
    }

    fn covers(&self, r: RuleIdx, dir: crate::types::Direction) -> bool {
        self.rules
            .get(r.index())
            .is_some_and(|rule| rule.scope.covers(dir))
    }
}
