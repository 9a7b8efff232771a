//! Editor tests: removals keep JSON valid and other bytes intact; splice nesting rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// Removes the members (or elements) at `indices` of the value at top level, checks the result
/// parses, and returns it as a string.
fn remove(input: &str, indices: &[usize]) -> String {
    let bytes = input.as_bytes();
    let doc = parse(bytes).unwrap();
    let ranges = match doc.kind {
        Kind::Object(_) => member_removals(bytes, &doc, indices),
        Kind::Array(_) => element_removals(bytes, &doc, indices),
        _ => panic!("not a container"),
    };
    let out = splice(bytes, ranges.into_iter().map(Edit::delete).collect()).unwrap();
    parse(&out).unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(&out)));
    String::from_utf8(out).unwrap()
}

fn keys(json: &str) -> Vec<String> {
    let doc = parse(json.as_bytes()).unwrap();
    doc.as_object()
        .unwrap()
        .iter()
        .map(|m| m.key.text.to_string())
        .collect()
}

const COMPACT: &str = r#"{"a":1,"b":[2],"c":{"d":3},"e":"x"}"#;
const SPACED: &str = r#"{ "a" : 1 , "b" : [2] ,"c":{"d":3},  "e" : "x" }"#;
const PRETTY: &str =
    "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": 3\n  },\n  \"e\": \"x\"\n}\n";

