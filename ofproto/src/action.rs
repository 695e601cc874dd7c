//! `ofp_action_*`: every OF1.3 action. Experimenter actions (Nicira, ONF, ...)
//! are kept as opaque bytes and re-emitted unchanged.
//!
//! Every action starts with `type: u16, len: u16`; `len` counts the whole
//! action, is at least 8 and a multiple of 8 (OF1.3.5 §7.2.5). The parser
//! checks the framing first (so a list can always be walked or rejected),
//! then the type, then the per-type length. It accepts any argument value
//! the layout can carry (e.g. `push_pbb` with ethertype 0x1234, as in the
//! golden vectors); whether the datapath can execute an action is
//! [`Action::check_args`]'s business, called before a flow is installed.

use crate::consts::{
    OFPG_MAX, OFPP_ALL, OFPP_ANY, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_MAX,
    OFPP_NORMAL, OFPP_TABLE,
};
use crate::error::{
    ErrorCode, WireError, OFPBAC_BAD_ARGUMENT, OFPBAC_BAD_LEN, OFPBAC_BAD_OUT_GROUP,
    OFPBAC_BAD_OUT_PORT, OFPBAC_BAD_SET_ARGUMENT, OFPBAC_BAD_SET_LEN, OFPBAC_BAD_SET_TYPE,
    OFPBAC_BAD_TYPE,
};
use crate::oxm::{
    basic_field_payload_len, OxmField, OFPXMC_OPENFLOW_BASIC, OFPXMT_OFB_IN_PHY_PORT,
    OFPXMT_OFB_IN_PORT, OFPXMT_OFB_IPV6_EXTHDR, OFPXMT_OFB_METADATA,
};
use crate::wire::{fail, pad8, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32, u8 as be_u8};

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

// Structure sizes (`sizeof(struct ofp_action_*)`), named as in the spec.
/// `ofp_action_header`: type, len, 4 bytes of padding. Also the smallest legal action.
pub const OFP_ACTION_HEADER_SIZE: usize = 8;
/// `ofp_action_output`: port u32, max_len u16, pad 6.
pub const OFP_ACTION_OUTPUT_SIZE: usize = 16;
/// `ofp_action_group`: group_id u32.
pub const OFP_ACTION_GROUP_SIZE: usize = 8;
/// `ofp_action_set_queue`: queue_id u32.
pub const OFP_ACTION_SET_QUEUE_SIZE: usize = 8;
/// `ofp_action_mpls_ttl`: mpls_ttl u8, pad 3.
pub const OFP_ACTION_MPLS_TTL_SIZE: usize = 8;
/// `ofp_action_nw_ttl`: nw_ttl u8, pad 3.
pub const OFP_ACTION_NW_TTL_SIZE: usize = 8;
/// `ofp_action_push` (VLAN, MPLS, PBB): ethertype u16, pad 2.
pub const OFP_ACTION_PUSH_SIZE: usize = 8;
/// `ofp_action_pop_mpls`: ethertype u16, pad 2.
pub const OFP_ACTION_POP_MPLS_SIZE: usize = 8;
/// `ofp_action_set_field` without its OXM: type, len, then the TLV starts at
/// offset 4. The smallest legal set_field (an OXM with an empty payload).
pub const OFP_ACTION_SET_FIELD_SIZE: usize = 8;
/// `ofp_action_experimenter_header`: type, len, experimenter u32.
pub const OFP_ACTION_EXPERIMENTER_HEADER_SIZE: usize = 8;

/// Bytes of `type` + `len`: where an action's own fields start.
const TL_LEN: usize = 4;

/// The ethertypes `push_vlan` may push: 802.1Q and 802.1ad.
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
/// The ethertypes `push_mpls` may push: MPLS unicast and multicast.
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
/// The ethertype `push_pbb` may push: 802.1ah I-TAG.
pub const ETH_TYPE_PBB: u16 = 0x88e7;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Action {
    Output {
        port: u32,
        max_len: u16,
    },
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
    Experimenter {
        experimenter: u32,
        data: Bytes,
    },
}

/// Spec name of an action type (`OFPAT_OUTPUT`, ...); `None` for types OF1.3 does not define.
pub fn action_type_name(ty: u16) -> Option<&'static str> {
    Some(match ty {
        OFPAT_OUTPUT => "OFPAT_OUTPUT",
        OFPAT_COPY_TTL_OUT => "OFPAT_COPY_TTL_OUT",
        OFPAT_COPY_TTL_IN => "OFPAT_COPY_TTL_IN",
        OFPAT_SET_MPLS_TTL => "OFPAT_SET_MPLS_TTL",
        OFPAT_DEC_MPLS_TTL => "OFPAT_DEC_MPLS_TTL",
        OFPAT_PUSH_VLAN => "OFPAT_PUSH_VLAN",
        OFPAT_POP_VLAN => "OFPAT_POP_VLAN",
        OFPAT_PUSH_MPLS => "OFPAT_PUSH_MPLS",
        OFPAT_POP_MPLS => "OFPAT_POP_MPLS",
        OFPAT_SET_QUEUE => "OFPAT_SET_QUEUE",
        OFPAT_GROUP => "OFPAT_GROUP",
        OFPAT_SET_NW_TTL => "OFPAT_SET_NW_TTL",
        OFPAT_DEC_NW_TTL => "OFPAT_DEC_NW_TTL",
        OFPAT_SET_FIELD => "OFPAT_SET_FIELD",
        OFPAT_PUSH_PBB => "OFPAT_PUSH_PBB",
        OFPAT_POP_PBB => "OFPAT_POP_PBB",
        OFPAT_EXPERIMENTER => "OFPAT_EXPERIMENTER",
        _ => return None,
    })
}

/// A name for error messages, also for types the spec does not define.
fn type_label(ty: u16) -> std::borrow::Cow<'static, str> {
    match action_type_name(ty) {
        Some(n) => n.into(),
        None => format!("action type {ty}").into(),
    }
}

