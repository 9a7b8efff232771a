//! Reading and decoding request bodies, bounded.
//!
//! A body is read whole before anything is decided (the route depends on what is inside), so
//! everything here is bounded: the bytes on the wire, and the bytes after decoding, both by
//! `limits.max_body`, plus a decompression-ratio cap so a small zip bomb cannot make the gateway
//! allocate `max_body` for every request. An encoding the gateway cannot decode is refused: an
//! opaque body cannot be inspected, and nothing uninspected leaves.

use crate::error::GatewayError;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::io::Read;

/// Reads the whole body, refusing anything over `max` bytes on the wire.
pub async fn read_limited(body: Incoming, max: usize) -> Result<Bytes, GatewayError> {
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(GatewayError::too_large(max)),
        Err(e) => Err(GatewayError::bad_request(
            "body_read_failed",
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// Smallest output the ratio cap allows, so tiny compressed bodies are never refused for ratio.
const RATIO_FLOOR: usize = 1 << 20;

/// Decodes `Content-Encoding` (a comma-separated list, applied in order, so decoded in reverse).
pub fn decode(
    encoding: Option<&str>,
    body: Bytes,
    max: usize,
    ratio: u32,
) -> Result<Bytes, GatewayError> {
    let Some(enc) = encoding.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(body);
    };
    let cap = max.min(RATIO_FLOOR.max(body.len().saturating_mul(ratio as usize)));
    let mut data = body;
    for coding in enc.rsplit(',').map(|c| c.trim().to_ascii_lowercase()) {
        data = match coding.as_str() {
            "identity" => data,
            "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(&data[..]), cap, max, &coding)?,
            "deflate" => match read_capped(flate2::read::ZlibDecoder::new(&data[..]), cap, max, &coding) {
                Ok(d) => d,
                // Some clients send raw DEFLATE under this name.
                Err(_) => read_capped(flate2::read::DeflateDecoder::new(&data[..]), cap, max, &coding)?,
            },
            "br" => read_capped(brotli::Decompressor::new(&data[..], 8192), cap, max, &coding)?,
            "zstd" => {
                let dec = zstd::stream::read::Decoder::new(&data[..]).map_err(|e| undecodable(&coding, &e))?;
                read_capped(dec, cap, max, &coding)?
            }
            other => {
                return Err(GatewayError::unsupported_media(format!(
                    "Content-Encoding `{other}` cannot be decoded for inspection; use gzip, deflate, br or zstd"
                )))
            }
        };
    }
    Ok(data)
}

fn read_capped(r: impl Read, cap: usize, max: usize, coding: &str) -> Result<Bytes, GatewayError> {
    let mut out = Vec::new();
    let n = r
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| undecodable(coding, &e))?;
    if n > cap {
        return Err(if cap >= max {
            GatewayError::too_large(max)
        } else {
            GatewayError::too_large(cap).with_code("decompression_ratio")
        });
    }
    Ok(Bytes::from(out))
}

fn undecodable(coding: &str, e: &dyn std::fmt::Display) -> GatewayError {
    GatewayError::bad_request(
        "undecodable_body",
        format!("the body is not valid {coding}: {e}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        Bytes::from(e.finish().unwrap())
    }

    #[test]
    fn decodes_each_encoding() {
        let plain = br#"{"messages":[{"role":"user","content":"hello"}]}"#.repeat(20);
        assert_eq!(
            decode(Some("gzip"), gzip(&plain), 1 << 20, 100).unwrap(),
            plain
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        assert_eq!(
            decode(
                Some("deflate"),
                Bytes::from(z.finish().unwrap()),
                1 << 20,
                100
            )
            .unwrap(),
            plain
        );
        let mut br = Vec::new();
        brotli::BrotliCompress(&mut &plain[..], &mut br, &Default::default()).unwrap();
        assert_eq!(
            decode(Some("br"), Bytes::from(br), 1 << 20, 100).unwrap(),
            plain
        );
        let zs = zstd::encode_all(&plain[..], 3).unwrap();
        assert_eq!(
            decode(Some("zstd"), Bytes::from(zs), 1 << 20, 100).unwrap(),
            plain
        );
        assert_eq!(
            decode(Some("identity"), Bytes::from(plain.clone()), 1 << 20, 100).unwrap(),
            plain
        );
        let twice = {
            let inner = gzip(&plain);
            let zs = zstd::encode_all(&inner[..], 3).unwrap();
            Bytes::from(zs)
        };
        assert_eq!(
            decode(Some("gzip, zstd"), twice, 1 << 20, 100).unwrap(),
            plain
        );
    }

    #[test]
    fn refuses_unknown_garbage_and_bombs() {
        assert_eq!(
            decode(Some("compress"), Bytes::from_static(b"x"), 100, 10)
                .unwrap_err()
                .code(),
            "unsupported_encoding"
        );
        assert_eq!(
            decode(Some("gzip"), Bytes::from_static(b"not gzip"), 100, 10)
                .unwrap_err()
                .code(),
            "undecodable_body"
        );
        let bomb = gzip(&vec![b'a'; 8 << 20]);
        let e = decode(Some("gzip"), bomb.clone(), 32 << 20, 100).unwrap_err();
        assert_eq!(e.status().as_u16(), 413);
        let e = decode(Some("gzip"), bomb, 4 << 20, 100_000).unwrap_err();
        assert_eq!(e.code(), "body_too_large");
    }
}
