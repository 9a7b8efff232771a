//! A small Prometheus registry: counters, gauges and latency histograms, rendered in the text
//! exposition format that `/metrics` serves.
//!
//! A series is a metric name plus its label pairs; labels are sorted by name, so
//! `&[("status", "200"), ("api", "openai.chat")]` and the same pairs in another order are one
//! series. Label values are escaped on the way in, so a client-chosen value (a model name) cannot
//! break the exposition format.
//!
//! ```
//! use sovgate::metrics::{Metrics, MetricKind};
//!
//! let m = Metrics::new();
//! m.describe("sovgate_requests_total", MetricKind::Counter, "Requests by outcome.");
//! m.inc("sovgate_requests_total", &[("api", "openai.chat"), ("status", "200")]);
//! m.observe("sovgate_request_seconds", &[("api", "openai.chat")], 0.042);
//! let text = m.render();
//! assert!(text.contains("sovgate_requests_total{api=\"openai.chat\",status=\"200\"} 1\n"));
//! ```
//!
//! One mutex guards the registry; an update is a hash lookup and an add, far below the cost of
//! the request it counts. An update whose kind disagrees with the metric's kind (a gauge set on a
//! counter) is ignored rather than allowed to fail a request.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Histogram bucket bounds for latencies, in seconds.
pub const LATENCY_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// More series than this in one metric means a label is unbounded (a client-controlled value);
/// new series beyond it are dropped and counted instead of growing memory without end.
pub const MAX_SERIES_PER_METRIC: usize = 10_000;

const DROPPED: &str = "sovgate_metrics_series_dropped_total";

/// The Prometheus type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// The registry. Share it as `Arc<Metrics>`.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    families: HashMap<String, Family>,
    dropped: u64,
}

#[derive(Debug)]
struct Family {
    kind: MetricKind,
    help: Option<String>,
    /// Keyed by the rendered label block without braces, e.g. `api="x",status="200"`.
    series: HashMap<String, Value>,
}

#[derive(Debug)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram(Box<Histogram>),
}

