//! Parser, matching and rewrite tests over hand-built frames.

use super::frames::*;
use super::key::{compile_match, FieldBytes, FlowKey};
use super::parse::{exthdr, parse_frame, ParseInfo, L3};
use super::rewrite::{crc32c, csum_replace, RewriteOutcome};
use super::{Frame, Packet};
use ofproto::action::Action;
use ofproto::oxm::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn frame(name: &str) -> Built {
    catalog()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no frame {name}"))
        .1
}

fn parse(b: &[u8]) -> (FlowKey, ParseInfo) {
    let mut k = FlowKey::ZERO;
    let info = parse_frame(b, IN_PORT, &mut k);
    (k, info)
}

fn pkt(name: &str) -> Packet {
    Packet::parse(Frame::new(&frame(name).bytes), IN_PORT)
}

/// Deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------
// Parsing: exact keys
// ---------------------------------------------------------------------------

const ET: u8 = OFPXMT_OFB_ETH_TYPE;

fn l2(et: u16) -> Vec<(u8, Vec<u8>)> {
    vec![
        (OFPXMT_OFB_ETH_DST, MAC_A.to_vec()),
        (OFPXMT_OFB_ETH_SRC, MAC_B.to_vec()),
        (ET, et.to_be_bytes().to_vec()),
    ]
}

fn key_from(fields: Vec<(u8, Vec<u8>)>) -> FlowKey {
    let v: Vec<(u8, &[u8])> = fields.iter().map(|(f, b)| (*f, b.as_slice())).collect();
    key_of(&v)
}

fn with(mut base: Vec<(u8, Vec<u8>)>, more: &[(u8, &[u8])]) -> FlowKey {
    base.extend(more.iter().map(|(f, v)| (*f, v.to_vec())));
    key_from(base)
}

#[test]
fn parse_unknown_ethertype_gives_l2_fields_only() {
    let b = frame("eth_unknown");
    let (k, info) = parse(&b.bytes);
    assert_eq!(k, key_from(l2(0x1234)));
    assert_eq!(info.l2_len, 14);
    assert_eq!(info.l3, L3::None);
}

#[test]
fn parse_8023_length_frame_is_not_eth_type() {
    let (k, _) = parse(&frame("eth_8023_len").bytes);
    assert_eq!(k, key_from(l2(0x05ff)));
}

#[test]
fn parse_frames_shorter_than_ethernet_give_in_port_only() {
    for n in 0..14 {
        let (k, info) = parse(&frame("ipv4_tcp").bytes[..n]);
        assert_eq!(k, key_of(&[]));
        assert_eq!(info, ParseInfo::default());
    }
    let (k, _) = parse(&[]);
    assert_eq!(k.in_port(), IN_PORT);
    assert_eq!(k.in_phy_port(), IN_PORT);
}

#[test]
fn parse_arp_request() {
    let (k, info) = parse(&frame("arp_request").bytes);
    let want = with(
        l2(0x0806),
        &[
            (OFPXMT_OFB_ARP_OP, &[0, 1]),
            (OFPXMT_OFB_ARP_SHA, &MAC_B),
            (OFPXMT_OFB_ARP_SPA, &IP_A),
            (OFPXMT_OFB_ARP_THA, &[0; 6]),
            (OFPXMT_OFB_ARP_TPA, &IP_B),
        ],
    );
    assert_eq!(k, want);
    assert_eq!((info.l3, info.l3_off), (L3::Arp, 14));
}

#[test]
fn parse_non_ethernet_arp_gives_no_arp_fields() {
    let mut b = frame("arp_request").bytes;
    b[15] = 6; // htype 6 (IEEE 802)
    let (k, info) = parse(&b);
    assert_eq!(k, key_from(l2(0x0806)));
    assert_eq!(info.l3, L3::None);
}

#[test]
fn parse_vlan_outer_tag_and_inner_ethertype() {
    let (k, info) = parse(&frame("vlan_ipv4_tcp").bytes);
    let want = with(
        l2(0x0800),
        &[
            (OFPXMT_OFB_VLAN_VID, &[0x10, 100]),
            (OFPXMT_OFB_VLAN_PCP, &[3]),
            (OFPXMT_OFB_IP_DSCP, &[8]),
            (OFPXMT_OFB_IP_ECN, &[3]),
            (OFPXMT_OFB_IP_PROTO, &[6]),
            (OFPXMT_OFB_IPV4_SRC, &IP_A),
            (OFPXMT_OFB_IPV4_DST, &IP_B),
            (OFPXMT_OFB_TCP_SRC, &80u16.to_be_bytes()),
            (OFPXMT_OFB_TCP_DST, &40000u16.to_be_bytes()),
        ],
    );
    assert_eq!(k, want);
    assert_eq!(
        (info.n_vlans, info.l2_len, info.l3_off, info.l4_off),
        (1, 18, 18, 38)
    );
}

#[test]
fn parse_qinq_outermost_tag_wins() {
    let (k, info) = parse(&frame("qinq_ipv4_udp").bytes);
    assert_eq!(k.vlan_vid(), 0x1000 | 10);
    assert_eq!(k.vlan_pcp(), 1);
    assert_eq!(k.eth_type(), 0x0800);
    assert_eq!(k.get_field(OFPXMT_OFB_UDP_DST), &53u16.to_be_bytes());
    assert_eq!((info.n_vlans, info.l2_len), (2, 22));
}

#[test]
fn parse_ipv4_tcp_udp_sctp_icmp() {
    let ip = |proto: u8, tos: u8| {
        let mut v = l2(0x0800);
        v.extend([
            (OFPXMT_OFB_IP_DSCP, vec![tos >> 2]),
            (OFPXMT_OFB_IP_ECN, vec![tos & 3]),
            (OFPXMT_OFB_IP_PROTO, vec![proto]),
            (OFPXMT_OFB_IPV4_SRC, IP_A.to_vec()),
            (OFPXMT_OFB_IPV4_DST, IP_B.to_vec()),
        ]);
        v
    };
    let cases: Vec<(&str, FlowKey)> = vec![
        (
            "ipv4_tcp",
            with(
                ip(6, 32),
                &[
                    (OFPXMT_OFB_TCP_SRC, &11111u16.to_be_bytes()),
                    (OFPXMT_OFB_TCP_DST, &2222u16.to_be_bytes()),
                ],
            ),
        ),
        (
            "ipv4_udp_padded",
            with(
                ip(17, 0),
                &[
                    (OFPXMT_OFB_UDP_SRC, &1000u16.to_be_bytes()),
                    (OFPXMT_OFB_UDP_DST, &2000u16.to_be_bytes()),
                ],
            ),
        ),
        (
            "ipv4_opts_udp",
            with(
                ip(17, 0xb8),
                &[
                    (OFPXMT_OFB_UDP_SRC, &67u16.to_be_bytes()),
                    (OFPXMT_OFB_UDP_DST, &68u16.to_be_bytes()),
                ],
            ),
        ),
        (
            "ipv4_sctp",
            with(
                ip(132, 0),
                &[
                    (OFPXMT_OFB_SCTP_SRC, &3868u16.to_be_bytes()),
                    (OFPXMT_OFB_SCTP_DST, &3869u16.to_be_bytes()),
                ],
            ),
        ),
        (
            "ipv4_icmp",
            with(
                ip(1, 0),
                &[
                    (OFPXMT_OFB_ICMPV4_TYPE, &[8]),
                    (OFPXMT_OFB_ICMPV4_CODE, &[0]),
                ],
            ),
        ),
        (
            "ipv4_first_frag",
            with(
                ip(17, 0),
                &[
                    (OFPXMT_OFB_UDP_SRC, &4000u16.to_be_bytes()),
                    (OFPXMT_OFB_UDP_DST, &4001u16.to_be_bytes()),
                ],
            ),
        ),
        ("ipv4_later_frag", key_from(ip(17, 0))),
    ];
    for (name, want) in cases {
        let b = frame(name);
        let (k, _) = parse(&b.bytes);
        assert_eq!(k, want, "{name}");
        assert_eq!(b.key, want, "builder of {name}");
    }
}

