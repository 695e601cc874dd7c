//! `tap` ports: TAP devices we create and hold through /dev/net/tun, and the
//! persistent TAPs `tapflow mktap`/`rmtap` make for QEMU/libvirt.
//!
//! The interface is the *far end* of the port: what the kernel transmits on it
//! we read from the fd, and what we write to the fd the interface receives. In
//! tests the interface is moved into a network namespace and plays a VM's NIC.
//!
//! One queue per port for now; IFF_MULTI_QUEUE (TUNSETQUEUE, one fd per worker)
//! is the later step the design names. A TAP fd has no batch syscall, so
//! `recv_batch` is a loop of read(2) until EAGAIN.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use super::batch::PacketBatch;
use super::link::{LinkId, LinkInfo, TapLocator};
use super::netlink::{Rtnl, Target};
use super::offload::{offload_checksum, Offloads, VnetHdr};
use super::sys::{self, cvt, cvt_size, IfReq};
use super::{LinkState, MacAddr, Port, TxMeta};

const IFF_TAP: u16 = 0x0002;
const IFF_MULTI_QUEUE: u16 = 0x0100;
const IFF_NO_PI: u16 = 0x1000;
const IFF_VNET_HDR: u16 = 0x4000;
const IFF_TUN_EXCL: u16 = 0x8000;
const TUN_F_CSUM: u32 = 0x01;
const TUN_F_TSO4: u32 = 0x02;
const TUN_F_TSO6: u32 = 0x04;
const TUN_F_TSO_ECN: u32 = 0x08;
const TUN_F_UFO: u32 = 0x10;
const TUN_F_USO4: u32 = 0x20;
const TUN_F_USO6: u32 = 0x40;

/// Options for [`TapPort::create`].
#[derive(Clone, Debug)]
pub struct TapOpts {
    /// IFF_VNET_HDR: every read and write carries a virtio-net header, so frames
    /// with unfinished checksums and GSO frames up to 64 KiB cross unsegmented.
    pub vnet_hdr: bool,
    /// With `vnet_hdr`: what we accept from the kernel (TUNSETOFFLOAD); this
    /// becomes the interface's tx offload features. Default: checksum, TSO4/6.
    pub rx_offloads: Offloads,
    /// Fail if an interface of that name exists (IFF_TUN_EXCL) instead of
    /// attaching to it. Only a TAP we created disappears when we drop it.
    pub exclusive: bool,
    /// Set the interface up after creating it.
    pub bring_up: bool,
}

impl Default for TapOpts {
    fn default() -> Self {
        TapOpts {
            vnet_hdr: false,
            rx_offloads: Offloads {
                csum: true,
                tso4: true,
                tso6: true,
                tso_ecn: true,
                udp: false,
            },
            exclusive: true,
            bring_up: true,
        }
    }
}

/// A TAP device created and held by us.
pub struct TapPort {
    /// Shared only with [`TapLocator`]s (weakly), so dropping the port closes it.
    fd: Arc<OwnedFd>,
    name: String,
    mac: MacAddr,
    vnet_hdr: bool,
    rtnl: Rtnl,
}

fn open_tun(nonblocking: bool) -> io::Result<OwnedFd> {
    let flags = libc::O_RDWR | if nonblocking { libc::O_NONBLOCK } else { 0 };
    sys::open_path(c"/dev/net/tun", flags)
        .map_err(|e| io::Error::new(e.kind(), format!("/dev/net/tun: {e}")))
}

fn tunsetiff(fd: RawFd, name: &str, flags: u16) -> io::Result<String> {
    let mut ifr = IfReq {
        name: [0; sys::IFNAMSIZ],
        data: [0; 24],
    };
    if !name.is_empty() {
        ifr = IfReq::new(name)?;
    }
    ifr.set_flags(flags);
    sys::ioctl_ifreq(fd, libc::TUNSETIFF, &mut ifr)?;
    Ok(ifr.name())
}

