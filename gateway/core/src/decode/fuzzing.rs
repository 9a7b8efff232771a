//! The decoders' fuzz check, shared by `fuzz/fuzz_targets/decode.rs` and the corpus replay in
//! `cargo test`: every decoder on arbitrary bytes, never a panic, every range in bounds.

use super::{base64, image, pdf, sniff, view};

/// Panics (the fuzzer's failure signal) when a property breaks.
#[allow(clippy::panic)]
pub fn fuzz_check_decoders(data: &[u8]) {
    let _ = sniff::sniff(data);
    let _ = pdf::page_texts(data, 1 << 20);
    for metas in [image::png_text(data), image::jpeg_text(data)]
        .into_iter()
        .flatten()
    {
        for m in metas {
            if m.range.start > m.range.end || m.range.end > data.len() {
                panic!("metadata range {:?} outside {} bytes", m.range, data.len());
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for p in base64::runs(text)
        .into_iter()
        .chain(base64::data_url(text))
        .chain(base64::whole(text))
    {
        if !text.is_char_boundary(p.range.start) || !text.is_char_boundary(p.range.end) {
            panic!("payload range {:?} off a character boundary", p.range);
        }
        // Re-encoding what was decoded must decode to the same bytes.
        let again = p.encoding.encode(&p.bytes);
        match base64::decode(&again) {
            Some((bytes, _)) if bytes == p.bytes => {}
            _ => panic!("re-encoded payload does not round-trip"),
        }
    }
    if let Some(v) = view::view(text) {
        let n = v.as_str().len();
        let r = v.original_range(0..n);
        if r.end > text.len() || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
            panic!("view maps outside the text");
        }
    }
    for r in view::tag_runs(text) {
        if !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
            panic!("tag run off a character boundary");
        }
    }
}
