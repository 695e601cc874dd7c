//! One pass over an Ethernet frame: fills a [`FlowKey`] with every OF1.3
//! match field the frame has and returns a [`ParseInfo`] with the header
//! offsets the action code needs.
//!
//! Rules (the tests hold the parser to them):
//! - No allocation, no panic, whatever the bytes. Every header is read only
//!   when all of its fixed part is in the frame (and, above L3, inside the
//!   IP datagram's declared length); a truncated header contributes nothing
//!   and parsing stops there with the fields found so far.
//! - Ethernet II; VLAN tags (0x8100, 0x88a8, any number): the outermost one
//!   gives `vlan_vid`/`vlan_pcp`, `eth_type` is the ethertype after the
//!   last tag. A tag counts when its TCI and the ethertype after it are
//!   present. An 802.3 length (< 0x0600) gives `eth_type` 0x05ff
//!   (`OFP_DL_TYPE_NOT_ETH_TYPE`, as OVS) and nothing more (no LLC/SNAP).
//! - PBB (0x88e7): the I-TAG's I-SID, then stop (the customer frame is not
//!   parsed). MPLS (0x8847/0x8848): the top label's label/TC/BOS; the rest
//!   of the stack is only counted, nothing past it is read.
//! - ARP: only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4).
//! - IPv4: version 4, IHL ≥ 5, the whole header with options. Ports etc.
//!   only in the first fragment.
//! - IPv6: the fixed header, then the extension header chain (hop-by-hop,
//!   routing, fragment, destination options, AH; ESP and "no next header"
//!   end the walk) with the `ipv6_exthdr` flags; `ip_proto` is the last
//!   next-header value reached. L4 only in the first fragment.
//! - TCP (20 bytes), UDP (8), SCTP (12): ports. ICMPv4/ICMPv6 (4): type and
//!   code. ND (ICMPv6 135/136 with code 0, RFC 4861 §7.1.1): target, then
//!   the first source (NS) / target (NA) link-layer option of Ethernet size.

use super::key::{off, FlowKey};
use ofproto::oxm::OFPVID_PRESENT;

pub const ETH_HLEN: usize = 14;
pub const ETH_TYPE_IPV4: u16 = 0x0800;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_VLAN: u16 = 0x8100;
pub const ETH_TYPE_VLAN_AD: u16 = 0x88a8;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
pub const ETH_TYPE_PBB: u16 = 0x88e7;
/// `eth_type` of 802.3 frames (their "type" field is a length).
pub const ETH_TYPE_NOT_ETH_TYPE: u16 = 0x05ff;

pub const IPPROTO_HOPOPTS: u8 = 0;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ROUTING: u8 = 43;
pub const IPPROTO_FRAGMENT: u8 = 44;
pub const IPPROTO_ESP: u8 = 50;
pub const IPPROTO_AH: u8 = 51;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_NONE: u8 = 59;
pub const IPPROTO_DSTOPTS: u8 = 60;
pub const IPPROTO_SCTP: u8 = 132;

pub const ND_NEIGHBOR_SOLICIT: u8 = 135;
pub const ND_NEIGHBOR_ADVERT: u8 = 136;
const ND_OPT_SOURCE_LL: u8 = 1;
const ND_OPT_TARGET_LL: u8 = 2;

/// `ofp_ipv6exthdr_flags`.
pub mod exthdr {
    /// "No next header" (59) reached.
    pub const NONEXT: u16 = 1 << 0;
    pub const ESP: u16 = 1 << 1;
    pub const AUTH: u16 = 1 << 2;
    /// One or two destination options headers.
    pub const DEST: u16 = 1 << 3;
    pub const FRAG: u16 = 1 << 4;
    pub const ROUTER: u16 = 1 << 5;
    pub const HOP: u16 = 1 << 6;
    /// "Unexpected repeats" (OF1.3.5 §7.2.3.7): a header type occurred more
    /// than once, except that up to two destination options headers are
    /// allowed (RFC 8200 §4.1: one before a routing header, one before the
    /// upper layer).
    pub const UNREP: u16 = 1 << 7;
    /// "Unexpected sequencing": headers out of the order RFC 8200 §4.1
    /// (RFC 2460 in the spec) recommends: hop-by-hop, destination options,
    /// routing, fragment, AH, ESP, destination options. A destination
    /// options header after anything but hop-by-hop takes the last slot.
    pub const UNSEQ: u16 = 1 << 8;
}

