//! Real documents and images made on the spot, for tests, benches and fuzz seeds: a multi-page
//! PDF (through `lopdf`, the same library that reads it), a PNG with text chunks, a JPEG with a
//! comment and EXIF text. Not used on the request path.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

/// A PDF with one page per text, content streams Flate-compressed or not.
pub fn pdf(pages: &[&str], compress: bool) -> Result<Vec<u8>, lopdf::Error> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids: Vec<Object> = Vec::new();
    for text in pages {
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
                Operation::new("Td", vec![72.into(), 720.into()]),
                Operation::new("Tj", vec![Object::string_literal(*text)]),
                Operation::new("ET", vec![]),
            ],
        };
        let mut stream = Stream::new(dictionary! {}, content.encode()?);
        if compress {
            stream.compress()?;
        }
        let content_id = doc.add_object(stream);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(&out[start..]);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A valid 1×1 grey PNG, with a `tEXt` chunk `keyword: text` when `text` is given, and
/// `pixels` bytes of extra image data (a larger benign image for benches).
pub fn png(text: Option<(&str, &str)>, pixels: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let width = (pixels.max(1) as u32).min(1 << 20);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    if let Some((k, t)) = text {
        let mut data = k.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(t.as_bytes());
        png_chunk(&mut out, b"tEXt", &data);
    }
    // Noise, so the image data stays about as large as `pixels` once compressed.
    let mut raw = vec![0u8];
    let mut x: u32 = 0x2545_f491;
    raw.extend((0..width).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG-framed file with a `COM` segment and an `APP1` EXIF segment holding `text` (either
/// may be empty), then a scan.
pub fn jpeg(comment: &str, exif: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    let mut segment = |marker: u8, data: &[u8]| {
        out.extend_from_slice(&[0xff, marker]);
        out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(data);
    };
    segment(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    if !comment.is_empty() {
        segment(0xfe, comment.as_bytes());
    }
    if !exif.is_empty() {
        let mut data = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x0e\0\x02".to_vec();
        data.extend_from_slice(exif.as_bytes());
        data.push(0);
        segment(0xe1, &data);
    }
    segment(0xda, &[0, 0]);
    out.extend_from_slice(&[0x12, 0x34, 0x56, 0xff, 0xd9]);
    out
}
