//! The router's link-layer half: a host asking for its tenant gateway's MAC
//! (an ARP request, or an IPv6 neighbor solicitation) gets the answer from
//! the controller, sent back out the port it asked on with PACKET_OUT. The
//! reply mirrors the request's 802.1Q tag, so a host on a trunk hears it on
//! the VLAN it asked on.
//!
//! The plan sends exactly these requests to CONTROLLER; anything else that
//! reaches here is ignored.

use super::ether::{pad_to_min, EthHeader, ETHERTYPE_ARP, ETHERTYPE_IPV6};
use ofproto::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ARP over Ethernet for IPv4 (RFC 826).
const ARP_LEN: usize = 28;
const ARPHRD_ETHER: u16 = 1;
const ARPOP_REQUEST: u16 = 1;
const ARPOP_REPLY: u16 = 2;

// IPv6 and ICMPv6 neighbor discovery (RFC 8200, RFC 4861).
const IPV6_HEADER_LEN: usize = 40;
const IPPROTO_ICMPV6: u8 = 58;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// Type (1) + code (1) + checksum (2) + reserved/flags (4) + target (16).
const ND_MSG_LEN: usize = 24;
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// Router, Solicited, Override flags of a neighbor advertisement.
const NA_FLAG_ROUTER: u8 = 0x80;
const NA_FLAG_SOLICITED: u8 = 0x40;
const NA_FLAG_OVERRIDE: u8 = 0x20;
/// Hop limit of every ND message; a receiver drops any other.
const ND_HOP_LIMIT: u8 = 255;

/// What was asked and what we answered, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub frame: Vec<u8>,
    pub asked_for: IpAddr,
    pub asker: MacAddr,
    pub gateway_mac: MacAddr,
}

