//! Thin, safe-ish wrappers over the Linux syscalls and kernel ABI structs the port
//! layer needs. Values that `libc` does not export are written out here with the
//! header they come from.

use std::ffi::CStr;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `IFNAMSIZ`: interface names are at most 15 bytes plus the NUL.
pub const IFNAMSIZ: usize = 16;

// linux/if_packet.h
pub const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
pub const PACKET_AUXDATA: libc::c_int = 8;
pub const PACKET_VNET_HDR: libc::c_int = 15;
pub const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
pub const PACKET_MR_PROMISC: libc::c_ushort = 1;
pub const PACKET_OUTGOING: u8 = 4;
pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
pub const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;

/// `struct tpacket_auxdata` (linux/if_packet.h).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct TpacketAuxdata {
    pub tp_status: u32,
    pub tp_len: u32,
    pub tp_snaplen: u32,
    pub tp_mac: u16,
    pub tp_net: u16,
    pub tp_vlan_tci: u16,
    pub tp_vlan_tpid: u16,
}

/// `struct packet_mreq` (linux/if_packet.h).
#[repr(C)]
pub struct PacketMreq {
    pub mr_ifindex: libc::c_int,
    pub mr_type: libc::c_ushort,
    pub mr_alen: libc::c_ushort,
    pub mr_address: [u8; 8],
}

/// `struct ifreq` (linux/if.h): a name and a 24-byte union. We only use the
/// short-flags, int and sockaddr members of the union.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IfReq {
    pub name: [u8; IFNAMSIZ],
    pub data: [u8; 24],
}

impl IfReq {
    pub fn new(name: &str) -> io::Result<IfReq> {
        let mut r = IfReq {
            name: [0; IFNAMSIZ],
            data: [0; 24],
        };
        check_ifname(name)?;
        r.name[..name.len()].copy_from_slice(name.as_bytes());
        Ok(r)
    }
    pub fn name(&self) -> String {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
    pub fn flags(&self) -> u16 {
        u16::from_ne_bytes([self.data[0], self.data[1]])
    }
    pub fn set_flags(&mut self, f: u16) {
        self.data[..2].copy_from_slice(&f.to_ne_bytes());
    }
    /// `ifr_hwaddr.sa_data[0..6]`: sa_family is the first two bytes.
    pub fn hwaddr(&self) -> [u8; 6] {
        let mut m = [0; 6];
        m.copy_from_slice(&self.data[2..8]);
        m
    }
}

/// Interface names the kernel accepts: 1..=15 bytes, no '/', no whitespace, no NUL.
/// (An empty name is allowed by TUNSETIFF — the kernel picks `tap%d` — and is
/// checked by the caller.)
pub fn check_ifname(name: &str) -> io::Result<()> {
    if name.len() >= IFNAMSIZ
        || name
            .bytes()
            .any(|b| b == b'/' || b == 0 || b.is_ascii_whitespace() || b == b':')
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?} (at most 15 bytes, no '/', ':' or spaces)"),
        ));
    }
    Ok(())
}

pub fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn cvt_size(r: libc::ssize_t) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Retries a syscall on EINTR.
pub fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            val as *const T as *const libc::c_void,
            mem::size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `ioctl(fd, req, &mut ifreq)`.
pub fn ioctl_ifreq(fd: RawFd, req: libc::Ioctl, ifr: &mut IfReq) -> io::Result<()> {
    cvt(unsafe { libc::ioctl(fd, req, ifr as *mut IfReq) }).map(drop)
}

/// `ioctl(fd, req, value)` for the TUN ioctls that take an integer by value.
pub fn ioctl_val(fd: RawFd, req: libc::Ioctl, val: libc::c_ulong) -> io::Result<libc::c_int> {
    cvt(unsafe { libc::ioctl(fd, req, val) })
}

/// A datagram socket for the SIOC* interface ioctls, in the calling thread's netns.
pub fn ioctl_socket() -> io::Result<OwnedFd> {
    socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
}

/// Ifindex of `name` in the calling thread's network namespace.
pub fn if_index(name: &str) -> io::Result<u32> {
    check_ifname(name)?;
    let c = std::ffi::CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        let e = io::Error::last_os_error();
        let kind = match e.raw_os_error() {
            Some(libc::ENODEV) | Some(libc::ENXIO) => io::ErrorKind::NotFound,
            _ => e.kind(),
        };
        return Err(io::Error::new(kind, format!("interface {name}: {e}")));
    }
    Ok(idx)
}

/// SIOCGIFHWADDR through any socket of the right namespace.
pub fn if_hwaddr(sock: RawFd, name: &str) -> io::Result<[u8; 6]> {
    let mut ifr = IfReq::new(name)?;
    ioctl_ifreq(sock, libc::SIOCGIFHWADDR, &mut ifr)?;
    Ok(ifr.hwaddr())
}

/// Sets or clears IFF_UP with SIOCGIFFLAGS/SIOCSIFFLAGS (netns of `sock`).
pub fn if_set_up(sock: RawFd, name: &str, up: bool) -> io::Result<()> {
    let mut ifr = IfReq::new(name)?;
    ioctl_ifreq(sock, libc::SIOCGIFFLAGS, &mut ifr)?;
    let mut f = ifr.flags();
    let want = if up {
        f | libc::IFF_UP as u16
    } else {
        f & !(libc::IFF_UP as u16)
    };
    if want == f {
        return Ok(());
    }
    f = want;
    ifr.set_flags(f);
    ioctl_ifreq(sock, libc::SIOCSIFFLAGS, &mut ifr)
}

/// (st_dev, st_ino) of a namespace file: equal pairs mean the same namespace.
pub type NsInode = (u64, u64);

pub fn fstat_ino(fd: RawFd) -> io::Result<NsInode> {
    let mut st: libc::stat = unsafe { mem::zeroed() };
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok((st.st_dev, st.st_ino))
}

/// The network namespace of the calling thread.
pub fn current_netns() -> io::Result<OwnedFd> {
    open_path(c"/proc/thread-self/ns/net", libc::O_RDONLY)
}

pub fn open_path(path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt(unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A nonblocking eventfd, used to wake a thread blocked in poll().
pub fn eventfd() -> io::Result<OwnedFd> {
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn eventfd_signal(fd: &OwnedFd) {
    let one: u64 = 1;
    unsafe { libc::write(fd.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8) };
}

pub fn eventfd_drain(fd: &OwnedFd) {
    let mut v: u64 = 0;
    unsafe { libc::read(fd.as_raw_fd(), &mut v as *mut u64 as *mut libc::c_void, 8) };
}

pub fn iovec(p: &[u8]) -> libc::iovec {
    libc::iovec {
        iov_base: p.as_ptr() as *mut libc::c_void,
        iov_len: p.len(),
    }
}

pub fn iovec_mut(p: &mut [u8]) -> libc::iovec {
    libc::iovec {
        iov_base: p.as_mut_ptr() as *mut libc::c_void,
        iov_len: p.len(),
    }
}

pub fn is_would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}
