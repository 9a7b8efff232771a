//! The records fuzz check, shared by `fuzz/fuzz_targets/records.rs` and the corpus replay in
//! `cargo test`.

use super::{find_sites, Site};
use crate::rules::{default_rule_set, RuleSet};
use crate::types::Direction;
use std::ops::Range;
use std::sync::OnceLock;

fn rules() -> Option<&'static RuleSet> {
    static R: OnceLock<Option<RuleSet>> = OnceLock::new();
    R.get_or_init(|| default_rule_set().ok()).as_ref()
}

/// For any text: finding sites never panics, and every range it returns lies inside the text on
/// character boundaries, with values and removals around or beside the field name they belong
/// to. Panics (the fuzzer's failure signal) when a property breaks.
#[allow(clippy::panic)]
pub fn fuzz_check_records(data: &[u8]) {
    let Some(rules) = rules() else {
        panic!("the default rule packs do not compile");
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = Vec::new();
    let sites = find_sites(text, rules.field_gate(), |name| {
        fields.clear();
        rules.match_field(name, Direction::Request, &mut fields);
        !fields.is_empty()
    });
    let valid = |r: &Range<usize>| {
        r.start <= r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    };
    for site in &sites {
        if !valid(site.name()) {
            panic!("name range {:?} outside the text", site.name());
        }
        if let Site::Field(f) = site {
            for r in f.values.iter().chain(&f.removals) {
                if !valid(r) {
                    panic!("range {r:?} outside the text or off a character boundary");
                }
            }
            if f.removals.is_empty() {
                panic!("a field without anything for drop to remove");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use std::path::Path;

    #[test]
    fn fuzz_corpus_replays_cleanly() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/records");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        let mut n = 0;
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).unwrap_or_default();
            super::fuzz_check_records(&data);
            n += 1;
        }
        assert!(n >= 10, "the records corpus shrank to {n} files");
    }
}
