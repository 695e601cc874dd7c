//! A minimal rtnetlink (NETLINK_ROUTE) client: RTM_GETLINK (also in other
//! namespaces through IFLA_TARGET_NETNSID), RTM_GETNSID/RTM_NEWNSID, and the
//! RTMGRP_LINK multicast listener with NETLINK_LISTEN_ALL_NSID.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use super::sys::{self, cvt, cvt_size, NsInode};

// linux/rtnetlink.h, linux/if_link.h, linux/net_namespace.h, linux/netlink.h
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
const RTM_NEWNSID: u16 = 88;
pub const RTM_DELNSID: u16 = 89;
const RTM_GETNSID: u16 = 90;
const RTMGRP_LINK: u32 = 1;
/// RTNLGRP_NSID (28) as a legacy group bit.
const RTMGRP_NSID: u32 = 1 << (28 - 1);
pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_NEW_NETNSID: u16 = 45;
pub const IFLA_TARGET_NETNSID: u16 = 46;
pub const IFLA_NEW_IFINDEX: u16 = 49;
const NETNSA_NSID: u16 = 1;
const NETNSA_FD: u16 = 3;
const NLA_TYPE_MASK: u16 = 0x3fff;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_LISTEN_ALL_NSID: libc::c_int = 8;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A netlink request under construction.
struct Req(Vec<u8>);

impl Req {
    fn new(ty: u16, flags: u16) -> Req {
        let mut v = vec![0u8; NLMSG_HDRLEN];
        v[4..6].copy_from_slice(&ty.to_ne_bytes());
        v[6..8].copy_from_slice(&(flags | libc::NLM_F_REQUEST as u16).to_ne_bytes());
        Req(v)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self.0.resize(align4(self.0.len()), 0);
        self
    }
    fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = (4 + data.len()) as u16;
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.bytes(data)
    }
    fn finish(&mut self, seq: u32) -> &[u8] {
        let len = self.0.len() as u32;
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.0
    }
}

/// One netlink message out of a receive buffer.
pub struct Msg<'a> {
    pub ty: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = Msg<'_>> {
    std::iter::from_fn(move || {
        if buf.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return None;
        }
        let m = Msg {
            ty: u16::from_ne_bytes([buf[4], buf[5]]),
            seq: u32::from_ne_bytes(buf[8..12].try_into().unwrap()),
            payload: &buf[NLMSG_HDRLEN..len],
        };
        buf = &buf[align4(len).min(buf.len())..];
        Some(m)
    })
}

pub fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > buf.len() {
            return None;
        }
        let a = (ty, &buf[4..len]);
        buf = &buf[align4(len).min(buf.len())..];
        Some(a)
    })
}

fn attr_i32(v: &[u8]) -> Option<i32> {
    v.get(..4)
        .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
}

/// NETNSA_NSID of an RTM_NEWNSID/RTM_DELNSID message.
pub fn parse_nsid(payload: &[u8]) -> Option<i32> {
    let mut id = None;
    if payload.len() >= 4 {
        for (ty, v) in attrs(&payload[4..]) {
            if ty == NETNSA_NSID {
                id = attr_i32(v).filter(|&i| i >= 0);
            }
        }
    }
    id
}

/// The fields of an RTM_NEWLINK/RTM_DELLINK message we use.
#[derive(Clone, Debug, Default)]
pub struct LinkMsg {
    pub ifindex: i32,
    pub flags: u32,
    pub name: String,
    pub mac: Option<[u8; 6]>,
    /// RTM_DELLINK of a device moving to another namespace: that namespace's
    /// id as seen from the namespace the message comes from, and the ifindex
    /// the device has there.
    pub new_nsid: Option<i32>,
    pub new_ifindex: Option<i32>,
}

pub fn parse_link(payload: &[u8]) -> Option<LinkMsg> {
    if payload.len() < IFINFOMSG_LEN {
        return None;
    }
    let mut l = LinkMsg {
        ifindex: i32::from_ne_bytes(payload[4..8].try_into().unwrap()),
        flags: u32::from_ne_bytes(payload[8..12].try_into().unwrap()),
        ..LinkMsg::default()
    };
    for (ty, v) in attrs(&payload[IFINFOMSG_LEN..]) {
        match ty {
            IFLA_IFNAME => {
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                l.name = String::from_utf8_lossy(&v[..end]).into_owned();
            }
            IFLA_ADDRESS if v.len() == 6 => l.mac = Some(v.try_into().unwrap()),
            IFLA_NEW_NETNSID => l.new_nsid = attr_i32(v),
            IFLA_NEW_IFINDEX => l.new_ifindex = attr_i32(v),
            _ => {}
        }
    }
    Some(l)
}

