//! [`FlowKey`]: the fixed-layout, allocation-free key a packet is classified
//! by. A flow's match compiles to a (value, mask) pair of `FlowKey`s with the
//! same layout; `key & mask == value` means "matches".
//!
//! ## Layout
//!
//! The key is 128 bytes viewed as 16 `u64` words. Every field sits at a
//! fixed byte offset in its OXM wire format (big-endian, the OXM value
//! size), so a match's value and mask bytes are copied in as they are and
//! masking is byte-wise. [`FIELD_SLOTS`] (indexed by `OFPXMT_OFB_*`) is the
//! one table that says where each field lives; everything else — compiling
//! matches, reading and writing fields, debug output — goes through it.
//!
//! ```text
//! word  bytes    fields
//!  0    0..4     in_port                 4..8    in_phy_port
//!  1    8..16    metadata
//!  2    16..24   tunnel_id
//!  3    24..30   eth_dst                 30..32  eth_type
//!  4    32..38   eth_src                 38..40  vlan_vid (vid|OFPVID_PRESENT, 0 = untagged)
//!  5    40       vlan_pcp   41 ip_dscp   42 ip_ecn   43 ip_proto
//!       44..46   ipv6_exthdr             46..48  arp_op
//!  6    48..52   ipv4_src = arp_spa      52..56  ipv4_dst = arp_tpa
//!  7    56..58   tcp/udp/sctp src        58..60  tcp/udp/sctp dst
//!       60..64   ipv6_flabel
//!  8-9  64..80   ipv6_src
//! 10-11 80..96   ipv6_dst
//! 12-13 96..112  ipv6_nd_target
//!                = mpls_label 96..100, mpls_tc 100, mpls_bos 101, pbb_isid 104..107
//! 14-15 112..118 arp_sha = ipv6_nd_sll   118..124 arp_tha = ipv6_nd_tll
//!       124      icmpv4_type = icmpv6_type   125  icmpv4_code = icmpv6_code
//!       126..128 reserved (always 0)
//! ```
//!
//! Fields that can never both be present share storage, as in OVS: the OXM
//! prerequisites put `eth_type` (and `ip_proto`) in the mask of every match
//! that names a shared field, so a rule for `arp_tpa` can never match an
//! IPv4 packet whose `ipv4_dst` happens to hold the same bytes.
//! [`compile_match`] validates the match first, so this holds for every
//! compiled rule. MPLS and PBB frames are not parsed past their label stack
//! / I-TAG, so their fields can borrow the IPv6 ND target's bytes.

use ofproto::error::{OFPBMC_BAD_FIELD, OFPBMC_BAD_PREREQ};
use ofproto::oxm::{
    basic_field, Match, OxmField, BASIC_FIELD_COUNT, OFPVID_PRESENT, OFPXMT_OFB_IN_PHY_PORT,
    OFPXMT_OFB_IN_PORT, OFPXMT_OFB_METADATA, OFPXMT_OFB_TUNNEL_ID, OFPXMT_OFB_VLAN_VID,
};
use ofproto::{MacAddr, WireError};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Number of 64-bit words in a [`FlowKey`].
pub const FLOW_KEY_WORDS: usize = 16;
/// Size of a [`FlowKey`] in bytes.
pub const FLOW_KEY_BYTES: usize = FLOW_KEY_WORDS * 8;

/// Byte offsets of the fields inside a [`FlowKey`] (see the module docs).
/// The parser writes through these directly; [`FIELD_SLOTS`] is built from
/// them.
pub mod off {
    pub const IN_PORT: usize = 0;
    pub const IN_PHY_PORT: usize = 4;
    pub const METADATA: usize = 8;
    pub const TUNNEL_ID: usize = 16;
    pub const ETH_DST: usize = 24;
    pub const ETH_TYPE: usize = 30;
    pub const ETH_SRC: usize = 32;
    pub const VLAN_VID: usize = 38;
    pub const VLAN_PCP: usize = 40;
    pub const IP_DSCP: usize = 41;
    pub const IP_ECN: usize = 42;
    pub const IP_PROTO: usize = 43;
    pub const IPV6_EXTHDR: usize = 44;
    pub const ARP_OP: usize = 46;
    /// `ipv4_src` and `arp_spa`.
    pub const NW_SRC: usize = 48;
    /// `ipv4_dst` and `arp_tpa`.
    pub const NW_DST: usize = 52;
    /// `tcp_src`, `udp_src`, `sctp_src`.
    pub const TP_SRC: usize = 56;
    /// `tcp_dst`, `udp_dst`, `sctp_dst`.
    pub const TP_DST: usize = 58;
    pub const IPV6_FLABEL: usize = 60;
    pub const IPV6_SRC: usize = 64;
    pub const IPV6_DST: usize = 80;
    pub const ND_TARGET: usize = 96;
    /// Shares the ND target's bytes (MPLS frames have no IPv6 fields).
    pub const MPLS_LABEL: usize = 96;
    pub const MPLS_TC: usize = 100;
    pub const MPLS_BOS: usize = 101;
    /// Shares the ND target's bytes (PBB frames have no IPv6 fields).
    pub const PBB_ISID: usize = 104;
    /// `arp_sha` and `ipv6_nd_sll`.
    pub const DL_SHA: usize = 112;
    /// `arp_tha` and `ipv6_nd_tll`.
    pub const DL_THA: usize = 118;
    /// `icmpv4_type` and `icmpv6_type`.
    pub const ICMP_TYPE: usize = 124;
    /// `icmpv4_code` and `icmpv6_code`.
    pub const ICMP_CODE: usize = 125;
    /// First byte no field uses (126..128 stay zero).
    pub const END: usize = 126;
}

