//! Decoders through the gateway: a secret planted in a PDF (compressed and not), a PNG's text
//! chunk, a JPEG's EXIF and comment, a text file declared as an image, base64 in free text,
//! nested encodings, entities, percent-encoding and tag characters. Every case checks what the
//! external stand-in received, decoded all the way down, and a benign twin that must arrive
//! byte-identical.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::bypass::{config, fold, rules_dir};
use crate::support::*;
use serde_json::{json, Value};
use sovgate_core::decode::{base64, fixtures, image, pdf, sniff, view};

const SSN: &str = "536-22-8419";

fn b64(bytes: &[u8]) -> String {
    base64::Encoding {
        url_safe: false,
        padded: true,
    }
    .encode(bytes)
}

/// Every text a body carries, decoding base64 payloads, PDFs and image metadata on the way, folded.
fn everything(bytes: &[u8]) -> String {
    fn payload(bytes: &[u8], out: &mut String, depth: u8) {
        match sniff::sniff(bytes) {
            sniff::Kind::Pdf => {
                for (_, t) in pdf::page_texts(bytes, 1 << 24).unwrap_or_default() {
                    text(&t, out, depth + 1);
                }
            }
            sniff::Kind::Png => image::png_text(bytes)
                .unwrap_or_default()
                .iter()
                .for_each(|m| text(&m.text, out, depth + 1)),
            sniff::Kind::Jpeg => image::jpeg_text(bytes)
                .unwrap_or_default()
                .iter()
                .for_each(|m| text(&m.text, out, depth + 1)),
            _ => text(&String::from_utf8_lossy(bytes), out, depth + 1),
        }
    }
    fn text(t: &str, out: &mut String, depth: u8) {
        out.push_str(t);
        out.push('\n');
        // Entities, percent-escapes and tag characters, as a model would read them.
        if let Some(v) = view::view(t) {
            out.push_str(v.as_str());
            out.push('\n');
        }
        if depth > 4 {
            return;
        }
        let found = base64::data_url(t)
            .into_iter()
            .chain(base64::whole(t))
            .chain(base64::runs(t));
        for p in found {
            payload(&p.bytes, out, depth);
        }
    }
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => text(s, out, 0),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push_str(k);
                walk(x, out);
            }),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(&serde_json::from_slice(bytes).unwrap(), &mut out);
    fold(&out)
}

fn anthropic(block: Value) -> String {
    json!({"model": "claude-3-5-sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": [block, {"type": "text", "text": "summarize"}]}]}).to_string()
}

fn openai_parts(part: Value) -> String {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": "describe"}, part]}]}).to_string()
}

fn text_chat(t: &str) -> String {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": t}]}).to_string()
}

/// (case, API path, dirty body, benign twin)
fn cases() -> Vec<(&'static str, &'static str, String, String)> {
    let pdf_dirty = |c| {
        fixtures::pdf(
            &["Case summary, page one", &format!("Claimant SSN {SSN}")],
            c,
        )
        .unwrap()
    };
    let pdf_clean =
        |c| fixtures::pdf(&["Case summary, page one", "Nothing personal here"], c).unwrap();
    let doc = |bytes: &[u8]| json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(bytes)}});
    let img = |mt: &str, bytes: &[u8]| json!({"type": "image", "source": {"type": "base64", "media_type": mt, "data": b64(bytes)}});
    let nested = |inner: &str| b64(format!("outer layer: {}", b64(inner.as_bytes())).as_bytes());
    let tiny_png = fixtures::png(None, 2);
    vec![
        ("pdf-uncompressed", "/v1/messages", anthropic(doc(&pdf_dirty(false))), anthropic(doc(&pdf_clean(false)))),
        ("pdf-compressed", "/v1/messages", anthropic(doc(&pdf_dirty(true))), anthropic(doc(&pdf_clean(true)))),
        ("pdf-openai-file-data", "/v1/chat/completions",
            openai_parts(json!({"type": "file", "file": {"filename": "case.pdf", "file_data": format!("data:application/pdf;base64,{}", b64(&pdf_dirty(true)))}})),
            openai_parts(json!({"type": "file", "file": {"filename": "case.pdf", "file_data": format!("data:application/pdf;base64,{}", b64(&pdf_clean(true)))}}))),
        ("png-text-chunk", "/v1/messages",
            anthropic(img("image/png", &fixtures::png(Some(("Comment", &format!("SSN {SSN}"))), 16))),
            anthropic(img("image/png", &fixtures::png(Some(("Comment", "a harbour at dusk")), 16)))),
        ("jpeg-exif-and-comment", "/v1/chat/completions",
            openai_parts(json!({"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{}", b64(&fixtures::jpeg(&format!("SSN {SSN}"), "Artist d.reyes@fastmail.example")))}})),
            openai_parts(json!({"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{}", b64(&fixtures::jpeg("a harbour", "Artist unknown")))}}))),
        ("text-declared-as-png", "/v1/messages",
            anthropic(img("image/png", format!("Claimant SSN {SSN}, keep quiet").as_bytes())),
            anthropic(img("image/png", &tiny_png))),
        ("gemini-inline-data-text", "/v1beta/models/gemini-1.5-pro:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "text/plain", "data": b64(format!("SSN {SSN}").as_bytes())}}, {"text": "read it"}]}]}).to_string(),
            json!({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "text/plain", "data": b64(b"a quiet harbour")}}, {"text": "read it"}]}]}).to_string()),
        ("base64-run-in-prose-beside-an-image", "/v1/chat/completions",
            text_chat(&format!("Decode {} and also look at {}", b64(format!("Claimant SSN {SSN} for the file").as_bytes()), b64(&tiny_png))),
            text_chat(&format!("Decode {} and also look at {}", b64(b"Claimant name withheld for the file"), b64(&tiny_png)))),
        ("nested-base64-depth-2", "/v1/chat/completions",
            text_chat(&format!("payload {} end", nested(&format!("Claimant SSN {SSN} inside")))),
            text_chat(&format!("payload {} end", nested("Claimant nothing inside here at all")))),
        ("html-entities", "/v1/chat/completions",
            text_chat("Mail d.reyes&#64;fastmail&#x2e;example today"),
            text_chat("Mail the claimant&#39;s lawyer today")),
        ("percent-encoding", "/v1/chat/completions",
            text_chat("Link mailto:d.reyes%40fastmail.example now"),
            text_chat("Link https://example.com/a%20b now")),
        ("unicode-tag-characters", "/v1/chat/completions",
            text_chat(&format!("Hello{}!", format!("SSN {SSN}").chars().map(|c| char::from_u32(0xE0000 + u32::from(c)).unwrap()).collect::<String>())),
            text_chat("Hello!")),
    ]
}

