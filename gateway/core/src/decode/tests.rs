#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn base64_forms_and_round_trips() {
    let (bytes, enc) = base64::decode("aGVsbG8gd29ybGQ=").unwrap();
    assert_eq!(bytes, b"hello world");
    assert_eq!(enc.encode(&bytes), "aGVsbG8gd29ybGQ=");
    let p = base64::data_url("data:text/plain;base64,aGVsbG8=").unwrap();
    assert_eq!(p.range.start, 23);
    assert_eq!(p.bytes, b"hello");
    assert!(base64::data_url("data:text/plain,hello").is_none());
    let url_safe = base64::decode("-_-_").unwrap();
    assert!(url_safe.1.url_safe && !url_safe.1.padded);
}

#[test]
fn runs_in_prose_are_found_and_words_are_not() {
    let secret = "SSN 123-45-6789 for Daniel Reyes, keep it quiet please";
    let (enc, _) = (
        base64::Encoding {
            url_safe: false,
            padded: true,
        }
        .encode(secret.as_bytes()),
        (),
    );
    let text = format!(
        "Please decode {enc} and summarize. Pneumonoultramicroscopicsilicovolcanoconiosis."
    );
    let runs = base64::runs(&text);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].bytes, secret.as_bytes());
    assert_eq!(&text[runs[0].range.clone()], enc);
}

#[test]
fn sniffing_trusts_bytes_not_declarations() {
    assert_eq!(sniff::sniff(b"%PDF-1.5 ..."), sniff::Kind::Pdf);
    assert_eq!(sniff::sniff(&fixtures::png(None, 1)), sniff::Kind::Png);
    assert_eq!(sniff::sniff(&fixtures::jpeg("x", "")), sniff::Kind::Jpeg);
    assert_eq!(sniff::sniff(b"just some text\n"), sniff::Kind::Text);
    assert_eq!(sniff::sniff(&[0u8, 1, 2, 3, 200, 201]), sniff::Kind::Binary);
}

#[test]
fn pdf_pages_are_read_compressed_or_not() {
    for compress in [false, true] {
        let pdf = fixtures::pdf(&["first page", "SSN 123-45-6789"], compress).unwrap();
        let pages = pdf::page_texts(&pdf, 1 << 20).unwrap();
        assert_eq!(pages.len(), 2);
        assert!(pages[1].1.contains("123-45-6789"), "{pages:?}");
    }
    assert_eq!(
        pdf::page_texts(b"%PDF-1.4 garbage", 1 << 20),
        Err("pdf-unreadable")
    );
}

#[test]
fn image_metadata_is_read_and_removed() {
    let png = fixtures::png(Some(("Comment", "SSN 123-45-6789")), 4);
    let metas = image::png_text(&png).unwrap();
    assert_eq!(metas.len(), 1);
    assert!(metas[0].text.contains("123-45-6789"));
    let stripped = image::without(&png, &[metas[0].range.clone()]);
    assert_eq!(image::png_text(&stripped).unwrap(), vec![]);
    assert_eq!(
        stripped,
        fixtures::png(None, 4),
        "the image itself is untouched"
    );
    let jpeg = fixtures::jpeg("call 123-45-6789", "Artist jane@example.com");
    let metas = image::jpeg_text(&jpeg).unwrap();
    assert_eq!(metas.len(), 2);
    assert!(metas[1].text.contains("jane@example.com"), "{metas:?}");
}

#[test]
fn the_view_decodes_entities_percent_and_tags() {
    let text = "mail jane&#64;example.com or jane%40example.com &amp; more";
    let v = view::view(text).unwrap();
    assert_eq!(
        v.as_str(),
        "mail jane@example.com or jane@example.com & more"
    );
    let at = v.as_str().find("jane@example.com").unwrap();
    assert_eq!(&text[v.original_range(at..at + 16)], "jane&#64;example.com");
    let hidden: String = "SSN"
        .chars()
        .map(|c| char::from_u32(0xE0000 + u32::from(c)).unwrap())
        .collect();
    let tagged = format!("hello{hidden}!");
    let v = view::view(&tagged).unwrap();
    assert_eq!(v.as_str(), "helloSSN!");
    assert_eq!(view::tag_runs(&tagged), vec![5..5 + hidden.len()]);
    assert!(view::view("nothing to decode here").is_none());
    assert!(view::view("100% sure & done").is_none());
}

#[test]
fn fuzz_corpus_replays_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/decode");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        fuzzing::fuzz_check_decoders(&std::fs::read(entry.path()).unwrap());
        n += 1;
    }
    assert!(n >= 6, "the decode corpus shrank to {n} files");
}

/// Writes the decode fuzz seeds (run by hand with `--ignored` when the fixtures change).
#[test]
#[ignore = "regenerates fuzz/corpus/decode; not a check"]
fn write_decode_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/decode");
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "pdf-plain.pdf",
            fixtures::pdf(&["page one", "SSN 123-45-6789"], false).unwrap(),
        ),
        (
            "pdf-flate.pdf",
            fixtures::pdf(&["SSN 123-45-6789"], true).unwrap(),
        ),
        (
            "png-text.png",
            fixtures::png(Some(("Comment", "jane@example.com")), 8),
        ),
        (
            "jpeg-com-exif.jpg",
            fixtures::jpeg("note 123-45-6789", "Artist jane@example.com"),
        ),
        (
            "text-runs.txt",
            b"see U1NOIDEyMy00NS02Nzg5IGZvciBEYW5pZWwgUmV5ZXMsIGtlZXAgaXQ= ok".to_vec(),
        ),
        (
            "data-url.txt",
            b"data:text/plain;base64,U1NOIDEyMy00NS02Nzg5".to_vec(),
        ),
        (
            "entities.txt",
            "jane&#64;example.com %4a%61ne &amp;&lt; \u{E0053}\u{E0053}"
                .as_bytes()
                .to_vec(),
        ),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
