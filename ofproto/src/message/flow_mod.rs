//! `OFPT_FLOW_MOD`: cookie u64, cookie_mask u64, table_id u8, command u8,
//! idle_timeout u16, hard_timeout u16, priority u16, buffer_id u32,
//! out_port u32, out_group u32, flags u16, pad 2, `ofp_match` (padded to 8),
//! instructions (the rest).

use super::{min_body, parse_instructions};
use crate::error::WireError;
use crate::instruction::Instruction;
use crate::oxm::Match;
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};

/// Bytes of `ofp_flow_mod` before the match (after the OpenFlow header).
pub const OFP_FLOW_MOD_FIXED_LEN: usize = 40;
/// Smallest body: fixed part and an empty 8-byte match.
pub const OFP_FLOW_MOD_MIN_BODY_LEN: usize = OFP_FLOW_MOD_FIXED_LEN + 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowMod {
    pub cookie: u64,
    pub cookie_mask: u64,
    pub table_id: u8,
    pub command: u8,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub buffer_id: u32,
    pub out_port: u32,
    pub out_group: u32,
    pub flags: u16,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

/// Everything up to and including the match; `instructions` left empty.
fn parse_head(i: &[u8]) -> PResult<'_, FlowMod> {
    let (i, cookie) = be_u64(i)?;
    let (i, cookie_mask) = be_u64(i)?;
    let (i, table_id) = be_u8(i)?;
    let (i, command) = be_u8(i)?;
    let (i, idle_timeout) = be_u16(i)?;
    let (i, hard_timeout) = be_u16(i)?;
    let (i, priority) = be_u16(i)?;
    let (i, buffer_id) = be_u32(i)?;
    let (i, out_port) = be_u32(i)?;
    let (i, out_group) = be_u32(i)?;
    let (i, flags) = be_u16(i)?;
    let (i, match_) = Match::parse(&i[2..])?;
    Ok((
        i,
        FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags,
            match_,
            instructions: Vec::new(),
        },
    ))
}

impl FlowMod {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        min_body(body, OFP_FLOW_MOD_MIN_BODY_LEN, "ofp_flow_mod")?;
        let (rest, mut fm) = parse_head(body)?;
        fm.instructions = parse_instructions(rest)?;
        Ok(fm)
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u64(self.cookie);
        buf.put_u64(self.cookie_mask);
        buf.put_u8(self.table_id);
        buf.put_u8(self.command);
        buf.put_u16(self.idle_timeout);
        buf.put_u16(self.hard_timeout);
        buf.put_u16(self.priority);
        buf.put_u32(self.buffer_id);
        buf.put_u32(self.out_port);
        buf.put_u32(self.out_group);
        buf.put_u16(self.flags);
        put_zeros(buf, 2);
        self.match_.emit(buf);
        Instruction::emit_list(&self.instructions, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[rustfmt::skip]
    const DELETE_ALL: [u8; 48] = [
        0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 3, 0, 0, 0, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,  0xff, 0xff, 0xff, 0xff,  0, 0, 0, 0,
        0, 1, 0, 4, 0, 0, 0, 0,
    ];

    fn delete_all() -> FlowMod {
        FlowMod {
            table_id: crate::consts::OFPTT_ALL,
            command: crate::consts::OFPFC_DELETE,
            buffer_id: crate::consts::OFP_NO_BUFFER,
            out_port: crate::consts::OFPP_ANY,
            out_group: crate::consts::OFPG_ANY,
            ..Default::default()
        }
    }

    #[test]
    fn delete_all_flow_mod_is_byte_exact() {
        let mut buf = BytesMut::new();
        delete_all().emit_body(&mut buf);
        assert_eq!(&buf[..], &DELETE_ALL[..]);
        assert_eq!(FlowMod::parse_body(&DELETE_ALL).unwrap(), delete_all());
    }

    #[test]
    fn flow_mod_with_goto_table_is_byte_exact() {
        let fm = FlowMod {
            instructions: vec![Instruction::GotoTable(1)],
            ..delete_all()
        };
        let mut want = DELETE_ALL.to_vec();
        want.extend_from_slice(&[0, 1, 0, 8, 1, 0, 0, 0]);
        let mut buf = BytesMut::new();
        fm.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(FlowMod::parse_body(&want).unwrap(), fm);
    }

    #[test]
    fn flow_mod_shorter_than_fixed_part_is_bad_len() {
        for n in 0..OFP_FLOW_MOD_MIN_BODY_LEN {
            assert_eq!(
                FlowMod::parse_body(&DELETE_ALL[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
    }
}
