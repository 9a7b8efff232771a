//! Finds records in arbitrary text with the default rule packs' field gate: never a panic, every
//! range inside the text on character boundaries.
//! The check lives in `sovgate_core::records::fuzzing` so `cargo test` replays the corpus too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sovgate_core::records::fuzzing::fuzz_check_records(data);
});
