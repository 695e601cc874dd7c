//! Software segmentation: a GSO super-frame cut into wire-sized frames for
//! a destination that cannot take it whole — a port without the matching
//! segmentation offload (an AF_PACKET port without a vnet header, a TAP
//! whose reader did not enable TSO) or the controller (PACKET_IN data is
//! what a port would have sent).
//!
//! Handles what virtio-net hands a switch: TCP over IPv4 and IPv6
//! (`VIRTIO_NET_HDR_GSO_TCPV4/6`, the ECN bit included) and UDP
//! segmentation (`GSO_UDP_L4`), behind any number of VLAN tags. Each
//! segment gets the headers of the super-frame with its own IP length,
//! IPv4 id (+1 per segment) and header checksum, TCP sequence number and a
//! complete L4 checksum; TCP's FIN and PSH stay on the last segment and CWR
//! on the first, as the kernel's segmentation does. Anything else (UFO,
//! IPv6 extension headers before TCP, a frame whose headers don't parse)
//! is refused and the caller drops the frame as before.

use crate::port::{csum_add, csum_fold, VnetHdr};

/// Why a super-frame was not segmented.
#[derive(Debug, PartialEq, Eq)]
pub enum GsoError {
    /// Not TCPv4/TCPv6/UDP_L4 segmentation, or gso_size 0.
    Unsupported(u8),
    /// The headers don't parse as the GSO type says.
    Malformed(&'static str),
}

const ETH_P_IPV4: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// Where the headers are.
struct Layout {
    l3: usize,
    v6: bool,
    l4: usize,
    /// End of the L4 header: the payload starts here.
    payload: usize,
    tcp: bool,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn layout(frame: &[u8], tcp: bool) -> Result<Layout, GsoError> {
    if frame.len() < 14 {
        return Err(GsoError::Malformed("shorter than an Ethernet header"));
    }
    let mut at = 12;
    let mut ethertype = be16(frame, 12);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        at += 4;
        if frame.len() < at + 2 {
            return Err(GsoError::Malformed("truncated VLAN tag"));
        }
        ethertype = be16(frame, at);
    }
    let l3 = at + 2;
    let (v6, l4, proto) = match ethertype {
        ETH_P_IPV4 => {
            if frame.len() < l3 + 20 || frame[l3] >> 4 != 4 {
                return Err(GsoError::Malformed("bad IPv4 header"));
            }
            let ihl = usize::from(frame[l3] & 0xf) * 4;
            if ihl < 20 || frame.len() < l3 + ihl {
                return Err(GsoError::Malformed("bad IPv4 header length"));
            }
            (false, l3 + ihl, frame[l3 + 9])
        }
        ETH_P_IPV6 => {
            if frame.len() < l3 + 40 || frame[l3] >> 4 != 6 {
                return Err(GsoError::Malformed("bad IPv6 header"));
            }
            (true, l3 + 40, frame[l3 + 6])
        }
        _ => return Err(GsoError::Malformed("not IP")),
    };
    let payload = if tcp {
        if proto != 6 {
            return Err(GsoError::Malformed("TCP segmentation of a non-TCP packet"));
        }
        if frame.len() < l4 + 20 {
            return Err(GsoError::Malformed("truncated TCP header"));
        }
        let hl = usize::from(frame[l4 + 12] >> 4) * 4;
        if hl < 20 || frame.len() < l4 + hl {
            return Err(GsoError::Malformed("bad TCP header length"));
        }
        l4 + hl
    } else {
        if proto != 17 || frame.len() < l4 + 8 {
            return Err(GsoError::Malformed("UDP segmentation of a non-UDP packet"));
        }
        l4 + 8
    };
    Ok(Layout {
        l3,
        v6,
        l4,
        payload,
        tcp,
    })
}

/// Cuts `frame` (described by `meta`) into segments, calling `emit` with
/// each finished frame in order; returns how many. `buf` is scratch space
/// reused between segments (and calls).
pub fn segment(
    frame: &[u8],
    meta: &VnetHdr,
    buf: &mut Vec<u8>,
    mut emit: impl FnMut(&[u8]),
) -> Result<usize, GsoError> {
    let ty = meta.gso_type & !VnetHdr::GSO_ECN;
    let tcp = match ty {
        VnetHdr::GSO_TCPV4 | VnetHdr::GSO_TCPV6 => true,
        VnetHdr::GSO_UDP_L4 => false,
        other => return Err(GsoError::Unsupported(other)),
    };
    let mss = usize::from(meta.gso_size);
    if mss == 0 {
        return Err(GsoError::Unsupported(ty));
    }
    let l = layout(frame, tcp)?;
    let headers = &frame[..l.payload];
    let data = &frame[l.payload..];
    let n = data.len().div_ceil(mss).max(1);
    let seq0 = if tcp {
        u32::from_be_bytes([
            frame[l.l4 + 4],
            frame[l.l4 + 5],
            frame[l.l4 + 6],
            frame[l.l4 + 7],
        ])
    } else {
        0
    };
    let id0 = if l.v6 { 0 } else { be16(frame, l.l3 + 4) };
    for (i, chunk) in data
        .chunks(mss)
        .chain(data.is_empty().then_some(&[][..]))
        .enumerate()
    {
        buf.clear();
        buf.extend_from_slice(headers);
        buf.extend_from_slice(chunk);
        let end = buf.len();
        if l.v6 {
            let plen = (end - l.l3 - 40) as u16;
            buf[l.l3 + 4..l.l3 + 6].copy_from_slice(&plen.to_be_bytes());
        } else {
            let tot = (end - l.l3) as u16;
            buf[l.l3 + 2..l.l3 + 4].copy_from_slice(&tot.to_be_bytes());
            let id = id0.wrapping_add(i as u16);
            buf[l.l3 + 4..l.l3 + 6].copy_from_slice(&id.to_be_bytes());
            buf[l.l3 + 10..l.l3 + 12].fill(0);
            let c = !csum_fold(csum_add(&buf[l.l3..l.l4], 0));
            buf[l.l3 + 10..l.l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let csum_at = if l.tcp {
            let seq = seq0.wrapping_add((i * mss) as u32);
            buf[l.l4 + 4..l.l4 + 8].copy_from_slice(&seq.to_be_bytes());
            let mut flags = frame[l.l4 + 13];
            if i + 1 < n {
                flags &= !(TCP_FIN | TCP_PSH);
            }
            if i > 0 {
                flags &= !TCP_CWR;
            }
            buf[l.l4 + 13] = flags;
            l.l4 + 16
        } else {
            let ulen = (end - l.l4) as u16;
            buf[l.l4 + 4..l.l4 + 6].copy_from_slice(&ulen.to_be_bytes());
            l.l4 + 6
        };
        buf[csum_at..csum_at + 2].fill(0);
        let c = l4_checksum(buf, &l, end);
        buf[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
        emit(buf);
    }
    Ok(n)
}

/// The full L4 checksum (pseudo-header included) of `buf[l.l4..end]`.
fn l4_checksum(buf: &[u8], l: &Layout, end: usize) -> u16 {
    let len = (end - l.l4) as u32;
    let proto: u64 = if l.tcp { 6 } else { 17 };
    let mut acc = if l.v6 {
        csum_add(&buf[l.l3 + 8..l.l3 + 40], 0)
    } else {
        csum_add(&buf[l.l3 + 12..l.l3 + 20], 0)
    };
    acc += u64::from(len) + proto;
    let c = !csum_fold(csum_add(&buf[l.l4..end], acc));
    // UDP sends a computed 0 as all ones (0 means "no checksum").
    if c == 0 && !l.tcp {
        0xffff
    } else {
        c
    }
}

#[cfg(test)]
mod tests;
