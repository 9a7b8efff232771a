//! Parser tests: what is accepted, what is refused and where, spans, strings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use super::*;

fn err(input: &[u8]) -> JsonError {
    match parse(input) {
        Ok(v) => panic!("accepted {:?}: {v:?}", String::from_utf8_lossy(input)),
        Err(e) => e,
    }
}

fn refused(input: &[u8], kind: JsonErrorKind, offset: usize) {
    let e = err(input);
    assert_eq!(
        (e.kind(), e.offset()),
        (kind, offset),
        "for {:?}: {e}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn accepts_every_kind_of_top_level_value() {
    assert_eq!(parse(b"null").unwrap().kind, Kind::Null);
    assert_eq!(parse(b" true ").unwrap().kind, Kind::Bool(true));
    assert_eq!(parse(b"false").unwrap().kind, Kind::Bool(false));
    assert_eq!(parse(b"-0").unwrap().kind, Kind::Number("-0"));
    assert_eq!(parse(b"[]").unwrap().kind, Kind::Array(vec![]));
    assert_eq!(parse(b"{ }").unwrap().kind, Kind::Object(vec![]));
    assert_eq!(parse(br#""hi""#).unwrap().as_str().unwrap().text, "hi");
}

#[test]
fn numbers_are_kept_as_written() {
    for n in [
        "0.70",
        "1e-5",
        "-1.5E+10",
        "123456789012345678901234567890",
        "0",
        "-0.0e0",
    ] {
        let v = parse(n.as_bytes()).unwrap();
        assert_eq!(v.kind, Kind::Number(n));
        assert_eq!(v.span, 0..n.len());
    }
}

#[test]
fn refuses_empty_input() {
    refused(b"", JsonErrorKind::Empty, 0);
    refused(b" \n\t\r", JsonErrorKind::Empty, 4);
}

#[test]
fn refuses_invalid_utf8_at_the_first_bad_byte() {
    refused(b"\"ab\xFFc\"", JsonErrorKind::InvalidUtf8, 3);
    refused(b"[\"\xC3\"]", JsonErrorKind::InvalidUtf8, 2);
    // An encoded surrogate (CESU-8 style) is not UTF-8 either.
    refused(b"\"\xED\xA0\x80\"", JsonErrorKind::InvalidUtf8, 1);
}

#[test]
fn refuses_a_byte_order_mark() {
    refused(b"\xEF\xBB\xBF{}", JsonErrorKind::ByteOrderMark, 0);
}

#[test]
fn refuses_lone_surrogates() {
    refused(br#""\ud800""#, JsonErrorKind::LoneSurrogate, 1);
    refused(br#""ab\udc00""#, JsonErrorKind::LoneSurrogate, 3);
    refused(br#""\ud800\u0041""#, JsonErrorKind::LoneSurrogate, 1);
    refused(br#""\ud800\ud800""#, JsonErrorKind::LoneSurrogate, 1);
    refused(br#""\ud800x""#, JsonErrorKind::LoneSurrogate, 1);
    refused(br#"{"\udfff":1}"#, JsonErrorKind::LoneSurrogate, 2);
}

#[test]
fn refuses_invalid_escapes() {
    refused(br#""a\x""#, JsonErrorKind::InvalidEscape, 2);
    refused(br#""\u12g4""#, JsonErrorKind::InvalidEscape, 1);
    refused(br#""\u12""#, JsonErrorKind::InvalidEscape, 1);
    refused(br#""\'""#, JsonErrorKind::InvalidEscape, 1);
    refused(br#""\ud83d\uZZZZ""#, JsonErrorKind::InvalidEscape, 7);
}

#[test]
fn refuses_raw_control_characters_in_strings() {
    refused(b"\"a\nb\"", JsonErrorKind::ControlCharacter, 2);
    refused(b"\"a\\nb\tc\"", JsonErrorKind::ControlCharacter, 5);
    refused(b"{\"k\x00\":1}", JsonErrorKind::ControlCharacter, 3);
    // DEL and C1 controls are fine: JSON only forbids below U+0020.
    assert!(parse("\"\u{7f}\u{85}\"".as_bytes()).is_ok());
}

#[test]
fn refuses_invalid_numbers() {
    refused(b"01", JsonErrorKind::InvalidNumber, 1);
    refused(b"-01", JsonErrorKind::InvalidNumber, 2);
    refused(b"+1", JsonErrorKind::InvalidNumber, 0);
    refused(b".5", JsonErrorKind::InvalidNumber, 0);
    refused(b"[1.]", JsonErrorKind::InvalidNumber, 3);
    refused(b"1e", JsonErrorKind::InvalidNumber, 2);
    refused(b"1e+", JsonErrorKind::InvalidNumber, 3);
    refused(b"-", JsonErrorKind::InvalidNumber, 1);
    refused(b"[-Infinity]", JsonErrorKind::InvalidNumber, 2);
    refused(b"NaN", JsonErrorKind::InvalidNumber, 0);
    refused(b"{\"t\": Infinity}", JsonErrorKind::InvalidNumber, 6);
    refused(b"0x10", JsonErrorKind::TrailingData, 1);
}

#[test]
fn refuses_duplicate_keys_after_decoding() {
    refused(br#"{"a":1,"a":2}"#, JsonErrorKind::DuplicateKey, 7);
    refused(br#"{"a":1,"\u0061":2}"#, JsonErrorKind::DuplicateKey, 7);
    refused(
        br#"{"x":{"a":1,"b":2,"a":3}}"#,
        JsonErrorKind::DuplicateKey,
        18,
    );
    // Same key in different objects is fine.
    assert!(parse(br#"[{"a":1},{"a":2}]"#).is_ok());
}

#[test]
fn duplicate_detection_in_large_objects_points_at_the_first_repeat() {
    let mut body = String::from("{");
    for i in 0..100 {
        body.push_str(&format!("\"k{i}\":{i},"));
    }
    let first_repeat = body.len();
    body.push_str("\"k7\":0,\"k3\":0}");
    refused(body.as_bytes(), JsonErrorKind::DuplicateKey, first_repeat);
}

#[test]
fn depth_64_is_accepted_and_65_refused() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    refused(deep.as_bytes(), JsonErrorKind::TooDeep, MAX_DEPTH);
    let objects = format!(
        "{}1{}",
        "{\"a\":".repeat(MAX_DEPTH + 1),
        "}".repeat(MAX_DEPTH + 1)
    );
    refused(objects.as_bytes(), JsonErrorKind::TooDeep, 5 * MAX_DEPTH);
}

#[test]
fn a_hundred_thousand_brackets_fail_with_too_deep() {
    let input = vec![b'['; 100_000];
    refused(&input, JsonErrorKind::TooDeep, MAX_DEPTH);
}

#[test]
fn refuses_grammar_errors_where_they_are() {
    refused(b"[1,]", JsonErrorKind::Syntax, 3);
    refused(br#"{"a":1,}"#, JsonErrorKind::Syntax, 7);
    refused(br#"{"a" 1}"#, JsonErrorKind::Syntax, 5);
    refused(b"{1:2}", JsonErrorKind::Syntax, 1);
    refused(b"[1 2]", JsonErrorKind::Syntax, 3);
    refused(b"[1", JsonErrorKind::Syntax, 2);
    refused(b"\"abc", JsonErrorKind::Syntax, 4);
    refused(b"tru", JsonErrorKind::Syntax, 0);
    refused(b"[nul]", JsonErrorKind::Syntax, 1);
    refused(b"'a'", JsonErrorKind::Syntax, 0);
    refused(b"[/* c */ 1]", JsonErrorKind::Syntax, 1);
    refused(b"{} // c", JsonErrorKind::TrailingData, 3);
    refused(b"1 2", JsonErrorKind::TrailingData, 2);
    refused(b"{}}", JsonErrorKind::TrailingData, 2);
}

#[test]
fn error_messages_say_what_and_where() {
    let e = err(b"[/* c */ 1]");
    assert_eq!(
        e.to_string(),
        "invalid JSON: syntax error (comments are not allowed) at byte 1"
    );
    let e = err(b"[1");
    assert_eq!(
        e.to_string(),
        "invalid JSON: syntax error (unexpected end of input) at byte 2"
    );
    assert!(err(br#"{"a":1,"a":2}"#)
        .to_string()
        .contains("duplicate object key"));
}

#[test]
fn line_col_is_one_based_and_counts_characters() {
    let input = "{\n  \"é\": 1,\n  \"x\": tru\n}".as_bytes();
    let e = err(input);
    assert_eq!(e.kind(), JsonErrorKind::Syntax);
    assert_eq!(e.line_col(input), (3, 8));
    let input = "\"é\u{1}\"".as_bytes();
    assert_eq!(err(input).line_col(input), (1, 3));
}

#[test]
fn spans_cover_values_and_string_contents() {
    let input = br#" { "a" : [1, "x\ny", {"b": null}] , "c": -2.5e3 } "#;
    let v = parse(input).unwrap();
    assert_eq!(
        &input[v.span.clone()],
        br#"{ "a" : [1, "x\ny", {"b": null}] , "c": -2.5e3 }"#
    );
    let members = v.as_object().unwrap();
    assert_eq!(&input[members[0].key.span.clone()], b"a");
    assert_eq!(
        &input[members[0].span()],
        br#""a" : [1, "x\ny", {"b": null}]"#
    );
    let items = members[0].value.as_array().unwrap();
    assert_eq!(&input[items[1].span.clone()], br#""x\ny""#);
    let s = items[1].as_str().unwrap();
    assert_eq!(&input[s.span.clone()], br"x\ny");
    assert_eq!(s.quoted_span(), items[1].span);
    assert_eq!(&input[items[2].span.clone()], br#"{"b": null}"#);
    assert_eq!(&input[members[1].value.span.clone()], b"-2.5e3");
    assert_eq!(v.get("c").unwrap().kind, Kind::Number("-2.5e3"));
    assert_eq!(v.position("c"), Some(1));
}

#[test]
fn strings_borrow_unless_they_have_escapes() {
    let v = parse(r#"["plain é", "esc\/aped"]"#.as_bytes()).unwrap();
    let items = v.as_array().unwrap();
    let plain = items[0].as_str().unwrap();
    assert!(matches!(plain.text, Cow::Borrowed("plain é")));
    assert!(!plain.has_escapes());
    let esc = items[1].as_str().unwrap();
    assert!(esc.has_escapes());
    assert_eq!(esc.text, "esc/aped");
    assert_eq!(esc.raw(), r"esc\/aped");
}

#[test]
fn decodes_every_escape() {
    let v = parse(br#""\" \\ \/ \b \f \n \r \t \u0000 \u00e9 \u20AC \ud83d\ude00""#).unwrap();
    assert_eq!(
        v.as_str().unwrap().text,
        "\" \\ / \u{8} \u{c} \n \r \t \u{0} é € 😀"
    );
}

#[test]
fn raw_range_without_escapes_is_an_offset() {
    let input = br#"{"k": "hello world"}"#;
    let v = parse(input).unwrap();
    let s = v.get("k").unwrap().as_str().unwrap();
    assert_eq!(&input[s.raw_range(6..11)], b"world");
    assert_eq!(s.raw_range(3..100), s.span.start + 3..s.span.end);
}

#[test]
fn raw_range_widens_to_whole_escapes() {
    let input = br#"["a\nb", "caf\u00e9!", "x\ud83d\ude00y", "\t\u00e9\ud83d\ude00z\\"]"#;
    let v = parse(input).unwrap();
    let items = v.as_array().unwrap();
    let raw = |i: usize, r: std::ops::Range<usize>| {
        let s = items[i].as_str().unwrap();
        std::str::from_utf8(&input[s.raw_range(r)])
            .unwrap()
            .to_string()
    };
    assert_eq!(raw(0, 1..2), r"\n");
    assert_eq!(raw(0, 0..3), r"a\nb");
    assert_eq!(raw(0, 2..3), "b");
    assert_eq!(raw(1, 3..5), r"\u00e9");
    assert_eq!(raw(1, 4..5), r"\u00e9"); // half a char still takes the whole escape
    assert_eq!(raw(1, 0..3), "caf");
    assert_eq!(raw(1, 5..6), "!");
    assert_eq!(raw(2, 1..5), r"\ud83d\ude00");
    assert_eq!(raw(2, 2..3), r"\ud83d\ude00");
    assert_eq!(raw(2, 5..6), "y");
    // "\t" 1 byte, "é" 2, "😀" 4, "z" 1, "\\" 1.
    assert_eq!(raw(3, 0..1), r"\t");
    assert_eq!(raw(3, 1..7), r"\u00e9\ud83d\ude00");
    assert_eq!(raw(3, 7..8), "z");
    assert_eq!(raw(3, 8..9), r"\\");
    assert_eq!(raw(3, 0..9), r"\t\u00e9\ud83d\ude00z\\");
    assert_eq!(raw(3, 7..7), "");
}

#[test]
fn escape_into_writes_string_content() {
    let mut out = Vec::new();
    escape_into("a\"b\\c\n\r\t\u{8}\u{c}\u{0}\u{1f} é😀/", &mut out);
    assert_eq!(out, r#"a\"b\\c\n\r\t\b\f\u0000\u001f é😀/"#.as_bytes());
}

#[test]
fn escape_into_round_trips_through_parse() {
    let text = "quote \" back \\ nl \n nul \u{0} us \u{1f} del \u{7f} é 😀 \u{2028}";
    let mut out = b"\"".to_vec();
    escape_into(text, &mut out);
    out.push(b'"');
    assert_eq!(parse(&out).unwrap().as_str().unwrap().text, text);
}
