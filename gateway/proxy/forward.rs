//! Sending to upstreams: timeouts, and retries across a pool's endpoints.
//!
//! Retries happen only before anything reached the client (the response head has not been
//! relayed yet), only within the same local pool, and only for failures that say the endpoint
//! never started on the request: a refused connection or a 503. At most two retries, and none
//! that would start later than the pool's `retry_budget` after the first attempt. A class kept
//! local is never retried against an external provider: this module only ever picks from the
//! pool it was given.

use super::admit;
use super::pool::{Lease, PoolState};
use super::state::State;
use super::upstream::{build_request, Outgoing};
use crate::error::GatewayError;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Instant;

/// At most this many endpoints are tried for one request.
const MAX_ATTEMPTS: usize = 3;

pub async fn send(
    state: &State,
    req: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, GatewayError> {
    let target = req.uri().to_string();
    // A pinned request must reach exactly its checked address: only the pinned client, which
    // never resolves, may carry it.
    let sent = async {
        if super::dial::pinned_addr(req.uri()).is_some() {
            state.pinned.request(req).await
        } else {
            state.client.request(req).await
        }
    };
    match tokio::time::timeout(state.config.limits.upstream_timeout, sent).await {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(e)) => Err(upstream_error(&target, &e)),
        Err(_) => Err(GatewayError::gateway_timeout(format!(
            "{target} did not answer in time"
        ))),
    }
}

fn upstream_error(target: &str, e: &hyper_util::client::legacy::Error) -> GatewayError {
    let mut msg = format!("cannot reach {target}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    if msg.contains("certificate") || msg.contains("InvalidCertificate") {
        GatewayError::bad_gateway("upstream_tls", msg)
    } else if e.is_connect() {
        GatewayError::unavailable("upstream_unreachable", msg).with_retry_after(1)
    } else {
        GatewayError::bad_gateway("upstream_failed", msg)
    }
}

/// Sends to a pool, trying other endpoints on connect failures and 503s. A pool whose
/// endpoints are all at `max_inflight` makes the request wait in its queue ([`admit`]).
pub async fn to_pool(
    state: &State,
    pool: &Arc<PoolState>,
    parts: &http::request::Parts,
    path_and_query: &str,
    affinity: Option<u64>,
    body: Bytes,
    pins: Option<&[Option<std::net::IpAddr>]>,
) -> Result<(Response<Incoming>, Lease), GatewayError> {
    let started = Instant::now();
    let budget = pool.config.tuning.retry_budget;
    // Endpoints outside the tenant's residency are out of rotation for this request.
    let mut tried: Vec<usize> = pins.map_or_else(Vec::new, |p| {
        (0..p.len()).filter(|i| p[*i].is_none()).collect()
    });
    let mut last: Option<GatewayError> = None;
    for attempt in 0..MAX_ATTEMPTS {
        // A retry is only worth it while the client still waits for a first byte it can use.
        if attempt > 0 && started.elapsed() >= budget {
            break;
        }
        let lease = match admit::lease(pool, affinity, &tried).await {
            Ok(l) => l,
            Err(refused) => match refused.error(pool) {
                Some(e) => return Err(e),
                None => break,
            },
        };
        tried.push(lease.index);
        let req = build_request(Outgoing {
            method: &parts.method,
            headers: &parts.headers,
            upstream: lease.upstream(),
            path_and_query: path_and_query.to_owned(),
            credential: None,
            body: body.clone(),
        })?;
        let retry_left = attempt + 1 < MAX_ATTEMPTS && pool.endpoints.len() > tried.len();
        let mut req = req;
        if let Some(ip) = pins.and_then(|p| p.get(lease.index).copied().flatten()) {
            *req.uri_mut() = super::dial::pin_uri(req.uri(), ip)
                .map_err(|e| GatewayError::internal("bad_upstream_uri", e))?;
        }
        match send(state, req).await {
            Ok(resp) if resp.status().as_u16() == 503 && retry_left => {
                lease.eject();
                last = Some(GatewayError::unavailable(
                    "pool_unavailable",
                    "endpoint answered 503",
                ));
            }
            Ok(resp) => {
                if resp.status().is_server_error() {
                    lease.eject();
                }
                return Ok((resp, lease));
            }
            Err(e) if e.code() == "upstream_unreachable" => {
                lease.eject();
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last
        .unwrap_or_else(|| GatewayError::unavailable("pool_unavailable", "no endpoint in rotation"))
        .with_code("pool_unavailable")
        .with_message_prefix(&format!("local pool `{}`: ", pool.config.name))
        .with_retry_after(1))
}