#[test]
fn parse_ipv4_offsets_exclude_ethernet_padding_and_options() {
    let b = frame("ipv4_udp_padded");
    let (_, info) = parse(&b.bytes);
    assert_eq!(info.ip_end as usize, b.bytes.len() - 16);
    let (_, info) = parse(&frame("ipv4_opts_udp").bytes);
    assert_eq!((info.l3_off, info.l4_off, info.proto_off), (14, 42, 23));
    let (_, info) = parse(&frame("ipv4_later_frag").bytes);
    assert!(info.has(ParseInfo::FLAG_FRAG) && info.has(ParseInfo::FLAG_LATER_FRAG));
    assert_eq!(info.l4(), None);
    let (_, info) = parse(&frame("ipv4_first_frag").bytes);
    assert!(info.has(ParseInfo::FLAG_FRAG) && !info.has(ParseInfo::FLAG_LATER_FRAG));
}

#[test]
fn parse_ipv4_bad_version_or_ihl_stops_at_l2() {
    for (at, v) in [(14, 0x55u8), (14, 0x44)] {
        let mut b = frame("ipv4_tcp").bytes;
        b[at] = v;
        let (k, _) = parse(&b);
        assert_eq!(k, key_from(l2(0x0800)), "byte {v:#x}");
    }
}

#[test]
fn parse_ipv6_tcp() {
    let (k, info) = parse(&frame("ipv6_tcp").bytes);
    let want = with(
        l2(0x86dd),
        &[
            (OFPXMT_OFB_IP_DSCP, &[8]),
            (OFPXMT_OFB_IP_ECN, &[0]),
            (OFPXMT_OFB_IP_PROTO, &[6]),
            (OFPXMT_OFB_IPV6_SRC, &IP6_A),
            (OFPXMT_OFB_IPV6_DST, &IP6_B),
            (OFPXMT_OFB_IPV6_FLABEL, &100u32.to_be_bytes()),
            (OFPXMT_OFB_TCP_SRC, &11111u16.to_be_bytes()),
            (OFPXMT_OFB_TCP_DST, &2222u16.to_be_bytes()),
        ],
    );
    assert_eq!(k, want);
    assert_eq!((info.l3, info.l4_off, info.proto_off), (L3::Ipv6, 54, 20));
}

#[test]
fn parse_ipv6_extension_chain() {
    let (k, info) = parse(&frame("ipv6_hop_dest_udp").bytes);
    let want = with(
        l2(0x86dd),
        &[
            (OFPXMT_OFB_IP_DSCP, &[0x3f]),
            (OFPXMT_OFB_IP_ECN, &[3]),
            (OFPXMT_OFB_IP_PROTO, &[17]),
            (OFPXMT_OFB_IPV6_SRC, &IP6_A),
            (OFPXMT_OFB_IPV6_DST, &IP6_B),
            (OFPXMT_OFB_IPV6_FLABEL, &0xfffffu32.to_be_bytes()),
            (
                OFPXMT_OFB_IPV6_EXTHDR,
                &(exthdr::HOP | exthdr::DEST).to_be_bytes(),
            ),
            (OFPXMT_OFB_UDP_SRC, &546u16.to_be_bytes()),
            (OFPXMT_OFB_UDP_DST, &547u16.to_be_bytes()),
        ],
    );
    assert_eq!(k, want);
    // HBH 8 bytes, DEST 16 bytes: UDP at 14 + 40 + 24; the UDP next-header
    // byte is the DEST header's first.
    assert_eq!((info.l4_off, info.proto_off), (78, 62));
}

#[test]
fn parse_ipv6_exthdr_flags() {
    use exthdr::*;
    let cases = [
        (
            "ipv6_full_chain_sctp",
            HOP | DEST | ROUTER | FRAG | AUTH,
            132,
        ),
        (
            "ipv6_unseq_unrep",
            ROUTER | HOP | UNSEQ | UNREP | NONEXT,
            59,
        ),
        ("ipv6_three_dest", DEST | UNREP, 17),
        ("ipv6_esp", HOP | ESP, 50),
        ("ipv6_nonext", NONEXT, 59),
        ("ipv6_later_frag", FRAG, 6),
        ("ipv6_tcp", 0, 6),
    ];
    for (name, flags, proto) in cases {
        let (k, _) = parse(&frame(name).bytes);
        assert_eq!(
            k.get_field(OFPXMT_OFB_IPV6_EXTHDR),
            &flags.to_be_bytes(),
            "{name}"
        );
        assert_eq!(k.ip_proto(), proto, "{name}");
    }
    let (k, info) = parse(&frame("ipv6_full_chain_sctp").bytes);
    assert_eq!(k.get_field(OFPXMT_OFB_SCTP_SRC), &[0, 1]);
    assert!(info.has(ParseInfo::FLAG_ROUTING) && info.has(ParseInfo::FLAG_FRAG));
    let (k, info) = parse(&frame("ipv6_later_frag").bytes);
    assert_eq!(k.get_field(OFPXMT_OFB_TCP_SRC), &[0, 0]);
    assert!(info.has(ParseInfo::FLAG_LATER_FRAG));
}