/// Where one OXM basic field lives in a [`FlowKey`]: `len` bytes at `off`,
/// in OXM wire format. `len` equals the OXM value size of the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub off: u8,
    pub len: u8,
}

impl Slot {
    #[inline]
    pub const fn range(self) -> std::ops::Range<usize> {
        self.off as usize..self.off as usize + self.len as usize
    }
}

const fn s(off: usize, len: usize) -> Slot {
    Slot {
        off: off as u8,
        len: len as u8,
    }
}

/// The layout: slot of every OF1.3 basic field, indexed by `OFPXMT_OFB_*`.
#[rustfmt::skip]
pub static FIELD_SLOTS: [Slot; BASIC_FIELD_COUNT] = [
    s(off::IN_PORT, 4),       //  0 in_port
    s(off::IN_PHY_PORT, 4),   //  1 in_phy_port
    s(off::METADATA, 8),      //  2 metadata
    s(off::ETH_DST, 6),       //  3 eth_dst
    s(off::ETH_SRC, 6),       //  4 eth_src
    s(off::ETH_TYPE, 2),      //  5 eth_type
    s(off::VLAN_VID, 2),      //  6 vlan_vid
    s(off::VLAN_PCP, 1),      //  7 vlan_pcp
    s(off::IP_DSCP, 1),       //  8 ip_dscp
    s(off::IP_ECN, 1),        //  9 ip_ecn
    s(off::IP_PROTO, 1),      // 10 ip_proto
    s(off::NW_SRC, 4),        // 11 ipv4_src
    s(off::NW_DST, 4),        // 12 ipv4_dst
    s(off::TP_SRC, 2),        // 13 tcp_src
    s(off::TP_DST, 2),        // 14 tcp_dst
    s(off::TP_SRC, 2),        // 15 udp_src
    s(off::TP_DST, 2),        // 16 udp_dst
    s(off::TP_SRC, 2),        // 17 sctp_src
    s(off::TP_DST, 2),        // 18 sctp_dst
    s(off::ICMP_TYPE, 1),     // 19 icmpv4_type
    s(off::ICMP_CODE, 1),     // 20 icmpv4_code
    s(off::ARP_OP, 2),        // 21 arp_op
    s(off::NW_SRC, 4),        // 22 arp_spa
    s(off::NW_DST, 4),        // 23 arp_tpa
    s(off::DL_SHA, 6),        // 24 arp_sha
    s(off::DL_THA, 6),        // 25 arp_tha
    s(off::IPV6_SRC, 16),     // 26 ipv6_src
    s(off::IPV6_DST, 16),     // 27 ipv6_dst
    s(off::IPV6_FLABEL, 4),   // 28 ipv6_flabel
    s(off::ICMP_TYPE, 1),     // 29 icmpv6_type
    s(off::ICMP_CODE, 1),     // 30 icmpv6_code
    s(off::ND_TARGET, 16),    // 31 ipv6_nd_target
    s(off::DL_SHA, 6),        // 32 ipv6_nd_sll
    s(off::DL_THA, 6),        // 33 ipv6_nd_tll
    s(off::MPLS_LABEL, 4),    // 34 mpls_label
    s(off::MPLS_TC, 1),       // 35 mpls_tc
    s(off::MPLS_BOS, 1),      // 36 mpls_bos
    s(off::PBB_ISID, 3),      // 37 pbb_isid
    s(off::TUNNEL_ID, 8),     // 38 tunnel_id
    s(off::IPV6_EXTHDR, 2),   // 39 ipv6_exthdr
];

/// The slot of basic field `field`, if OF1.3 defines it.
#[inline]
pub fn slot(field: u8) -> Option<Slot> {
    FIELD_SLOTS.get(usize::from(field)).copied()
}

// ---------------------------------------------------------------------------
// OXM value <-> bytes
// ---------------------------------------------------------------------------

/// A basic OXM field taken apart into wire-format bytes: what gets copied
/// into a key (match compilation) or into a packet (set_field). Built once
/// per flow; holds no heap memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FieldBytes {
    pub field: u8,
    len: u8,
    value: [u8; 16],
    mask: Option<[u8; 16]>,
}

fn be_bytes(v: u64, len: usize) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..len].copy_from_slice(&v.to_be_bytes()[8 - len..]);
    b
}

fn raw_bytes(s: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..s.len()].copy_from_slice(s);
    b
}

fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

