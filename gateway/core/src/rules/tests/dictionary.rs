//! Large literal dictionaries (`patterns_file`) compile and find planted entries, on word
//! boundaries only.

use super::super::*;
use super::temp_dir;
use crate::types::Direction;

/// `n` distinct matter names such as "Kalomir Tevasu 00042", deterministic.
pub(crate) fn matter_names(n: usize) -> Vec<String> {
    const SYL: [&str; 16] = [
        "ka", "lo", "mir", "te", "va", "su", "ren", "do", "pa", "xi", "bel", "cor", "an", "tis",
        "ur", "quo",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut word = |syllables: usize| {
        let mut w = String::new();
        for _ in 0..syllables {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            w.push_str(SYL[(state >> 60) as usize]);
        }
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    (0..n)
        .map(|i| format!("{} {} {i:05}", word(3), word(2)))
        .collect()
}

fn dictionary_rules(n: usize, case_insensitive: bool) -> (RuleSet, Vec<String>) {
    let names = matter_names(n);
    let dir = temp_dir("dictionary");
    let mut file = String::from("# matter names, one a line\n\n");
    for name in &names {
        file.push_str(name);
        file.push('\n');
    }
    std::fs::write(dir.join("matters.txt"), file).unwrap();
    std::fs::write(
        dir.join("matters.toml"),
        format!(
            "[[rule]]\nid = \"matters.names\"\nkind = \"literal\"\npatterns_file = \"matters.txt\"\n\
             case_insensitive = {case_insensitive}\naction = \"pseudonymize\"\nclass = \"privileged\"\n\
             placeholder = \"MATTER\"\n"
        ),
    )
    .unwrap();
    let set = load_dirs(std::slice::from_ref(&dir)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&dir).unwrap();
    (set, names)
}

fn found(set: &RuleSet, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    set.scan(text, Direction::Request, &mut out).unwrap();
    out.iter()
        .map(|m| text[m.range.clone()].to_owned())
        .collect()
}

#[test]
fn ten_thousand_entries_case_insensitive() {
    let (set, names) = dictionary_rules(10_000, true);
    assert_eq!(set.len(), 1);
    assert_eq!(set.rules()[0].placeholder_label, "MATTER");
    let (a, b) = (&names[1234], &names[9999]);
    let text = format!("Re: {a} merger; see also {} (closing).", b.to_uppercase());
    assert_eq!(found(&set, &text), [a.clone(), b.to_uppercase()]);
    // Not on a word boundary: glued to letters, digits or `_` on either side.
    for glued in [
        format!("{a}x"),
        format!("x{a}"),
        format!("{a}7"),
        format!("_{a}"),
    ] {
        assert!(found(&set, &glued).is_empty(), "{glued}");
    }
    // Punctuation and line breaks are boundaries.
    assert_eq!(found(&set, &format!("\"{a}\",\n({b})")).len(), 2);
}

#[test]
fn hundred_thousand_entries_case_sensitive() {
    let (set, names) = dictionary_rules(100_000, false);
    let planted = [&names[0], &names[54_321], &names[99_999]];
    let text = format!(
        "Matters {}, {} and {} are open; {} is not a match.",
        planted[0],
        planted[1],
        planted[2],
        planted[1].to_lowercase()
    );
    let got = found(&set, &text);
    assert_eq!(got, planted.map(|p| p.to_string()));
    assert!(found(&set, "nothing to see here, 00042 alone").is_empty());
}
