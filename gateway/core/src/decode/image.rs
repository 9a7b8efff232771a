//! Text inside images: PNG `tEXt`, `iTXt` and `zTXt` chunks; JPEG `COM` and `APP1` (EXIF, XMP)
//! segments. Pixels are not read (an image is opaque for that part); the metadata is, and when it
//! carries a finding it is removed, which leaves the picture intact.

use flate2::read::ZlibDecoder;
use std::io::Read;
use std::ops::Range;

/// A piece of metadata text and the byte range of the chunk or segment that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub kind: &'static str,
    pub range: Range<usize>,
    pub text: String,
}

const PNG_SIGNATURE: usize = 8;
/// zTXt/iTXt decompression bound per chunk: metadata, not documents.
const MAX_INFLATED: u64 = 1 << 20;

/// PNG text chunks. `None` when the chunk structure is broken.
pub fn png_text(bytes: &[u8]) -> Option<Vec<Meta>> {
    let mut out = Vec::new();
    let mut i = PNG_SIGNATURE;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().ok()?) as usize;
        let kind = &bytes[i + 4..i + 8];
        let data_start = i + 8;
        let end = data_start.checked_add(len)?.checked_add(4)?;
        let data = bytes.get(data_start..data_start + len)?;
        if end > bytes.len() {
            return None;
        }
        let text = match kind {
            b"tEXt" => Some(("tEXt", latin1(data))),
            b"zTXt" => ztxt(data).map(|t| ("zTXt", t)),
            b"iTXt" => itxt(data).map(|t| ("iTXt", t)),
            _ => None,
        };
        if let Some((kind, text)) = text {
            out.push(Meta {
                kind,
                range: i..end,
                text,
            });
        }
        if kind == b"IEND" {
            break;
        }
        i = end;
    }
    Some(out)
}

fn latin1(b: &[u8]) -> String {
    b.iter()
        .map(|&c| if c == 0 { ' ' } else { char::from(c) })
        .collect()
}

fn inflate(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    ZlibDecoder::new(b)
        .take(MAX_INFLATED)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// `keyword\0 method compressed-text`.
fn ztxt(data: &[u8]) -> Option<String> {
    let nul = data.iter().position(|&c| c == 0)?;
    let text = inflate(data.get(nul + 2..)?)?;
    Some(format!("{} {}", latin1(&data[..nul]), latin1(&text)))
}

/// `keyword\0 flag method language\0 translated\0 text`.
fn itxt(data: &[u8]) -> Option<String> {
    let nul = data.iter().position(|&c| c == 0)?;
    let flag = *data.get(nul + 1)?;
    let rest = data.get(nul + 3..)?;
    let lang_end = rest.iter().position(|&c| c == 0)?;
    let rest = &rest[lang_end + 1..];
    let tr_end = rest.iter().position(|&c| c == 0)?;
    let translated = String::from_utf8_lossy(&rest[..tr_end]);
    let body = &rest[tr_end + 1..];
    let text = if flag == 1 {
        inflate(body)?
    } else {
        body.to_vec()
    };
    Some(format!(
        "{} {} {}",
        latin1(&data[..nul]),
        translated,
        String::from_utf8_lossy(&text)
    ))
}

/// JPEG `COM` and `APP1` segments (EXIF, XMP), read as text (printable runs). `None` when the
/// segment structure is broken.
pub fn jpeg_text(bytes: &[u8]) -> Option<Vec<Meta>> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xff {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xff {
            i += 1;
            continue;
        }
        // Start of scan: entropy-coded image data follows; no more metadata segments.
        if marker == 0xda || marker == 0xd9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let end = i.checked_add(2)?.checked_add(len)?;
        let data = bytes.get(i + 4..end)?;
        let kind = match marker {
            0xfe => Some("COM"),
            0xe1 => Some("APP1"),
            _ => None,
        };
        if let Some(kind) = kind {
            out.push(Meta {
                kind,
                range: i..end,
                text: printable(data),
            });
        }
        i = end;
    }
    Some(out)
}

/// The printable runs of binary metadata (EXIF strings sit among binary tags), one per line.
fn printable(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if !c.is_control() || c == '\n' || c == '\t' {
            run.push(c);
        } else {
            if run.trim().len() >= 3 {
                out.push_str(&run);
                out.push('\n');
            }
            run.clear();
        }
    }
    if run.trim().len() >= 3 {
        out.push_str(&run);
    }
    out
}

/// `bytes` without the given chunks or segments.
pub fn without(bytes: &[u8], ranges: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for r in ranges {
        out.extend_from_slice(&bytes[at..r.start]);
        at = r.end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}
