//! Cheap gates that decide where the expensive matchers need to look.
//!
//! An automaton that reads every byte (Aho-Corasick, a regex DFA) is latency-bound at well under
//! 1 GB/s: each byte's transition depends on the previous one. Most rules, though, can only match
//! in a few places, and finding those places needs no automaton:
//!
//! - **Word starts.** A literal that begins with a word character (dictionary entries, privilege
//!   legends) and a regex that begins with `\b` followed by a literal prefix (`AKIA`, `ghp_`,
//!   `eyJ`) can only match where a word starts. At each word start, [`PrefixBloom`] checks the
//!   first bytes against every such prefix; only then does an anchored automaton run, for a few
//!   bytes.
//! - **Runs.** A regex whose alphabet has no lowercase ASCII letter (card numbers, SSNs, phone
//!   numbers, IBANs, PEM headers) can only match inside a run of non-lowercase bytes at least as
//!   long as its shortest match. English text breaks such runs every few bytes.
//!
//! [`ByteScan`] finds both without a branch per byte and without `unsafe`:
//!
//! - word starts eight bytes at a time with SWAR arithmetic: per 64-byte block, bit operations on
//!   the byte classes yield the word starts directly, with one mask gather per eight bytes. Blocks
//!   with non-ASCII bytes find word starts by decoding characters instead;
//! - runs by probing: a run of at least `n` bytes covers one of every `n` consecutive positions,
//!   so only every `n`-th byte is read until one is not lowercase, and only then is the run around
//!   it measured. In prose most probes land on a lowercase letter.

const L: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x80 * L;

