//! Building the upstream request and relaying the response.
//!
//! The request that leaves is rebuilt rather than patched: only end-to-end headers are copied,
//! every client credential is removed and the destination's own key injected, and the framing
//! (`Content-Length`) describes exactly the bytes that were inspected and transformed. Responses
//! stream back frame by frame; nothing is buffered whole.

use super::auth::CREDENTIAL_HEADERS;
use crate::config::{Provider, Secret, Upstream};
use crate::error::GatewayError;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Request};
use http_body_util::Full;
use sovgate_core::api::Family;

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus proxy credentials: never forwarded.
pub(super) const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers the gateway sets itself on the upstream request.
pub(super) const REWRITTEN: [&str; 4] = [
    "host",
    "content-length",
    "content-encoding",
    "accept-encoding",
];

/// Copies end-to-end headers, dropping hop-by-hop ones and those named in `Connection`.
pub fn end_to_end(src: &HeaderMap, extra_drop: &[&str]) -> HeaderMap {
    let named: Vec<String> = src
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(src.len());
    for (name, value) in src {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || extra_drop.contains(&n) || named.iter().any(|c| c == n) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// The credential header a provider expects.
pub fn credential(family: Family, key: &Secret) -> Option<(HeaderName, HeaderValue)> {
    let (name, value) = match family {
        Family::OpenAi => ("authorization", format!("Bearer {}", key.0)),
        Family::Anthropic => ("x-api-key", key.0.clone()),
        Family::Azure => ("api-key", key.0.clone()),
        Family::Gemini => ("x-goog-api-key", key.0.clone()),
    };
    let mut v = HeaderValue::from_str(&value).ok()?;
    v.set_sensitive(true);
    Some((HeaderName::from_static(name), v))
}

/// Joins an upstream base with the request path, avoiding a doubled `/v1` when the operator
/// wrote the base as `http://host:8000/v1`.
pub fn join_path(up: &Upstream, path_and_query: &str) -> String {
    let base = up.base_path.as_str();
    if !base.is_empty() && path_and_query.starts_with(base) {
        path_and_query.to_owned()
    } else {
        format!("{base}{path_and_query}")
    }
}

/// Removes a client-supplied `key=` query parameter (Gemini clients put their key there).
pub fn strip_key_param(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.starts_with("key="))
        .collect::<Vec<_>>()
        .join("&")
}

pub struct Outgoing<'a> {
    pub method: &'a http::Method,
    pub headers: &'a HeaderMap,
    pub upstream: &'a Upstream,
    pub path_and_query: String,
    pub credential: Option<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

pub fn build_request(o: Outgoing<'_>) -> Result<Request<Full<Bytes>>, GatewayError> {
    let mut drop: Vec<&str> = CREDENTIAL_HEADERS.to_vec();
    drop.extend(REWRITTEN);
    let mut headers = end_to_end(o.headers, &drop);
    headers.insert(http::header::HOST, host_value(o.upstream)?);
    headers.insert(
        http::header::CONTENT_LENGTH,
        HeaderValue::from(o.body.len()),
    );
    // Keep the answer inspectable: the response path restores and scans plain bytes.
    headers.insert(
        http::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    if let Some((n, v)) = o.credential {
        headers.insert(n, v);
    }
    let uri = format!(
        "{}://{}{}",
        if o.upstream.https { "https" } else { "http" },
        o.upstream.authority(),
        join_path(o.upstream, &o.path_and_query)
    );
    let mut req = Request::builder()
        .method(o.method.clone())
        .uri(&uri)
        .body(Full::new(o.body))
        .map_err(|e| {
            GatewayError::internal(
                "bad_upstream_uri",
                format!("cannot build request to {uri}: {e}"),
            )
        })?;
    *req.headers_mut() = headers;
    Ok(req)
}

fn host_value(up: &Upstream) -> Result<HeaderValue, GatewayError> {
    HeaderValue::from_str(&up.authority()).map_err(|_| {
        GatewayError::internal(
            "bad_upstream_host",
            format!("invalid upstream host {}", up.host),
        )
    })
}

/// The key to inject for a provider, if one is configured.
pub fn provider_credential(p: &Provider) -> Option<(HeaderName, HeaderValue)> {
    p.key.as_ref().and_then(|k| credential(p.family, k))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::parse_upstream;

    #[test]
    fn credentials_and_hop_by_hop_never_forwarded() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer client-secret"),
            ("x-api-key", "client-secret"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("transfer-encoding", "chunked"),
            ("content-length", "999"),
            ("content-encoding", "gzip"),
            ("openai-beta", "assistants=v2"),
            ("anthropic-version", "2023-06-01"),
            ("proxy-authorization", "Basic abc"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let up = parse_upstream("https://api.example.com").unwrap();
        let key = Secret("provider-key".into());
        let req = build_request(Outgoing {
            method: &http::Method::POST,
            headers: &h,
            upstream: &up,
            path_and_query: "/v1/messages".into(),
            credential: credential(Family::Anthropic, &key),
            body: Bytes::from_static(b"{}"),
        })
        .unwrap();
        let out = req.headers();
        assert_eq!(out.get("x-api-key").unwrap(), "provider-key");
        assert!(out.get("authorization").is_none());
        for gone in [
            "connection",
            "x-private",
            "transfer-encoding",
            "content-encoding",
            "proxy-authorization",
        ] {
            assert!(out.get(gone).is_none(), "{gone}");
        }
        assert_eq!(out.get("content-length").unwrap(), "2");
        assert_eq!(out.get("host").unwrap(), "api.example.com");
        assert_eq!(out.get("anthropic-version").unwrap(), "2023-06-01");
        assert_eq!(req.uri().to_string(), "https://api.example.com/v1/messages");
    }

    #[test]
    fn paths_join_without_doubling() {
        let up = parse_upstream("http://127.0.0.1:8000/v1").unwrap();
        assert_eq!(
            join_path(&up, "/v1/chat/completions"),
            "/v1/chat/completions"
        );
        let up = parse_upstream("http://127.0.0.1:8000/proxy").unwrap();
        assert_eq!(
            join_path(&up, "/v1/chat/completions"),
            "/proxy/v1/chat/completions"
        );
        assert_eq!(strip_key_param("alt=sse&key=abc"), "alt=sse");
    }
}
