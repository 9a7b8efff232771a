//! What bytes really are, by magic number.

/// The kinds of content the decoders tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    /// Other images (GIF, WebP, BMP, TIFF): pixels only, nothing to read.
    OtherImage,
    /// Audio and video containers.
    Audio,
    /// UTF-8 that is mostly printable: read as text.
    Text,
    /// Anything else.
    Binary,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Png => "png",
            Kind::Jpeg => "jpeg",
            Kind::OtherImage => "image",
            Kind::Audio => "audio",
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// Sniffs `bytes`. A declared media type is never consulted: the bytes decide.
pub fn sniff(bytes: &[u8]) -> Kind {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"%PDF-") {
        Kind::Pdf
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Kind::Png
    } else if starts(b"\xff\xd8\xff") {
        Kind::Jpeg
    } else if starts(b"GIF87a")
        || starts(b"GIF89a")
        || starts(b"BM")
        || starts(b"II*\0")
        || starts(b"MM\0*")
        || (starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"))
    {
        Kind::OtherImage
    } else if starts(b"ID3")
        || starts(b"OggS")
        || starts(b"fLaC")
        || (starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE"))
        || bytes.get(4..8) == Some(b"ftyp")
        || (bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0)
    {
        Kind::Audio
    } else if is_text(bytes) {
        Kind::Text
    } else {
        Kind::Binary
    }
}

/// UTF-8 with at least 95 % printable characters (text, whitespace).
pub fn is_text(bytes: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut total = 0usize;
    let mut printable = 0usize;
    for c in s.chars() {
        total += 1;
        if !c.is_control() || matches!(c, '\n' | '\r' | '\t') {
            printable += 1;
        }
    }
    total > 0 && printable * 100 >= total * 95
}