impl TapPort {
    /// Creates TAP `name` (empty: the kernel picks `tapN`), IFF_TAP|IFF_NO_PI,
    /// nonblocking, up. With the default options the interface is ours alone and
    /// disappears when the port is dropped.
    pub fn create(name: &str, opts: &TapOpts) -> io::Result<TapPort> {
        let fd = open_tun(true)?;
        let mut flags = IFF_TAP | IFF_NO_PI;
        if opts.vnet_hdr {
            flags |= IFF_VNET_HDR;
        }
        if opts.exclusive {
            flags |= IFF_TUN_EXCL;
        }
        let name = tunsetiff(fd.as_raw_fd(), name, flags).map_err(|e| {
            if e.raw_os_error() == Some(libc::EBUSY) && opts.exclusive {
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("TAP {name}: interface exists ({e})"),
                )
            } else {
                io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}"))
            }
        })?;
        if opts.vnet_hdr {
            let sz: libc::c_int = VnetHdr::LEN as libc::c_int;
            cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &sz) })?;
            let o = &opts.rx_offloads;
            let mut f = 0;
            if o.csum {
                f |= TUN_F_CSUM;
                if o.tso4 {
                    f |= TUN_F_TSO4;
                }
                if o.tso6 {
                    f |= TUN_F_TSO6;
                }
                if o.tso_ecn && (o.tso4 || o.tso6) {
                    f |= TUN_F_TSO_ECN;
                }
                if o.udp {
                    f |= TUN_F_UFO | TUN_F_USO4 | TUN_F_USO6;
                }
            }
            if let Err(e) = sys::ioctl_val(fd.as_raw_fd(), libc::TUNSETOFFLOAD, f as libc::c_ulong)
            {
                // Older kernels know no USO: retry without it.
                if f & TUN_F_USO4 == 0 {
                    return Err(e);
                }
                sys::ioctl_val(
                    fd.as_raw_fd(),
                    libc::TUNSETOFFLOAD,
                    (f & !(TUN_F_USO4 | TUN_F_USO6)) as libc::c_ulong,
                )?;
            }
        }
        let sock = sys::ioctl_socket()?;
        if opts.bring_up {
            sys::if_set_up(sock.as_raw_fd(), &name, true)?;
        }
        let mac = MacAddr(sys::if_hwaddr(sock.as_raw_fd(), &name)?);
        Ok(TapPort {
            fd: Arc::new(fd),
            name,
            mac,
            vnet_hdr: opts.vnet_hdr,
            rtnl: Rtnl::open()?,
        })
    }

    /// Whether frames carry a virtio-net header (IFF_VNET_HDR).
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// Where the interface is now (it may have been moved to another namespace
    /// or renamed there); None once it is gone. Assigns the namespace an id in
    /// ours if it has none.
    pub fn current_link(&self) -> io::Result<Option<LinkInfo>> {
        locate(self.fd.as_raw_fd(), &self.rtnl)
    }

    /// A weak handle for [`LinkMonitor::watch_tap`](super::LinkMonitor::watch_tap)
    /// that does not keep the TAP alive.
    pub fn locator(&self) -> TapLocator {
        TapLocator(Arc::downgrade(&self.fd))
    }

    fn write_frame(&self, iov: &[libc::iovec]) -> io::Result<()> {
        let want: usize = iov.iter().map(|v| v.iov_len).sum();
        let n = sys::retry(|| {
            cvt_size(unsafe {
                libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int)
            })
        })?;
        if n != want {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write {n}/{want}"),
            ));
        }
        Ok(())
    }
}

