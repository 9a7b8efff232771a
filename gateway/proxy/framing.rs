//! Ambiguous HTTP/1.1 framing detection.
//!
//! hyper resolves a request carrying both `Content-Length` and `Transfer-Encoding` by ignoring the
//! length (RFC 9112 §6.3), and folds repeated equal `Content-Length` headers into one. That is a
//! sound reading, but a request framed two ways is how request smuggling starts, and another hop
//! may read it the other way: Sovgate refuses such requests instead. The handler never sees the raw
//! headers, so this wrapper watches the bytes hyper reads, finds each request head, and queues a
//! verdict per request, in order (HTTP/1.1 requests on a connection are handled in order).
//! It follows bodies (length or chunked) to find the next head; if it ever loses track it stops
//! judging rather than guessing.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug)]
enum Phase {
    Head(Vec<u8>),
    Fixed(u64),
    ChunkSize(Vec<u8>),
    ChunkData(u64),
    ChunkCrlf(u8),
    Trailers(Vec<u8>),
    /// HTTP/2, or lost track: no more verdicts.
    Off,
}

/// Verdicts, shared with the connection's service.
#[derive(Debug, Clone, Default)]
pub struct SniffHandle(Arc<Mutex<VecDeque<bool>>>);

impl SniffHandle {
    /// Whether the next request on this connection was framed ambiguously.
    pub fn next_request(&self) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|mut q| q.pop_front())
            .unwrap_or(false)
    }
}

pub struct Sniffed<S> {
    inner: S,
    phase: Phase,
    verdicts: SniffHandle,
}

impl<S> Sniffed<S> {
    pub fn new(inner: S) -> (Self, SniffHandle) {
        let verdicts = SniffHandle::default();
        (
            Sniffed {
                inner,
                phase: Phase::Head(Vec::new()),
                verdicts: verdicts.clone(),
            },
            verdicts,
        )
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let phase = std::mem::replace(&mut self.phase, Phase::Off);
            self.phase = match phase {
                Phase::Off => return,
                Phase::Head(mut buf) => {
                    let take = data.len().min(MAX_HEAD + 4 - buf.len().min(MAX_HEAD + 4));
                    let start = buf.len().saturating_sub(3);
                    buf.extend_from_slice(&data[..take]);
                    match find(&buf[start..], b"\r\n\r\n").map(|i| start + i + 4) {
                        Some(end) => {
                            let consumed = end - (buf.len() - take);
                            data = &data[consumed..];
                            self.judge(&buf[..end])
                        }
                        None if buf.len() > MAX_HEAD => Phase::Off,
                        None => {
                            data = &[];
                            Phase::Head(buf)
                        }
                    }
                }
                Phase::Fixed(n) => {
                    let k = (data.len() as u64).min(n);
                    data = &data[k as usize..];
                    if n == k {
                        Phase::Head(Vec::new())
                    } else {
                        Phase::Fixed(n - k)
                    }
                }
                Phase::ChunkSize(mut line) => match data.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        line.extend_from_slice(&data[..i]);
                        data = &data[i + 1..];
                        let text = String::from_utf8_lossy(&line);
                        let hex = text.split(';').next().unwrap_or("").trim();
                        match u64::from_str_radix(hex, 16) {
                            Ok(0) => Phase::Trailers(Vec::new()),
                            Ok(n) => Phase::ChunkData(n),
                            Err(_) => Phase::Off,
                        }
                    }
                    None if line.len() > 1024 => Phase::Off,
                    None => {
                        line.extend_from_slice(data);
                        data = &[];
                        Phase::ChunkSize(line)
                    }
                },
                Phase::ChunkData(n) => {
                    let k = (data.len() as u64).min(n);
                    data = &data[k as usize..];
                    if n == k {
                        Phase::ChunkCrlf(2)
                    } else {
                        Phase::ChunkData(n - k)
                    }
                }
                Phase::ChunkCrlf(left) => {
                    data = &data[1..];
                    if left == 1 {
                        Phase::ChunkSize(Vec::new())
                    } else {
                        Phase::ChunkCrlf(left - 1)
                    }
                }
                Phase::Trailers(mut line) => match data.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        line.extend_from_slice(&data[..i]);
                        data = &data[i + 1..];
                        if line.iter().all(|&b| b == b'\r') {
                            Phase::Head(Vec::new())
                        } else {
                            Phase::Trailers(Vec::new())
                        }
                    }
                    None => {
                        line.extend_from_slice(data);
                        data = &[];
                        Phase::Trailers(line)
                    }
                },
            };
        }
    }

    /// Judges one request head and returns how its body is framed.
    fn judge(&mut self, head: &[u8]) -> Phase {
        if head.starts_with(b"PRI * HTTP/2.0") {
            return Phase::Off;
        }
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        lines.next();
        let (mut cl, mut te_chunked, mut te, mut folded) = (Vec::new(), false, false, false);
        for line in lines.take_while(|l| !l.is_empty()) {
            if line.starts_with([' ', '\t']) {
                folded = true;
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                cl.push(value.trim().to_owned());
            } else if name == "transfer-encoding" {
                te = true;
                te_chunked = value.trim().to_ascii_lowercase().ends_with("chunked");
            }
        }
        let suspect = folded || (te && !cl.is_empty()) || cl.len() > 1;
        if let Ok(mut q) = self.verdicts.0.lock() {
            q.push_back(suspect);
        }
        if te_chunked {
            Phase::ChunkSize(Vec::new())
        } else if te {
            Phase::Off
        } else {
            match cl.first().map(|v| v.parse::<u64>()) {
                Some(Ok(0)) | None => Phase::Head(Vec::new()),
                Some(Ok(n)) => Phase::Fixed(n),
                Some(Err(_)) => Phase::Off,
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniffed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let fresh = buf.filled()[before..].to_vec();
            self.feed(&fresh);
        }
        r
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
mod tests {
    use super::*;

    fn verdicts(chunks: &[&[u8]]) -> Vec<bool> {
        let (mut s, h) = Sniffed::new(());
        for c in chunks {
            s.feed(c);
        }
        let mut out = Vec::new();
        while let Ok(mut q) = h.0.lock() {
            match q.pop_front() {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    #[test]
    fn flags_ambiguous_and_follows_bodies() {
        let clean = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        let chunked =
            b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        let both =
            b"POST /c HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let dup = b"POST /d HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi";
        let all = [&clean[..], chunked, both, dup, clean].concat();
        assert_eq!(verdicts(&[&all]), vec![false, false, true, true, false]);
        // Byte by byte gives the same verdicts.
        let bytes: Vec<&[u8]> = all.chunks(1).collect();
        assert_eq!(verdicts(&bytes), vec![false, false, true, true, false]);
    }

    #[test]
    fn http2_preface_turns_it_off() {
        assert!(verdicts(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).is_empty());
    }
}
