//! The corpus: each case is a raw byte stream ending in a pipelined `Connection: close`
//! follow-up, and what must happen to it on every entry point.

use super::*;

/// What a case must produce.
#[derive(Debug, Clone, Copy)]
pub(super) enum Want {
    /// Exactly these statuses (the follow-up's last), and this many chat bodies forwarded.
    Served(&'static [u16], usize),
    /// These statuses from requests before the refused one, then the refusal with this status
    /// and `x-sovgate-error` code; nothing after it answered; the connection closed.
    Refused(&'static [u16], u16, &'static str, usize),
    /// A head hyper itself refuses before any handler runs (its own bare 400 with
    /// `connection: close`): the guard's verdict is never needed. Nothing after it answered.
    HyperRefuses(&'static [u16], usize),
    /// A stream hyper itself cannot parse: after `prior`, at most one 400/431 answer (hyper's own),
    /// or a plain close; nothing after it answered.
    Unparseable(&'static [u16], usize),
}

pub(super) struct Case {
    pub name: &'static str,
    pub raw: String,
    pub want: Want,
    /// CONNECT cases only make sense on origin-form listeners.
    pub origin_only: bool,
}

/// How requests are written on an entry point.
pub(super) struct Shape {
    pub chat: &'static str,
    pub models: &'static str,
    pub host: &'static str,
}

pub(super) fn shape(entry: Entry) -> Shape {
    match entry {
        Entry::Reverse | Entry::ReverseTls => Shape {
            chat: "/v1/chat/completions",
            models: "/v1/models",
            host: "localhost",
        },
        Entry::Tunnel | Entry::Transparent => Shape {
            chat: "/v1/chat/completions",
            models: "/v1/models",
            host: "api.openai.com",
        },
        Entry::Absolute => Shape {
            chat: "http://api.openai.com/v1/chat/completions",
            models: "http://api.openai.com/v1/models",
            host: "api.openai.com",
        },
    }
}

pub fn body() -> String {
    chat("framing corpus")
}

pub(super) fn cases(s: &Shape) -> Vec<Case> {
    let (t, h, b) = (s.chat, s.host, body());
    let l = b.len();
    let x = format!("{l:x}");
    let ct = "Content-Type: application/json";
    let smuggled_body = chat("SMUGGLED");
    let sm = format!(
        "POST {t} HTTP/1.1\r\nHost: {h}\r\n{ct}\r\nContent-Length: {}\r\n\r\n{smuggled_body}",
        smuggled_body.len()
    );
    let sx = format!("{:x}", sm.len());
    let clean = format!("POST {t} HTTP/1.1\r\nHost: {h}\r\n{ct}\r\nContent-Length: {l}\r\n\r\n{b}");
    let post = |headers: &str, rest: &str| {
        format!("POST {t} HTTP/1.1\r\nHost: {h}\r\n{ct}\r\n{headers}\r\n{rest}")
    };
    let cl_te = |te_line: &str| {
        post(
            &format!("Content-Length: 4\r\n{te_line}\r\n"),
            &format!("0\r\n\r\n{sm}"),
        )
    };
    let te_only = |te_line: &str| {
        post(
            &format!("{te_line}\r\n"),
            &format!("{x}\r\n{b}\r\n0\r\n\r\n"),
        )
    };
    let chunked = |chunks: &str| post("Transfer-Encoding: chunked\r\n", chunks);
    let big = format!(
        "GET {} HTTP/1.1\r\nHost: {h}\r\nX-Big: {}\r\n\r\n",
        s.models,
        "a".repeat(70_000)
    );
    let fake_head = format!("POST {t} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    const AMB: &str = "ambiguous_framing";
    use Want::*;
    let mut v = vec![
        (
            "clean content-length",
            clean.clone(),
            Served(&[200, 200], 1),
        ),
        (
            "clean chunked with an extension",
            chunked(&format!("{x};name=value\r\n{b}\r\n0\r\n\r\n")),
            Served(&[200, 200], 1),
        ),
        (
            "clean chunked in pieces with a trailer",
            chunked(&format!(
                "1\r\n{}\r\n{:x}\r\n{}\r\n0\r\nX-T: 1\r\n\r\n",
                &b[..1],
                l - 1,
                &b[1..]
            )),
            Served(&[200, 200], 1),
        ),
        (
            "clean head with bare LF line ends",
            clean.replace("\r\n", "\n"),
            Served(&[200, 200], 1),
        ),
        (
            "clean after leading empty lines",
            format!("\r\n\r\n\n{clean}"),
            Served(&[200, 200], 1),
        ),
        (
            "CL.TE",
            cl_te("Transfer-Encoding: chunked"),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "TE.CL",
            post(
                "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                &format!("{sx}\r\n{sm}\r\n0\r\n\r\n"),
            ),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "TE.TE xchunked",
            cl_te("Transfer-Encoding: xchunked"),
            HyperRefuses(&[], 0),
        ),
        (
            "TE.TE tab before value",
            cl_te("Transfer-Encoding:\tchunked"),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "TE.TE second TE line",
            cl_te("Transfer-Encoding: chunked\r\nTransfer-encoding: x"),
            HyperRefuses(&[], 0),
        ),
        (
            "TE.TE quoted",
            cl_te("Transfer-Encoding: \"chunked\""),
            HyperRefuses(&[], 0),
        ),
        (
            "TE.TE upper case",
            cl_te("TRANSFER-ENCODING: CHUNKED"),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "TE.TE bare LF before TE",
            cl_te("X-A: 1\nTransfer-Encoding: chunked"),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "TE.TE space before colon",
            cl_te("Transfer-Encoding : chunked"),
            Unparseable(&[], 0),
        ),
        (
            "TE.TE obs-fold",
            cl_te("Transfer-Encoding:\r\n chunked"),
            Unparseable(&[], 0),
        ),
        (
            "TE.TE vertical tab",
            cl_te("Transfer-Encoding: \x0bchunked"),
            Unparseable(&[], 0),
        ),
        (
            "CL.TE with bare LF lines",
            cl_te("Transfer-Encoding: chunked").replacen("\r\n", "\n", 4),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "CL.TE after leading empty lines",
            format!("\r\n\r\n{}", cl_te("Transfer-Encoding: chunked")),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "CL.TE after a 70,000-byte header",
            format!("{big}{}", cl_te("Transfer-Encoding: chunked")),
            Unparseable(&[], 0),
        ),
        (
            "CL.TE after a bare-LF request with a fake head in its body",
            format!(
                "POST {t} HTTP/1.1\nHost: {h}\nContent-Length: {}\n\n{fake_head}{}",
                fake_head.len(),
                cl_te("Transfer-Encoding: chunked")
            ),
            Refused(&[400], 400, AMB, 0),
        ),
        (
            "clean after a bare-LF request with a fake head in its body",
            format!(
                "POST {t} HTTP/1.1\nHost: {h}\nContent-Length: {}\n\n{fake_head}{clean}",
                fake_head.len()
            ),
            Served(&[400, 200, 200], 1),
        ),
        (
            "TE chunked with Content-Length 0",
            post(
                "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "gzip, chunked",
            te_only("Transfer-Encoding: gzip, chunked"),
            Refused(&[], 501, "unsupported_transfer_coding", 0),
        ),
        (
            "chunked, gzip",
            te_only("Transfer-Encoding: chunked, gzip"),
            HyperRefuses(&[], 0),
        ),
        (
            "identity",
            te_only("Transfer-Encoding: identity"),
            HyperRefuses(&[], 0),
        ),
        (
            "chunked twice",
            te_only("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "duplicate equal Content-Length",
            post(
                &format!("Content-Length: {l}\r\nContent-Length: {l}\r\n"),
                &b,
            ),
            Refused(&[], 400, AMB, 0),
        ),
        (
            "duplicate different Content-Length",
            post(&format!("Content-Length: {l}\r\nContent-Length: 4\r\n"), &b),
            HyperRefuses(&[], 0),
        ),
        (
            "Content-Length list",
            post(&format!("Content-Length: {l}, {l}\r\n"), &b),
            HyperRefuses(&[], 0),
        ),
        (
            "Content-Length with a sign",
            post(&format!("Content-Length: +{l}\r\n"), &b),
            HyperRefuses(&[], 0),
        ),
        (
            "missing Host",
            clean.replace(&format!("Host: {h}\r\n"), ""),
            Refused(&[], 400, "missing_host", 0),
        ),
        (
            "two Host headers",
            clean.replace(
                &format!("Host: {h}\r\n"),
                &format!("Host: {h}\r\nHost: evil.example\r\n"),
            ),
            Refused(&[], 400, "repeated_host", 0),
        ),
        (
            "HTTP/1.0 with Transfer-Encoding",
            te_only("Transfer-Encoding: chunked").replacen("HTTP/1.1", "HTTP/1.0", 1),
            HyperRefuses(&[], 0),
        ),
        (
            "chunk-size overflow",
            chunked(&format!("1FFFFFFFFFFFFFFFF\r\n{b}\r\n0\r\n\r\n{sm}")),
            Unparseable(&[], 0),
        ),
        (
            "chunk extension with a bare LF",
            chunked(&format!("{x};a\n{sm}\r\n{b}\r\n0\r\n\r\n")),
            Unparseable(&[], 0),
        ),
        (
            "chunk size with a bare LF",
            chunked(&format!("{x}\n{b}\r\n0\r\n\r\n{sm}")),
            Unparseable(&[], 0),
        ),
        (
            "chunk data longer than its size",
            chunked(&format!("4\r\n{b}\r\n0\r\n\r\n{sm}")),
            Unparseable(&[], 0),
        ),
        (
            "obs-fold in another header",
            clean.replacen("\r\n", "\r\nX-A: a\r\n b\r\n", 1),
            Unparseable(&[], 0),
        ),
        (
            "NUL in a header value",
            clean.replacen("\r\n", "\r\nX-A: a\0b\r\n", 1),
            Unparseable(&[], 0),
        ),
        (
            "pipelined: clean, then CL.TE",
            format!("{clean}{}", cl_te("Transfer-Encoding: chunked")),
            Refused(&[200], 400, AMB, 1),
        ),
        (
            "pipelined: chunked, then duplicate Content-Length",
            format!(
                "{}{}",
                chunked(&format!("{x}\r\n{b}\r\n0\r\n\r\n")),
                post("Content-Length: 4\r\nContent-Length: 4\r\n", "abcd")
            ),
            Refused(&[200], 400, AMB, 1),
        ),
    ];
    let mut out: Vec<Case> = v
        .drain(..)
        .map(|(name, raw, want)| Case {
            name,
            raw,
            want,
            origin_only: false,
        })
        .collect();
    out.push(Case {
        name: "CONNECT on an origin listener",
        raw: "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n".into(),
        want: Want::Refused(&[], 400, "connect_not_here", 0),
        origin_only: true,
    });
    out
}
