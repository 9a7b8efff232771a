//! The shipped rule packs compile and pass their own examples.

use super::super::*;

#[test]
fn embedded_packs_compile_and_pass_their_examples() {
    let set = default_rule_set().unwrap_or_else(|e| panic!("{e}"));
    let failures = set.run_examples();
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}", report.join("\n"));
    assert!(set.example_count() > 50);
}
