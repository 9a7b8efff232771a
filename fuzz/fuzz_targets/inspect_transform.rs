//! Inspects and transforms arbitrary bytes with the default rule packs: never a panic, every
//! transformed body is strict JSON, and transforming is idempotent.
//! The check lives in `sovgate_core::inspect::fuzzing` so `cargo test` replays the corpus too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sovgate_core::inspect::fuzzing::fuzz_check_inspect_transform(data);
});
