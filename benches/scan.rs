//! Rule-engine throughput on CRM-style prompt text.
//!
//! Group `rules`: scans of 2 KB, 64 KB and 1 MB of generated CRM notes (English prose full of
//! dates, docket numbers, order ids, version strings and other look-alikes that must not match,
//! with planted emails, phone numbers, card numbers and privilege legends that must), with the
//! default rule packs alone and with a 10k- or a 100k-entry matter dictionary added. `memmem-absent` is
//! the floor: `memchr::memmem` looking for a string that is not there reads the same bytes at
//! memory speed, so results can be read as ratios to it.
//!
//! Every benchmark checks its finding count before it is timed, so a faster but wrong engine
//! fails instead of looking good. Run with
//! `cargo bench --bench scan -- --warm-up-time 1 --measurement-time 3`.

// A benchmark is test code: a broken corpus or rule set should stop it loudly.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus, matter_names, with_dictionary};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sovgate_core::rules::{default_rule_set, RuleSet};
use sovgate_core::types::Direction;
use std::hint::black_box;

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
    let dictionary = with_dictionary(&names).unwrap_or_else(|e| panic!("{e}"));
    // The 100k dictionary holds the 10k names and 90k more, so the same planted names match.
    let names_100k = matter_names(100_000);
    assert_eq!(
        names_100k[..names.len()],
        names[..],
        "matter_names extends its prefix"
    );
    let dictionary_100k = with_dictionary(&names_100k).unwrap_or_else(|e| panic!("{e}"));
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

        assert_eq!(
            count(&dictionary_100k, &text),
            expect_defaults + expect_matters,
            "defaults + 100k dictionary on {label}"
        );
        group.bench_with_input(BenchmarkId::new("defaults+100k", label), &text, |b, t| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                dictionary_100k.scan(black_box(t), Direction::Request, &mut out)
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