/// TUNGETIFF (current name) + TUNGETDEVNETNS (current namespace) on a TAP fd,
/// then RTM_GETLINK there. Ok(None): the interface is gone (EBADFD).
pub(crate) fn locate(fd: RawFd, rtnl: &Rtnl) -> io::Result<Option<LinkInfo>> {
    let gone = |e: &io::Error| e.raw_os_error() == Some(libc::EBADFD);
    let mut ifr = IfReq {
        name: [0; sys::IFNAMSIZ],
        data: [0; 24],
    };
    match sys::ioctl_ifreq(fd, libc::TUNGETIFF, &mut ifr) {
        Err(e) if gone(&e) => return Ok(None),
        r => r?,
    }
    let name = ifr.name();
    // EINVAL: the namespace is being destroyed (no reference can be taken on
    // it any more); the TAP goes with it.
    let dying = |e: &io::Error| e.raw_os_error() == Some(libc::EINVAL);
    let ns = match cvt(unsafe { libc::ioctl(fd, libc::TUNGETDEVNETNS) }) {
        Err(e) if gone(&e) || dying(&e) => return Ok(None),
        r => unsafe { OwnedFd::from_raw_fd(r?) },
    };
    let nsid = if sys::fstat_ino(ns.as_raw_fd())? == rtnl.netns() {
        None
    } else {
        match rtnl.ensure_nsid(ns.as_raw_fd()) {
            Err(e) if dying(&e) => return Ok(None),
            r => Some(r?),
        }
    };
    Ok(rtnl.get_link(nsid, Target::Name(&name))?.map(|l| LinkInfo {
        id: LinkId {
            nsid,
            ifindex: l.ifindex,
        },
        name: l.name,
        state: LinkState::from_ifi_flags(l.flags),
        mac: l.mac.map(MacAddr),
    }))
}

impl TapLocator {
    pub(crate) fn locate(&self, rtnl: &Rtnl) -> io::Result<Option<LinkInfo>> {
        match self.0.upgrade() {
            Some(fd) => locate(fd.as_raw_fd(), rtnl),
            None => Ok(None),
        }
    }
}

impl Port for TapPort {
    fn recv_batch(&self, bufs: &mut PacketBatch) -> io::Result<usize> {
        let pre = if self.vnet_hdr { VnetHdr::LEN } else { 0 };
        let fd = self.fd.as_raw_fd();
        let mut n = 0;
        let mut err = None;
        bufs.clear();
        for slot in bufs.slots_mut().iter_mut() {
            let area = slot.rx_area(pre);
            let cap = area.len();
            let r = sys::retry(|| {
                cvt_size(unsafe { libc::read(fd, area.as_mut_ptr() as *mut libc::c_void, cap) })
            });
            match r {
                Ok(k) if k > pre && k <= cap => {
                    let hdr = if pre > 0 {
                        VnetHdr::from_bytes(slot.pre_bytes(pre).try_into().unwrap())
                    } else {
                        VnetHdr::NONE
                    };
                    slot.set_received(k - pre, hdr);
                    n += 1;
                }
                Ok(_) => {} // empty or truncated: drop
                Err(e) => {
                    if !sys::is_would_block(&e) {
                        err = Some(e);
                    }
                    break;
                }
            }
        }
        bufs.set_len(n);
        match err {
            Some(e) if n == 0 => Err(e),
            _ => Ok(n),
        }
    }

    fn send(&self, frame: &[u8], meta: &TxMeta) -> io::Result<()> {
        let h = &meta.offload;
        if self.vnet_hdr {
            let hb = h.to_bytes();
            return self.write_frame(&[sys::iovec(&hb), sys::iovec(frame)]);
        }
        if h.is_gso() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "GSO frame to a TAP without IFF_VNET_HDR: segment it first",
            ));
        }
        if h.needs_csum() {
            // Finish the checksum without touching the caller's frame: write
            // the frame in three pieces around the checksum field.
            let (start, off) = (h.csum_start as usize, h.csum_offset as usize);
            let c = offload_checksum(frame, start, off)?.to_be_bytes();
            let pos = start + off;
            return self.write_frame(&[
                sys::iovec(&frame[..pos]),
                sys::iovec(&c),
                sys::iovec(&frame[pos + 2..]),
            ]);
        }
        self.write_frame(&[sys::iovec(frame)])
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
        match self.current_link() {
            Ok(Some(l)) => l.state,
            _ => LinkState::DOWN,
        }
    }

    fn tx_offloads(&self) -> Offloads {
        if self.vnet_hdr {
            Offloads::ALL
        } else {
            Offloads {
                csum: true, // finished in software by `send`, no copy
                ..Offloads::NONE
            }
        }
    }
}

