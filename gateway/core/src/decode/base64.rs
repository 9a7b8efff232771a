//! Base64 payloads: data URLs, whole strings under payload keys, and runs inside free text.
//!
//! The standard and URL-safe alphabets, padded or not, are accepted (line breaks inside are
//! ignored); [`Encoding`] remembers which was used so an edited payload goes back the same way.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use std::ops::Range;

/// Shortest base64 run inside free text that is decoded (shorter runs are words and ids).
pub const MIN_RUN: usize = 40;

/// Object keys whose string values are payloads in the provider APIs: Anthropic `source.data`,
/// OpenAI `file_data` and `input_audio.data`, Gemini `inlineData.data`, image generation
/// `b64_json`.
pub const PAYLOAD_KEYS: &[&str] = &["data", "file_data", "b64_json", "bytes", "image_bytes"];

/// How a payload was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub url_safe: bool,
    pub padded: bool,
}

impl Encoding {
    fn engine(self) -> GeneralPurpose {
        let alphabet = if self.url_safe {
            &alphabet::URL_SAFE
        } else {
            &alphabet::STANDARD
        };
        GeneralPurpose::new(
            alphabet,
            GeneralPurposeConfig::new()
                .with_encode_padding(self.padded)
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        )
    }

    pub fn encode(self, bytes: &[u8]) -> String {
        self.engine().encode(bytes)
    }
}

/// A payload inside a string: the base64 text at `range` (after a data URL's comma).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub range: Range<usize>,
    pub encoding: Encoding,
    pub bytes: Vec<u8>,
}

/// Decodes base64 text (either alphabet, padding optional, line breaks ignored).
pub fn decode(text: &str) -> Option<(Vec<u8>, Encoding)> {
    // memchr, not `str::contains` with a char set: payloads are megabytes.
    let compact: std::borrow::Cow<'_, str> =
        if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_some() {
            text.chars()
                .filter(|c| !matches!(c, '\n' | '\r'))
                .collect::<String>()
                .into()
        } else {
            text.into()
        };
    let url_safe = memchr::memchr2(b'-', b'_', compact.as_bytes()).is_some();
    let encoding = Encoding {
        url_safe,
        padded: compact.ends_with('='),
    };
    let bytes = encoding.engine().decode(compact.as_bytes()).ok()?;
    Some((bytes, encoding))
}

/// A data URL (`data:<type>;base64,<data>`): the payload.
pub fn data_url(text: &str) -> Option<Payload> {
    let rest = text.strip_prefix("data:")?;
    let comma = rest.find(',')?;
    if !rest[..comma].ends_with(";base64") {
        return None;
    }
    let start = 5 + comma + 1;
    let (bytes, encoding) = decode(&text[start..])?;
    Some(Payload {
        range: start..text.len(),
        encoding,
        bytes,
    })
}

/// A whole string that is base64 (at least 4 characters of the alphabet).
pub fn whole(text: &str) -> Option<Payload> {
    if text.len() < 4 || !all_b64(text.as_bytes()) {
        return None;
    }
    let (bytes, encoding) = decode(text)?;
    Some(Payload {
        range: 0..text.len(),
        encoding,
        bytes,
    })
}

/// Whether every byte is in either alphabet (or a line break), 64 bytes at a time without an
/// early exit inside a block, which the compiler vectorizes.
fn all_b64(b: &[u8]) -> bool {
    b.chunks(64).all(|block| {
        block.iter().fold(true, |ok, &c| {
            ok & (B64[usize::from(c)] | (c == b'\n') | (c == b'\r'))
        })
    })
}

const B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_b64(i as u8);
        i += 1;
    }
    t
};

const fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Runs of [`MIN_RUN`]+ base64 characters inside free text that decode.
///
/// Prose is skipped [`MIN_RUN`] bytes at a time: a run that long must cover the byte at the end
/// of each window, so a window whose last byte is a space or punctuation holds no run start.
pub fn runs(text: &str) -> Vec<Payload> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + MIN_RUN <= b.len() {
        let probe = i + MIN_RUN - 1;
        if !is_b64(b[probe]) {
            i = probe + 1;
            continue;
        }
        let mut start = probe;
        while start > i && is_b64(b[start - 1]) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < b.len() && is_b64(b[end]) {
            end += 1;
        }
        let run = &text[start..end];
        // Long words and numbers are not base64: a payload mixes cases with digits or `+`/`/`.
        if run.len() >= MIN_RUN
            && run
                .bytes()
                .any(|c| c.is_ascii_digit() || c == b'+' || c == b'/')
            && run.bytes().any(|c| c.is_ascii_lowercase())
        {
            if let Some((bytes, encoding)) = decode(run) {
                out.push(Payload {
                    range: start..end,
                    encoding,
                    bytes,
                });
            }
        }
        i = end + 1;
    }
    out
}