#[test]
fn parse_icmpv6_and_neighbor_discovery() {
    let ip6 = |src: [u8; 16], dst: [u8; 16]| {
        vec![
            (OFPXMT_OFB_IP_PROTO, vec![58]),
            (OFPXMT_OFB_IPV6_SRC, src.to_vec()),
            (OFPXMT_OFB_IPV6_DST, dst.to_vec()),
        ]
    };
    let (k, _) = parse(&frame("ipv6_icmp_echo").bytes);
    let mut f = l2(0x86dd);
    f.extend(ip6(IP6_A, IP6_B));
    assert_eq!(k, with(f, &[(OFPXMT_OFB_ICMPV6_TYPE, &[128])]));

    let (k, info) = parse(&frame("nd_ns_sll").bytes);
    let mut f = vec![
        (OFPXMT_OFB_ETH_DST, vec![0x33, 0x33, 0xff, 0, 0, 0x20]),
        (OFPXMT_OFB_ETH_SRC, MAC_B.to_vec()),
        (ET, vec![0x86, 0xdd]),
    ];
    f.extend(ip6(IP6_A, IP6_B));
    let want = with(
        f,
        &[
            (OFPXMT_OFB_ICMPV6_TYPE, &[135]),
            (OFPXMT_OFB_IPV6_ND_TARGET, &IP6_B),
            (OFPXMT_OFB_IPV6_ND_SLL, &MAC_B),
        ],
    );
    assert_eq!(k, want);
    assert_eq!(info.nd_ll_off, 14 + 40 + 24 + 2);

    let (k, _) = parse(&frame("nd_na_tll").bytes);
    let mut f = vec![
        (OFPXMT_OFB_ETH_DST, MAC_B.to_vec()),
        (OFPXMT_OFB_ETH_SRC, MAC_A.to_vec()),
        (ET, vec![0x86, 0xdd]),
    ];
    f.extend(ip6(IP6_B, IP6_A));
    let want = with(
        f,
        &[
            (OFPXMT_OFB_ICMPV6_TYPE, &[136]),
            (OFPXMT_OFB_IPV6_ND_TARGET, &IP6_B),
            (OFPXMT_OFB_IPV6_ND_TLL, &MAC_A),
        ],
    );
    assert_eq!(k, want);

    let (k, info) = parse(&frame("vlan_nd_ns_no_opt").bytes);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV6_ND_TARGET), &IP6_B);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV6_ND_SLL), &[0; 6]);
    assert_eq!(info.nd_ll_off, 0);
}

#[test]
fn parse_nd_with_nonzero_code_is_plain_icmpv6() {
    let b = frame("nd_ns_sll");
    let mut bytes = b.bytes.clone();
    bytes[14 + 40 + 1] = 1;
    let (k, _) = parse(&bytes);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV6_ND_TARGET), &[0; 16]);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV6_ND_SLL), &[0; 6]);
    assert_eq!(k.get_field(OFPXMT_OFB_ICMPV6_CODE), &[1]);
}

#[test]
fn parse_mpls_top_label_only() {
    let (k, info) = parse(&frame("mpls_ipv4_tcp").bytes);
    let want = with(
        l2(0x8847),
        &[
            (OFPXMT_OFB_MPLS_LABEL, &100u32.to_be_bytes()),
            (OFPXMT_OFB_MPLS_TC, &[3]),
            (OFPXMT_OFB_MPLS_BOS, &[1]),
        ],
    );
    assert_eq!(k, want);
    assert_eq!((info.l3, info.n_mpls), (L3::Mpls, 1));
    let (k, info) = parse(&frame("mpls2_ipv6").bytes);
    let want = with(
        l2(0x8848),
        &[
            (OFPXMT_OFB_MPLS_LABEL, &0xfffffu32.to_be_bytes()),
            (OFPXMT_OFB_MPLS_TC, &[7]),
            (OFPXMT_OFB_MPLS_BOS, &[0]),
        ],
    );
    assert_eq!(k, want);
    assert_eq!(info.n_mpls, 2);
}

#[test]
fn parse_pbb_stops_at_itag() {
    let (k, info) = parse(&frame("pbb_btag").bytes);
    let want = with(
        l2(0x88e7),
        &[
            (OFPXMT_OFB_VLAN_VID, &[0x10, 10]),
            (OFPXMT_OFB_PBB_ISID, &[0, 0, 100]),
        ],
    );
    assert_eq!(k, want);
    assert_eq!((info.l3, info.l3_off), (L3::Pbb, 18));
    let (k, _) = parse(&frame("pbb").bytes);
    assert_eq!(k.get_field(OFPXMT_OFB_PBB_ISID), &[0xab, 0xcd, 0xef]);
}

