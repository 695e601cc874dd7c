//! `OFPMP_FLOW`: `ofp_flow_stats_request` and `ofp_flow_stats`.

use super::{skip, take_entry};
use crate::consts::{OFPG_ANY, OFPP_ANY, OFPTT_ALL};
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::instruction::Instruction;
use crate::oxm::Match;
use crate::wire::{patch_len, take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};

/// Fixed part of `ofp_flow_stats_request` / `ofp_aggregate_stats_request`
/// before the match.
pub const OFP_FLOW_STATS_REQUEST_FIXED_LEN: usize = 32;
/// Fixed part of `ofp_flow_stats` before the match.
pub const OFP_FLOW_STATS_FIXED_LEN: usize = 48;
/// `sizeof(struct ofp_flow_stats)`: the fixed part plus an empty 8-byte match.
pub const OFP_FLOW_STATS_LEN: usize = 56;

/// `ofp_flow_stats_request` (also the layout of `ofp_aggregate_stats_request`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FlowStatsRequest {
    /// `OFPTT_ALL` for all tables.
    pub table_id: u8,
    /// `OFPP_ANY` = no restriction.
    pub out_port: u32,
    /// `OFPG_ANY` = no restriction.
    pub out_group: u32,
    pub cookie: u64,
    /// 0 = cookie not restricted.
    pub cookie_mask: u64,
    pub match_: Match,
}

impl Default for FlowStatsRequest {
    /// Every flow of every table.
    fn default() -> Self {
        FlowStatsRequest {
            table_id: OFPTT_ALL,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::default(),
        }
    }
}

impl FlowStatsRequest {
    pub fn parse(i: &[u8]) -> PResult<'_, FlowStatsRequest> {
        let (i, fixed) = take_exact(
            i,
            OFP_FLOW_STATS_REQUEST_FIXED_LEN,
            OFPBRC_BAD_LEN,
            "flow stats request",
        )?;
        let (b, table_id) = be_u8(fixed)?;
        let (b, _) = skip(b, 3)?;
        let (b, out_port) = be_u32(b)?;
        let (b, out_group) = be_u32(b)?;
        let (b, _) = skip(b, 4)?;
        let (b, cookie) = be_u64(b)?;
        let (_, cookie_mask) = be_u64(b)?;
        let (i, match_) = Match::parse(i)?;
        Ok((
            i,
            FlowStatsRequest {
                table_id,
                out_port,
                out_group,
                cookie,
                cookie_mask,
                match_,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u8(self.table_id);
        buf.put_bytes(0, 3);
        buf.put_u32(self.out_port);
        buf.put_u32(self.out_group);
        buf.put_bytes(0, 4);
        buf.put_u64(self.cookie);
        buf.put_u64(self.cookie_mask);
        self.match_.emit(buf);
    }
}

/// One `ofp_flow_stats` entry of a FLOW reply.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowStats {
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    /// `OFPFF_*` flags, raw.
    pub flags: u16,
    pub cookie: u64,
    pub packet_count: u64,
    pub byte_count: u64,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

impl FlowStats {
    pub fn parse(i: &[u8]) -> PResult<'_, FlowStats> {
        let (rest, entry) = take_entry(
            i,
            OFP_FLOW_STATS_FIXED_LEN,
            0,
            OFP_FLOW_STATS_LEN,
            "flow stats",
        )?;
        let (b, _length) = be_u16(entry)?;
        let (b, table_id) = be_u8(b)?;
        let (b, _) = skip(b, 1)?;
        let (b, duration_sec) = be_u32(b)?;
        let (b, duration_nsec) = be_u32(b)?;
        let (b, priority) = be_u16(b)?;
        let (b, idle_timeout) = be_u16(b)?;
        let (b, hard_timeout) = be_u16(b)?;
        let (b, flags) = be_u16(b)?;
        let (b, _) = skip(b, 4)?;
        let (b, cookie) = be_u64(b)?;
        let (b, packet_count) = be_u64(b)?;
        let (b, byte_count) = be_u64(b)?;
        let (b, match_) = Match::parse(b)?;
        let instructions = Instruction::parse_list(b).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            FlowStats {
                table_id,
                duration_sec,
                duration_nsec,
                priority,
                idle_timeout,
                hard_timeout,
                flags,
                cookie,
                packet_count,
                byte_count,
                match_,
                instructions,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // length, patched below
        buf.put_u8(self.table_id);
        buf.put_u8(0);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        buf.put_u16(self.priority);
        buf.put_u16(self.idle_timeout);
        buf.put_u16(self.hard_timeout);
        buf.put_u16(self.flags);
        buf.put_bytes(0, 4);
        buf.put_u64(self.cookie);
        buf.put_u64(self.packet_count);
        buf.put_u64(self.byte_count);
        self.match_.emit(buf);
        Instruction::emit_list(&self.instructions, buf);
        patch_len(buf, start, start);
    }

    /// The match and the instruction list are what the spec allows
    /// (`Match::validate`, then `Instruction::check`).
    pub fn validate(&self) -> Result<(), WireError> {
        self.match_.validate()?;
        Instruction::check(&self.instructions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::oxm::OxmField;

    fn sample_match() -> Match {
        Match {
            fields: vec![OxmField::InPort(3), OxmField::EthType(0x0800)],
        }
    }

    #[test]
    fn flow_stats_request_round_trips() {
        let r = FlowStatsRequest {
            table_id: 4,
            out_port: 7,
            out_group: OFPG_ANY,
            cookie: 0x1122_3344_5566_7788,
            cookie_mask: u64::MAX,
            match_: sample_match(),
        };
        let mut buf = BytesMut::new();
        r.emit(&mut buf);
        assert_eq!(
            buf.len(),
            OFP_FLOW_STATS_REQUEST_FIXED_LEN + r.match_.wire_len()
        );
        let (rest, back) = FlowStatsRequest::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, r);
    }

    #[test]
    fn flow_stats_request_short_fixed_part_is_bad_len() {
        let e = FlowStatsRequest::parse(&[0u8; 31]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }

    #[test]
    fn flow_stats_round_trips_with_instructions() {
        let f = FlowStats {
            table_id: 1,
            duration_sec: 10,
            duration_nsec: 20,
            priority: 100,
            idle_timeout: 30,
            hard_timeout: 60,
            flags: 1,
            cookie: 0xdead,
            packet_count: 5,
            byte_count: 500,
            match_: sample_match(),
            instructions: vec![
                Instruction::ApplyActions(vec![Action::Output {
                    port: 2,
                    max_len: 0xffff,
                }]),
                Instruction::GotoTable(2),
            ],
        };
        let mut buf = BytesMut::new();
        f.emit(&mut buf);
        let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
        assert_eq!(len, buf.len());
        let (rest, back) = FlowStats::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, f);
    }

    #[test]
    fn flow_stats_length_shorter_than_fixed_part_is_bad_len() {
        let mut b = [0u8; 64];
        b[1] = 48; // length 48 < 56
        let e = FlowStats::parse(&b).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }

    #[test]
    fn flow_stats_length_past_input_is_bad_len() {
        let mut b = [0u8; 64];
        b[1] = 72;
        let e = FlowStats::parse(&b).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
