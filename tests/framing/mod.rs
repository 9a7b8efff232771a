//! Request framing on every HTTP/1.1 entry point: a corpus of hand-made byte streams (CL.TE,
//! TE.CL, TE.TE obfuscations, bare LF, leading empty lines, oversized heads, chunk syntax,
//! missing and repeated Host, pipelined follow-ups) written raw to the reverse listener, the TLS
//! reverse listener, an intercepted CONNECT tunnel, the transparent listener and absolute-form
//! requests on the forward proxy. Each case asserts the statuses the client got, whether the
//! connection closed, and exactly which bodies the recording upstreams received.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus;
mod h2;

use crate::intercept::{client_config, connect, Icpt};
use crate::support::*;
use corpus::{body, cases, shape, Want};
use rustls::pki_types::ServerName;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}
pub type Conn = Pin<Box<dyn Io>>;

/// An HTTP/1.1 entry point and how a raw client reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Reverse,
    ReverseTls,
    Tunnel,
    Transparent,
    Absolute,
}

/// The gateways a corpus run needs: one with the interception listeners, one serving TLS.
pub struct Gateways {
    pub icpt: Icpt,
    pub tls: Harness,
    tls_ca: String,
}

impl Gateways {
    pub async fn start() -> Gateways {
        let icpt = Icpt::start("").await;
        let p = crate::tls::pki();
        std::fs::write(icpt.pki.path().join("cert.pem"), &p.leaf_pem).unwrap();
        std::fs::write(icpt.pki.path().join("key.pem"), &p.leaf_key).unwrap();
        let config = CONFIG.replace(
            "[policy]",
            &format!(
                "[tls]\nserver_cert = \"{0}/cert.pem\"\nserver_key = \"{0}/key.pem\"\n\n[policy]",
                icpt.pki.path().display()
            ),
        );
        let tls = Harness::with_config(&config).await;
        Gateways {
            icpt,
            tls,
            tls_ca: p.ca_pem,
        }
    }

    /// The harness whose stubs record what `entry` forwards.
    pub fn harness(&self, entry: Entry) -> &Harness {
        match entry {
            Entry::ReverseTls => &self.tls,
            _ => &self.icpt.h,
        }
    }

    /// A fresh connection to `entry`, speaking HTTP/1.1.
    pub async fn open(&self, entry: Entry) -> Conn {
        let h1: &[&[u8]] = &[b"http/1.1"];
        match entry {
            Entry::Reverse => Box::pin(
                TcpStream::connect(self.icpt.h.gw.reverse.unwrap())
                    .await
                    .unwrap(),
            ),
            Entry::Absolute => Box::pin(TcpStream::connect(self.icpt.forward()).await.unwrap()),
            Entry::ReverseTls => {
                let tcp = TcpStream::connect(self.tls.gw.reverse.unwrap())
                    .await
                    .unwrap();
                tls(tcp, "localhost", client_config(&self.tls_ca, h1)).await
            }
            Entry::Tunnel => {
                let (tcp, head) = connect(self.icpt.forward(), "api.openai.com:443", "").await;
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                tls(tcp, "api.openai.com", client_config(&self.icpt.ca_pem, h1)).await
            }
            Entry::Transparent => {
                let tcp = TcpStream::connect(self.icpt.h.gw.transparent.unwrap())
                    .await
                    .unwrap();
                tls(tcp, "api.openai.com", client_config(&self.icpt.ca_pem, h1)).await
            }
        }
    }

    /// Bodies received by both recording upstreams of `entry` so far.
    pub fn received(&self, entry: Entry) -> Vec<String> {
        let h = self.harness(entry);
        let mut all: Vec<String> = h
            .local
            .requests()
            .iter()
            .map(|r| r.body_str().into_owned())
            .collect();
        all.extend(
            h.external
                .requests()
                .iter()
                .map(|r| r.body_str().into_owned()),
        );
        all
    }
}

async fn tls(tcp: TcpStream, host: &str, cfg: std::sync::Arc<rustls::ClientConfig>) -> Conn {
    let name = ServerName::try_from(host.to_owned()).unwrap();
    Box::pin(
        tokio_rustls::TlsConnector::from(cfg)
            .connect(name, tcp)
            .await
            .unwrap(),
    )
}

/// What came back on a connection: the status of each complete response, in order, and
/// whether the server closed the connection.
#[derive(Debug)]
pub struct Answer {
    pub statuses: Vec<u16>,
    pub closed: bool,
    pub raw: String,
    pub bytes: Vec<u8>,
}