/// What header the ethertype (after VLAN tags) names, when it was parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum L3 {
    /// Nothing parsed past Ethernet/VLAN (unknown ethertype or truncated).
    #[default]
    None,
    Arp,
    Ipv4,
    Ipv6,
    /// At least one complete MPLS label at `l3_off`.
    Mpls,
    /// A complete I-TAG at `l3_off`.
    Pbb,
}

/// Header offsets found by [`parse_frame`], so actions don't re-parse.
/// Offsets are from the start of the frame; 0 means "absent" (no header of
/// interest can start at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ParseInfo {
    /// Complete VLAN tags; tag `i` (TPID, TCI) sits at `12 + 4 * i`.
    pub n_vlans: u32,
    /// Length of the Ethernet header including VLAN tags: where the
    /// ethertype's payload (MPLS stack, I-TAG, ARP, IP) starts. The
    /// ethertype itself is at `l2_len - 2`. 0 if the frame has no complete
    /// Ethernet header.
    pub l2_len: u32,
    /// Which header starts at `l3_off`.
    pub l3: L3,
    /// Start of the ARP / IPv4 / IPv6 header, of the MPLS stack or of the
    /// I-TAG (equal to `l2_len` when set).
    pub l3_off: u32,
    /// Complete MPLS labels up to and including the bottom of stack.
    pub n_mpls: u32,
    /// End of the IP datagram (declared length, cut to the frame): where
    /// Ethernet padding starts. 0 when not IP.
    pub ip_end: u32,
    /// The final protocol (IPv4 protocol, last IPv6 next-header).
    pub ip_proto: u8,
    /// Where the byte holding `ip_proto` sits (IPv4 header or the last
    /// IPv6 header of the chain that was walked).
    pub proto_off: u32,
    /// Start of the TCP/UDP/SCTP/ICMP/ICMPv6 header when complete.
    pub l4_off: u32,
    /// Where the 6-byte link-layer address of the ND option (source for
    /// NS, target for NA) sits.
    pub nd_ll_off: u32,
    /// `FLAG_*` bits.
    pub flags: u8,
}

impl ParseInfo {
    /// The packet is an IP fragment.
    pub const FLAG_FRAG: u8 = 1 << 0;
    /// A fragment other than the first: no L4 header.
    pub const FLAG_LATER_FRAG: u8 = 1 << 1;
    /// The IPv6 chain has a routing header (the L4 pseudo-header then uses
    /// the final destination, not `ipv6_dst`).
    pub const FLAG_ROUTING: u8 = 1 << 2;
    /// An ND message whose target was parsed (at `l4_off + 8`).
    pub const FLAG_ND: u8 = 1 << 3;

    #[inline]
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The L4 header offset, if a complete one was parsed.
    #[inline]
    pub fn l4(&self) -> Option<usize> {
        (self.l4_off != 0).then_some(self.l4_off as usize)
    }

    /// Moves every offset at or past `from` by `delta` bytes (a header of
    /// `delta` bytes was inserted, or of `-delta` removed, at `from`).
    pub(crate) fn shift(&mut self, from: usize, delta: isize) {
        let mv = |x: &mut u32| {
            if *x != 0 && *x as usize >= from {
                *x = (*x as isize + delta) as u32;
            }
        };
        mv(&mut self.l2_len);
        mv(&mut self.l3_off);
        mv(&mut self.ip_end);
        mv(&mut self.proto_off);
        mv(&mut self.l4_off);
        mv(&mut self.nd_ll_off);
    }
}

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline(always)]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline(always)]
fn put(k: &mut [u8; 128], at: usize, v: &[u8]) {
    k[at..at + v.len()].copy_from_slice(v);
}

