//! Decoders on the request path: a 1 MiB base64 PDF decoded, its pages read and scanned, and a
//! 1 MiB benign PNG (magic check and metadata chunks only), each beside baselines in the same
//! run: `serde_json-value` (parsing the same body, inspecting nothing) and `base64-decode` (the
//! payload's base64 alone).
//!
//! `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sovgate_core::decode::{base64, fixtures};
use sovgate_core::inspect::inspect;
use sovgate_core::rules::default_rule_set;
use sovgate_core::types::{Class, Direction};
use std::hint::black_box;

fn b64(bytes: &[u8]) -> String {
    base64::Encoding {
        url_safe: false,
        padded: true,
    }
    .encode(bytes)
}

fn document(data: &str, media: &str, kind: &str) -> Vec<u8> {
    serde_json::json!({"model": "claude-3-5-sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": [
        {"type": kind, "source": {"type": "base64", "media_type": media, "data": data}},
        {"type": "text", "text": "summarize"}]}]})
    .to_string()
    .into_bytes()
}

fn decode(c: &mut Criterion) {
    let rules = default_rule_set().unwrap();
    // ~1 MiB of PDF: pages of case prose, one SSN on the last page.
    let line = "The parties met on the fourth to discuss the schedule of the deposition and the exhibits. ";
    let mut pages: Vec<String> = (0..300).map(|_| line.repeat(36)).collect();
    pages.push("Claimant SSN 536-22-8419".into());
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    let pdf = fixtures::pdf(&refs, false).unwrap();
    let png = fixtures::png(None, 1 << 20);
    let cases = [
        (
            "pdf",
            document(&b64(&pdf), "application/pdf", "document"),
            pdf.len(),
        ),
        ("png", document(&b64(&png), "image/png", "image"), png.len()),
    ];
    for (label, body, raw_len) in cases {
        let report = inspect(&body, &rules, Direction::Request).unwrap();
        match label {
            "pdf" => assert_eq!(report.findings.len(), 1, "the SSN on the last page"),
            _ => {
                assert!(report.findings.is_empty());
                assert_eq!(report.class, Class::Confidential, "pixels are opaque");
            }
        }
        let mut g = c.benchmark_group(format!("decode/{label}-{}KiB", raw_len >> 10));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.sample_size(20);
        g.bench_function("inspect", |b| {
            b.iter(|| inspect(black_box(&body), &rules, Direction::Request))
        });
        g.bench_function("serde_json-value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
        });
        let text = b64(if label == "pdf" { &pdf } else { &png });
        g.bench_function("base64-decode", |b| {
            b.iter(|| base64::decode(black_box(&text)).map(|(v, _)| v.len()))
        });
        g.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
