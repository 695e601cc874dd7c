//! `ofp_instruction_*`: every OF1.3 instruction. Experimenter instructions are
//! kept as opaque bytes.

use crate::action::Action;
use crate::error::WireError;
use crate::wire::PResult;
use bytes::{Bytes, BytesMut};

// ofp_instruction_type
pub const OFPIT_GOTO_TABLE: u16 = 1;
pub const OFPIT_WRITE_METADATA: u16 = 2;
pub const OFPIT_WRITE_ACTIONS: u16 = 3;
pub const OFPIT_APPLY_ACTIONS: u16 = 4;
pub const OFPIT_CLEAR_ACTIONS: u16 = 5;
pub const OFPIT_METER: u16 = 6;
pub const OFPIT_EXPERIMENTER: u16 = 0xffff;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Instruction {
    GotoTable(u8),
    WriteMetadata { metadata: u64, mask: u64 },
    WriteActions(Vec<Action>),
    ApplyActions(Vec<Action>),
    ClearActions,
    Meter(u32),
    /// `data` is everything after the experimenter id.
    Experimenter { experimenter: u32, data: Bytes },
}

impl Instruction {
    pub fn parse(_i: &[u8]) -> PResult<'_, Instruction> {
        todo!()
    }

    pub fn emit(&self, _buf: &mut BytesMut) {
        todo!()
    }

    pub fn wire_len(&self) -> usize {
        todo!()
    }

    /// Parses a whole instruction list (the slice holds exactly the list).
    pub fn parse_list(_i: &[u8]) -> Result<Vec<Instruction>, WireError> {
        todo!()
    }

    pub fn emit_list(list: &[Instruction], buf: &mut BytesMut) {
        for x in list {
            x.emit(buf);
        }
    }
}