/// Creates a persistent TAP (TUNSETPERSIST) that `owner`/`group` may open
/// without privileges (TUNSETOWNER/TUNSETGROUP) — what `openvpn --mktun` and
/// `ip tuntap add mode tap user U group G` do. QEMU/libvirt then open it and
/// tapflowd attaches it as a `system` port. Fails if the name exists. Returns
/// the interface's name (the kernel picks one for an empty `name`).
pub fn mktap(
    name: &str,
    owner: Option<libc::uid_t>,
    group: Option<libc::gid_t>,
) -> io::Result<String> {
    let fd = open_tun(false)?;
    let raw = fd.as_raw_fd();
    let name = tunsetiff(raw, name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{name}: interface exists"),
            )
        } else {
            io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}"))
        }
    })?;
    // Until TUNSETPERSIST the TAP vanishes with `fd`, so a failure leaves nothing.
    if let Some(uid) = owner {
        sys::ioctl_val(raw, libc::TUNSETOWNER, uid as libc::c_ulong)?;
    }
    if let Some(gid) = group {
        sys::ioctl_val(raw, libc::TUNSETGROUP, gid as libc::c_ulong)?;
    }
    sys::ioctl_val(raw, libc::TUNSETPERSIST, 1)?;
    Ok(name)
}

/// Removes a persistent TAP (TUNSETPERSIST 0). A TAP still open elsewhere
/// (QEMU running) cannot be attached and fails with EBUSY.
pub fn rmtap(name: &str) -> io::Result<()> {
    sys::if_index(name)?; // never create one by attaching to a missing name
    let fd = open_tun(false)?;
    let raw = fd.as_raw_fd();
    let r = tunsetiff(raw, name, IFF_TAP | IFF_NO_PI)
        .or_else(|e| match e.raw_os_error() {
            // A multiqueue TAP only takes IFF_MULTI_QUEUE attaches.
            Some(libc::EINVAL) => tunsetiff(raw, name, IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE),
            _ => Err(e),
        })
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EINVAL) => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} is not a TAP device"),
            ),
            Some(libc::EBUSY) => io::Error::new(
                e.kind(),
                format!("{name} is in use by another process ({e})"),
            ),
            _ => io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}")),
        });
    r?;
    sys::ioctl_val(raw, libc::TUNSETPERSIST, 0)?;
    Ok(())
}

/// Sets an interface of the calling thread's namespace up or down.
pub fn set_link_up(name: &str, up: bool) -> io::Result<()> {
    let sock = sys::ioctl_socket()?;
    sys::if_set_up(sock.as_raw_fd(), name, up)
}

/// A user name or numeric uid → uid (getpwnam_r).
pub fn lookup_user(user: &str) -> io::Result<libc::uid_t> {
    lookup_id(user, "user", libc::getpwnam_r, |pw| pw.pw_uid)
}

/// A group name or numeric gid → gid (getgrnam_r).
pub fn lookup_group(group: &str) -> io::Result<libc::gid_t> {
    lookup_id(group, "group", libc::getgrnam_r, |gr| gr.gr_gid)
}

/// `getpwnam_r` / `getgrnam_r`: a number is taken as the id itself; a name is
/// looked up, the buffer growing on ERANGE (up to 1 MiB).
fn lookup_id<E, Id: std::str::FromStr>(
    name: &str,
    what: &str,
    getent: unsafe extern "C" fn(
        *const libc::c_char,
        *mut E,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut E,
    ) -> libc::c_int,
    id: fn(&E) -> Id,
) -> io::Result<Id> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let c = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut buf = vec![0u8; 4096];
    loop {
        // `E` is `libc::passwd` or `libc::group`: plain C structs of
        // pointers and integers, for which all-zero is a valid value.
        let mut ent: E = unsafe { std::mem::zeroed() };
        let mut out: *mut E = std::ptr::null_mut();
        let r = unsafe {
            getent(
                c.as_ptr(),
                &mut ent,
                buf.as_mut_ptr() as *mut libc::c_char,
                buf.len(),
                &mut out,
            )
        };
        if r == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if out.is_null() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such {what}: {name}"),
            ));
        }
        return Ok(id(&ent));
    }
}
