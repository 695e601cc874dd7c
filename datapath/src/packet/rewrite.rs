//! Actions that change a frame in place, keeping [`Packet::key`] and
//! [`Packet::info`] consistent with the bytes (the key always equals what
//! `parse_frame` makes of the frame, plus `metadata`/`tunnel_id`), so later
//! tables match on the rewritten packet as OF1.3 requires.
//!
//! - Field rewrites update the frame and the key's slot directly, with
//!   incremental checksum updates (RFC 1624): IPv4 header checksum, the
//!   TCP/UDP/ICMPv6 checksums over the pseudo-header and the header fields
//!   they cover. A UDP checksum of 0 ("none") stays 0, and a computed 0
//!   becomes 0xffff. SCTP's CRC32c is recomputed over the packet, keeping
//!   whatever error the old one had (as OVS does).
//! - push/pop VLAN move only the bytes in front of the tag (the frame has
//!   headroom) and adjust key and offsets in place; push/pop MPLS/PBB and
//!   the rare rewrites that change how the rest of the frame parses
//!   (eth_type, ip_proto, icmpv6 type/code, mpls_bos) re-parse the frame.
//! - An action whose header isn't there is a no-op ([`RewriteOutcome::Skipped`]),
//!   as in OVS; a TTL decrement that would reach 0 leaves the frame alone and
//!   says [`RewriteOutcome::InvalidTtl`].
//!
//! Not done: the L4 checksum after `ip_proto` changes (the pseudo-header's
//! protocol and the checksum's location both change meaning), and L4
//! checksums of non-first fragments (no L4 header to update).

use super::key::FieldBytes;
use super::parse::*;
use super::{FrameBuf, Packet};
use ofproto::action::Action;
use ofproto::oxm::*;

/// What an action did to a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewriteOutcome {
    /// The frame (and key) changed as the action says.
    Applied,
    /// The header the action works on isn't in the packet (or the field
    /// can't be written by set_field): nothing changed.
    Skipped,
    /// `dec_nw_ttl`/`dec_mpls_ttl` found a TTL of 0 or 1: the frame is
    /// unchanged; the packet should go to the controller with
    /// `OFPR_INVALID_TTL` (when the switch config asks for it) or be dropped.
    InvalidTtl,
    /// A push needed more headroom than the (fixed) buffer has: nothing
    /// changed. Copy the packet into a [`super::Frame`] and apply again.
    NoHeadroom,
    /// Not a header rewrite (output, group, set_queue, experimenter): the
    /// caller's business.
    NotRewrite,
}

// ---------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------

