//! Balancing strategies: which endpoint of a pool takes a request.
//!
//! Every strategy reads only atomics kept by [`super::pool`] and allocates nothing, so a
//! selection costs well under a microsecond for pools of 64 endpoints (`benches/select.rs`).
//! Candidates are endpoints in rotation (actively up, not passively ejected) that this request
//! has not tried yet; when none is left the pool has nothing to offer and the caller answers 503.
//!
//! - `round_robin`: the next endpoint in turn.
//! - `least_outstanding`: fewest leased requests; ties go round robin.
//! - `p2c`: two random candidates, keep the cheaper by latency EWMA × (outstanding + 1). Two
//!   choices avoid the herd that a global minimum causes when the load figures lag.
//! - `queue_aware`: fewest requests waiting on the server (scraped from `/metrics` by
//!   [`super::health`]) plus our own outstanding, KV cache use breaking ties; servers that
//!   publish no queue metric fall back to outstanding counts.
//! - `prefix_affinity`: a consistent-hash ring keyed by the conversation's prefix, so every turn
//!   of one conversation lands on the server whose KV cache already holds its prefix. Load is
//!   bounded: an endpoint more than `max_load_factor` × (average outstanding + 1) busy is
//!   skipped and the walk goes on around the ring, so one hot conversation cannot swamp a server.

use super::pool::{PoolState, NO_QUEUE};
use crate::config::{Balance, Upstream};
use std::sync::atomic::Ordering;

/// Ring points per endpoint: enough that three endpoints split keys within a few percent.
const VNODES: u32 = 128;

/// Bytes of system prompt and first user message that make up the affinity key.
const PREFIX_BYTES: usize = 1024;

/// The chosen endpoint's index, or `None` when no candidate is left.
pub(super) fn choose(p: &PoolState, key: Option<u64>, exclude: &[usize]) -> Option<usize> {
    if p.endpoints.is_empty() {
        return None;
    }
    let now = p.now_ms();
    match p.config.balance {
        Balance::RoundRobin => {
            let start = p.next.fetch_add(1, Ordering::Relaxed);
            scan(p, start, now, exclude, None)
        }
        Balance::LeastOutstanding => {
            min_by(p, now, exclude, |i| p.endpoints[i].outstanding() as u64)
        }
        Balance::P2c => p2c(p, now, exclude),
        Balance::QueueAware => min_by(p, now, exclude, |i| queue_score(p, i)),
        Balance::PrefixAffinity => match key {
            Some(k) => affinity(p, k, now, exclude),
            None => min_by(p, now, exclude, |i| p.endpoints[i].outstanding() as u64),
        },
    }
}

/// First candidate at or after `start` (wrapping), other than `skip`.
fn scan(
    p: &PoolState,
    start: usize,
    now: u64,
    exclude: &[usize],
    skip: Option<usize>,
) -> Option<usize> {
    let n = p.endpoints.len();
    (0..n)
        .map(|k| (start.wrapping_add(k)) % n)
        .find(|&i| Some(i) != skip && p.available(i, now, exclude))
}

/// The candidate with the lowest score; the scan starts at a rotating offset so ties spread.
fn min_by(
    p: &PoolState,
    now: u64,
    exclude: &[usize],
    score: impl Fn(usize) -> u64,
) -> Option<usize> {
    let n = p.endpoints.len();
    let start = p.next.fetch_add(1, Ordering::Relaxed);
    (0..n)
        .map(|k| (start.wrapping_add(k)) % n)
        .filter(|&i| p.available(i, now, exclude))
        .min_by_key(|&i| score(i))
}

fn p2c(p: &PoolState, now: u64, exclude: &[usize]) -> Option<usize> {
    let n = p.endpoints.len();
    let r = random(p);
    let a = scan(p, (r as u32) as usize % n, now, exclude, None)?;
    if n == 1 {
        return Some(a);
    }
    // The second draw is uniform over the others, so `a`'s neighbour is not favoured.
    let offset = 1 + ((r >> 32) as usize) % (n - 1);
    let Some(b) = scan(p, a + offset, now, exclude, Some(a)) else {
        return Some(a);
    };
    Some(if p2c_cost(p, b) < p2c_cost(p, a) {
        b
    } else {
        a
    })
}