/// Gathers the high bit of each byte of `v` into the low 8 bits (byte `k` → bit `k`).
#[inline(always)]
fn movemask(v: u64) -> u64 {
    ((v >> 7) & L).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// High bit set in each byte of `x7` (bytes < 0x80) that lies in `lo..=hi` (both < 0x80).
#[inline(always)]
fn in_range(x7: u64, lo: u8, hi: u8) -> u64 {
    x7.wrapping_add(u64::from(0x80 - lo) * L) & (u64::from(0x80 + hi) * L).wrapping_sub(x7) & HI
}

/// High bit set in each ASCII word byte (`[0-9A-Za-z_]`) of `x` (`x7`: its low seven bits),
/// given its digits. Setting bit 5 maps `A`–`Z` onto `a`–`z` and nothing else into that range.
#[inline(always)]
fn word_bytes(x: u64, x7: u64, digit: u64) -> u64 {
    let letter = in_range(x7 | (0x20 * L), b'a', b'z');
    let t = x7 ^ (0x5F * L);
    let underscore = !(t.wrapping_add(0x7F * L) | t) & HI;
    (letter | digit | underscore) & !x
}

/// Finds word starts and long runs of non-lowercase bytes in a haystack.
///
/// Run-gated regexes never match a lowercase ASCII letter (that is the condition for run
/// gating), so every match lies inside a run of bytes that are not `a`–`z`. Testing that one
/// range is much cheaper than testing each regex's exact alphabet, and in English text almost as
/// selective; the engine splits the (few, short) runs reported here by the exact alphabet.
#[derive(Debug, Clone)]
pub(crate) struct ByteScan {
    /// Shortest run worth reporting; `usize::MAX` when no regex is run-gated.
    run_min: usize,
    want_starts: bool,
    /// No prefix starts with an ASCII digit: word starts at numbers (dates, amounts, ids, a good
    /// share of CRM text) need no look.
    skip_digit_starts: bool,
}

impl ByteScan {
    pub(crate) fn new(want_starts: bool, skip_digit_starts: bool, run_min: usize) -> Self {
        Self {
            run_min: run_min.max(1),
            want_starts,
            skip_digit_starts,
        }
    }

    pub(crate) fn is_idle(&self) -> bool {
        !self.want_starts && self.run_min == usize::MAX
    }

    /// Calls `on_start(p)` for every position where a word character starts after a character
    /// that is not an ASCII word character (a superset of both ASCII and Unicode word starts) and
    /// `prefixes` says a prefix may start, in increasing order, then `on_run(start, end)` for
    /// every maximal run of non-lowercase bytes at least `run_min` long, in increasing order.
    pub(crate) fn scan(
        &self,
        hay: &str,
        prefixes: &PrefixBloom,
        mut on_start: impl FnMut(usize),
        mut on_run: impl FnMut(usize, usize),
    ) {
        if self.want_starts {
            self.starts(hay, prefixes, &mut on_start);
        }
        if self.run_min != usize::MAX && hay.len() >= self.run_min {
            long_runs(hay.as_bytes(), self.run_min, &mut on_run);
        }
    }

    fn starts(&self, hay: &str, prefixes: &PrefixBloom, on_start: &mut impl FnMut(usize)) {
        let bytes = hay.as_bytes();
        // High bit of byte 0: the byte before the current eight is an ASCII word byte.
        let mut carry = 0u64;
        let mut buf = [0u8; 64];
        for (n, block) in bytes.chunks(64).enumerate() {
            let base = n * 64;
            let len = block.len();
            let block: &[u8] = if len == 64 {
                block
            } else {
                // Only the last block is short; the rest of `buf` stays zero (not word bytes).
                buf[..len].copy_from_slice(block);
                &buf[..len.next_multiple_of(8)]
            };
            let (mut starts, mut high) = (0u64, 0u64);
            for (k, eight) in block.chunks_exact(8).enumerate() {
                let mut le = [0u8; 8];
                le.copy_from_slice(eight);
                let x = u64::from_le_bytes(le);
                high |= x;
                let x7 = x & (0x7F * L);
                let digit = in_range(x7, b'0', b'9');
                let word = word_bytes(x, x7, digit);
                let mut s = word & !((word << 8) | carry);
                carry = word >> 56;
                if self.skip_digit_starts {
                    s &= !digit;
                }
                starts |= movemask(s) << (8 * k);
            }
            if high & HI == 0 {
                // First stage for all starts of the block without a branch per start (about
                // one word in five passes it; a branch per start would mispredict often).
                let mut pass = 0u64;
                while starts != 0 {
                    let i = starts.trailing_zeros();
                    starts &= starts - 1;
                    pass |= u64::from(prefixes.pair_passes(bytes, base + i as usize)) << i;
                }
                while pass != 0 {
                    let p = base + pass.trailing_zeros() as usize;
                    pass &= pass - 1;
                    if prefixes.may_start_full(bytes, p) {
                        on_start(p);
                    }
                }
            } else {
                exact_starts(hay, base, len, self.skip_digit_starts, &mut |p| {
                    if prefixes.may_start(bytes, p) {
                        on_start(p);
                    }
                });
            }
        }
    }
}

/// Calls `on_run` for every maximal run of non-lowercase bytes at least `min` long, probing
/// every `min`-th byte: a lowercase probe rules out every run through it.
fn long_runs(bytes: &[u8], min: usize, on_run: &mut impl FnMut(usize, usize)) {
    let inside = |b: u8| !b.is_ascii_lowercase();
    // Every byte before `floor` belongs to a run already reported or ruled out.
    let mut floor = 0;
    let mut probe = min - 1;
    while let Some(&b) = bytes.get(probe) {
        if !inside(b) {
            probe += min;
            continue;
        }
        let mut start = probe;
        while start > floor && inside(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < bytes.len() && inside(bytes[end]) {
            end += 1;
        }
        if end - start >= min {
            on_run(start, end);
        }
        // `bytes[end]` is lowercase: the next run starts after it, and covers `end + min`.
        floor = end;
        probe = end + min;
    }
}

/// Word starts in a block with non-ASCII bytes, decoding characters.
fn exact_starts(
    hay: &str,
    base: usize,
    len: usize,
    skip_digits: bool,
    on_start: &mut impl FnMut(usize),
) {
    for p in base..base + len {
        if !hay.is_char_boundary(p) {
            continue;
        }
        let Some(c) = hay[p..].chars().next() else {
            continue;
        };
        if !(c.is_alphanumeric() || c == '_') || (skip_digits && c.is_ascii_digit()) {
            continue;
        }
        let prev_ascii_word = hay.as_bytes()[..p]
            .last()
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !prev_ascii_word {
            on_start(p);
        }
    }
}

/// A two-stage filter over the first one to four ASCII-case-folded bytes of word-start
/// prefixes: an exact bitmap of first byte pairs (one load, rejects most word starts), then a
/// Bloom filter over the full keys.
#[derive(Debug, Clone)]
pub(crate) struct PrefixBloom {
    pairs: Box<[u64; 1024]>,
    bits: Vec<u64>,
    shift: u32,
    /// Bit `l` set: some prefix key is `l` bytes long (1..=4).
    lens: u8,
    digit_first: bool,
}

/// Index of a byte pair in the pair bitmap (raw bytes: case variants are inserted instead).
#[inline(always)]
fn pair(b0: u8, b1: u8) -> usize {
    usize::from(b0) << 8 | usize::from(b1)
}

/// The byte and, for an ASCII letter, its other case.
fn cases(b: u8) -> impl Iterator<Item = u8> {
    let other = if b.is_ascii_lowercase() {
        Some(b.to_ascii_uppercase())
    } else if b.is_ascii_uppercase() {
        Some(b.to_ascii_lowercase())
    } else {
        None
    };
    std::iter::once(b).chain(other)
}

impl PrefixBloom {
    /// Sixteen bits per key and two probes: about 1.5% false positives past the pair stage.
    pub(crate) fn new(keys: usize) -> Self {
        let want = (keys.max(1) * 16)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 26);
        Self {
            pairs: Box::new([0; 1024]),
            bits: vec![0; want / 64],
            shift: 64 - want.trailing_zeros(),
            lens: 0,
            digit_first: false,
        }
    }

    pub(crate) fn insert(&mut self, prefix: &[u8]) {
        let len = prefix.len().min(4);
        let Some(&b0) = prefix.first() else {
            return;
        };
        for c0 in cases(b0) {
            match prefix.get(1) {
                Some(&b1) => cases(b1).for_each(|c1| self.set_pair(pair(c0, c1))),
                // A one-byte key passes whatever follows it.
                None => (0..=255u8).for_each(|b1| self.set_pair(pair(c0, b1))),
            }
        }
        self.lens |= 1 << len;
        self.digit_first |= b0.is_ascii_digit();
        let h = hash(key(prefix, len), len);
        for bit in self.probes(h) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// Whether some prefix starts with an ASCII digit.
    pub(crate) fn digit_first(&self) -> bool {
        self.digit_first
    }

    fn set_pair(&mut self, i: usize) {
        self.pairs[i / 64] |= 1 << (i % 64);
    }

    /// Whether a prefix may start at `p`.
    #[inline(always)]
    pub(crate) fn may_start(&self, hay: &[u8], p: usize) -> bool {
        self.pair_passes(hay, p) && self.may_start_full(hay, p)
    }

    /// The first stage: the first two bytes at `p` begin some prefix, in either ASCII case (one
    /// table load).
    #[inline(always)]
    fn pair_passes(&self, hay: &[u8], p: usize) -> bool {
        let b0 = hay.get(p).copied().unwrap_or(0);
        let b1 = hay.get(p + 1).copied().unwrap_or(0);
        let i = pair(b0, b1);
        self.pairs[(i >> 6) & 1023] & (1 << (i & 63)) != 0
    }

    /// The second stage: the Bloom filter over whole keys.
    fn may_start_full(&self, hay: &[u8], p: usize) -> bool {
        let rest = &hay[p.min(hay.len())..];
        let mut lens = self.lens;
        while lens != 0 {
            let len = lens.trailing_zeros() as usize;
            lens &= lens - 1;
            if len > rest.len() {
                break;
            }
            let h = hash(key(rest, len), len);
            if self
                .probes(h)
                .iter()
                .all(|&bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
            {
                return true;
            }
        }
        false
    }

    #[inline]
    fn probes(&self, h: u64) -> [usize; 2] {
        [
            (h >> self.shift) as usize,
            (h.rotate_right(32) >> self.shift) as usize,
        ]
    }
}

#[inline]
fn key(bytes: &[u8], len: usize) -> u32 {
    let mut k = 0u32;
    for (i, &b) in bytes[..len].iter().enumerate() {
        k |= u32::from(b.to_ascii_lowercase()) << (8 * i);
    }
    k
}

#[inline]
fn hash(key: u32, len: usize) -> u64 {
    (u64::from(key) | (len as u64) << 32).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(scan: &ByteScan, hay: &str) -> (Vec<usize>, Vec<(usize, usize)>) {
        // A filter that passes every word start.
        let mut all = PrefixBloom::new(1);
        for b in 0..=255u8 {
            all.insert(&[b]);
        }
        let (mut starts, mut runs) = (Vec::new(), Vec::new());
        scan.scan(hay, &all, |p| starts.push(p), |s, e| runs.push((s, e)));
        (starts, runs)
    }

    /// The reference: word starts and non-lowercase runs, one character at a time.
    fn reference(hay: &str, min: usize) -> (Vec<usize>, Vec<(usize, usize)>) {
        let mut starts = Vec::new();
        for (p, c) in hay.char_indices() {
            let prev_word = hay[..p]
                .bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            if (c.is_alphanumeric() || c == '_') && !prev_word {
                starts.push(p);
            }
        }
        let mut runs = Vec::new();
        let mut start = None;
        for (i, &b) in hay
            .as_bytes()
            .iter()
            .chain(std::iter::once(&b'a'))
            .enumerate()
        {
            let inside = i < hay.len() && !b.is_ascii_lowercase();
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s >= min {
                        runs.push((s, i));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        (starts, runs)
    }

    #[test]
    fn matches_the_reference_across_block_edges() {
        let mut hay = String::new();
        for i in 0..40 {
            hay.push_str(&"word ".repeat(i % 7));
            hay.push_str(if i % 3 == 0 { "123-45-6789 " } else { "x_1 " });
            if i % 5 == 0 {
                hay.push_str("«Zoë» ");
            }
            if i == 20 {
                hay.push_str(&"9".repeat(150));
            }
        }
        for min in [1, 11, 64, 65, 200] {
            for skip_digits in [false, true] {
                let scan = ByteScan::new(true, skip_digits, min);
                let want = |h: &str| {
                    let (mut starts, runs) = reference(h, min);
                    if skip_digits {
                        starts.retain(|&p| !h.as_bytes()[p].is_ascii_digit());
                    }
                    (starts, runs)
                };
                assert_eq!(collect(&scan, &hay), want(&hay), "min {min}");
                for cut in [0, 1, 63, 64, 65, 127, 128, 129] {
                    let h = &hay[..hay.floor_char_boundary(cut)];
                    assert_eq!(collect(&scan, h), want(h), "cut {cut} min {min}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random text of the byte classes that matter (lowercase, uppercase, digits, `_`,
        /// punctuation, spaces, multi-byte characters), any length and run minimum: the fast
        /// scan reports exactly the reference's word starts and runs.
        #[test]
        fn scan_equals_the_reference_on_random_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "zq", "Q", "AK", "7", "42", "_", " ", "-", ".", "\n",
                    "é", "«", "Ω", "😀",
                ]),
                0..300,
            ),
            min in 1usize..80,
            skip_digits in proptest::bool::ANY,
        ) {
            let hay: String = pieces.concat();
            let scan = ByteScan::new(true, skip_digits, min);
            let (mut starts, runs) = reference(&hay, min);
            if skip_digits {
                starts.retain(|&p| !hay.as_bytes()[p].is_ascii_digit());
            }
            proptest::prop_assert_eq!(collect(&scan, &hay), (starts, runs));
        }
    }

    #[test]
    fn swar_classes_agree_with_std() {
        for b in 0..=255u8 {
            let x = u64::from(b) * L;
            let x7 = x & (0x7F * L);
            let lower = in_range(x7, b'a', b'z') & !x;
            let digit = in_range(x7, b'0', b'9');
            assert_eq!(lower != 0, b.is_ascii_lowercase(), "{b}");
            assert_eq!(digit & !x != 0, b.is_ascii_digit(), "{b}");
            let word = word_bytes(x, x7, digit) != 0;
            assert_eq!(word, b.is_ascii_alphanumeric() || b == b'_', "{b}");
        }
        assert_eq!(movemask(0x8000_0000_0000_0080), 0b1000_0001);
    }

    #[test]
    fn probing_finds_every_long_run() {
        let runs = |hay: &str, min: usize| {
            let mut out = Vec::new();
            long_runs(hay.as_bytes(), min, &mut |s, e| out.push((s, e)));
            out
        };
        assert_eq!(runs("ab 123-45-6789 cd", 11), [(2, 15)]);
        assert_eq!(runs("ab 123-45-6789 cd", 14), []);
        assert_eq!(runs("123456789", 9), [(0, 9)]);
        assert_eq!(runs("a12345678", 8), [(1, 9)]);
        assert_eq!(runs("12x4567yA", 3), [(3, 7)]);
        assert_eq!(runs("ABCDEFGH", 1), [(0, 8)]);
        // Every placement and length of a run in lowercase text, for every minimum.
        for len in 0..20 {
            for at in 0..12 {
                let hay = format!("{}{}{}", "a".repeat(at), "Z".repeat(len), "b".repeat(7));
                for min in 1..22 {
                    let want: Vec<(usize, usize)> = if len >= min {
                        vec![(at, at + len)]
                    } else {
                        vec![]
                    };
                    assert_eq!(runs(&hay, min), want, "{hay} {min}");
                }
            }
        }
    }

    #[test]
    fn bloom_has_no_false_negatives() {
        let mut bloom = PrefixBloom::new(3);
        for p in ["Acme", "sk-", "x"] {
            bloom.insert(p.as_bytes());
        }
        for (hay, p, expect) in [
            ("the ACME deal", 4, true),
            ("sk-abc", 0, true),
            ("x", 0, true),
            ("xylophone", 0, true),
            ("acm", 0, false),
            ("skate", 0, false),
        ] {
            assert_eq!(bloom.may_start(hay.as_bytes(), p), expect, "{hay}");
        }
    }
}
