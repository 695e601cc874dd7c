//! `OFPT_FLOW_REMOVED`: cookie u64, priority u16, reason u8, table_id u8,
//! duration_sec u32, duration_nsec u32, idle_timeout u16, hard_timeout u16,
//! packet_count u64, byte_count u64, `ofp_match` (padded to 8; nothing after it).

use super::min_body;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::oxm::Match;
use crate::wire::{finish, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};

/// Bytes of `ofp_flow_removed` before the match (after the OpenFlow header).
pub const OFP_FLOW_REMOVED_FIXED_LEN: usize = 40;
/// Smallest body: fixed part and an empty 8-byte match.
pub const OFP_FLOW_REMOVED_MIN_BODY_LEN: usize = OFP_FLOW_REMOVED_FIXED_LEN + 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowRemoved {
    pub cookie: u64,
    pub priority: u16,
    pub reason: u8,
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub packet_count: u64,
    pub byte_count: u64,
    pub match_: Match,
}

fn parse(i: &[u8]) -> PResult<'_, FlowRemoved> {
    let (i, cookie) = be_u64(i)?;
    let (i, priority) = be_u16(i)?;
    let (i, reason) = be_u8(i)?;
    let (i, table_id) = be_u8(i)?;
    let (i, duration_sec) = be_u32(i)?;
    let (i, duration_nsec) = be_u32(i)?;
    let (i, idle_timeout) = be_u16(i)?;
    let (i, hard_timeout) = be_u16(i)?;
    let (i, packet_count) = be_u64(i)?;
    let (i, byte_count) = be_u64(i)?;
    let (i, match_) = Match::parse(i)?;
    Ok((
        i,
        FlowRemoved {
            cookie,
            priority,
            reason,
            table_id,
            duration_sec,
            duration_nsec,
            idle_timeout,
            hard_timeout,
            packet_count,
            byte_count,
            match_,
        },
    ))
}

impl FlowRemoved {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        min_body(body, OFP_FLOW_REMOVED_MIN_BODY_LEN, "ofp_flow_removed")?;
        finish(parse(body), OFPBRC_BAD_LEN, "ofp_flow_removed")
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u64(self.cookie);
        buf.put_u16(self.priority);
        buf.put_u8(self.reason);
        buf.put_u8(self.table_id);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        buf.put_u16(self.idle_timeout);
        buf.put_u16(self.hard_timeout);
        buf.put_u64(self.packet_count);
        buf.put_u64(self.byte_count);
        self.match_.emit(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const EMPTY_MATCH: [u8; 48] = [
        0, 0, 0, 0, 0, 0, 0, 9,  0xff, 0xff, 2, 0,  0, 0, 0, 3,  0, 0, 0, 4,  0, 5, 0, 6,
        0, 0, 0, 0, 0, 0, 0, 7,  0, 0, 0, 0, 0, 0, 0, 8,
        0, 1, 0, 4, 0, 0, 0, 0,
    ];

    fn empty_match() -> FlowRemoved {
        FlowRemoved {
            cookie: 9,
            priority: 0xffff,
            reason: crate::consts::OFPRR_DELETE,
            table_id: 0,
            duration_sec: 3,
            duration_nsec: 4,
            idle_timeout: 5,
            hard_timeout: 6,
            packet_count: 7,
            byte_count: 8,
            match_: Match::default(),
        }
    }

    #[test]
    fn flow_removed_is_byte_exact() {
        let mut buf = BytesMut::new();
        empty_match().emit_body(&mut buf);
        assert_eq!(&buf[..], &EMPTY_MATCH[..]);
        assert_eq!(
            FlowRemoved::parse_body(&EMPTY_MATCH).unwrap(),
            empty_match()
        );
    }

    #[test]
    fn flow_removed_wrong_lengths_are_bad_len() {
        for n in 0..OFP_FLOW_REMOVED_MIN_BODY_LEN {
            assert_eq!(
                FlowRemoved::parse_body(&EMPTY_MATCH[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
        let mut long = EMPTY_MATCH.to_vec();
        long.extend_from_slice(&[0; 8]);
        assert_eq!(
            FlowRemoved::parse_body(&long).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
