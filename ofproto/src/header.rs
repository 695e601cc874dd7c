//! `ofp_header`: the 8 bytes in front of every OpenFlow message.

use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::PResult;
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, u8 as be_u8};

/// The wire version this crate speaks: OpenFlow 1.3.
pub const OFP_VERSION: u8 = 0x04;
/// Size of `ofp_header`.
pub const OFP_HEADER_LEN: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    pub version: u8,
    pub msg_type: u8,
    pub length: u16,
    pub xid: u32,
}

impl Header {
    pub fn parse(i: &[u8]) -> PResult<'_, Header> {
        if i.len() < OFP_HEADER_LEN {
            return Err(nom::Err::Failure(WireError::truncated(
                OFPBRC_BAD_LEN,
                "ofp_header",
                OFP_HEADER_LEN,
                i.len(),
            )));
        }
        let (i, version) = be_u8(i)?;
        let (i, msg_type) = be_u8(i)?;
        let (i, length) = be_u16(i)?;
        let (i, xid) = be_u32(i)?;
        Ok((
            i,
            Header {
                version,
                msg_type,
                length,
                xid,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u8(self.version);
        buf.put_u8(self.msg_type);
        buf.put_u16(self.length);
        buf.put_u32(self.xid);
    }
}