/// How to find a link for [`Rtnl::get_link`].
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Name(&'a str),
    Index(i32),
}

/// A request/response rtnetlink socket, in the namespace of the thread that
/// opened it ("our" namespace for the nsids it uses and reports).
pub struct Rtnl {
    fd: OwnedFd,
    ns: NsInode,
    state: Mutex<(u32, Vec<u8>)>,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        let fd = sys::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
        // A reply never takes long; don't let a lost one hang the caller.
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        sys::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)?;
        let ns = sys::fstat_ino(sys::current_netns()?.as_raw_fd())?;
        Ok(Rtnl {
            fd,
            ns,
            state: Mutex::new((0, vec![0u8; 65536])),
        })
    }

    /// Identity of the namespace this socket lives in.
    pub fn netns(&self) -> NsInode {
        self.ns
    }

    /// Sends a request and hands every reply message with its sequence number
    /// to `on_msg` until the kernel's ACK/error (or the single reply of a
    /// non-ACKed GET). Returns the kernel's error for the request, if any.
    fn transact(
        &self,
        req: &mut Req,
        ack: bool,
        mut on_msg: impl FnMut(&Msg<'_>),
    ) -> io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.0 = st.0.wrapping_add(1).max(1);
        let seq = st.0;
        let msg = req.finish(seq);
        let mut sa: libc::sockaddr_nl = unsafe { mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        sys::retry(|| {
            cvt_size(unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr() as *const libc::c_void,
                    msg.len(),
                    0,
                    &sa as *const _ as *const libc::sockaddr,
                    mem::size_of::<libc::sockaddr_nl>() as u32,
                )
            })
        })?;
        let buf = &mut st.1;
        loop {
            let n = sys::retry(|| {
                cvt_size(unsafe {
                    libc::recv(
                        self.fd.as_raw_fd(),
                        buf.as_mut_ptr() as *mut libc::c_void,
                        buf.len(),
                        0,
                    )
                })
            })?;
            let mut done = false;
            let mut result = Ok(());
            for m in messages(&buf[..n]) {
                if m.seq != seq {
                    continue; // a late reply to an earlier, timed-out request
                }
                match m.ty as libc::c_int {
                    libc::NLMSG_ERROR => {
                        let err = attr_i32(m.payload).unwrap_or(-libc::EPROTO);
                        if err != 0 {
                            result = Err(io::Error::from_raw_os_error(-err));
                        }
                        done = true;
                    }
                    libc::NLMSG_DONE => done = true,
                    _ => {
                        on_msg(&m);
                        if !ack {
                            done = true;
                        }
                    }
                }
            }
            if done {
                return result;
            }
        }
    }

    /// RTM_GETLINK for one link, in our namespace (`nsid` None) or in the
    /// namespace with that id in ours. Ok(None): no such link (or namespace).
    pub fn get_link(&self, nsid: Option<i32>, target: Target<'_>) -> io::Result<Option<LinkMsg>> {
        let mut req = Req::new(RTM_GETLINK, 0);
        let mut ifi = [0u8; IFINFOMSG_LEN];
        if let Target::Index(i) = target {
            ifi[4..8].copy_from_slice(&i.to_ne_bytes());
        }
        req.bytes(&ifi);
        if let Target::Name(n) = target {
            sys::check_ifname(n)?;
            let mut z = n.as_bytes().to_vec();
            z.push(0);
            req.attr(IFLA_IFNAME, &z);
        }
        if let Some(id) = nsid {
            req.attr(IFLA_TARGET_NETNSID, &id.to_ne_bytes());
        }
        let mut out = None;
        let r = self.transact(&mut req, false, |m| {
            if m.ty == RTM_NEWLINK {
                out = parse_link(m.payload);
            }
        });
        match r {
            Ok(()) => Ok(out),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            // The namespace with that nsid is gone (get_net_ns_by_id failed).
            Err(e) if nsid.is_some() && e.raw_os_error() == Some(libc::EINVAL) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// RTM_GETNSID: the id our namespace has for the namespace `ns_fd` refers
    /// to (None: not assigned).
    pub fn get_nsid(&self, ns_fd: RawFd) -> io::Result<Option<i32>> {
        let mut req = Req::new(RTM_GETNSID, 0);
        req.bytes(&[libc::AF_UNSPEC as u8, 0, 0, 0])
            .attr(NETNSA_FD, &(ns_fd as u32).to_ne_bytes());
        let mut id = None;
        self.transact(&mut req, false, |m| {
            if m.ty == RTM_NEWNSID {
                id = parse_nsid(m.payload);
            }
        })?;
        Ok(id)
    }

    /// The id of namespace `ns_fd` in ours, assigning one (RTM_NEWNSID with
    /// NETNSA_NSID -1: the kernel picks the lowest free id) if it has none —
    /// without an id, that namespace's link events are not delivered to a
    /// NETLINK_LISTEN_ALL_NSID listener and IFLA_TARGET_NETNSID cannot name it.
    pub fn ensure_nsid(&self, ns_fd: RawFd) -> io::Result<i32> {
        if let Some(id) = self.get_nsid(ns_fd)? {
            return Ok(id);
        }
        let mut req = Req::new(RTM_NEWNSID, libc::NLM_F_ACK as u16);
        req.bytes(&[libc::AF_UNSPEC as u8, 0, 0, 0])
            .attr(NETNSA_FD, &(ns_fd as u32).to_ne_bytes())
            .attr(NETNSA_NSID, &(-1i32).to_ne_bytes());
        match self.transact(&mut req, true, |_| {}) {
            // EEXIST: someone assigned one meanwhile.
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(e),
            _ => {}
        }
        self.get_nsid(ns_fd)?.ok_or_else(|| {
            io::Error::other("RTM_NEWNSID succeeded but the namespace still has no id")
        })
    }
}

/// A nonblocking RTMGRP_LINK listener that also hears every namespace that has
/// an id in ours (NETLINK_LISTEN_ALL_NSID), and RTNLGRP_NSID (ids assigned and
/// removed — RTM_DELNSID is how we learn that a namespace is being destroyed).
pub fn open_link_listener() -> io::Result<OwnedFd> {
    let fd = sys::socket(
        libc::AF_NETLINK,
        libc::SOCK_RAW | libc::SOCK_NONBLOCK,
        libc::NETLINK_ROUTE,
    )?;
    let raw = fd.as_raw_fd();
    // Bursts (a namespace torn down with many links) must not overrun us; when
    // they do anyway, recv fails with ENOBUFS and the monitor resyncs.
    let big: libc::c_int = 4 << 20;
    if sys::setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &big).is_err() {
        let _ = sys::setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, &big);
    }
    let on: libc::c_int = 1;
    sys::setsockopt(raw, SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, &on)?;
    let mut sa: libc::sockaddr_nl = unsafe { mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_NSID;
    cvt(unsafe {
        libc::bind(
            raw,
            &sa as *const _ as *const libc::sockaddr,
            mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    })?;
    Ok(fd)
}

/// Receives one datagram from a listener: its length and, for a message from
/// another namespace, that namespace's id (the NETLINK_LISTEN_ALL_NSID cmsg).
pub fn recv_with_nsid(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<i32>)> {
    let mut iov = sys::iovec_mut(buf);
    let mut cbuf = [0u64; 8];
    let mut mh: libc::msghdr = unsafe { mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    mh.msg_controllen = mem::size_of_val(&cbuf) as _;
    let n = sys::retry(|| cvt_size(unsafe { libc::recvmsg(fd, &mut mh, 0) }))?;
    let mut nsid = None;
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&mh);
        while !c.is_null() {
            if (*c).cmsg_level == SOL_NETLINK && (*c).cmsg_type == NETLINK_LISTEN_ALL_NSID {
                nsid = Some(std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const i32));
            }
            c = libc::CMSG_NXTHDR(&mh, c);
        }
    }
    Ok((n, nsid))
}