/// The exact `len` of each fixed-size action type; `None` for set_field and
/// experimenter (variable) and for unknown types. A fixed-size action with
/// any other `len` is refused: a longer one would hide bytes we would drop on
/// re-emit.
fn fixed_len(ty: u16) -> Option<usize> {
    Some(match ty {
        OFPAT_OUTPUT => OFP_ACTION_OUTPUT_SIZE,
        OFPAT_COPY_TTL_OUT | OFPAT_COPY_TTL_IN | OFPAT_DEC_MPLS_TTL | OFPAT_POP_VLAN
        | OFPAT_DEC_NW_TTL | OFPAT_POP_PBB => OFP_ACTION_HEADER_SIZE,
        OFPAT_SET_MPLS_TTL => OFP_ACTION_MPLS_TTL_SIZE,
        OFPAT_SET_NW_TTL => OFP_ACTION_NW_TTL_SIZE,
        OFPAT_PUSH_VLAN | OFPAT_PUSH_MPLS | OFPAT_PUSH_PBB => OFP_ACTION_PUSH_SIZE,
        OFPAT_POP_MPLS => OFP_ACTION_POP_MPLS_SIZE,
        OFPAT_SET_QUEUE => OFP_ACTION_SET_QUEUE_SIZE,
        OFPAT_GROUP => OFP_ACTION_GROUP_SIZE,
        _ => return None,
    })
}

/// The OXM inside a set_field failed to parse, i.e. its TLV runs past the
/// action: the spec's code for that is `OFPBAC_BAD_SET_LEN`. The OXM
/// parser's reason text is kept.
fn set_field_oxm_error(e: nom::Err<WireError>) -> nom::Err<WireError> {
    let reason = match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e.reason,
        // Parsers over a complete buffer should not ask for more input; if one
        // does, the TLV ran past the action, which is the same problem.
        nom::Err::Incomplete(_) => "truncated OXM".into(),
    };
    nom::Err::Failure(WireError::new(
        OFPBAC_BAD_SET_LEN,
        format!("set_field: {reason}"),
    ))
}

/// Why set_field may not write `f`, if it may not. In precedence order:
///
/// - the field's type (`OFPBAC_BAD_SET_TYPE`): OF1.3.5 §7.2.5 excludes
///   `OXM_OF_IN_PORT`, `OXM_OF_IN_PHY_PORT` and `OXM_OF_METADATA` (which has
///   its own instruction); `OXM_OF_IPV6_EXTHDR` summarises the packet rather
///   than naming a header field; a non-basic or unknown basic OXM is opaque
///   to us, so we cannot write it;
/// - a basic TLV whose payload does not have its field's size
///   (`OFPBAC_BAD_SET_LEN`): the OXM parser keeps those as `Raw` so they
///   re-emit unchanged, and this is where they are refused;
/// - a mask (`OFPBAC_BAD_SET_ARGUMENT`): masked set_field is OF1.5; in OF1.3
///   the value is always exact.
fn set_field_problem(f: &OxmField) -> Option<(ErrorCode, String)> {
    let unsettable = |what: &str| {
        Some((
            OFPBAC_BAD_SET_TYPE,
            format!("set_field cannot write {what}"),
        ))
    };
    match f {
        OxmField::InPort(_) => return unsettable("in_port"),
        OxmField::InPhyPort(_) => return unsettable("in_phy_port"),
        OxmField::Metadata(..) => return unsettable("metadata (use write_metadata)"),
        OxmField::Ipv6Exthdr(..) => return unsettable("ipv6_exthdr"),
        OxmField::Raw(r) => {
            if r.class != OFPXMC_OPENFLOW_BASIC {
                return unsettable(&format!("OXM class {:#06x} field {}", r.class, r.field));
            }
            let Some((size, _)) = basic_field_payload_len(r.field) else {
                return unsettable(&format!("unknown basic OXM field {}", r.field));
            };
            if matches!(
                r.field,
                OFPXMT_OFB_IN_PORT
                    | OFPXMT_OFB_IN_PHY_PORT
                    | OFPXMT_OFB_METADATA
                    | OFPXMT_OFB_IPV6_EXTHDR
            ) {
                return unsettable(&format!("basic OXM field {}", r.field));
            }
            let want = if r.hasmask { 2 * size } else { size };
            if r.body.len() != want {
                return Some((
                    OFPBAC_BAD_SET_LEN,
                    format!(
                        "set_field OXM field {} has a {}-byte payload, must be {want}",
                        r.field,
                        r.body.len()
                    ),
                ));
            }
        }
        _ => {}
    }
    if f.has_mask() {
        return Some((
            OFPBAC_BAD_SET_ARGUMENT,
            format!("set_field value must not be masked in OpenFlow 1.3: {f:?}"),
        ));
    }
    // As OVS does: a value the field cannot hold is refused, not cut down.
    if let Some((v, max)) = f.value_out_of_range() {
        return Some((
            OFPBAC_BAD_SET_ARGUMENT,
            format!(
                "set_field {}: value {v:#x} exceeds {max:#x}",
                crate::oxm::basic_field_name(f.field()).unwrap_or("field")
            ),
        ));
    }
    None
}

impl Action {
    /// Parses one action from the front of `i` and returns the bytes after it.
    pub fn parse(i: &[u8]) -> PResult<'_, Action> {
        let (_, tl) = take_exact(i, TL_LEN, OFPBAC_BAD_LEN, "action header")?;
        let ty = u16::from_be_bytes([tl[0], tl[1]]);
        let len = usize::from(u16::from_be_bytes([tl[2], tl[3]]));
        // Framing first: with a bad `len` we cannot even find the next action.
        if len % 8 != 0 {
            return Err(fail(
                OFPBAC_BAD_LEN,
                format!("{} length {len} is not a multiple of 8", type_label(ty)),
            ));
        }
        let (rest, whole) = take_struct(i, len, OFP_ACTION_HEADER_SIZE, OFPBAC_BAD_LEN, "action")?;
        let body = &whole[TL_LEN..];

        // Then the exact length of fixed-size types (unknown types have none
        // and fall through to OFPBAC_BAD_TYPE below).
        if let Some(want) = fixed_len(ty) {
            if len != want {
                return Err(fail(
                    OFPBAC_BAD_LEN,
                    format!("{} has length {len}, must be {want}", type_label(ty)),
                ));
            }
        }

