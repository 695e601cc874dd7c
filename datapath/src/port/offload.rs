//! Offload metadata (the virtio-net header) and software checksum completion.
//!
//! Both /dev/net/tun with IFF_VNET_HDR and AF_PACKET with PACKET_VNET_HDR put a
//! `struct virtio_net_hdr` (10 bytes, host byte order for the legacy header the
//! kernel uses when neither TUNSETVNETLE nor TUNSETVNETBE is set) in front of every
//! frame. It tells whether the frame's L4 checksum still has to be finished
//! (`NEEDS_CSUM`: the checksum field holds the pseudo-header sum; the sender
//! expects whoever transmits to sum from `csum_start` to the end and store the
//! result at `csum_start + csum_offset`) and whether the frame is a GSO
//! super-frame that must be segmented into `gso_size`-byte payloads before it
//! reaches a wire.

use std::io;

/// `struct virtio_net_hdr` (linux/virtio_net.h), decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    /// Length of the headers (L2..L4) — a hint only; the kernel recomputes it.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Size of `struct virtio_net_hdr` on the wire (without `num_buffers`).
    pub const LEN: usize = 10;

    pub const F_NEEDS_CSUM: u8 = 1;
    pub const F_DATA_VALID: u8 = 2;

    pub const GSO_NONE: u8 = 0;
    pub const GSO_TCPV4: u8 = 1;
    pub const GSO_UDP: u8 = 3;
    pub const GSO_TCPV6: u8 = 4;
    pub const GSO_UDP_L4: u8 = 5;
    pub const GSO_ECN: u8 = 0x80;

    /// No offload: a complete frame.
    pub const NONE: VnetHdr = VnetHdr {
        flags: 0,
        gso_type: 0,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    pub fn needs_csum(&self) -> bool {
        self.flags & Self::F_NEEDS_CSUM != 0
    }

    /// The receiver's checksum was verified (by a NIC or a trusted sender).
    pub fn data_valid(&self) -> bool {
        self.flags & Self::F_DATA_VALID != 0
    }

    pub fn is_gso(&self) -> bool {
        self.gso_type & !Self::GSO_ECN != Self::GSO_NONE
    }

    /// Returns the header with `NEEDS_CSUM` set for the given offsets.
    pub fn with_csum(mut self, csum_start: u16, csum_offset: u16) -> VnetHdr {
        self.flags |= Self::F_NEEDS_CSUM;
        self.csum_start = csum_start;
        self.csum_offset = csum_offset;
        self
    }

    pub fn from_bytes(b: &[u8; Self::LEN]) -> VnetHdr {
        let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    /// Adjusts the offsets after `n` bytes were inserted in front of
    /// `csum_start` (e.g. a VLAN tag put back into the frame).
    pub fn shift(&mut self, n: u16) {
        if self.needs_csum() {
            self.csum_start = self.csum_start.wrapping_add(n);
        }
        if self.is_gso() && self.hdr_len != 0 {
            self.hdr_len = self.hdr_len.wrapping_add(n);
        }
    }
}

/// What a port can take on transmit without software help.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offloads {
    /// Frames with `NEEDS_CSUM` (partial L4 checksum).
    pub csum: bool,
    /// GSO TCP over IPv4.
    pub tso4: bool,
    /// GSO TCP over IPv6.
    pub tso6: bool,
    /// GSO TCP with ECN (CWR on the first segment only).
    pub tso_ecn: bool,
    /// GSO UDP (UFO, `GSO_UDP`) and UDP segmentation (USO, `GSO_UDP_L4`).
    pub udp: bool,
}

impl Offloads {
    pub const NONE: Offloads = Offloads {
        csum: false,
        tso4: false,
        tso6: false,
        tso_ecn: false,
        udp: false,
    };
    pub const ALL: Offloads = Offloads {
        csum: true,
        tso4: true,
        tso6: true,
        tso_ecn: true,
        udp: true,
    };

    /// Can a frame with this header be handed over unchanged?
    pub fn accepts(&self, h: &VnetHdr) -> bool {
        if h.needs_csum() && !self.csum {
            return false;
        }
        match h.gso_type & !VnetHdr::GSO_ECN {
            VnetHdr::GSO_NONE => true,
            VnetHdr::GSO_TCPV4 => self.tso4 && (h.gso_type & VnetHdr::GSO_ECN == 0 || self.tso_ecn),
            VnetHdr::GSO_TCPV6 => self.tso6 && (h.gso_type & VnetHdr::GSO_ECN == 0 || self.tso_ecn),
            VnetHdr::GSO_UDP | VnetHdr::GSO_UDP_L4 => self.udp,
            _ => false,
        }
    }
}

