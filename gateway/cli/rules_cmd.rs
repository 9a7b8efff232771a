//! `sovgate rules check|test`.

use sovgate_core::rules::{self, RuleSet};
use std::path::PathBuf;
use std::process::ExitCode;

/// The rule set a command works on: a directory, or the embedded default packs.
pub fn load(dir: Option<PathBuf>) -> Result<RuleSet, rules::RuleErrors> {
    match dir {
        Some(d) => rules::load_dirs(&[d]),
        None => rules::default_rule_set(),
    }
}

pub fn check(dir: Option<PathBuf>) -> ExitCode {
    let what = dir
        .as_ref()
        .map_or("embedded rules".to_owned(), |d| d.display().to_string());
    match load(dir) {
        Ok(set) => {
            println!("{what}: ok, {} rules", set.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{what}: {} error(s)", e.errors().len());
            ExitCode::FAILURE
        }
    }
}

pub fn test(dir: Option<PathBuf>) -> ExitCode {
    let what = dir
        .as_ref()
        .map_or("embedded rules".to_owned(), |d| d.display().to_string());
    let set = match load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let failures = set.run_examples();
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    let total = set.example_count();
    println!(
        "{what}: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
