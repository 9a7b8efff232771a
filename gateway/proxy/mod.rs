//! The data path: the only part of Sovgate that speaks HTTP to the world.
//!
//! Built on hyper (HTTP/1.1 and HTTP/2) with rustls for upstream TLS. The gateway reads each
//! request body whole, bounded, before choosing a destination, because the destination depends on
//! what the body contains; hyper lets the body be read first and forwarded with exact framing, of
//! any size, which a proxy framework that picks its upstream before the body (and replays at most
//! 64 KiB) cannot do safely. All policy is delegated to `sovgate-core`; this module only moves bytes.

mod admin;
mod admit;
mod auth;
pub mod balance;
mod body;
mod channels;
pub mod dial;
mod forward;
mod framing;
mod handler;
pub mod health;
mod models;
pub mod pool;
mod relay;
mod report;
mod residency;
mod server;
mod state;
mod upstream;

pub use body::decode;
pub(crate) use framing::Sniffed;
pub use framing::{Refusal as FramingRefusal, Wire, MAX_HEAD};
pub(crate) use handler::handle;
pub(crate) use relay::{full, ProxyBody};
pub(crate) use server::{http_builder, negotiated, serve_pipeline};
pub use server::{start, Running};
pub use state::State;

use crate::metrics::{MetricKind, Metrics};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Facts about the connection a request arrived on.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub local: SocketAddr,
    pub listener: &'static str,
    /// The framing guard refused this request's head (see `framing`).
    pub framing: Option<FramingRefusal>,
    /// Set by the forward and transparent listeners: the LLM host the client addressed.
    pub intercepted: Option<Arc<crate::intercept::hosts::Target>>,
    /// A tenant the connection already proved (proxy credentials, mTLS identity): an index into
    /// `config.tenants`. `None`: the request's own key decides.
    pub tenant: Option<usize>,
}

impl ConnInfo {
    /// A connection as accepted, before any request on it.
    pub fn accepted(
        remote: SocketAddr,
        local: SocketAddr,
        listener: &'static str,
        tenant: Option<usize>,
    ) -> ConnInfo {
        ConnInfo {
            remote,
            local,
            listener,
            framing: None,
            intercepted: None,
            tenant,
        }
    }
}

/// A request id unique within the process and hard to guess across restarts.
pub fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    format!("req_{:016x}{:06x}", h.finish(), n & 0xff_ffff)
}

pub(crate) fn describe_metrics(m: &Metrics) {
    m.describe(
        "sovgate_requests_total",
        MetricKind::Counter,
        "Requests by API, classification, destination and status",
    );
    m.describe(
        "sovgate_request_duration_seconds",
        MetricKind::Histogram,
        "Time from request start to the end of the response",
    );
    m.describe(
        "sovgate_response_bytes_total",
        MetricKind::Counter,
        "Response bytes relayed to clients",
    );
    m.describe(
        "sovgate_pool_endpoints_healthy",
        MetricKind::Gauge,
        "Endpoints in rotation per local pool",
    );
    m.describe(
        "sovgate_pool_queued",
        MetricKind::Gauge,
        "Requests waiting for a free endpoint (every endpoint at max_inflight) per local pool",
    );
    m.describe(
        "sovgate_rules_reload_total",
        MetricKind::Counter,
        "Rule reloads by outcome",
    );
    m.describe(
        crate::geo::decision::METRIC,
        MetricKind::Counter,
        "Residency decisions by zone and outcome (allowed, or the refusal code)",
    );
    m.describe(
        crate::geo::watch::METRIC,
        MetricKind::Counter,
        "Geo database reloads by outcome",
    );
}