/// Writes `bytes` and reads answers until the server closes or nothing more comes for `quiet`.
pub async fn exchange(mut c: Conn, bytes: &[u8], quiet: Duration) -> Answer {
    // The server may close before reading everything: a failed write is part of the answer.
    let _ = c.write_all(bytes).await;
    let _ = c.flush().await;
    let mut buf = Vec::new();
    let mut closed = false;
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout(quiet, c.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    Answer {
        statuses: statuses(&buf),
        closed,
        raw: String::from_utf8_lossy(&buf).into_owned(),
        bytes: buf,
    }
}

/// The statuses of the complete responses in `buf` (Content-Length or chunked bodies).
fn statuses(mut buf: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = resp.parse(buf) else {
            return out;
        };
        let header = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
        };
        let status = resp.code.unwrap();
        let rest = &buf[n..];
        let body_len = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            match chunked_len(rest) {
                Some(k) => k,
                None => return out,
            }
        } else {
            header("content-length").map_or(0, |v| v.trim().parse().unwrap())
        };
        if rest.len() < body_len {
            return out;
        }
        out.push(status);
        buf = &rest[body_len..];
    }
}

fn chunked_len(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line_end = at + body[at..].windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[at..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // No trailers from the gateway: the final CRLF ends the body.
            return (body.len() >= at + 2).then_some(at + 2);
        }
        at += size + 2;
        if body.len() < at {
            return None;
        }
    }
}

/// Runs every case of the corpus on a fresh connection to `entry`.
async fn run_corpus(entry: Entry) {
    let gw = Gateways::start().await;
    let s = shape(entry);
    let follow_up = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.models, s.host
    );
    let mut failures = Vec::new();
    let cases = cases(&s);
    for case in &cases {
        if case.origin_only && entry == Entry::Absolute {
            continue;
        }
        let before = gw.received(entry).len();
        let conn = gw.open(entry).await;
        let bytes = format!("{}{follow_up}", case.raw);
        let a = exchange(conn, bytes.as_bytes(), Duration::from_secs(5)).await;
        // Give the stubs a moment: a forwarded request is recorded when it arrives.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let received = gw.received(entry).split_off(before);
        let smuggled = received.iter().any(|r| r.contains("SMUGGLED"));
        let forwarded_ok = |n: usize| received.len() == n && received.iter().all(|r| *r == body());
        let ok = !smuggled
            && a.closed
            && match case.want {
                Want::Served(st, n) => a.statuses == st && forwarded_ok(n),
                Want::Refused(prior, status, code, n) => {
                    a.statuses.len() == prior.len() + 1
                        && a.statuses[..prior.len()] == *prior
                        && a.statuses[prior.len()] == status
                        && a.raw.to_ascii_lowercase().contains("connection: close")
                        && a.raw.contains(&format!("x-sovgate-error: {code}"))
                        && forwarded_ok(n)
                }
                Want::HyperRefuses(prior, n) => {
                    a.statuses.len() == prior.len() + 1
                        && a.statuses[..prior.len()] == *prior
                        && a.statuses[prior.len()] == 400
                        && a.raw.to_ascii_lowercase().contains("connection: close")
                        && forwarded_ok(n)
                }
                Want::Unparseable(prior, n) => {
                    let extra = a.statuses.get(prior.len()..).unwrap_or(&[]);
                    a.statuses.starts_with(prior)
                        && extra.len() <= 1
                        && extra.iter().all(|s| matches!(s, 400 | 431))
                        && forwarded_ok(n)
                }
            };
        if !ok {
            failures.push(format!(
                "{entry:?} / {}: want {:?}; got statuses {:?}, closed {}, forwarded {} (smuggled: {smuggled})\n{}",
                case.name,
                case.want,
                a.statuses,
                a.closed,
                received.len(),
                a.raw.chars().take(600).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_on_the_reverse_listener() {
    run_corpus(Entry::Reverse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_on_the_tls_reverse_listener() {
    run_corpus(Entry::ReverseTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_in_an_intercepted_connect_tunnel() {
    run_corpus(Entry::Tunnel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_on_the_transparent_listener() {
    run_corpus(Entry::Transparent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_as_absolute_form_on_the_forward_proxy() {
    run_corpus(Entry::Absolute).await;
}
