//! Placeholder: replaced by the rules module.
