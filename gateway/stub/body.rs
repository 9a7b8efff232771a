//! Response bodies: whole JSON, or frames paced out one by one (and cut off on request).

use super::{InFlight, State};
use bytes::Bytes;
use futures_util::stream;
use http::{header, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long a dying stream waits for its last frames to reach the socket.
const DIE_FLUSH_MS: u64 = 20;

pub(super) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub(super) fn response(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

pub(super) fn json(status: StatusCode, value: &Value) -> Response<Body> {
    response(status, "application/json", full(value.to_string()))
}

/// One SSE event with only a `data:` line (OpenAI, Gemini).
pub(super) fn sse_data(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// One SSE event with an `event:` line (Anthropic, Responses API).
pub(super) fn sse_event(name: &str, value: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {value}\n\n"))
}

/// What an API handler needs to answer one request.
pub(super) struct Ctx {
    pub state: Arc<State>,
    /// Keeps the request counted as running until the answer has been sent.
    pub running: InFlight,
}

impl Ctx {
    pub fn name(&self) -> &str {
        &self.state.cfg.name
    }

    /// A fresh suffix for response ids.
    pub fn next_id(&self) -> u64 {
        self.state.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The answer text for a request whose last user message was `user_text`.
    pub fn reply(&self, user_text: &str) -> String {
        match &self.state.cfg.reply {
            super::Reply::Echo => format!("[{}] {user_text}", self.state.cfg.name),
            super::Reply::Fixed(text) => text.clone(),
        }
    }

    /// The request's `model`, else the configured one.
    pub fn model(&self, req: &Value) -> String {
        req.get("model")
            .and_then(Value::as_str)
            .map_or_else(|| self.state.cfg.model.clone(), str::to_string)
    }

    /// `text` cut into chunks of `stream_chunk_chars` characters (never splitting a char).
    pub fn chunks(&self, text: &str) -> Vec<String> {
        let size = self.state.cfg.stream_chunk_chars.max(1);
        let chars: Vec<char> = text.chars().collect();
        chars.chunks(size).map(|c| c.iter().collect()).collect()
    }

    /// A whole JSON answer; with `die_after_chunks` set, half of it and then a dropped
    /// connection.
    pub fn json(self, value: &Value) -> Response<Body> {
        if self.state.cfg.die_after_chunks.is_none() {
            return json(StatusCode::OK, value);
        }
        let bytes = Bytes::from(value.to_string());
        let half = bytes.len() / 2;
        let frames = vec![bytes.slice(..half), bytes.slice(half..)];
        let body = self.paced(frames, Some(1));
        response(StatusCode::OK, "application/json", body)
    }

    /// An event stream of `frames`, paced by `chunk_interval_ms`, cut by `die_after_chunks`.
    pub fn sse(self, frames: Vec<Bytes>) -> Response<Body> {
        self.stream(frames, "text/event-stream")
    }

    /// A streamed body of another content type (Gemini's JSON array stream).
    pub fn stream(self, frames: Vec<Bytes>, content_type: &str) -> Response<Body> {
        let die_after = self.state.cfg.die_after_chunks;
        let frames = super::recut::recut(frames, self.state.cfg.frame_bytes);
        let body = self.paced(frames, die_after);
        let mut resp = response(StatusCode::OK, content_type, body);
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache"),
        );
        resp
    }

    fn paced(self, frames: Vec<Bytes>, die_after: Option<usize>) -> Body {
        let feed = Feed {
            frames: frames.into_iter(),
            sent: 0,
            interval: Duration::from_millis(self.state.cfg.chunk_interval_ms),
            die_after,
            dead: false,
            _running: self.running,
        };
        let frames = stream::unfold(feed, |mut feed| async move {
            if feed.dead {
                return None;
            }
            if feed.die_after.is_some_and(|n| feed.sent >= n) && feed.frames.len() > 0 {
                // An error ends the body without its terminator: hyper closes the connection
                // (HTTP/1.1) or resets the stream (HTTP/2), as a crashed server would.
                feed.dead = true;
                // Pending once first, so hyper flushes what was sent: the client must really
                // receive the first frames before the connection dies, or the test proves less.
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(DIE_FLUSH_MS)).await;
                let err = std::io::Error::other("stub: connection dropped (die_after_chunks)");
                return Some((Err(err), feed));
            }
            let frame = feed.frames.next()?;
            if feed.sent > 0 && !feed.interval.is_zero() {
                tokio::time::sleep(feed.interval).await;
            }
            feed.sent += 1;
            Some((Ok(Frame::data(frame)), feed))
        });
        StreamBody::new(frames).boxed_unsync()
    }
}

struct Feed {
    frames: std::vec::IntoIter<Bytes>,
    sent: usize,
    interval: Duration,
    die_after: Option<usize>,
    dead: bool,
    _running: InFlight,
}