#[derive(Debug, Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the `+Inf` bucket is `count`.
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Registers the type and help text of `name`. Described metrics are rendered (with HELP and
    /// TYPE) even before their first sample.
    pub fn describe(&self, name: &str, kind: MetricKind, help: &str) {
        self.with(|reg| {
            let family = reg
                .families
                .entry(name.to_string())
                .or_insert_with(|| Family::new(kind));
            if family.kind == kind {
                family.help = Some(help.to_string());
            }
        });
    }

    /// Adds one to a counter.
    pub fn inc(&self, name: &str, labels: &[(&str, &str)]) {
        self.add(name, labels, 1);
    }

    /// Adds `n` to a counter.
    pub fn add(&self, name: &str, labels: &[(&str, &str)], n: u64) {
        self.update(name, labels, MetricKind::Counter, |v| {
            if let Value::Counter(c) = v {
                *c = c.saturating_add(n);
            }
        });
    }

    /// Sets a gauge.
    pub fn set_gauge(&self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.update(name, labels, MetricKind::Gauge, |v| {
            if let Value::Gauge(g) = v {
                *g = value;
            }
        });
    }

    /// Adds `delta` (possibly negative) to a gauge: in-flight counts go up and down.
    pub fn add_gauge(&self, name: &str, labels: &[(&str, &str)], delta: f64) {
        self.update(name, labels, MetricKind::Gauge, |v| {
            if let Value::Gauge(g) = v {
                *g += delta;
            }
        });
    }

    /// Records one latency, in seconds, into a histogram with [`LATENCY_BUCKETS`]. NaN is ignored.
    pub fn observe(&self, name: &str, labels: &[(&str, &str)], seconds: f64) {
        if seconds.is_nan() {
            return;
        }
        self.update(name, labels, MetricKind::Histogram, |v| {
            if let Value::Histogram(h) = v {
                if let Some(i) = LATENCY_BUCKETS.iter().position(|&b| seconds <= b) {
                    h.buckets[i] += 1;
                }
                h.sum += seconds;
                h.count += 1;
            }
        });
    }

    /// The current value of a series: a counter's count, a gauge's value, a histogram's number
    /// of observations. For tests and health summaries.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let key = label_block(labels);
        self.with(|reg| {
            reg.families.get(name)?.series.get(&key).map(|v| match v {
                Value::Counter(c) => *c as f64,
                Value::Gauge(g) => *g,
                Value::Histogram(h) => h.count as f64,
            })
        })
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4), metrics sorted by
    /// name and series by labels so the output is stable.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.with(|reg| {
            let mut names: Vec<&String> = reg.families.keys().collect();
            names.sort();
            for name in names {
                if let Some(family) = reg.families.get(name) {
                    render_family(&mut out, name, family);
                }
            }
            let _ = writeln!(
                out,
                "# HELP {DROPPED} Series not recorded because a metric had too many label sets.\n\
                 # TYPE {DROPPED} counter\n{DROPPED} {}",
                reg.dropped
            );
        });
        out
    }

    fn update(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        kind: MetricKind,
        apply: impl FnOnce(&mut Value),
    ) {
        let key = label_block(labels);
        self.with(|reg| {
            let family = reg
                .families
                .entry(name.to_string())
                .or_insert_with(|| Family::new(kind));
            if family.kind != kind {
                return;
            }
            let full = family.series.len() >= MAX_SERIES_PER_METRIC;
            match family.series.get_mut(&key) {
                Some(v) => apply(v),
                None if full => reg.dropped += 1,
                None => {
                    let mut v = Value::new(kind);
                    apply(&mut v);
                    family.series.insert(key, v);
                }
            }
        });
    }

    /// Runs `f` under the lock. A poisoned lock still holds consistent counters (every update is
    /// a single add), so metrics keep working after a panic elsewhere.
    fn with<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

impl Family {
    fn new(kind: MetricKind) -> Family {
        Family {
            kind,
            help: None,
            series: HashMap::new(),
        }
    }
}

impl Value {
    fn new(kind: MetricKind) -> Value {
        match kind {
            MetricKind::Counter => Value::Counter(0),
            MetricKind::Gauge => Value::Gauge(0.0),
            MetricKind::Histogram => Value::Histogram(Box::default()),
        }
    }
}

fn render_family(out: &mut String, name: &str, family: &Family) {
    if let Some(help) = &family.help {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    }
    let _ = writeln!(out, "# TYPE {name} {}", family.kind.as_str());
    let mut keys: Vec<&String> = family.series.keys().collect();
    keys.sort();
    for key in keys {
        let Some(value) = family.series.get(key) else {
            continue;
        };
        match value {
            Value::Counter(c) => {
                let _ = writeln!(out, "{name}{} {c}", braces(key));
            }
            Value::Gauge(g) => {
                let _ = writeln!(out, "{name}{} {}", braces(key), float(*g));
            }
            Value::Histogram(h) => render_histogram(out, name, key, h),
        }
    }
}

fn render_histogram(out: &mut String, name: &str, key: &str, h: &Histogram) {
    let sep = if key.is_empty() { "" } else { "," };
    let mut cumulative = 0;
    for (bound, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
        cumulative += n;
        let _ = writeln!(
            out,
            "{name}_bucket{{{key}{sep}le=\"{}\"}} {cumulative}",
            float(*bound)
        );
    }
    let _ = writeln!(out, "{name}_bucket{{{key}{sep}le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum{} {}", braces(key), float(h.sum));
    let _ = writeln!(out, "{name}_count{} {}", braces(key), h.count);
}

