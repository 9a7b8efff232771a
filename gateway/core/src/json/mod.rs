//! Placeholder: replaced by the json module.