impl FieldBytes {
    /// The wire bytes of a basic field; `None` for OXMs of other classes
    /// (and for malformed class-0x8000 `Raw` TLVs). Integers are cut to
    /// the field's wire size, as on the wire.
    pub fn of(f: &OxmField) -> Option<FieldBytes> {
        use ofproto::oxm::*;
        use OxmField::*;
        let int = |field: u8, v: u64, m: Option<u64>| {
            let len = FIELD_SLOTS[usize::from(field)].len as usize;
            (field, be_bytes(v, len), m.map(|m| be_bytes(m, len)))
        };
        let mac = |field: u8, v: &MacAddr, m: &Option<MacAddr>| {
            (field, raw_bytes(&v.0), m.map(|m| raw_bytes(&m.0)))
        };
        let v4 = |field: u8, v: &Ipv4Addr, m: &Option<Ipv4Addr>| {
            (
                field,
                raw_bytes(&v.octets()),
                m.map(|m| raw_bytes(&m.octets())),
            )
        };
        let v6 = |field: u8, v: &Ipv6Addr, m: &Option<Ipv6Addr>| {
            (
                field,
                raw_bytes(&v.octets()),
                m.map(|m| raw_bytes(&m.octets())),
            )
        };
        let (field, value, mask) = match f {
            InPort(v) => int(OFPXMT_OFB_IN_PORT, (*v).into(), None),
            InPhyPort(v) => int(OFPXMT_OFB_IN_PHY_PORT, (*v).into(), None),
            Metadata(v, m) => int(OFPXMT_OFB_METADATA, *v, *m),
            EthDst(v, m) => mac(OFPXMT_OFB_ETH_DST, v, m),
            EthSrc(v, m) => mac(OFPXMT_OFB_ETH_SRC, v, m),
            EthType(v) => int(OFPXMT_OFB_ETH_TYPE, (*v).into(), None),
            VlanVid(v, m) => int(OFPXMT_OFB_VLAN_VID, (*v).into(), m.map(u64::from)),
            VlanPcp(v) => int(OFPXMT_OFB_VLAN_PCP, (*v).into(), None),
            IpDscp(v) => int(OFPXMT_OFB_IP_DSCP, (*v).into(), None),
            IpEcn(v) => int(OFPXMT_OFB_IP_ECN, (*v).into(), None),
            IpProto(v) => int(OFPXMT_OFB_IP_PROTO, (*v).into(), None),
            Ipv4Src(v, m) => v4(OFPXMT_OFB_IPV4_SRC, v, m),
            Ipv4Dst(v, m) => v4(OFPXMT_OFB_IPV4_DST, v, m),
            TcpSrc(v) => int(OFPXMT_OFB_TCP_SRC, (*v).into(), None),
            TcpDst(v) => int(OFPXMT_OFB_TCP_DST, (*v).into(), None),
            UdpSrc(v) => int(OFPXMT_OFB_UDP_SRC, (*v).into(), None),
            UdpDst(v) => int(OFPXMT_OFB_UDP_DST, (*v).into(), None),
            SctpSrc(v) => int(OFPXMT_OFB_SCTP_SRC, (*v).into(), None),
            SctpDst(v) => int(OFPXMT_OFB_SCTP_DST, (*v).into(), None),
            Icmpv4Type(v) => int(OFPXMT_OFB_ICMPV4_TYPE, (*v).into(), None),
            Icmpv4Code(v) => int(OFPXMT_OFB_ICMPV4_CODE, (*v).into(), None),
            ArpOp(v) => int(OFPXMT_OFB_ARP_OP, (*v).into(), None),
            ArpSpa(v, m) => v4(OFPXMT_OFB_ARP_SPA, v, m),
            ArpTpa(v, m) => v4(OFPXMT_OFB_ARP_TPA, v, m),
            ArpSha(v, m) => mac(OFPXMT_OFB_ARP_SHA, v, m),
            ArpTha(v, m) => mac(OFPXMT_OFB_ARP_THA, v, m),
            Ipv6Src(v, m) => v6(OFPXMT_OFB_IPV6_SRC, v, m),
            Ipv6Dst(v, m) => v6(OFPXMT_OFB_IPV6_DST, v, m),
            Ipv6Flabel(v, m) => int(OFPXMT_OFB_IPV6_FLABEL, (*v).into(), m.map(u64::from)),
            Icmpv6Type(v) => int(OFPXMT_OFB_ICMPV6_TYPE, (*v).into(), None),
            Icmpv6Code(v) => int(OFPXMT_OFB_ICMPV6_CODE, (*v).into(), None),
            Ipv6NdTarget(v) => v6(OFPXMT_OFB_IPV6_ND_TARGET, v, &None),
            Ipv6NdSll(v) => mac(OFPXMT_OFB_IPV6_ND_SLL, v, &None),
            Ipv6NdTll(v) => mac(OFPXMT_OFB_IPV6_ND_TLL, v, &None),
            MplsLabel(v) => int(OFPXMT_OFB_MPLS_LABEL, (*v).into(), None),
            MplsTc(v) => int(OFPXMT_OFB_MPLS_TC, (*v).into(), None),
            MplsBos(v) => int(OFPXMT_OFB_MPLS_BOS, (*v).into(), None),
            PbbIsid(v, m) => int(OFPXMT_OFB_PBB_ISID, (*v).into(), m.map(u64::from)),
            TunnelId(v, m) => int(OFPXMT_OFB_TUNNEL_ID, *v, *m),
            Ipv6Exthdr(v, m) => int(OFPXMT_OFB_IPV6_EXTHDR, (*v).into(), m.map(u64::from)),
            // A hand-built basic TLV: its body is already value [+ mask].
            Raw(r) if r.class == OFPXMC_OPENFLOW_BASIC => {
                let field = r.field & 0x7f;
                let info = basic_field(field)?;
                let want = info.len * if r.hasmask { 2 } else { 1 };
                if r.body.len() != want || (r.hasmask && !info.maskable) {
                    return None;
                }
                let (v, m) = r.body.split_at(info.len);
                (field, raw_bytes(v), r.hasmask.then(|| raw_bytes(m)))
            }
            Raw(_) => return None,
        };
        Some(FieldBytes {
            field,
            len: FIELD_SLOTS[usize::from(field)].len,
            value,
            mask,
        })
    }

