#![allow(clippy::unwrap_used, clippy::panic)]

use super::track::{Fed, Options, Stop, Tracker};

const OPTS: Options = Options {
    h2_preface: true,
    connect: false,
    max_headers: 100,
};

/// Feeds `chunks` and returns the verdict codes ("ok" for clean), the bytes handed over and
/// the stop, if any.
fn run(chunks: &[&[u8]]) -> (Vec<&'static str>, usize, Option<Stop>) {
    let mut t = Tracker::new(OPTS);
    let mut v = Vec::new();
    let mut delivered = 0;
    for c in chunks {
        let Fed { deliver, stop } = t.feed(c, &mut v);
        delivered += deliver;
        if stop.is_some() {
            return (codes(v), delivered, stop);
        }
    }
    (codes(v), delivered, None)
}

fn codes(v: Vec<Option<super::Refusal>>) -> Vec<&'static str> {
    v.into_iter().map(|r| r.map_or("ok", |r| r.code)).collect()
}

fn whole_and_bytewise(data: &[u8]) -> (Vec<&'static str>, usize, Option<Stop>) {
    let whole = run(&[data]);
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    let split = run(&bytes);
    assert_eq!(
        (&split.0, split.2),
        (&whole.0, whole.2),
        "byte by byte differs"
    );
    // A malformed head may be noticed a few bytes earlier when it arrives bytewise.
    if whole.2 != Some(Stop::Lost) {
        assert_eq!(split.1, whole.1, "byte by byte hands over other bytes");
    }
    whole
}

const CLEAN: &[u8] = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED: &[u8] =
    b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nT: v\r\n\r\n";

#[test]
fn follows_bodies_across_pipelined_requests() {
    let all = [CLEAN, CHUNKED, CLEAN, b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"].concat();
    assert_eq!(whole_and_bytewise(&all), (vec!["ok"; 4], all.len(), None));
}

#[test]
fn refusal_stops_right_after_the_head() {
    let both =
        b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    let all = [CLEAN, &both[..], b"0\r\n\r\n", CLEAN].concat();
    let (v, delivered, stop) = whole_and_bytewise(&all);
    assert_eq!(v, vec!["ok", "ambiguous_framing"]);
    assert_eq!(delivered, CLEAN.len() + both.len());
    assert_eq!(stop, Some(Stop::Refused));
}

#[test]
fn reported_bypasses_are_refused() {
    let smuggle = "Content-Length: 3\r\nTransfer-Encoding: chunked";
    // A header line ending in a bare LF.
    let bare = format!(
        "POST / HTTP/1.1\nHost: x\n{}\n\n0\r\n\r\n",
        smuggle.replace("\r\n", "\n")
    );
    assert_eq!(
        whole_and_bytewise(bare.as_bytes()).0,
        vec!["ambiguous_framing"]
    );
    // Leading empty lines.
    let lead = format!("\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\n{smuggle}\r\n\r\n0\r\n\r\n");
    assert_eq!(
        whole_and_bytewise(lead.as_bytes()).0,
        vec!["ambiguous_framing"]
    );
    // After a 70,000-byte header: the guard stops there instead of switching itself off.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70_000)
    );
    let (v, _, stop) = run(&[big.as_bytes()]);
    assert_eq!((v, stop), (vec!["unparseable_request"], Some(Stop::Lost)));
    // A bare-LF request whose body holds a fake head: the body is skipped, the next head judged.
    let fake = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n";
    let first = format!(
        "POST / HTTP/1.1\nHost: x\nContent-Length: {}\n\n{fake}",
        fake.len()
    );
    let all = [first.as_bytes(), CLEAN].concat();
    assert_eq!(
        whole_and_bytewise(&all),
        (vec!["ok", "ok"], all.len(), None)
    );
}

#[test]
fn chunked_syntax_hyper_rejects_stops_the_stream() {
    let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for body in [
        "10000000000000000\r\n", // size overflow
        "5\nhello\r\n0\r\n\r\n", // bare LF after the size
        "5;a\nb\r\nhello\r\n",   // LF inside an extension
        "5\r\nhelloXX0\r\n\r\n", // data longer than its size
        "-5\r\n",                // no hex digit
        "5 5\r\n",               // digits after whitespace
    ] {
        let all = format!("{head}{body}");
        let (v, delivered, stop) = whole_and_bytewise(all.as_bytes());
        assert_eq!((v, stop), (vec!["ok"], Some(Stop::Lost)), "{body:?}");
        assert!(delivered <= all.len(), "{body:?}");
    }
}

#[test]
fn http2_preface_only_whole_and_first() {
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert_eq!(
        whole_and_bytewise(preface),
        (vec![], preface.len(), Some(Stop::Http2))
    );
    let after = [CLEAN, &preface[..]].concat();
    assert_eq!(whole_and_bytewise(&after).2, Some(Stop::Lost));
}

#[test]
fn connect_waits_for_its_answer() {
    let mut t = Tracker::new(Options {
        connect: true,
        ..OPTS
    });
    let mut v = Vec::new();
    let head = b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n";
    let all = [&head[..], b"\x16\x03\x01tls"].concat();
    let fed = t.feed(&all, &mut v);
    assert_eq!((fed.deliver, fed.stop), (head.len(), Some(Stop::Connect)));
    assert_eq!(v, vec![None]);
}

mod pipelines {
    use super::*;
    use proptest::prelude::*;

    /// One well-framed request: by length or chunked (random chunk sizes and extensions).
    fn request() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(any::<u8>(), 0..300),
            any::<bool>(),
            proptest::collection::vec(1usize..40, 1..6),
            any::<bool>(),
        )
            .prop_map(|(body, chunked, sizes, bare_lf)| {
                let eol = if bare_lf { "\n" } else { "\r\n" };
                if !chunked {
                    let head = format!(
                        "POST /v1/x HTTP/1.1{eol}Host: h{eol}Content-Length: {}{eol}{eol}",
                        body.len()
                    );
                    return [head.as_bytes(), &body].concat();
                }
                let mut out = format!(
                    "POST /v1/x HTTP/1.1{eol}Host: h{eol}Transfer-Encoding: chunked{eol}{eol}"
                )
                .into_bytes();
                let mut rest = &body[..];
                for (i, s) in sizes.iter().cycle().enumerate() {
                    if rest.is_empty() {
                        break;
                    }
                    let k = (*s).min(rest.len());
                    let ext = if i % 2 == 0 { ";e=v" } else { "" };
                    out.extend_from_slice(format!("{k:X}{ext}\r\n").as_bytes());
                    out.extend_from_slice(&rest[..k]);
                    out.extend_from_slice(b"\r\n");
                    rest = &rest[k..];
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            })
    }

    proptest! {
        /// Any pipeline of well-framed requests, cut anywhere, is followed to the byte: one clean
        /// verdict per request, everything handed over, whatever the request bodies contain.
        #[test]
        fn pipelines_are_followed_whatever_the_cuts(
            reqs in proptest::collection::vec(request(), 1..5),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let all = reqs.concat();
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(all.len() + 1)).collect();
            at.push(0);
            at.push(all.len());
            at.sort_unstable();
            let chunks: Vec<&[u8]> = at.windows(2).map(|w| &all[w[0]..w[1]]).collect();
            let (v, delivered, stop) = run(&chunks);
            prop_assert_eq!(stop, None);
            prop_assert_eq!(delivered, all.len());
            prop_assert_eq!(v, vec!["ok"; reqs.len()]);
        }
    }
}