#[tokio::test]
async fn secrets_in_encoded_and_binary_parts_never_reach_the_external_provider() {
    let rules = rules_dir();
    let local = Harness::with_config(&config(rules.path(), false)).await;
    let external = Harness::with_config(&config(rules.path(), true)).await;
    let markers = [fold(SSN), fold("d.reyes@fastmail.example")];
    for (case, path, dirty, benign) in cases() {
        let before = local.external.calls();
        let (status, _, answer) = local.post(path, dirty.clone()).await;
        assert_eq!(
            local.external.calls(),
            before,
            "{case}: reached the external provider ({status}: {})",
            String::from_utf8_lossy(&answer)
        );

        let before = external.external.calls();
        let (status, _, answer) = external.post(path, dirty).await;
        assert_eq!(status, 200, "{case}: {}", String::from_utf8_lossy(&answer));
        let got = external.external.requests();
        assert_eq!(got.len(), before + 1, "{case}: not forwarded once");
        let seen = everything(&got[before].body);
        for m in &markers {
            assert!(
                !seen.contains(m.as_str()),
                "{case}: the secret reached the external provider: {seen}"
            );
        }

        let (status, _, answer) = external.post(path, benign.clone()).await;
        assert_eq!(
            status,
            200,
            "{case} (benign): {}",
            String::from_utf8_lossy(&answer)
        );
        let got = external.external.requests();
        assert_eq!(
            String::from_utf8_lossy(&got[before + 1].body),
            benign,
            "{case}: benign twin changed"
        );
    }
    // Readable text leaves no trace of itself in the audit log either.
    for line in external.audit_lines() {
        assert!(
            !fold(&line.to_string()).contains(&markers[0]),
            "audit holds matched text: {line}"
        );
    }
}

#[tokio::test]
async fn a_pdf_with_a_finding_is_removed_as_a_part_and_audited() {
    let rules = rules_dir();
    let h = Harness::with_config(&config(rules.path(), true)).await;
    let pdf = fixtures::pdf(&["Case", &format!("SSN {SSN}")], true).unwrap();
    let body = anthropic(
        json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(&pdf)}}),
    );
    let (status, _, _) = h.post("/v1/messages", body).await;
    assert_eq!(status, 200);
    let sent: Value = serde_json::from_slice(&h.external.requests()[0].body).unwrap();
    assert_eq!(
        sent["messages"][0]["content"],
        json!([{"type": "text", "text": "summarize"}])
    );
    let audit = h
        .audit_lines()
        .iter()
        .map(|l| l.to_string())
        .collect::<String>();
    assert!(audit.contains("<base64><pdf:page 2>"), "{audit}");
}

#[tokio::test]
async fn opaque_parts_are_classified_and_limits_make_parts_opaque() {
    let rules = rules_dir();
    let h = Harness::with_config(&config(rules.path(), false)).await;
    let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0\x88\x58\x01\0\x02\0\x10\0data\0\0\0\0";
    let audio = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": b64(wav), "format": "wav"}}]}]}).to_string();
    let (status, headers, _) = h.post("/v1/chat/completions", audio).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "confidential");
    assert_eq!(h.external.calls(), 0, "unread audio stays local by default");

    // Depth 1: base64 inside base64 is not read, so it is opaque, never skipped.
    let shallow = Harness::with_config(
        &(config(rules.path(), false) + "\n[inspect]\nmax_decode_depth = 1\n"),
    )
    .await;
    let nested = b64(format!("outer {}", b64(b"some inner text that is hidden")).as_bytes());
    let (status, headers, _) = shallow
        .post("/v1/chat/completions", text_chat(&format!("x {nested} y")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-sovgate-classification"], "confidential");
    assert_eq!(shallow.external.calls(), 0);
    let audit = shallow
        .audit_lines()
        .iter()
        .map(|l| l.to_string())
        .collect::<String>();
    assert!(
        audit.contains("inspect.opaque") && audit.contains("(limit)"),
        "{audit}"
    );
}
