//! `OFPT_EXPERIMENTER`: `experimenter u32, exp_type u32, data`.

use crate::error::{WireError, OFPBRC_BAD_LEN};
use bytes::{BufMut, Bytes, BytesMut};

/// Size of the fixed part of `ofp_experimenter_header` after the OpenFlow header.
pub const OFP_EXPERIMENTER_BODY_LEN: usize = 8;

/// `OFPT_EXPERIMENTER` (symmetric message).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ExperimenterMsg {
    pub experimenter: u32,
    pub exp_type: u32,
    pub data: Bytes,
}

impl ExperimenterMsg {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        if body.len() < OFP_EXPERIMENTER_BODY_LEN {
            return Err(WireError::truncated(
                OFPBRC_BAD_LEN,
                "ofp_experimenter_header",
                OFP_EXPERIMENTER_BODY_LEN,
                body.len(),
            ));
        }
        Ok(ExperimenterMsg {
            experimenter: u32::from_be_bytes([body[0], body[1], body[2], body[3]]),
            exp_type: u32::from_be_bytes([body[4], body[5], body[6], body[7]]),
            data: Bytes::copy_from_slice(&body[OFP_EXPERIMENTER_BODY_LEN..]),
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.experimenter);
        buf.put_u32(self.exp_type);
        buf.put_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experimenter_is_byte_exact() {
        let m = ExperimenterMsg {
            experimenter: 0x2320,
            exp_type: 7,
            data: Bytes::from_static(b"abc"),
        };
        let mut buf = BytesMut::new();
        m.emit_body(&mut buf);
        assert_eq!(&buf[..], b"\x00\x00\x23\x20\x00\x00\x00\x07abc");
        assert_eq!(ExperimenterMsg::parse_body(&buf).unwrap(), m);
        for n in 0..OFP_EXPERIMENTER_BODY_LEN {
            assert_eq!(
                ExperimenterMsg::parse_body(&buf[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
    }
}
