#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tokio::net::TcpStream;

/// What came back: status, content type, the bytes that arrived, and the body error if the
/// response was cut off.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
    cut: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

async fn stub(cfg: StubConfig) -> StubHandle {
    start(cfg, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn named(name: &str) -> StubConfig {
    StubConfig {
        name: name.into(),
        ..Default::default()
    }
}

fn request(method: &str, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", "stub")
        .header("content-type", "application/json")
        .body(Full::new(body.into()))
        .unwrap()
}

async fn read(resp: http::Response<hyper::body::Incoming>) -> Answer {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    let mut cut = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => bytes.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(e) => {
                cut = Some(e.to_string());
                break;
            }
        }
    }
    Answer {
        status,
        content_type,
        body: bytes,
        cut,
    }
}

/// One request over a fresh HTTP/1.1 connection.
async fn send(h: &StubHandle, req: Request<Full<Bytes>>) -> Answer {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(h.addr()).await.unwrap());
    let (mut tx, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    read(tx.send_request(req).await.unwrap()).await
}

/// One request over a fresh HTTP/2 (prior knowledge) connection.
async fn send_h2(h: &StubHandle, req: Request<Full<Bytes>>) -> Answer {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(h.addr()).await.unwrap());
    let (mut tx, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let (mut parts, body) = req.into_parts();
    parts.uri = format!("http://{}{}", h.addr(), parts.uri).parse().unwrap();
    read(
        tx.send_request(Request::from_parts(parts, body))
            .await
            .unwrap(),
    )
    .await
}

async fn post(h: &StubHandle, path: &str, body: &Value) -> Answer {
    send(h, request("POST", path, body.to_string())).await
}

/// `(event name if any, data)` for each SSE event.
fn sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let mut event = None;
            let mut data = String::new();
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (event, data)
        })
        .collect()
}

fn chat_body(stream: bool) -> Value {
    json!({
        "model": "gpt-4o",
        "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": [{"type": "text", "text": "what about Müller & Co?"}]},
        ],
    })
}

#[tokio::test]
async fn chat_json_echoes_the_last_user_message() {
    let h = stub(named("gpu-fra")).await;
    let a = post(&h, "/v1/chat/completions", &chat_body(false)).await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4o");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "[gpu-fra] what about Müller & Co?"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 5);
    assert_eq!(h.calls(), 1);
}

#[tokio::test]
async fn chat_stream_sends_role_content_finish_usage_and_done() {
    let h = stub(StubConfig {
        stream_chunk_chars: 5,
        ..named("gpu")
    })
    .await;
    let a = post(&h, "/v1/chat/completions", &chat_body(true)).await;
    assert!(a.cut.is_none());
    assert_eq!(a.content_type, "text/event-stream");
    let events = sse(&a.text());
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(e, d)| {
            assert!(e.is_none());
            serde_json::from_str(d).unwrap()
        })
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let n = chunks.len();
    let mut content = String::new();
    for c in &chunks[1..n - 2] {
        let piece = c["choices"][0]["delta"]["content"].as_str().unwrap();
        assert!(piece.chars().count() <= 5, "{piece:?}");
        assert!(c["choices"][0]["finish_reason"].is_null());
        content.push_str(piece);
    }
    assert_eq!(content, "[gpu] what about Müller & Co?");
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert_eq!(chunks[n - 1]["usage"]["completion_tokens"], 6);
}

#[tokio::test]
async fn recording_keeps_exact_bytes_path_and_headers() {
    let h = stub(StubConfig::default()).await;
    let raw: &[u8] =
        b"{\"model\" :\"m\",  \"messages\":[{\"role\":\"user\",\"content\":\"\\u00e9 x\"}]}\n";
    let mut req = request(
        "POST",
        "/v1/chat/completions?trace=1",
        Bytes::from_static(raw),
    );
    req.headers_mut()
        .insert("X-Client-Tag", "crm-7".parse().unwrap());
    assert_eq!(send(&h, req).await.status, StatusCode::OK);
    let not_utf8: &[u8] = b"\xff\xfe raw";
    send(&h, request("PUT", "/nowhere", Bytes::from_static(not_utf8))).await;

    let recorded = h.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/v1/chat/completions?trace=1");
    assert_eq!(&recorded[0].body[..], raw);
    assert_eq!(recorded[0].header("x-client-tag"), Some("crm-7"));
    assert!(recorded[0].headers.iter().any(|(n, _)| n == "x-client-tag"));
    assert_eq!(recorded[0].json().unwrap()["messages"][0]["content"], "é x");
    assert_eq!(&recorded[1].body[..], not_utf8);

    // The control view says the same, and is itself not recorded.
    let listed = send(&h, request("GET", "/__stub/requests", ""))
        .await
        .json();
    assert_eq!(listed[0]["body"], std::str::from_utf8(raw).unwrap());
    assert_eq!(listed[0]["headers"]["x-client-tag"], "crm-7");
    assert!(listed[1]["body"].is_null());
    assert_eq!(listed[1]["body_b64"], record::base64(not_utf8));
    let stats = send(&h, request("GET", "/__stub/stats", "")).await.json();
    assert_eq!(stats["calls"], 2);
    assert_eq!(h.calls(), 2);
    let cleared = send(&h, request("DELETE", "/__stub/requests", ""))
        .await
        .json();
    assert_eq!(cleared["cleared"], 2);
    assert_eq!(h.calls(), 0);
}

