//! MPLS, PBB and IPv6 extension headers against OF1.3.5: the parser's
//! `mpls_*`/`pbb_isid`/`ipv6_exthdr` (§7.2.3.7), push/pop and TTL actions
//! byte for byte (§5.12.1, frames built by hand here, not by the code under
//! test), and flows written as ovs-ofctl text classifying those frames
//! through a real [`Pipeline`].

use super::frames::*;
use super::key::FlowKey;
use super::parse::{exthdr, parse_frame, ParseInfo, L3};
use super::rewrite::RewriteOutcome;
use super::{Frame, Packet};
use crate::pipeline::{clock, Pipeline, PipelineConfig};
use ofproto::action::Action;
use ofproto::oxm::*;
use ofproto::text::{parse_flow, FlowCommand};

fn parse(b: &[u8]) -> (FlowKey, ParseInfo) {
    let mut k = FlowKey::ZERO;
    let info = parse_frame(b, IN_PORT, &mut k);
    (k, info)
}

fn packet(b: &[u8]) -> Packet {
    Packet::parse(Frame::new(b), IN_PORT)
}

/// The key a packet has must be the key its bytes parse to.
fn reparsed_equal(p: &Packet, what: &str) {
    let (k, info) = parse(p.frame.data());
    assert_eq!(p.key, k, "{what}: key differs from the re-parsed frame");
    assert_eq!(
        p.info, info,
        "{what}: offsets differ from the re-parsed frame"
    );
}

fn ethhdr(dst: [u8; 6], src: [u8; 6], et: u16) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&et.to_be_bytes());
    f
}

/// Label stack entry: label(20) TC(3) S(1) TTL(8).
fn lse(label: u32, tc: u8, bos: bool, ttl: u8) -> [u8; 4] {
    ((label << 12) | (u32::from(tc) << 9) | (u32::from(bos) << 8) | u32::from(ttl)).to_be_bytes()
}

fn frame_of(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

#[test]
fn mpls_key_is_the_outermost_label_of_a_stack() {
    let ip = ipv4_tcp_inner(40);
    let f = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8847),
        &lse(0x12345, 6, false, 9),
        &lse(77, 1, false, 8),
        &lse(16, 0, true, 7),
        &ip,
    ]);
    let (k, info) = parse(&f);
    assert_eq!(
        k.get_field(OFPXMT_OFB_MPLS_LABEL),
        &0x12345u32.to_be_bytes()
    );
    assert_eq!(k.get_field(OFPXMT_OFB_MPLS_TC), &[6]);
    assert_eq!(k.get_field(OFPXMT_OFB_MPLS_BOS), &[0]);
    assert_eq!((info.l3, info.l3_off, info.n_mpls), (L3::Mpls, 14, 3));
    // Nothing behind the stack is parsed: no IPv4 fields.
    assert_eq!(k.eth_type(), 0x8847);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV4_SRC), &[0; 4]);
    assert_eq!(k.ip_proto(), 0);

    // Behind a VLAN tag; the stack cut after the first label still gives
    // the top label (the count stops at what is there).
    let f = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8100),
        &[0x20, 0x05, 0x88, 0x48],
        &lse(1, 7, false, 1),
        &[0xff, 0xff],
    ]);
    let (k, info) = parse(&f);
    assert_eq!(k.vlan_vid(), 0x1005);
    assert_eq!(k.get_field(OFPXMT_OFB_MPLS_LABEL), &1u32.to_be_bytes());
    assert_eq!(k.get_field(OFPXMT_OFB_MPLS_TC), &[7]);
    assert_eq!((info.l3_off, info.n_mpls), (18, 1));
    // A label cut short gives no MPLS fields at all.
    let (k, info) = parse(&f[..20]);
    assert_eq!(k.get_field(OFPXMT_OFB_MPLS_LABEL), &[0; 4]);
    assert_eq!((k.eth_type(), info.l3), (0x8848, L3::None));
}

#[test]
fn pbb_isid_is_the_itags_low_24_bits() {
    // I-PCP 7, DEI 1, UCA 1 and the reserved bits set: only the I-SID
    // reaches the key.
    let f = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x88e7),
        &[0xff, 0x12, 0x34, 0x56],
        &customer_frame(),
    ]);
    let (k, info) = parse(&f);
    assert_eq!(k.get_field(OFPXMT_OFB_PBB_ISID), &[0x12, 0x34, 0x56]);
    assert_eq!((info.l3, info.l3_off), (L3::Pbb, 14));
    // The customer frame is not parsed.
    assert_eq!(k.eth_type(), 0x88e7);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV4_SRC), &[0; 4]);
}