#[test]
fn removes_first_middle_last_members_compact() {
    assert_eq!(remove(COMPACT, &[0]), r#"{"b":[2],"c":{"d":3},"e":"x"}"#);
    assert_eq!(remove(COMPACT, &[2]), r#"{"a":1,"b":[2],"e":"x"}"#);
    assert_eq!(remove(COMPACT, &[3]), r#"{"a":1,"b":[2],"c":{"d":3}}"#);
    assert_eq!(remove(COMPACT, &[1, 2]), r#"{"a":1,"e":"x"}"#);
    assert_eq!(remove(COMPACT, &[0, 3]), r#"{"b":[2],"c":{"d":3}}"#);
    assert_eq!(remove(COMPACT, &[0, 2]), r#"{"b":[2],"e":"x"}"#);
    assert_eq!(remove(COMPACT, &[1, 3]), r#"{"a":1,"c":{"d":3}}"#);
    assert_eq!(remove(COMPACT, &[0, 1, 2, 3]), "{}");
    assert_eq!(remove(COMPACT, &[3, 2, 1, 0, 0, 99]), "{}");
    assert_eq!(remove(COMPACT, &[]), COMPACT);
}

#[test]
fn removes_members_with_irregular_whitespace() {
    assert_eq!(
        remove(SPACED, &[0]),
        r#"{ "b" : [2] ,"c":{"d":3},  "e" : "x" }"#
    );
    assert_eq!(
        remove(SPACED, &[1]),
        r#"{ "a" : 1 , "c":{"d":3},  "e" : "x" }"#
    );
    assert_eq!(
        remove(SPACED, &[3]),
        r#"{ "a" : 1 , "b" : [2] ,"c":{"d":3} }"#
    );
    assert_eq!(remove(SPACED, &[1, 2, 3]), r#"{ "a" : 1 }"#);
    assert_eq!(remove(SPACED, &[0, 1, 2, 3]), "{}");
}

#[test]
fn removal_keeps_pretty_printing() {
    assert_eq!(
        remove(PRETTY, &[0]),
        "{\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": 3\n  },\n  \"e\": \"x\"\n}\n"
    );
    assert_eq!(
        remove(PRETTY, &[1, 2]),
        "{\n  \"a\": 1,\n  \"e\": \"x\"\n}\n"
    );
    assert_eq!(
        remove(PRETTY, &[3]),
        "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": 3\n  }\n}\n"
    );
    assert_eq!(remove(PRETTY, &[0, 1, 2, 3]), "{}\n");
}

#[test]
fn removes_the_only_member() {
    assert_eq!(remove(r#"{ "a" : 1 }"#, &[0]), "{}");
    assert_eq!(
        keys(&remove("{\n\t\"a\":\n\t[]\n}", &[0])),
        Vec::<String>::new()
    );
}

#[test]
fn removes_array_elements() {
    assert_eq!(remove("[1, 2, 3]", &[0]), "[2, 3]");
    assert_eq!(remove("[1, 2, 3]", &[1]), "[1, 3]");
    assert_eq!(remove("[1, 2, 3]", &[2]), "[1, 2]");
    assert_eq!(remove("[1, 2, 3]", &[0, 2]), "[2]");
    assert_eq!(remove("[ 1 ,2 , 3 ]", &[0, 1, 2]), "[]");
    assert_eq!(
        remove("[\n  {\"a\": 1},\n  \"x\"\n]", &[1]),
        "[\n  {\"a\": 1}\n]"
    );
}

#[test]
fn removals_of_a_nested_object_leave_the_rest_alone() {
    let input = r#"{"messages":[{"role":"user","secret":"s","content":"hi"}],"model":"m"}"#;
    let doc = parse(input.as_bytes()).unwrap();
    let message = &doc.get("messages").unwrap().as_array().unwrap()[0];
    let ranges = member_removals(
        input.as_bytes(),
        message,
        &[message.position("secret").unwrap()],
    );
    let out = splice(
        input.as_bytes(),
        ranges.into_iter().map(Edit::delete).collect(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"messages":[{"role":"user","content":"hi"}],"model":"m"}"#
    );
}

#[test]
fn removals_of_non_containers_are_empty() {
    let doc = parse(b"\"x\"").unwrap();
    assert!(member_removals(b"\"x\"", &doc, &[0]).is_empty());
    assert!(element_removals(b"\"x\"", &doc, &[0]).is_empty());
    let doc = parse(b"[1]").unwrap();
    assert!(member_removals(b"[1]", &doc, &[0]).is_empty());
}

#[test]
fn splice_without_edits_is_identity() {
    let input = PRETTY.as_bytes();
    assert_eq!(splice(input, vec![]).unwrap(), input);
}

#[test]
fn splice_applies_edits_in_any_order() {
    let input = b"0123456789";
    let edits = vec![
        Edit::replace(7..9, "xy"),
        Edit::delete(0..1),
        Edit::replace(3..5, "ABC"),
    ];
    assert_eq!(splice(input, edits).unwrap(), b"12ABC56xy9");
}

#[test]
fn splice_discards_edits_inside_another() {
    let input = br#"{"a":"secret","b":1}"#;
    let drop = Edit::delete(1..13);
    let redact = Edit::replace(6..12, "[X]");
    let out = splice(input, vec![redact.clone(), drop.clone()]).unwrap();
    assert_eq!(out, br#"{,"b":1}"#); // the drop alone, whatever the order
    assert_eq!(splice(input, vec![drop, redact]).unwrap(), out);
    // Same range twice: the first given wins.
    let out = splice(
        b"abc",
        vec![Edit::replace(1..2, "X"), Edit::replace(1..2, "Y")],
    )
    .unwrap();
    assert_eq!(out, b"aXc");
}

#[test]
fn splice_keeps_insertions_at_edges_in_order() {
    let edits = vec![
        Edit::replace(5..5, "]"),
        Edit::replace(2..5, "-"),
        Edit::replace(2..2, "["),
        Edit::replace(5..5, ")"),
        Edit::replace(3..3, "dropped"),
    ];
    assert_eq!(splice(b"0123456", edits).unwrap(), b"01[-])56");
}

#[test]
fn splice_refuses_partial_overlap_and_bad_ranges() {
    let e = splice(b"0123456789", vec![Edit::delete(2..5), Edit::delete(4..8)]).unwrap_err();
    assert_eq!(e.kind(), EditErrorKind::PartialOverlap);
    assert_eq!(e.ranges(), (2..5, 4..8));
    let e = splice(b"0123", vec![Edit::delete(2..9)]).unwrap_err();
    assert_eq!(e.kind(), EditErrorKind::OutOfBounds);
    #[allow(clippy::reversed_empty_ranges)]
    let e = splice(b"0123", vec![Edit::delete(3..1)]).unwrap_err();
    assert_eq!(e.kind(), EditErrorKind::OutOfBounds);
    assert!(e.to_string().contains("3..1"));
}

#[test]
fn removal_and_redaction_combine() {
    let input = br#"{"keep":"call Bob","drop":"Bob","also":"Bob and Bob"}"#;
    let doc = parse(input).unwrap();
    let mut edits: Vec<Edit> = member_removals(input, &doc, &[1])
        .into_iter()
        .map(Edit::delete)
        .collect();
    // Redact every "Bob", including the one inside the dropped member.
    for m in doc.as_object().unwrap() {
        let s = m.value.as_str().unwrap();
        for (at, _) in s.text.match_indices("Bob") {
            edits.push(Edit::replace(s.raw_range(at..at + 3), "[P]"));
        }
    }
    let out = splice(input, edits).unwrap();
    assert_eq!(out, br#"{"keep":"call [P]","also":"[P] and [P]"}"#);
    assert!(parse(&out).is_ok());
}
