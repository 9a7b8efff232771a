//! The admin listener: liveness, readiness and Prometheus metrics.

use super::relay::{full, ProxyBody};
use super::state::State;
use http::{Request, Response, StatusCode};
use std::sync::atomic::Ordering;

pub fn handle<B>(state: &State, req: Request<B>) -> Response<ProxyBody> {
    let (status, ctype, body) = match req.uri().path() {
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
        "/readyz" => {
            let unhealthy: Vec<&str> = state
                .pools
                .iter()
                .filter(|p| p.healthy() == 0)
                .map(|p| p.config.name.as_str())
                .collect();
            if !state.ready.load(Ordering::Relaxed) {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "not ready\n".to_owned(),
                )
            } else if !unhealthy.is_empty() {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("no endpoint in rotation: {}\n", unhealthy.join(", ")),
                )
            } else {
                (StatusCode::OK, "text/plain", "ready\n".to_owned())
            }
        }
        "/metrics" => {
            for p in &state.pools {
                state.metrics.set_gauge(
                    "sovgate_pool_endpoints_healthy",
                    &[("pool", &p.config.name)],
                    p.healthy() as f64,
                );
                state.metrics.set_gauge(
                    "sovgate_pool_queued",
                    &[("pool", &p.config.name)],
                    p.queued() as f64,
                );
            }
            (
                StatusCode::OK,
                "text/plain; version=0.0.4",
                state.metrics.render(),
            )
        }
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        ),
    };
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ctype),
    );
    resp
}
