//! Parses arbitrary bytes; accepted documents must have spans that hold, splice back to
//! themselves, and survive removal of their top-level members or elements as valid JSON.
//! The check lives in `sovgate_core::json::fuzzing` so `cargo test` replays the corpus too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sovgate_core::json::fuzzing::fuzz_check_parse(data);
});