fn p2c_cost(p: &PoolState, i: usize) -> u128 {
    let e = &p.endpoints[i];
    // An endpoint with no sample yet costs least, so it gets tried and measured.
    let latency = e.ewma_us.load(Ordering::Relaxed).max(1) as u128;
    latency * (e.outstanding() as u128 + 1)
}

fn queue_score(p: &PoolState, i: usize) -> u64 {
    let e = &p.endpoints[i];
    let local = e.outstanding() as u64 * 1000;
    match e.queue.load(Ordering::Relaxed) {
        NO_QUEUE => local,
        q => q.saturating_add(local),
    }
}

fn affinity(p: &PoolState, key: u64, now: u64, exclude: &[usize]) -> Option<usize> {
    let n = p.endpoints.len() as f64;
    let total = p.total_outstanding.load(Ordering::Relaxed) as f64;
    let bound = p.config.tuning.max_load_factor * (total / n + 1.0);
    p.ring
        .walk(key)
        .find(|&i| p.available(i, now, exclude) && p.endpoints[i].outstanding() as f64 <= bound)
        .or_else(|| min_by(p, now, exclude, |i| p.endpoints[i].outstanding() as u64))
}

/// Consistent-hash ring: `VNODES` points per endpoint, sorted by hash.
#[derive(Debug, Default)]
pub struct Ring {
    points: Vec<(u64, u32)>,
}

impl Ring {
    pub fn new(endpoints: &[Upstream]) -> Ring {
        let mut points = Vec::with_capacity(endpoints.len() * VNODES as usize);
        for (i, u) in endpoints.iter().enumerate() {
            let url = u.url();
            for v in 0..VNODES {
                let mut h = fold_words(FNV_OFFSET, url.as_bytes());
                h = fold_words(h, &v.to_le_bytes());
                points.push((mix64(h), i as u32));
            }
        }
        points.sort_unstable();
        Ring { points }
    }

    /// Endpoint indices in ring order from `key` onwards, each point once (so an endpoint
    /// appears `VNODES` times; callers stop at the first that suits).
    pub fn walk(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let start = self.points.partition_point(|&(h, _)| h < key);
        let len = self.points.len();
        (0..len).map(move |k| self.points[(start + k) % len].1 as usize)
    }
}

/// The affinity key for a request to `pool`, or `None` when its strategy does not use one.
pub fn affinity_for(pool: &PoolState, body: &[u8]) -> Option<u64> {
    match pool.config.balance {
        Balance::PrefixAffinity => affinity_key(body),
        _ => None,
    }
}

/// A hash of the first [`PREFIX_BYTES`] of the system prompt and first user message (OpenAI
/// chat, Anthropic messages, completions `prompt`, responses `input`). Every later turn of a
/// conversation repeats these, so they name the conversation. `None` when the body has neither.
pub fn affinity_key(body: &[u8]) -> Option<u64> {
    // One pass: members other than these are skipped, not built, and a conversation's turns
    // after the first user message are skipped too.
    let shape: Shape = serde_json::from_slice(body).ok()?;
    let mut prefix = Vec::with_capacity(PREFIX_BYTES);
    if let Some(s) = &shape.system {
        push_text(s, &mut prefix);
    }
    match (shape.messages, shape.input) {
        (Some(Turns::Messages(m)), _) | (_, Some(Turns::Messages(m))) => prefix.extend(m),
        (_, input) => {
            if let Some(p) = &shape.prompt {
                push_text(p, &mut prefix);
            } else if let Some(Turns::Text(t)) = input {
                prefix.extend_from_slice(t.as_bytes());
            }
        }
    }
    prefix.truncate(PREFIX_BYTES);
    if prefix.iter().all(|&b| b == 0) {
        return None;
    }
    Some(mix64(fold_words(FNV_OFFSET, &prefix)))
}

/// The members of a request body the affinity key reads (chat, messages, responses, completions).
#[derive(serde::Deserialize)]
struct Shape {
    system: Option<serde_json::Value>,
    messages: Option<Turns>,
    input: Option<Turns>,
    prompt: Option<serde_json::Value>,
}

/// `messages` / `input`: the text of the system turns and the first user turn, or a plain string.
enum Turns {
    Messages(Vec<u8>),
    Text(String),
}

#[derive(serde::Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    role: Option<std::borrow::Cow<'a, str>>,
    content: Option<serde_json::Value>,
}

