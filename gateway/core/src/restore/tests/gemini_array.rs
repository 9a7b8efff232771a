//! Gemini's streamed JSON array.

use serde_json::{json, Value};

use super::super::GeminiJsonArrayRestorer;
use super::gemini::{chunk, chunks, texts};
use super::*;

/// The array as Gemini sends it: `[{…}\n,\r\n{…}\n]`.
fn body(chunks: &[Value]) -> Vec<u8> {
    let elements: Vec<String> = chunks.iter().map(Value::to_string).collect();
    format!("[{}\n]", elements.join("\n,\r\n")).into_bytes()
}

fn run_array(r: &mut GeminiJsonArrayRestorer<&Vault>, body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        out.extend(r.push(&body[start..cut]).unwrap());
        start = cut;
    }
    out.extend(r.finish());
    out
}

fn client(out: &[u8]) -> Vec<Value> {
    match serde_json::from_slice(out) {
        Ok(Value::Array(items)) => items,
        other => panic!(
            "not a JSON array ({other:?}): {}",
            String::from_utf8_lossy(out)
        ),
    }
}

#[test]
fn every_cut_across_two_elements_restores() {
    let vault = vault();
    for finish_alone in [false, true] {
        for (a, b) in char_splits(ANSWER) {
            let mut r = GeminiJsonArrayRestorer::new(&vault);
            let out = run_array(&mut r, &body(&chunks(&[a, b], finish_alone)), &[]);
            assert_eq!(
                texts(&client(&out)).0,
                restored_answer(),
                "cut {a:?} | {b:?}"
            );
            assert_eq!(r.restored(), 2);
        }
    }
}

#[test]
fn every_byte_cut_of_the_body_restores_and_keeps_separators() {
    let vault = vault();
    let body = body(&chunks(
        &[
            "Write to ⟦EMAIL_1⟧ or call ⟦PHONE_1⟧; ⟦EMA",
            "IL_9⟧ is unknown ⟦ ok.",
        ],
        true,
    ));
    for cut in 0..=body.len() {
        for cut2 in [cut, (cut + 7).min(body.len())] {
            let mut r = GeminiJsonArrayRestorer::new(&vault);
            let out = run_array(&mut r, &body, &[cut, cut2]);
            assert_eq!(texts(&client(&out)).0, restored_answer(), "cut {cut}");
            let text = String::from_utf8(out).unwrap();
            assert!(text.starts_with("[{") && text.ends_with("}\n]"));
            assert_eq!(
                text.matches("\n,\r\n").count(),
                2,
                "separators kept: {text}"
            );
        }
    }
}

#[test]
fn held_text_at_the_end_of_the_array_becomes_a_last_element() {
    let vault = vault();
    let stream = [chunk(&[("to ⟦PHONE", false)], None)];
    let mut r = GeminiJsonArrayRestorer::new(&vault);
    let out = run_array(&mut r, &body(&stream), &[]);
    let items = client(&out);
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["candidates"][0]["content"]["parts"][0]["text"],
        "to "
    );
    assert_eq!(
        items[1]["candidates"][0]["content"]["parts"][0]["text"],
        "⟦PHONE"
    );
}

#[test]
fn brackets_and_quotes_inside_strings_do_not_end_an_element() {
    let vault = vault();
    let tricky = r#"a "quoted" ] } [ { \ ⟦EMAIL_1⟧"#;
    let body = body(&chunks(&[tricky], false));
    for cut in 0..=body.len() {
        let mut r = GeminiJsonArrayRestorer::new(&vault);
        let out = run_array(&mut r, &body, &[cut]);
        assert_eq!(texts(&client(&out)).0, tricky.replace("⟦EMAIL_1⟧", EMAIL));
    }
}

#[test]
fn unchanged_body_passes_through_byte_for_byte() {
    let vault = vault();
    let body = body(&chunks(&["plain ⟦ ", "⟦EMAIL_2⟧"], true));
    let mut r = GeminiJsonArrayRestorer::new(&vault);
    assert_eq!(run_array(&mut r, &body, &[3, 50]), body);
}

#[test]
fn a_top_level_object_is_restored_whole() {
    let vault = vault();
    let body = json!({"error": {"message": "bad ⟦NAME_1⟧"}}).to_string();
    let mut r = GeminiJsonArrayRestorer::new(&vault);
    let out = run_array(&mut r, body.as_bytes(), &[5]);
    assert_eq!(
        client_value(&out)["error"]["message"],
        format!("bad {NAME}")
    );
}

fn client_value(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap()
}

#[test]
fn element_bound_is_enforced() {
    let vault = vault();
    let mut r = GeminiJsonArrayRestorer::with_max_element_bytes(&vault, 64);
    let body = body(&chunks(&[&"x".repeat(100)], false));
    let err = r.push(&body).unwrap_err();
    assert_eq!(
        err.kind(),
        super::super::RestoreErrorKind::ElementTooLarge { limit: 64 }
    );
    assert!(r.push(b"]").is_err());
}

#[test]
fn truncated_body_is_returned_as_it_came() {
    let vault = vault();
    let mut r = GeminiJsonArrayRestorer::new(&vault);
    let body = r#"[{"candidates": [{"content": {"parts": [{"text": "⟦EMA"#.as_bytes();
    let mut out = r.push(body).unwrap();
    out.extend(r.finish());
    assert_eq!(out, body);
    assert_eq!(r.unparsed(), 1);
}