        // From here on `body` has the size the type's layout needs, so the
        // field readers below cannot run short.
        let action = match ty {
            OFPAT_OUTPUT => {
                let (b, port) = be_u32(body)?;
                let (_, max_len) = be_u16(b)?;
                Action::Output { port, max_len }
            }
            OFPAT_COPY_TTL_OUT => Action::CopyTtlOut,
            OFPAT_COPY_TTL_IN => Action::CopyTtlIn,
            OFPAT_DEC_MPLS_TTL => Action::DecMplsTtl,
            OFPAT_POP_VLAN => Action::PopVlan,
            OFPAT_DEC_NW_TTL => Action::DecNwTtl,
            OFPAT_POP_PBB => Action::PopPbb,
            OFPAT_SET_MPLS_TTL => Action::SetMplsTtl(be_u8(body)?.1),
            OFPAT_SET_NW_TTL => Action::SetNwTtl(be_u8(body)?.1),
            OFPAT_PUSH_VLAN => Action::PushVlan(be_u16(body)?.1),
            OFPAT_PUSH_MPLS => Action::PushMpls(be_u16(body)?.1),
            OFPAT_PUSH_PBB => Action::PushPbb(be_u16(body)?.1),
            OFPAT_POP_MPLS => Action::PopMpls(be_u16(body)?.1),
            OFPAT_SET_QUEUE => Action::SetQueue(be_u32(body)?.1),
            OFPAT_GROUP => Action::Group(be_u32(body)?.1),
            OFPAT_SET_FIELD => Action::SetField(Self::parse_set_field(len, body)?),
            OFPAT_EXPERIMENTER => {
                // `len` >= 8 is already guaranteed, so the id is there; what
                // follows belongs to the experimenter and is kept verbatim.
                let (data, experimenter) = be_u32(body)?;
                Action::Experimenter {
                    experimenter,
                    data: Bytes::copy_from_slice(data),
                }
            }
            _ => {
                return Err(fail(
                    OFPBAC_BAD_TYPE,
                    format!("unknown action type {ty} (length {len})"),
                ))
            }
        };
        Ok((rest, action))
    }

    /// `body` is the set_field action after type and len: one OXM TLV, then
    /// zero padding up to the 8-byte boundary `len` marks.
    fn parse_set_field(len: usize, body: &[u8]) -> Result<OxmField, nom::Err<WireError>> {
        let (pad, field) = OxmField::parse(body).map_err(set_field_oxm_error)?;
        let oxm_len = body.len() - pad.len();
        // The spec fixes `len` to the TLV rounded up to 8: more would be
        // unaccounted bytes, and the emitter could not reproduce them.
        let want = TL_LEN + oxm_len + pad8(TL_LEN + oxm_len);
        if len != want {
            return Err(fail(
                OFPBAC_BAD_SET_LEN,
                format!(
                    "set_field length {len} does not fit its {oxm_len}-byte OXM (must be {want})"
                ),
            ));
        }
        // As in Open vSwitch: non-zero padding is a malformed argument rather
        // than something to ignore (it also keeps re-emission byte-exact).
        if pad.iter().any(|&b| b != 0) {
            return Err(fail(
                OFPBAC_BAD_SET_ARGUMENT,
                "set_field padding after the OXM is not zero",
            ));
        }
        Ok(field)
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        // The length is patched in at the end: computing it first would walk
        // a set_field's OXM twice (this is the FLOW_MOD encode hot path).
        // It is a u16 on the wire; only an experimenter blob or an OXM built
        // in memory could exceed it, and that is a caller bug.
        let start = buf.len();
        buf.put_u16(self.action_type());
        buf.put_u16(0);
        match self {
            Action::Output { port, max_len } => {
                buf.put_u32(*port);
                buf.put_u16(*max_len);
                put_zeros(buf, 6);
            }
            Action::CopyTtlOut
            | Action::CopyTtlIn
            | Action::DecMplsTtl
            | Action::PopVlan
            | Action::DecNwTtl
            | Action::PopPbb => put_zeros(buf, 4),
            Action::SetMplsTtl(ttl) | Action::SetNwTtl(ttl) => {
                buf.put_u8(*ttl);
                put_zeros(buf, 3);
            }
            Action::PushVlan(et)
            | Action::PushMpls(et)
            | Action::PushPbb(et)
            | Action::PopMpls(et) => {
                buf.put_u16(*et);
                put_zeros(buf, 2);
            }
            Action::SetQueue(id) | Action::Group(id) => buf.put_u32(*id),
            Action::SetField(field) => {
                field.emit(buf);
                put_zeros(buf, pad8(buf.len() - start));
            }
            Action::Experimenter { experimenter, data } => {
                buf.put_u32(*experimenter);
                buf.put_slice(data);
                // Parsed values already end on an 8-byte boundary; a value
                // built in memory may not, and `len` must.
                put_zeros(buf, pad8(OFP_ACTION_EXPERIMENTER_HEADER_SIZE + data.len()));
            }
        }
        patch_len(buf, start + 2, start);
    }

    /// Bytes on the wire, padding included (always a multiple of 8).
    pub fn wire_len(&self) -> usize {
        match self {
            Action::SetField(field) => {
                let n = TL_LEN + field.wire_len();
                n + pad8(n)
            }
            Action::Experimenter { data, .. } => {
                let n = OFP_ACTION_EXPERIMENTER_HEADER_SIZE + data.len();
                n + pad8(n)
            }
            // Every other action is one fixed-size structure.
            _ => fixed_len(self.action_type()).unwrap_or(OFP_ACTION_HEADER_SIZE),
        }
    }

    /// The `OFPAT_*` value this action has on the wire.
    pub fn action_type(&self) -> u16 {
        match self {
            Action::Output { .. } => OFPAT_OUTPUT,
            Action::CopyTtlOut => OFPAT_COPY_TTL_OUT,
            Action::CopyTtlIn => OFPAT_COPY_TTL_IN,
            Action::SetMplsTtl(_) => OFPAT_SET_MPLS_TTL,
            Action::DecMplsTtl => OFPAT_DEC_MPLS_TTL,
            Action::PushVlan(_) => OFPAT_PUSH_VLAN,
            Action::PopVlan => OFPAT_POP_VLAN,
            Action::PushMpls(_) => OFPAT_PUSH_MPLS,
            Action::PopMpls(_) => OFPAT_POP_MPLS,
            Action::SetQueue(_) => OFPAT_SET_QUEUE,
            Action::Group(_) => OFPAT_GROUP,
            Action::SetNwTtl(_) => OFPAT_SET_NW_TTL,
            Action::DecNwTtl => OFPAT_DEC_NW_TTL,
            Action::SetField(_) => OFPAT_SET_FIELD,
            Action::PushPbb(_) => OFPAT_PUSH_PBB,
            Action::PopPbb => OFPAT_POP_PBB,
            Action::Experimenter { .. } => OFPAT_EXPERIMENTER,
        }
    }

    /// Parses a whole action list (the slice holds exactly the list).
    pub fn parse_list(i: &[u8]) -> Result<Vec<Action>, WireError> {
        // Every action is at least 8 bytes: the input (not a length
        // field) bounds the capacity, and one allocation serves the list.
        let mut out = Vec::with_capacity(i.len() / 8);
        let mut i = i;
        // Each successful parse consumes at least OFP_ACTION_HEADER_SIZE bytes,
        // so this terminates; a partial trailing action fails in `parse`.
        while !i.is_empty() {
            let (rest, a) = Action::parse(i)?;
            i = rest;
            out.push(a);
        }
        Ok(out)
    }

    pub fn emit_list(actions: &[Action], buf: &mut BytesMut) {
        for a in actions {
            a.emit(buf);
        }
    }

    /// Bytes on the wire of a whole list.
    pub fn list_wire_len(actions: &[Action]) -> usize {
        actions.iter().map(Action::wire_len).sum()
    }

    /// Checks the arguments a well-formed action may still get wrong, with the
    /// error the spec prescribes. The parser accepts these (golden vectors
    /// carry odd values); the datapath calls this before installing a flow.
    /// Experimenter actions are not judged here: whether an experimenter is
    /// supported is the datapath's decision.
    pub fn check_args(&self) -> Result<(), WireError> {
        let bad = |code: ErrorCode, reason: String| Err(WireError::new(code, reason));
        match self {
            Action::Output { port, .. } => {
                let reserved_ok = matches!(
                    *port,
                    OFPP_IN_PORT
                        | OFPP_TABLE
                        | OFPP_NORMAL
                        | OFPP_FLOOD
                        | OFPP_ALL
                        | OFPP_CONTROLLER
                        | OFPP_LOCAL
                );
                // Port 0 is not a valid port number, OFPP_ANY is only a
                // wildcard for requests, and the range between OFPP_MAX and
                // the reserved ports is unassigned.
                if *port == 0 || *port == OFPP_ANY || (*port > OFPP_MAX && !reserved_ok) {
                    return bad(
                        OFPBAC_BAD_OUT_PORT,
                        format!("output to invalid port {port:#x}"),
                    );
                }
                Ok(())
            }
            Action::PushVlan(et) if *et != ETH_TYPE_VLAN_8021Q && *et != ETH_TYPE_VLAN_8021AD => {
                bad(
                    OFPBAC_BAD_ARGUMENT,
                    format!("push_vlan ethertype {et:#06x} is not 0x8100 or 0x88a8"),
                )
            }
            Action::PushMpls(et) if *et != ETH_TYPE_MPLS && *et != ETH_TYPE_MPLS_MCAST => bad(
                OFPBAC_BAD_ARGUMENT,
                format!("push_mpls ethertype {et:#06x} is not 0x8847 or 0x8848"),
            ),
            Action::PushPbb(et) if *et != ETH_TYPE_PBB => bad(
                OFPBAC_BAD_ARGUMENT,
                format!("push_pbb ethertype {et:#06x} is not 0x88e7"),
            ),
            Action::SetField(field) => match set_field_problem(field) {
                Some((code, reason)) => bad(code, reason),
                None => Ok(()),
            },
            // OFPG_ALL and OFPG_ANY are wildcards for requests, not groups.
            Action::Group(id) if *id > OFPG_MAX => bad(
                OFPBAC_BAD_OUT_GROUP,
                format!("group action to invalid group {id:#x}"),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod arb {
    //! proptest strategies producing well-formed actions.

    use super::*;
    use crate::wire::MacAddr;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// A small set of exact, typed OXM fields that set_field can carry.
    pub fn set_field_oxm() -> impl Strategy<Value = OxmField> {
        prop_oneof![
            any::<[u8; 6]>().prop_map(|m| OxmField::EthDst(MacAddr(m), None)),
            any::<[u8; 6]>().prop_map(|m| OxmField::EthSrc(MacAddr(m), None)),
            any::<u32>().prop_map(|a| OxmField::Ipv4Src(Ipv4Addr::from(a), None)),
            (0u16..0x1000).prop_map(|n| OxmField::VlanVid(0x1000 | n, None)),
            any::<u16>().prop_map(OxmField::TcpDst),
            any::<u128>().prop_map(|a| OxmField::Ipv6Dst(Ipv6Addr::from(a), None)),
            (0u32..1 << 20).prop_map(OxmField::MplsLabel),
        ]
    }

    /// Experimenter payload sized so the action ends on an 8-byte boundary.
    pub fn experimenter_data() -> impl Strategy<Value = Bytes> {
        (0usize..6)
            .prop_flat_map(|words| proptest::collection::vec(any::<u8>(), words * 8))
            .prop_map(Bytes::from)
    }

    pub fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (any::<u32>(), any::<u16>())
                .prop_map(|(port, max_len)| Action::Output { port, max_len }),
            Just(Action::CopyTtlOut),
            Just(Action::CopyTtlIn),
            any::<u8>().prop_map(Action::SetMplsTtl),
            Just(Action::DecMplsTtl),
            any::<u16>().prop_map(Action::PushVlan),
            Just(Action::PopVlan),
            any::<u16>().prop_map(Action::PushMpls),
            any::<u16>().prop_map(Action::PopMpls),
            any::<u32>().prop_map(Action::SetQueue),
            any::<u32>().prop_map(Action::Group),
            any::<u8>().prop_map(Action::SetNwTtl),
            Just(Action::DecNwTtl),
            set_field_oxm().prop_map(Action::SetField),
            any::<u16>().prop_map(Action::PushPbb),
            Just(Action::PopPbb),
            (any::<u32>(), experimenter_data())
                .prop_map(|(experimenter, data)| Action::Experimenter { experimenter, data }),
        ]
    }

    pub fn action_list() -> impl Strategy<Value = Vec<Action>> {
        proptest::collection::vec(action(), 0..8)
    }

    /// A list holding every kind of action, for prefix and mutation tests.
    pub fn every_action() -> Vec<Action> {
        vec![
            Action::Output {
                port: 1,
                max_len: 128,
            },
            Action::CopyTtlOut,
            Action::CopyTtlIn,
            Action::SetMplsTtl(64),
            Action::DecMplsTtl,
            Action::PushVlan(0x8100),
            Action::PopVlan,
            Action::PushMpls(0x8847),
            Action::PopMpls(0x0800),
            Action::SetQueue(1),
            Action::Group(2),
            Action::SetNwTtl(3),
            Action::DecNwTtl,
            Action::SetField(OxmField::EthSrc(MacAddr([0, 1, 2, 3, 4, 5]), None)),
            Action::PushPbb(0x88e7),
            Action::PopPbb,
            Action::Experimenter {
                experimenter: 0x2320,
                data: Bytes::from_static(&[0, 8, 1, 2, 3, 4, 0, 0]),
            },
        ]
    }

    /// xorshift64*: deterministic bytes without an extra dependency.
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::arb::{every_action, Rng};
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;
    use crate::oxm::OxmRaw;
    use crate::wire::MacAddr;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn emit(a: &Action) -> Vec<u8> {
        let mut b = BytesMut::new();
        a.emit(&mut b);
        b.to_vec()
    }

    /// Parses `bytes` as exactly one action, expecting it to consume them all.
    fn parse_one(bytes: &[u8]) -> Result<Action, WireError> {
        let (rest, a) = Action::parse(bytes)?;
        assert!(rest.is_empty(), "{} bytes left over", rest.len());
        Ok(a)
    }

    /// `a` emits exactly `wire`, `wire` parses back to `a`, and `wire_len` agrees.
    fn round_trip(a: Action, wire: &[u8]) {
        assert_eq!(emit(&a), wire, "emit {a:?}");
        assert_eq!(a.wire_len(), wire.len(), "wire_len {a:?}");
        assert_eq!(parse_one(wire).unwrap(), a, "parse {wire:02x?}");
        // Also as a one-element list, and followed by another action.
        assert_eq!(Action::parse_list(wire).unwrap(), vec![a.clone()]);
        let mut two = wire.to_vec();
        two.extend_from_slice(&[0, 18, 0, 8, 0, 0, 0, 0]);
        assert_eq!(Action::parse_list(&two).unwrap(), vec![a, Action::PopVlan]);
    }

    fn code_of(bytes: &[u8]) -> ErrorCode {
        Action::parse_list(bytes).unwrap_err().code
    }

    #[test]
    fn output_round_trips() {
        round_trip(
            Action::Output {
                port: 0xffff_fffd,
                max_len: 0xffe5,
            },
            &[
                0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xe5, 0, 0, 0, 0, 0, 0,
            ],
        );
        round_trip(
            Action::Output {
                port: 6,
                max_len: 0,
            },
            &[0, 0, 0, 16, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0],
        );
    }

    #[test]
    fn header_only_actions_round_trip() {
        round_trip(Action::CopyTtlOut, &[0, 11, 0, 8, 0, 0, 0, 0]);
        round_trip(Action::CopyTtlIn, &[0, 12, 0, 8, 0, 0, 0, 0]);
        round_trip(Action::DecMplsTtl, &[0, 16, 0, 8, 0, 0, 0, 0]);
        round_trip(Action::PopVlan, &[0, 18, 0, 8, 0, 0, 0, 0]);
        round_trip(Action::DecNwTtl, &[0, 24, 0, 8, 0, 0, 0, 0]);
        round_trip(Action::PopPbb, &[0, 27, 0, 8, 0, 0, 0, 0]);
    }

    #[test]
    fn ttl_actions_round_trip() {
        round_trip(Action::SetMplsTtl(10), &[0, 15, 0, 8, 10, 0, 0, 0]);
        round_trip(Action::SetNwTtl(255), &[0, 23, 0, 8, 255, 0, 0, 0]);
    }

    #[test]
    fn push_pop_actions_round_trip() {
        round_trip(Action::PushVlan(0x8100), &[0, 17, 0, 8, 0x81, 0x00, 0, 0]);
        round_trip(Action::PushMpls(0x8847), &[0, 19, 0, 8, 0x88, 0x47, 0, 0]);
        round_trip(Action::PopMpls(0x0800), &[0, 20, 0, 8, 0x08, 0x00, 0, 0]);
        round_trip(Action::PushPbb(0x88e7), &[0, 26, 0, 8, 0x88, 0xe7, 0, 0]);
    }

    #[test]
    fn queue_and_group_round_trip() {
        round_trip(Action::SetQueue(3), &[0, 21, 0, 8, 0, 0, 0, 3]);
        round_trip(
            Action::Group(0xdead_beef),
            &[0, 22, 0, 8, 0xde, 0xad, 0xbe, 0xef],
        );
    }

    #[test]
    fn set_field_round_trips_with_padding() {
        // eth_dst: OXM header 80 00 06 06 + 6 bytes = 10; 4 + 10 = 14 -> 16.
        round_trip(
            Action::SetField(OxmField::EthDst(MacAddr([1, 2, 3, 4, 5, 6]), None)),
            &[0, 25, 0, 16, 0x80, 0, 6, 6, 1, 2, 3, 4, 5, 6, 0, 0],
        );
        // vlan_vid: 80 00 0c 02 + 2 bytes = 6; 4 + 6 = 10 -> 16.
        round_trip(
            Action::SetField(OxmField::VlanVid(0x1005, None)),
            &[0, 25, 0, 16, 0x80, 0, 0x0c, 2, 0x10, 0x05, 0, 0, 0, 0, 0, 0],
        );
        // ipv4_src: 80 00 16 04 + 4 bytes = 8; 4 + 8 = 12 -> 16.
        round_trip(
            Action::SetField(OxmField::Ipv4Src(Ipv4Addr::new(10, 0, 0, 1), None)),
            &[0, 25, 0, 16, 0x80, 0, 0x16, 4, 10, 0, 0, 1, 0, 0, 0, 0],
        );
        // ipv6_dst: 80 00 36 10 + 16 bytes = 20; 4 + 20 = 24, no padding.
        let mut v6 = vec![0, 25, 0, 24, 0x80, 0, 0x36, 16];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        round_trip(
            Action::SetField(OxmField::Ipv6Dst(Ipv6Addr::LOCALHOST, None)),
            &v6,
        );
        // mpls_label: 80 00 44 04 + 4 bytes; 4 + 8 = 12 -> 16.
        round_trip(
            Action::SetField(OxmField::MplsLabel(0x12345)),
            &[0, 25, 0, 16, 0x80, 0, 0x44, 4, 0, 1, 0x23, 0x45, 0, 0, 0, 0],
        );
        // tcp_dst: 80 00 1c 02 + 2 bytes; 4 + 6 = 10 -> 16.
        round_trip(
            Action::SetField(OxmField::TcpDst(80)),
            &[0, 25, 0, 16, 0x80, 0, 0x1c, 2, 0, 80, 0, 0, 0, 0, 0, 0],
        );
    }

    #[test]
    fn set_field_keeps_non_basic_oxm_opaque() {
        // ONF experimenter OXM (pbb_uca, from the golden flow_mod): class
        // 0xffff, field 0, length 7: experimenter id, exp type 0x0a00, value 1.
        let wire = [
            0, 25, 0, 16, 0xff, 0xff, 0x00, 7, 0x4f, 0x4e, 0x46, 0x00, 0x0a, 0x00, 0x01, 0,
        ];
        let a = parse_one(&wire).unwrap();
        match &a {
            Action::SetField(OxmField::Raw(r)) => {
                assert_eq!(r.class, 0xffff);
                assert!(!r.hasmask);
            }
            other => panic!("expected an opaque OXM, got {other:?}"),
        }
        assert_eq!(emit(&a), wire);
        assert_eq!(a.check_args().unwrap_err().code, OFPBAC_BAD_SET_TYPE);
    }

    #[test]
    fn experimenter_round_trips_raw() {
        round_trip(
            Action::Experimenter {
                experimenter: 0x2320,
                data: Bytes::new(),
            },
            &[0xff, 0xff, 0, 8, 0, 0, 0x23, 0x20],
        );
        // NXAST_NOTE from ovs-ofctl: subtype 8 and the note, padding included.
        let wire = [0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 8, 4, 5, 6, 7, 0, 0];
        round_trip(
            Action::Experimenter {
                experimenter: 0x2320,
                data: Bytes::from_static(&[0, 8, 4, 5, 6, 7, 0, 0]),
            },
            &wire,
        );
    }

    #[test]
    fn experimenter_built_in_memory_is_padded_to_8() {
        let a = Action::Experimenter {
            experimenter: 1,
            data: Bytes::from_static(&[9, 9, 9]),
        };
        assert_eq!(a.wire_len(), 16);
        assert_eq!(
            emit(&a),
            [0xff, 0xff, 0, 16, 0, 0, 0, 1, 9, 9, 9, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn list_round_trips_in_order() {
        let list = vec![
            Action::PushVlan(0x8100),
            Action::SetField(OxmField::VlanVid(0x1000 | 10, None)),
            Action::Output {
                port: 2,
                max_len: 0,
            },
            Action::Group(7),
        ];
        let mut b = BytesMut::new();
        Action::emit_list(&list, &mut b);
        assert_eq!(b.len(), Action::list_wire_len(&list));
        assert_eq!(b.len(), 8 + 16 + 16 + 8);
        assert_eq!(Action::parse_list(&b).unwrap(), list);
        assert_eq!(Action::parse_list(&[]).unwrap(), vec![]);
    }

    #[test]
    fn type_names_and_numbers_agree() {
        assert_eq!(action_type_name(OFPAT_OUTPUT), Some("OFPAT_OUTPUT"));
        assert_eq!(action_type_name(OFPAT_POP_PBB), Some("OFPAT_POP_PBB"));
        assert_eq!(
            action_type_name(OFPAT_EXPERIMENTER),
            Some("OFPAT_EXPERIMENTER")
        );
        // 1..=10 were OF1.0/1.1 set-field actions, gone in OF1.3.
        assert_eq!(action_type_name(5), None);
        assert_eq!(action_type_name(28), None);
        assert_eq!(Action::SetNwTtl(1).action_type(), OFPAT_SET_NW_TTL);
        assert_eq!(Action::PushPbb(1).action_type(), OFPAT_PUSH_PBB);
    }

    // ---- framing errors: OFPBAC_BAD_LEN ----

    #[test]
    fn len_below_8_is_bad_len() {
        assert_eq!(code_of(&[0, 18, 0, 0, 0, 0, 0, 0]), OFPBAC_BAD_LEN);
        assert_eq!(code_of(&[0, 18, 0, 4, 0, 0, 0, 0]), OFPBAC_BAD_LEN);
    }

    #[test]
    fn len_not_multiple_of_8_is_bad_len() {
        assert_eq!(code_of(&[0, 18, 0, 9, 0, 0, 0, 0, 0]), OFPBAC_BAD_LEN);
        let e = Action::parse_list(&[0xff, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.code, OFPBAC_BAD_LEN);
        assert!(e.reason.contains("multiple of 8"), "{}", e.reason);
    }

    #[test]
    fn len_past_input_is_bad_len() {
        assert_eq!(code_of(&[0, 0, 0, 16, 0, 0, 0, 1]), OFPBAC_BAD_LEN);
    }

    #[test]
    fn trailing_partial_action_is_bad_len() {
        assert_eq!(code_of(&[0, 18, 0, 8, 0, 0, 0, 0, 0, 18]), OFPBAC_BAD_LEN);
        assert_eq!(code_of(&[0]), OFPBAC_BAD_LEN);
        // Never the request-level code nom's primitives would produce.
        assert_ne!(code_of(&[0, 18, 0]), OFPBRC_BAD_LEN);
    }

    #[test]
    fn wrong_fixed_length_is_bad_len() {
        // output with len 8, copy_ttl_out with len 16, group with len 16 ...
        assert_eq!(code_of(&[0, 0, 0, 8, 0, 0, 0, 1]), OFPBAC_BAD_LEN);
        assert_eq!(
            code_of(&[0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            OFPBAC_BAD_LEN
        );
        for ty in [11u16, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26, 27] {
            let mut w = vec![0u8; 16];
            w[..2].copy_from_slice(&ty.to_be_bytes());
            w[3] = 16;
            let e = Action::parse_list(&w).unwrap_err();
            assert_eq!(e.code, OFPBAC_BAD_LEN, "type {ty}");
            assert!(
                e.reason.contains(action_type_name(ty).unwrap()),
                "{}",
                e.reason
            );
        }
    }

    #[test]
    fn experimenter_shorter_than_its_header_is_bad_len() {
        assert_eq!(
            code_of(&[0xff, 0xff, 0, 4, 0, 0, 0x23, 0x20]),
            OFPBAC_BAD_LEN
        );
    }

    // ---- type errors: OFPBAC_BAD_TYPE ----

    #[test]
    fn unknown_type_is_bad_type() {
        // OF1.0's SET_VLAN_VID (1) no longer exists in OF1.3.
        assert_eq!(code_of(&[0, 1, 0, 8, 0, 0, 0, 0]), OFPBAC_BAD_TYPE);
        assert_eq!(code_of(&[0, 28, 0, 8, 0, 0, 0, 0]), OFPBAC_BAD_TYPE);
        assert_eq!(
            code_of(&[0xff, 0xfe, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            OFPBAC_BAD_TYPE
        );
    }

    #[test]
    fn bad_action_after_good_ones_is_reported() {
        let w = [0, 18, 0, 8, 0, 0, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0];
        assert_eq!(code_of(&w), OFPBAC_BAD_TYPE);
    }

    // ---- set_field errors ----

    #[test]
    fn set_field_len_longer_than_oxm_is_bad_set_len() {
        // tcp_dst (6-byte TLV) in a 24-byte action: should be 16.
        let w = [
            0, 25, 0, 24, 0x80, 0, 0x1c, 2, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let e = Action::parse_list(&w).unwrap_err();
        assert_eq!(e.code, OFPBAC_BAD_SET_LEN);
        assert!(e.reason.contains("must be 16"), "{}", e.reason);
    }

    #[test]
    fn set_field_oxm_past_action_is_bad_set_len() {
        // ipv6_dst claims 16 bytes but the action is only 16 long (12 left).
        let w = [
            0, 25, 0, 16, 0x80, 0, 0x36, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0,
            0, 0,
        ];
        let e = Action::parse_list(&w).unwrap_err();
        assert_eq!(e.code, OFPBAC_BAD_SET_LEN);
        assert!(e.reason.starts_with("set_field: "), "{}", e.reason);
    }

    #[test]
    fn set_field_non_zero_padding_is_bad_set_argument() {
        let w = [0, 25, 0, 16, 0x80, 0, 0x1c, 2, 0, 80, 0, 0, 0, 1, 0, 0];
        assert_eq!(code_of(&w), OFPBAC_BAD_SET_ARGUMENT);
    }

    // ---- check_args ----

    fn check_code(a: Action) -> Option<ErrorCode> {
        a.check_args().err().map(|e| e.code)
    }

    #[test]
    fn check_args_output_ports() {
        let out = |port| Action::Output { port, max_len: 0 };
        assert_eq!(check_code(out(0)), Some(OFPBAC_BAD_OUT_PORT));
        assert_eq!(check_code(out(OFPP_ANY)), Some(OFPBAC_BAD_OUT_PORT));
        assert_eq!(check_code(out(OFPP_MAX + 1)), Some(OFPBAC_BAD_OUT_PORT));
        assert_eq!(check_code(out(0xffff_fff7)), Some(OFPBAC_BAD_OUT_PORT));
        for ok in [
            1,
            65535,
            OFPP_MAX,
            OFPP_IN_PORT,
            OFPP_TABLE,
            OFPP_NORMAL,
            OFPP_FLOOD,
            OFPP_ALL,
            OFPP_CONTROLLER,
            OFPP_LOCAL,
        ] {
            assert_eq!(check_code(out(ok)), None, "port {ok:#x}");
        }
    }

    #[test]
    fn check_args_push_ethertypes() {
        assert_eq!(check_code(Action::PushVlan(0x8100)), None);
        assert_eq!(check_code(Action::PushVlan(0x88a8)), None);
        assert_eq!(
            check_code(Action::PushVlan(0x0800)),
            Some(OFPBAC_BAD_ARGUMENT)
        );
        assert_eq!(check_code(Action::PushMpls(0x8847)), None);
        assert_eq!(check_code(Action::PushMpls(0x8848)), None);
        assert_eq!(
            check_code(Action::PushMpls(0x8100)),
            Some(OFPBAC_BAD_ARGUMENT)
        );
        assert_eq!(check_code(Action::PushPbb(0x88e7)), None);
        assert_eq!(
            check_code(Action::PushPbb(0x1234)),
            Some(OFPBAC_BAD_ARGUMENT)
        );
        // pop_mpls names the payload's ethertype, which may be anything.
        assert_eq!(check_code(Action::PopMpls(0x9876)), None);
    }

    #[test]
    fn set_field_values_beyond_the_field_are_refused_not_cut() {
        for f in [
            OxmField::MplsTc(8),
            OxmField::MplsLabel(1 << 20),
            OxmField::MplsBos(2),
            OxmField::PbbIsid(1 << 24, None),
            OxmField::VlanVid(0x2000, None),
            OxmField::IpDscp(64),
        ] {
            assert_eq!(
                check_code(Action::SetField(f.clone())),
                Some(OFPBAC_BAD_SET_ARGUMENT),
                "{f:?}"
            );
        }
        for f in [
            OxmField::MplsTc(7),
            OxmField::VlanVid(0x1fff, None),
            OxmField::IpDscp(63),
        ] {
            assert_eq!(check_code(Action::SetField(f.clone())), None, "{f:?}");
        }
    }

    #[test]
    fn check_args_set_field() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        assert_eq!(
            check_code(Action::SetField(OxmField::EthDst(mac, None))),
            None
        );
        assert_eq!(
            check_code(Action::SetField(OxmField::EthDst(
                mac,
                Some(MacAddr::BROADCAST)
            ))),
            Some(OFPBAC_BAD_SET_ARGUMENT)
        );
        assert_eq!(
            check_code(Action::SetField(OxmField::Ipv4Dst(
                Ipv4Addr::LOCALHOST,
                Some(Ipv4Addr::BROADCAST)
            ))),
            Some(OFPBAC_BAD_SET_ARGUMENT)
        );
        for f in [
            OxmField::InPort(1),
            OxmField::InPhyPort(1),
            OxmField::Metadata(1, None),
            OxmField::Ipv6Exthdr(1, None),
            OxmField::Raw(OxmRaw {
                class: 1,
                field: 0,
                hasmask: false,
                body: Bytes::from_static(&[0, 0, 0, 1]),
            }),
        ] {
            assert_eq!(
                check_code(Action::SetField(f.clone())),
                Some(OFPBAC_BAD_SET_TYPE),
                "{f:?}"
            );
        }
        // Unsettable wins over masked.
        assert_eq!(
            check_code(Action::SetField(OxmField::Metadata(1, Some(1)))),
            Some(OFPBAC_BAD_SET_TYPE)
        );
    }

    fn basic_raw(field: u8, hasmask: bool, body: &'static [u8]) -> Action {
        Action::SetField(OxmField::Raw(OxmRaw {
            class: crate::oxm::OFPXMC_OPENFLOW_BASIC,
            field,
            hasmask,
            body: Bytes::from_static(body),
        }))
    }

    #[test]
    fn check_args_set_field_basic_tlvs_the_oxm_parser_kept_raw() {
        // Unknown basic field number.
        assert_eq!(
            check_code(basic_raw(50, false, &[1, 2])),
            Some(OFPBAC_BAD_SET_TYPE)
        );
        // in_port, even with a broken size, is still the wrong type.
        assert_eq!(
            check_code(basic_raw(0, false, &[1, 2])),
            Some(OFPBAC_BAD_SET_TYPE)
        );
        // eth_dst with a 5-byte payload: a length problem.
        assert_eq!(
            check_code(basic_raw(3, false, &[1, 2, 3, 4, 5])),
            Some(OFPBAC_BAD_SET_LEN)
        );
        // tcp_dst (not maskable) with value and mask: the sizes fit, the mask does not.
        assert_eq!(
            check_code(basic_raw(14, true, &[0, 80, 0xff, 0xff])),
            Some(OFPBAC_BAD_SET_ARGUMENT)
        );
        // A well-formed basic TLV built by hand is fine.
        assert_eq!(check_code(basic_raw(3, false, &[2, 0, 0, 0, 0, 1])), None);
    }

    #[test]
    fn set_field_with_mis_sized_basic_oxm_parses_and_check_args_refuses_it() {
        // eth_dst with length 5: 4 + 9 = 13 -> 16. The wire framing is fine,
        // so it parses (and re-emits) but cannot be installed.
        let wire = [0, 25, 0, 16, 0x80, 0, 6, 5, 1, 2, 3, 4, 5, 0, 0, 0];
        let a = parse_one(&wire).unwrap();
        assert!(matches!(a, Action::SetField(OxmField::Raw(_))), "{a:?}");
        assert_eq!(emit(&a), wire);
        assert_eq!(check_code(a), Some(OFPBAC_BAD_SET_LEN));
    }

    #[test]
    fn check_args_groups() {
        assert_eq!(check_code(Action::Group(0)), None);
        assert_eq!(check_code(Action::Group(OFPG_MAX)), None);
        assert_eq!(
            check_code(Action::Group(OFPG_MAX + 1)),
            Some(OFPBAC_BAD_OUT_GROUP)
        );
        assert_eq!(
            check_code(Action::Group(crate::consts::OFPG_ALL)),
            Some(OFPBAC_BAD_OUT_GROUP)
        );
        assert_eq!(
            check_code(Action::Group(crate::consts::OFPG_ANY)),
            Some(OFPBAC_BAD_OUT_GROUP)
        );
    }

    #[test]
    fn check_args_accepts_the_rest() {
        for a in [
            Action::CopyTtlOut,
            Action::SetQueue(u32::MAX),
            Action::SetNwTtl(0),
            Action::Experimenter {
                experimenter: 0x2320,
                data: Bytes::new(),
            },
        ] {
            assert_eq!(check_code(a), None);
        }
    }

    // ---- robustness ----

    fn every_action_wire() -> Vec<u8> {
        let mut b = BytesMut::new();
        Action::emit_list(&every_action(), &mut b);
        b.to_vec()
    }

    #[test]
    fn every_action_list_round_trips() {
        let w = every_action_wire();
        assert_eq!(Action::parse_list(&w).unwrap(), every_action());
    }

    #[test]
    fn every_proper_prefix_fails_cleanly() {
        let w = every_action_wire();
        let boundaries: Vec<usize> = every_action()
            .iter()
            .scan(0, |at, a| {
                *at += a.wire_len();
                Some(*at)
            })
            .collect();
        for n in 0..w.len() {
            let r = Action::parse_list(&w[..n]);
            if n == 0 || boundaries.contains(&n) {
                assert!(r.is_ok(), "prefix {n} ends on an action boundary");
            } else {
                assert_eq!(r.unwrap_err().code, OFPBAC_BAD_LEN, "prefix {n}");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x7461_7066_6c6f_7721);
        for _ in 0..20_000 {
            let n = rng.below(96);
            let mut w: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            // Make plausible headers common, or almost every input dies at
            // the first length check.
            if n >= 4 && rng.below(2) == 0 {
                w[0] = 0;
                w[1] = [0u8, 11, 15, 17, 19, 21, 22, 25, 26, 27, 0xff][rng.below(11)];
                w[2] = 0;
                w[3] = (rng.below(n / 8 + 1) * 8) as u8;
            }
            let _ = Action::parse_list(&w);
        }
    }

    #[test]
    fn mutated_valid_lists_never_panic_and_reparse_stably() {
        let base = every_action_wire();
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        for _ in 0..20_000 {
            let mut w = base.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(w.len());
                w[at] = rng.next() as u8;
            }
            if let Ok(list) = Action::parse_list(&w) {
                // Whatever we accept, we can emit, and the emitted form is a
                // fixed point.
                let mut b = BytesMut::new();
                Action::emit_list(&list, &mut b);
                assert_eq!(b.len(), Action::list_wire_len(&list));
                assert_eq!(Action::parse_list(&b).unwrap(), list);
            }
        }
    }

    proptest! {
        #[test]
        fn emit_then_parse_is_identity(a in arb::action()) {
            let w = emit(&a);
            prop_assert_eq!(w.len(), a.wire_len());
            prop_assert_eq!(w.len() % 8, 0);
            prop_assert_eq!(parse_one(&w).unwrap(), a);
        }

        #[test]
        fn list_emit_then_parse_is_identity(list in arb::action_list()) {
            let mut b = BytesMut::new();
            Action::emit_list(&list, &mut b);
            prop_assert_eq!(Action::parse_list(&b).unwrap(), list);
        }
    }
}