/// Parses `frame` into `key` (every field overwritten: `metadata` and
/// `tunnel_id` become 0 — set them afterwards) and returns the header
/// offsets. `in_port` also becomes `in_phy_port`.
pub fn parse_frame(frame: &[u8], in_port: u32, key: &mut FlowKey) -> ParseInfo {
    *key = FlowKey::ZERO;
    let k = key.as_bytes_mut();
    put(k, off::IN_PORT, &in_port.to_be_bytes());
    put(k, off::IN_PHY_PORT, &in_port.to_be_bytes());
    let mut info = ParseInfo::default();
    let len = frame.len();
    if len < ETH_HLEN {
        return info;
    }
    put(k, off::ETH_DST, &frame[0..6]);
    put(k, off::ETH_SRC, &frame[6..12]);

    // VLAN tags: TPID at p, TCI at p+2, next ethertype at p+4.
    let mut p = 12;
    let mut et = be16(frame, p);
    while (et == ETH_TYPE_VLAN || et == ETH_TYPE_VLAN_AD) && p + 6 <= len {
        if info.n_vlans == 0 {
            let tci = be16(frame, p + 2);
            put(
                k,
                off::VLAN_VID,
                &((tci & 0x0fff) | OFPVID_PRESENT).to_be_bytes(),
            );
            k[off::VLAN_PCP] = (tci >> 13) as u8;
        }
        info.n_vlans += 1;
        p += 4;
        et = be16(frame, p);
    }
    let l2 = p + 2;
    info.l2_len = l2 as u32;
    if et < 0x0600 {
        put(k, off::ETH_TYPE, &ETH_TYPE_NOT_ETH_TYPE.to_be_bytes());
        return info;
    }
    put(k, off::ETH_TYPE, &et.to_be_bytes());

    match et {
        ETH_TYPE_IPV4 => parse_ipv4(frame, l2, k, &mut info),
        ETH_TYPE_IPV6 => parse_ipv6(frame, l2, k, &mut info),
        ETH_TYPE_ARP => parse_arp(frame, l2, k, &mut info),
        ETH_TYPE_MPLS | ETH_TYPE_MPLS_MCAST => parse_mpls(frame, l2, k, &mut info),
        ETH_TYPE_PBB if l2 + 4 <= len => {
            put(k, off::PBB_ISID, &frame[l2 + 1..l2 + 4]);
            info.l3 = L3::Pbb;
            info.l3_off = l2 as u32;
        }
        _ => {}
    }
    info
}

fn parse_arp(f: &[u8], l3: usize, k: &mut [u8; 128], info: &mut ParseInfo) {
    if f.len() < l3 + 28 {
        return;
    }
    let h = &f[l3..l3 + 28];
    if be16(h, 0) != 1 || be16(h, 2) != ETH_TYPE_IPV4 || h[4] != 6 || h[5] != 4 {
        return;
    }
    put(k, off::ARP_OP, &h[6..8]);
    put(k, off::DL_SHA, &h[8..14]);
    put(k, off::NW_SRC, &h[14..18]);
    put(k, off::DL_THA, &h[18..24]);
    put(k, off::NW_DST, &h[24..28]);
    info.l3 = L3::Arp;
    info.l3_off = l3 as u32;
}

fn parse_mpls(f: &[u8], l3: usize, k: &mut [u8; 128], info: &mut ParseInfo) {
    if f.len() < l3 + 4 {
        return;
    }
    let lse = be32(f, l3);
    put(k, off::MPLS_LABEL, &(lse >> 12).to_be_bytes());
    k[off::MPLS_TC] = ((lse >> 9) & 7) as u8;
    k[off::MPLS_BOS] = ((lse >> 8) & 1) as u8;
    info.l3 = L3::Mpls;
    info.l3_off = l3 as u32;
    // Count the stack (bounded by the frame: each step needs 4 more bytes).
    let mut n = 1;
    let mut p = l3;
    while f[p + 2] & 1 == 0 && p + 8 <= f.len() {
        p += 4;
        n += 1;
    }
    info.n_mpls = n;
}

