//! HTTP/2 on TLS listeners: after ALPN `h2` the connection is HTTP/2 only, so an invalid
//! preface ends in a GOAWAY(PROTOCOL_ERROR) or a plain close, never an HTTP/1.1 answer
//! (h2spec 3.5/2).

use super::*;

/// The frames in `buf` as (type, payload); panics on a partial frame header.
fn frames(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 9 {
        let len = usize::from(buf[0]) << 16 | usize::from(buf[1]) << 8 | usize::from(buf[2]);
        let end = (9 + len).min(buf.len());
        out.push((buf[3], buf[9..end].to_vec()));
        buf = &buf[end..];
    }
    out
}

async fn open_h2(gw: &Gateways, entry: Entry) -> Conn {
    let h2: &[&[u8]] = &[b"h2"];
    match entry {
        Entry::ReverseTls => {
            let tcp = TcpStream::connect(gw.tls.gw.reverse.unwrap())
                .await
                .unwrap();
            tls(tcp, "localhost", client_config(&gw.tls_ca, h2)).await
        }
        Entry::Tunnel => {
            let (tcp, head) = connect(gw.icpt.forward(), "api.openai.com:443", "").await;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            tls(tcp, "api.openai.com", client_config(&gw.icpt.ca_pem, h2)).await
        }
        _ => {
            let tcp = TcpStream::connect(gw.icpt.h.gw.transparent.unwrap())
                .await
                .unwrap();
            tls(tcp, "api.openai.com", client_config(&gw.icpt.ca_pem, h2)).await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_preface_after_alpn_h2_is_a_goaway_or_a_close() {
    let gw = Gateways::start().await;
    let invalid: [&[u8]; 3] = [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n",
    ];
    for entry in [Entry::ReverseTls, Entry::Tunnel, Entry::Transparent] {
        for bytes in invalid {
            let a = exchange(open_h2(&gw, entry).await, bytes, Duration::from_secs(5)).await;
            let what = format!(
                "{entry:?} {:?}: {:?}",
                String::from_utf8_lossy(bytes),
                a.raw
            );
            assert!(a.closed, "{what}");
            assert!(!a.raw.contains("HTTP/1.1"), "{what}");
            for (kind, payload) in frames(&a.bytes) {
                match kind {
                    0x4 => {} // the server's SETTINGS, sent before it reads the preface
                    0x7 => assert_eq!(&payload[4..8], &[0, 0, 0, 1], "PROTOCOL_ERROR: {what}"),
                    other => panic!("frame type {other}: {what}"),
                }
            }
        }
    }
    assert_eq!(
        gw.received(Entry::ReverseTls).len() + gw.received(Entry::Tunnel).len(),
        0
    );
}
