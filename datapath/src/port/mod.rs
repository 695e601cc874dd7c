//! Ports: where frames enter and leave the switch.
//!
//! * [`TapPort`] (`tap` ports): a TAP device we create through /dev/net/tun; we
//!   hold the fd, the interface is the far end (a namespace's NIC in tests).
//! * [`SystemPort`] (`system` ports): any interface that already exists — veth,
//!   NIC, or a TAP that QEMU holds (made with [`mktap`]) — attached through an
//!   AF_PACKET socket, never opened through /dev/net/tun.
//! * [`LinkMonitor`]: rtnetlink watcher reporting link state changes, following
//!   TAPs into other network namespaces (→ PORT_STATUS).
//!
//! The data plane uses [`Port`]: nonblocking batch receive into a preallocated
//! [`PacketBatch`] (no allocation per call), `send` callable from many threads,
//! and an fd for epoll. Every frame carries its offload state ([`VnetHdr`]) so a
//! 64 KiB GSO frame or a frame with an unfinished checksum crosses the switch
//! whole; [`Port::tx_offloads`] tells what a port takes as is, and `send`
//! finishes checksums in software for ports that cannot (GSO frames to such a
//! port are refused: segmenting them is the execute stage's job).

pub mod afpacket;
mod batch;
pub mod link;
mod netlink;
mod offload;
mod sys;
pub mod tap;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::io;
use std::os::fd::RawFd;

pub use afpacket::SystemPort;
pub use batch::{PacketBatch, PacketBuf, DEFAULT_BATCH, DEFAULT_FRAME_CAP, HEADROOM};
pub use link::{
    netns_id, netns_id_of_path, query, LinkEvent, LinkId, LinkInfo, LinkMonitor, LinkQuery,
    PortKey, TapLocator,
};
pub use offload::{complete_checksum, csum_add, csum_fold, offload_checksum, Offloads, VnetHdr};
pub use tap::{lookup_group, lookup_user, mktap, rmtap, set_link_up, TapOpts, TapPort};

/// An Ethernet address.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(m: [u8; 6]) -> Self {
        MacAddr(m)
    }
}

/// Link state of a port's interface, wherever (in whichever namespace) it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LinkState {
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Carrier (IFF_LOWER_UP; only reported while up).
    pub carrier: bool,
}

impl LinkState {
    /// Down, no carrier — also what a removed interface reports.
    pub const DOWN: LinkState = LinkState {
        up: false,
        carrier: false,
    };
    pub const UP: LinkState = LinkState {
        up: true,
        carrier: true,
    };

    /// OpenFlow's OFPPS_LINK_DOWN: the link cannot pass traffic.
    pub fn is_link_down(&self) -> bool {
        !(self.up && self.carrier)
    }

    pub(crate) fn from_ifi_flags(flags: u32) -> LinkState {
        LinkState {
            up: flags & libc::IFF_UP as u32 != 0,
            carrier: flags & libc::IFF_LOWER_UP as u32 != 0,
        }
    }
}

/// Per-frame transmit metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxMeta {
    /// Offload state of the frame: `NEEDS_CSUM` offsets and GSO parameters, as
    /// received (possibly shifted by header changes).
    pub offload: VnetHdr,
}

impl TxMeta {
    pub const PLAIN: TxMeta = TxMeta {
        offload: VnetHdr::NONE,
    };
}

impl From<VnetHdr> for TxMeta {
    fn from(offload: VnetHdr) -> Self {
        TxMeta { offload }
    }
}

/// One frame of a `send_batch` call.
#[derive(Clone, Copy, Debug)]
pub struct TxFrame<'a> {
    pub data: &'a [u8],
    pub meta: TxMeta,
}

/// A switch port as the data plane sees it.
///
/// All methods take `&self`; `send`/`send_batch` may be called from several
/// threads at once (each is one write/sendmsg on the fd, which the kernel
/// serializes per frame). `recv_batch` is meant for one reader at a time.
pub trait Port: Send + Sync {
    /// Reads up to `bufs.capacity()` frames without blocking; returns how many
    /// are in `bufs` (0 when nothing is pending). Frames already read are
    /// returned even if a later read fails; the error surfaces on the next call.
    /// A TAP whose interface was removed fails with EBADFD (raw OS error 77;
    /// its fd also polls EPOLLERR). A system port whose interface is down or
    /// gone just reads nothing (the kernel's one-shot ENETDOWN is absorbed).
    fn recv_batch(&self, bufs: &mut PacketBatch) -> io::Result<usize>;

    /// Sends one frame. Offloads the port cannot take are done in software when
    /// cheap (checksum); a GSO frame to a port without that offload fails with
    /// `InvalidInput`. `WouldBlock` means the queue is full, EIO (TAP) or
    /// ENETDOWN (system port) that the interface is down: count a tx drop.
    fn send(&self, frame: &[u8], meta: &TxMeta) -> io::Result<()>;

    /// Sends several frames; returns how many were sent (a prefix of `frames`).
    /// An error is returned only if the first frame could not be sent.
    fn send_batch(&self, frames: &[TxFrame<'_>]) -> io::Result<usize> {
        for (i, f) in frames.iter().enumerate() {
            if let Err(e) = self.send(f.data, &f.meta) {
                if i == 0 {
                    return Err(e);
                }
                return Ok(i);
            }
        }
        Ok(frames.len())
    }

    /// The fd to register with epoll (readable = frames pending).
    fn fd(&self) -> RawFd;

    /// Interface name (as when the port was opened; a TAP moved or renamed in
    /// another namespace keeps reporting this name here).
    fn name(&self) -> &str;

    /// MAC address of the interface (OpenFlow port `hw_addr`).
    fn hw_addr(&self) -> MacAddr;

    /// Current link state, queried from the kernel (a few syscalls: control
    /// plane only). A removed interface reports [`LinkState::DOWN`].
    fn link_state(&self) -> LinkState;

    /// Offloads `send` passes to the kernel without software work.
    fn tx_offloads(&self) -> Offloads {
        Offloads::NONE
    }
}
