//! `system` ports: an existing interface (veth, NIC, or a TAP that QEMU holds)
//! attached through an AF_PACKET socket. /dev/net/tun is never opened here: a
//! TAP's queue belongs to whoever opened it (QEMU); we see the interface side,
//! like any other NIC.
//!
//! Socket setup:
//! * SOCK_RAW, bound to the ifindex with ETH_P_ALL (created with protocol 0 so
//!   nothing from other interfaces is queued before the bind);
//! * PACKET_IGNORE_OUTGOING: we don't read back what is transmitted on the
//!   interface (by us or anyone) — a switch port only sees its ingress;
//! * PACKET_VNET_HDR: every frame comes with a virtio-net header, so frames whose
//!   checksum is unfinished (CHECKSUM_PARTIAL: a guest or a veth peer with tx
//!   checksum offload) arrive marked NEEDS_CSUM with csum_start/offset, and GSO
//!   frames arrive whole; on send we pass the header down and the kernel
//!   finishes the checksum/segments for devices that can't;
//! * PACKET_AUXDATA: the kernel strips a VLAN tag into skb metadata on receive
//!   (`skb_vlan_untag` runs before packet taps, and veth/NICs offload it), and
//!   AF_PACKET reports it only in this cmsg. We put the tag back into the frame,
//!   or VLAN-tagged traffic would silently lose its tag;
//! * promiscuous (PACKET_ADD_MEMBERSHIP PACKET_MR_PROMISC; dropped with the socket);
//! * nonblocking, larger socket buffers (a 64 KiB GSO frame eats a default
//!   receive buffer in three).
//!
//! Batching: `recv_batch` uses recvmmsg(2) and `send_batch` sendmmsg(2). The
//! `afpacket_batch_syscalls_throughput` test (ignored; run it with `--release
//! --ignored --nocapture`) compares them with one syscall per frame: on the
//! 2-core dev VM recvmmsg drained a full queue at ~1 µs/frame against 1.5–4
//! µs/frame for one recvmsg each; sendmmsg gained less (the veth transmit path,
//! run in the sender's context, dominates).
//!
//! Later: a TPACKET_V3 mmap rx ring (no copy, no syscall per batch). Check
//! then that the running kernel writes the virtio-net header into ring frames
//! with PACKET_VNET_HDR set (older kernels refused the combination), keep the
//! VLAN reinsertion (tpacket3_hdr carries the same tp_vlan_tci/tpid fields);
//! a tx ring is a separate measurement against sendmmsg.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::batch::PacketBatch;
use super::netlink::{Rtnl, Target};
use super::offload::{Offloads, VnetHdr};
use super::sys::{self, cvt, TpacketAuxdata};
use super::{LinkState, MacAddr, Port, TxFrame, TxMeta};

const ETH_P_ALL: u16 = 0x0003;
/// Frames per recvmmsg/sendmmsg call (stack arrays).
const MMSG_MAX: usize = 64;
/// Control buffer per message: CMSG_SPACE(sizeof(tpacket_auxdata)) = 40, rounded.
const CMSG_WORDS: usize = 8;

/// An existing interface attached through AF_PACKET.
pub struct SystemPort {
    fd: OwnedFd,
    name: String,
    ifindex: i32,
    mac: MacAddr,
    rtnl: Rtnl,
}

