//! `ofp_action_*`: every OF1.3 action. Experimenter actions (Nicira, ONF, ...)
//! are kept as opaque bytes and re-emitted unchanged.

use crate::error::WireError;
use crate::oxm::OxmField;
use crate::wire::PResult;
use bytes::{Bytes, BytesMut};

// ofp_action_type
pub const OFPAT_OUTPUT: u16 = 0;
pub const OFPAT_COPY_TTL_OUT: u16 = 11;
pub const OFPAT_COPY_TTL_IN: u16 = 12;
pub const OFPAT_SET_MPLS_TTL: u16 = 15;
pub const OFPAT_DEC_MPLS_TTL: u16 = 16;
pub const OFPAT_PUSH_VLAN: u16 = 17;
pub const OFPAT_POP_VLAN: u16 = 18;
pub const OFPAT_PUSH_MPLS: u16 = 19;
pub const OFPAT_POP_MPLS: u16 = 20;
pub const OFPAT_SET_QUEUE: u16 = 21;
pub const OFPAT_GROUP: u16 = 22;
pub const OFPAT_SET_NW_TTL: u16 = 23;
pub const OFPAT_DEC_NW_TTL: u16 = 24;
pub const OFPAT_SET_FIELD: u16 = 25;
pub const OFPAT_PUSH_PBB: u16 = 26;
pub const OFPAT_POP_PBB: u16 = 27;
pub const OFPAT_EXPERIMENTER: u16 = 0xffff;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Action {
    Output { port: u32, max_len: u16 },
    CopyTtlOut,
    CopyTtlIn,
    SetMplsTtl(u8),
    DecMplsTtl,
    PushVlan(u16),
    PopVlan,
    PushMpls(u16),
    PopMpls(u16),
    SetQueue(u32),
    Group(u32),
    SetNwTtl(u8),
    DecNwTtl,
    SetField(OxmField),
    PushPbb(u16),
    PopPbb,
    /// `ofp_action_experimenter`: `data` is everything after the experimenter id
    /// (including any padding), so it re-emits byte for byte.
    Experimenter { experimenter: u32, data: Bytes },
}

impl Action {
    pub fn parse(_i: &[u8]) -> PResult<'_, Action> {
        todo!()
    }

    pub fn emit(&self, _buf: &mut BytesMut) {
        todo!()
    }

    pub fn wire_len(&self) -> usize {
        todo!()
    }

    /// Parses a whole action list (the slice holds exactly the list).
    pub fn parse_list(_i: &[u8]) -> Result<Vec<Action>, WireError> {
        todo!()
    }

    pub fn emit_list(actions: &[Action], buf: &mut BytesMut) {
        for a in actions {
            a.emit(buf);
        }
    }
}