/// Ethernet + IPv6 (next header `first`) + `chain` (complete headers) +
/// whatever `tail` is. Payload length covers chain and tail.
fn v6(first: u8, chain: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut f = ethhdr(MAC_A, MAC_B, 0x86dd);
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&((chain.len() + tail.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[first, 64]);
    f.extend_from_slice(&IP6_A);
    f.extend_from_slice(&IP6_B);
    f.extend_from_slice(chain);
    f.extend_from_slice(tail);
    f
}

/// An 8-byte hop-by-hop / destination options / routing header.
fn opt8(next: u8) -> [u8; 8] {
    [next, 0, 1, 4, 0, 0, 0, 0]
}

fn frag(next: u8) -> [u8; 8] {
    [next, 0, 0, 1, 0, 0, 0, 9] // offset 0, M=1: the first fragment
}

/// AH with payload length 4 (=(4+2)*4 = 24 bytes).
fn ah(next: u8) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0] = next;
    h[1] = 4;
    h
}

const UDP8: [u8; 8] = [0x0f, 0xa0, 0x1c, 0x21, 0, 8, 0, 0];

#[test]
fn ipv6_exthdr_flags_follow_of13_and_rfc8200_order() {
    use exthdr::*;
    const HOPP: u8 = 0;
    const ROUT: u8 = 43;
    const FRAG_: u8 = 44;
    const ESP_: u8 = 50;
    const AH_: u8 = 51;
    const NONE: u8 = 59;
    const DST: u8 = 60;
    const UDP: u8 = 17;
    let cat = |hs: &[&[u8]]| hs.concat();
    // (what, first next-header, chain, flags, final ip_proto)
    let cases: Vec<(&str, u8, Vec<u8>, u16, u8)> = vec![
        ("none", UDP, vec![], 0, UDP),
        ("hop", HOPP, cat(&[&opt8(UDP)]), HOP, UDP),
        ("auth", AH_, cat(&[&ah(UDP)]), AUTH, UDP),
        (
            "hop frag",
            HOPP,
            cat(&[&opt8(FRAG_), &frag(UDP)]),
            HOP | FRAG,
            UDP,
        ),
        // The full recommended order, with both destination options slots.
        (
            "hop dest rout frag ah dest",
            HOPP,
            cat(&[
                &opt8(DST),
                &opt8(ROUT),
                &opt8(FRAG_),
                &frag(AH_),
                &ah(DST),
                &opt8(UDP),
            ]),
            HOP | DEST | ROUTER | FRAG | AUTH,
            UDP,
        ),
        // Two destination options headers are allowed (OFPIEH_DEST: "1 or
        // 2"), even back to back; a third is a repeat.
        ("dest dest", DST, cat(&[&opt8(DST), &opt8(UDP)]), DEST, UDP),
        (
            "dest dest dest",
            DST,
            cat(&[&opt8(DST), &opt8(DST), &opt8(UDP)]),
            DEST | UNREP,
            UDP,
        ),
        // Any other header twice: UNREP; out of order: UNSEQ.
        (
            "hop hop",
            HOPP,
            cat(&[&opt8(HOPP), &opt8(UDP)]),
            HOP | UNREP,
            UDP,
        ),
        (
            "frag frag",
            FRAG_,
            cat(&[&frag(FRAG_), &frag(UDP)]),
            FRAG | UNREP,
            UDP,
        ),
        (
            "frag hop",
            FRAG_,
            cat(&[&frag(HOPP), &opt8(UDP)]),
            FRAG | HOP | UNSEQ,
            UDP,
        ),
        (
            "dest hop",
            DST,
            cat(&[&opt8(HOPP), &opt8(UDP)]),
            DEST | HOP | UNSEQ,
            UDP,
        ),
        (
            "ah rout",
            AH_,
            cat(&[&ah(ROUT), &opt8(UDP)]),
            AUTH | ROUTER | UNSEQ,
            UDP,
        ),
        // A destination options header after the routing header is the
        // second slot: in order.
        (
            "rout dest",
            ROUT,
            cat(&[&opt8(DST), &opt8(UDP)]),
            ROUTER | DEST,
            UDP,
        ),
        // ESP ends the walk (encrypted behind it); "no next header" too.
        (
            "hop esp",
            HOPP,
            cat(&[&opt8(ESP_), &[0; 16]]),
            HOP | ESP,
            ESP_,
        ),
        ("esp", ESP_, vec![0; 16], ESP, ESP_),
        ("nonext", NONE, vec![], NONEXT, NONE),
        ("hop nonext", HOPP, cat(&[&opt8(NONE)]), HOP | NONEXT, NONE),
    ];
    for (what, first, chain, flags, proto) in cases {
        let tail: &[u8] = if proto == UDP { &UDP8 } else { &[] };
        let f = v6(first, &chain, tail);
        let (k, info) = parse(&f);
        assert_eq!(
            k.get_field(OFPXMT_OFB_IPV6_EXTHDR),
            &flags.to_be_bytes(),
            "{what}: ipv6_exthdr"
        );
        assert_eq!(k.ip_proto(), proto, "{what}: ip_proto");
        if proto == UDP {
            assert_eq!(
                info.l4_off as usize,
                14 + 40 + chain.len(),
                "{what}: UDP offset"
            );
            assert_eq!(
                k.get_field(OFPXMT_OFB_UDP_DST),
                &7201u16.to_be_bytes(),
                "{what}"
            );
        }
    }
    // A header cut by the frame's end (or the payload length) is not
    // counted: hop-by-hop whole, fragment header 4 of 8 bytes.
    let f = v6(HOPP, &[&opt8(FRAG_)[..], &frag(UDP)[..4]].concat(), &[]);
    let (k, _) = parse(&f);
    assert_eq!(k.get_field(OFPXMT_OFB_IPV6_EXTHDR), &HOP.to_be_bytes());
    assert_eq!(k.ip_proto(), FRAG_);
}

