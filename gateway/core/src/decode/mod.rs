//! Decoders in front of matching: what a request carries in encoded or binary form is read
//! before the rules run, so a secret cannot ride past them in base64, a PDF, an image's
//! metadata, HTML entities, percent-encoding or invisible Unicode tag characters.
//!
//! - [`base64`]: data URLs, whole-string payloads under payload keys (`data`, `file_data`, ...),
//!   and base64 runs of 40+ characters inside free text; the alphabet and padding are kept so an
//!   edited payload is re-encoded the way it came.
//! - [`sniff`]: what decoded bytes really are, by magic number (a declared media type is not
//!   trusted: a "image/png" part whose bytes are text is read as text).
//! - [`pdf`]: the text of every page, through `lopdf` (content streams, compressed or not).
//! - [`image`]: PNG `tEXt`/`iTXt`/`zTXt` chunks and JPEG `COM`/`APP1` (EXIF, XMP) segments: read,
//!   and removed when they carry a finding.
//! - [`view`]: a decoded view of a string for matching (HTML entities, percent-encoding, Unicode
//!   tag characters) with a map back to the original bytes, so a rule's action applies to the
//!   original span.
//!
//! Everything is bounded: [`DecodeOptions::max_decoded`] bytes decoded per request and
//! [`DecodeOptions::max_depth`] levels of nesting; past a limit a part is *opaque*, never skipped.
//! Opaque parts (an image's pixels, an unreadable PDF, audio, unknown binary) get the class
//! [`DecodeOptions::opaque`], so policy routes them (local by default).

pub mod base64;
#[doc(hidden)]
pub mod fixtures;
#[doc(hidden)]
pub mod fuzzing;
pub mod image;
pub mod pdf;
pub mod sniff;
pub mod view;

#[cfg(test)]
mod tests;

use crate::types::Class;

/// Limits and the class of unreadable content (`[inspect]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The class an opaque part gets (`[inspect] opaque`, default `confidential`).
    pub opaque: Class,
    /// Total decoded bytes per request (`[inspect] max_decoded`, default 64 MiB).
    pub max_decoded: usize,
    /// Nesting of decoders (`[inspect] max_decode_depth`, default 3: base64 inside a PDF inside
    /// base64).
    pub max_depth: u8,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            opaque: Class::Confidential,
            max_decoded: 64 << 20,
            max_depth: 3,
        }
    }
}
