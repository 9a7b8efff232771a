//! Deterministic matter names for dictionary tests and benches: one generator, included by both.

/// `n` distinct matter names such as "Kalomir Tevasu 00042", deterministic.
pub fn matter_names(n: usize) -> Vec<String> {
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