// ---------------------------------------------------------------------------
// Push / pop / TTL, byte for byte
// ---------------------------------------------------------------------------

#[test]
fn push_mpls_on_ipv6_takes_the_hop_limit() {
    let ip6 = v6(17, &[], &UDP8);
    let mut p = packet(&ip6);
    assert_eq!(p.apply(&Action::PushMpls(0x8848)), RewriteOutcome::Applied);
    let want = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8848),
        &lse(0, 0, true, 64),
        &ip6[14..],
    ]);
    assert_eq!(p.frame.data(), want.as_slice());
    reparsed_equal(&p, "push_mpls on IPv6");
    // Then set_field label/TC keep BOS and TTL.
    p.set_field(&OxmField::MplsLabel(0xabcde));
    p.set_field(&OxmField::MplsTc(5));
    assert_eq!(&p.frame.data()[14..18], &lse(0xabcde, 5, true, 64));
    assert_eq!(
        p.key.get_field(OFPXMT_OFB_MPLS_LABEL),
        &0xabcdeu32.to_be_bytes()
    );
    reparsed_equal(&p, "set_field mpls");
}

#[test]
fn pop_mpls_of_a_non_bottom_label_exposes_the_next_one() {
    let ip = ipv4_tcp_inner(40);
    let f = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8847),
        &lse(500, 1, false, 30),
        &lse(600, 2, true, 20),
        &ip,
    ]);
    let mut p = packet(&f);
    assert_eq!(p.apply(&Action::PopMpls(0x8847)), RewriteOutcome::Applied);
    let want = frame_of(&[&ethhdr(MAC_A, MAC_B, 0x8847), &lse(600, 2, true, 20), &ip]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(
        p.key.get_field(OFPXMT_OFB_MPLS_LABEL),
        &600u32.to_be_bytes()
    );
    assert_eq!(p.key.get_field(OFPXMT_OFB_MPLS_BOS), &[1]);
    reparsed_equal(&p, "pop_mpls 0x8847");
    assert_eq!(p.apply(&Action::PopMpls(0x0800)), RewriteOutcome::Applied);
    assert_eq!(
        p.frame.data(),
        frame_of(&[&ethhdr(MAC_A, MAC_B, 0x0800), &ip])
    );
    assert_eq!(p.key.ip_proto(), 6);
    reparsed_equal(&p, "pop_mpls 0x0800");
}