    /// Exact-value field from its wire bytes (`value.len()` must be the
    /// field's size); `None` for unknown fields or a wrong size.
    pub fn exact(field: u8, value: &[u8]) -> Option<FieldBytes> {
        let sl = slot(field)?;
        (value.len() == usize::from(sl.len)).then(|| FieldBytes {
            field,
            len: sl.len,
            value: raw_bytes(value),
            mask: None,
        })
    }

    /// The value, `len` bytes.
    #[inline]
    pub fn value(&self) -> &[u8] {
        &self.value[..usize::from(self.len)]
    }

    /// The mask, when the OXM carried one.
    #[inline]
    pub fn mask(&self) -> Option<&[u8]> {
        self.mask.as_ref().map(|m| &m[..usize::from(self.len)])
    }

    /// The value as a key stores it: integer fields narrower than their wire
    /// size keep only their legal bits (`ip_dscp` 6, `mpls_label` 20, ...),
    /// and `vlan_vid` is the 12-bit VID with `OFPVID_PRESENT` set — the form
    /// a tagged packet's key holds. What a set_field writes.
    pub fn normalized(&self) -> FieldBytes {
        let mut out = *self;
        out.mask = None;
        if let Some(max) = basic_field(self.field).and_then(|b| b.max) {
            let len = usize::from(self.len);
            let mut v = be_uint(self.value()) & max;
            if self.field == OFPXMT_OFB_VLAN_VID {
                v = (v & 0x0fff) | u64::from(OFPVID_PRESENT);
            }
            out.value = be_bytes(v, len);
        }
        out
    }
}

// ---------------------------------------------------------------------------
// FlowKey
// ---------------------------------------------------------------------------

/// Every OF1.3 match field at a fixed byte offset (see the layout table in
/// this file), plus pipeline metadata. Fields that can never both be
/// present share storage as in OVS (tcp/udp/sctp ports; icmpv4/icmpv6
/// type/code; ipv4 and arp addresses; arp_sha/tha and nd_sll/tll): OXM
/// prerequisites guarantee a match never confuses them.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, align(8))]
pub struct FlowKey {
    pub words: [u64; FLOW_KEY_WORDS],
}

/// Multiplier of the FxHash-style mix (rustc-hash's).
const FX_K: u64 = 0xf135_7aea_2e62_a9c5;

impl FlowKey {
    pub const ZERO: FlowKey = FlowKey {
        words: [0; FLOW_KEY_WORDS],
    };

    /// The key as bytes (fields in wire byte order).
    #[inline]
    pub fn as_bytes(&self) -> &[u8; FLOW_KEY_BYTES] {
        // SAFETY: `[u64; 16]` and `[u8; 128]` have the same size; u8 has no
        // alignment requirement and every bit pattern is valid for both.
        unsafe { &*(self.words.as_ptr() as *const [u8; FLOW_KEY_BYTES]) }
    }

    /// The key as mutable bytes.
    #[inline]
    pub fn as_bytes_mut(&mut self) -> &mut [u8; FLOW_KEY_BYTES] {
        // SAFETY: as in `as_bytes`; any byte written leaves valid u64s.
        unsafe { &mut *(self.words.as_mut_ptr() as *mut [u8; FLOW_KEY_BYTES]) }
    }

    /// `self & mask`.
    #[inline]
    pub fn masked(&self, mask: &FlowKey) -> FlowKey {
        let mut out = FlowKey::ZERO;
        for i in 0..FLOW_KEY_WORDS {
            out.words[i] = self.words[i] & mask.words[i];
        }
        out
    }

    /// `self | other`.
    #[inline]
    pub fn union(&self, other: &FlowKey) -> FlowKey {
        let mut out = FlowKey::ZERO;
        for i in 0..FLOW_KEY_WORDS {
            out.words[i] = self.words[i] | other.words[i];
        }
        out
    }

    /// Whether the rule `(value, mask)` matches this packet key:
    /// `self & mask == value` (`value` already masked, as [`compile_match`]
    /// returns it).
    #[inline]
    pub fn matches(&self, value: &FlowKey, mask: &FlowKey) -> bool {
        let mut diff = 0;
        for i in 0..FLOW_KEY_WORDS {
            diff |= (self.words[i] & mask.words[i]) ^ value.words[i];
        }
        diff == 0
    }

    /// As masks: every bit set in `self` is set in `other`.
    #[inline]
    pub fn is_subset_of(&self, other: &FlowKey) -> bool {
        let mut extra = 0;
        for i in 0..FLOW_KEY_WORDS {
            extra |= self.words[i] & !other.words[i];
        }
        extra == 0
    }