#[tokio::test]
async fn fail_status_answers_in_the_called_apis_error_shape() {
    let h = stub(StubConfig {
        fail_status: Some(503),
        ..named("down")
    })
    .await;
    let a = post(&h, "/v1/chat/completions", &chat_body(false)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.json()["error"]["type"], "server_error");
    let a = post(&h, "/v1/messages", &json!({"messages": []})).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.json()["type"], "error");
    assert_eq!(a.json()["error"]["type"], "api_error");
    let a = post(&h, "/v1beta/models/gemini-pro:generateContent", &json!({})).await;
    assert_eq!(a.json()["error"]["status"], "UNAVAILABLE");
    assert_eq!(h.calls(), 3, "failed calls are still recorded");
}

#[tokio::test]
async fn invalid_json_and_unknown_paths_are_refused() {
    let h = stub(StubConfig::default()).await;
    let a = send(&h, request("POST", "/v1/chat/completions", "{not json")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let err = &a.json()["error"];
    assert_eq!(err["type"], "invalid_request_error");
    assert!(err["message"].as_str().unwrap().starts_with("invalid JSON"));
    let a = send(&h, request("POST", "/v1/nope", "{}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn die_after_chunks_cuts_the_stream_without_done() {
    let h = stub(StubConfig {
        die_after_chunks: Some(2),
        ..named("flaky")
    })
    .await;
    for a in [
        post(&h, "/v1/chat/completions", &chat_body(true)).await,
        send_h2(
            &h,
            request("POST", "/v1/chat/completions", chat_body(true).to_string()),
        )
        .await,
    ] {
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.cut.is_some(), "stream should end in an error");
        let text = a.text();
        assert!(!text.contains("[DONE]"));
        assert_eq!(sse(&text).len(), 2, "{text}");
    }
    let a = post(&h, "/v1/chat/completions", &chat_body(false)).await;
    assert!(a.cut.is_some());
    assert!(serde_json::from_slice::<Value>(&a.body).is_err());
}

#[tokio::test]
async fn anthropic_stream_follows_the_event_sequence() {
    let h = stub(StubConfig {
        stream_chunk_chars: 4,
        ..named("claude")
    })
    .await;
    let body = json!({
        "model": "claude-sonnet-4", "max_tokens": 100, "stream": true, "system": "sys",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "privileged memo"}]}],
    });
    let a = post(&h, "/v1/messages", &body).await;
    let events = sse(&a.text());
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_deref().unwrap()).collect();
    let deltas = names.len() - 5;
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(std::iter::repeat_n("content_block_delta", deltas));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let mut text = String::new();
    for (name, data) in &events {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["type"], name.as_deref().unwrap());
        if let Some(t) = v["delta"]["text"].as_str() {
            assert_eq!(v["delta"]["type"], "text_delta");
            text.push_str(t);
        }
    }
    assert_eq!(text, "[claude] privileged memo");
    let start: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(start["message"]["model"], "claude-sonnet-4");
    let stop: Value = serde_json::from_str(&events[names.len() - 2].1).unwrap();
    assert_eq!(stop["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn anthropic_json_and_count_tokens() {
    let h = stub(named("claude")).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "two words"}]});
    let v = post(&h, "/v1/messages", &body).await.json();
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"],
        json!([{"type": "text", "text": "[claude] two words"}])
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["stop_sequence"].is_null());
    assert_eq!(v["usage"], json!({"input_tokens": 2, "output_tokens": 3}));
    let v = post(&h, "/v1/messages/count_tokens", &body).await.json();
    assert_eq!(v["input_tokens"], 2);
}

#[tokio::test]
async fn responses_api_json_and_stream() {
    let h = stub(named("r")).await;
    let v = post(
        &h,
        "/v1/responses",
        &json!({"model": "gpt-4.1", "input": "hi there"}),
    )
    .await
    .json();
    assert_eq!(v["object"], "response");
    assert_eq!(v["output"][0]["content"][0]["text"], "[r] hi there");

    let body = json!({"stream": true, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "older"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "latest"}]},
    ]});
    let events = sse(&post(&h, "/v1/responses", &body).await.text());
    let mut deltas = String::new();
    for (i, (name, data)) in events.iter().enumerate() {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["type"], name.as_deref().unwrap());
        assert_eq!(v["sequence_number"], i);
        if let Some(d) = v["delta"].as_str() {
            deltas.push_str(d);
        }
    }
    assert_eq!(events[0].0.as_deref(), Some("response.created"));
    assert_eq!(deltas, "[r] latest");
    let names: Vec<&str> = events.iter().filter_map(|(n, _)| n.as_deref()).collect();
    for lifecycle in [
        "response.output_item.added",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_item.done",
    ] {
        assert!(names.contains(&lifecycle), "{lifecycle} missing: {names:?}");
    }
    let done = events
        .iter()
        .find(|(n, _)| n.as_deref() == Some("response.output_text.done"))
        .unwrap();
    let done: Value = serde_json::from_str(&done.1).unwrap();
    assert_eq!(done["text"], "[r] latest");
    let completed: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(completed["type"], "response.completed");
    assert_eq!(completed["response"]["status"], "completed");
}

