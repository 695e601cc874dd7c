//! `OFPT_PACKET_IN`: buffer_id u32, total_len u16, reason u8, table_id u8,
//! cookie u64, `ofp_match` (padded to 8), pad 2, data (the rest).

use super::min_body;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::oxm::Match;
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};

/// Bytes of `ofp_packet_in` before the match (after the OpenFlow header).
pub const OFP_PACKET_IN_FIXED_LEN: usize = 16;
/// Smallest body: fixed part, an empty 8-byte match, 2 bytes of padding.
pub const OFP_PACKET_IN_MIN_BODY_LEN: usize = OFP_PACKET_IN_FIXED_LEN + 8 + 2;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PacketIn {
    pub buffer_id: u32,
    pub total_len: u16,
    pub reason: u8,
    pub table_id: u8,
    pub cookie: u64,
    pub match_: Match,
    pub data: Bytes,
}

type Fixed = (u32, u16, u8, u8, u64);

fn parse_fixed(i: &[u8]) -> PResult<'_, Fixed> {
    let (i, buffer_id) = be_u32(i)?;
    let (i, total_len) = be_u16(i)?;
    let (i, reason) = be_u8(i)?;
    let (i, table_id) = be_u8(i)?;
    let (i, cookie) = be_u64(i)?;
    Ok((i, (buffer_id, total_len, reason, table_id, cookie)))
}

impl PacketIn {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        min_body(body, OFP_PACKET_IN_MIN_BODY_LEN, "ofp_packet_in")?;
        let (i, (buffer_id, total_len, reason, table_id, cookie)) = parse_fixed(body)?;
        let (i, match_) = Match::parse(i)?;
        if i.len() < 2 {
            return Err(WireError::truncated(
                OFPBRC_BAD_LEN,
                "ofp_packet_in padding after the match",
                2,
                i.len(),
            ));
        }
        Ok(PacketIn {
            buffer_id,
            total_len,
            reason,
            table_id,
            cookie,
            match_,
            data: Bytes::copy_from_slice(&i[2..]),
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.buffer_id);
        buf.put_u16(self.total_len);
        buf.put_u8(self.reason);
        buf.put_u8(self.table_id);
        buf.put_u64(self.cookie);
        self.match_.emit(buf);
        put_zeros(buf, 2);
        buf.put_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oxm::OxmField;

    fn sample() -> PacketIn {
        PacketIn {
            buffer_id: crate::consts::OFP_NO_BUFFER,
            total_len: 4,
            reason: crate::consts::OFPR_ACTION,
            table_id: 3,
            cookie: 0x0102_0304_0506_0708,
            match_: Match {
                fields: vec![OxmField::InPort(1)],
            },
            data: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
        }
    }

    #[rustfmt::skip]
    const SAMPLE: [u8; 38] = [
        0xff, 0xff, 0xff, 0xff, 0, 4, 1, 3, 1, 2, 3, 4, 5, 6, 7, 8,
        0, 1, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, // match: in_port=1, padded
        0, 0, 0xde, 0xad, 0xbe, 0xef,
    ];

    #[test]
    fn packet_in_is_byte_exact() {
        let mut buf = BytesMut::new();
        sample().emit_body(&mut buf);
        assert_eq!(&buf[..], &SAMPLE[..]);
        assert_eq!(PacketIn::parse_body(&SAMPLE).unwrap(), sample());
    }

    #[test]
    fn packet_in_without_data_or_padding() {
        // Data may be empty; the 2 pad bytes may not be missing.
        assert!(PacketIn::parse_body(&SAMPLE[..34]).unwrap().data.is_empty());
        assert_eq!(
            PacketIn::parse_body(&SAMPLE[..33]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
        assert_eq!(
            PacketIn::parse_body(&SAMPLE[..32]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }

    #[test]
    fn packet_in_shorter_than_fixed_part_is_bad_len() {
        for n in 0..OFP_PACKET_IN_MIN_BODY_LEN {
            assert_eq!(
                PacketIn::parse_body(&SAMPLE[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
    }
}
