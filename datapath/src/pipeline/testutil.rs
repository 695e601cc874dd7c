//! Test helpers: FlowKeys built word by word, a small stand-in match
//! compiler with a layout of its own (so FLOW_MOD semantics are testable
//! before, and independently of, `packet::key::compile_match`), and
//! FLOW_MOD builders.

use crate::packet::FlowKey;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::{WireError, OFPBMC_BAD_FIELD};
use ofproto::instruction::Instruction;
use ofproto::message::FlowMod;
use ofproto::oxm::{Match, OxmField};
use std::net::Ipv4Addr;

/// A key with the given words set, the others zero.
pub fn key(words: &[(usize, u64)]) -> FlowKey {
    let mut k = FlowKey::default();
    for &(i, w) in words {
        k.words[i] = w;
    }
    k
}

/// Layout of [`test_compile`]:
/// - word 0: in_port (low 32 bits)
/// - word 1: eth_type (bits 0..16), ip_proto (bits 16..24)
/// - word 2: ipv4_src (bits 32..64), ipv4_dst (bits 0..32)
/// - word 3: metadata
/// - word 4: tcp/udp src (bits 16..32), dst (bits 0..16)
///
/// Anything else: `OFPBMC_BAD_FIELD`.
pub fn test_compile(m: &Match) -> Result<(FlowKey, FlowKey), WireError> {
    let mut v = FlowKey::default();
    let mut k = FlowKey::default();
    let mut set = |w: usize, shift: u32, bits: u32, val: u64, mask: u64| {
        let full = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let mask = (mask & full) << shift;
        v.words[w] |= (val << shift) & mask;
        k.words[w] |= mask;
    };
    let ip = |a: &Ipv4Addr| u64::from(u32::from(*a));
    for f in &m.fields {
        match f {
            OxmField::InPort(p) => set(0, 0, 32, u64::from(*p), u64::MAX),
            OxmField::EthType(t) => set(1, 0, 16, u64::from(*t), u64::MAX),
            OxmField::IpProto(p) => set(1, 16, 8, u64::from(*p), u64::MAX),
            OxmField::Ipv4Src(a, m) => set(2, 32, 32, ip(a), m.as_ref().map_or(u64::MAX, ip)),
            OxmField::Ipv4Dst(a, m) => set(2, 0, 32, ip(a), m.as_ref().map_or(u64::MAX, ip)),
            OxmField::Metadata(x, m) => set(3, 0, 64, *x, m.unwrap_or(u64::MAX)),
            OxmField::TcpSrc(p) | OxmField::UdpSrc(p) => set(4, 16, 16, u64::from(*p), u64::MAX),
            OxmField::TcpDst(p) | OxmField::UdpDst(p) => set(4, 0, 16, u64::from(*p), u64::MAX),
            other => {
                return Err(WireError::new(
                    OFPBMC_BAD_FIELD,
                    format!("test compiler: {other:?}"),
                ))
            }
        }
    }
    Ok((v, k))
}

/// The packet key [`test_compile`]'s layout gives a TCP/IPv4 packet.
pub fn pkt(in_port: u32, src: [u8; 4], dst: [u8; 4], tcp_dst: u16) -> FlowKey {
    key(&[
        (0, u64::from(in_port)),
        (1, 0x0800 | (6 << 16)),
        (
            2,
            (u64::from(u32::from(Ipv4Addr::from(src))) << 32)
                | u64::from(u32::from(Ipv4Addr::from(dst))),
        ),
        (4, u64::from(tcp_dst)),
    ])
}

pub fn in_port(p: u32) -> OxmField {
    OxmField::InPort(p)
}

pub fn ipv4() -> OxmField {
    OxmField::EthType(0x0800)
}

pub fn tcp() -> [OxmField; 2] {
    [OxmField::EthType(0x0800), OxmField::IpProto(6)]
}

pub fn nw_dst(a: [u8; 4], prefix: u32) -> OxmField {
    let mask = if prefix == 32 {
        None
    } else {
        Some(Ipv4Addr::from(
            u32::MAX.checked_shl(32 - prefix).unwrap_or(0),
        ))
    };
    OxmField::Ipv4Dst(Ipv4Addr::from(a), mask)
}

pub fn output(port: u32) -> Instruction {
    Instruction::ApplyActions(vec![Action::Output {
        port,
        max_len: 0xffff,
    }])
}

/// A FLOW_MOD with the given command, table, priority and match; no
/// instructions, cookie 0/mask 0, no timeouts, out_port/out_group ANY.
pub fn fm(command: u8, table_id: u8, priority: u16, fields: Vec<OxmField>) -> FlowMod {
    FlowMod {
        cookie: 0,
        cookie_mask: 0,
        table_id,
        command,
        idle_timeout: 0,
        hard_timeout: 0,
        priority,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        flags: 0,
        match_: Match::new(fields),
        instructions: Vec::new(),
    }
}

pub fn add(
    table_id: u8,
    priority: u16,
    fields: Vec<OxmField>,
    instructions: Vec<Instruction>,
) -> FlowMod {
    FlowMod {
        instructions,
        ..fm(OFPFC_ADD, table_id, priority, fields)
    }
}
