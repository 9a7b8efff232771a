//! Active health checks and queue scraping: one tokio task per pool, started with the gateway.
//!
//! Passive ejection (in [`super::pool`]) only learns that an endpoint is dead when a request
//! fails on it, and only for a couple of seconds; a server that is down for good keeps costing
//! a retry now and then. The active check asks every endpoint each `health_interval`:
//! `GET /health` (vLLM, TGI, SGLang and llama.cpp all answer it), or `GET /v1/models` for servers
//! that answer `/health` with 404. A 2xx is good; anything else, a refused connection or no
//! answer within the interval is bad. `fall` bad probes in a row take the endpoint out of
//! rotation, `rise` good ones bring it back: the thresholds keep one lost probe from flapping
//! an endpoint. With the defaults (1 s, 2, 2) a dead endpoint is out within about 2 s.
//!
//! For `queue_aware` pools the same task scrapes `GET /metrics` (Prometheus text) from endpoints
//! that are up, and records the server's waiting queue and KV cache use for the balancer.
//! Probes go to the server root, not the endpoint's base path: that is where these servers
//! serve them.

use super::pool::{EndpointState, PoolState, NO_QUEUE};
use super::state::HttpClient;
use crate::config::Balance;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest probe or `/metrics` body read; a vLLM scrape is tens of KiB.
const MAX_PROBE_BODY: usize = 4 << 20;

/// Metrics that count requests queued on the server (summed over label sets).
const WAITING: [&str; 4] = [
    "vllm:num_requests_waiting",
    "sglang:num_queue_reqs",
    "tgi_queue_size",
    "llamacpp:requests_deferred",
];

/// KV cache use, 0 to 1 (vLLM renamed `gpu_cache_usage_perc` to `kv_cache_usage_perc`).
const KV_USAGE: [&str; 2] = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"];

/// The rise/fall state machine of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracker {
    up: bool,
    /// Consecutive probes that disagree with `up`.
    streak: u32,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            up: true,
            streak: 0,
        }
    }
}

impl Tracker {
    /// Folds in one probe result and returns whether the endpoint is up now.
    pub fn observe(&mut self, ok: bool, rise: u32, fall: u32) -> bool {
        if ok == self.up {
            self.streak = 0;
            return self.up;
        }
        self.streak += 1;
        if self.streak >= if self.up { fall } else { rise } {
            self.up = ok;
            self.streak = 0;
        }
        self.up
    }
}

/// Starts the pool's checker, or returns `None` when its `health_interval` is zero.
pub fn spawn(
    pool: Arc<PoolState>,
    client: HttpClient,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if pool.config.tuning.health_interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(run(pool, client, stop)))
}

async fn run(pool: Arc<PoolState>, client: HttpClient, mut stop: watch::Receiver<bool>) {
    let tuning = pool.config.tuning.clone();
    let timeout = tuning
        .health_interval
        .clamp(Duration::from_millis(100), Duration::from_secs(5));
    let scrape = pool.config.balance == Balance::QueueAware;
    let mut trackers = vec![Tracker::default(); pool.endpoints.len()];
    // Per endpoint: `/health` answered 404 once, so probe `/v1/models` from then on.
    let mut no_health = vec![false; pool.endpoints.len()];
    let mut tick = tokio::time::interval(tuning.health_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
        let probes = pool.endpoints.iter().zip(&no_health).map(|(e, &fallback)| {
            let path = match (&tuning.health_path, fallback) {
                (Some(p), _) => p.as_str(),
                (None, false) => "/health",
                (None, true) => "/v1/models",
            };
            probe(
                &client,
                e,
                path,
                tuning.health_path.is_none(),
                scrape,
                timeout,
            )
        });
        let results = futures_util::future::join_all(probes).await;
        for (i, (ok, fell_back)) in results.into_iter().enumerate() {
            no_health[i] |= fell_back;
            apply(&pool, i, &mut trackers[i], ok);
        }
    }
}

/// Records one probe result for endpoint `i`, moving it in or out of rotation on a threshold.
pub(super) fn apply(pool: &PoolState, i: usize, tracker: &mut Tracker, ok: bool) {
    let t = &pool.config.tuning;
    let up = tracker.observe(ok, t.rise, t.fall);
    let Some(e) = pool.endpoints.get(i) else {
        return;
    };
    if up != e.is_up() {
        e.set_up(up);
        let endpoint = e.upstream.url();
        if up {
            tracing::info!(pool = %pool.config.name, %endpoint, "endpoint back in rotation");
        } else {
            tracing::warn!(pool = %pool.config.name, %endpoint, "endpoint failed its health checks; out of rotation");
        }
    }
}

/// One check of one endpoint: (healthy, `/health` answered 404 and `/v1/models` was used).
async fn probe(
    client: &HttpClient,
    e: &EndpointState,
    path: &str,
    may_fall_back: bool,
    scrape: bool,
    timeout: Duration,
) -> (bool, bool) {
    let mut status = get(client, e, path, timeout).await.map(|r| r.0);
    let mut fell_back = false;
    if may_fall_back && path == "/health" && status == Some(404) {
        status = get(client, e, "/v1/models", timeout).await.map(|r| r.0);
        fell_back = true;
    }
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    if ok && scrape {
        let queue = match get(client, e, "/metrics", timeout).await {
            Some((200, body)) => parse_metrics(&String::from_utf8_lossy(&body)),
            _ => None,
        };
        e.set_queue(queue.unwrap_or(NO_QUEUE));
    }
    (ok, fell_back)
}

