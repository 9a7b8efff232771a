//! Bounds on what a rule author can make the gateway build.
//!
//! Rule files come from people, and a typo (`\w{1,100000}`) or an oversized dictionary must fail
//! at `sovgate rules check` with a message naming the rule, not exhaust memory in the proxy. The
//! values leave generous room for real rule sets: the default packs use a small fraction, and a
//! 100k-entry matter dictionary fits.

/// Longest regex source, in bytes.
pub(crate) const MAX_REGEX_LEN: usize = 16 * 1024;
/// Nesting depth of a regex (groups, repetitions).
pub(crate) const REGEX_NEST_LIMIT: u32 = 100;
/// Compiled size of one regex (NFA, one-pass DFA, full DFA each).
pub(crate) const REGEX_SIZE_LIMIT: usize = 4 << 20;
/// Compiled size of all plain regexes together.
pub(crate) const REGEX_SET_SIZE_LIMIT: usize = 64 << 20;
/// Lazy DFA cache per search thread.
pub(crate) const REGEX_CACHE_BYTES: usize = 4 << 20;
/// Backtracking steps one `fancy-regex` search may take before it gives up (and blocks).
pub(crate) const FANCY_BACKTRACK_LIMIT: usize = 1_000_000;

/// A validated regex match at most this long is retried shorter when it fails validation.
pub(crate) const MAX_SHRINK_LEN: usize = 256;
/// How many shorter matches are tried: enough for a greedy pattern that swallowed a word or two,
/// small enough that text full of near-miss numbers costs a constant per candidate.
pub(crate) const MAX_SHRINK_TRIES: usize = 4;

/// Longest single literal, in bytes.
pub(crate) const MAX_LITERAL_LEN: usize = 1024;
/// Literal patterns over all literal rules.
pub(crate) const MAX_LITERALS: usize = 1_000_000;
/// Bytes of all literal patterns together.
pub(crate) const MAX_LITERAL_BYTES: usize = 64 << 20;
/// Memory of the literal automaton.
pub(crate) const MAX_AUTOMATON_BYTES: usize = 512 << 20;
/// Size of one `patterns_file`.
pub(crate) const MAX_PATTERNS_FILE_BYTES: u64 = 64 << 20;
