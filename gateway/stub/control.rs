//! `/__stub/*`: recorded requests and counts for tests that cannot call Rust methods.

use super::body::{self, Body};
use super::State;
use http::{Method, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

pub(super) fn handle(state: &State, method: &Method, path: &str) -> Response<Body> {
    match (method, path) {
        (&Method::GET, "/__stub/requests") => {
            let list: Vec<Value> = state.with_requests(|r| r.iter().map(|r| r.to_json()).collect());
            body::json(StatusCode::OK, &Value::Array(list))
        }
        (&Method::DELETE, "/__stub/requests") => {
            let cleared = state.with_requests(|r| std::mem::take(r).len());
            body::json(StatusCode::OK, &json!({ "cleared": cleared }))
        }
        (&Method::GET, "/__stub/stats") => body::json(
            StatusCode::OK,
            &json!({
                "name": state.cfg.name,
                "calls": state.with_requests(|r| r.len()),
                "probes": state.probes.load(Ordering::SeqCst),
                "running": state.running.load(Ordering::SeqCst),
                "waiting": state.waiting.load(Ordering::SeqCst),
            }),
        ),
        _ => body::json(
            StatusCode::NOT_FOUND,
            &json!({"error": {"message": format!("no control endpoint {method} {path}")}}),
        ),
    }
}
