//! `OFPT_EXPERIMENTER`: `experimenter u32, exp_type u32, data`.

use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::be_u32;

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
        let (_, (experimenter, exp_type, data)) =
            parse_experimenter(body, OFP_EXPERIMENTER_BODY_LEN, "ofp_experimenter_header")?;
        Ok(ExperimenterMsg {
            experimenter,
            exp_type,
            data,
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        emit_experimenter(buf, self.experimenter, self.exp_type, &self.data);
    }
}

/// `experimenter u32, exp_type u32` (a `head_len`-byte header, which must be
/// there) and opaque data to the end of `i`: the body of `OFPT_EXPERIMENTER`
/// and of `OFPMP_EXPERIMENTER` alike. Consumes all of `i`.
pub(crate) fn parse_experimenter<'a>(
    i: &'a [u8],
    head_len: usize,
    what: &str,
) -> PResult<'a, (u32, u32, Bytes)> {
    let (data, b) = take_exact(i, head_len, OFPBRC_BAD_LEN, what)?;
    let (b, experimenter) = be_u32(b)?;
    let (_, exp_type) = be_u32(b)?;
    Ok((
        &data[data.len()..],
        (experimenter, exp_type, Bytes::copy_from_slice(data)),
    ))
}

/// Writes what [`parse_experimenter`] reads.
pub(crate) fn emit_experimenter(buf: &mut BytesMut, experimenter: u32, exp_type: u32, data: &[u8]) {
    buf.put_u32(experimenter);
    buf.put_u32(exp_type);
    buf.put_slice(data);
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
