//! PDF text through `lopdf` (a maintained PDF library: content streams, Flate-compressed or
//! not, fonts' text operators). A PDF that does not load, is encrypted, or has no readable text
//! is opaque: the caller classifies it instead of guessing.

/// The text of each page (page numbers from 1), or why the PDF is opaque.
pub fn page_texts(
    bytes: &[u8],
    max_decompressed: usize,
) -> Result<Vec<(u32, String)>, &'static str> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|_| "pdf-unreadable")?;
    if doc.is_encrypted() {
        return Err("pdf-encrypted");
    }
    let mut out = Vec::new();
    let mut budget = max_decompressed;
    for page in doc.get_pages().keys().copied() {
        let text = doc
            .extract_text_with_limit(&[page], budget.max(1))
            .map_err(|_| "pdf-unreadable")?;
        budget = budget.saturating_sub(text.len());
        out.push((page, text));
    }
    non_empty(out)
}

fn non_empty(out: Vec<(u32, String)>) -> Result<Vec<(u32, String)>, &'static str> {
    if out.iter().all(|(_, t)| t.trim().is_empty()) {
        // Scanned pages (images) or text drawn without fonts: nothing the rules can read.
        return Err("pdf-no-text");
    }
    Ok(out)
}