/// `k1="v1",k2="v2"` with keys sorted and values escaped.
fn label_block(labels: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = labels.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

fn braces(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{{{key}}}")
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Prometheus spells infinities `+Inf`/`-Inf`; Rust's `Display` never uses exponents, so finite
/// values need no further care.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// One parsed exposition line.
    #[derive(Debug, PartialEq)]
    enum Line {
        Help(String, String),
        Type(String, String),
        Sample(String, Vec<(String, String)>, String),
    }

    /// A strict reader of the exposition format, enough to prove `render` writes it correctly:
    /// unescapes label values and rejects anything it does not understand.
    fn parse(text: &str) -> Vec<Line> {
        assert!(text.ends_with('\n'));
        text.lines().map(parse_line).collect()
    }

    fn parse_line(line: &str) -> Line {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            return Line::Help(name.into(), help.into());
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            return Line::Type(name.into(), kind.into());
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices();
            let mut key = String::new();
            loop {
                let (i, c) = chars.next().unwrap();
                match c {
                    '}' => {
                        rest = &body[i + 1..];
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().unwrap().1, '"', "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().unwrap().1 {
                                '"' => break,
                                '\\' => match chars.next().unwrap().1 {
                                    'n' => value.push('\n'),
                                    c @ ('\\' | '"') => value.push(c),
                                    c => panic!("bad escape \\{c} in {line}"),
                                },
                                '\n' => panic!("raw newline"),
                                c => value.push(c),
                            }
                        }
                        labels.push((std::mem::take(&mut key), value));
                    }
                    c => key.push(c),
                }
            }
        }
        let value = rest.strip_prefix(' ').unwrap();
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "{line}"
        );
        Line::Sample(name.into(), labels, value.into())
    }

    fn sample(name: &str, labels: &[(&str, &str)], value: &str) -> Line {
        Line::Sample(
            name.into(),
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value.into(),
        )
    }

    #[test]
    fn counters_render_with_help_type_and_sorted_labels() {
        let m = Metrics::new();
        m.describe("sovgate_requests_total", MetricKind::Counter, "Requests.");
        let labels = [
            ("status", "200"),
            ("api", "openai.chat"),
            ("destination", "local"),
            ("class", "privileged"),
        ];
        m.inc("sovgate_requests_total", &labels);
        m.add("sovgate_requests_total", &labels[..2], 5);
        m.inc(
            "sovgate_requests_total",
            &[labels[3], labels[1], labels[0], labels[2]],
        );
        let text = m.render();
        assert!(text.contains(
            "sovgate_requests_total{api=\"openai.chat\",class=\"privileged\",destination=\"local\",status=\"200\"} 2\n"
        ), "{text}");
        let lines = parse(&text);
        assert_eq!(
            lines[..4],
            [
                Line::Help("sovgate_requests_total".into(), "Requests.".into()),
                Line::Type("sovgate_requests_total".into(), "counter".into()),
                // Sorted by label block: `api=..,class=..` before `api=..,status=..`.
                sample(
                    "sovgate_requests_total",
                    &[
                        ("api", "openai.chat"),
                        ("class", "privileged"),
                        ("destination", "local"),
                        ("status", "200")
                    ],
                    "2"
                ),
                sample(
                    "sovgate_requests_total",
                    &[("api", "openai.chat"), ("status", "200")],
                    "5"
                ),
            ]
        );
    }

    #[test]
    fn label_values_escape_quote_backslash_and_newline() {
        let m = Metrics::new();
        let nasty = "a\"b\\c\nd} e=\"f";
        m.inc("x_total", &[("model", nasty)]);
        let text = m.render();
        assert!(
            text.contains(r#"x_total{model="a\"b\\c\nd} e=\"f"} 1"#),
            "{text}"
        );
        let lines = parse(&text);
        assert!(lines.contains(&sample("x_total", &[("model", nasty)], "1")));
        m.describe("y", MetricKind::Gauge, "two\nlines \\ here");
        assert!(m.render().contains("# HELP y two\\nlines \\\\ here\n"));
    }

    #[test]
    fn histograms_are_cumulative_with_inf_sum_and_count() {
        let m = Metrics::new();
        m.describe("lat_seconds", MetricKind::Histogram, "Latency.");
        for s in [0.0001, 0.003, 0.003, 0.7, 99.0] {
            m.observe("lat_seconds", &[("api", "a")], s);
        }
        m.observe("lat_seconds", &[("api", "a")], f64::NAN);
        let lines = parse(&m.render());
        let bucket = |le: &str| {
            lines
                .iter()
                .find_map(|l| match l {
                    Line::Sample(n, labels, v)
                        if n == "lat_seconds_bucket" && labels[1].1 == le =>
                    {
                        assert_eq!(labels[0], ("api".into(), "a".into()));
                        Some(v.clone())
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(bucket("0.0005"), "1");
        assert_eq!(bucket("0.0025"), "1");
        assert_eq!(bucket("0.005"), "3");
        assert_eq!(bucket("1"), "4");
        assert_eq!(bucket("30"), "4");
        assert_eq!(bucket("+Inf"), "5");
        assert!(lines.contains(&sample("lat_seconds_count", &[("api", "a")], "5")));
        let sum = lines.iter().find_map(|l| match l {
            Line::Sample(n, _, v) if n == "lat_seconds_sum" => Some(v.parse::<f64>().unwrap()),
            _ => None,
        });
        assert!((sum.unwrap() - 99.7061).abs() < 1e-9);
        assert_eq!(m.get("lat_seconds", &[("api", "a")]), Some(5.0));
    }

    #[test]
    fn gauges_set_and_move_and_render_infinities() {
        let m = Metrics::new();
        m.set_gauge("in_flight", &[], 3.0);
        m.add_gauge("in_flight", &[], -1.0);
        m.set_gauge("limit", &[], f64::INFINITY);
        let lines = parse(&m.render());
        assert!(lines.contains(&sample("in_flight", &[], "2")));
        assert!(lines.contains(&sample("limit", &[], "+Inf")));
        assert!(lines.contains(&Line::Type("in_flight".into(), "gauge".into())));
    }

    #[test]
    fn an_update_of_the_wrong_kind_is_ignored() {
        let m = Metrics::new();
        m.inc("c_total", &[]);
        m.set_gauge("c_total", &[], 50.0);
        m.observe("c_total", &[], 1.0);
        assert_eq!(m.get("c_total", &[]), Some(1.0));
        m.describe("c_total", MetricKind::Gauge, "wrong");
        assert!(!m.render().contains("wrong"));
    }

    #[test]
    fn unbounded_labels_are_capped_and_counted() {
        let m = Metrics::new();
        for i in 0..MAX_SERIES_PER_METRIC + 3 {
            m.inc("by_model_total", &[("model", &i.to_string())]);
        }
        m.inc("by_model_total", &[("model", "0")]);
        assert_eq!(m.get("by_model_total", &[("model", "0")]), Some(2.0));
        assert_eq!(m.get("by_model_total", &[("model", "10001")]), None);
        assert!(m
            .render()
            .contains("\nsovgate_metrics_series_dropped_total 3\n"));
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let m = Arc::new(Metrics::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        m.inc("n_total", &[("k", "v")]);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(m.get("n_total", &[("k", "v")]), Some(4000.0));
    }

    #[test]
    fn every_rendered_line_parses() {
        let m = Metrics::new();
        m.describe("a_total", MetricKind::Counter, "A.");
        m.describe("never_used", MetricKind::Gauge, "Described only.");
        m.inc("a_total", &[]);
        m.observe("b_seconds", &[], 0.2);
        let lines = parse(&m.render());
        assert!(lines.contains(&Line::Type("never_used".into(), "gauge".into())));
        assert!(lines.contains(&sample("b_seconds_bucket", &[("le", "0.25")], "1")));
    }
}
