//! `trace`: a flow description in ovs-ofctl match syntax
//! (`in_port=1,icmp,nw_dst=10.10.10.12`) becomes a packet the data plane
//! can trace: the smallest frame that has every described header field
//! (Ethernet, 802.1Q, MPLS, PBB, ARP, IPv4, IPv6, TCP/UDP/SCTP,
//! ICMPv4/ICMPv6 incl. ND), with the values given and zeros elsewhere, and
//! valid checksums. Pipeline fields a frame cannot carry (metadata,
//! tunnel_id) make it a key-based trace: the frame's parsed key plus those
//! fields.

use crate::packet::{parse_frame, FlowKey};
use ofproto::oxm::{Match, OxmField, OFPVID_PRESENT};
use std::net::Ipv6Addr;

/// What to trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceInput {
    /// A frame arriving on `in_port`.
    Frame { in_port: u32, frame: Vec<u8> },
    /// A key (frame fields plus metadata/tunnel_id).
    Key(Box<FlowKey>),
}

#[derive(Default)]
struct Fields {
    in_port: Option<u32>,
    metadata: Option<u64>,
    tunnel_id: Option<u64>,
    eth_dst: [u8; 6],
    eth_src: [u8; 6],
    eth_type: Option<u16>,
    vlan: Option<(u16, u8)>,
    ip_dscp: u8,
    ip_ecn: u8,
    ip_proto: Option<u8>,
    v4_src: [u8; 4],
    v4_dst: [u8; 4],
    v6_src: Option<Ipv6Addr>,
    v6_dst: Option<Ipv6Addr>,
    flabel: u32,
    l4_src: u16,
    l4_dst: u16,
    icmp_type: u8,
    icmp_code: u8,
    arp_op: u16,
    arp_spa: [u8; 4],
    arp_tpa: [u8; 4],
    arp_sha: [u8; 6],
    arp_tha: [u8; 6],
    nd_target: Option<Ipv6Addr>,
    nd_sll: Option<[u8; 6]>,
    nd_tll: Option<[u8; 6]>,
    mpls: Option<(u32, u8, u8)>,
    pbb_isid: Option<u32>,
}

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PBB: u16 = 0x88e7;

