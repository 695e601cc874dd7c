//! Ethernet II framing with an optional 802.1Q tag: just enough to read the
//! frames PACKET_IN carries and to write the replies PACKET_OUT sends.

use ofproto::MacAddr;

pub const ETH_HEADER_LEN: usize = 14;
pub const VLAN_TAG_LEN: usize = 4;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_LLDP: u16 = 0x88cc;
/// Shortest Ethernet frame without its FCS; shorter replies are padded.
pub const ETH_MIN_FRAME_LEN: usize = 60;

/// The link-layer header of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthHeader {
    pub dst: MacAddr,
    pub src: MacAddr,
    /// The 802.1Q TCI (PCP, DEI, VID) when the frame is tagged.
    pub vlan_tci: Option<u16>,
    /// The ethertype of the payload (after the tag, if any).
    pub ethertype: u16,
}

fn mac_at(b: &[u8], at: usize) -> MacAddr {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[at..at + 6]);
    MacAddr(m)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl EthHeader {
    /// The header and the payload after it; `None` if the frame is too short.
    pub fn parse(frame: &[u8]) -> Option<(EthHeader, &[u8])> {
        if frame.len() < ETH_HEADER_LEN {
            return None;
        }
        let (dst, src) = (mac_at(frame, 0), mac_at(frame, 6));
        let ty = be16(frame, 12);
        if ty == ETHERTYPE_VLAN {
            if frame.len() < ETH_HEADER_LEN + VLAN_TAG_LEN {
                return None;
            }
            let h = EthHeader {
                dst,
                src,
                vlan_tci: Some(be16(frame, 14)),
                ethertype: be16(frame, 16),
            };
            return Some((h, &frame[ETH_HEADER_LEN + VLAN_TAG_LEN..]));
        }
        let h = EthHeader {
            dst,
            src,
            vlan_tci: None,
            ethertype: ty,
        };
        Some((h, &frame[ETH_HEADER_LEN..]))
    }

    /// Bytes of the header on the wire (14, or 18 with a tag).
    pub fn wire_len(&self) -> usize {
        ETH_HEADER_LEN
            + if self.vlan_tci.is_some() {
                VLAN_TAG_LEN
            } else {
                0
            }
    }

    pub fn emit(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.dst.0);
        buf.extend_from_slice(&self.src.0);
        if let Some(tci) = self.vlan_tci {
            buf.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            buf.extend_from_slice(&tci.to_be_bytes());
        }
        buf.extend_from_slice(&self.ethertype.to_be_bytes());
    }
}

/// Pads a frame to the Ethernet minimum, as a NIC would.
pub fn pad_to_min(frame: &mut Vec<u8>) {
    if frame.len() < ETH_MIN_FRAME_LEN {
        frame.resize(ETH_MIN_FRAME_LEN, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_and_untagged_headers_round_trip() {
        for tci in [None, Some(0x200a)] {
            let h = EthHeader {
                dst: MacAddr([1, 2, 3, 4, 5, 6]),
                src: MacAddr([0x52, 0x54, 0, 0, 0, 1]),
                vlan_tci: tci,
                ethertype: ETHERTYPE_ARP,
            };
            let mut b = Vec::new();
            h.emit(&mut b);
            assert_eq!(b.len(), h.wire_len());
            b.extend_from_slice(b"payload");
            let (back, payload) = EthHeader::parse(&b).unwrap();
            assert_eq!(back, h);
            assert_eq!(payload, b"payload");
        }
    }

    #[test]
    fn short_frames_are_not_parsed() {
        assert!(EthHeader::parse(&[0u8; 13]).is_none());
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        b.extend_from_slice(&[0, 10]);
        assert!(EthHeader::parse(&b).is_none(), "tag cut short");
    }
}
