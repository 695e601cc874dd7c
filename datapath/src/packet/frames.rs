//! Test frames: a small builder that writes a frame header by header and
//! records, for every header, the key `parse_frame` must produce once that
//! header is complete ("stages"), so truncated prefixes can be checked.
//! Checksums are filled in by [`Fb::finish`], computed from scratch here
//! (independently of the code under test).

use super::key::{FieldBytes, FlowKey};
use super::parse::{parse_frame, ParseInfo, L3};
use ofproto::oxm::*;

/// The port test frames arrive on.
pub const IN_PORT: u32 = 7;

pub const MAC_A: [u8; 6] = [0x22, 0x22, 0x22, 0x22, 0x22, 0x22];
pub const MAC_B: [u8; 6] = [0x12, 0x11, 0x11, 0x11, 0x11, 0x11];
pub const IP_A: [u8; 4] = [192, 168, 10, 10];
pub const IP_B: [u8; 4] = [192, 168, 20, 20];
pub const IP6_A: [u8; 16] = [0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
pub const IP6_B: [u8; 16] = [0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20];

/// A key with `in_port` and the given (field, wire value) pairs.
pub fn key_of(fields: &[(u8, &[u8])]) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(IN_PORT);
    for (f, v) in fields {
        k.set_field_bytes(&FieldBytes::exact(*f, v).expect("field size"));
    }
    k
}

fn set(k: &mut FlowKey, f: u8, v: &[u8]) {
    k.set_field_bytes(&FieldBytes::exact(f, v).expect("field size"));
}

/// Frame under construction.
#[derive(Clone)]
pub struct Fb {
    b: Vec<u8>,
    key: FlowKey,
    stages: Vec<(usize, FlowKey)>,
    vlans: usize,
    mpls: usize,
    /// (offset, is IPv6) of the IP header.
    ip: Option<(usize, bool)>,
    /// (offset, protocol) of the L4 header.
    l4: Option<(usize, u8)>,
    /// Non-first fragment: L4 headers give no fields.
    later_frag: bool,
    pad: usize,
}

/// A finished frame.
#[derive(Clone, Debug)]
pub struct Built {
    pub bytes: Vec<u8>,
    /// (bytes needed, expected key once present), increasing.
    pub stages: Vec<(usize, FlowKey)>,
    /// The expected key of the whole frame.
    pub key: FlowKey,
}

impl Built {
    /// The key `parse_frame` must give for the first `n` bytes.
    pub fn key_at(&self, n: usize) -> FlowKey {
        let mut k = key_of(&[]);
        for (need, sk) in &self.stages {
            if *need <= n {
                k = *sk;
            }
        }
        k
    }
}

impl Fb {
    fn stage(&mut self) {
        self.stages.push((self.b.len(), self.key));
    }

    fn et(&mut self, et: u16) {
        let v = if et < 0x0600 { 0x05ff } else { et };
        set(&mut self.key, OFPXMT_OFB_ETH_TYPE, &v.to_be_bytes());
    }

    pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16) -> Fb {
        let mut fb = Fb {
            b: Vec::new(),
            key: key_of(&[]),
            stages: Vec::new(),
            vlans: 0,
            mpls: 0,
            ip: None,
            l4: None,
            later_frag: false,
            pad: 0,
        };
        fb.b.extend_from_slice(&dst);
        fb.b.extend_from_slice(&src);
        fb.b.extend_from_slice(&ethertype.to_be_bytes());
        set(&mut fb.key, OFPXMT_OFB_ETH_DST, &dst);
        set(&mut fb.key, OFPXMT_OFB_ETH_SRC, &src);
        fb.et(ethertype);
        fb.stage();
        fb
    }

    /// A VLAN tag's TCI and the ethertype after it (the TPID was the
    /// previous ethertype).
    pub fn vlan(mut self, tci: u16, next: u16) -> Fb {
        self.b.extend_from_slice(&tci.to_be_bytes());
        self.b.extend_from_slice(&next.to_be_bytes());
        if self.vlans == 0 {
            set(
                &mut self.key,
                OFPXMT_OFB_VLAN_VID,
                &((tci & 0xfff) | OFPVID_PRESENT).to_be_bytes(),
            );
            set(&mut self.key, OFPXMT_OFB_VLAN_PCP, &[(tci >> 13) as u8]);
        }
        self.vlans += 1;
        self.et(next);
        self.stage();
        self
    }

    pub fn arp(mut self, op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Fb {
        self.b.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
        self.b.extend_from_slice(&op.to_be_bytes());
        self.b.extend_from_slice(&sha);
        self.b.extend_from_slice(&spa);
        self.b.extend_from_slice(&tha);
        self.b.extend_from_slice(&tpa);
        set(&mut self.key, OFPXMT_OFB_ARP_OP, &op.to_be_bytes());
        set(&mut self.key, OFPXMT_OFB_ARP_SHA, &sha);
        set(&mut self.key, OFPXMT_OFB_ARP_SPA, &spa);
        set(&mut self.key, OFPXMT_OFB_ARP_THA, &tha);
        set(&mut self.key, OFPXMT_OFB_ARP_TPA, &tpa);
        self.stage();
        self
    }

    /// Bytes that give no fields (customer frames, payload, odd headers).
    pub fn raw(mut self, bytes: &[u8]) -> Fb {
        self.b.extend_from_slice(bytes);
        self
    }

    /// Ethernet padding after the IP datagram.
    pub fn pad(mut self, n: usize) -> Fb {
        self.b.resize(self.b.len() + n, 0);
        self.pad += n;
        self
    }

    /// IPv4 header; `frag` is the flags+offset word, `opts` a multiple of 4.
    #[allow(clippy::too_many_arguments)]
    pub fn ipv4(
        mut self,
        tos: u8,
        ttl: u8,
        proto: u8,
        src: [u8; 4],
        dst: [u8; 4],
        frag: u16,
        opts: &[u8],
    ) -> Fb {
        assert_eq!(opts.len() % 4, 0);
        let l3 = self.b.len();
        let ihl = (20 + opts.len()) / 4;
        self.b.push(0x40 | ihl as u8);
        self.b.push(tos);
        self.b.extend_from_slice(&[0, 0, 0x12, 0x34]); // total length (later), id
        self.b.extend_from_slice(&frag.to_be_bytes());
        self.b.extend_from_slice(&[ttl, proto, 0, 0]);
        self.b.extend_from_slice(&src);
        self.b.extend_from_slice(&dst);
        self.b.extend_from_slice(opts);
        set(&mut self.key, OFPXMT_OFB_IP_DSCP, &[tos >> 2]);
        set(&mut self.key, OFPXMT_OFB_IP_ECN, &[tos & 3]);
        set(&mut self.key, OFPXMT_OFB_IP_PROTO, &[proto]);
        set(&mut self.key, OFPXMT_OFB_IPV4_SRC, &src);
        set(&mut self.key, OFPXMT_OFB_IPV4_DST, &dst);
        self.ip = Some((l3, false));
        self.later_frag = frag & 0x1fff != 0;
        self.stage();
        self
    }

    /// IPv6 header; `exthdr` is the expected `ipv6_exthdr` once it is complete.
    #[allow(clippy::too_many_arguments)]
    pub fn ipv6(
        mut self,
        tc: u8,
        flabel: u32,
        nxt: u8,
        hlim: u8,
        src: [u8; 16],
        dst: [u8; 16],
        exthdr: u16,
    ) -> Fb {
        let l3 = self.b.len();
        let w = (6u32 << 28) | (u32::from(tc) << 20) | flabel;
        self.b.extend_from_slice(&w.to_be_bytes());
        self.b.extend_from_slice(&[0, 0, nxt, hlim]);
        self.b.extend_from_slice(&src);
        self.b.extend_from_slice(&dst);
        set(&mut self.key, OFPXMT_OFB_IP_DSCP, &[tc >> 2]);
        set(&mut self.key, OFPXMT_OFB_IP_ECN, &[tc & 3]);
        set(&mut self.key, OFPXMT_OFB_IPV6_FLABEL, &flabel.to_be_bytes());
        set(&mut self.key, OFPXMT_OFB_IPV6_SRC, &src);
        set(&mut self.key, OFPXMT_OFB_IPV6_DST, &dst);
        set(&mut self.key, OFPXMT_OFB_IP_PROTO, &[nxt]);
        set(&mut self.key, OFPXMT_OFB_IPV6_EXTHDR, &exthdr.to_be_bytes());
        self.ip = Some((l3, true));
        self.stage();
        self
    }

    /// An IPv6 extension header: hop-by-hop (0), routing (43), destination
    /// options (60) of `8 * (units + 1)` bytes, AH (51) of `4 * (units + 2)`.
    pub fn ext6(mut self, kind: u8, next: u8, units: u8, exthdr: u16) -> Fb {
        let len = if kind == 51 {
            4 * (usize::from(units) + 2)
        } else {
            8 * (usize::from(units) + 1)
        };
        let start = self.b.len();
        self.b.resize(start + len, 0);
        self.b[start] = next;
        self.b[start + 1] = units;
        set(&mut self.key, OFPXMT_OFB_IP_PROTO, &[next]);
        set(&mut self.key, OFPXMT_OFB_IPV6_EXTHDR, &exthdr.to_be_bytes());
        self.stage();
        self
    }

    /// IPv6 fragment header (offset in 8-byte units).
    pub fn frag6(mut self, next: u8, offset: u16, more: bool, exthdr: u16) -> Fb {
        self.b.extend_from_slice(&[next, 0]);
        self.b
            .extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
        self.b.extend_from_slice(&[0, 0, 0, 1]);
        set(&mut self.key, OFPXMT_OFB_IP_PROTO, &[next]);
        set(&mut self.key, OFPXMT_OFB_IPV6_EXTHDR, &exthdr.to_be_bytes());
        self.later_frag = offset != 0;
        self.stage();
        self
    }

    fn l4_ports(mut self, proto: u8, hdr_len: usize, sp: u16, dp: u16, fields: (u8, u8)) -> Fb {
        let l4 = self.b.len();
        self.b.extend_from_slice(&sp.to_be_bytes());
        self.b.extend_from_slice(&dp.to_be_bytes());
        self.b.resize(l4 + hdr_len, 0);
        self.l4 = Some((l4, proto));
        if !self.later_frag {
            set(&mut self.key, fields.0, &sp.to_be_bytes());
            set(&mut self.key, fields.1, &dp.to_be_bytes());
            self.stage();
        }
        self
    }

    pub fn tcp(self, sp: u16, dp: u16) -> Fb {
        let mut fb = self.l4_ports(6, 20, sp, dp, (OFPXMT_OFB_TCP_SRC, OFPXMT_OFB_TCP_DST));
        let l4 = fb.l4.unwrap().0;
        fb.b[l4 + 12] = 0x50; // data offset 5
        fb.b[l4 + 13] = 0x18; // PSH|ACK
        fb.b[l4 + 14] = 0x20; // window
        fb
    }

    pub fn udp(self, sp: u16, dp: u16) -> Fb {
        self.l4_ports(17, 8, sp, dp, (OFPXMT_OFB_UDP_SRC, OFPXMT_OFB_UDP_DST))
    }

    pub fn sctp(self, sp: u16, dp: u16) -> Fb {
        let mut fb = self.l4_ports(132, 12, sp, dp, (OFPXMT_OFB_SCTP_SRC, OFPXMT_OFB_SCTP_DST));
        let l4 = fb.l4.unwrap().0;
        fb.b[l4 + 4..l4 + 8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // verification tag
        fb
    }

    /// ICMPv4 (`v6` false) or ICMPv6 header: type, code, checksum.
    pub fn icmp(mut self, v6: bool, ty: u8, code: u8) -> Fb {
        let l4 = self.b.len();
        self.b.extend_from_slice(&[ty, code, 0, 0]);
        self.l4 = Some((l4, if v6 { 58 } else { 1 }));
        if !self.later_frag {
            let (ft, fc) = if v6 {
                (OFPXMT_OFB_ICMPV6_TYPE, OFPXMT_OFB_ICMPV6_CODE)
            } else {
                (OFPXMT_OFB_ICMPV4_TYPE, OFPXMT_OFB_ICMPV4_CODE)
            };
            set(&mut self.key, ft, &[ty]);
            set(&mut self.key, fc, &[code]);
            self.stage();
        }
        self
    }

    /// An NS (135) or NA (136) with code 0 after `icmp(true, ty, 0)`:
    /// reserved/flags word, target, then options `(type, addr)`.
    pub fn nd(mut self, target: [u8; 16], opts: &[(u8, [u8; 6])]) -> Fb {
        let l4 = self.l4.expect("icmp first").0;
        let ty = self.b[l4];
        self.b.extend_from_slice(&[0x60, 0, 0, 0]);
        self.b.extend_from_slice(&target);
        set(&mut self.key, OFPXMT_OFB_IPV6_ND_TARGET, &target);
        self.stage();
        let mut found = false;
        for (t, addr) in opts {
            self.b.extend_from_slice(&[*t, 1]);
            self.b.extend_from_slice(addr);
            let want = if ty == 135 { 1 } else { 2 };
            if *t == want && !found {
                found = true;
                let f = if ty == 135 {
                    OFPXMT_OFB_IPV6_ND_SLL
                } else {
                    OFPXMT_OFB_IPV6_ND_TLL
                };
                set(&mut self.key, f, addr);
                self.stage();
            }
        }
        self
    }

    pub fn mpls(mut self, label: u32, tc: u8, bos: bool, ttl: u8) -> Fb {
        let lse = (label << 12) | (u32::from(tc) << 9) | (u32::from(bos) << 8) | u32::from(ttl);
        self.b.extend_from_slice(&lse.to_be_bytes());
        if self.mpls == 0 {
            set(&mut self.key, OFPXMT_OFB_MPLS_LABEL, &label.to_be_bytes());
            set(&mut self.key, OFPXMT_OFB_MPLS_TC, &[tc]);
            set(&mut self.key, OFPXMT_OFB_MPLS_BOS, &[u8::from(bos)]);
            self.stage();
        }
        self.mpls += 1;
        self
    }

    /// 802.1ah I-TAG (PCP, I-SID); the customer frame follows as `raw`.
    pub fn itag(mut self, pcp: u8, isid: u32) -> Fb {
        let w = (u32::from(pcp) << 29) | isid;
        self.b.extend_from_slice(&w.to_be_bytes());
        set(&mut self.key, OFPXMT_OFB_PBB_ISID, &isid.to_be_bytes()[1..]);
        self.stage();
        self
    }

    /// Fills in IP lengths and every checksum.
    pub fn finish(mut self) -> Built {
        let end = self.b.len() - self.pad;
        if let Some((l3, v6)) = self.ip {
            let b = &mut self.b;
            if v6 {
                let plen = (end - l3 - 40) as u16;
                b[l3 + 4..l3 + 6].copy_from_slice(&plen.to_be_bytes());
            } else {
                let tot = (end - l3) as u16;
                b[l3 + 2..l3 + 4].copy_from_slice(&tot.to_be_bytes());
                let hl = usize::from(b[l3] & 0xf) * 4;
                let c = naive_csum(&[&b[l3..l3 + 10], &b[l3 + 12..l3 + hl]]);
                b[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
            }
            if let Some((l4, proto)) = self.l4 {
                if let Some(at) = csum_field(proto) {
                    b[l4 + at..l4 + at + 2].fill(0);
                    if proto == 132 {
                        let c = crc32c_naive(&b[l4..end]);
                        b[l4 + 8..l4 + 12].copy_from_slice(&c.to_le_bytes());
                    } else {
                        let c = l4_csum(b, l3, v6, l4, end, proto);
                        b[l4 + at..l4 + at + 2].copy_from_slice(&c.to_be_bytes());
                    }
                }
            }
        }
        let key = self.key;
        Built {
            bytes: self.b,
            stages: self.stages,
            key,
        }
    }
}

/// Where the checksum of an L4 protocol sits in its header (SCTP: its CRC).
fn csum_field(proto: u8) -> Option<usize> {
    match proto {
        6 => Some(16),
        17 => Some(6),
        1 | 58 => Some(2),
        132 => Some(8),
        _ => None,
    }
}

/// RFC 1071 checksum of the concatenated parts (each even-length except
/// possibly the last), the plain way.
pub fn naive_csum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hi = u32::from(bytes[i]) << 8;
        let lo = bytes.get(i + 1).map_or(0, |&x| u32::from(x));
        sum += hi | lo;
        i += 2;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The TCP/UDP/ICMP/ICMPv6 checksum of `b[l4..end]` with its checksum
/// field taken as 0 (UDP's 0 result written as 0xffff).
pub fn l4_csum(b: &[u8], l3: usize, v6: bool, l4: usize, end: usize, proto: u8) -> u16 {
    let at = csum_field(proto).unwrap();
    let mut seg = b[l4..end].to_vec();
    seg[at] = 0;
    seg[at + 1] = 0;
    let len = (end - l4) as u32;
    let c = if proto == 1 {
        naive_csum(&[&seg])
    } else if v6 {
        let mut ph = Vec::new();
        ph.extend_from_slice(&b[l3 + 8..l3 + 40]);
        ph.extend_from_slice(&len.to_be_bytes());
        ph.extend_from_slice(&[0, 0, 0, proto]);
        naive_csum(&[&ph, &seg])
    } else {
        let mut ph = Vec::new();
        ph.extend_from_slice(&b[l3 + 12..l3 + 20]);
        ph.extend_from_slice(&[0, proto]);
        ph.extend_from_slice(&(len as u16).to_be_bytes());
        naive_csum(&[&ph, &seg])
    };
    if proto == 17 && c == 0 {
        0xffff
    } else {
        c
    }
}

/// Bitwise CRC32c, independent of the table-driven one under test.
pub fn crc32c_naive(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Recomputes every checksum of `frame` from scratch and compares with the
/// stored ones: IPv4 header, TCP/UDP/ICMP/ICMPv6 (not for fragments or
/// IPv6 with a routing header), SCTP CRC32c, and an IPv4 header right
/// after an MPLS stack's bottom label.
pub fn verify_checksums(frame: &[u8]) -> Result<(), String> {
    let mut k = FlowKey::ZERO;
    let info = parse_frame(frame, 0, &mut k);
    let l3 = info.l3_off as usize;
    let v4_header = |l3: usize| -> Result<(), String> {
        let hl = usize::from(frame[l3] & 0xf) * 4;
        let want = naive_csum(&[&frame[l3..l3 + 10], &frame[l3 + 12..l3 + hl]]);
        let got = u16::from_be_bytes([frame[l3 + 10], frame[l3 + 11]]);
        if want != got {
            return Err(format!("IPv4 header checksum {got:#06x}, want {want:#06x}"));
        }
        Ok(())
    };
    let v6 = match info.l3 {
        L3::Ipv4 => {
            v4_header(l3)?;
            false
        }
        L3::Ipv6 => true,
        L3::Mpls => {
            let bos = l3 + 4 * (info.n_mpls as usize - 1);
            let p = bos + 4;
            if frame[bos + 2] & 1 == 1 && frame.len() >= p + 20 && frame[p] == 0x45 {
                v4_header(p)?;
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    if info.has(ParseInfo::FLAG_FRAG) || info.has(ParseInfo::FLAG_ROUTING) {
        return Ok(());
    }
    let Some(l4) = info.l4() else { return Ok(()) };
    let end = info.ip_end as usize;
    let proto = info.ip_proto;
    let Some(at) = csum_field(proto) else {
        return Ok(());
    };
    if proto == 132 {
        let mut seg = frame[l4..end].to_vec();
        seg[8..12].fill(0);
        let want = crc32c_naive(&seg);
        let got =
            u32::from_le_bytes([frame[l4 + 8], frame[l4 + 9], frame[l4 + 10], frame[l4 + 11]]);
        return if want == got {
            Ok(())
        } else {
            Err(format!("SCTP CRC {got:#010x}, want {want:#010x}"))
        };
    }
    let got = u16::from_be_bytes([frame[l4 + at], frame[l4 + at + 1]]);
    if proto == 17 && got == 0 && !v6 {
        return Ok(()); // no checksum
    }
    let want = l4_csum(frame, l3, v6, l4, end, proto);
    if want != got {
        return Err(format!(
            "L4 (proto {proto}) checksum {got:#06x}, want {want:#06x}"
        ));
    }
    Ok(())
}

/// Every kind of frame the tests use, by name.
pub fn catalog() -> Vec<(&'static str, Built)> {
    use super::parse::exthdr::*;
    let payload: Vec<u8> = (1..=31).collect();
    vec![
        (
            "eth_unknown",
            Fb::eth(MAC_A, MAC_B, 0x1234).raw(&[1, 2, 3, 4]).finish(),
        ),
        (
            "eth_8023_len",
            Fb::eth(MAC_A, MAC_B, 46).raw(&[0xaa; 46]).finish(),
        ),
        (
            "arp_request",
            Fb::eth(MAC_A, MAC_B, 0x0806)
                .arp(1, MAC_B, IP_A, [0; 6], IP_B)
                .raw(&[0; 18])
                .finish(),
        ),
        (
            "vlan_arp",
            Fb::eth([0xff; 6], MAC_B, 0x8100)
                .vlan(0x6064, 0x0806)
                .arp(2, MAC_B, IP_A, MAC_A, IP_B)
                .finish(),
        ),
        (
            "ipv4_tcp",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(32, 64, 6, IP_A, IP_B, 0x4000, &[])
                .tcp(11111, 2222)
                .raw(&payload)
                .finish(),
        ),
        (
            "vlan_ipv4_tcp",
            Fb::eth(MAC_A, MAC_B, 0x8100)
                .vlan(0x6064, 0x0800)
                .ipv4(0x23, 64, 6, IP_A, IP_B, 0, &[])
                .tcp(80, 40000)
                .raw(&payload)
                .finish(),
        ),
        (
            "qinq_ipv4_udp",
            Fb::eth(MAC_A, MAC_B, 0x88a8)
                .vlan(0x200a, 0x8100)
                .vlan(0x6064, 0x0800)
                .ipv4(0, 17, 17, IP_A, IP_B, 0, &[])
                .udp(5353, 53)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv4_udp_padded",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 17, IP_A, IP_B, 0, &[])
                .udp(1000, 2000)
                .raw(&[9, 9])
                .pad(16)
                .finish(),
        ),
        ("ipv4_udp_nocsum", {
            let mut b = Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 17, IP_A, IP_B, 0, &[])
                .udp(1000, 2000)
                .raw(&payload)
                .finish();
            b.bytes[34 + 6] = 0;
            b.bytes[34 + 7] = 0;
            b
        }),
        (
            "ipv4_opts_udp",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0xb8, 1, 17, IP_A, IP_B, 0, &[0x94, 4, 0, 0, 1, 1, 1, 0])
                .udp(67, 68)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv4_sctp",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 132, IP_A, IP_B, 0, &[])
                .sctp(3868, 3869)
                .raw(&payload)
                .pad(2)
                .finish(),
        ),
        (
            "ipv4_icmp",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 1, IP_A, IP_B, 0, &[])
                .icmp(false, 8, 0)
                .raw(&[0, 1, 0, 2])
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv4_first_frag",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 17, IP_A, IP_B, 0x2000, &[])
                .udp(4000, 4001)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv4_later_frag",
            Fb::eth(MAC_A, MAC_B, 0x0800)
                .ipv4(0, 64, 17, IP_A, IP_B, 0x0005, &[])
                .udp(4000, 4001)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv6_tcp",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(32, 100, 6, 64, IP6_A, IP6_B, 0)
                .tcp(11111, 2222)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv6_hop_dest_udp",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0xff, 0xfffff, 0, 64, IP6_A, IP6_B, 0)
                .ext6(0, 60, 0, HOP)
                .ext6(60, 17, 1, HOP | DEST)
                .udp(546, 547)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv6_full_chain_sctp",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 1, 0, 64, IP6_A, IP6_B, 0)
                .ext6(0, 60, 0, HOP)
                .ext6(60, 43, 0, HOP | DEST)
                .ext6(43, 44, 0, HOP | DEST | ROUTER)
                .frag6(51, 0, true, HOP | DEST | ROUTER | FRAG)
                .ext6(51, 60, 1, HOP | DEST | ROUTER | FRAG | AUTH)
                .ext6(60, 132, 0, HOP | DEST | ROUTER | FRAG | AUTH)
                .sctp(1, 2)
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv6_unseq_unrep",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 43, 64, IP6_A, IP6_B, 0)
                .ext6(43, 0, 0, ROUTER)
                .ext6(0, 43, 0, ROUTER | HOP | UNSEQ)
                .ext6(43, 59, 0, ROUTER | HOP | UNSEQ | UNREP | NONEXT)
                .raw(&[0; 8])
                .finish(),
        ),
        (
            "ipv6_three_dest",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 60, 64, IP6_A, IP6_B, 0)
                .ext6(60, 60, 0, DEST)
                .ext6(60, 60, 0, DEST)
                .ext6(60, 17, 0, DEST | UNREP)
                .udp(1, 2)
                .finish(),
        ),
        (
            "ipv6_esp",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 0, 64, IP6_A, IP6_B, 0)
                .ext6(0, 50, 0, HOP | ESP)
                .raw(&[0, 0, 1, 0, 0, 0, 0, 1])
                .raw(&payload)
                .finish(),
        ),
        (
            "ipv6_nonext",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 59, 64, IP6_A, IP6_B, NONEXT)
                .finish(),
        ),
        (
            "ipv6_later_frag",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 44, 64, IP6_A, IP6_B, 0)
                .frag6(6, 100, false, FRAG)
                .tcp(1, 2)
                .finish(),
        ),
        (
            "ipv6_icmp_echo",
            Fb::eth(MAC_A, MAC_B, 0x86dd)
                .ipv6(0, 0, 58, 255, IP6_A, IP6_B, 0)
                .icmp(true, 128, 0)
                .raw(&[0, 1, 0, 1])
                .raw(&payload)
                .finish(),
        ),
        (
            "nd_ns_sll",
            Fb::eth([0x33, 0x33, 0xff, 0, 0, 0x20], MAC_B, 0x86dd)
                .ipv6(0, 0, 58, 255, IP6_A, IP6_B, 0)
                .icmp(true, 135, 0)
                .nd(IP6_B, &[(1, MAC_B)])
                .finish(),
        ),
        (
            "nd_na_tll",
            Fb::eth(MAC_B, MAC_A, 0x86dd)
                .ipv6(0, 0, 58, 255, IP6_B, IP6_A, 0)
                .icmp(true, 136, 0)
                .nd(IP6_B, &[(14, [1, 2, 3, 4, 5, 6]), (2, MAC_A)])
                .finish(),
        ),
        (
            "vlan_nd_ns_no_opt",
            Fb::eth(MAC_A, MAC_B, 0x8100)
                .vlan(10, 0x86dd)
                .ipv6(0, 0, 58, 255, IP6_A, IP6_B, 0)
                .icmp(true, 135, 0)
                .nd(IP6_B, &[])
                .finish(),
        ),
        (
            "mpls_ipv4_tcp",
            Fb::eth(MAC_A, MAC_B, 0x8847)
                .mpls(100, 3, true, 64)
                .raw(&ipv4_tcp_inner(32))
                .finish(),
        ),
        (
            "mpls2_ipv6",
            Fb::eth(MAC_A, MAC_B, 0x8848)
                .mpls(0xfffff, 7, false, 200)
                .mpls(16, 0, true, 100)
                .raw(&[0x60, 0, 0, 0, 0, 0, 59, 33])
                .raw(&[0; 32])
                .finish(),
        ),
        (
            "pbb_btag",
            Fb::eth(MAC_A, MAC_B, 0x88a8)
                .vlan(10, 0x88e7)
                .itag(0, 100)
                .raw(&customer_frame())
                .finish(),
        ),
        (
            "pbb",
            Fb::eth(MAC_A, MAC_B, 0x88e7)
                .itag(5, 0xabcdef)
                .raw(&customer_frame())
                .finish(),
        ),
    ]
}

/// An IPv4/TCP packet (no Ethernet) with valid checksums, TTL `ttl`.
pub fn ipv4_tcp_inner(ttl: u8) -> Vec<u8> {
    let b = Fb::eth(MAC_A, MAC_B, 0x0800)
        .ipv4(32, ttl, 6, IP_A, IP_B, 0, &[])
        .tcp(11111, 2222)
        .raw(&[1, 2, 3])
        .finish();
    b.bytes[14..].to_vec()
}

/// The customer frame inside the PBB examples: eth/svlan/vlan/IPv4/TCP.
pub fn customer_frame() -> Vec<u8> {
    Fb::eth(MAC_A, MAC_B, 0x88a8)
        .vlan(10, 0x8100)
        .vlan(0x6064, 0x0800)
        .ipv4(32, 64, 6, IP_A, IP_B, 0, &[])
        .tcp(11111, 2222)
        .finish()
        .bytes
}