#[test]
fn mpls_ttl_actions_work_on_the_top_label_only() {
    let ip = ipv4_tcp_inner(40);
    let f = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8847),
        &lse(500, 1, false, 2),
        &lse(600, 2, true, 20),
        &ip,
    ]);
    let mut p = packet(&f);
    assert_eq!(p.apply(&Action::DecMplsTtl), RewriteOutcome::Applied);
    assert_eq!(
        &p.frame.data()[14..22],
        [lse(500, 1, false, 1), lse(600, 2, true, 20)].concat()
    );
    // TTL 1: invalid, the frame is left alone (OF1.3.5 §5.12: the packet
    // goes to the controller or is dropped; exec.rs decides).
    let before = p.frame.data().to_vec();
    assert_eq!(p.apply(&Action::DecMplsTtl), RewriteOutcome::InvalidTtl);
    assert_eq!(p.frame.data(), before.as_slice());
    p.apply(&Action::SetMplsTtl(0));
    assert_eq!(p.apply(&Action::DecMplsTtl), RewriteOutcome::InvalidTtl);
    // copy_ttl_in copies into the second label, not the IP header.
    p.apply(&Action::SetMplsTtl(99));
    assert_eq!(p.apply(&Action::CopyTtlIn), RewriteOutcome::Applied);
    let want = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8847),
        &lse(500, 1, false, 99),
        &lse(600, 2, true, 99),
        &ip,
    ]);
    assert_eq!(p.frame.data(), want.as_slice());
    reparsed_equal(&p, "mpls ttl");
    // Not MPLS: skipped, not an error.
    let mut p = packet(&frame_of(&[&ethhdr(MAC_A, MAC_B, 0x0800), &ip]));
    for a in [
        Action::DecMplsTtl,
        Action::SetMplsTtl(3),
        Action::CopyTtlIn,
        Action::CopyTtlOut,
        Action::PopMpls(0x0800),
        Action::PopPbb,
    ] {
        assert_eq!(p.apply(&a), RewriteOutcome::Skipped, "{a:?}");
    }
}

#[test]
fn push_pbb_on_a_tagged_frame_keeps_the_tag_in_the_customer_frame() {
    // VLAN PCP 5, VID 7: the I-PCP is 5, the tag stays inside.
    let cust = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x8100),
        &[0xa0, 0x07, 0x08, 0x00],
        &ipv4_tcp_inner(40),
    ]);
    let mut p = packet(&cust);
    assert_eq!(p.apply(&Action::PushPbb(0x88e7)), RewriteOutcome::Applied);
    let want = frame_of(&[&ethhdr(MAC_A, MAC_B, 0x88e7), &[0xa0, 0, 0, 0], &cust]);
    assert_eq!(p.frame.data(), want.as_slice());
    assert_eq!(p.key.vlan_vid(), 0);
    assert_eq!(p.key.get_field(OFPXMT_OFB_PBB_ISID), &[0, 0, 0]);
    reparsed_equal(&p, "push_pbb tagged");
    p.set_field(&OxmField::PbbIsid(0xfedcba, None));
    p.set_field(&OxmField::EthDst(
        ofproto::MacAddr([2, 0, 0, 0, 0, 0xbd]),
        None,
    ));
    let want = frame_of(&[
        &ethhdr([2, 0, 0, 0, 0, 0xbd], MAC_B, 0x88e7),
        &[0xa0, 0xfe, 0xdc, 0xba],
        &cust,
    ]);
    assert_eq!(p.frame.data(), want.as_slice());
    reparsed_equal(&p, "set pbb_isid");
    assert_eq!(p.apply(&Action::PopPbb), RewriteOutcome::Applied);
    assert_eq!(p.frame.data(), cust.as_slice());
    assert_eq!(p.key.vlan_vid(), 0x1007);
    reparsed_equal(&p, "pop_pbb");
}

#[test]
fn push_pbb_over_pbb_copies_the_isid_but_not_the_ipcp() {
    // OF1.3.5 §5.12.1: I-SID from the outer I-TAG, I-PCP from a VLAN tag
    // (none here) else 0 — not from the old I-TAG.
    let inner = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x88e7),
        &[0xb0, 0xab, 0xcd, 0xef], // I-PCP 5, DEI 1
        &customer_frame(),
    ]);
    let mut p = packet(&inner);
    assert_eq!(p.apply(&Action::PushPbb(0x88e7)), RewriteOutcome::Applied);
    let want = frame_of(&[
        &ethhdr(MAC_A, MAC_B, 0x88e7),
        &[0, 0xab, 0xcd, 0xef],
        &inner,
    ]);
    assert_eq!(p.frame.data(), want.as_slice());
    reparsed_equal(&p, "push_pbb over pbb");
}

// ---------------------------------------------------------------------------
// Classification through the pipeline
// ---------------------------------------------------------------------------

/// A pipeline holding `flows` (ovs-ofctl text, each with a distinct cookie).
fn pipeline(flows: &[&str]) -> Pipeline {
    let mut pl = Pipeline::new(PipelineConfig::default());
    for t in flows {
        let fm = parse_flow(t, FlowCommand::Add).unwrap_or_else(|e| panic!("{t}: {e:?}"));
        pl.apply_flow_mod(&fm, clock::now())
            .unwrap_or_else(|e| panic!("{t}: {e:?}"));
    }
    pl.publish();
    pl
}

/// Cookie of the table-0 flow `frame` hits, 0 on a miss.
fn hit(pl: &Pipeline, frame: &[u8]) -> u64 {
    let (k, _) = parse(frame);
    pl.snapshot().lookup(0, &k).map_or(0, |e| e.cookie)
}

