//! The vocabulary shared by rules, findings and routing.
//!
//! These names are part of the product contract (`DESIGN.md`): they appear in rule files, in
//! `sovgate scan` output and in audit records, so their serde spelling must not change.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How sensitive a piece of content is. Ordered: `Public < Internal < Confidential < Privileged`,
/// so the classification of a request is the maximum over its findings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    #[default]
    Public,
    Internal,
    Confidential,
    Privileged,
}

impl Class {
    pub const ALL: [Class; 4] = [
        Class::Public,
        Class::Internal,
        Class::Confidential,
        Class::Privileged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Public => "public",
            Class::Internal => "internal",
            Class::Confidential => "confidential",
            Class::Privileged => "privileged",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule does to what it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Remove the whole object member (field rules) or the matched value.
    Drop,
    /// Replace the matched span with `[REDACTED:<rule-id>]`.
    Redact,
    /// Replace the matched span with a stable per-request placeholder kept in a vault.
    Pseudonymize,
    /// Refuse the whole request.
    Block,
    /// Change nothing; the finding only feeds classification and audit.
    Tag,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Redact => "redact",
            Action::Pseudonymize => "pseudonymize",
            Action::Block => "block",
            Action::Tag => "tag",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `monitor` reports the would-be action and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Monitor,
}

/// Which destinations a transforming action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AppliesTo {
    /// Every destination, local pools included.
    #[default]
    All,
    /// Only external providers: a local pool sees the value in clear.
    External,
}

/// How much of the text around a match a rule's action covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Extent {
    /// The matched span only.
    #[default]
    Match,
    /// The whole string holding the match (a document, a message's text, a content block, an
    /// embeddings input): a privilege legend marks the document it heads.
    Value,
}

impl Extent {
    pub fn as_str(self) -> &'static str {
        match self {
            Extent::Match => "match",
            Extent::Value => "value",
        }
    }
}

/// Which direction a rule inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Request,
    Response,
    Both,
}

impl Scope {
    /// Whether a rule with this scope runs on traffic in direction `dir`.
    pub fn covers(self, dir: Direction) -> bool {
        matches!(
            (self, dir),
            (Scope::Both, _)
                | (Scope::Request, Direction::Request)
                | (Scope::Response, Direction::Response)
        )
    }
}

/// The direction of the traffic being inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// Where a transformed body is going; decides whether `applies_to = "external"` rules act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    Local,
    External,
}
