//! Frames by hand: a small Ethernet/IPv4/UDP/ARP builder, checksum checks,
//! AF_PACKET sockets to inject and observe frames inside a namespace, and a
//! TAP held by this process (a stand-in for QEMU).

use std::io;
use std::time::Duration;

/// An owned file descriptor (closed on Drop).
pub struct Fd(pub i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

impl Fd {
    /// Waits up to `timeout` for the fd to be readable.
    pub fn readable(&self, timeout: Duration) -> bool {
        let mut p = libc::pollfd {
            fd: self.0,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut p, 1, ms) };
        rc > 0 && p.revents & libc::POLLIN != 0
    }

    /// One datagram/frame, or None after `timeout`.
    pub fn recv_timeout(&self, buf: &mut [u8], timeout: Duration) -> Option<usize> {
        if !self.readable(timeout) {
            return None;
        }
        // SAFETY: reading into a valid buffer.
        let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
        (n >= 0).then_some(n as usize)
    }

    pub fn write(&self, data: &[u8]) -> io::Result<usize> {
        // SAFETY: writing from a valid buffer.
        let n = unsafe { libc::write(self.0, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// RFC 1071 one's-complement sum over the concatenation of `parts`.
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(hi) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// An Ethernet header.
pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

/// An IPv4 header (no options) with its checksum, for `payload_len` bytes.
pub fn ipv4_header(src: [u8; 4], dst: [u8; 4], proto: u8, payload_len: usize) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = internet_checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// The IPv4 pseudo-header for a TCP/UDP checksum.
fn pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

/// Ethernet + IPv4 + UDP with a correct checksum.
pub fn udp_frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let ulen = 8 + payload.len();
    let mut udp = Vec::with_capacity(ulen);
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&(ulen as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut c = internet_checksum(&[&pseudo(src, dst, 17, ulen), &udp]);
    if c == 0 {
        c = 0xffff;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    let mut f = eth(dst_mac, src_mac, ETH_P_IP);
    f.extend_from_slice(&ipv4_header(src, dst, 17, ulen));
    f.extend_from_slice(&udp);
    f
}

/// The UDP frame of [`udp_frame`] as a guest with checksum offload hands it
/// over: the UDP checksum field holds only the folded pseudo-header sum
/// (not complemented), to be finished by whoever transmits it. Returns the
/// frame and the (csum_start, csum_offset) a virtio-net header names.
pub fn udp_frame_partial_csum(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> (Vec<u8>, u16, u16) {
    let mut f = udp_frame(src_mac, dst_mac, src, dst, sport, dport, payload);
    let ulen = 8 + payload.len();
    // !checksum(pseudo) is the folded sum itself.
    let partial = !internet_checksum(&[&pseudo(src, dst, 17, ulen)]);
    f[14 + 20 + 6..14 + 20 + 8].copy_from_slice(&partial.to_be_bytes());
    (f, 14 + 20, 6)
}

/// An ARP request who-has `tpa` tell `spa` (broadcast).
pub fn arp_request(sha: [u8; 6], spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut f = eth(BROADCAST, sha, ETH_P_ARP);
    f.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&sha);
    f.extend_from_slice(&spa);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&tpa);
    f.resize(60, 0);
    f
}

/// Ethernet + IPv4 + ICMP echo request.
pub fn icmp_echo_frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    seq: u16,
) -> Vec<u8> {
    let mut icmp = vec![8u8, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(b"tapflow integration ping");
    let c = internet_checksum(&[&icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = eth(dst_mac, src_mac, ETH_P_IP);
    f.extend_from_slice(&ipv4_header(src, dst, 1, icmp.len()));
    f.extend_from_slice(&icmp);
    f
}

/// Checks the IPv4 header checksum and the TCP/UDP/ICMP checksum of an
/// untagged Ethernet frame; Ok for non-IPv4 frames and fragments.
pub fn verify_checksums(frame: &[u8]) -> Result<(), String> {
    if frame.len() < 14 || frame[12..14] != ETH_P_IP.to_be_bytes() {
        return Ok(());
    }
    let ip = &frame[14..];
    if ip.len() < 20 {
        return Err("short IPv4 header".into());
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ip.len() < total || total < ihl {
        return Err(format!("IPv4 total length {total} but {} bytes", ip.len()));
    }
    if internet_checksum(&[&ip[..ihl]]) != 0 {
        return Err("bad IPv4 header checksum".into());
    }
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if frag & 0x3fff != 0 {
        return Ok(());
    }
    let proto = ip[9];
    let l4 = &ip[ihl..total];
    let src: [u8; 4] = ip[12..16].try_into().expect("4 bytes");
    let dst: [u8; 4] = ip[16..20].try_into().expect("4 bytes");
    let ok = match proto {
        6 => internet_checksum(&[&pseudo(src, dst, 6, l4.len()), l4]) == 0,
        17 => {
            l4.len() >= 8
                && (l4[6..8] == [0, 0]
                    || internet_checksum(&[&pseudo(src, dst, 17, l4.len()), l4]) == 0)
        }
        1 => internet_checksum(&[l4]) == 0,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bad L4 checksum (IP protocol {proto}, {} bytes)",
            l4.len()
        ))
    }
}

const PACKET_OUTGOING: u8 = 4;
/// `tp_status` bit: the frame's L4 checksum is partial (offloaded).
pub const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;

fn htons(v: u16) -> u16 {
    v.to_be()
}

/// An AF_PACKET socket bound to one interface of the namespace it was
/// created in (create it inside [`crate::Netns::enter`]).
pub struct PacketSocket {
    fd: Fd,
    ifindex: i32,
}

impl PacketSocket {
    /// Opens a socket on `ifname` seeing every protocol.
    pub fn open(ifname: &str) -> io::Result<PacketSocket> {
        let cname = std::ffi::CString::new(ifname).expect("no NUL");
        // SAFETY: valid NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) } as i32;
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: plain socket(2).
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(htons(libc::ETH_P_ALL as u16)),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = Fd(raw);
        // SAFETY: zeroed sockaddr_ll is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = htons(libc::ETH_P_ALL as u16);
        sll.sll_ifindex = ifindex;
        // SAFETY: sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.0,
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, ifindex })
    }

    /// Transmits `frame` on the interface (for a TAP far end or a veth end:
    /// the frame enters the switch port).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed sockaddr_ll is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&frame[..6]);
        // SAFETY: valid buffer and sockaddr_ll.
        let n = unsafe {
            libc::sendto(
                self.fd.0,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Asks for each frame's `tpacket_auxdata` (see [`PacketSocket::recv_aux`]).
    pub fn enable_auxdata(&self) -> io::Result<()> {
        let one: i32 = 1;
        // SAFETY: setsockopt with an int option value.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.0,
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                (&one as *const i32).cast(),
                4,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The next received frame with its `tp_status` (TP_STATUS_CSUMNOTREADY:
    /// the kernel still carries it as a partial checksum, so the checksum
    /// field is not final), or None after `timeout`. Needs
    /// [`PacketSocket::enable_auxdata`].
    pub fn recv_aux(&self, timeout: Duration) -> Option<(Vec<u8>, u32)> {
        let deadline = std::time::Instant::now() + timeout;
        let mut buf = vec![0u8; 65536 + 64];
        let mut cbuf = [0u64; 16];
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            if !self.fd.readable(left) {
                return None;
            }
            // SAFETY: zeroed sockaddr_ll/msghdr are valid values.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&cbuf);
            // SAFETY: msghdr points at live buffers of the sizes given.
            let n =
                unsafe { libc::recvmsg(self.fd.0, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
            if n < 0 || sll.sll_pkttype == PACKET_OUTGOING {
                continue;
            }
            let mut status = 0u32;
            // SAFETY: walking the control messages the kernel wrote.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&msg);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA
                    {
                        let aux = libc::CMSG_DATA(c) as *const libc::tpacket_auxdata;
                        status = std::ptr::read_unaligned(aux).tp_status;
                    }
                    c = libc::CMSG_NXTHDR(&msg, c);
                }
            }
            let len = (n as usize).min(buf.len());
            return Some((buf[..len].to_vec(), status));
        }
    }

    /// The next frame the interface received (frames it sent are skipped),
    /// or None after `timeout`.
    pub fn recv_incoming(&self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = std::time::Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            if !self.fd.readable(left) {
                return None;
            }
            // SAFETY: zeroed sockaddr_ll is a valid value.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            // SAFETY: valid buffer and address out-parameters.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.0,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut sll as *mut libc::sockaddr_ll).cast(),
                    &mut len,
                )
            };
            if n < 0 {
                continue;
            }
            if sll.sll_pkttype == PACKET_OUTGOING {
                continue;
            }
            return Some(buf[..n as usize].to_vec());
        }
    }

    /// Discards everything queued so far.
    pub fn drain(&self) {
        while self.recv_incoming(Duration::ZERO).is_some() {}
    }
}

/// A TAP this process creates and holds, as QEMU does for a guest NIC:
/// frames written to it arrive on the interface (and so at a switch
/// attached to the interface); frames sent out of the interface are read
/// here. Non-persistent: it disappears when dropped.
pub struct HeldTap {
    fd: Fd,
    pub name: String,
    vnet_hdr: bool,
}

const IFF_TAP: i16 = 0x0002;
const IFF_NO_PI: i16 = 0x1000;
const IFF_VNET_HDR: i16 = 0x4000;
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETVNETHDRSZ: libc::c_ulong = 0x4004_54d8;
/// `struct virtio_net_hdr_v1` (12 bytes, with num_buffers).
pub const VNET_HDR_LEN: usize = 12;
pub const VIRTIO_NET_HDR_F_NEEDS_CSUM: u8 = 1;

impl HeldTap {
    /// Creates TAP `name` (IFF_TAP|IFF_NO_PI, plus IFF_VNET_HDR with a
    /// 12-byte header when `vnet_hdr`), and brings it up.
    pub fn create(name: &str, vnet_hdr: bool) -> io::Result<HeldTap> {
        // SAFETY: open(2) with a static path.
        let raw = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = Fd(raw);
        #[repr(C)]
        struct IfReq {
            name: [u8; 16],
            flags: i16,
            pad: [u8; 22],
        }
        let mut req = IfReq {
            name: [0; 16],
            flags: IFF_TAP | IFF_NO_PI | if vnet_hdr { IFF_VNET_HDR } else { 0 },
            pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF takes a pointer to a struct ifreq.
        if unsafe { libc::ioctl(fd.0, TUNSETIFF, &mut req) } < 0 {
            return Err(io::Error::last_os_error());
        }
        if vnet_hdr {
            let sz: i32 = VNET_HDR_LEN as i32;
            // SAFETY: TUNSETVNETHDRSZ takes a pointer to an int.
            if unsafe { libc::ioctl(fd.0, TUNSETVNETHDRSZ, &sz) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let tap = HeldTap {
            fd,
            name: name.to_string(),
            vnet_hdr,
        };
        crate::ip(["link", "set", "dev", name, "up"]);
        Ok(tap)
    }

    /// Writes a frame (no offload metadata: a zeroed virtio-net header).
    pub fn write_frame(&self, frame: &[u8]) -> io::Result<()> {
        if self.vnet_hdr {
            let mut b = vec![0u8; VNET_HDR_LEN];
            b.extend_from_slice(frame);
            self.fd.write(&b).map(|_| ())
        } else {
            self.fd.write(frame).map(|_| ())
        }
    }

    /// Writes a frame whose L4 checksum is left for the host to finish
    /// (VIRTIO_NET_HDR_F_NEEDS_CSUM), as virtio-net guests with checksum
    /// offload do. Needs `vnet_hdr`.
    pub fn write_partial_csum(
        &self,
        frame: &[u8],
        csum_start: u16,
        csum_offset: u16,
    ) -> io::Result<()> {
        assert!(self.vnet_hdr, "partial checksums need IFF_VNET_HDR");
        let mut b = vec![0u8; VNET_HDR_LEN];
        b[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        b[6..8].copy_from_slice(&csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&csum_offset.to_le_bytes());
        b.extend_from_slice(frame);
        self.fd.write(&b).map(|_| ())
    }

    /// The next frame sent out of the interface (virtio-net header stripped),
    /// or None after `timeout`.
    pub fn read_frame(&self, timeout: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65536 + VNET_HDR_LEN];
        let n = self.fd.recv_timeout(&mut buf, timeout)?;
        let skip = if self.vnet_hdr { VNET_HDR_LEN } else { 0 };
        (n >= skip).then(|| buf[skip..n].to_vec())
    }
}
