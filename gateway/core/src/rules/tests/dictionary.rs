//! Large literal dictionaries (`patterns_file`) compile and find planted entries, on word
//! boundaries only.

use super::super::*;
use super::temp_dir;
use crate::types::Direction;

// The generator is shared with the benches (`benches/common/mod.rs` includes the same file).
#[path = "matter_names.rs"]
mod names;
pub(crate) use names::matter_names;

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