fn gather(m: &Match) -> Fields {
    let mut f = Fields::default();
    let mut vlan_pcp = 0u8;
    let mut vid = None;
    let mut mpls = (0u32, 0u8, 1u8);
    let mut has_mpls = false;
    for x in &m.fields {
        match x {
            OxmField::InPort(p) => f.in_port = Some(*p),
            OxmField::InPhyPort(_) => {}
            OxmField::Metadata(v, _) => f.metadata = Some(*v),
            OxmField::TunnelId(v, _) => f.tunnel_id = Some(*v),
            OxmField::EthDst(v, _) => f.eth_dst = v.0,
            OxmField::EthSrc(v, _) => f.eth_src = v.0,
            OxmField::EthType(t) => f.eth_type = Some(*t),
            OxmField::VlanVid(v, _) => {
                if v & OFPVID_PRESENT != 0 {
                    vid = Some(v & 0x0fff);
                }
            }
            OxmField::VlanPcp(p) => vlan_pcp = *p,
            OxmField::IpDscp(d) => f.ip_dscp = *d,
            OxmField::IpEcn(e) => f.ip_ecn = *e,
            OxmField::IpProto(p) => f.ip_proto = Some(*p),
            OxmField::Ipv4Src(a, _) => f.v4_src = a.octets(),
            OxmField::Ipv4Dst(a, _) => f.v4_dst = a.octets(),
            OxmField::TcpSrc(p) | OxmField::UdpSrc(p) | OxmField::SctpSrc(p) => f.l4_src = *p,
            OxmField::TcpDst(p) | OxmField::UdpDst(p) | OxmField::SctpDst(p) => f.l4_dst = *p,
            OxmField::Icmpv4Type(t) | OxmField::Icmpv6Type(t) => f.icmp_type = *t,
            OxmField::Icmpv4Code(c) | OxmField::Icmpv6Code(c) => f.icmp_code = *c,
            OxmField::ArpOp(o) => f.arp_op = *o,
            OxmField::ArpSpa(a, _) => f.arp_spa = a.octets(),
            OxmField::ArpTpa(a, _) => f.arp_tpa = a.octets(),
            OxmField::ArpSha(a, _) => f.arp_sha = a.0,
            OxmField::ArpTha(a, _) => f.arp_tha = a.0,
            OxmField::Ipv6Src(a, _) => f.v6_src = Some(*a),
            OxmField::Ipv6Dst(a, _) => f.v6_dst = Some(*a),
            OxmField::Ipv6Flabel(v, _) => f.flabel = *v & 0xfffff,
            OxmField::Ipv6NdTarget(a) => f.nd_target = Some(*a),
            OxmField::Ipv6NdSll(a) => f.nd_sll = Some(a.0),
            OxmField::Ipv6NdTll(a) => f.nd_tll = Some(a.0),
            OxmField::MplsLabel(l) => {
                mpls.0 = *l & 0xfffff;
                has_mpls = true;
            }
            OxmField::MplsTc(t) => {
                mpls.1 = *t & 7;
                has_mpls = true;
            }
            OxmField::MplsBos(b) => {
                mpls.2 = *b & 1;
                has_mpls = true;
            }
            OxmField::PbbIsid(i, _) => f.pbb_isid = Some(*i & 0xff_ffff),
            OxmField::Ipv6Exthdr(..) | OxmField::Raw(_) => {}
        }
    }
    f.vlan = vid.map(|v| (v, vlan_pcp));
    let is_mpls = matches!(f.eth_type, Some(ETH_MPLS | ETH_MPLS_MC));
    if has_mpls || is_mpls {
        f.mpls = Some(mpls);
    }
    f
}

/// The frame for `m` (see the module docs) and the in_port it names.
pub fn frame_for(m: &Match) -> (Option<u32>, Vec<u8>) {
    let f = gather(m);
    (f.in_port, build(&f))
}

/// What to trace for `m`; `default_in_port` when the match names none.
pub fn trace_input(m: &Match, default_in_port: u32) -> TraceInput {
    let f = gather(m);
    let in_port = f.in_port.unwrap_or(default_in_port);
    let frame = build(&f);
    if f.metadata.is_none() && f.tunnel_id.is_none() {
        return TraceInput::Frame { in_port, frame };
    }
    let mut key = FlowKey::ZERO;
    parse_frame(&frame, in_port, &mut key);
    if let Some(v) = f.metadata {
        key.set_metadata(v);
    }
    if let Some(v) = f.tunnel_id {
        key.set_tunnel_id(v);
    }
    TraceInput::Key(Box::new(key))
}

fn build(f: &Fields) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.extend_from_slice(&f.eth_dst);
    b.extend_from_slice(&f.eth_src);
    if let Some((vid, pcp)) = f.vlan {
        b.extend_from_slice(&ETH_VLAN.to_be_bytes());
        b.extend_from_slice(&((u16::from(pcp) << 13) | vid).to_be_bytes());
    }
    let eth_type = f
        .eth_type
        .unwrap_or(if f.pbb_isid.is_some() { ETH_PBB } else { 0 });
    b.extend_from_slice(&eth_type.to_be_bytes());
    match eth_type {
        ETH_IPV4 => ipv4(&mut b, f),
        ETH_IPV6 => ipv6(&mut b, f),
        ETH_ARP => {
            b.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
            b.extend_from_slice(&f.arp_op.to_be_bytes());
            b.extend_from_slice(&f.arp_sha);
            b.extend_from_slice(&f.arp_spa);
            b.extend_from_slice(&f.arp_tha);
            b.extend_from_slice(&f.arp_tpa);
        }
        ETH_MPLS | ETH_MPLS_MC => {
            let (label, tc, bos) = f.mpls.unwrap_or((0, 0, 1));
            let lse = (label << 12) | (u32::from(tc) << 9) | (u32::from(bos) << 8) | 64;
            b.extend_from_slice(&lse.to_be_bytes());
        }
        ETH_PBB => {
            let isid = f.pbb_isid.unwrap_or(0);
            b.extend_from_slice(&isid.to_be_bytes()); // flags byte 0, then I-SID
                                                      // Customer addresses and an empty ethertype.
            b.extend_from_slice(&[0; 14]);
        }
        _ => {}
    }
    // Ethernet minimum (without FCS).
    if b.len() < 60 {
        b.resize(60, 0);
    }
    b
}

fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut it = data.chunks_exact(2);
    for c in &mut it {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [x] = it.remainder() {
        acc += u32::from(*x) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The L4 header (and ICMPv6 ND body) for `proto`, with its checksum field
/// zero; returns the checksum's offset in it, if it has one.
fn l4(f: &Fields, proto: u8, v6: bool) -> (Vec<u8>, Option<usize>) {
    let mut h = Vec::new();
    match proto {
        6 => {
            h.extend_from_slice(&f.l4_src.to_be_bytes());
            h.extend_from_slice(&f.l4_dst.to_be_bytes());
            h.extend_from_slice(&[0; 8]); // seq, ack
            h.extend_from_slice(&[0x50, 0x02, 0xff, 0xff]); // 20-byte header, SYN, window
            h.extend_from_slice(&[0; 4]); // csum, urg
            (h, Some(16))
        }
        17 => {
            h.extend_from_slice(&f.l4_src.to_be_bytes());
            h.extend_from_slice(&f.l4_dst.to_be_bytes());
            h.extend_from_slice(&8u16.to_be_bytes());
            h.extend_from_slice(&[0, 0]);
            (h, Some(6))
        }
        132 => {
            h.extend_from_slice(&f.l4_src.to_be_bytes());
            h.extend_from_slice(&f.l4_dst.to_be_bytes());
            h.extend_from_slice(&[0; 8]); // verification tag, CRC32c (not computed)
            (h, None)
        }
        1 if !v6 => {
            h.extend_from_slice(&[f.icmp_type, f.icmp_code, 0, 0, 0, 0, 0, 0]);
            (h, Some(2))
        }
        58 if v6 => {
            h.extend_from_slice(&[f.icmp_type, f.icmp_code, 0, 0, 0, 0, 0, 0]);
            if matches!(f.icmp_type, 135 | 136) {
                h.extend_from_slice(&f.nd_target.unwrap_or(Ipv6Addr::UNSPECIFIED).octets());
                let opt = if f.icmp_type == 135 {
                    f.nd_sll.map(|a| (1u8, a))
                } else {
                    f.nd_tll.map(|a| (2u8, a))
                };
                if let Some((ty, a)) = opt {
                    h.extend_from_slice(&[ty, 1]);
                    h.extend_from_slice(&a);
                }
            }
            (h, Some(2))
        }
        _ => (h, None),
    }
}

fn ipv4(b: &mut Vec<u8>, f: &Fields) {
    let proto = f.ip_proto.unwrap_or(0);
    let (mut l4h, csum_at) = l4(f, proto, false);
    let total = 20 + l4h.len();
    let start = b.len();
    b.push(0x45);
    b.push((f.ip_dscp << 2) | (f.ip_ecn & 3));
    b.extend_from_slice(&(total as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0, 0x40, 0]); // id, DF
    b.push(64);
    b.push(proto);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&f.v4_src);
    b.extend_from_slice(&f.v4_dst);
    let c = fold(ones_sum(0, &b[start..start + 20]));
    b[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
    if let Some(at) = csum_at {
        let mut acc = if proto == 1 {
            0
        } else {
            let mut a = ones_sum(0, &f.v4_src);
            a = ones_sum(a, &f.v4_dst);
            a + u32::from(proto) + l4h.len() as u32
        };
        acc = ones_sum(acc, &l4h);
        let mut c = fold(acc);
        if proto == 17 && c == 0 {
            c = 0xffff;
        }
        l4h[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&l4h);
}

fn ipv6(b: &mut Vec<u8>, f: &Fields) {
    let proto = f.ip_proto.unwrap_or(59); // no next header
    let (mut l4h, csum_at) = l4(f, proto, true);
    let src = f.v6_src.unwrap_or(Ipv6Addr::UNSPECIFIED);
    let dst = f.v6_dst.unwrap_or(Ipv6Addr::UNSPECIFIED);
    let tc = u32::from((f.ip_dscp << 2) | (f.ip_ecn & 3));
    let word = (6u32 << 28) | (tc << 20) | f.flabel;
    b.extend_from_slice(&word.to_be_bytes());
    b.extend_from_slice(&(l4h.len() as u16).to_be_bytes());
    b.push(proto);
    b.push(64);
    b.extend_from_slice(&src.octets());
    b.extend_from_slice(&dst.octets());
    if let Some(at) = csum_at {
        let mut acc = ones_sum(0, &src.octets());
        acc = ones_sum(acc, &dst.octets());
        acc += l4h.len() as u32 + u32::from(proto);
        acc = ones_sum(acc, &l4h);
        let mut c = fold(acc);
        if proto == 17 && c == 0 {
            c = 0xffff;
        }
        l4h[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&l4h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::compile_match;
    use ofproto::text::parse_match;

    /// The frame's parsed key must satisfy the match it came from.
    fn check(text: &str) -> Vec<u8> {
        let m = parse_match(text).unwrap();
        let (in_port, frame) = frame_for(&m);
        let mut key = FlowKey::ZERO;
        parse_frame(&frame, in_port.unwrap_or(0), &mut key);
        let (value, mask) = compile_match(&m).unwrap();
        assert!(key.matches(&value, &mask), "{text}: frame {frame:02x?}");
        frame
    }

    #[test]
    fn frames_match_their_descriptions() {
        for text in [
            "in_port=1,icmp,nw_dst=10.10.10.12",
            "in_port=2,arp,arp_tpa=10.10.10.12,arp_spa=10.10.10.11,arp_op=1",
            "tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80,nw_tos=32",
            "udp,tp_dst=53,dl_vlan=10,dl_vlan_pcp=3",
            "sctp,tp_dst=9",
            "ipv6,ipv6_dst=2001:db8::1,ipv6_label=0x12345",
            "tcp6,ipv6_src=2001:db8::2,tp_dst=443",
            "icmp6,icmp_type=135,nd_target=2001:db8::9,nd_sll=00:11:22:33:44:55",
            "icmp6,icmp_type=136,nd_target=2001:db8::9,nd_tll=00:11:22:33:44:66",
            "mpls,mpls_label=17,mpls_tc=2,mpls_bos=1",
            "dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff",
            "ip,nw_dst=192.168.0.0/16",
        ] {
            check(text);
        }
    }

    #[test]
    fn checksums_are_valid() {
        let f = check("tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80");
        // IPv4 header sums to 0xffff; so does the TCP segment with its pseudo-header.
        assert_eq!(fold(ones_sum(0, &f[14..34])), 0);
        let mut acc = ones_sum(0, &f[26..34]) + 6 + 20;
        acc = ones_sum(acc, &f[34..54]);
        assert_eq!(fold(acc), 0);
        let f = check("icmp,icmp_type=8");
        assert_eq!(fold(ones_sum(0, &f[34..42])), 0);
    }

    #[test]
    fn metadata_makes_a_key_trace() {
        let m = parse_match("in_port=3,metadata=0x5,ip").unwrap();
        match trace_input(&m, 99) {
            TraceInput::Key(k) => {
                assert_eq!(k.metadata(), 5);
                assert_eq!(k.in_port(), 3);
                assert_eq!(k.eth_type(), 0x0800);
            }
            other => panic!("{other:?}"),
        }
        let m = parse_match("ip").unwrap();
        match trace_input(&m, 99) {
            TraceInput::Frame { in_port, .. } => assert_eq!(in_port, 99),
            other => panic!("{other:?}"),
        }
    }
}