impl SystemPort {
    /// Attaches interface `ifname` of the calling thread's network namespace.
    /// Its admin state is left alone (libvirt/QEMU or the operator own it).
    pub fn attach(ifname: &str) -> io::Result<SystemPort> {
        let ifindex = sys::if_index(ifname)? as i32;
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)?;
        let raw = fd.as_raw_fd();
        let on: libc::c_int = 1;
        let opt = |name, what: &str| {
            sys::setsockopt(raw, libc::SOL_PACKET, name, &on)
                .map_err(|e| io::Error::new(e.kind(), format!("{ifname}: {what}: {e}")))
        };
        opt(sys::PACKET_VNET_HDR, "PACKET_VNET_HDR")?;
        opt(sys::PACKET_AUXDATA, "PACKET_AUXDATA")?;
        // Linux >= 4.20. Without it we filter PACKET_OUTGOING by sll_pkttype.
        let _ = opt(sys::PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING");
        let big: libc::c_int = 4 << 20;
        for (force, plain) in [
            (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
            (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        ] {
            if sys::setsockopt(raw, libc::SOL_SOCKET, force, &big).is_err() {
                let _ = sys::setsockopt(raw, libc::SOL_SOCKET, plain, &big);
            }
        }
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex;
        cvt(unsafe {
            libc::bind(
                raw,
                &sll as *const _ as *const libc::sockaddr,
                mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        })
        .map_err(|e| io::Error::new(e.kind(), format!("bind AF_PACKET to {ifname}: {e}")))?;
        let mreq = sys::PacketMreq {
            mr_ifindex: ifindex,
            mr_type: sys::PACKET_MR_PROMISC,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        sys::setsockopt(raw, libc::SOL_PACKET, sys::PACKET_ADD_MEMBERSHIP, &mreq)
            .map_err(|e| io::Error::new(e.kind(), format!("{ifname}: promiscuous mode: {e}")))?;
        let mac = MacAddr(sys::if_hwaddr(raw, ifname)?);
        Ok(SystemPort {
            fd,
            name: ifname.to_string(),
            ifindex,
            mac,
            rtnl: Rtnl::open()?,
        })
    }

    pub fn ifindex(&self) -> i32 {
        self.ifindex
    }

    /// One recvmsg per frame — the unbatched baseline for the throughput test.
    #[cfg(test)]
    pub(crate) fn recv_batch_single(&self, bufs: &mut PacketBatch) -> io::Result<usize> {
        bufs.clear();
        let cap = bufs.capacity();
        let mut n = 0;
        while n < cap {
            let got = self.recv_chunk(bufs, n, 1)?;
            if got.0 == 0 {
                break;
            }
            n = got.1;
        }
        bufs.set_len(n);
        Ok(n)
    }

    /// recvmmsg into slots `from..from+want`; returns (messages read, frames
    /// kept so far). Kept frames are compacted to the front.
    fn recv_chunk(
        &self,
        bufs: &mut PacketBatch,
        from: usize,
        want: usize,
    ) -> io::Result<(usize, usize)> {
        let want = want.min(MMSG_MAX);
        let mut iov: [libc::iovec; MMSG_MAX] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; MMSG_MAX] = unsafe { mem::zeroed() };
        let mut ctrl = [[0u64; CMSG_WORDS]; MMSG_MAX];
        let mut addrs: [libc::sockaddr_ll; MMSG_MAX] = unsafe { mem::zeroed() };
        for (i, slot) in bufs.slots_mut()[from..from + want].iter_mut().enumerate() {
            iov[i] = sys::iovec_mut(slot.rx_area(VnetHdr::LEN));
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = &mut addrs[i] as *mut _ as *mut libc::c_void;
            h.msg_namelen = mem::size_of::<libc::sockaddr_ll>() as u32;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_control = ctrl[i].as_mut_ptr() as *mut libc::c_void;
            h.msg_controllen = mem::size_of::<[u64; CMSG_WORDS]>() as _;
        }
        let r = sys::retry(|| {
            cvt(unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    want as u32,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            })
        });
        let got = match r {
            Ok(n) => n as usize,
            Err(e) if sys::is_would_block(&e) => return Ok((0, from)),
            // The interface went down (the socket is re-armed when it comes
            // back up) or away: nothing to read; the link monitor reports it.
            Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => return Ok((0, from)),
            Err(e) => return Err(e),
        };
        let mut kept = from;
        for i in 0..got {
            let h = &hdrs[i];
            let len = h.msg_len as usize;
            let slot_idx = from + i;
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0
                || len <= VnetHdr::LEN
                || addrs[i].sll_pkttype == sys::PACKET_OUTGOING
            {
                continue;
            }
            let aux = aux_of(&h.msg_hdr);
            let slot = &mut bufs.slots_mut()[slot_idx];
            let vh = VnetHdr::from_bytes(slot.pre_bytes(VnetHdr::LEN).try_into().unwrap());
            slot.set_received(len - VnetHdr::LEN, vh);
            if let Some(a) = aux {
                if a.tp_status & sys::TP_STATUS_VLAN_VALID != 0 {
                    let tpid = if a.tp_status & sys::TP_STATUS_VLAN_TPID_VALID != 0 {
                        a.tp_vlan_tpid
                    } else {
                        0x8100
                    };
                    slot.insert_vlan(tpid, a.tp_vlan_tci);
                }
            }
            if kept != slot_idx {
                bufs.swap(kept, slot_idx);
            }
            kept += 1;
        }
        Ok((got, kept))
    }

    fn sendmmsg_chunk(&self, frames: &[TxFrame<'_>]) -> io::Result<usize> {
        let k = frames.len().min(MMSG_MAX);
        let mut vh = [[0u8; VnetHdr::LEN]; MMSG_MAX];
        let mut iov: [[libc::iovec; 2]; MMSG_MAX] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; MMSG_MAX] = unsafe { mem::zeroed() };
        for (i, f) in frames[..k].iter().enumerate() {
            vh[i] = f.meta.offload.to_bytes();
            iov[i] = [sys::iovec(&vh[i]), sys::iovec(f.data)];
            hdrs[i].msg_hdr.msg_iov = iov[i].as_mut_ptr();
            hdrs[i].msg_hdr.msg_iovlen = 2;
        }
        let n = sys::retry(|| {
            cvt(unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    k as u32,
                    libc::MSG_DONTWAIT,
                )
            })
        })?;
        Ok(n as usize)
    }
}

