//! The request pipeline of the pure core on realistic chat bodies, beside baselines run in the
//! same process.
//!
//! Group `pipeline/<body>` for five bodies: a 2 KB clean chat request, a 2 KB dirty one (a
//! Salesforce case record pasted as JSON, with privileged fields, an SSN and an email), the same
//! record pasted after a line of prose (`record-in-text-2KB`: the records-in-text path), and
//! 64 KB and 1 MB CRM conversations with planted findings. Per body:
//!
//! - `parse`: the strict span-keeping JSON parser alone;
//! - `inspect`: parse + walk every key and string + normalize + the default rules (what the
//!   handler runs before routing);
//! - `inspect+10k`: the same with a 10k-entry matter dictionary added to the rule set;
//! - `inspect+transform`: what the handler does end to end for a local destination: inspect,
//!   then, when an enforcing finding edits the body, the second walk and the splice;
//! - baselines: `serde_json-value` (`serde_json::from_slice::<Value>`, a parse that keeps no
//!   spans and inspects nothing) and `memmem-absent` (`memchr::memmem` for a needle that is not
//!   there: reading the bytes at memory speed).
//!
//! Every body's finding counts are checked before it is timed, and the transformed dirty body
//! is checked to have lost what it must lose. Run with
//! `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`.

// A benchmark is test code: a broken corpus or rule set should stop it loudly.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    chat_body, matter_names, with_dictionary, CHAT_CLEAN_2K, CHAT_DIRTY_2K, CHAT_RECORD_IN_TEXT_2K,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sovgate_core::inspect::{inspect, Report};
use sovgate_core::json;
use sovgate_core::rules::{default_rule_set, RuleSet};
use sovgate_core::transform::transform;
use sovgate_core::types::{DestinationKind, Direction};
use sovgate_core::vault::Vault;
use std::hint::black_box;

fn matches(report: &Report) -> u32 {
    report.findings.iter().map(|f| f.count).sum()
}

/// Inspect, then transform when the report says the body changes: the handler's sequence.
fn inspect_transform(body: &[u8], rules: &RuleSet) -> Option<Vec<u8>> {
    let report = inspect(body, rules, Direction::Request).unwrap();
    if !report.transforms {
        return None;
    }
    let mut vault = Vault::new();
    transform(
        body,
        rules,
        Direction::Request,
        DestinationKind::Local,
        &mut vault,
    )
    .unwrap()
    .body
}

struct Case {
    label: &'static str,
    body: Vec<u8>,
    /// Findings (sum of counts) with the default rules, and with the dictionary added.
    defaults: u32,
    with_dict: u32,
}

fn cases(names: &[String]) -> Vec<Case> {
    let mut out = vec![
        Case {
            label: "clean-2KB",
            body: CHAT_CLEAN_2K.to_vec(),
            defaults: 0,
            with_dict: 0,
        },
        Case {
            label: "dirty-2KB",
            body: CHAT_DIRTY_2K.to_vec(),
            defaults: common::CHAT_DIRTY_2K_FINDINGS,
            with_dict: common::CHAT_DIRTY_2K_FINDINGS,
        },
        Case {
            label: "record-in-text-2KB",
            body: CHAT_RECORD_IN_TEXT_2K.to_vec(),
            defaults: common::CHAT_DIRTY_2K_FINDINGS,
            with_dict: common::CHAT_DIRTY_2K_FINDINGS,
        },
    ];
    for (label, len) in [("chat-64KB", 64 << 10), ("chat-1MB", 1 << 20)] {
        let (body, d, m) = chat_body(len, names);
        out.push(Case {
            label,
            body,
            defaults: d as u32,
            with_dict: (d + m) as u32,
        });
    }
    out
}

/// Checks what the dirty body must lose on its way to a local pool.
fn check_dirty(defaults: &RuleSet) {
    let out = inspect_transform(CHAT_DIRTY_2K, defaults).expect("the dirty body is edited");
    let text = String::from_utf8(out).unwrap();
    for gone in [
        "legal_case_strategy__c",
        "settlement_terms__c",
        "536-22-8419",
        "d.reyes@fastmail.example",
    ] {
        assert!(!text.contains(gone), "{gone} survived the transform");
    }
    let out = inspect_transform(CHAT_RECORD_IN_TEXT_2K, defaults).expect("edited");
    let text = String::from_utf8(out).unwrap();
    for gone in [
        "legal_case_strategy__c",
        "settlement_terms__c",
        "USD 85,000",
    ] {
        assert!(!text.contains(gone), "{gone} survived the transform");
    }
    assert!(inspect_transform(CHAT_CLEAN_2K, defaults).is_none());
}

fn pipeline(c: &mut Criterion) {
    let names = matter_names(10_000);
    let defaults = default_rule_set().unwrap_or_else(|e| panic!("{e}"));
    let dictionary = with_dictionary(&names).unwrap_or_else(|e| panic!("{e}"));
    check_dirty(&defaults);
    for case in cases(&names) {
        let body = &case.body[..];
        let got = matches(&inspect(body, &defaults, Direction::Request).unwrap());
        assert_eq!(got, case.defaults, "default findings on {}", case.label);
        let got = matches(&inspect(body, &dictionary, Direction::Request).unwrap());
        assert_eq!(got, case.with_dict, "10k findings on {}", case.label);

        let mut g = c.benchmark_group(format!("pipeline/{}", case.label));
        g.throughput(Throughput::Bytes(body.len() as u64));
        let id = |name: &str| BenchmarkId::new(name, body.len());
        g.bench_function(id("parse"), |b| {
            b.iter(|| json::parse(black_box(body)).map(|v| black_box(v).span.len()))
        });
        g.bench_function(id("inspect"), |b| {
            b.iter(|| inspect(black_box(body), &defaults, Direction::Request))
        });
        g.bench_function(id("inspect+10k"), |b| {
            b.iter(|| inspect(black_box(body), &dictionary, Direction::Request))
        });
        g.bench_function(id("inspect+transform"), |b| {
            b.iter(|| inspect_transform(black_box(body), &defaults))
        });
        g.bench_function(id("serde_json-value"), |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap())
        });
        let needle = b"zq-absent-needle";
        assert!(memchr::memmem::find(body, needle).is_none());
        let finder = memchr::memmem::Finder::new(needle);
        g.bench_function(id("memmem-absent"), |b| {
            b.iter(|| finder.find(black_box(body)))
        });
        g.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