fn parse_ipv4(f: &[u8], l3: usize, k: &mut [u8; 128], info: &mut ParseInfo) {
    let len = f.len();
    if len < l3 + 20 || f[l3] >> 4 != 4 {
        return;
    }
    let hl = usize::from(f[l3] & 0x0f) * 4;
    if hl < 20 || len < l3 + hl {
        return;
    }
    let tos = f[l3 + 1];
    k[off::IP_DSCP] = tos >> 2;
    k[off::IP_ECN] = tos & 3;
    let proto = f[l3 + 9];
    k[off::IP_PROTO] = proto;
    put(k, off::NW_SRC, &f[l3 + 12..l3 + 16]);
    put(k, off::NW_DST, &f[l3 + 16..l3 + 20]);
    info.l3 = L3::Ipv4;
    info.l3_off = l3 as u32;
    info.ip_proto = proto;
    info.proto_off = (l3 + 9) as u32;
    let end = (l3 + usize::from(be16(f, l3 + 2))).clamp(l3 + hl, len);
    info.ip_end = end as u32;
    let frag = be16(f, l3 + 6);
    if frag & 0x3fff != 0 {
        info.flags |= ParseInfo::FLAG_FRAG;
        if frag & 0x1fff != 0 {
            info.flags |= ParseInfo::FLAG_LATER_FRAG;
            return;
        }
    }
    parse_l4(f, l3 + hl, end, proto, false, k, info);
}

/// Position of an extension header in RFC 8200 §4.1's recommended order.
/// Destination options have two places: before a routing header (only hop-
/// by-hop before it) and before the upper layer.
mod rank {
    pub const HOP: u8 = 1;
    pub const DEST_FIRST: u8 = 2;
    pub const ROUTER: u8 = 3;
    pub const FRAG: u8 = 4;
    pub const AUTH: u8 = 5;
    pub const ESP: u8 = 6;
    pub const DEST_LAST: u8 = 7;
}

/// The `ipv6_exthdr` bookkeeping during the chain walk.
struct ExtState {
    flags: u16,
    /// Highest rank seen so far.
    last: u8,
    /// Bit per rank already used (for UNREP).
    used: u8,
}

impl ExtState {
    fn note(&mut self, flag: u16, r: u8) {
        let r = if r == rank::DEST_FIRST && self.last > rank::HOP {
            rank::DEST_LAST
        } else {
            r
        };
        if self.used & (1 << r) != 0 {
            self.flags |= exthdr::UNREP;
        }
        if r < self.last {
            self.flags |= exthdr::UNSEQ;
        }
        self.used |= 1 << r;
        self.last = self.last.max(r);
        self.flags |= flag;
    }
}

