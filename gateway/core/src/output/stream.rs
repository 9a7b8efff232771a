//! Response rules on one streamed text channel, with a bounded hold-back.
//!
//! Each fragment is appended to the held text and split at the start of the trailing run of
//! matchable characters ([`StreamBound::matchable`](crate::rules::StreamBound::matchable)): the
//! character before that point is ASCII and outside every response rule's alphabet, so no match
//! can cross it, and everything before it is final. The run is held, at most
//! [`StreamBound::hold`](crate::rules::StreamBound::hold) bytes of it; beyond that the cut moves
//! forward, and a match found across it is sent whole, redacted (its continuation, if the model
//! keeps writing it, is a new match and is redacted too). Only a pattern whose matches are longer
//! than the hold (the cap is [`MAX_HOLD`](crate::rules::MAX_HOLD) bytes) can be cut in two.
//!
//! The last character sent stays as context, so word boundaries at the start of the held text
//! are judged as they would be on the whole text.
//!
//! With an e-mail rule the run is the current word: a token is held until the next space or
//! punctuation outside the rule's alphabet arrives. Without response rules nothing is held.

use super::{apply, OutputRules, OutputTally};
use crate::vault::Vault;

/// The output-rule state of one text channel.
#[derive(Debug, Default, Clone)]
pub struct StreamFilter {
    held: String,
    /// The last character already sent, as context for the next scan.
    prev: Option<char>,
}

impl StreamFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next fragment; returns the text that is final now, with settled matches acted
    /// on. After a block (see the tally) the result must not be sent.
    pub fn push(
        &mut self,
        out_rules: &OutputRules,
        vault: &Vault,
        fragment: &str,
        tally: &mut OutputTally,
    ) -> String {
        let bound = out_rules.rules().response_stream_bound();
        let mut s = String::with_capacity(self.held.len() + fragment.len() + 4);
        if let Some(c) = self.prev {
            s.push(c);
        }
        let base = s.len();
        s.push_str(&self.held);
        s.push_str(fragment);
        let mut cut = s.len();
        for (i, c) in s[base..].char_indices().rev() {
            if !bound.matchable(c) {
                break;
            }
            cut = base + i;
        }
        let hold = bound.hold().max(1);
        if s.len() - cut > hold {
            cut = s.len() - hold;
            while !s.is_char_boundary(cut) {
                cut += 1;
            }
        }
        let mut out = String::new();
        let end = apply(out_rules.rules(), vault, &s, base, cut, tally, &mut out);
        self.prev = s[..end].chars().next_back();
        self.held = s[end..].to_owned();
        out
    }

    /// Ends the channel: the held text is final.
    pub fn finish(
        &mut self,
        out_rules: &OutputRules,
        vault: &Vault,
        tally: &mut OutputTally,
    ) -> String {
        let mut s = String::new();
        if let Some(c) = self.prev.take() {
            s.push(c);
        }
        let base = s.len();
        s.push_str(&std::mem::take(&mut self.held));
        let mut out = String::new();
        apply(out_rules.rules(), vault, &s, base, s.len(), tally, &mut out);
        out
    }

    /// Bytes held back now.
    pub fn held_len(&self) -> usize {
        self.held.len()
    }
}