/// One's-complement sum of big-endian 16-bit words (an odd tail byte is
/// padded with 0), unfolded.
pub fn ones_sum(mut acc: u64, b: &[u8]) -> u64 {
    let mut it = b.chunks_exact(2);
    for c in &mut it {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [x] = it.remainder() {
        acc += u64::from(*x) << 8;
    }
    acc
}

/// Folds a sum to 16 bits with end-around carry.
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// RFC 1624 eqn. 3: the checksum `hc` after the 16-bit words `old` became
/// `new` (same even length): `HC' = ~(~HC + ~m + m')`.
pub fn csum_replace(hc: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut acc = u64::from(!hc);
    for c in old.chunks_exact(2) {
        acc += u64::from(!u16::from_be_bytes([c[0], c[1]]));
    }
    !fold(ones_sum(acc, new))
}

const fn crc32c_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32C_TABLE: [u32; 256] = crc32c_table();

/// CRC32c (Castagnoli), as SCTP uses it (RFC 4960 App. B); the packet
/// carries it little-endian. Byte-at-a-time: ~1.5 ns/byte, so a 1500-byte
/// SCTP port rewrite costs a few µs — rare enough not to need SSE4.2.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32C_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// A checksum to keep right while rewriting bytes it covers.
#[derive(Clone, Copy)]
enum Ck {
    None,
    /// Internet checksum at this frame offset.
    Plain(usize),
    /// UDP's: 0 means "no checksum" and stays 0; a computed 0 is sent as 0xffff.
    Udp(usize),
}

/// How a rewritten span relates to a partial (offloaded) L4 checksum.
#[derive(Clone, Copy)]
struct Partial {
    /// Frame offset of the checksum field that holds only the
    /// pseudo-header sum (`FrameBuf::partial_csum_at`).
    at: Option<usize>,
    /// The span is part of the pseudo-header (IP addresses); otherwise it
    /// is L4 data, which the transmitter sums anyway.
    pseudo: bool,
}

/// For checksums that are never offloaded (the IPv4 header's).
const NO_PARTIAL: Partial = Partial {
    at: None,
    pseudo: false,
};

fn fix_csum(f: &mut [u8], ck: Ck, old: &[u8], new: &[u8], part: Partial) {
    let (at, udp) = match ck {
        Ck::None => return,
        Ck::Plain(at) => (at, false),
        Ck::Udp(at) => (at, true),
    };
    let hc = u16::from_be_bytes([f[at], f[at + 1]]);
    if part.at == Some(at) {
        // An uncomplemented pseudo-header sum: S' = S + ~m + m'.
        if part.pseudo {
            let v = !csum_replace(!hc, old, new);
            f[at..at + 2].copy_from_slice(&v.to_be_bytes());
        }
        return;
    }
    if udp && hc == 0 {
        return;
    }
    let mut v = csum_replace(hc, old, new);
    if udp && v == 0 {
        v = 0xffff;
    }
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Writes `new` (≤ 16 bytes, even length) at `at` and updates checksums
/// that cover that span as whole 16-bit words.
fn write_ck(f: &mut [u8], at: usize, new: &[u8], cks: [Ck; 2], part: Partial) {
    let n = new.len();
    let mut old = [0u8; 16];
    old[..n].copy_from_slice(&f[at..at + n]);
    f[at..at + n].copy_from_slice(new);
    for ck in cks {
        fix_csum(f, ck, &old[..n], new, part);
    }
}

/// The L4 checksum that covers the IP pseudo-header, if there is an L4
/// header to update.
fn pseudo_ck(info: &ParseInfo) -> Ck {
    let Some(l4) = info.l4() else { return Ck::None };
    match info.ip_proto {
        IPPROTO_TCP => Ck::Plain(l4 + 16),
        IPPROTO_UDP => Ck::Udp(l4 + 6),
        IPPROTO_ICMPV6 if info.l3 == L3::Ipv6 => Ck::Plain(l4 + 2),
        _ => Ck::None,
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// An IP header right after the bottom MPLS label at `p`: where its TTL is
/// and, for IPv4, its header checksum.
fn ip_after_mpls(f: &[u8], p: usize) -> Option<(usize, Ck)> {
    let v = *f.get(p)? >> 4;
    if v == 4 && f.len() >= p + 20 {
        let hl = usize::from(f[p] & 0x0f) * 4;
        (hl >= 20 && f.len() >= p + hl).then_some((p + 8, Ck::Plain(p + 10)))
    } else if v == 6 && f.len() >= p + 40 {
        Some((p + 7, Ck::None))
    } else {
        None
    }
}

/// What a field rewrite needs done after the bytes changed.
enum After {
    Skip,
    /// Update the key's slot.
    Key,
    /// Re-parse the frame.
    Reparse,
}

impl<B: FrameBuf> Packet<B> {
    /// Executes one action on the packet.
    pub fn apply(&mut self, a: &Action) -> RewriteOutcome {
        match a {
            Action::SetField(f) => self.set_field(f),
            Action::PushVlan(tpid) => self.push_vlan(*tpid),
            Action::PopVlan => self.pop_vlan(),
            Action::PushMpls(et) => self.push_mpls(*et),
            Action::PopMpls(et) => self.pop_mpls(*et),
            Action::PushPbb(et) => self.push_pbb(*et),
            Action::PopPbb => self.pop_pbb(),
            Action::SetNwTtl(t) => self.set_nw_ttl(*t),
            Action::DecNwTtl => self.dec_nw_ttl(),
            Action::SetMplsTtl(t) => self.set_mpls_ttl(*t),
            Action::DecMplsTtl => self.dec_mpls_ttl(),
            Action::CopyTtlOut => self.copy_ttl_out(),
            Action::CopyTtlIn => self.copy_ttl_in(),
            Action::Output { .. }
            | Action::SetQueue(_)
            | Action::Group(_)
            | Action::Experimenter { .. } => RewriteOutcome::NotRewrite,
        }
    }

    /// `set_field`: writes the field into the frame (normalized: only the
    /// field's legal bits; `vlan_vid` keeps the tag's PCP/DEI and takes the
    /// 12-bit VID) and the key. Non-basic OXMs are skipped.
    pub fn set_field(&mut self, f: &OxmField) -> RewriteOutcome {
        match FieldBytes::of(f) {
            Some(fb) => self.set_field_bytes(&fb),
            None => RewriteOutcome::Skipped,
        }
    }

    /// `set_field` from a pre-built [`FieldBytes`] (build it once per flow
    /// to skip the OXM conversion per packet).
    pub fn set_field_bytes(&mut self, fb: &FieldBytes) -> RewriteOutcome {
        let fb = fb.normalized();
        match self.write_field(&fb) {
            After::Skip => RewriteOutcome::Skipped,
            After::Key => {
                self.key.set_field_bytes(&fb);
                RewriteOutcome::Applied
            }
            After::Reparse => {
                self.reparse();
                RewriteOutcome::Applied
            }
        }
    }

    fn write_field(&mut self, fb: &FieldBytes) -> After {
        let info = self.info;
        let partial = self.frame.partial_csum_at();
        // L4 data spans; IP addresses switch to `addr`.
        let data = Partial {
            at: partial,
            pseudo: false,
        };
        let addr = Partial {
            at: partial,
            pseudo: true,
        };
        let f = self.frame.data_mut();
        let v = fb.value();
        let l3 = info.l3_off as usize;
        let l4 = info.l4_off as usize;
        let is = |k: L3| info.l3 == k;
        match fb.field {
            OFPXMT_OFB_ETH_DST | OFPXMT_OFB_ETH_SRC => {
                if info.l2_len == 0 {
                    return After::Skip;
                }
                let at = if fb.field == OFPXMT_OFB_ETH_DST { 0 } else { 6 };
                f[at..at + 6].copy_from_slice(v);
            }
            OFPXMT_OFB_ETH_TYPE => {
                let l2 = info.l2_len as usize;
                if l2 == 0 {
                    return After::Skip;
                }
                f[l2 - 2..l2].copy_from_slice(v);
                return After::Reparse;
            }
            OFPXMT_OFB_VLAN_VID | OFPXMT_OFB_VLAN_PCP => {
                if info.n_vlans == 0 {
                    return After::Skip;
                }
                let tci = be16(f, 14);
                let tci = if fb.field == OFPXMT_OFB_VLAN_VID {
                    (tci & 0xf000) | (be16(v, 0) & 0x0fff)
                } else {
                    (tci & 0x1fff) | (u16::from(v[0]) << 13)
                };
                f[14..16].copy_from_slice(&tci.to_be_bytes());
            }
            OFPXMT_OFB_IP_DSCP | OFPXMT_OFB_IP_ECN => {
                let (keep, put) = if fb.field == OFPXMT_OFB_IP_DSCP {
                    (0x03u8, v[0] << 2)
                } else {
                    (0xfc, v[0])
                };
                if is(L3::Ipv4) {
                    let w = [f[l3], (f[l3 + 1] & keep) | put];
                    write_ck(f, l3, &w, [Ck::Plain(l3 + 10), Ck::None], data);
                } else if is(L3::Ipv6) {
                    // Traffic class is bits 4..12 of the first 16-bit word.
                    let w = be16(f, l3);
                    let tc = (((w >> 4) as u8) & keep) | put;
                    let w = (w & 0xf00f) | (u16::from(tc) << 4);
                    f[l3..l3 + 2].copy_from_slice(&w.to_be_bytes());
                } else {
                    return After::Skip;
                }
            }
            OFPXMT_OFB_IP_PROTO => {
                if is(L3::Ipv4) {
                    let w = [f[l3 + 8], v[0]];
                    write_ck(f, l3 + 8, &w, [Ck::Plain(l3 + 10), Ck::None], data);
                } else if is(L3::Ipv6) {
                    f[info.proto_off as usize] = v[0];
                } else {
                    return After::Skip;
                }
                return After::Reparse;
            }
            OFPXMT_OFB_IPV4_SRC | OFPXMT_OFB_IPV4_DST => {
                if !is(L3::Ipv4) {
                    return After::Skip;
                }
                let at = l3
                    + if fb.field == OFPXMT_OFB_IPV4_SRC {
                        12
                    } else {
                        16
                    };
                write_ck(f, at, v, [Ck::Plain(l3 + 10), pseudo_ck(&info)], addr);
            }
            OFPXMT_OFB_TCP_SRC | OFPXMT_OFB_TCP_DST | OFPXMT_OFB_UDP_SRC | OFPXMT_OFB_UDP_DST
            | OFPXMT_OFB_SCTP_SRC | OFPXMT_OFB_SCTP_DST => {
                let (proto, dst) = match fb.field {
                    OFPXMT_OFB_TCP_SRC => (IPPROTO_TCP, false),
                    OFPXMT_OFB_TCP_DST => (IPPROTO_TCP, true),
                    OFPXMT_OFB_UDP_SRC => (IPPROTO_UDP, false),
                    OFPXMT_OFB_UDP_DST => (IPPROTO_UDP, true),
                    OFPXMT_OFB_SCTP_SRC => (IPPROTO_SCTP, false),
                    _ => (IPPROTO_SCTP, true),
                };
                // The port slots are shared: only the protocol the field
                // names may be written.
                if l4 == 0 || info.ip_proto != proto {
                    return After::Skip;
                }
                let at = l4 + if dst { 2 } else { 0 };
                match proto {
                    IPPROTO_TCP => write_ck(f, at, v, [Ck::Plain(l4 + 16), Ck::None], data),
                    IPPROTO_UDP => write_ck(f, at, v, [Ck::Udp(l4 + 6), Ck::None], data),
                    // Offloaded CRC: the transmitter computes it.
                    _ if partial == Some(l4 + 8) => f[at..at + 2].copy_from_slice(v),
                    _ => {
                        let end = (info.ip_end as usize).max(l4 + 12);
                        let stored =
                            u32::from_le_bytes([f[l4 + 8], f[l4 + 9], f[l4 + 10], f[l4 + 11]]);
                        f[l4 + 8..l4 + 12].fill(0);
                        let old = crc32c(&f[l4..end]);
                        f[at..at + 2].copy_from_slice(v);
                        let new = crc32c(&f[l4..end]);
                        f[l4 + 8..l4 + 12].copy_from_slice(&(stored ^ old ^ new).to_le_bytes());
                    }
                }
            }
            OFPXMT_OFB_ICMPV4_TYPE | OFPXMT_OFB_ICMPV4_CODE => {
                if !is(L3::Ipv4) || info.ip_proto != IPPROTO_ICMP || l4 == 0 {
                    return After::Skip;
                }
                let mut w = [f[l4], f[l4 + 1]];
                w[usize::from(fb.field == OFPXMT_OFB_ICMPV4_CODE)] = v[0];
                write_ck(f, l4, &w, [Ck::Plain(l4 + 2), Ck::None], data);
            }
            OFPXMT_OFB_ICMPV6_TYPE | OFPXMT_OFB_ICMPV6_CODE => {
                if !is(L3::Ipv6) || info.ip_proto != IPPROTO_ICMPV6 || l4 == 0 {
                    return After::Skip;
                }
                let mut w = [f[l4], f[l4 + 1]];
                w[usize::from(fb.field == OFPXMT_OFB_ICMPV6_CODE)] = v[0];
                write_ck(f, l4, &w, [Ck::Plain(l4 + 2), Ck::None], data);
                // Type/code decide whether the ND fields exist.
                return After::Reparse;
            }
            OFPXMT_OFB_ARP_OP | OFPXMT_OFB_ARP_SHA | OFPXMT_OFB_ARP_SPA | OFPXMT_OFB_ARP_THA
            | OFPXMT_OFB_ARP_TPA => {
                if !is(L3::Arp) {
                    return After::Skip;
                }
                let at = l3
                    + match fb.field {
                        OFPXMT_OFB_ARP_OP => 6,
                        OFPXMT_OFB_ARP_SHA => 8,
                        OFPXMT_OFB_ARP_SPA => 14,
                        OFPXMT_OFB_ARP_THA => 18,
                        _ => 24,
                    };
                f[at..at + v.len()].copy_from_slice(v);
            }
            OFPXMT_OFB_IPV6_SRC | OFPXMT_OFB_IPV6_DST => {
                if !is(L3::Ipv6) {
                    return After::Skip;
                }
                let src = fb.field == OFPXMT_OFB_IPV6_SRC;
                // With a routing header the pseudo-header holds the final
                // destination, not the header's current one.
                let ck = if src || !info.has(ParseInfo::FLAG_ROUTING) {
                    pseudo_ck(&info)
                } else {
                    Ck::None
                };
                write_ck(f, l3 + if src { 8 } else { 24 }, v, [ck, Ck::None], addr);
            }
            OFPXMT_OFB_IPV6_FLABEL => {
                if !is(L3::Ipv6) {
                    return After::Skip;
                }
                let w = (be32(f, l3) & 0xfff0_0000) | be32(v, 0);
                f[l3..l3 + 4].copy_from_slice(&w.to_be_bytes());
            }
            OFPXMT_OFB_IPV6_ND_TARGET => {
                if !info.has(ParseInfo::FLAG_ND) {
                    return After::Skip;
                }
                write_ck(f, l4 + 8, v, [Ck::Plain(l4 + 2), Ck::None], data);
            }
            OFPXMT_OFB_IPV6_ND_SLL | OFPXMT_OFB_IPV6_ND_TLL => {
                let want = if fb.field == OFPXMT_OFB_IPV6_ND_SLL {
                    ND_NEIGHBOR_SOLICIT
                } else {
                    ND_NEIGHBOR_ADVERT
                };
                if info.nd_ll_off == 0 || f[l4] != want {
                    return After::Skip;
                }
                write_ck(
                    f,
                    info.nd_ll_off as usize,
                    v,
                    [Ck::Plain(l4 + 2), Ck::None],
                    data,
                );
            }
            OFPXMT_OFB_MPLS_LABEL | OFPXMT_OFB_MPLS_TC | OFPXMT_OFB_MPLS_BOS => {
                if !is(L3::Mpls) {
                    return After::Skip;
                }
                let lse = be32(f, l3);
                let lse = match fb.field {
                    OFPXMT_OFB_MPLS_LABEL => (lse & 0xfff) | (be32(v, 0) << 12),
                    OFPXMT_OFB_MPLS_TC => (lse & !0xe00) | (u32::from(v[0]) << 9),
                    _ => (lse & !0x100) | (u32::from(v[0]) << 8),
                };
                f[l3..l3 + 4].copy_from_slice(&lse.to_be_bytes());
                if fb.field == OFPXMT_OFB_MPLS_BOS {
                    return After::Reparse; // the stack's extent changed
                }
            }
            OFPXMT_OFB_PBB_ISID => {
                if !is(L3::Pbb) {
                    return After::Skip;
                }
                f[l3 + 1..l3 + 4].copy_from_slice(v);
            }
            // Pipeline field: no header holds it.
            OFPXMT_OFB_TUNNEL_ID => {}
            // in_port, in_phy_port, metadata, ipv6_exthdr: not settable.
            _ => return After::Skip,
        }
        After::Key
    }

    /// `push_vlan`: a new outermost tag with `tpid` (0x8100 or 0x88a8,
    /// anything else is skipped); VID/PCP/DEI copied from the current outer
    /// tag, else 0 (OF1.3.5 §5.12.1).
    pub fn push_vlan(&mut self, tpid: u16) -> RewriteOutcome {
        if self.info.l2_len == 0 || !(tpid == ETH_TYPE_VLAN || tpid == ETH_TYPE_VLAN_AD) {
            return RewriteOutcome::Skipped;
        }
        let tci = if self.info.n_vlans > 0 {
            be16(self.frame.data(), 14)
        } else {
            0
        };
        if !self.open(12, 4) {
            return RewriteOutcome::NoHeadroom;
        }
        let f = self.frame.data_mut();
        f[12..14].copy_from_slice(&tpid.to_be_bytes());
        f[14..16].copy_from_slice(&tci.to_be_bytes());
        self.info.shift(12, 4);
        self.info.n_vlans += 1;
        self.set_key_vlan(tci, true);
        RewriteOutcome::Applied
    }

    /// `pop_vlan`: removes the outermost tag.
    pub fn pop_vlan(&mut self) -> RewriteOutcome {
        if self.info.n_vlans == 0 {
            return RewriteOutcome::Skipped;
        }
        self.close(12, 4);
        self.info.shift(16, -4);
        self.info.n_vlans -= 1;
        let present = self.info.n_vlans > 0;
        let tci = if present {
            be16(self.frame.data(), 14)
        } else {
            0
        };
        self.set_key_vlan(tci, present);
        RewriteOutcome::Applied
    }

    fn set_key_vlan(&mut self, tci: u16, present: bool) {
        let (vid, pcp) = if present {
            ((tci & 0x0fff) | OFPVID_PRESENT, (tci >> 13) as u8)
        } else {
            (0, 0)
        };
        let k = self.key.as_bytes_mut();
        k[super::key::off::VLAN_VID..super::key::off::VLAN_VID + 2]
            .copy_from_slice(&vid.to_be_bytes());
        k[super::key::off::VLAN_PCP] = pcp;
    }

    /// `push_mpls`: a new top label after the Ethernet header and VLAN tags.
    /// OF1.3.5 §5.12.1's prose says a new MPLS tag goes "immediately after
    /// the Ethernet header and before other tags"; Open vSwitch 3.1 (its
    /// datapath `push_mpls` keeps the VLAN tag outside) and ryu's OF1.3
    /// switch test vectors put it after the VLAN tags, and so do we: a
    /// VLAN-tagged MPLS frame is what 802.1Q ports expect.
    /// Label, TC and TTL are copied from the current top label; without
    /// one the label and TC are 0, BOS is 1 and the TTL is the IP TTL / hop
    /// limit (0 for non-IP). `ethertype` must be 0x8847 or 0x8848.
    pub fn push_mpls(&mut self, ethertype: u16) -> RewriteOutcome {
        let info = self.info;
        let l2 = info.l2_len as usize;
        if l2 == 0 || !(ethertype == ETH_TYPE_MPLS || ethertype == ETH_TYPE_MPLS_MCAST) {
            return RewriteOutcome::Skipped;
        }
        let f = self.frame.data();
        let l3 = info.l3_off as usize;
        let lse = match info.l3 {
            L3::Mpls => be32(f, l3) & !0x100,
            L3::Ipv4 => 0x100 | u32::from(f[l3 + 8]),
            L3::Ipv6 => 0x100 | u32::from(f[l3 + 7]),
            _ => 0x100,
        };
        if !self.open(l2, 4) {
            return RewriteOutcome::NoHeadroom;
        }
        let f = self.frame.data_mut();
        f[l2..l2 + 4].copy_from_slice(&lse.to_be_bytes());
        f[l2 - 2..l2].copy_from_slice(&ethertype.to_be_bytes());
        self.reparse();
        RewriteOutcome::Applied
    }

    /// `pop_mpls`: removes the top label; the ethertype becomes `ethertype`.
    pub fn pop_mpls(&mut self, ethertype: u16) -> RewriteOutcome {
        if self.info.l3 != L3::Mpls {
            return RewriteOutcome::Skipped;
        }
        let l2 = self.info.l2_len as usize;
        self.close(l2, 4);
        self.frame.data_mut()[l2 - 2..l2].copy_from_slice(&ethertype.to_be_bytes());
        self.reparse();
        RewriteOutcome::Applied
    }

    /// `push_pbb`: turns the frame into the customer frame of a new PBB
    /// encapsulation: `B-DA B-SA 0x88e7 I-TAG C-DA C-SA ...` where the
    /// backbone addresses start as copies of the customer ones (set_field
    /// changes them), the I-SID is copied from an existing I-TAG (else 0)
    /// and the I-PCP from the outer VLAN tag (else 0, even over an existing
    /// I-TAG: OF1.3.5 §5.12.1's table names only the VLAN priority as its
    /// source). DEI and UCA are 0. `ethertype` must be 0x88e7.
    pub fn push_pbb(&mut self, ethertype: u16) -> RewriteOutcome {
        let info = self.info;
        if info.l2_len == 0 || ethertype != ETH_TYPE_PBB {
            return RewriteOutcome::Skipped;
        }
        let f = self.frame.data();
        let l3 = info.l3_off as usize;
        let old_itag = if info.l3 == L3::Pbb { be32(f, l3) } else { 0 };
        let pcp = if info.n_vlans > 0 {
            u32::from(f[14] >> 5)
        } else {
            0
        };
        let itag = (pcp << 29) | (old_itag & 0x00ff_ffff);
        let mut addrs = [0u8; 12];
        addrs.copy_from_slice(&f[..12]);
        if !self.open(12, 18) {
            return RewriteOutcome::NoHeadroom;
        }
        let gap = &mut self.frame.data_mut()[12..30];
        gap[..2].copy_from_slice(&ETH_TYPE_PBB.to_be_bytes());
        gap[2..6].copy_from_slice(&itag.to_be_bytes());
        gap[6..].copy_from_slice(&addrs);
        self.reparse();
        RewriteOutcome::Applied
    }

    /// `pop_pbb`: strips the backbone header (addresses, B-tags, I-TAG),
    /// leaving the customer frame. Needs the customer addresses present.
    pub fn pop_pbb(&mut self) -> RewriteOutcome {
        let l3 = self.info.l3_off as usize;
        if self.info.l3 != L3::Pbb || self.frame.data().len() < l3 + 4 + 12 {
            return RewriteOutcome::Skipped;
        }
        self.close(0, l3 + 4);
        self.reparse();
        RewriteOutcome::Applied
    }

    /// Where the IP TTL / hop limit is, with the checksum covering it.
    fn nw_ttl_at(&self) -> Option<(usize, Ck)> {
        let l3 = self.info.l3_off as usize;
        match self.info.l3 {
            L3::Ipv4 => Some((l3 + 8, Ck::Plain(l3 + 10))),
            L3::Ipv6 => Some((l3 + 7, Ck::None)),
            _ => None,
        }
    }

    /// Writes a TTL byte at `at`; for IPv4 `ck` covers the word at `at`
    /// (TTL and protocol).
    fn put_ttl(&mut self, at: usize, ck: Ck, ttl: u8) {
        let f = self.frame.data_mut();
        match ck {
            Ck::None => f[at] = ttl,
            _ => {
                let w = [ttl, f[at + 1]];
                write_ck(f, at, &w, [ck, Ck::None], NO_PARTIAL)
            }
        }
    }

    /// `set_nw_ttl`: IPv4 TTL (header checksum updated) or IPv6 hop limit.
    pub fn set_nw_ttl(&mut self, ttl: u8) -> RewriteOutcome {
        match self.nw_ttl_at() {
            Some((at, ck)) => {
                self.put_ttl(at, ck, ttl);
                RewriteOutcome::Applied
            }
            None => RewriteOutcome::Skipped,
        }
    }

    /// `dec_nw_ttl`: TTL − 1, or [`RewriteOutcome::InvalidTtl`] if it is ≤ 1.
    pub fn dec_nw_ttl(&mut self) -> RewriteOutcome {
        let Some((at, ck)) = self.nw_ttl_at() else {
            return RewriteOutcome::Skipped;
        };
        let ttl = self.frame.data()[at];
        if ttl <= 1 {
            return RewriteOutcome::InvalidTtl;
        }
        self.put_ttl(at, ck, ttl - 1);
        RewriteOutcome::Applied
    }

    /// Offset of the top MPLS label's TTL byte.
    fn mpls_ttl_at(&self) -> Option<usize> {
        (self.info.l3 == L3::Mpls).then_some(self.info.l3_off as usize + 3)
    }

    /// `set_mpls_ttl` of the top label.
    pub fn set_mpls_ttl(&mut self, ttl: u8) -> RewriteOutcome {
        match self.mpls_ttl_at() {
            Some(at) => {
                self.frame.data_mut()[at] = ttl;
                RewriteOutcome::Applied
            }
            None => RewriteOutcome::Skipped,
        }
    }

    /// `dec_mpls_ttl` of the top label, or `InvalidTtl` if it is ≤ 1.
    pub fn dec_mpls_ttl(&mut self) -> RewriteOutcome {
        let Some(at) = self.mpls_ttl_at() else {
            return RewriteOutcome::Skipped;
        };
        let f = self.frame.data_mut();
        if f[at] <= 1 {
            return RewriteOutcome::InvalidTtl;
        }
        f[at] -= 1;
        RewriteOutcome::Applied
    }

    /// The TTL just inside the top label: the second label's, or the IP
    /// header's after a bottom-of-stack top label.
    fn inner_ttl_at(&self) -> Option<(usize, Ck)> {
        let top = self.mpls_ttl_at()? - 3;
        let f = self.frame.data();
        if self.info.n_mpls >= 2 {
            Some((top + 7, Ck::None))
        } else if f[top + 2] & 1 == 1 {
            ip_after_mpls(f, top + 4)
        } else {
            None
        }
    }

    /// `copy_ttl_out`: next-to-outermost TTL → outermost (MPLS only).
    pub fn copy_ttl_out(&mut self) -> RewriteOutcome {
        let (Some(out), Some((inner, _))) = (self.mpls_ttl_at(), self.inner_ttl_at()) else {
            return RewriteOutcome::Skipped;
        };
        let f = self.frame.data_mut();
        f[out] = f[inner];
        RewriteOutcome::Applied
    }

    /// `copy_ttl_in`: outermost TTL → next-to-outermost (MPLS only; an
    /// inner IPv4 header's checksum is updated).
    pub fn copy_ttl_in(&mut self) -> RewriteOutcome {
        let (Some(out), Some((inner, ck))) = (self.mpls_ttl_at(), self.inner_ttl_at()) else {
            return RewriteOutcome::Skipped;
        };
        let ttl = self.frame.data()[out];
        self.put_ttl(inner, ck, ttl);
        RewriteOutcome::Applied
    }
}