#[tokio::test]
async fn gemini_json_sse_and_array_stream() {
    let h = stub(named("g")).await;
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "old"}]},
        {"role": "model", "parts": [{"text": "reply"}]},
        {"role": "user", "parts": [{"text": "new "}, {"text": "question"}]},
    ]});
    let v = post(&h, "/v1beta/models/gemini-2.0-flash:generateContent", &body)
        .await
        .json();
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "[g] new question"
    );
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    assert_eq!(v["modelVersion"], "gemini-2.0-flash");

    let path = "/v1beta/models/gemini-2.0-flash:streamGenerateContent";
    let collect = |objects: Vec<Value>| -> String {
        objects
            .iter()
            .map(|o| {
                o["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
            })
            .collect()
    };
    let events = sse(&post(&h, &format!("{path}?alt=sse"), &body).await.text());
    let objects: Vec<Value> = events
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(
        objects.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
    assert_eq!(collect(objects), "[g] new question");
    let array = post(&h, path, &body).await.json();
    assert_eq!(
        collect(array.as_array().unwrap().clone()),
        "[g] new question"
    );
}

#[tokio::test]
async fn completions_embeddings_models_and_azure_paths() {
    let h = stub(StubConfig {
        reply: Reply::Fixed("fixed answer".into()),
        ..named("s")
    })
    .await;
    let v = post(&h, "/v1/completions", &json!({"prompt": "p"}))
        .await
        .json();
    assert_eq!(v["choices"][0]["text"], "fixed answer");
    assert_eq!(v["model"], "stub-model");

    let v = post(&h, "/v1/embeddings", &json!({"input": ["a", "b", "a"]}))
        .await
        .json();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[0]["embedding"], data[2]["embedding"]);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(data[1]["embedding"].as_array().unwrap().len(), 8);

    let v = send(&h, request("GET", "/v1/models", "")).await.json();
    assert_eq!(v["data"][0]["id"], "stub-model");

    let path = "/openai/deployments/gpt4-prod/chat/completions?api-version=2024-06-01";
    let v = post(&h, path, &chat_body(false)).await.json();
    assert_eq!(v["model"], "gpt-4o");
    let v = post(&h, path, &json!({"messages": []})).await.json();
    assert_eq!(v["model"], "gpt4-prod");
}

#[tokio::test]
async fn probes_are_counted_apart_and_metrics_show_running_requests() {
    let h = stub(StubConfig {
        // Long enough that the stream is still open when /metrics is read; the test never waits
        // for it, it drops the connection instead.
        chunk_interval_ms: 600_000,
        ..named("gpu")
    })
    .await;
    assert_eq!(
        send(&h, request("GET", "/health", "")).await.status,
        StatusCode::OK
    );

    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(h.addr()).await.unwrap());
    let (mut tx, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    let conn = tokio::spawn(conn);
    let req = request("POST", "/v1/chat/completions", chat_body(true).to_string());
    let mut body = tx.send_request(req).await.unwrap().into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(first.starts_with(b"data: "));

    let metrics = send(&h, request("GET", "/metrics", "")).await.text();
    assert!(
        metrics.contains("vllm:num_requests_running{model_name=\"stub-model\"} 1.0\n"),
        "{metrics}"
    );
    assert!(metrics.contains("vllm:num_requests_waiting{model_name=\"stub-model\"} 0.0\n"));
    assert!(metrics.contains("# TYPE vllm:num_requests_running gauge\n"));
    assert_eq!(h.probes(), 2);
    assert_eq!(h.calls(), 1, "probes are not recorded");
    drop(body);
    conn.abort();
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    let h = stub(named("h2")).await;
    let a = send_h2(
        &h,
        request("POST", "/v1/chat/completions", chat_body(false).to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json()["choices"][0]["message"]["content"],
        "[h2] what about Müller & Co?"
    );
    assert_eq!(h.requests()[0].json().unwrap(), chat_body(false));
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let h = stub(StubConfig::default()).await;
    let addr = h.addr();
    assert!(h.url().starts_with("http://127.0.0.1:"));
    h.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (input, want) in cases {
        assert_eq!(record::base64(input.as_bytes()), want);
    }
    assert_eq!(record::base64(&[0xff, 0xfe, 0x00]), "//4A");
}
