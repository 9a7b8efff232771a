//! The framing guard: every byte hyper reads on an HTTP/1.1 connection passes through it first.
//!
//! hyper resolves a request carrying both `Content-Length` and `Transfer-Encoding` by ignoring the
//! length (RFC 9112 §6.3), folds repeated equal lengths into one, reads `gzip, chunked` as chunked
//! and serves a request without `Host`. Each is a sound reading, but a request framed two ways is
//! how request smuggling starts, and another hop may read it the other way: Sovgate refuses them.
//! The handler never sees raw headers, so the guard ([`Sniffed`]) parses each head itself with
//! httparse, the parser hyper uses, follows each body by hyper's own rules ([`track`]), and queues
//! a verdict per request in order (HTTP/1.1 requests on a connection are handled in order).
//!
//! It fails closed. After a refused head, hyper gets no further byte, so nothing behind it can be
//! read as a request, and the refusal closes the connection. A head or body the guard cannot
//! follow ends the stream for hyper there (and any request hyper still parses is refused): the
//! guard never switches itself off. Only a connection that opened with the HTTP/2 preface, or a
//! CONNECT answered 2xx (a tunnel), is passed through unjudged.

mod head;
mod track;

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use track::{Options, Stop, Tracker};

/// The largest request head accepted, by the guard and by hyper alike (its read buffer is capped
/// to this with `max_buf_size`), so the two never disagree about where a head ends.
pub const MAX_HEAD: usize = 64 * 1024;

/// Why a request's framing is refused: status 400, or 501 for a transfer coding Sovgate does not
/// implement. Turned into a response in `gateway/error.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

impl Refusal {
    fn bad(code: &'static str, message: &'static str) -> Refusal {
        Refusal {
            status: 400,
            code,
            message,
        }
    }

    fn not_implemented(code: &'static str, message: &'static str) -> Refusal {
        Refusal {
            status: 501,
            code,
            message,
        }
    }

    fn lost() -> Refusal {
        Refusal::bad(
            "unparseable_request",
            "the request's head or body framing cannot be followed unambiguously",
        )
    }
}

/// What a connection speaks, as its listener or its TLS ALPN says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// HTTP/1.1, or HTTP/2 when the connection opens with the preface.
    Auto,
    Http1,
    Http2,
}

#[derive(Debug, Default)]
enum ConnectWait {
    #[default]
    None,
    Waiting,
    Tunnel,
    Resume,
}

#[derive(Debug, Default)]
struct Shared {
    verdicts: VecDeque<Option<Refusal>>,
    http2: bool,
    connect: ConnectWait,
    waker: Option<Waker>,
}

/// Verdicts, shared with the connection's service.
#[derive(Debug, Clone, Default)]
pub struct SniffHandle(Arc<Mutex<Shared>>);

impl SniffHandle {
    /// The verdict on the next request on this connection: `Some` refuses it. A request the
    /// guard has no verdict for on an HTTP/1.1 connection is refused too.
    pub fn next_request(&self) -> Option<Refusal> {
        let Ok(mut s) = self.0.lock() else {
            return Some(Refusal::lost());
        };
        match s.verdicts.pop_front() {
            Some(v) => v,
            None if s.http2 => None,
            None => Some(Refusal::lost()),
        }
    }

    /// Tells the guard how a CONNECT was answered: 2xx makes the connection a tunnel, anything
    /// else lets the next request be read and judged.
    pub fn connect_answered(&self, tunnel: bool) {
        if let Ok(mut s) = self.0.lock() {
            s.connect = if tunnel {
                ConnectWait::Tunnel
            } else {
                ConnectWait::Resume
            };
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Judging requests.
    Open,
    /// HTTP/2 or a tunnel: bytes pass unjudged.
    Pass,
    /// After a refused head: hyper answers it and closes; it gets nothing more.
    Blocked,
    /// After a CONNECT head, until the service says how it was answered.
    AwaitConnect,
    /// After framing the guard cannot follow: the stream ends in an error.
    Failed,
}

pub struct Sniffed<S> {
    inner: S,
    tracker: Tracker,
    gate: Gate,
    /// Bytes read from the client and not yet handed to hyper (after a CONNECT head).
    held: Vec<u8>,
    fresh: Vec<Option<Refusal>>,
    shared: SniffHandle,
}

impl<S> Sniffed<S> {
    /// Wraps a connection; `connect`: CONNECT is answered here (the forward listener).
    pub fn new(inner: S, wire: Wire, connect: bool, max_headers: usize) -> (Self, SniffHandle) {
        let shared = SniffHandle::default();
        let gate = if wire == Wire::Http2 {
            if let Ok(mut s) = shared.0.lock() {
                s.http2 = true;
            }
            Gate::Pass
        } else {
            Gate::Open
        };
        let opts = Options {
            h2_preface: wire == Wire::Auto,
            connect,
            max_headers,
        };
        let sniffed = Sniffed {
            inner,
            tracker: Tracker::new(opts),
            gate,
            held: Vec::new(),
            fresh: Vec::new(),
            shared: shared.clone(),
        };
        (sniffed, shared)
    }

    fn park(&self, cx: &Context<'_>) {
        if let Ok(mut s) = self.shared.0.lock() {
            s.waker = Some(cx.waker().clone());
        }
    }
}

impl<S: AsyncRead + Unpin> Sniffed<S> {
    /// Reads into `buf` from what was held back, else from the client.
    fn poll_source(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.held.is_empty() {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        let k = self.held.len().min(buf.remaining());
        buf.put_slice(&self.held[..k]);
        self.held.drain(..k);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniffed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match this.gate {
                Gate::Pass => return this.poll_source(cx, buf),
                Gate::Blocked => {
                    this.park(cx);
                    return Poll::Pending;
                }
                Gate::Failed => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "request framing the gateway cannot follow",
                    )))
                }
                Gate::AwaitConnect => {
                    let Ok(mut s) = this.shared.0.lock() else {
                        this.gate = Gate::Failed;
                        continue;
                    };
                    match std::mem::take(&mut s.connect) {
                        ConnectWait::Tunnel => this.gate = Gate::Pass,
                        ConnectWait::Resume => this.gate = Gate::Open,
                        wait => {
                            s.connect = wait;
                            s.waker = Some(cx.waker().clone());
                            return Poll::Pending;
                        }
                    }
                }
                Gate::Open => {
                    let before = buf.filled().len();
                    std::task::ready!(this.poll_source(cx, buf))?;
                    let fresh = &buf.filled()[before..];
                    if fresh.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    let fed = this.tracker.feed(fresh, &mut this.fresh);
                    if fed.deliver < fresh.len() {
                        let rest = fresh[fed.deliver..].to_vec();
                        this.held.splice(0..0, rest);
                        buf.set_filled(before + fed.deliver);
                    }
                    if let Ok(mut s) = this.shared.0.lock() {
                        s.verdicts.extend(this.fresh.drain(..));
                        match fed.stop {
                            Some(Stop::Http2) => s.http2 = true,
                            Some(Stop::Connect) => s.connect = ConnectWait::Waiting,
                            _ => {}
                        }
                    } else {
                        this.gate = Gate::Failed;
                    }
                    if let Some(stop) = fed.stop {
                        this.gate = match stop {
                            Stop::Http2 => Gate::Pass,
                            Stop::Refused => Gate::Blocked,
                            Stop::Connect => Gate::AwaitConnect,
                            Stop::Lost => Gate::Failed,
                        };
                    }
                    // Zero bytes would read as end of stream: wait on the new gate instead.
                    if fed.deliver > 0 {
                        return Poll::Ready(Ok(()));
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniffed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
