//! The walk + transform fuzz check, shared by `fuzz/fuzz_targets/inspect_transform.rs` and the
//! corpus replay in `cargo test`.

use crate::rules::{default_rule_set, RuleSet};
use crate::transform::transform;
use crate::types::{DestinationKind, Direction};
use crate::vault::Vault;
use std::sync::OnceLock;

fn rules() -> Option<&'static RuleSet> {
    static R: OnceLock<Option<RuleSet>> = OnceLock::new();
    R.get_or_init(|| default_rule_set().ok()).as_ref()
}

/// For any input: inspection never panics; a body that inspects cleanly transforms for both
/// destinations into strict JSON, or is refused; a transformed body has nothing left to transform.
/// Panics (the fuzzer's failure signal) when a property breaks.
#[allow(clippy::panic)]
pub fn fuzz_check_inspect_transform(data: &[u8]) {
    let Some(rules) = rules() else {
        panic!("the default rule packs do not compile");
    };
    let Ok(report) = super::inspect(data, rules, Direction::Request) else {
        return;
    };
    for dest in [DestinationKind::Local, DestinationKind::External] {
        let mut vault = Vault::new();
        let Ok(t) = transform(data, rules, Direction::Request, dest, &mut vault) else {
            continue; // a fault refuses the request: acceptable, nothing leaves
        };
        let Some(out) = t.body else {
            if report.transforms
                && dest == DestinationKind::External
                && has_all_scope_actions(rules, &report)
            {
                panic!("findings with transforming actions but nothing changed");
            }
            continue;
        };
        if crate::json::parse(&out).is_err() {
            panic!("transformed body does not parse");
        }
        if let Ok(again) = transform(&out, rules, Direction::Request, dest, &mut Vault::new()) {
            if again.body.is_some() {
                panic!("a second transform changed the output again");
            }
        }
    }
}

fn has_all_scope_actions(rules: &RuleSet, report: &super::Report) -> bool {
    use crate::types::{Action, Mode};
    report.findings.iter().any(|f| {
        let r = rules.rule(f.rule);
        r.mode == Mode::Enforce
            && matches!(
                r.action,
                Action::Redact | Action::Pseudonymize | Action::Drop
            )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    #[test]
    fn corpus_replays_cleanly() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/inspect_transform");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            super::fuzz_check_inspect_transform(&data);
            n += 1;
        }
        assert!(n >= 10, "seed corpus missing at {}", dir.display());
    }
}