impl<'de> serde::Deserialize<'de> for Turns {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Turns;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of messages or a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Turns, E> {
                Ok(Turns::Text(s.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Turns, A::Error> {
                let mut out = Vec::new();
                while let Some(m) = seq.next_element::<Message<'_>>()? {
                    let content = m.content.unwrap_or(serde_json::Value::Null);
                    match m.role.as_deref().unwrap_or("user") {
                        "system" | "developer" => push_text(&content, &mut out),
                        "user" => {
                            out.push(0);
                            push_text(&content, &mut out);
                            break;
                        }
                        _ => {}
                    }
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Turns::Messages(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Appends a string, or the text parts of an array of strings and content blocks.
fn push_text(v: &serde_json::Value, out: &mut Vec<u8>) {
    match v {
        serde_json::Value::String(s) => out.extend_from_slice(s.as_bytes()),
        serde_json::Value::Array(items) => {
            for item in items {
                if out.len() >= PREFIX_BYTES {
                    return;
                }
                match item {
                    serde_json::Value::String(s) => out.extend_from_slice(s.as_bytes()),
                    other => {
                        if let Some(t) = other.get("text").and_then(|t| t.as_str()) {
                            out.extend_from_slice(t.as_bytes());
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-style multiply-xor over eight bytes at a time (the tail zero-padded, the length mixed
/// in): a byte-at-a-time loop over a 1 KiB prefix cost more than the whole selection.
fn fold_words(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x0100_0000_01b3);
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x0100_0000_01b3);
    (h ^ bytes.len() as u64).wrapping_mul(0x0100_0000_01b3)
}

/// splitmix64's finalizer: FNV alone clusters similar inputs, and ring points must scatter.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random u64 from the pool's Weyl counter: one atomic add, never a lost or repeated draw.
fn random(p: &PoolState) -> u64 {
    mix64(p.rng.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed))
}

/// A per-process seed, so two gateways do not draw in lockstep.
pub(super) fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::proxy::pool::tests::pool;
    use std::time::Duration;

    fn chat(system: &str, turns: &[&str]) -> Vec<u8> {
        let mut msgs = vec![serde_json::json!({"role": "system", "content": system})];
        for (k, t) in turns.iter().enumerate() {
            let role = if k % 2 == 0 { "user" } else { "assistant" };
            msgs.push(serde_json::json!({"role": role, "content": t}));
        }
        serde_json::json!({"model": "m", "messages": msgs})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn affinity_key_names_the_conversation_not_the_turn() {
        let first = affinity_key(&chat("You are a lawyer.", &["Draft a memo"])).unwrap();
        let later = affinity_key(&chat("You are a lawyer.", &["Draft a memo", "ok", "more"]));
        assert_eq!(Some(first), later);
        let other = affinity_key(&chat("You are a doctor.", &["Draft a memo"])).unwrap();
        assert_ne!(first, other);
        let anthropic = serde_json::json!({"system": [{"type": "text", "text": "Be brief"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]});
        let a = affinity_key(anthropic.to_string().as_bytes()).unwrap();
        let b =
            affinity_key(br#"{"system":"Be brief","messages":[{"role":"user","content":"hi"}]}"#);
        assert_eq!(Some(a), b);
        assert!(affinity_key(br#"{"prompt":"complete me"}"#).is_some());
        assert_eq!(
            affinity_key(br#"{"input":"complete me"}"#),
            affinity_key(br#"{"prompt":"complete me"}"#)
        );
        // The Responses API's `input` turns name the conversation like chat `messages` do, and
        // turns after the first user message (however malformed) are skipped, not read.
        assert_eq!(
            affinity_key(br#"{"input":[{"role":"user","content":"hi"}],"model":"m"}"#),
            affinity_key(br#"{"messages":[{"role":"user","content":"hi"},{"role":7}]}"#)
        );
        assert_eq!(affinity_key(br#"{"messages":[]}"#), None);
        assert_eq!(affinity_key(b"not json"), None);
        // Only the prefix counts: texts that differ after PREFIX_BYTES share a key.
        let long = "x".repeat(PREFIX_BYTES);
        assert_eq!(
            affinity_key(&chat(&long, &["a"])),
            affinity_key(&chat(&long, &["b"]))
        );
    }

    #[test]
    fn ring_keeps_a_key_on_one_endpoint_and_spreads_keys() {
        let p = pool(Balance::PrefixAffinity, 3);
        let home = p.pick_with(Some(42), &[]).unwrap().index;
        for _ in 0..20 {
            assert_eq!(p.pick_with(Some(42), &[]).unwrap().index, home);
        }
        let mut counts = [0usize; 3];
        for k in 0..3000u64 {
            counts[p.pick_with(Some(mix64(k)), &[]).unwrap().index] += 1;
        }
        assert!(counts.iter().all(|&c| c > 700), "{counts:?}");
        // A down home sends the key onwards, to one stable neighbour.
        p.endpoints[home].set_up(false);
        let next = p.pick_with(Some(42), &[]).unwrap().index;
        assert_ne!(next, home);
        assert_eq!(p.pick_with(Some(42), &[]).unwrap().index, next);
    }

    #[test]
    fn ring_load_is_bounded() {
        let p = pool(Balance::PrefixAffinity, 3);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(p.pick_with(Some(7), &[]).unwrap());
        }
        let home = held[0].index;
        assert!(held.iter().all(|l| l.index == home));
        // Three outstanding against a bound of 1.25 × (3/3 + 1) = 2.5: the walk moves on.
        let spill = p.pick_with(Some(7), &[]).unwrap();
        assert_ne!(spill.index, home);
        held.push(spill);
        for _ in 0..56 {
            let total = p.total_outstanding.load(Ordering::Relaxed) as f64;
            let bound = 1.25 * (total / 3.0 + 1.0);
            let l = p.pick_with(Some(7), &[]).unwrap();
            assert!((p.endpoints[l.index].outstanding() - 1) as f64 <= bound);
            held.push(l);
        }
        let max = p.endpoints.iter().map(|e| e.outstanding()).max().unwrap();
        assert!(max <= 26, "60 leases, bound 1.25 × (60/3 + 1): {max}");
        held.clear();
        assert_eq!(p.pick_with(Some(7), &[]).unwrap().index, home);
    }

    #[test]
    fn p2c_avoids_the_slow_endpoint() {
        let p = pool(Balance::P2c, 3);
        let latency = |i: usize| Duration::from_millis(if i == 0 { 100 } else { 1 });
        for i in 0..3 {
            p.endpoints[i].record_latency(latency(i));
        }
        let mut counts = [0usize; 3];
        for _ in 0..300 {
            let l = p.pick(&[]).unwrap();
            counts[l.index] += 1;
            let d = latency(l.index);
            l.finish(d);
        }
        // Two distinct candidates: the slow one loses every comparison.
        assert_eq!(counts[0], 0, "{counts:?}");
        assert!(counts[1] > 75 && counts[2] > 75, "{counts:?}");
        assert_eq!(p.pick(&[1, 2]).unwrap().index, 0);
    }

    #[test]
    fn p2c_weighs_outstanding_too() {
        let p = pool(Balance::P2c, 2);
        for e in &p.endpoints {
            e.record_latency(Duration::from_millis(10));
        }
        let busy: Vec<_> = (0..4).map(|_| p.pick(&[0]).unwrap()).collect();
        assert!(busy.iter().all(|l| l.index == 1));
        for _ in 0..20 {
            assert_eq!(p.pick(&[]).unwrap().index, 0);
        }
    }

    #[test]
    fn queue_aware_reads_scraped_queues_and_falls_back_to_outstanding() {
        let p = pool(Balance::QueueAware, 3);
        p.endpoints[0].set_queue(5 * 1000);
        p.endpoints[1].set_queue(900);
        p.endpoints[2].set_queue(100);
        assert_eq!(p.pick(&[]).unwrap().index, 2, "KV use breaks the tie");
        let held = p.pick(&[]).unwrap();
        assert_eq!(held.index, 2);
        // 2 now has one outstanding (1100) against 1's 900.
        assert_eq!(p.pick(&[]).unwrap().index, 1);
        drop(held);
        let q = pool(Balance::QueueAware, 2);
        let a = q.pick(&[]).unwrap();
        assert_ne!(
            q.pick(&[]).unwrap().index,
            a.index,
            "no metrics: outstanding counts"
        );
    }

    #[test]
    fn random_draws_cover_the_pool() {
        let p = pool(Balance::P2c, 64);
        let mut seen = [false; 64];
        for _ in 0..2000 {
            seen[(random(&p) as u32 as usize) % 64] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