/// `GET path` at the endpoint's root: the status and body, or `None` on any failure.
async fn get(
    client: &HttpClient,
    e: &EndpointState,
    path: &str,
    timeout: Duration,
) -> Option<(u16, Bytes)> {
    let u = &e.upstream;
    let scheme = if u.https { "https" } else { "http" };
    let req = http::Request::get(format!("{scheme}://{}{path}", u.authority()))
        .body(Full::new(Bytes::new()))
        .ok()?;
    let fetch = async {
        let resp = client.request(req).await.ok()?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_PROBE_BODY)
            .collect()
            .await
            .ok()?
            .to_bytes();
        Some((status, body))
    };
    tokio::time::timeout(timeout, fetch).await.ok().flatten()
}

/// Reads a Prometheus text exposition: waiting requests × 1000 plus KV cache use in
/// thousandths, or `None` when the server publishes none of the known metrics.
pub fn parse_metrics(text: &str) -> Option<u64> {
    let mut waiting: Option<f64> = None;
    let mut kv: Option<f64> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = sample(line) else {
            continue;
        };
        if WAITING.contains(&name) {
            *waiting.get_or_insert(0.0) += value;
        } else if KV_USAGE.contains(&name) {
            kv = Some(kv.map_or(value, |k| k.max(value)));
        }
    }
    if waiting.is_none() && kv.is_none() {
        return None;
    }
    let waiting = waiting.unwrap_or(0.0).clamp(0.0, 1e12) as u64;
    let kv = (kv.unwrap_or(0.0).clamp(0.0, 1.0) * 999.0) as u64;
    Some(waiting * 1000 + kv)
}

/// `name{labels} value [timestamp]` → (name, value), skipping quoted label values, which may
/// hold spaces and braces.
fn sample(line: &str) -> Option<(&str, f64)> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    if rest.starts_with('{') {
        let mut quoted = false;
        let mut escaped = false;
        let mut close = None;
        for (k, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '}' if !quoted => {
                    close = Some(k);
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[close? + 1..];
    }
    let value: f64 = rest.split_whitespace().next()?.parse().ok()?;
    value.is_finite().then_some((name, value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::proxy::pool::tests::pool;

    #[test]
    fn tracker_needs_fall_bad_probes_to_go_down_and_rise_good_to_come_back() {
        let mut t = Tracker::default();
        let seq = [false, true, false, false, true, false, true, true, true];
        let got: Vec<bool> = seq.iter().map(|&ok| t.observe(ok, 3, 2)).collect();
        // One miss is forgiven; two in a row take it down; it needs three good ones in a row.
        assert_eq!(
            got,
            [true, true, true, false, false, false, false, false, true]
        );
    }

    #[test]
    fn probes_move_an_endpoint_out_of_and_back_into_rotation() {
        let p = pool(Balance::RoundRobin, 3);
        let mut trackers = [Tracker::default(); 3];
        // A fake prober: endpoint 1 fails twice, then recovers.
        for ok in [false, false] {
            for (i, t) in trackers.iter_mut().enumerate() {
                apply(&p, i, t, i != 1 || ok);
            }
        }
        assert!(!p.endpoints[1].is_up());
        assert_eq!(p.healthy(), 2);
        assert!((0..6).all(|_| p.pick(&[]).unwrap().index != 1));
        apply(&p, 1, &mut trackers[1], true);
        assert!(!p.endpoints[1].is_up(), "one good probe is not enough");
        apply(&p, 1, &mut trackers[1], true);
        assert!(p.endpoints[1].is_up());
        assert!((0..3).any(|_| p.pick(&[]).unwrap().index == 1));
    }

    #[test]
    fn parses_vllm_sglang_tgi_and_llamacpp_queues() {
        let vllm = "# HELP vllm:num_requests_waiting Requests waiting\n\
            # TYPE vllm:num_requests_waiting gauge\n\
            vllm:num_requests_running{model_name=\"m\"} 4.0\n\
            vllm:num_requests_waiting{model_name=\"m\"} 3.0\n\
            vllm:num_requests_waiting{model_name=\"we {ird} \\\"one\\\"\"} 2.0 1700000000\n\
            vllm:kv_cache_usage_perc{model_name=\"m\"} 0.5\n";
        assert_eq!(parse_metrics(vllm), Some(5 * 1000 + 499));
        assert_eq!(
            parse_metrics("sglang:num_queue_reqs{a=\"b\"} 7\n"),
            Some(7000)
        );
        assert_eq!(parse_metrics("tgi_queue_size 2\n"), Some(2000));
        assert_eq!(parse_metrics("llamacpp:requests_deferred 1\n"), Some(1000));
        assert_eq!(parse_metrics("vllm:gpu_cache_usage_perc 1.0\n"), Some(999));
        assert_eq!(parse_metrics("vllm:num_requests_running 9\nup 1\n"), None);
        assert_eq!(parse_metrics("tgi_queue_size NaN\ngarbage{\n{}\n"), None);
        assert_eq!(parse_metrics(""), None);
    }
}