#[test]
fn mpls_pbb_and_exthdr_flows_classify_the_frames() {
    let pl = pipeline(&[
        "cookie=1,priority=30,mpls,mpls_label=500,mpls_bos=0 actions=drop",
        "cookie=2,priority=20,mpls,mpls_label=500 actions=drop",
        "cookie=3,priority=20,mpls,mpls_tc=2 actions=drop",
        "cookie=4,priority=20,dl_type=0x88e7,pbb_isid=0xab0000/0xff0000 actions=drop",
        "cookie=5,priority=20,ipv6,ipv6_exthdr=0x010/0x110 actions=drop",
        "cookie=6,priority=10,ipv6,ipv6_exthdr=0x100/0x100 actions=drop",
        "cookie=7,priority=5,mplsm actions=drop",
    ]);
    let ip = ipv4_tcp_inner(40);
    let mpls = |et: u16, labels: &[[u8; 4]]| {
        let mut f = ethhdr(MAC_A, MAC_B, et);
        for l in labels {
            f.extend_from_slice(l);
        }
        f.extend_from_slice(&ip);
        f
    };
    assert_eq!(
        hit(
            &pl,
            &mpls(0x8847, &[lse(500, 0, false, 9), lse(1, 0, true, 9)])
        ),
        1
    );
    assert_eq!(hit(&pl, &mpls(0x8847, &[lse(500, 0, true, 9)])), 2);
    // Only the outermost label counts: 500 below another label is no hit.
    assert_eq!(
        hit(
            &pl,
            &mpls(0x8847, &[lse(9, 0, false, 9), lse(500, 0, true, 9)])
        ),
        0
    );
    assert_eq!(hit(&pl, &mpls(0x8847, &[lse(9, 2, true, 9)])), 3);
    // mplsm (0x8848) is a different eth_type than mpls (0x8847).
    assert_eq!(hit(&pl, &mpls(0x8848, &[lse(500, 0, true, 9)])), 7);

    let pbb = |isid: u32| {
        frame_of(&[
            &ethhdr(MAC_A, MAC_B, 0x88e7),
            &isid.to_be_bytes(),
            &customer_frame(),
        ])
    };
    assert_eq!(hit(&pl, &pbb(0xab1234)), 4);
    assert_eq!(hit(&pl, &pbb(0xac1234)), 0);

    let frag_then_udp = [&frag(17)[..], &UDP8[..]].concat();
    assert_eq!(hit(&pl, &v6(44, &frag_then_udp, &[])), 5);
    let hop_frag = [&opt8(44)[..], &frag(17)[..], &UDP8[..]].concat();
    assert_eq!(hit(&pl, &v6(0, &hop_frag, &[])), 5);
    // Fragment before hop-by-hop: UNSEQ, so not 5 but 6.
    let frag_hop = [&frag(0)[..], &opt8(17)[..], &UDP8[..]].concat();
    assert_eq!(hit(&pl, &v6(44, &frag_hop, &[])), 6);
    assert_eq!(hit(&pl, &v6(17, &UDP8, &[])), 0);
}

#[test]
fn mpls_and_exthdr_masks_outside_the_spec_are_refused() {
    // OF1.3.5 Table 12: mpls_label/tc/bos are not maskable; ipv6_exthdr
    // has 9 bits; pbb_isid 24. The switch answers OFPBMC_* (the wire
    // checks run in Match::validate, before the match compiles).
    use ofproto::error::*;
    let code = |f: OxmField| {
        let m = Match::new(vec![OxmField::EthType(0x86dd), f]);
        m.validate().err().map(|e| e.code)
    };
    assert_eq!(
        code(OxmField::Ipv6Exthdr(0x200, None)),
        Some(OFPBMC_BAD_VALUE)
    );
    assert_eq!(code(OxmField::Ipv6Exthdr(0x40, Some(0x40))), None);
    let mpls = |f: OxmField| {
        let m = Match::new(vec![OxmField::EthType(0x8847), f]);
        m.validate().err().map(|e| e.code)
    };
    assert_eq!(mpls(OxmField::MplsLabel(1 << 20)), Some(OFPBMC_BAD_VALUE));
    assert_eq!(mpls(OxmField::MplsTc(8)), Some(OFPBMC_BAD_VALUE));
    assert_eq!(mpls(OxmField::MplsBos(2)), Some(OFPBMC_BAD_VALUE));
    // Prerequisite missing: mpls_label on IPv6.
    assert_eq!(code(OxmField::MplsLabel(5)), Some(OFPBMC_BAD_PREREQ));
}
