//! The properties the fuzz targets check, shared with the stable-toolchain
//! corpus test (`tests/fuzz_corpus.rs`) so both exercise the same code.
//! Each function panics only when a property is violated.

use crate::codec::OfpCodec;
use crate::text::{self, FlowCommand};
use crate::Message;
use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// Any bytes: framing, decoding and validation never panic; whatever decodes
/// re-encodes to bytes that decode to the same value.
pub fn check_decode(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    let mut codec = OfpCodec;
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let Ok(msg) = frame.decode() else { continue };
        let _ = msg.validate();
        let again = msg.encode_to_vec(frame.xid());
        match Message::decode(&again) {
            Ok((xid, m)) => {
                assert_eq!(xid, frame.xid(), "xid changed on re-encode");
                assert_eq!(m, msg, "re-encoded message decodes differently");
            }
            Err(e) => panic!("re-encoded {msg:?} does not decode: {e}"),
        }
    }
}

/// Any string: the ovs-ofctl parsers never panic, and a flow that parses
/// formats back to text that parses to the same flow.
pub fn check_text(s: &str) {
    if let Ok(fm) = text::parse_flow(s, FlowCommand::Add) {
        let t = text::format_flow(&fm);
        match text::parse_flow(&t, FlowCommand::Add) {
            Ok(again) => assert_eq!(again, fm, "'{s}' formatted as '{t}' parses differently"),
            Err(e) => panic!("'{s}' formatted as '{t}', which does not parse: {e}"),
        }
    }
    let _ = text::parse_flow(s, FlowCommand::Delete);
    let _ = text::parse_group(s);
    let _ = text::parse_meter(s);
    let _ = text::parse_flows_file(s);
}
