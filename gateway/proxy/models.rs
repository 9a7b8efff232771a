//! `GET /v1/models`: what a client may ask for, answered by the gateway itself.

use super::relay::{full, ProxyBody};
use crate::config::Config;
use http::Response;
use serde_json::json;
use sovgate_core::api::Family;

pub fn list(config: &Config, family: Family) -> Response<ProxyBody> {
    let mut names: Vec<String> = Vec::new();
    for p in &config.pools {
        names.extend(p.models.iter().cloned());
    }
    for m in &config.models {
        if m.external.is_literal() {
            names.push(m.external.as_str().to_owned());
        }
        if let Some(local) = &m.model {
            names.push(local.clone());
        }
    }
    names.sort();
    names.dedup();
    let body = match family {
        Family::Anthropic => json!({
            "data": names.iter().map(|n| json!({"type": "model", "id": n, "display_name": n, "created_at": "1970-01-01T00:00:00Z"})).collect::<Vec<_>>(),
            "has_more": false,
            "first_id": names.first(),
            "last_id": names.last(),
        }),
        _ => json!({
            "object": "list",
            "data": names.iter().map(|n| json!({"id": n, "object": "model", "created": 0, "owned_by": "sovgate"})).collect::<Vec<_>>(),
        }),
    };
    let mut resp = Response::new(full(body.to_string()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}
