//! Data-driven tests: JSONTestSuite, the fuzz corpus, and a throughput measurement.
//!
//! JSONTestSuite (Nicolas Seriot's parsing tests, MIT) is vendored in
//! `gateway/core/testdata/jsontestsuite/test_parsing`, so a fresh clone needs nothing beside it;
//! `SOVGATE_JSONTESTSUITE` may point elsewhere. A missing suite fails the test rather than
//! skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use super::*;

/// `y_` files (valid per RFC 8259) that our stricter policy refuses on purpose, and why.
const INTENTIONAL_REFUSALS: &[(&str, JsonErrorKind, &str)] = &[
    (
        "y_object_duplicated_key.json",
        JsonErrorKind::DuplicateKey,
        "parsers disagree on which duplicate wins, so the gateway and the provider could read \
         different values: a bypass",
    ),
    (
        "y_object_duplicated_key_and_value.json",
        JsonErrorKind::DuplicateKey,
        "same rule even when the values agree: deciding 'harmless' would need value comparison, \
         and no real client sends duplicates",
    ),
];

fn suite_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOVGATE_JSONTESTSUITE") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/jsontestsuite/test_parsing")
}

/// The files in `dir`, sorted; fails loudly if the directory is missing or empty.
fn files(dir: &Path, what: &str) -> Vec<(String, Vec<u8>)> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "{what} not found at {} ({e}); the suite is vendored in \
             gateway/core/testdata; or set SOVGATE_JSONTESTSUITE",
            dir.display()
        )
    });
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{what} at {} is empty", dir.display());
    files
}

#[test]
fn jsontestsuite() {
    let files = files(&suite_dir(), "JSONTestSuite (SOVGATE_JSONTESTSUITE)");
    let (mut y_total, mut y_accepted, mut y_refused_on_purpose, mut n_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (name, data) in &files {
        let result = parse(data);
        fuzzing::fuzz_check_parse(data);
        if name.starts_with("y_") {
            y_total += 1;
            let on_purpose = INTENTIONAL_REFUSALS.iter().find(|(n, ..)| n == name);
            match (&result, on_purpose) {
                (Ok(_), None) => {
                    y_accepted += 1;
                    assert_eq!(&splice(data, vec![]).unwrap(), data, "{name}");
                }
                (Err(e), Some((_, kind, _))) if e.kind() == *kind => y_refused_on_purpose += 1,
                (Err(e), _) => failures.push(format!("{name}: refused: {e}")),
                (Ok(_), Some(_)) => failures.push(format!("{name}: accepted, expected refusal")),
            }
        } else if name.starts_with("n_") {
            n_total += 1;
            if result.is_ok() {
                failures.push(format!("{name}: accepted"));
            }
        } else if name.starts_with("i_") {
            // Our choices: numbers of any size are kept as text, so accepted; every other
            // implementation-defined case (lone surrogates, bad UTF-8, UTF-16, BOM, 500 levels)
            // is refused.
            let want_ok = name.starts_with("i_number_");
            if result.is_ok() != want_ok {
                failures.push(format!("{name}: {result:?}, policy says ok={want_ok}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(y_refused_on_purpose, INTENTIONAL_REFUSALS.len());
    assert_eq!(y_accepted + y_refused_on_purpose, y_total);
    assert!(
        y_total > 90 && n_total > 150,
        "suite looks incomplete: {y_total} y, {n_total} n"
    );
}

#[test]
fn fuzz_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/json_parse");
    let files = files(&dir, "fuzz corpus");
    let accepted = files.iter().filter(|(_, d)| parse(d).is_ok()).count();
    for (_, data) in &files {
        fuzzing::fuzz_check_parse(data);
    }
    // The seeds are meant to exercise both paths.
    assert!(accepted > 0 && accepted < files.len());
}

/// A chat-completions-like body of about `size` bytes: many messages, some with escapes, each
/// message's prose repeated `repeat` times (1: ~190-byte messages, 20: ~3 KB prompts).
pub(super) fn chat_body(size: usize, repeat: usize) -> Vec<u8> {
    let mut body = String::from("{\"model\":\"gpt-4o\",\"temperature\":0.7,\"messages\":[");
    let mut i = 0;
    while body.len() < size {
        if i > 0 {
            body.push(',');
        }
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        let content = if i % 5 == 0 {
            "Line one\\nLine two with a \\\"quote\\\" and caf\\u00e9 \\ud83d\\ude00. "
        } else {
            "Please summarise the attached contract for the client meeting on Thursday, \
             focusing on liability caps, termination clauses and the governing law section. "
        }
        .repeat(repeat);
        body.push_str(&format!(
            "{{\"role\":\"{role}\",\"content\":\"{content} ({i})\",\"name\":\"u{i}\"}}"
        ));
        i += 1;
    }
    body.push_str("],\"stream\":false}");
    body.into_bytes()
}

/// Prints parse throughput; run with
/// `cargo test -p sovgate-core --release -- --ignored --nocapture parse_throughput`.
#[test]
#[ignore = "measurement, not a check: run explicitly in release mode"]
fn parse_throughput() {
    for (what, repeat) in [("short messages", 1), ("3 KB messages", 20)] {
        let body = chat_body(1 << 20, repeat);
        parse(&body).unwrap();
        let runs = 200;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let doc = parse(std::hint::black_box(&body)).unwrap();
            std::hint::black_box(doc);
        }
        let mb = (body.len() * runs) as f64 / 1e6;
        let rate = mb / start.elapsed().as_secs_f64();
        println!(
            "parse, {what}: {rate:.0} MB/s ({} bytes x {runs})",
            body.len()
        );
    }
}