    #[inline]
    pub fn is_zero(&self) -> bool {
        self.words.iter().fold(0, |a, w| a | w) == 0
    }

    /// FxHash-style hash of the whole key (not keyed: use a seeded hash
    /// where attackers choose keys).
    #[inline]
    pub fn hash64(&self) -> u64 {
        let mut h = 0u64;
        for w in self.words {
            h = (h.rotate_left(5) ^ w).wrapping_mul(FX_K);
        }
        h.rotate_left(26)
    }

    /// `self.masked(mask).hash64()` without building the masked key.
    #[inline]
    pub fn masked_hash(&self, mask: &FlowKey) -> u64 {
        let mut h = 0u64;
        for i in 0..FLOW_KEY_WORDS {
            h = (h.rotate_left(5) ^ (self.words[i] & mask.words[i])).wrapping_mul(FX_K);
        }
        h.rotate_left(26)
    }

    /// A mask with all bits of basic field `field`'s slot set (zero key for
    /// unknown fields).
    pub fn field_mask(field: u8) -> FlowKey {
        let mut m = FlowKey::ZERO;
        if let Some(sl) = slot(field) {
            m.as_bytes_mut()[sl.range()].fill(0xff);
        }
        m
    }

    /// The bytes of basic field `field` (its OXM wire value); empty for
    /// field numbers OF1.3 does not define. Shared storage means e.g.
    /// `get_field(UDP_SRC)` of a TCP packet returns the TCP source port:
    /// check `eth_type`/`ip_proto` first, as the OXM prerequisites do.
    #[inline]
    pub fn get_field(&self, field: u8) -> &[u8] {
        match slot(field) {
            Some(sl) => &self.as_bytes()[sl.range()],
            None => &[],
        }
    }

    /// Writes the value of `f` into the key, normalized as a packet's key
    /// would hold it (see [`FieldBytes::normalized`]; a mask is ignored).
    /// Only the key changes — use `Packet::set_field` to rewrite a frame.
    /// Returns false for non-basic OXMs.
    pub fn set_field(&mut self, f: &OxmField) -> bool {
        match FieldBytes::of(f) {
            Some(fb) => {
                self.set_field_bytes(&fb.normalized());
                true
            }
            None => false,
        }
    }

    /// Writes `fb`'s value bytes as they are.
    #[inline]
    pub fn set_field_bytes(&mut self, fb: &FieldBytes) {
        let sl = FIELD_SLOTS[usize::from(fb.field)];
        self.as_bytes_mut()[sl.range()].copy_from_slice(fb.value());
    }

    #[inline]
    fn get_u16(&self, at: usize) -> u16 {
        let b = self.as_bytes();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    #[inline]
    fn get_u32(&self, at: usize) -> u32 {
        let b = self.as_bytes();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[inline]
    fn get_u64(&self, at: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.as_bytes()[at..at + 8]);
        u64::from_be_bytes(a)
    }

    #[inline]
    fn put(&mut self, at: usize, b: &[u8]) {
        self.as_bytes_mut()[at..at + b.len()].copy_from_slice(b);
    }

    #[inline]
    pub fn in_port(&self) -> u32 {
        self.get_u32(off::IN_PORT)
    }

    #[inline]
    pub fn in_phy_port(&self) -> u32 {
        self.get_u32(off::IN_PHY_PORT)
    }

    /// Sets `in_port` and `in_phy_port` (the same for every port we have).
    #[inline]
    pub fn set_in_port(&mut self, port: u32) {
        self.put(off::IN_PORT, &port.to_be_bytes());
        self.put(off::IN_PHY_PORT, &port.to_be_bytes());
    }

    #[inline]
    pub fn metadata(&self) -> u64 {
        self.get_u64(off::METADATA)
    }

    #[inline]
    pub fn set_metadata(&mut self, v: u64) {
        self.put(off::METADATA, &v.to_be_bytes());
    }

    /// The `write_metadata` instruction: `metadata = (metadata & !mask) | (value & mask)`.
    #[inline]
    pub fn write_metadata(&mut self, value: u64, mask: u64) {
        let m = (self.metadata() & !mask) | (value & mask);
        self.set_metadata(m);
    }

    #[inline]
    pub fn tunnel_id(&self) -> u64 {
        self.get_u64(off::TUNNEL_ID)
    }

    #[inline]
    pub fn set_tunnel_id(&mut self, v: u64) {
        self.put(off::TUNNEL_ID, &v.to_be_bytes());
    }

    /// `eth_type` after all VLAN tags (0x05ff for 802.3 length frames, 0 for
    /// frames shorter than an Ethernet header).
    #[inline]
    pub fn eth_type(&self) -> u16 {
        self.get_u16(off::ETH_TYPE)
    }

    /// `vid | OFPVID_PRESENT` of the outermost tag, 0 when untagged.
    #[inline]
    pub fn vlan_vid(&self) -> u16 {
        self.get_u16(off::VLAN_VID)
    }

    #[inline]
    pub fn vlan_pcp(&self) -> u8 {
        self.as_bytes()[off::VLAN_PCP]
    }

    #[inline]
    pub fn ip_proto(&self) -> u8 {
        self.as_bytes()[off::IP_PROTO]
    }

    #[inline]
    pub fn eth_dst(&self) -> MacAddr {
        MacAddr(
            self.as_bytes()[off::ETH_DST..off::ETH_DST + 6]
                .try_into()
                .unwrap_or_default(),
        )
    }

    #[inline]
    pub fn eth_src(&self) -> MacAddr {
        MacAddr(
            self.as_bytes()[off::ETH_SRC..off::ETH_SRC + 6]
                .try_into()
                .unwrap_or_default(),
        )
    }

    /// The pipeline fields of a PACKET_IN's match: `in_port`, plus
    /// `in_phy_port` when it differs, `metadata` and `tunnel_id` when
    /// nonzero (as OVS does).
    pub fn to_pipeline_match(&self) -> Match {
        let mut fields = vec![OxmField::InPort(self.in_port())];
        if self.in_phy_port() != self.in_port() {
            fields.push(OxmField::InPhyPort(self.in_phy_port()));
        }
        if self.metadata() != 0 {
            fields.push(OxmField::Metadata(self.metadata(), None));
        }
        if self.tunnel_id() != 0 {
            fields.push(OxmField::TunnelId(self.tunnel_id(), None));
        }
        Match::new(fields)
    }
}

impl Hash for FlowKey {
    /// One pass of [`FlowKey::hash64`]; with [`FlowKeyBuildHasher`] that is
    /// the whole cost of hashing a key.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

/// Shows the nonzero slots by field name (shared slots under the name of
/// their lowest-numbered field, e.g. `ipv4_dst` for `arp_tpa`).
impl fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.as_bytes();
        let mut m = f.debug_map();
        for (i, sl) in FIELD_SLOTS.iter().enumerate() {
            if FIELD_SLOTS[..i].contains(sl) {
                continue;
            }
            let v = &b[sl.range()];
            if v.iter().any(|&x| x != 0) {
                let name = basic_field(i as u8).map_or("?", |bf| bf.name);
                let hex: String = v.iter().map(|x| format!("{x:02x}")).collect();
                m.entry(&name, &format_args!("0x{hex}"));
            }
        }
        if b[off::END..].iter().any(|&x| x != 0) {
            m.entry(&"reserved", &&b[off::END..]);
        }
        m.finish()
    }
}

