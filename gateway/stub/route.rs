//! One request through the stub: record it, then behave as configured, then answer.

use super::body::{self, Body, Ctx};
use super::record::RecordedRequest;
use super::{anthropic, control, gemini, openai, InFlight, State};
use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Bodies beyond this are refused; generous, since gateways are tested with large prompts.
const MAX_BODY: usize = 64 << 20;

/// Whose error shape to answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    OpenAi,
    Anthropic,
    Gemini,
}

#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Completions,
    Embeddings,
    Responses,
    Messages,
    CountTokens,
    Gemini { model: String, stream: bool },
    Models,
    Health,
}

pub(super) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let (parts, incoming) = req.into_parts();
    let path = parts.uri.path().to_string();
    let (bytes, read_error) = read_body(incoming).await;
    if path.starts_with("/__stub/") {
        return control::handle(&state, &parts.method, &path);
    }
    let probe = parts.method == Method::GET && (path == "/health" || path == "/metrics");
    if probe {
        state.probes.fetch_add(1, Ordering::SeqCst);
    } else {
        state.record(RecordedRequest {
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| path.clone(), |p| p.as_str().to_string()),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_ascii_lowercase(), value)
                })
                .collect(),
            body: bytes.clone(),
        });
    }
    let flavor = flavor_of(&path);
    if let Some(reason) = read_error {
        return error(flavor, StatusCode::BAD_REQUEST, &reason);
    }
    if probe && path == "/metrics" {
        return vllm_metrics(&state);
    }
    if state.cfg.delay_ms > 0 {
        let _waiting = InFlight::new(&state.waiting);
        tokio::time::sleep(Duration::from_millis(state.cfg.delay_ms)).await;
    }
    let ctx = Ctx {
        running: InFlight::new(&state.running),
        state: Arc::clone(&state),
    };
    if let Some(code) = state.cfg.fail_status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let msg = format!("stub {} is configured to fail with {code}", state.cfg.name);
        return error(flavor, status, &msg);
    }
    let Some(endpoint) = endpoint(&parts.method, &path) else {
        let msg = format!(
            "stub {}: no route for {} {path}",
            state.cfg.name, parts.method
        );
        return error(flavor, StatusCode::NOT_FOUND, &msg);
    };
    let mut req = Value::Null;
    if !matches!(endpoint, Endpoint::Health | Endpoint::Models) {
        req = match serde_json::from_slice(&bytes) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return error(flavor, StatusCode::BAD_REQUEST, "body is not a JSON object"),
            Err(e) => {
                let msg = format!("invalid JSON body: {e}");
                return error(flavor, StatusCode::BAD_REQUEST, &msg);
            }
        };
    }
    if let Some(deployment) = azure_deployment(&path) {
        if req.get("model").is_none() {
            req["model"] = json!(deployment);
        }
    }
    let sse = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
    dispatch(ctx, endpoint, &req, sse)
}

fn dispatch(ctx: Ctx, api: Endpoint, req: &Value, sse: bool) -> Response<Body> {
    match api {
        Endpoint::Chat => openai::chat(ctx, req),
        Endpoint::Completions => openai::completions(ctx, req),
        Endpoint::Embeddings => openai::embeddings(ctx, req),
        Endpoint::Responses => openai::responses(ctx, req),
        Endpoint::Messages => anthropic::messages(ctx, req),
        Endpoint::CountTokens => anthropic::count_tokens(req),
        Endpoint::Gemini { model, stream } => gemini::generate(ctx, req, &model, stream, sse),
        Endpoint::Models => openai::models(&ctx),
        Endpoint::Health => body::response(StatusCode::OK, "text/plain", body::full(Bytes::new())),
    }
}

fn endpoint(method: &Method, path: &str) -> Option<Endpoint> {
    if method == Method::GET {
        return match path {
            "/health" => Some(Endpoint::Health),
            "/v1/models" => Some(Endpoint::Models),
            _ => None,
        };
    }
    if method != Method::POST {
        return None;
    }
    let openai_tail = |tail: &str| match tail {
        "chat/completions" => Some(Endpoint::Chat),
        "completions" => Some(Endpoint::Completions),
        "embeddings" => Some(Endpoint::Embeddings),
        "responses" => Some(Endpoint::Responses),
        _ => None,
    };
    if let Some(tail) = path.strip_prefix("/v1/") {
        return match tail {
            "messages" => Some(Endpoint::Messages),
            "messages/count_tokens" => Some(Endpoint::CountTokens),
            _ => openai_tail(tail),
        };
    }
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        return rest.split_once('/').and_then(|(_, tail)| openai_tail(tail));
    }
    let rest = path
        .strip_prefix("/v1beta/models/")
        .or_else(|| path.strip_prefix("/v1/models/"))?;
    let (model, call) = rest.rsplit_once(':')?;
    let stream = match call {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    Some(Endpoint::Gemini {
        model: model.to_string(),
        stream,
    })
}

fn azure_deployment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/openai/deployments/")?;
    rest.split_once('/').map(|(d, _)| d)
}

fn flavor_of(path: &str) -> Flavor {
    if path.starts_with("/v1/messages") {
        Flavor::Anthropic
    } else if path.starts_with("/v1beta/") || path.contains(":generateContent") {
        Flavor::Gemini
    } else {
        Flavor::OpenAi
    }
}

/// An error body in the shape the called API uses, so clients' own error types parse it.
fn error(flavor: Flavor, status: StatusCode, message: &str) -> Response<Body> {
    let code = status.as_u16();
    let value = match flavor {
        Flavor::OpenAi => {
            let kind = match code {
                429 => "rate_limit_error",
                500..=599 => "server_error",
                _ => "invalid_request_error",
            };
            json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
        }
        Flavor::Anthropic => {
            let kind = match code {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                413 => "request_too_large",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                500..=599 => "api_error",
                _ => "invalid_request_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        Flavor::Gemini => {
            let kind = match code {
                400 => "INVALID_ARGUMENT",
                401 => "UNAUTHENTICATED",
                403 => "PERMISSION_DENIED",
                404 => "NOT_FOUND",
                429 => "RESOURCE_EXHAUSTED",
                503 => "UNAVAILABLE",
                _ => "INTERNAL",
            };
            json!({"error": {"code": code, "message": message, "status": kind}})
        }
    };
    body::json(status, &value)
}

/// The two gauges of vLLM's `/metrics` a queue-aware balancer reads.
fn vllm_metrics(state: &State) -> Response<Body> {
    let model = state
        .cfg
        .model
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    let running = state.running.load(Ordering::SeqCst);
    let waiting = state.waiting.load(Ordering::SeqCst);
    let text = format!(
        "# HELP vllm:num_requests_running Number of requests currently running on GPU.\n\
         # TYPE vllm:num_requests_running gauge\n\
         vllm:num_requests_running{{model_name=\"{model}\"}} {running}.0\n\
         # HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n\
         # TYPE vllm:num_requests_waiting gauge\n\
         vllm:num_requests_waiting{{model_name=\"{model}\"}} {waiting}.0\n"
    );
    body::response(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        body::full(text),
    )
}

/// The whole body, or as much as arrived and why the rest did not: a request cut short is still
/// recorded, since what did arrive may be exactly what a test must see.
async fn read_body(mut incoming: Incoming) -> (Bytes, Option<String>) {
    let mut buf = BytesMut::new();
    while let Some(frame) = incoming.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > MAX_BODY {
                        return (buf.freeze(), Some(format!("body over {MAX_BODY} bytes")));
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Err(e) => return (buf.freeze(), Some(format!("body read failed: {e}"))),
        }
    }
    (buf.freeze(), None)
}