/// Adds `data` as a sequence of big-endian 16-bit words (odd trailing byte padded
/// with zero) to a ones'-complement accumulator. Fold with [`csum_fold`].
pub fn csum_add(data: &[u8], mut acc: u64) -> u64 {
    // 32-bit big-endian words into a 64-bit accumulator: 2^16 ≡ 1 (mod 2^16-1),
    // so folding the result gives the same ones'-complement sum as 16-bit words,
    // and 2^32 words would be needed to overflow.
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += (v >> 32) + (v & 0xffff_ffff);
    }
    let mut rest = chunks.remainder();
    while rest.len() >= 2 {
        acc += u16::from_be_bytes([rest[0], rest[1]]) as u64;
        rest = &rest[2..];
    }
    if let [b] = rest {
        acc += (*b as u64) << 8;
    }
    acc
}

/// Folds an accumulator to 16 bits (not complemented).
pub fn csum_fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn check_offsets(len: usize, csum_start: usize, csum_offset: usize) -> io::Result<usize> {
    let pos = csum_start
        .checked_add(csum_offset)
        .filter(|p| p.checked_add(2).is_some_and(|end| end <= len) && csum_start < len);
    pos.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("checksum offsets start={csum_start} offset={csum_offset} outside a {len}-byte frame"),
        )
    })
}

/// The value that finishes a `NEEDS_CSUM` frame, without changing it: the
/// complemented ones'-complement sum of `frame[csum_start..]` (whose checksum
/// field holds the pseudo-header sum). A result of 0 is sent as 0xffff, as the
/// kernel does (`CSUM_MANGLED_0`): UDP reserves 0 for "no checksum", and for TCP
/// the two are the same number.
pub fn offload_checksum(frame: &[u8], csum_start: usize, csum_offset: usize) -> io::Result<u16> {
    check_offsets(frame.len(), csum_start, csum_offset)?;
    let c = !csum_fold(csum_add(&frame[csum_start..], 0));
    Ok(if c == 0 { 0xffff } else { c })
}

/// Completes the L4 checksum of a `NEEDS_CSUM` frame in place (what a NIC with
/// checksum offload would do), for ports that cannot take the vnet header.
pub fn complete_checksum(
    frame: &mut [u8],
    csum_start: usize,
    csum_offset: usize,
) -> io::Result<()> {
    let c = offload_checksum(frame, csum_start, csum_offset)?;
    let pos = csum_start + csum_offset;
    frame[pos..pos + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 reference: 16-bit words, one at a time.
    fn reference_sum(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for c in data.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], 0])
            };
            s += w as u32;
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn csum_add_matches_rfc1071_reference_for_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(151) ^ (i >> 3)) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(
                csum_fold(csum_add(&data[..len], 0)),
                reference_sum(&data[..len]),
                "len {len}"
            );
        }
        let ff = vec![0xffu8; 70000];
        assert_eq!(csum_fold(csum_add(&ff, 0)), reference_sum(&ff));
    }

    #[test]
    fn vnet_hdr_round_trips_through_bytes() {
        let h = VnetHdr {
            flags: 1,
            gso_type: VnetHdr::GSO_TCPV6 | VnetHdr::GSO_ECN,
            hdr_len: 74,
            gso_size: 1428,
            csum_start: 54,
            csum_offset: 16,
        };
        assert_eq!(VnetHdr::from_bytes(&h.to_bytes()), h);
        assert!(h.is_gso() && h.needs_csum());
        assert!(!Offloads {
            tso_ecn: false,
            ..Offloads::ALL
        }
        .accepts(&h));
        assert!(Offloads::ALL.accepts(&h));
        assert!(!Offloads::NONE.accepts(&VnetHdr::NONE.with_csum(34, 6)));
        assert!(Offloads::NONE.accepts(&VnetHdr::NONE));
    }

    #[test]
    fn complete_checksum_rejects_offsets_outside_the_frame() {
        let mut f = [0u8; 60];
        assert!(complete_checksum(&mut f, 34, 25).is_err());
        assert!(complete_checksum(&mut f, 60, 0).is_err());
        assert!(complete_checksum(&mut f, usize::MAX, 2).is_err());
        assert!(complete_checksum(&mut f, 34, 24).is_ok());
    }

    #[test]
    fn complete_checksum_finishes_a_partial_udp_checksum() {
        // IPv4/UDP frame; put the pseudo-header sum in the checksum field as a
        // sender with checksum offload does, then complete and verify.
        let payload = b"tapflow checksum";
        let mut f = vec![0u8; 14 + 20 + 8 + payload.len()];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((20 + 8 + payload.len()) as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
        let udp_len = (8 + payload.len()) as u16;
        f[34..36].copy_from_slice(&1234u16.to_be_bytes());
        f[36..38].copy_from_slice(&5678u16.to_be_bytes());
        f[38..40].copy_from_slice(&udp_len.to_be_bytes());
        f[42..].copy_from_slice(payload);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&f[26..34]);
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&udp_len.to_be_bytes());
        let partial = csum_fold(csum_add(&pseudo, 0));
        f[40..42].copy_from_slice(&partial.to_be_bytes());
        complete_checksum(&mut f, 34, 6).unwrap();
        // Verifying: pseudo header + whole segment sums to 0xffff.
        let total = csum_fold(csum_add(&f[34..], csum_add(&pseudo, 0)));
        assert_eq!(total, 0xffff);
    }
}
