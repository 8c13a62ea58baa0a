//! The link decoder on arbitrary bytes, with the link fuzzer's oracle
//! (`neurolab_core::link::check_invariants`): opening never panics and always gives a valid
//! config of some lab; a link that decodes validates, fits the budget, re-encodes to itself and
//! round-trips as a protocol command.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(fragment) = std::str::from_utf8(data) {
        if let Err(finding) = neurolab_core::link::check_invariants(fragment) {
            panic!("{finding}");
        }
    }
});