/// A [`BuildHasher`] for maps keyed by [`FlowKey`] (or by its `hash64`):
/// passes the `u64` written by `FlowKey::hash` through. Not keyed — for
/// tables whose keys packet senders choose, prefer a seeded hash.
#[derive(Clone, Copy, Default, Debug)]
pub struct FlowKeyBuildHasher;

/// Hasher of [`FlowKeyBuildHasher`]: FxHash-style mixing of whatever is written.
#[derive(Clone, Copy, Default, Debug)]
pub struct FlowKeyHasher(u64);

impl Hasher for FlowKeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut a = [0u8; 8];
            a[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_ne_bytes(a));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(FX_K);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for FlowKeyBuildHasher {
    type Hasher = FlowKeyHasher;
    #[inline]
    fn build_hasher(&self) -> FlowKeyHasher {
        FlowKeyHasher(0)
    }
}

// ---------------------------------------------------------------------------
// Match compilation
// ---------------------------------------------------------------------------

/// Compiles a match into (value, mask): an unmasked field sets all bits of
/// its slot in the mask, a masked one its mask; the value is stored masked.
/// `vlan_vid` needs no special case: keys hold `vid | OFPVID_PRESENT` for
/// tagged frames and 0 for untagged ones, so `OFPVID_NONE` exact means "no
/// tag" and `OFPVID_PRESENT/OFPVID_PRESENT` "any tag", as OF1.3 defines.
///
/// The match is validated first ([`Match::validate`]: prerequisites,
/// duplicates, masks, ranges) because shared storage is only safe when the
/// prerequisites are in the mask. Fields the datapath cannot match
/// (non-basic OXMs) → `OFPBMC_BAD_FIELD`.
pub fn compile_match(m: &Match) -> Result<(FlowKey, FlowKey), WireError> {
    m.validate()?;
    let mut value = FlowKey::ZERO;
    let mut mask = FlowKey::ZERO;
    for f in &m.fields {
        let Some(fb) = FieldBytes::of(f) else {
            return Err(WireError::new(
                OFPBMC_BAD_FIELD,
                format!(
                    "cannot match OXM class {:#06x} field {}",
                    f.class(),
                    f.field()
                ),
            ));
        };
        let sl = FIELD_SLOTS[usize::from(fb.field)];
        let (vb, mb) = (value.as_bytes_mut(), mask.as_bytes_mut());
        // Validation makes two fields sharing a slot impossible (their
        // prerequisites contradict each other); refuse rather than merge.
        if mb[sl.range()].iter().any(|&x| x != 0) {
            return Err(WireError::new(
                OFPBMC_BAD_PREREQ,
                format!(
                    "{} shares key storage with another field of this match",
                    f.name()
                ),
            ));
        }
        let fmask = fb.mask().map_or([0xff; 16], raw_bytes);
        for (i, at) in sl.range().enumerate() {
            mb[at] = fmask[i];
            vb[at] = fb.value()[i] & fmask[i];
        }
    }
    Ok((value, mask))
}

