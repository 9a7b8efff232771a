//! Rule-engine throughput on CRM-style prompt text.
//!
//! Group `rules`: scans of 2 KB, 64 KB and 1 MB of generated CRM notes (English prose full of
//! dates, docket numbers, order ids, version strings and other look-alikes that must not match,
//! with planted emails, phone numbers, card numbers and privilege legends that must), with the
//! default rule packs alone and with a 10k-entry matter dictionary added. `memmem-absent` is
//! the floor: `memchr::memmem` looking for a string that is not there reads the same bytes at
//! memory speed, so results can be read as ratios to it.
//!
//! Every benchmark checks its finding count before it is timed, so a faster but wrong engine
//! fails instead of looking good. Run with
//! `cargo bench --bench scan -- --warm-up-time 1 --measurement-time 3`.

// A benchmark is test code: a broken corpus or rule set should stop it loudly.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sovgate_core::rules::{compile, default_rule_set, embedded_sources, RuleSet, RuleSource};
use sovgate_core::types::Direction;
use std::hint::black_box;

/// Sentences that must produce no finding.
const CLEAN: &[&str] = &[
    "Customer called on 2024-01-15 about order ORD-12345678, which shipped two days late.",
    "Account manager noted the renewal is due in Q3 and pricing should stay flat at $1,234,567.89.",
    "Per Docket No. 1:23-cv-04567 the hearing moved to 2024-03-02; no action needed from sales.",
    "The client upgraded to v10.2.3 (build 1.84.0) and reports the dashboard loads faster.",
    "Follow up next Tuesday with procurement about invoice INV-2024-000123 and the PO.",
    "Opportunity stage changed from Negotiation to Closed Won; forecast category is Commit.",
    "Support ticket 1234567812345678 was merged into the parent case by the on-call agent.",
    "They asked for a summary of open issues, contract terms and the delivery schedule.",
    "Meeting notes: onboarding, training sessions at 10:30 and the integration timeline.",
    "Please draft a polite reply thanking them for the feedback on the new release.",
    "Usage grew 12.5% quarter over quarter; churn risk is low according to the health score.",
    "The legal team reviewed the MSA redlines and sent comments back on 2023/11/05.",
];

/// Sentences with planted findings of the default rules, and how many each has.
const PLANTED: &[(&str, usize)] = &[
    (
        "Please email jane.doe@example.com with the summary before Friday.",
        1,
    ),
    (
        "Her direct line is (415) 555-0132 until the end of the month.",
        1,
    ),
    (
        "PRIVILEGED & CONFIDENTIAL: memo prepared at the direction of counsel.",
        2,
    ),
    (
        "The refund to card 4111 1111 1111 1111 was approved by finance.",
        1,
    ),
];

/// `n` distinct matter names such as "Kalomirte Vasu 00042", deterministic.
fn matter_names(n: usize) -> Vec<String> {
    const SYL: [&str; 16] = [
        "ka", "lo", "mir", "te", "va", "su", "ren", "do", "pa", "xi", "bel", "cor", "an", "tis",
        "ur", "quo",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut word = |syllables: usize| {
        let mut w = String::new();
        for _ in 0..syllables {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            w.push_str(SYL[(state >> 60) as usize]);
        }
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    (0..n)
        .map(|i| format!("{} {} {i:05}", word(3), word(2)))
        .collect()
}

/// A corpus of at least `len` bytes: clean sentences with one planted sentence every twelve
/// (about 1 KB) and, every fourth planting, a matter name. Returns the text, the findings the
/// default rules must report, and the extra findings of the dictionary rule.
fn corpus(len: usize, names: &[String]) -> (String, usize, usize) {
    let mut text = String::with_capacity(len + 256);
    let (mut defaults, mut matters) = (0, 0);
    let mut i = 0usize;
    while text.len() < len {
        if i % 12 == 11 {
            let k = i / 12;
            let (sentence, n) = PLANTED[k % PLANTED.len()];
            text.push_str(sentence);
            defaults += n;
            if k % 4 == 3 {
                text.push_str(" Update on matter ");
                text.push_str(&names[(k * 7919) % names.len()]);
                text.push_str(": discovery closes soon.");
                matters += 1;
            }
        } else {
            text.push_str(CLEAN[(i * 7) % CLEAN.len()]);
        }
        text.push(' ');
        i += 1;
    }
    (text, defaults, matters)
}

fn with_dictionary(names: &[String]) -> RuleSet {
    let mut toml = String::from(
        "[[rule]]\nid = \"matters.names\"\nkind = \"literal\"\ncase_insensitive = true\n\
         action = \"pseudonymize\"\nclass = \"privileged\"\nplaceholder = \"MATTER\"\npatterns = [\n",
    );
    for name in names {
        toml.push_str(&format!("  \"{name}\",\n"));
    }
    toml.push_str("]\n");
    let mut sources = embedded_sources();
    sources.push(RuleSource {
        name: "matters.toml".into(),
        text: toml,
        base_dir: None,
    });
    compile(&sources).unwrap_or_else(|e| panic!("{e}"))
}

fn count(rules: &RuleSet, text: &str) -> usize {
    let mut out = Vec::new();
    rules
        .scan(text, Direction::Request, &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    out.len()
}

fn rules(c: &mut Criterion) {
    let names = matter_names(10_000);
    let defaults = default_rule_set().unwrap_or_else(|e| panic!("{e}"));
    let dictionary = with_dictionary(&names);
    let mut group = c.benchmark_group("rules");
    for (label, len) in [("2KB", 2 << 10), ("64KB", 64 << 10), ("1MB", 1 << 20)] {
        let (text, expect_defaults, expect_matters) = corpus(len, &names);
        group.throughput(Throughput::Bytes(text.len() as u64));

        assert_eq!(
            count(&defaults, &text),
            expect_defaults,
            "defaults on {label}"
        );
        group.bench_with_input(BenchmarkId::new("defaults", label), &text, |b, t| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                defaults.scan(black_box(t), Direction::Request, &mut out)
            })
        });

        assert_eq!(
            count(&dictionary, &text),
            expect_defaults + expect_matters,
            "defaults + dictionary on {label}"
        );
        group.bench_with_input(BenchmarkId::new("defaults+10k", label), &text, |b, t| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                dictionary.scan(black_box(t), Direction::Request, &mut out)
            })
        });

        let needle = b"zq-absent-needle";
        assert!(memchr::memmem::find(text.as_bytes(), needle).is_none());
        group.bench_with_input(BenchmarkId::new("memmem-absent", label), &text, |b, t| {
            let finder = memchr::memmem::Finder::new(needle);
            b.iter(|| finder.find(black_box(t.as_bytes())))
        });
    }
    group.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
