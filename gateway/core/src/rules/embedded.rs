//! The default rule packs, compiled into the binary so that `sovgate serve` without a config
//! still protects: privileged legal content, personal data, and credentials.

use super::{compile, RuleErrors, RuleSet, RuleSource};

const PACKS: &[(&str, &str)] = &[
    (
        "rules/legal.toml",
        include_str!("../../../../rules/legal.toml"),
    ),
    ("rules/pii.toml", include_str!("../../../../rules/pii.toml")),
    (
        "rules/secrets.toml",
        include_str!("../../../../rules/secrets.toml"),
    ),
];

/// The default packs as sources (no `base_dir`: they cannot use `patterns_file`).
pub fn embedded_sources() -> Vec<RuleSource> {
    PACKS
        .iter()
        .map(|(name, text)| RuleSource {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
            base_dir: None,
        })
        .collect()
}

/// The default packs, compiled.
pub fn default_rule_set() -> Result<RuleSet, RuleErrors> {
    compile(&embedded_sources())
}
