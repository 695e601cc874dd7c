//! Any bytes: framing + decode + validate must not panic, and whatever decodes
//! must re-encode to a message that decodes to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ofproto::fuzzing::check_decode(data);
});
