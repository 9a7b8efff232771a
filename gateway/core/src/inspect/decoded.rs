//! Encoded payloads inside strings: base64 (data URLs, payload keys, runs in text), read by what
//! their bytes are (text, PDF, PNG, JPEG, other), bounded by [`DecodeOptions`].
//!
//! What can be edited exactly is (a text payload is re-encoded after its edits; an image's
//! metadata chunks are removed); what cannot (a PDF page, pixels) is removed as a whole part when
//! a rule acts on it, and `block` refuses through the report as anywhere else. Unreadable parts
//! are *opaque*: recorded with their path and classified [`DecodeOptions::opaque`].
//!
//! [`DecodeOptions`]: crate::decode::DecodeOptions

use super::path::Seg;
use super::strings::Plan;
use super::walk::{PathNode, Walker};
use crate::decode::base64::Payload;
use crate::decode::sniff::{sniff, Kind};
use crate::decode::{image, pdf};

/// How sure the caller is that a string is a payload: data URLs and payload keys are
/// (`Declared`: unreadable bytes are opaque); a base64-looking run in prose is not (`Guessed`:
/// bytes that are neither text nor a known format are left as the text they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Certainty {
    Declared,
    Guessed,
}

impl<'r, 'v> Walker<'r, 'v> {
    /// Inspects payload `p` of string `text`. Returns the string that must replace `text` when
    /// the payload changes (re-encoded edits, metadata removed) or is removed (`""`, with
    /// [`Walker::drop_part`] set so the enclosing content part goes).
    pub(super) fn payload(
        &mut self,
        text: &str,
        p: Payload,
        path: &PathNode<'_>,
        depth: u8,
        certainty: Certainty,
    ) -> Option<String> {
        let node = PathNode {
            parent: Some(path),
            seg: Seg::Decoded("base64"),
        };
        let kind = sniff(&p.bytes);
        if certainty == Certainty::Guessed && matches!(kind, Kind::Binary | Kind::Audio) {
            return None;
        }
        self.decoded = self.decoded.saturating_add(p.bytes.len());
        if self.decoded > self.opts.max_decoded || depth >= self.opts.max_depth {
            self.opaque(&node, "limit");
            return None;
        }
        let rebuilt = |inner: &[u8]| {
            let mut s = String::with_capacity(text.len());
            s.push_str(&text[..p.range.start]);
            s.push_str(&p.encoding.encode(inner));
            s.push_str(&text[p.range.end..]);
            s
        };
        match kind {
            Kind::Text => {
                let inner = String::from_utf8_lossy(&p.bytes).into_owned();
                let plan = self.text_plan(&inner, &node, &[], true, depth + 1);
                let edited = plan.apply(&inner)?;
                Some(rebuilt(edited.as_bytes()))
            }
            Kind::Pdf => self.pdf(&p.bytes, &node, depth),
            Kind::Png | Kind::Jpeg => {
                self.opaque(&node, kind.as_str());
                let metas = match kind {
                    Kind::Png => image::png_text(&p.bytes),
                    _ => image::jpeg_text(&p.bytes),
                };
                let metas = metas?;
                let mut strip = Vec::new();
                for m in metas {
                    let meta = PathNode {
                        parent: Some(&node),
                        seg: Seg::Meta(m.kind),
                    };
                    if self.text_plan(&m.text, &meta, &[], true, depth + 1).edits() {
                        strip.push(m.range);
                    }
                }
                (!strip.is_empty()).then(|| rebuilt(&image::without(&p.bytes, &strip)))
            }
            Kind::OtherImage | Kind::Audio | Kind::Binary => {
                self.opaque(&node, kind.as_str());
                None
            }
        }
    }

    /// A PDF: every page's text is inspected; an acting finding removes the whole part.
    fn pdf(&mut self, bytes: &[u8], node: &PathNode<'_>, depth: u8) -> Option<String> {
        let budget = self.opts.max_decoded.saturating_sub(self.decoded);
        let pages = match pdf::page_texts(bytes, budget) {
            Ok(pages) => pages,
            Err(reason) => {
                self.opaque(node, reason);
                return None;
            }
        };
        let mut remove = false;
        for (n, text) in pages {
            self.decoded = self.decoded.saturating_add(text.len());
            let page = PathNode {
                parent: Some(node),
                seg: Seg::Page(n),
            };
            remove |= self.text_plan(&text, &page, &[], true, depth + 1).edits();
        }
        if remove {
            self.drop_part = true;
            return Some(String::new());
        }
        None
    }

    /// Records an opaque part at `path` (`kind` says what could not be read).
    pub(super) fn opaque(&mut self, path: &PathNode<'_>, kind: &'static str) {
        let p = path.render();
        self.opaque.push(format!("{p} ({kind})"));
    }
}

impl Plan {
    /// Whether the plan changes anything.
    pub(super) fn edits(&self) -> bool {
        match self {
            Plan::Whole(_) => true,
            Plan::Exact(e) => !e.is_empty(),
        }
    }
}