/// The reply to `frame` if it asks for a gateway address `gateway_mac`
/// knows (`desc.gateway_mac`), else `None`.
pub fn answer(frame: &[u8], gateway_mac: impl Fn(IpAddr) -> Option<MacAddr>) -> Option<Answer> {
    let (eth, payload) = EthHeader::parse(frame)?;
    match eth.ethertype {
        ETHERTYPE_ARP => arp_reply(&eth, payload, &gateway_mac),
        ETHERTYPE_IPV6 => neighbor_advert(&eth, payload, &gateway_mac),
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn arp_reply(
    eth: &EthHeader,
    arp: &[u8],
    gateway_mac: &impl Fn(IpAddr) -> Option<MacAddr>,
) -> Option<Answer> {
    if arp.len() < ARP_LEN
        || be16(arp, 0) != ARPHRD_ETHER
        || be16(arp, 2) != super::ether::ETHERTYPE_IPV4
        || arp[4] != 6
        || arp[5] != 4
        || be16(arp, 6) != ARPOP_REQUEST
    {
        return None;
    }
    let sha = &arp[8..14];
    let spa = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
    let tpa = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
    if spa == tpa {
        // A gratuitous ARP announces, it does not ask.
        return None;
    }
    let gw = gateway_mac(IpAddr::V4(tpa))?;
    let mut asker = [0u8; 6];
    asker.copy_from_slice(sha);
    let reply_eth = EthHeader {
        dst: MacAddr(asker),
        src: gw,
        vlan_tci: eth.vlan_tci,
        ethertype: ETHERTYPE_ARP,
    };
    let mut f = Vec::with_capacity(reply_eth.wire_len() + ARP_LEN);
    reply_eth.emit(&mut f);
    f.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
    f.extend_from_slice(&super::ether::ETHERTYPE_IPV4.to_be_bytes());
    f.extend_from_slice(&[6, 4]);
    f.extend_from_slice(&ARPOP_REPLY.to_be_bytes());
    f.extend_from_slice(&gw.0);
    f.extend_from_slice(&tpa.octets());
    f.extend_from_slice(sha);
    f.extend_from_slice(&spa.octets());
    pad_to_min(&mut f);
    Some(Answer {
        frame: f,
        asked_for: IpAddr::V4(tpa),
        asker: MacAddr(asker),
        gateway_mac: gw,
    })
}

fn v6_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(a)
}

/// The ICMPv6 checksum: one's complement sum over the pseudo-header (source,
/// destination, upper-layer length, next header) and the message.
pub fn icmpv6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], 0])
            };
            sum += u32::from(w);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(msg.len() as u32).to_be_bytes());
    add(&[0, 0, 0, IPPROTO_ICMPV6]);
    add(msg);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn neighbor_advert(
    eth: &EthHeader,
    ip: &[u8],
    gateway_mac: &impl Fn(IpAddr) -> Option<MacAddr>,
) -> Option<Answer> {
    // A solicitation with extension headers before ICMPv6 is not something
    // a host sends; only the plain layout is answered.
    if ip.len() < IPV6_HEADER_LEN + ND_MSG_LEN
        || ip[0] >> 4 != 6
        || ip[6] != IPPROTO_ICMPV6
        || ip[7] != ND_HOP_LIMIT
    {
        return None;
    }
    let icmp = &ip[IPV6_HEADER_LEN..];
    if icmp[0] != ND_NEIGHBOR_SOLICIT || icmp[1] != 0 {
        return None;
    }
    let src = v6_at(ip, 8);
    let target = v6_at(icmp, 8);
    let gw = gateway_mac(IpAddr::V6(target))?;
    // Duplicate address detection asks from "::": the answer goes to all
    // nodes and is not "solicited" (RFC 4861 7.2.4).
    let (ip_dst, eth_dst, solicited) = if src.is_unspecified() {
        (
            Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
            MacAddr([0x33, 0x33, 0, 0, 0, 1]),
            0,
        )
    } else {
        (src, eth.src, NA_FLAG_SOLICITED)
    };
    let mut msg = Vec::with_capacity(ND_MSG_LEN + 8);
    msg.extend_from_slice(&[ND_NEIGHBOR_ADVERT, 0, 0, 0]);
    msg.extend_from_slice(&[NA_FLAG_ROUTER | solicited | NA_FLAG_OVERRIDE, 0, 0, 0]);
    msg.extend_from_slice(&target.octets());
    msg.extend_from_slice(&[ND_OPT_TARGET_LINKADDR, 1]);
    msg.extend_from_slice(&gw.0);
    let c = icmpv6_checksum(&target, &ip_dst, &msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());

    let reply_eth = EthHeader {
        dst: eth_dst,
        src: gw,
        vlan_tci: eth.vlan_tci,
        ethertype: ETHERTYPE_IPV6,
    };
    let mut f = Vec::with_capacity(reply_eth.wire_len() + IPV6_HEADER_LEN + msg.len());
    reply_eth.emit(&mut f);
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    f.extend_from_slice(&[IPPROTO_ICMPV6, ND_HOP_LIMIT]);
    f.extend_from_slice(&target.octets());
    f.extend_from_slice(&ip_dst.octets());
    f.extend_from_slice(&msg);
    Some(Answer {
        frame: f,
        asked_for: IpAddr::V6(target),
        asker: eth.src,
        gateway_mac: gw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 0x11]);
    const GW: MacAddr = MacAddr([0x02, 0x74, 0x66, 0, 0, 10]);
    const GW4: Ipv4Addr = Ipv4Addr::new(10, 0, 10, 1);
    const HOST4: Ipv4Addr = Ipv4Addr::new(10, 0, 10, 11);

    fn gw6() -> Ipv6Addr {
        "fd00:10::1".parse().unwrap()
    }

    fn lookup(ip: IpAddr) -> Option<MacAddr> {
        (ip == IpAddr::V4(GW4) || ip == IpAddr::V6(gw6())).then_some(GW)
    }

    fn arp_request(tci: Option<u16>, tpa: Ipv4Addr) -> Vec<u8> {
        let eth = EthHeader {
            dst: MacAddr::BROADCAST,
            src: HOST,
            vlan_tci: tci,
            ethertype: ETHERTYPE_ARP,
        };
        let mut f = Vec::new();
        eth.emit(&mut f);
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&HOST.0);
        f.extend_from_slice(&HOST4.octets());
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&tpa.octets());
        f
    }

    #[test]
    fn arp_request_for_the_gateway_gets_a_reply_from_the_gateway_mac() {
        let a = answer(&arp_request(None, GW4), lookup).expect("answered");
        let f = &a.frame;
        assert_eq!(f.len(), 60, "padded to the Ethernet minimum");
        assert_eq!(&f[0..6], &HOST.0, "to the asker");
        assert_eq!(&f[6..12], &GW.0, "from the gateway");
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        let arp = &f[14..42];
        assert_eq!(&arp[0..8], &[0, 1, 8, 0, 6, 4, 0, 2], "an ARP reply");
        assert_eq!(&arp[8..14], &GW.0, "sha");
        assert_eq!(&arp[14..18], &GW4.octets(), "spa");
        assert_eq!(&arp[18..24], &HOST.0, "tha");
        assert_eq!(&arp[24..28], &HOST4.octets(), "tpa");
        assert_eq!(a.asked_for, IpAddr::V4(GW4));
    }

    #[test]
    fn arp_reply_mirrors_the_requests_vlan_tag() {
        let a = answer(&arp_request(Some(0x6014), GW4), lookup).expect("answered");
        let (eth, payload) = EthHeader::parse(&a.frame).unwrap();
        assert_eq!(eth.vlan_tci, Some(0x6014), "same PCP and VID");
        assert_eq!(eth.ethertype, ETHERTYPE_ARP);
        assert_eq!(be16(payload, 6), ARPOP_REPLY);
    }

    #[test]
    fn other_arp_is_not_answered() {
        assert!(answer(&arp_request(None, Ipv4Addr::new(10, 0, 10, 12)), lookup).is_none());
        let mut reply = arp_request(None, GW4);
        reply[21] = 2;
        assert!(answer(&reply, lookup).is_none(), "a reply is not a request");
        assert!(
            answer(&arp_request(None, GW4)[..30], lookup).is_none(),
            "truncated"
        );
    }

    fn neighbor_solicit(src: Ipv6Addr, tci: Option<u16>, target: Ipv6Addr) -> Vec<u8> {
        let eth = EthHeader {
            dst: MacAddr([0x33, 0x33, 0xff, 0, 0, 1]),
            src: HOST,
            vlan_tci: tci,
            ethertype: ETHERTYPE_IPV6,
        };
        let dst: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
        let mut msg = vec![ND_NEIGHBOR_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&target.octets());
        msg.extend_from_slice(&[1, 1]);
        msg.extend_from_slice(&HOST.0);
        let c = icmpv6_checksum(&src, &dst, &msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let mut f = Vec::new();
        eth.emit(&mut f);
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        f.extend_from_slice(&[IPPROTO_ICMPV6, 255]);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(&msg);
        f
    }

    #[test]
    fn neighbor_solicitation_for_the_gateway_gets_a_router_advert_with_valid_checksum() {
        let host6: Ipv6Addr = "fd00:10::11".parse().unwrap();
        let a = answer(&neighbor_solicit(host6, Some(10), gw6()), lookup).expect("answered");
        let (eth, ip) = EthHeader::parse(&a.frame).unwrap();
        assert_eq!((eth.dst, eth.src, eth.vlan_tci), (HOST, GW, Some(10)));
        assert_eq!(ip[6], IPPROTO_ICMPV6);
        assert_eq!(ip[7], 255, "ND hop limit");
        assert_eq!(v6_at(ip, 8), gw6(), "from the target address");
        assert_eq!(v6_at(ip, 24), host6, "to the asker");
        let icmp = &ip[IPV6_HEADER_LEN..];
        assert_eq!(usize::from(be16(ip, 4)), icmp.len());
        assert_eq!(icmp[0], ND_NEIGHBOR_ADVERT);
        assert_eq!(
            icmp[4],
            NA_FLAG_ROUTER | NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE
        );
        assert_eq!(v6_at(icmp, 8), gw6());
        assert_eq!(&icmp[24..26], &[ND_OPT_TARGET_LINKADDR, 1]);
        assert_eq!(&icmp[26..32], &GW.0);
        // Summing a message that holds its checksum gives zero.
        assert_eq!(icmpv6_checksum(&gw6(), &host6, icmp), 0);
    }

    #[test]
    fn duplicate_address_detection_is_answered_to_all_nodes_unsolicited() {
        let a = answer(
            &neighbor_solicit(Ipv6Addr::UNSPECIFIED, None, gw6()),
            lookup,
        )
        .expect("answered");
        let (eth, ip) = EthHeader::parse(&a.frame).unwrap();
        assert_eq!(eth.dst, MacAddr([0x33, 0x33, 0, 0, 0, 1]));
        let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
        assert_eq!(v6_at(ip, 24), all_nodes);
        let icmp = &ip[IPV6_HEADER_LEN..];
        assert_eq!(icmp[4] & NA_FLAG_SOLICITED, 0);
        assert_eq!(icmpv6_checksum(&gw6(), &all_nodes, icmp), 0);
    }

    #[test]
    fn solicitation_for_another_address_or_with_a_bad_hop_limit_is_ignored() {
        let host6: Ipv6Addr = "fd00:10::11".parse().unwrap();
        let other: Ipv6Addr = "fd00:10::12".parse().unwrap();
        assert!(answer(&neighbor_solicit(host6, None, other), lookup).is_none());
        let mut f = neighbor_solicit(host6, None, gw6());
        f[14 + 7] = 64;
        assert!(answer(&f, lookup).is_none(), "hop limit must be 255");
    }
}