fn aux_of(h: &libc::msghdr) -> Option<TpacketAuxdata> {
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == sys::PACKET_AUXDATA {
                return Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(c) as *const TpacketAuxdata
                ));
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

impl Port for SystemPort {
    fn recv_batch(&self, bufs: &mut PacketBatch) -> io::Result<usize> {
        bufs.clear();
        let cap = bufs.capacity();
        let mut kept = 0;
        let mut read = 0;
        // Dropped frames (truncated, outgoing) free their slot for another
        // read; stop after 2×cap messages so a flood of them can't spin here.
        while kept < cap && read < 2 * cap {
            let ask = (cap - kept).min(MMSG_MAX);
            let (got, k) = match self.recv_chunk(bufs, kept, ask) {
                Ok(r) => r,
                Err(e) if kept == 0 => return Err(e),
                Err(_) => break,
            };
            kept = k;
            read += got;
            if got < ask {
                break;
            }
        }
        bufs.set_len(kept);
        Ok(kept)
    }

    fn send(&self, frame: &[u8], meta: &TxMeta) -> io::Result<()> {
        let vh = meta.offload.to_bytes();
        let iov = [sys::iovec(&vh), sys::iovec(frame)];
        let mut h: libc::msghdr = unsafe { mem::zeroed() };
        h.msg_iov = iov.as_ptr() as *mut libc::iovec;
        h.msg_iovlen = 2;
        let n = sys::retry(|| {
            sys::cvt_size(unsafe { libc::sendmsg(self.fd.as_raw_fd(), &h, libc::MSG_DONTWAIT) })
        })?;
        if n != vh.len() + frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short AF_PACKET send",
            ));
        }
        Ok(())
    }

    fn send_batch(&self, frames: &[TxFrame<'_>]) -> io::Result<usize> {
        let mut sent = 0;
        while sent < frames.len() {
            let ask = (frames.len() - sent).min(MMSG_MAX);
            match self.sendmmsg_chunk(&frames[sent..sent + ask]) {
                Ok(n) => {
                    sent += n;
                    if n < ask {
                        break; // queue full, or the next frame fails: report it next time
                    }
                }
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn hw_addr(&self) -> MacAddr {
        self.mac
    }

    fn link_state(&self) -> LinkState {
        match self.rtnl.get_link(None, Target::Index(self.ifindex)) {
            Ok(Some(l)) => LinkState::from_ifi_flags(l.flags),
            _ => LinkState::DOWN,
        }
    }

    fn tx_offloads(&self) -> Offloads {
        // The vnet header goes to the kernel, which completes checksums and
        // segments GSO frames in software for devices that can't.
        Offloads::ALL
    }
}
