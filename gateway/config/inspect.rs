//! `[inspect]`: decoding limits and the class of content the gateway cannot read.
//!
//! ```toml
//! [inspect]
//! opaque = "confidential"     # class of an image's pixels, an unreadable PDF, audio, ...
//! max_decoded = "64MiB"       # decoded bytes per request; past it a part is opaque
//! max_decode_depth = 3        # base64 inside a PDF inside base64
//! ```

use super::error::Collector;
use serde::Deserialize;
use sovgate_core::decode::DecodeOptions;
use sovgate_core::types::Class;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InspectFile {
    pub opaque: Option<Spanned<String>>,
    pub max_decoded: Option<Spanned<toml::Value>>,
    pub max_decode_depth: Option<Spanned<u8>>,
}

/// Builds the decode options, reporting bad values at their position.
pub(super) fn build(file: &InspectFile, c: &mut Collector<'_>) -> DecodeOptions {
    let mut opts = DecodeOptions::default();
    if let Some(v) = &file.opaque {
        match Class::parse(v.get_ref()) {
            Some(class) => opts.opaque = class,
            None => c.at(
                v.span().start,
                format!("`{}` is not a class", v.get_ref()),
                Some("one of \"public\", \"internal\", \"confidential\", \"privileged\""),
            ),
        }
    }
    if let Some(v) = &file.max_decoded {
        match super::build::parse_size(v.get_ref()) {
            Some(n) if n > 0 => opts.max_decoded = n,
            _ => c.at(
                v.span().start,
                "max_decoded must be a positive size",
                Some("a number of bytes, or a string like \"64MiB\""),
            ),
        }
    }
    if let Some(v) = &file.max_decode_depth {
        match *v.get_ref() {
            1..=8 => opts.max_depth = *v.get_ref(),
            _ => c.at(
                v.span().start,
                "max_decode_depth must be between 1 and 8",
                Some("3 reads base64 inside a PDF inside base64"),
            ),
        }
    }
    opts
}
