//! Property tests: random documents written with random whitespace and random escape choices.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use super::*;

/// A model of a JSON value, independent of the parser.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ab\"\\\\/\n\t\u{0}\u{1f}\u{7f} é€😀\u{2028}]{0,8}",
    ]
}

fn number() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?"
}

fn json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number().prop_map(J::Num),
        text().prop_map(J::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((text(), inner), 0..6).prop_map(|m| J::Obj(unique(m))),
        ]
    })
}

fn object() -> impl Strategy<Value = J> {
    prop::collection::vec((text(), json()), 1..8).prop_map(|m| J::Obj(unique(m)))
}

fn unique(mut members: Vec<(String, J)>) -> Vec<(String, J)> {
    let mut seen = std::collections::HashSet::new();
    members.retain(|(k, _)| seen.insert(k.clone()));
    members
}

/// Writes a model as JSON, choosing whitespace and escape spellings with a small PRNG.
struct Writer {
    out: Vec<u8>,
    rng: u64,
}

impl Writer {
    fn write(j: &J, seed: u64) -> Vec<u8> {
        let mut w = Writer {
            out: Vec::new(),
            rng: seed | 1,
        };
        w.ws();
        w.value(j);
        w.ws();
        w.out
    }

    fn roll(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    fn ws(&mut self) {
        for _ in 0..self.roll(4) {
            let c = [b' ', b'\n', b'\t', b'\r'][self.roll(4) as usize];
            self.out.push(c);
        }
    }

    fn value(&mut self, j: &J) {
        match j {
            J::Null => self.out.extend_from_slice(b"null"),
            J::Bool(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            J::Num(n) => self.out.extend_from_slice(n.as_bytes()),
            J::Str(s) => self.string(s),
            J::Arr(items) => self.container(b'[', b']', items.len(), |w, i| w.value(&items[i])),
            J::Obj(members) => self.container(b'{', b'}', members.len(), |w, i| {
                w.string(&members[i].0);
                w.ws();
                w.out.push(b':');
                w.ws();
                w.value(&members[i].1);
            }),
        }
    }

    fn container(&mut self, open: u8, close: u8, n: usize, mut item: impl FnMut(&mut Self, usize)) {
        self.out.push(open);
        self.ws();
        for i in 0..n {
            if i > 0 {
                self.ws();
                self.out.push(b',');
                self.ws();
            }
            item(self, i);
        }
        self.ws();
        self.out.push(close);
    }

    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        for c in s.chars() {
            let must = c < ' ' || c == '"' || c == '\\';
            if self.roll(6) == 0 {
                self.unicode_escape(c);
            } else if c == '/' && self.roll(2) == 0 {
                self.out.extend_from_slice(b"\\/");
            } else if must {
                escape_into(c.encode_utf8(&mut [0; 4]), &mut self.out);
            } else {
                self.out
                    .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        self.out.push(b'"');
    }

    fn unicode_escape(&mut self, c: char) {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            let spelled = if self.roll(2) == 0 {
                format!("\\u{unit:04x}")
            } else {
                format!("\\u{unit:04X}")
            };
            self.out.extend_from_slice(spelled.as_bytes());
        }
    }
}

fn model(v: &Value<'_>) -> J {
    match &v.kind {
        Kind::Null => J::Null,
        Kind::Bool(b) => J::Bool(*b),
        Kind::Number(n) => J::Num(n.to_string()),
        Kind::String(s) => J::Str(s.text.to_string()),
        Kind::Array(items) => J::Arr(items.iter().map(model).collect()),
        Kind::Object(members) => J::Obj(
            members
                .iter()
                .map(|m| (m.key.text.to_string(), model(&m.value)))
                .collect(),
        ),
    }
}

/// Every value's span re-parses alone to the same model; every string's raw ranges decode to
/// the matching slice of its text at every pair of char boundaries (a few of them).
fn check_spans(input: &[u8], v: &Value<'_>, rng: &mut u64) -> Result<(), TestCaseError> {
    let alone = parse(&input[v.span.clone()]).unwrap();
    prop_assert_eq!(model(&alone), model(v));
    match &v.kind {
        Kind::String(s) => check_str(input, s, rng)?,
        Kind::Array(items) => {
            for item in items {
                check_spans(input, item, rng)?;
            }
        }
        Kind::Object(members) => {
            for m in members {
                check_str(input, &m.key, rng)?;
                check_spans(input, &m.value, rng)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_str(input: &[u8], s: &Str<'_>, rng: &mut u64) -> Result<(), TestCaseError> {
    prop_assert_eq!(input[s.span.start - 1], b'"');
    prop_assert_eq!(input[s.span.end], b'"');
    let bounds: Vec<usize> = (0..=s.text.len())
        .filter(|&i| s.text.is_char_boundary(i))
        .collect();
    for _ in 0..4 {
        *rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = bounds[(*rng >> 33) as usize % bounds.len()];
        let b = bounds[(*rng >> 13) as usize % bounds.len()];
        let (a, b) = (a.min(b), a.max(b));
        let raw = &input[s.raw_range(a..b)];
        let quoted = [b"\"", raw, b"\""].concat();
        let decoded = parse(&quoted).unwrap();
        prop_assert_eq!(&decoded.as_str().unwrap().text[..], &s.text[a..b]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parses_what_was_written_with_right_spans(j in json(), seed in any::<u64>()) {
        let input = Writer::write(&j, seed);
        let doc = parse(&input).unwrap();
        prop_assert_eq!(model(&doc), j);
        let mut rng = seed;
        check_spans(&input, &doc, &mut rng)?;
        prop_assert_eq!(splice(&input, vec![]).unwrap(), input.clone());
        fuzzing::fuzz_check_parse(&input);
    }

    #[test]
    fn removals_leave_exactly_the_other_members(
        j in object(),
        seed in any::<u64>(),
        drop in prop::collection::vec(any::<bool>(), 8),
    ) {
        let input = Writer::write(&j, seed);
        let doc = parse(&input).unwrap();
        let J::Obj(members) = &j else { unreachable!() };
        let indices: Vec<usize> = (0..members.len()).filter(|&i| drop[i]).collect();
        let ranges = member_removals(&input, &doc, &indices);
        let out = splice(&input, ranges.into_iter().map(Edit::delete).collect()).unwrap();
        let after = parse(&out).unwrap();
        let expected: Vec<(String, J)> =
            members.iter().enumerate().filter(|(i, _)| !drop[*i]).map(|(_, m)| m.clone()).collect();
        prop_assert_eq!(model(&after), J::Obj(expected));
        // Kept members keep their exact bytes.
        let before: Vec<&[u8]> = doc.as_object().unwrap().iter().enumerate()
            .filter(|(i, _)| !drop[*i]).map(|(_, m)| &input[m.span()]).collect();
        let kept: Vec<&[u8]> = after.as_object().unwrap().iter().map(|m| &out[m.span()]).collect();
        prop_assert_eq!(before, kept);
    }

    #[test]
    fn removals_leave_exactly_the_other_elements(
        items in prop::collection::vec(json(), 1..8),
        seed in any::<u64>(),
        drop in prop::collection::vec(any::<bool>(), 8),
    ) {
        let input = Writer::write(&J::Arr(items.clone()), seed);
        let doc = parse(&input).unwrap();
        let indices: Vec<usize> = (0..items.len()).filter(|&i| drop[i]).collect();
        let ranges = element_removals(&input, &doc, &indices);
        let out = splice(&input, ranges.into_iter().map(Edit::delete).collect()).unwrap();
        let expected: Vec<J> =
            items.iter().enumerate().filter(|(i, _)| !drop[*i]).map(|(_, v)| v.clone()).collect();
        prop_assert_eq!(model(&parse(&out).unwrap()), J::Arr(expected));
    }

    #[test]
    fn escape_into_round_trips(s in text()) {
        let mut out = b"\"".to_vec();
        escape_into(&s, &mut out);
        out.push(b'"');
        let doc = parse(&out).unwrap();
        prop_assert_eq!(&doc.as_str().unwrap().text[..], &s[..]);
    }

    #[test]
    fn string_scan_finds_the_first_special_byte(
        data in prop::collection::vec(prop_oneof![
            4 => 0x20u8..=0xFF,
            1 => prop::sample::select(vec![b'"', b'\\', 0, 0x1F, 0x20, 0x21, 0x5B, 0x5D, 0x7F, 0x80]),
        ], 0..200),
        from in 0usize..16,
    ) {
        let from = from.min(data.len());
        let naive = data[from..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .map_or(data.len(), |k| from + k);
        prop_assert_eq!(super::string::find_special(&data, from), naive);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
        fuzzing::fuzz_check_parse(&data);
    }
}
