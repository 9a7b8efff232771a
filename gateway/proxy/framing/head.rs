//! Judging one HTTP/1.1 request head, as parsed by httparse (the parser hyper itself uses, with
//! hyper's server defaults), so the guard and hyper always agree where a head ends.

use super::Refusal;

/// How the body after a head is framed, as hyper will read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    Fixed(u64),
    Chunked,
    /// A CONNECT on the forward listener: what follows depends on the answer.
    Connect,
}

/// The verdict on a parsed head: a refusal, or how its body is framed (`None`: no body).
pub(super) fn judge(
    req: &httparse::Request<'_, '_>,
    connect: bool,
) -> Result<Option<Body>, Refusal> {
    let http11 = req.version == Some(1);
    let (mut hosts, mut cls, mut tes) = (Vec::new(), Vec::new(), Vec::new());
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("host") {
            hosts.push(h.value);
        } else if h.name.eq_ignore_ascii_case("content-length") {
            cls.push(h.value);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            tes.push(h.value);
        }
    }
    match hosts.as_slice() {
        [] if http11 => {
            return Err(Refusal::bad(
                "missing_host",
                "an HTTP/1.1 request must carry exactly one Host header; this one has none",
            ))
        }
        [_, _, ..] => {
            return Err(Refusal::bad(
                "repeated_host",
                "the request carries more than one Host header; send exactly one",
            ))
        }
        [one] if !valid_host(one) => {
            return Err(Refusal::bad(
                "invalid_host",
                "the Host header is not a valid authority",
            ))
        }
        _ => {}
    }
    if !tes.is_empty() && !cls.is_empty() {
        return Err(ambiguous(
            "the request carries both Content-Length and Transfer-Encoding; send exactly one",
        ));
    }
    let is_connect = req.method == Some("CONNECT");
    let body = if !tes.is_empty() {
        if !http11 {
            return Err(Refusal::bad(
                "invalid_transfer_encoding",
                "Transfer-Encoding is not allowed in an HTTP/1.0 request",
            ));
        }
        let codings: Vec<&[u8]> = tes
            .iter()
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim)
            .collect();
        if codings.iter().any(|c| !c.eq_ignore_ascii_case(b"chunked")) {
            return Err(Refusal::not_implemented(
                "unsupported_transfer_coding",
                "the only transfer coding Sovgate accepts is a single `chunked`; send the body chunked or with Content-Length (compression goes in Content-Encoding)",
            ));
        }
        if codings.len() != 1 {
            return Err(ambiguous(
                "the request names `chunked` more than once in Transfer-Encoding; send it once",
            ));
        }
        Some(Body::Chunked)
    } else {
        match cls.as_slice() {
            [] => None,
            [one] => match content_length(one) {
                Some(0) => None,
                Some(n) => Some(Body::Fixed(n)),
                None => {
                    return Err(Refusal::bad(
                        "invalid_content_length",
                        "Content-Length must be one decimal number",
                    ))
                }
            },
            _ => {
                return Err(ambiguous(
                    "the request carries Content-Length more than once; send exactly one",
                ))
            }
        }
    };
    if is_connect {
        if !connect {
            return Err(Refusal::bad(
                "connect_not_here",
                "CONNECT is answered only by the forward listener (HTTPS_PROXY)",
            ));
        }
        if body.is_some() {
            return Err(ambiguous("a CONNECT request carries no body"));
        }
        return Ok(Some(Body::Connect));
    }
    Ok(body)
}

fn ambiguous(message: &'static str) -> Refusal {
    Refusal::bad("ambiguous_framing", message)
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !matches!(b, b' ' | b'\t'));
    let end = v.iter().rposition(|b| !matches!(b, b' ' | b'\t'));
    match (start, end) {
        (Some(s), Some(e)) => &v[s..=e],
        _ => &[],
    }
}

/// One decimal number, nothing else (no sign, no list, no spaces inside): stricter than hyper,
/// which folds `5, 5` into 5.
fn content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// An authority (`host`, `host:port`, `[v6]:port`) or empty, as RFC 9112 allows.
fn valid_host(v: &[u8]) -> bool {
    v.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'['
                    | b']'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn verdict(head: &str, connect: bool) -> Result<Option<Body>, &'static str> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        assert!(req.parse(head.as_bytes()).unwrap().is_complete(), "{head}");
        judge(&req, connect).map_err(|r| r.code)
    }

    #[test]
    fn heads_are_judged() {
        let v = |h: &str| verdict(h, false);
        assert_eq!(v("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Ok(None));
        assert_eq!(v("GET / HTTP/1.0\r\n\r\n"), Ok(None));
        assert_eq!(v("GET / HTTP/1.1\r\n\r\n"), Err("missing_host"));
        assert_eq!(
            v("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
            Err("repeated_host")
        );
        assert_eq!(
            v("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            Err("invalid_host")
        );
        let post = |extra: &str| v(&format!("POST / HTTP/1.1\r\nHost: a\r\n{extra}\r\n"));
        assert_eq!(post("Content-Length: 5\r\n"), Ok(Some(Body::Fixed(5))));
        assert_eq!(post("Content-Length: 0\r\n"), Ok(None));
        assert_eq!(
            post("Transfer-Encoding: chunked\r\n"),
            Ok(Some(Body::Chunked))
        );
        assert_eq!(
            post("Transfer-Encoding: CHUNKED \r\n"),
            Ok(Some(Body::Chunked))
        );
        for bad in ["5, 5", "+5", "-1", "0x5", "5 5", "99999999999999999999", ""] {
            assert_eq!(
                post(&format!("Content-Length: {bad}\r\n")),
                Err("invalid_content_length"),
                "{bad}"
            );
        }
        assert_eq!(
            post("Content-Length: 5\r\nContent-Length: 5\r\n"),
            Err("ambiguous_framing")
        );
        assert_eq!(
            post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
            Err("ambiguous_framing")
        );
        assert_eq!(
            post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            Err("ambiguous_framing")
        );
        for te in [
            "gzip, chunked",
            "chunked, gzip",
            "identity",
            "chunked;q=1",
            "xchunked",
        ] {
            assert_eq!(
                post(&format!("Transfer-Encoding: {te}\r\n")),
                Err("unsupported_transfer_coding"),
                "{te}"
            );
        }
    }

    #[test]
    fn connect_only_where_allowed() {
        let c = "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n";
        assert_eq!(verdict(c, true), Ok(Some(Body::Connect)));
        assert_eq!(verdict(c, false), Err("connect_not_here"));
        let body = "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(verdict(body, true), Err("ambiguous_framing"));
    }
}
