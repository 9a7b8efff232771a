//! Placeholder: replaced by the normalize module.
