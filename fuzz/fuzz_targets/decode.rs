//! Every decoder (sniffing, PDF text, PNG and JPEG metadata, base64 payloads and runs, the
//! entity/percent/tag view) on arbitrary bytes: never a panic, every range in bounds, base64
//! re-encoding round-trips. The check lives in `sovgate_core::decode::fuzzing` so `cargo test`
//! replays the corpus too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sovgate_core::decode::fuzzing::fuzz_check_decoders(data);
});
