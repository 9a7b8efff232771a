//! A stub inference backend: stands in for a GPU inference server (vLLM, TGI, ...) and for the
//! external provider, in tests and in `sovgate demo`, where no GPU and no internet exist.
//!
//! It speaks enough of the OpenAI, Anthropic and Gemini APIs for real clients (streaming
//! included), and it is **honest**: every request it receives is recorded byte for byte, so a
//! test can prove what left the gateway and what did not. With [`Reply::Echo`] it answers with
//! `[<name>] ` and the last user message, so the reply shows what the model was shown.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sovgate::stub::{self, StubConfig};
//!
//! let external = stub::start(StubConfig { name: "openai".into(), ..Default::default() },
//!                            "127.0.0.1:0".parse().unwrap()).await?;
//! // ... point the gateway's provider upstream at external.url(), send a privileged prompt ...
//! assert_eq!(external.calls(), 0, "a privileged prompt reached the external provider");
//! # Ok(()) }
//! ```
//!
//! Endpoints: `POST /v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses`,
//! `/v1/messages`, `/v1/messages/count_tokens`, Azure's
//! `/openai/deployments/{deployment}/{chat/completions,completions,embeddings}`,
//! `/v1beta/models/{model}:generateContent` and `:streamGenerateContent`; `GET /v1/models`,
//! `/health`, `/metrics` (vLLM's `vllm:num_requests_running` / `vllm:num_requests_waiting`).
//! Errors come in the shape of the API that was called. Offered `tools`, chat completions and
//! messages call one (see `tools.rs` for exactly which, with which arguments), and answer from
//! the tool's result on the next turn.
//!
//! Probes (`GET /health`, `GET /metrics`) are counted apart, not recorded: balancers poll them
//! at will, which would make "exactly N calls" assertions racy, and they carry no content.
//! Control endpoints for tests in other languages, never recorded: `GET /__stub/requests`
//! (JSON array), `DELETE /__stub/requests` (clear), `GET /__stub/stats`.

mod anthropic;
mod body;
mod control;
mod gemini;
mod openai;
mod record;
mod recut;
mod route;
mod text;
mod tools;

#[cfg(test)]
mod tests;

pub use record::RecordedRequest;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the stub answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `[<name>] ` followed by the text of the last user message.
    Echo,
    /// Always this text.
    Fixed(String),
}

/// How a stub behaves. `..Default::default()` fills what a test does not care about.
#[derive(Debug, Clone)]
pub struct StubConfig {
    /// Shown in echoes and stats; name stubs after what they stand for (`gpu-fra`, `openai`).
    pub name: String,
    pub reply: Reply,
    /// Wait before answering (the request counts as waiting meanwhile).
    pub delay_ms: u64,
    /// Characters per streamed content chunk.
    pub stream_chunk_chars: usize,
    /// Pause between streamed chunks.
    pub chunk_interval_ms: u64,
    /// Answer every API call with this status and an error body in the API's shape.
    pub fail_status: Option<u16>,
    /// Send this many body frames (SSE events, or half of a JSON body), then drop the connection
    /// without finishing the response: no `[DONE]`, no final chunk.
    pub die_after_chunks: Option<usize>,
    /// Model name in answers when the request names none.
    pub model: String,
    /// Send streamed answers in frames of this many bytes, cut anywhere (one byte: a frame
    /// boundary at every byte position); `die_after_chunks` then counts these frames.
    pub frame_bytes: Option<usize>,
}

impl Default for StubConfig {
    fn default() -> StubConfig {
        StubConfig {
            name: "stub".into(),
            reply: Reply::Echo,
            delay_ms: 0,
            stream_chunk_chars: 8,
            chunk_interval_ms: 0,
            fail_status: None,
            die_after_chunks: None,
            model: "stub-model".into(),
            frame_bytes: None,
        }
    }
}

/// Shared by the handle and every connection.
#[derive(Debug)]
struct State {
    cfg: StubConfig,
    requests: Mutex<Vec<RecordedRequest>>,
    probes: AtomicUsize,
    /// Numbers response ids, so two answers never share one.
    seq: AtomicU64,
    running: Arc<AtomicUsize>,
    waiting: Arc<AtomicUsize>,
}

impl State {
    fn record(&self, req: RecordedRequest) {
        match self.requests.lock() {
            Ok(mut r) => r.push(req),
            Err(poisoned) => poisoned.into_inner().push(req),
        }
    }

    fn with_requests<R>(&self, f: impl FnOnce(&mut Vec<RecordedRequest>) -> R) -> R {
        match self.requests.lock() {
            Ok(mut r) => f(&mut r),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// Counts a request in a gauge for as long as it lives (a streamed answer moves it into the
/// body, so the count lasts until the last chunk).
#[derive(Debug)]
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(counter: &Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(Arc::clone(counter))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running stub. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct StubHandle {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// Binds `addr` (use `127.0.0.1:0` for a free port) and serves HTTP/1.1 and HTTP/2 (prior
/// knowledge) in a spawned task.
pub async fn start(cfg: StubConfig, addr: SocketAddr) -> std::io::Result<StubHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        cfg,
        requests: Mutex::new(Vec::new()),
        probes: AtomicUsize::new(0),
        seq: AtomicU64::new(0),
        running: Arc::default(),
        waiting: Arc::default(),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), stopped));
    Ok(StubHandle {
        addr,
        state,
        stop,
        task: Some(task),
    })
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, std::convert::Infallible>(route::handle(state, req).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            // On shutdown the connection is dropped mid-flight: a dead backend, not a polite one.
            tokio::select! {
                _ = conn => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

impl StubHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every API request received so far (probes and control calls excluded), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.with_requests(|r| r.clone())
    }

    /// How many API requests were received (probes and control calls excluded).
    pub fn calls(&self) -> usize {
        self.state.with_requests(|r| r.len())
    }

    /// How many `GET /health` and `GET /metrics` probes were received.
    pub fn probes(&self) -> usize {
        self.state.probes.load(Ordering::SeqCst)
    }

    /// Forgets the recorded requests (and so resets [`calls`](StubHandle::calls)).
    pub fn clear(&self) {
        self.state.with_requests(Vec::clear);
    }

    /// Stops accepting, drops every open connection, and waits until the port is released.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Like [`shutdown`](StubHandle::shutdown), without waiting: for sync contexts.
    pub fn abort(&self) {
        self.stop.send_replace(true);
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Drop for StubHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