#[test]
fn builder_keys_match_parser_for_every_catalog_frame() {
    for (name, b) in catalog() {
        let (k, _) = parse(&b.bytes);
        assert_eq!(k, b.key, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Parsing: truncation and garbage
// ---------------------------------------------------------------------------

/// Offsets in a ParseInfo never point past the bytes they describe.
fn check_info(b: &[u8], info: &ParseInfo) {
    let n = b.len();
    assert!(info.l2_len as usize <= n);
    if info.l3 != L3::None {
        assert!(info.l3_off as usize >= info.l2_len as usize && (info.l3_off as usize) < n);
    }
    assert!(info.ip_end as usize <= n);
    if let Some(l4) = info.l4() {
        assert!(l4 + 4 <= info.ip_end as usize);
    }
    if info.nd_ll_off != 0 {
        assert!(info.nd_ll_off as usize + 6 <= n);
    }
    assert!((info.proto_off as usize) < n.max(1));
}

#[test]
fn truncated_frames_give_the_fields_before_the_cut() {
    for (name, b) in catalog() {
        for n in 0..=b.bytes.len() {
            let cut = &b.bytes[..n];
            let (k, info) = parse(cut);
            assert_eq!(k, b.key_at(n), "{name} cut at {n}");
            check_info(cut, &info);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let types = [
        0x0800u16, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x8847, 0x8848, 0x88e7, 0x1234,
    ];
    let mut buf = [0u8; 256];
    for i in 0..200_000 {
        let len = rng.below(buf.len());
        for b in buf.iter_mut().take(len) {
            *b = rng.next() as u8;
        }
        // Steer half the frames into the interesting parsers.
        if i % 2 == 0 && len >= 16 {
            let t = types[rng.below(types.len())];
            buf[12..14].copy_from_slice(&t.to_be_bytes());
            buf[14] = if rng.next() & 1 == 0 { 0x45 } else { 0x60 };
            buf[20] = [0, 6, 17, 43, 44, 50, 51, 58, 59, 60, 132][rng.below(11)];
        }
        let (_, info) = parse(&buf[..len]);
        check_info(&buf[..len], &info);
    }
}

/// Every rewrite the sweep below applies.
fn all_actions() -> Vec<Action> {
    let mut v = vec![
        Action::PushVlan(0x8100),
        Action::PushVlan(0x88a8),
        Action::PopVlan,
        Action::PushMpls(0x8847),
        Action::PopMpls(0x0800),
        Action::PopMpls(0x86dd),
        Action::PopMpls(0x8847),
        Action::PushPbb(0x88e7),
        Action::PopPbb,
        Action::SetNwTtl(9),
        Action::DecNwTtl,
        Action::SetMplsTtl(9),
        Action::DecMplsTtl,
        Action::CopyTtlOut,
        Action::CopyTtlIn,
    ];
    v.extend(set_fields().into_iter().map(Action::SetField));
    v
}

/// One value for every basic field (set_field of the unsettable ones must
/// be a no-op).
fn set_fields() -> Vec<OxmField> {
    use OxmField::*;
    let v4: Ipv4Addr = "10.9.8.7".parse().unwrap();
    let v6: Ipv6Addr = "fe80::1:2:3:4".parse().unwrap();
    let mac = ofproto::MacAddr([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    vec![
        InPort(3),
        InPhyPort(3),
        Metadata(5, None),
        EthDst(mac, None),
        EthSrc(mac, None),
        EthType(0x0800),
        VlanVid(0x1000 | 203, None),
        VlanPcp(5),
        IpDscp(46),
        IpEcn(1),
        IpProto(17),
        Ipv4Src(v4, None),
        Ipv4Dst(v4, None),
        TcpSrc(1),
        TcpDst(65535),
        UdpSrc(53),
        UdpDst(0x8000),
        SctpSrc(7),
        SctpDst(8),
        Icmpv4Type(0),
        Icmpv4Code(3),
        ArpOp(2),
        ArpSpa(v4, None),
        ArpTpa(v4, None),
        ArpSha(mac, None),
        ArpTha(mac, None),
        Ipv6Src(v6, None),
        Ipv6Dst(v6, None),
        Ipv6Flabel(0xabcde, None),
        Icmpv6Type(129),
        Icmpv6Code(1),
        Ipv6NdTarget(v6),
        Ipv6NdSll(mac),
        Ipv6NdTll(mac),
        MplsLabel(0x12345),
        MplsTc(6),
        MplsBos(0),
        PbbIsid(0x123456, None),
        TunnelId(0x1122_3344_5566_7788, None),
        Ipv6Exthdr(1, None),
    ]
}

/// The key of a packet equals a fresh parse of its frame (plus the
/// pipeline fields).
fn assert_consistent(p: &Packet, what: &str) {
    let mut k = FlowKey::ZERO;
    let info = parse_frame(p.frame.data(), p.key.in_port(), &mut k);
    k.set_metadata(p.key.metadata());
    k.set_tunnel_id(p.key.tunnel_id());
    assert_eq!(p.key, k, "key after {what}");
    assert_eq!(p.info, info, "info after {what}");
}

#[test]
fn mutated_frames_survive_every_rewrite_and_stay_consistent() {
    let mut rng = Rng(42);
    let cat = catalog();
    let actions = all_actions();
    for i in 0..6000 {
        let (_, b) = &cat[i % cat.len()];
        let mut bytes = b.bytes.clone();
        for _ in 0..rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        bytes.truncate(rng.below(bytes.len() + 1).max(bytes.len() / 2));
        let mut p = Packet::parse(Frame::with_headroom(&bytes, rng.below(24)), IN_PORT);
        for _ in 0..4 {
            let a = &actions[rng.below(actions.len())];
            let before = p.clone();
            let out = p.apply(a);
            assert_consistent(&p, &format!("{a:?} on frame #{i}"));
            if out != RewriteOutcome::Applied {
                assert_eq!(p.frame, before.frame, "{a:?} {out:?} changed the frame");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

fn rule(fields: Vec<OxmField>) -> (FlowKey, FlowKey) {
    compile_match(&Match::new(fields)).expect("valid match")
}

fn hits(r: &(FlowKey, FlowKey), bytes: &[u8]) -> bool {
    parse(bytes).0.matches(&r.0, &r.1)
}

fn ip4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn arp_tpa_rule_does_not_match_ipv4_with_the_same_address() {
    use OxmField::*;
    let r = rule(vec![EthType(0x0806), ArpTpa(ip4("10.10.10.12"), None)]);
    let arp = |tpa: [u8; 4]| {
        Fb::eth([0xff; 6], MAC_B, 0x0806)
            .arp(1, MAC_B, [10, 10, 10, 1], [0; 6], tpa)
            .finish()
            .bytes
    };
    let ip_to_12 = Fb::eth(MAC_A, MAC_B, 0x0800)
        .ipv4(0, 64, 1, [10, 10, 10, 1], [10, 10, 10, 12], 0, &[])
        .icmp(false, 8, 0)
        .finish()
        .bytes;
    assert!(hits(&r, &arp([10, 10, 10, 12])));
    assert!(!hits(&r, &arp([10, 10, 10, 13])));
    assert!(!hits(&r, &ip_to_12));
    // And the other way round.
    let r = rule(vec![EthType(0x0800), Ipv4Dst(ip4("10.10.10.12"), None)]);
    assert!(hits(&r, &ip_to_12));
    assert!(!hits(&r, &arp([10, 10, 10, 12])));
}

#[test]
fn shared_port_slots_do_not_cross_protocols() {
    use OxmField::*;
    let tcp80 = rule(vec![EthType(0x0800), IpProto(6), TcpDst(2222)]);
    let udp = rule(vec![EthType(0x0800), IpProto(17), UdpDst(2222)]);
    let tcp = frame("ipv4_tcp").bytes;
    assert!(hits(&tcp80, &tcp));
    assert!(!hits(&udp, &tcp));
    let icmp8 = rule(vec![EthType(0x0800), IpProto(1), Icmpv4Type(8)]);
    let icmp6_8 = Fb::eth(MAC_A, MAC_B, 0x86dd)
        .ipv6(0, 0, 58, 64, IP6_A, IP6_B, 0)
        .icmp(true, 8, 0)
        .finish()
        .bytes;
    assert!(hits(&icmp8, &frame("ipv4_icmp").bytes));
    assert!(!hits(&icmp8, &icmp6_8));
}

#[test]
fn mpls_rule_does_not_match_nd_target_bytes() {
    use OxmField::*;
    // An ND target whose first bytes read as MPLS label 0x12345, tc 3, bos 1.
    let mut target = [0u8; 16];
    target[..6].copy_from_slice(&[0, 1, 0x23, 0x45, 3, 1]);
    let nd = Fb::eth(MAC_A, MAC_B, 0x86dd)
        .ipv6(0, 0, 58, 255, IP6_A, IP6_B, 0)
        .icmp(true, 135, 0)
        .nd(target, &[])
        .finish()
        .bytes;
    let r = rule(vec![
        EthType(0x8847),
        MplsLabel(0x12345),
        MplsTc(3),
        MplsBos(1),
    ]);
    assert!(!hits(&r, &nd));
    let mpls = Fb::eth(MAC_A, MAC_B, 0x8847)
        .mpls(0x12345, 3, true, 9)
        .finish()
        .bytes;
    assert!(hits(&r, &mpls));
    let r = rule(vec![
        EthType(0x86dd),
        IpProto(58),
        Icmpv6Type(135),
        Ipv6NdTarget(Ipv6Addr::from(target)),
    ]);
    assert!(hits(&r, &nd));
    assert!(!hits(&r, &mpls));
}

#[test]
fn vlan_vid_rules_follow_of13() {
    use OxmField::*;
    let untagged = frame("ipv4_tcp").bytes;
    let tagged = frame("vlan_ipv4_tcp").bytes; // vid 100, pcp 3
    let none = rule(vec![VlanVid(OFPVID_NONE, None)]);
    let any = rule(vec![VlanVid(OFPVID_PRESENT, Some(OFPVID_PRESENT))]);
    let v100 = rule(vec![VlanVid(OFPVID_PRESENT | 100, None)]);
    let v200 = rule(vec![VlanVid(OFPVID_PRESENT | 200, None)]);
    let pcp3 = rule(vec![
        VlanVid(OFPVID_PRESENT, Some(OFPVID_PRESENT)),
        VlanPcp(3),
    ]);
    assert!(hits(&none, &untagged) && !hits(&none, &tagged));
    assert!(!hits(&any, &untagged) && hits(&any, &tagged));
    assert!(hits(&v100, &tagged) && !hits(&v100, &untagged));
    assert!(!hits(&v200, &tagged));
    assert!(hits(&pcp3, &tagged) && !hits(&pcp3, &untagged));
}

#[test]
fn masked_and_exthdr_rules() {
    use OxmField::*;
    let net = rule(vec![
        EthType(0x0800),
        Ipv4Src(ip4("192.168.0.0"), Some(ip4("255.255.0.0"))),
    ]);
    assert!(hits(&net, &frame("ipv4_tcp").bytes));
    let other = rule(vec![
        EthType(0x0800),
        Ipv4Src(ip4("192.169.0.0"), Some(ip4("255.255.0.0"))),
    ]);
    assert!(!hits(&other, &frame("ipv4_tcp").bytes));
    let hop = rule(vec![
        EthType(0x86dd),
        Ipv6Exthdr(exthdr::HOP, Some(exthdr::HOP)),
    ]);
    assert!(hits(&hop, &frame("ipv6_hop_dest_udp").bytes));
    assert!(!hits(&hop, &frame("ipv6_tcp").bytes));
    let mcast = rule(vec![EthDst(
        ofproto::MacAddr([1, 0, 0, 0, 0, 0]),
        Some(ofproto::MacAddr([1, 0, 0, 0, 0, 0])),
    )]);
    assert!(hits(&mcast, &frame("nd_ns_sll").bytes));
    assert!(!hits(&mcast, &frame("ipv4_tcp").bytes));
    let port = rule(vec![InPort(IN_PORT)]);
    assert!(hits(&port, &frame("ipv4_tcp").bytes));
    assert!(!hits(
        &rule(vec![InPort(IN_PORT + 1)]),
        &frame("ipv4_tcp").bytes
    ));
}

// ---------------------------------------------------------------------------
// Rewrites
// ---------------------------------------------------------------------------

#[test]
fn rfc1624_example_and_crc32c_vectors() {
    // RFC 1624 §4: eqn. 3 gives 0x0000, not eqn. 2's 0xffff.
    assert_eq!(csum_replace(0xdd2f, &[0x55, 0x55], &[0x32, 0x85]), 0x0000);
    // iSCSI (RFC 3720 B.4): 32 zero bytes → aa 36 91 8a on the wire.
    assert_eq!(crc32c(&[0; 32]).to_le_bytes(), [0xaa, 0x36, 0x91, 0x8a]);
    assert_eq!(crc32c(&[0xff; 32]).to_le_bytes(), [0x43, 0xab, 0xa8, 0x62]);
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    let inc: Vec<u8> = (0..32).collect();
    assert_eq!(crc32c(&inc), crc32c_naive(&inc));
}

#[test]
fn catalog_checksums_are_valid() {
    for (name, b) in catalog() {
        verify_checksums(&b.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Every set_field on every frame: applied ones write the field (frame and
/// key), keep every checksum valid and the key consistent; skipped ones
/// change nothing.
#[test]
fn set_field_sweep_keeps_checksums_and_key_consistent() {
    let mut applied = std::collections::BTreeMap::<&str, usize>::new();
    for (name, b) in catalog() {
        for f in set_fields() {
            let mut p = Packet::parse(Frame::new(&b.bytes), IN_PORT);
            let before = p.clone();
            let out = p.set_field(&f);
            let what = format!("{} on {name}", f.name());
            assert_consistent(&p, &what);
            match out {
                RewriteOutcome::Applied => {
                    *applied.entry(f.name()).or_default() += 1;
                    // A new ip_proto gives the L4 checksum a new meaning
                    // (documented in rewrite.rs); all others stay valid.
                    if !matches!(f, OxmField::IpProto(_)) {
                        verify_checksums(p.frame.data()).unwrap_or_else(|e| panic!("{what}: {e}"));
                    }
                    let want = FieldBytes::of(&f).unwrap().normalized();
                    if !matches!(f, OxmField::EthType(_) | OxmField::IpProto(_)) {
                        assert_eq!(p.key.get_field(f.field()), want.value(), "{what}");
                    }
                }
                RewriteOutcome::Skipped => {
                    assert_eq!(p.frame, before.frame, "{what}");
                    assert_eq!(p.key, before.key, "{what}");
                }
                o => panic!("{what}: {o:?}"),
            }
        }
    }
    // Every settable field found a frame to apply to.
    for f in set_fields() {
        let settable = !matches!(
            f,
            OxmField::InPort(_)
                | OxmField::InPhyPort(_)
                | OxmField::Metadata(..)
                | OxmField::Ipv6Exthdr(..)
        );
        assert_eq!(applied.contains_key(f.name()), settable, "{}", f.name());
    }
}

#[test]
fn set_field_only_writes_the_protocol_it_names() {
    let mut p = pkt("ipv4_tcp");
    assert_eq!(p.set_field(&OxmField::UdpSrc(1)), RewriteOutcome::Skipped);
    assert_eq!(
        p.set_field(&OxmField::ArpTpa(ip4("1.2.3.4"), None)),
        RewriteOutcome::Skipped
    );
    assert_eq!(
        p.set_field(&OxmField::Icmpv6Type(1)),
        RewriteOutcome::Skipped
    );
    assert_eq!(p.frame.data(), frame("ipv4_tcp").bytes.as_slice());
}

#[test]
fn set_ipv4_dst_updates_ip_and_tcp_checksums_exactly() {
    let mut p = pkt("ipv4_tcp");
    assert_eq!(
        p.set_field(&OxmField::Ipv4Dst(ip4("10.0.0.2"), None)),
        RewriteOutcome::Applied
    );
    let want = Fb::eth(MAC_A, MAC_B, 0x0800)
        .ipv4(32, 64, 6, IP_A, [10, 0, 0, 2], 0x4000, &[])
        .tcp(11111, 2222)
        .raw(&(1..=31).collect::<Vec<u8>>())
        .finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
    assert_eq!(p.key, want.key);
}

#[test]
fn udp_without_checksum_stays_without() {
    let mut p = pkt("ipv4_udp_nocsum");
    p.set_field(&OxmField::Ipv4Src(ip4("1.1.1.1"), None));
    p.set_field(&OxmField::UdpDst(99));
    assert_eq!(&p.frame.data()[40..42], &[0, 0]);
    assert_eq!(p.key.get_field(OFPXMT_OFB_UDP_DST), &[0, 99]);
}

#[test]
fn sctp_port_rewrite_recomputes_crc_and_keeps_an_old_error() {
    let mut p = pkt("ipv4_sctp");
    p.set_field(&OxmField::SctpDst(4000));
    verify_checksums(p.frame.data()).unwrap();
    // A wrong CRC stays wrong by the same difference.
    let mut bytes = frame("ipv4_sctp").bytes;
    bytes[34 + 8] ^= 0x5a;
    let mut p = Packet::parse(Frame::new(&bytes), IN_PORT);
    p.set_field(&OxmField::SctpSrc(1));
    let d = p.frame.data();
    let mut fixed = d.to_vec();
    fixed[34 + 8] ^= 0x5a;
    verify_checksums(&fixed).unwrap();
    assert!(verify_checksums(d).is_err());
}

#[test]
fn set_vlan_vid_keeps_pcp_and_set_pcp_keeps_vid() {
    // ryu 25_SET_FIELD/06_VLAN_VID: set_field:4299->vlan_vid (PRESENT|203).
    let mut p = pkt("vlan_ipv4_tcp");
    p.set_field(&OxmField::VlanVid(4299, None));
    assert_eq!(&p.frame.data()[14..16], &[0x60, 203]);
    assert_eq!(p.key.vlan_vid(), 0x1000 | 203);
    p.set_field(&OxmField::VlanPcp(7));
    assert_eq!(&p.frame.data()[14..16], &[0xe0, 203]);
    assert_eq!(p.key.vlan_pcp(), 7);
    let mut u = pkt("ipv4_tcp");
    assert_eq!(
        u.set_field(&OxmField::VlanVid(4299, None)),
        RewriteOutcome::Skipped
    );
}

#[test]
fn set_pbb_isid_behind_a_btag() {
    // ryu 25_SET_FIELD/37_PBB_ISID.
    let mut p = pkt("pbb_btag");
    p.set_field(&OxmField::PbbIsid(203, None));
    let want = Fb::eth(MAC_A, MAC_B, 0x88a8)
        .vlan(10, 0x88e7)
        .itag(0, 203)
        .raw(&customer_frame())
        .finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
}

#[test]
fn set_mpls_bos_reparses_the_stack() {
    let mut p = pkt("mpls_ipv4_tcp");
    p.set_field(&OxmField::MplsBos(0));
    assert_eq!(p.frame.data()[16] & 1, 0);
    assert_eq!(p.key.get_field(OFPXMT_OFB_MPLS_BOS), &[0]);
    assert_consistent(&p, "mpls_bos");
}

#[test]
fn set_nd_fields_fix_the_icmpv6_checksum() {
    let mut p = pkt("nd_ns_sll");
    let t: Ipv6Addr = "2001:db8::99".parse().unwrap();
    p.set_field(&OxmField::Ipv6NdTarget(t));
    p.set_field(&OxmField::Ipv6NdSll(ofproto::MacAddr([2, 0, 0, 0, 0, 1])));
    verify_checksums(p.frame.data()).unwrap();
    assert_eq!(p.key.get_field(OFPXMT_OFB_IPV6_ND_TARGET), &t.octets());
    assert_eq!(p.key.get_field(OFPXMT_OFB_IPV6_ND_SLL), &[2, 0, 0, 0, 0, 1]);
    // No TLL option in an NS: nothing to write.
    assert_eq!(
        p.set_field(&OxmField::Ipv6NdTll(ofproto::MacAddr([9; 6]))),
        RewriteOutcome::Skipped
    );
}

#[test]
fn push_vlan_on_untagged_frame_inserts_a_zero_tci() {
    let mut p = pkt("ipv4_tcp");
    assert_eq!(p.apply(&Action::PushVlan(0x8100)), RewriteOutcome::Applied);
    let mut want = frame("ipv4_tcp").bytes;
    want.splice(12..12, [0x81, 0x00, 0, 0]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(p.key.vlan_vid(), OFPVID_PRESENT);
    assert_consistent(&p, "push_vlan");
    verify_checksums(p.frame.data()).unwrap();
}

#[test]
fn push_vlan_on_tagged_frame_copies_the_tag() {
    // ryu 17_PUSH_VLAN_multiple: push 0x88a8 onto vlan(pcp=3, vid=100).
    let mut p = pkt("vlan_ipv4_tcp");
    p.apply(&Action::PushVlan(0x88a8));
    let mut want = frame("vlan_ipv4_tcp").bytes;
    want.splice(12..12, [0x88, 0xa8, 0x60, 100]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(
        (p.info.n_vlans, p.key.vlan_vid(), p.key.vlan_pcp()),
        (2, 0x1064, 3)
    );
    assert_consistent(&p, "push_vlan");
    assert_eq!(p.apply(&Action::PushVlan(0x1234)), RewriteOutcome::Skipped);
}

#[test]
fn pop_vlan_removes_the_outer_tag() {
    let mut p = pkt("qinq_ipv4_udp");
    p.apply(&Action::PopVlan);
    assert_eq!(p.key.vlan_vid(), 0x1064);
    assert_consistent(&p, "pop_vlan");
    p.apply(&Action::PopVlan);
    let want = Fb::eth(MAC_A, MAC_B, 0x0800)
        .ipv4(0, 17, 17, IP_A, IP_B, 0, &[])
        .udp(5353, 53)
        .raw(&(1..=31).collect::<Vec<u8>>())
        .finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
    assert_eq!(p.key, want.key);
    assert_eq!(p.apply(&Action::PopVlan), RewriteOutcome::Skipped);
    assert_consistent(&p, "pop_vlan");
}

#[test]
fn push_mpls_takes_ttl_from_ip_and_goes_after_vlan_tags() {
    // ryu 19_PUSH_MPLS: ipv4(ttl=64) → mpls(label 0, bos 1, ttl 64).
    let mut p = pkt("ipv4_tcp");
    p.apply(&Action::PushMpls(0x8847));
    let mut want = frame("ipv4_tcp").bytes;
    want[12..14].copy_from_slice(&[0x88, 0x47]);
    want.splice(14..14, [0, 0, 1, 64]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(p.key.get_field(OFPXMT_OFB_MPLS_BOS), &[1]);
    assert_eq!(p.key.get_field(OFPXMT_OFB_IPV4_DST), &[0; 4]);
    assert_consistent(&p, "push_mpls");

    let mut p = pkt("vlan_ipv4_tcp");
    p.apply(&Action::PushMpls(0x8848));
    let mut want = frame("vlan_ipv4_tcp").bytes;
    want[16..18].copy_from_slice(&[0x88, 0x48]);
    want.splice(18..18, [0, 0, 1, 64]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(p.key.vlan_vid(), 0x1064);

    // ryu: ARP gets ttl 0.
    let mut p = pkt("arp_request");
    p.apply(&Action::PushMpls(0x8847));
    assert_eq!(&p.frame.data()[14..18], &[0, 0, 1, 0]);
}

#[test]
fn push_mpls_onto_mpls_copies_the_label() {
    // ryu 19_PUSH_MPLS_multiple.
    let mut p = pkt("mpls_ipv4_tcp");
    p.apply(&Action::PushMpls(0x8847));
    let want = Fb::eth(MAC_A, MAC_B, 0x8847)
        .mpls(100, 3, false, 64)
        .mpls(100, 3, true, 64)
        .raw(&ipv4_tcp_inner(32))
        .finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
    assert_eq!(p.key, want.key);
    assert_eq!(p.info.n_mpls, 2);
}

#[test]
fn pop_mpls_exposes_the_ip_packet_to_later_tables() {
    // ryu 24_DEC_NW_TTL_IPv4: pop_mpls:0x0800, then dec_nw_ttl in table 1.
    let mut p = pkt("mpls_ipv4_tcp");
    p.apply(&Action::PopMpls(0x0800));
    let mut want = Fb::eth(MAC_A, MAC_B, 0x0800)
        .raw(&ipv4_tcp_inner(32))
        .finish()
        .bytes;
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(p.key.eth_type(), 0x0800);
    assert_eq!(p.key.get_field(OFPXMT_OFB_TCP_DST), &2222u16.to_be_bytes());
    assert_eq!(p.apply(&Action::DecNwTtl), RewriteOutcome::Applied);
    want[22] = 31;
    assert_eq!(p.frame.data()[22], 31);
    verify_checksums(p.frame.data()).unwrap();
    assert_eq!(p.apply(&Action::PopMpls(0x0800)), RewriteOutcome::Skipped);
}

#[test]
fn push_pbb_wraps_the_frame_and_pop_pbb_unwraps_it() {
    // ryu 26_PUSH_PBB: outer eth with the same addresses, itag(), customer frame.
    let orig = frame("ipv4_tcp").bytes;
    let mut p = pkt("ipv4_tcp");
    assert_eq!(p.apply(&Action::PushPbb(0x88e7)), RewriteOutcome::Applied);
    let want = Fb::eth(MAC_A, MAC_B, 0x88e7).itag(0, 0).raw(&orig).finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
    assert_eq!(p.key, want.key);
    // 26_PUSH_PBB_multiple: the second push copies the I-SID (0).
    p.set_field(&OxmField::PbbIsid(77, None));
    p.apply(&Action::PushPbb(0x88e7));
    let inner = Fb::eth(MAC_A, MAC_B, 0x88e7)
        .itag(0, 77)
        .raw(&orig)
        .finish();
    let want = Fb::eth(MAC_A, MAC_B, 0x88e7)
        .itag(0, 77)
        .raw(&inner.bytes)
        .finish();
    assert_eq!(p.frame.data(), want.bytes.as_slice());
    assert_eq!(p.apply(&Action::PopPbb), RewriteOutcome::Applied);
    assert_eq!(p.apply(&Action::PopPbb), RewriteOutcome::Applied);
    assert_eq!(p.frame.data(), orig.as_slice());
    assert_consistent(&p, "pop_pbb");
    assert_eq!(p.apply(&Action::PopPbb), RewriteOutcome::Skipped);
}

#[test]
fn push_pbb_takes_pcp_from_the_vlan_tag() {
    let mut p = pkt("vlan_ipv4_tcp");
    p.apply(&Action::PushPbb(0x88e7));
    assert_eq!(&p.frame.data()[12..18], &[0x88, 0xe7, 0x60, 0, 0, 0]);
    assert_eq!(p.key.vlan_vid(), 0);
    assert_consistent(&p, "push_pbb");
}

#[test]
fn pop_pbb_strips_btag_and_itag() {
    // ryu 27_POP_PBB (with a B-tag in front of the I-TAG).
    let mut p = pkt("pbb_btag");
    p.apply(&Action::PopPbb);
    assert_eq!(p.frame.data(), customer_frame().as_slice());
    assert_eq!(p.key.vlan_vid(), 0x1000 | 10);
    assert_eq!(p.key.eth_type(), 0x0800);
    assert_consistent(&p, "pop_pbb");
}

#[test]
fn dec_nw_ttl_and_invalid_ttl() {
    let mut p = pkt("ipv4_tcp");
    assert_eq!(p.apply(&Action::DecNwTtl), RewriteOutcome::Applied);
    assert_eq!(p.frame.data()[22], 63);
    verify_checksums(p.frame.data()).unwrap();
    p.apply(&Action::SetNwTtl(1));
    verify_checksums(p.frame.data()).unwrap();
    let before = p.frame.clone();
    assert_eq!(p.apply(&Action::DecNwTtl), RewriteOutcome::InvalidTtl);
    assert_eq!(p.frame, before);

    let mut p = pkt("ipv6_tcp");
    assert_eq!(p.apply(&Action::DecNwTtl), RewriteOutcome::Applied);
    assert_eq!(p.frame.data()[14 + 7], 63);
    verify_checksums(p.frame.data()).unwrap();
    p.apply(&Action::SetNwTtl(0));
    assert_eq!(p.apply(&Action::DecNwTtl), RewriteOutcome::InvalidTtl);
    assert_eq!(
        pkt("arp_request").apply(&Action::DecNwTtl),
        RewriteOutcome::Skipped
    );
}

#[test]
fn mpls_ttl_actions() {
    let mut p = pkt("mpls_ipv4_tcp");
    assert_eq!(p.apply(&Action::DecMplsTtl), RewriteOutcome::Applied);
    assert_eq!(p.frame.data()[17], 63);
    p.apply(&Action::SetMplsTtl(1));
    assert_eq!(p.apply(&Action::DecMplsTtl), RewriteOutcome::InvalidTtl);
    assert_eq!(p.frame.data()[17], 1);
    assert_eq!(
        pkt("ipv4_tcp").apply(&Action::DecMplsTtl),
        RewriteOutcome::Skipped
    );
}

#[test]
fn copy_ttl_out_and_in() {
    // ryu 11_COPY_TTL_OUT: mpls ttl 64, ipv4 ttl 32 → mpls ttl 32.
    let mut p = pkt("mpls_ipv4_tcp");
    assert_eq!(p.apply(&Action::CopyTtlOut), RewriteOutcome::Applied);
    assert_eq!(p.frame.data()[17], 32);
    // ryu 12_COPY_TTL_IN: mpls ttl 64 → ipv4 ttl 64, checksum updated.
    let mut p = pkt("mpls_ipv4_tcp");
    assert_eq!(p.apply(&Action::CopyTtlIn), RewriteOutcome::Applied);
    assert_eq!(p.frame.data()[18 + 8], 64);
    verify_checksums(p.frame.data()).unwrap();
    let mut want = frame("mpls_ipv4_tcp").bytes;
    want.splice(18.., ipv4_tcp_inner(64));
    assert_eq!(p.frame.data(), want.as_slice());
    // Two labels: between the labels.
    let mut p = pkt("mpls2_ipv6");
    p.apply(&Action::CopyTtlOut);
    assert_eq!(p.frame.data()[17], 100);
    p.apply(&Action::SetMplsTtl(77));
    p.apply(&Action::CopyTtlIn);
    assert_eq!(p.frame.data()[21], 77);
    assert_eq!(
        pkt("ipv4_tcp").apply(&Action::CopyTtlOut),
        RewriteOutcome::Skipped
    );
}

#[test]
fn non_rewrite_actions_are_left_to_the_caller() {
    let mut p = pkt("ipv4_tcp");
    for a in [
        Action::Output {
            port: 1,
            max_len: 0,
        },
        Action::Group(1),
        Action::SetQueue(1),
    ] {
        assert_eq!(p.apply(&a), RewriteOutcome::NotRewrite);
    }
}

#[test]
fn rewrites_keep_pipeline_fields() {
    let mut p = pkt("ipv4_tcp");
    p.key.set_metadata(0xfeed);
    p.key.set_tunnel_id(99);
    p.apply(&Action::PushMpls(0x8847));
    p.apply(&Action::PopMpls(0x0800));
    p.apply(&Action::SetField(OxmField::EthType(0x0800)));
    assert_eq!(
        (p.key.metadata(), p.key.tunnel_id(), p.key.in_port()),
        (0xfeed, 99, IN_PORT)
    );
}

#[test]
fn pushes_beyond_the_headroom_reallocate() {
    let orig = frame("ipv4_tcp").bytes;
    let mut p = Packet::parse(Frame::with_headroom(&orig, 6), IN_PORT);
    let mut model = orig.clone();
    for i in 0..40u16 {
        p.set_field(&OxmField::VlanVid(0x1000 | i, None));
        if i > 0 {
            model[14..16].copy_from_slice(&i.to_be_bytes());
        }
        p.apply(&Action::PushVlan(0x8100));
        let tci = if i == 0 { [0, 0] } else { i.to_be_bytes() };
        model.splice(12..12, [0x81, 0, tci[0], tci[1]]);
        assert_eq!(p.frame.data(), model.as_slice(), "push #{i}");
    }
    assert_consistent(&p, "40 pushes");
    for _ in 0..40 {
        p.apply(&Action::PopVlan);
    }
    assert_eq!(p.frame.data(), orig.as_slice());
    assert_eq!(p.frame.clone().into_vec(), orig);
}

#[test]
fn every_action_on_every_frame_keeps_checksums_valid() {
    for (name, b) in catalog() {
        for a in all_actions() {
            let mut p = Packet::parse(Frame::new(&b.bytes), IN_PORT);
            let out = p.apply(&a);
            let what = format!("{a:?} on {name} ({out:?})");
            assert_consistent(&p, &what);
            let ip_proto_change = matches!(&a, Action::SetField(OxmField::IpProto(_)));
            if !ip_proto_change {
                verify_checksums(p.frame.data()).unwrap_or_else(|e| panic!("{what}: {e}"));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Port buffers and offloads
// ---------------------------------------------------------------------------

use crate::port::{PacketBuf, VnetHdr};

fn port_buf(bytes: &[u8], offload: VnetHdr) -> PacketBuf {
    let mut b = PacketBuf::new(2048);
    assert!(b.fill(bytes, offload));
    b
}

#[test]
fn actions_run_in_place_on_port_buffers() {
    let orig = frame("ipv4_tcp").bytes;
    let mut buf = port_buf(&orig, VnetHdr::NONE);
    let mut p = Packet::parse(&mut buf, IN_PORT);
    assert_eq!(p.apply(&Action::PushVlan(0x8100)), RewriteOutcome::Applied);
    p.set_field(&OxmField::VlanVid(0x1000 | 5, None));
    assert_consistent_buf(&p);
    let mut want = orig.clone();
    want.splice(12..12, [0x81, 0, 0, 5]);
    assert_eq!(buf.data(), want.as_slice());
    let mut p = Packet::parse(&mut buf, IN_PORT);
    p.apply(&Action::PopVlan);
    assert_eq!(buf.data(), orig.as_slice());
}

fn assert_consistent_buf(p: &Packet<&mut PacketBuf>) {
    let mut k = FlowKey::ZERO;
    let info = parse_frame(p.frame.data(), p.key.in_port(), &mut k);
    assert_eq!((p.key, p.info), (k, info));
}

#[test]
fn a_push_past_the_headroom_of_a_fixed_buffer_changes_nothing() {
    let orig = frame("ipv4_tcp").bytes;
    let mut buf = port_buf(&orig, VnetHdr::NONE);
    let room = buf.headroom();
    let mut p = Packet::parse(&mut buf, IN_PORT);
    let mut pushes = 0;
    loop {
        let before = p.frame.data().to_vec();
        match p.apply(&Action::PushPbb(0x88e7)) {
            RewriteOutcome::Applied => pushes += 1,
            RewriteOutcome::NoHeadroom => {
                assert_eq!(p.frame.data(), before.as_slice());
                break;
            }
            o => panic!("{o:?}"),
        }
    }
    assert_eq!(pushes, room / 18);
    assert_consistent_buf(&p);
    for _ in 0..pushes {
        assert_eq!(p.apply(&Action::PopPbb), RewriteOutcome::Applied);
    }
    assert_eq!(p.frame.data(), orig.as_slice());
}

/// A TCP checksum field holding only the pseudo-header sum (virtio-net
/// NEEDS_CSUM), as a guest with checksum offload sends it.
fn partial_tcp_frame() -> (Vec<u8>, VnetHdr) {
    let mut b = frame("ipv4_tcp").bytes;
    let (l3, l4) = (14, 34);
    let tcp_len = (b.len() - l4) as u16;
    let mut ph = b[l3 + 12..l3 + 20].to_vec();
    ph.extend_from_slice(&[0, 6]);
    ph.extend_from_slice(&tcp_len.to_be_bytes());
    let partial = !naive_csum(&[&ph]);
    b[l4 + 16..l4 + 18].copy_from_slice(&partial.to_be_bytes());
    (b, VnetHdr::NONE.with_csum(l4 as u16, 16))
}

/// What the transmitting NIC does with a NEEDS_CSUM frame.
fn complete(frame: &mut [u8], h: &VnetHdr) {
    let (s, at) = (
        usize::from(h.csum_start),
        usize::from(h.csum_start + h.csum_offset),
    );
    let c = naive_csum(&[&frame[s..]]);
    frame[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn partial_checksums_take_pseudo_header_changes_only() {
    let (bytes, vh) = partial_tcp_frame();
    let mut buf = port_buf(&bytes, vh);
    let mut p = Packet::parse(&mut buf, IN_PORT);
    p.set_field(&OxmField::Ipv4Dst(ip4("10.0.0.99"), None));
    p.set_field(&OxmField::Ipv4Src(ip4("10.0.0.98"), None));
    p.set_field(&OxmField::TcpDst(8080));
    p.apply(&Action::DecNwTtl);
    p.apply(&Action::PushVlan(0x8100));
    assert_eq!(buf.offload.csum_start, 38, "csum_start follows the push");
    let h = buf.offload;
    let mut out = buf.data().to_vec();
    complete(&mut out, &h);
    verify_checksums(&out).unwrap();
    // Popping the tag moves csum_start back.
    let mut p = Packet::parse(&mut buf, IN_PORT);
    p.apply(&Action::PopVlan);
    assert_eq!(buf.offload.csum_start, 34);
}

#[test]
fn gso_header_length_follows_pushes_and_pops() {
    let (bytes, vh) = partial_tcp_frame();
    let mut vh = vh;
    vh.gso_type = VnetHdr::GSO_TCPV4;
    vh.gso_size = 1448;
    vh.hdr_len = 54;
    let mut buf = port_buf(&bytes, vh);
    let mut p = Packet::parse(&mut buf, IN_PORT);
    p.apply(&Action::PushMpls(0x8847));
    p.apply(&Action::PushVlan(0x8100));
    assert_eq!((buf.offload.hdr_len, buf.offload.csum_start), (62, 42));
    let mut p = Packet::parse(&mut buf, IN_PORT);
    p.apply(&Action::PopVlan);
    p.apply(&Action::PopMpls(0x0800));
    assert_eq!((buf.offload.hdr_len, buf.offload.csum_start), (54, 34));
    assert_eq!(buf.data(), bytes.as_slice());
}
