//! Any string: the ovs-ofctl flow/group/meter parsers must not panic, and a
//! parsed flow formats back to text that parses to the same flow.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        ofproto::fuzzing::check_text(s);
    }
});