fn parse_ipv6(f: &[u8], l3: usize, k: &mut [u8; 128], info: &mut ParseInfo) {
    let len = f.len();
    if len < l3 + 40 || f[l3] >> 4 != 6 {
        return;
    }
    let vtf = be32(f, l3);
    let tc = (vtf >> 20) as u8;
    k[off::IP_DSCP] = tc >> 2;
    k[off::IP_ECN] = tc & 3;
    put(k, off::IPV6_FLABEL, &(vtf & 0x000f_ffff).to_be_bytes());
    put(k, off::IPV6_SRC, &f[l3 + 8..l3 + 24]);
    put(k, off::IPV6_DST, &f[l3 + 24..l3 + 40]);
    info.l3 = L3::Ipv6;
    info.l3_off = l3 as u32;
    let plen = usize::from(be16(f, l3 + 4));
    // Payload length 0: a jumbogram (or nothing); take the frame's end.
    let end = if plen == 0 {
        len
    } else {
        (l3 + 40 + plen).min(len)
    };
    info.ip_end = end as u32;

    let mut proto_off = l3 + 6;
    let mut nxt = f[proto_off];
    let mut p = l3 + 40;
    let mut st = ExtState {
        flags: 0,
        last: 0,
        used: 0,
    };
    let mut later_frag = false;
    // Each step consumes at least 8 bytes, so the walk is bounded by the
    // frame; the cap only bounds work on hostile chains of tiny headers.
    for _ in 0..64 {
        let (flag, r) = match nxt {
            IPPROTO_HOPOPTS => (exthdr::HOP, rank::HOP),
            IPPROTO_DSTOPTS => (exthdr::DEST, rank::DEST_FIRST),
            IPPROTO_ROUTING => (exthdr::ROUTER, rank::ROUTER),
            IPPROTO_FRAGMENT => (exthdr::FRAG, rank::FRAG),
            IPPROTO_AH => (exthdr::AUTH, rank::AUTH),
            IPPROTO_ESP => {
                // Encrypted past its SPI/sequence: the walk ends here.
                st.note(exthdr::ESP, rank::ESP);
                break;
            }
            IPPROTO_NONE => {
                st.flags |= exthdr::NONEXT;
                break;
            }
            _ => break,
        };
        if p + 8 > end {
            break;
        }
        let hlen = match nxt {
            IPPROTO_FRAGMENT => 8,
            IPPROTO_AH => (usize::from(f[p + 1]) + 2) * 4,
            _ => (usize::from(f[p + 1]) + 1) * 8,
        };
        if p + hlen > end {
            break;
        }
        st.note(flag, r);
        if nxt == IPPROTO_ROUTING {
            info.flags |= ParseInfo::FLAG_ROUTING;
        }
        if nxt == IPPROTO_FRAGMENT {
            let fo = be16(f, p + 2);
            if fo & 0xfff9 != 0 {
                info.flags |= ParseInfo::FLAG_FRAG;
            }
            if fo & 0xfff8 != 0 {
                info.flags |= ParseInfo::FLAG_LATER_FRAG;
                later_frag = true;
            }
        }
        proto_off = p;
        nxt = f[p];
        p += hlen;
        if later_frag {
            break;
        }
    }
    k[off::IP_PROTO] = nxt;
    put(k, off::IPV6_EXTHDR, &st.flags.to_be_bytes());
    info.ip_proto = nxt;
    info.proto_off = proto_off as u32;
    if !later_frag {
        parse_l4(f, p, end, nxt, true, k, info);
    }
}

fn parse_l4(
    f: &[u8],
    l4: usize,
    end: usize,
    proto: u8,
    v6: bool,
    k: &mut [u8; 128],
    info: &mut ParseInfo,
) {
    let need = match proto {
        IPPROTO_TCP => 20,
        IPPROTO_UDP => 8,
        IPPROTO_SCTP => 12,
        IPPROTO_ICMP if !v6 => 4,
        IPPROTO_ICMPV6 if v6 => 4,
        _ => return,
    };
    if l4 + need > end {
        return;
    }
    info.l4_off = l4 as u32;
    if need != 4 {
        put(k, off::TP_SRC, &f[l4..l4 + 4]);
        return;
    }
    let (ty, code) = (f[l4], f[l4 + 1]);
    k[off::ICMP_TYPE] = ty;
    k[off::ICMP_CODE] = code;
    if !v6 || !(ty == ND_NEIGHBOR_SOLICIT || ty == ND_NEIGHBOR_ADVERT) || code != 0 {
        return;
    }
    if l4 + 24 > end {
        return;
    }
    put(k, off::ND_TARGET, &f[l4 + 8..l4 + 24]);
    info.flags |= ParseInfo::FLAG_ND;
    let (want, dst) = if ty == ND_NEIGHBOR_SOLICIT {
        (ND_OPT_SOURCE_LL, off::DL_SHA)
    } else {
        (ND_OPT_TARGET_LL, off::DL_THA)
    };
    let mut o = l4 + 24;
    while o + 8 <= end {
        let olen = usize::from(f[o + 1]) * 8;
        if olen == 0 || o + olen > end {
            break; // malformed: stop looking
        }
        if f[o] == want && olen == 8 {
            put(k, dst, &f[o + 2..o + 8]);
            info.nd_ll_off = (o + 2) as u32;
            break;
        }
        o += olen;
    }
}
