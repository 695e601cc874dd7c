use super::*;

fn tcp_frame(v6: bool, vlan: bool, payload: usize, flags: u8) -> Vec<u8> {
    let mut f = vec![0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1];
    if vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
    }
    if v6 {
        f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, 6, 64]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]);
    } else {
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[10, 10, 10, 11, 10, 10, 10, 12]);
    }
    // TCP: ports, seq 0xfffffc00 (wraps), ack, doff 8 (12 bytes of options)
    f.extend_from_slice(&[0x9c, 0x40, 0x14, 0x51, 0xff, 0xff, 0xfc, 0x00, 0, 0, 0, 1]);
    f.extend_from_slice(&[0x80, flags, 0x01, 0x00, 0, 0, 0, 0]);
    f.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    f.extend((0..payload).map(|i| (i * 7) as u8));
    f
}

fn meta(ty: u8, mss: u16) -> VnetHdr {
    VnetHdr {
        gso_type: ty,
        gso_size: mss,
        ..VnetHdr::default()
    }
}

/// Ones'-complement sum over the pseudo-header and segment: valid = 0xffff.
fn l4_ok(f: &[u8], l3: usize, v6: bool, proto: u8) -> bool {
    let (l4, mut acc) = if v6 {
        (l3 + 40, csum_add(&f[l3 + 8..l3 + 40], 0))
    } else {
        (l3 + 20, csum_add(&f[l3 + 12..l3 + 20], 0))
    };
    acc += (f.len() - l4) as u64 + u64::from(proto);
    csum_fold(csum_add(&f[l4..], acc)) == 0xffff
}

fn segments(frame: &[u8], m: &VnetHdr) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let n = segment(frame, m, &mut buf, |s| out.push(s.to_vec())).expect("segments");
    assert_eq!(n, out.len());
    out
}

#[test]
fn tcpv4_super_frame_becomes_mss_sized_segments_with_valid_headers() {
    let f = tcp_frame(false, false, 3000, 0x19); // FIN|PSH|ACK
    let segs = segments(&f, &meta(VnetHdr::GSO_TCPV4, 1448));
    assert_eq!(segs.len(), 3);
    let (l3, l4, hdr) = (14, 34, 34 + 32);
    let mut payload = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let want = if i < 2 { 1448 } else { 3000 - 2 * 1448 };
        assert_eq!(s.len(), hdr + want, "segment {i}");
        assert_eq!(be16(s, l3 + 2) as usize, s.len() - l3, "IPv4 total length");
        assert_eq!(be16(s, l3 + 4), 0x1234 + i as u16, "IPv4 id");
        assert_eq!(
            csum_fold(csum_add(&s[l3..l4], 0)),
            0xffff,
            "IPv4 header checksum"
        );
        assert!(l4_ok(s, l3, false, 6), "TCP checksum of segment {i}");
        let seq = u32::from_be_bytes([s[l4 + 4], s[l4 + 5], s[l4 + 6], s[l4 + 7]]);
        assert_eq!(
            seq,
            0xffff_fc00u32.wrapping_add((i * 1448) as u32),
            "sequence wraps"
        );
        let flags = s[l4 + 13];
        if i < 2 {
            assert_eq!(
                flags, 0x10,
                "FIN/PSH only on the last, CWR only on the first"
            );
        } else {
            assert_eq!(flags, 0x19);
        }
        assert_eq!(&s[..l3 + 2], &f[..l3 + 2], "Ethernet header kept");
        payload.extend_from_slice(&s[hdr..]);
    }
    assert_eq!(payload, f[hdr..], "the payload, in order, nothing lost");
}

#[test]
fn tcpv6_behind_a_vlan_tag_with_ecn_flag() {
    let f = tcp_frame(true, true, 2000, 0x90); // CWR|ACK
    let segs = segments(&f, &meta(VnetHdr::GSO_TCPV6 | VnetHdr::GSO_ECN, 1000));
    assert_eq!(segs.len(), 2);
    let l3 = 18;
    for (i, s) in segs.iter().enumerate() {
        assert_eq!(
            be16(s, l3 + 4) as usize,
            s.len() - l3 - 40,
            "IPv6 payload length"
        );
        assert!(l4_ok(s, l3, true, 6), "TCP checksum of segment {i}");
        assert_eq!(
            s[l3 + 40 + 13] & TCP_CWR != 0,
            i == 0,
            "CWR on the first only"
        );
        assert_eq!(&s[12..16], &[0x81, 0x00, 0x00, 0x0a], "tag kept");
    }
}

#[test]
fn udp_l4_segmentation_makes_datagrams() {
    let mut f = vec![0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    f.extend_from_slice(&[0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0]);
    f.extend((0..2500).map(|i| i as u8));
    let segs = segments(&f, &meta(VnetHdr::GSO_UDP_L4, 1200));
    assert_eq!(segs.len(), 3);
    for s in &segs {
        assert_eq!(be16(s, 34 + 4) as usize, s.len() - 34, "UDP length");
        assert!(l4_ok(s, 14, false, 17), "UDP checksum");
        assert_eq!(csum_fold(csum_add(&s[14..34], 0)), 0xffff);
    }
}

#[test]
fn what_cannot_be_segmented_is_refused() {
    let f = tcp_frame(false, false, 100, 0x10);
    let mut buf = Vec::new();
    let mut none = |_: &[u8]| panic!("nothing emitted");
    assert_eq!(
        segment(&f, &meta(VnetHdr::GSO_UDP, 100), &mut buf, &mut none),
        Err(GsoError::Unsupported(VnetHdr::GSO_UDP))
    );
    assert_eq!(
        segment(&f, &meta(VnetHdr::GSO_TCPV4, 0), &mut buf, &mut none),
        Err(GsoError::Unsupported(VnetHdr::GSO_TCPV4))
    );
    assert!(matches!(
        segment(&f, &meta(VnetHdr::GSO_UDP_L4, 100), &mut buf, &mut none),
        Err(GsoError::Malformed(_))
    ));
    assert!(matches!(
        segment(
            &f[..40],
            &meta(VnetHdr::GSO_TCPV4, 100),
            &mut buf,
            &mut none
        ),
        Err(GsoError::Malformed(_))
    ));
}