/// Fields a PACKET_IN match carries, as field numbers (for callers building
/// table-features properties).
pub const PIPELINE_FIELDS: [u8; 4] = [
    OFPXMT_OFB_IN_PORT,
    OFPXMT_OFB_IN_PHY_PORT,
    OFPXMT_OFB_METADATA,
    OFPXMT_OFB_TUNNEL_ID,
];

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::oxm::*;

    #[test]
    fn slot_sizes_equal_oxm_value_sizes() {
        for (i, sl) in FIELD_SLOTS.iter().enumerate() {
            let bf = basic_field(i as u8).unwrap();
            assert_eq!(usize::from(sl.len), bf.len, "{}", bf.name);
            assert!(sl.range().end <= off::END, "{}", bf.name);
        }
    }

    /// Only fields that can never be present together overlap.
    #[test]
    fn slots_overlap_only_where_fields_exclude_each_other() {
        use std::collections::BTreeSet;
        let groups: [&[u8]; 7] = [
            &[OFPXMT_OFB_IPV4_SRC, OFPXMT_OFB_ARP_SPA],
            &[OFPXMT_OFB_IPV4_DST, OFPXMT_OFB_ARP_TPA],
            &[OFPXMT_OFB_TCP_SRC, OFPXMT_OFB_UDP_SRC, OFPXMT_OFB_SCTP_SRC],
            &[OFPXMT_OFB_TCP_DST, OFPXMT_OFB_UDP_DST, OFPXMT_OFB_SCTP_DST],
            &[OFPXMT_OFB_ICMPV4_TYPE, OFPXMT_OFB_ICMPV6_TYPE],
            &[OFPXMT_OFB_ICMPV4_CODE, OFPXMT_OFB_ICMPV6_CODE],
            &[OFPXMT_OFB_ARP_SHA, OFPXMT_OFB_IPV6_ND_SLL],
        ];
        let more: [&[u8]; 2] = [
            &[OFPXMT_OFB_ARP_THA, OFPXMT_OFB_IPV6_ND_TLL],
            &[
                OFPXMT_OFB_IPV6_ND_TARGET,
                OFPXMT_OFB_MPLS_LABEL,
                OFPXMT_OFB_MPLS_TC,
                OFPXMT_OFB_MPLS_BOS,
                OFPXMT_OFB_PBB_ISID,
            ],
        ];
        let allowed: BTreeSet<(u8, u8)> = groups
            .iter()
            .chain(more.iter())
            .flat_map(|g| g.iter().flat_map(move |&a| g.iter().map(move |&b| (a, b))))
            .collect();
        for a in 0..BASIC_FIELD_COUNT as u8 {
            for b in 0..BASIC_FIELD_COUNT as u8 {
                if a == b {
                    continue;
                }
                let (ra, rb) = (slot(a).unwrap().range(), slot(b).unwrap().range());
                let overlap = ra.start < rb.end && rb.start < ra.end;
                if overlap {
                    assert!(allowed.contains(&(a, b)), "fields {a} and {b} overlap");
                }
            }
        }
        // MPLS fields must not overlap each other.
        assert_eq!(off::MPLS_TC, off::MPLS_LABEL + 4);
    }

    fn m(fields: Vec<OxmField>) -> Match {
        Match::new(fields)
    }

    #[test]
    fn unmasked_fields_get_all_ones_masks_and_masked_ones_their_mask() {
        let (v, mk) = compile_match(&m(vec![
            OxmField::InPort(7),
            OxmField::EthType(0x0800),
            OxmField::Ipv4Dst(
                "10.1.0.0".parse().unwrap(),
                Some("255.255.0.0".parse().unwrap()),
            ),
        ]))
        .unwrap();
        assert_eq!(v.get_field(OFPXMT_OFB_IN_PORT), &[0, 0, 0, 7]);
        assert_eq!(mk.get_field(OFPXMT_OFB_IN_PORT), &[0xff; 4]);
        assert_eq!(v.get_field(OFPXMT_OFB_ETH_TYPE), &[0x08, 0x00]);
        assert_eq!(v.get_field(OFPXMT_OFB_IPV4_DST), &[10, 1, 0, 0]);
        assert_eq!(mk.get_field(OFPXMT_OFB_IPV4_DST), &[255, 255, 0, 0]);
        // Nothing else is in the mask.
        let covered = FlowKey::field_mask(OFPXMT_OFB_IN_PORT)
            .union(&FlowKey::field_mask(OFPXMT_OFB_ETH_TYPE))
            .union(&FlowKey::field_mask(OFPXMT_OFB_IPV4_DST));
        assert!(mk.is_subset_of(&covered));
        assert_eq!(v, v.masked(&mk));
    }

    #[test]
    fn vlan_vid_compiles_per_of13_semantics() {
        let (v, mk) = compile_match(&m(vec![OxmField::VlanVid(OFPVID_NONE, None)])).unwrap();
        assert_eq!(v.get_field(OFPXMT_OFB_VLAN_VID), &[0, 0]);
        assert_eq!(mk.get_field(OFPXMT_OFB_VLAN_VID), &[0xff, 0xff]);
        let (v, mk) = compile_match(&m(vec![OxmField::VlanVid(
            OFPVID_PRESENT,
            Some(OFPVID_PRESENT),
        )]))
        .unwrap();
        assert_eq!(v.get_field(OFPXMT_OFB_VLAN_VID), &[0x10, 0]);
        assert_eq!(mk.get_field(OFPXMT_OFB_VLAN_VID), &[0x10, 0]);
        let (v, _) =
            compile_match(&m(vec![OxmField::VlanVid(OFPVID_PRESENT | 100, None)])).unwrap();
        assert_eq!(v.get_field(OFPXMT_OFB_VLAN_VID), &[0x10, 100]);
    }

    #[test]
    fn pbb_isid_is_three_bytes_and_metadata_masked() {
        let (v, mk) = compile_match(&m(vec![
            OxmField::EthType(0x88e7),
            OxmField::PbbIsid(0xab00ef, Some(0xff00ff)),
            OxmField::Metadata(0x1200, Some(0xff00)),
        ]))
        .unwrap();
        assert_eq!(v.get_field(OFPXMT_OFB_PBB_ISID), &[0xab, 0, 0xef]);
        assert_eq!(mk.get_field(OFPXMT_OFB_PBB_ISID), &[0xff, 0, 0xff]);
        assert_eq!(v.metadata(), 0x1200);
        assert_eq!(mk.metadata(), 0xff00);
    }

    #[test]
    fn non_basic_oxm_is_bad_field() {
        let raw = OxmField::Raw(OxmRaw {
            class: OFPXMC_NXM_1,
            field: 1,
            hasmask: false,
            body: bytes::Bytes::from_static(&[0, 0, 0, 1]),
        });
        let e = compile_match(&m(vec![raw])).unwrap_err();
        assert_eq!(e.code, OFPBMC_BAD_FIELD);
    }

    #[test]
    fn hand_built_basic_raw_compiles_like_its_typed_form() {
        let raw = OxmField::Raw(OxmRaw {
            class: OFPXMC_OPENFLOW_BASIC,
            field: OFPXMT_OFB_IN_PORT,
            hasmask: false,
            body: bytes::Bytes::from_static(&[0, 0, 0, 9]),
        });
        assert_eq!(
            compile_match(&m(vec![raw])).unwrap(),
            compile_match(&m(vec![OxmField::InPort(9)])).unwrap()
        );
    }

    #[test]
    fn value_bits_outside_the_mask_are_refused() {
        let e = compile_match(&m(vec![OxmField::Metadata(0x1234, Some(0xff00))])).unwrap_err();
        assert_eq!(e.code, ofproto::error::OFPBMC_BAD_WILDCARDS);
    }

    #[test]
    fn missing_prerequisite_is_refused() {
        let e = compile_match(&m(vec![OxmField::ArpTpa(
            "10.0.0.1".parse().unwrap(),
            None,
        )]))
        .unwrap_err();
        assert_eq!(e.code, ofproto::error::OFPBMC_BAD_PREREQ);
    }

    #[test]
    fn set_field_normalizes_like_a_packet_key() {
        let mut k = FlowKey::ZERO;
        k.set_field(&OxmField::VlanVid(0x0123, None));
        assert_eq!(k.vlan_vid(), 0x1123);
        k.set_field(&OxmField::IpDscp(0xff));
        assert_eq!(k.get_field(OFPXMT_OFB_IP_DSCP), &[0x3f]);
        k.set_field(&OxmField::MplsLabel(0xfff_ffff));
        assert_eq!(k.get_field(OFPXMT_OFB_MPLS_LABEL), &[0, 0x0f, 0xff, 0xff]);
        assert!(!k.set_field(&OxmField::Raw(OxmRaw {
            class: 1,
            field: 0,
            hasmask: false,
            body: bytes::Bytes::new()
        })));
    }

    #[test]
    fn pipeline_match_carries_in_port_and_nonzero_metadata() {
        let mut k = FlowKey::ZERO;
        k.set_in_port(3);
        assert_eq!(k.to_pipeline_match().fields, vec![OxmField::InPort(3)]);
        k.write_metadata(0xff, 0x0f);
        k.set_tunnel_id(42);
        assert_eq!(
            k.to_pipeline_match().fields,
            vec![
                OxmField::InPort(3),
                OxmField::Metadata(0x0f, None),
                OxmField::TunnelId(42, None)
            ]
        );
    }

    #[test]
    fn hashes_agree_with_masking_and_equality() {
        let mut a = FlowKey::ZERO;
        a.set_in_port(1);
        a.set_metadata(0xdead_beef);
        let mask = FlowKey::field_mask(OFPXMT_OFB_IN_PORT);
        assert_eq!(a.masked_hash(&mask), a.masked(&mask).hash64());
        assert_ne!(a.hash64(), a.masked(&mask).hash64());
        let mut set: std::collections::HashSet<FlowKey, FlowKeyBuildHasher> =
            std::collections::HashSet::with_hasher(FlowKeyBuildHasher);
        set.insert(a);
        assert!(set.contains(&a));
        assert!(!set.contains(&a.masked(&mask)));
        assert!(a.matches(&a.masked(&mask), &mask));
        assert!(mask.is_subset_of(&FlowKey::field_mask(OFPXMT_OFB_IN_PORT)));
        assert!(!FlowKey::field_mask(OFPXMT_OFB_METADATA).is_subset_of(&mask));
    }
}
