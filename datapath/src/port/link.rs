//! Link state of ports, wherever their interface is — including a TAP we
//! created and that was then moved into another network namespace (how tests
//! make "VMs": `ip link set tapX netns ns1`), whose state is the one it has
//! *there*: UP when it is up in ns1, LINK_DOWN when it is set down there.
//!
//! How (Linux >= 5.2; checked on 6.18):
//! * One NETLINK_ROUTE socket bound to RTMGRP_LINK with NETLINK_LISTEN_ALL_NSID:
//!   RTM_NEWLINK/DELLINK from every namespace that has an *nsid in ours* are
//!   delivered, the nsid in a SOL_NETLINK/NETLINK_LISTEN_ALL_NSID cmsg (none
//!   for our own namespace).
//! * A move out of our namespace is an RTM_DELLINK here carrying
//!   IFLA_NEW_NETNSID (the target's nsid in ours) and IFLA_NEW_IFINDEX. The
//!   kernel *allocates* that nsid for the move (`peernet2id_alloc` in
//!   `__dev_change_net_namespace`), so after `ip link set X netns ns1` ns1 always
//!   has an id and its events reach us.
//! * A namespace made with `ip netns add` has no id until something allocates
//!   one (a move into it, a veth peer created there, or RTM_NEWNSID). For a TAP
//!   we ask the fd where it is (TUNGETIFF: current name, TUNGETDEVNETNS: its
//!   namespace as an fd), and if that namespace has no id in ours we assign one
//!   with RTM_NEWNSID (NETNSA_FD + NETNSA_NSID = -1: kernel picks) — works as
//!   root (CAP_NET_ADMIN over both namespaces).
//! * State queries: RTM_GETLINK with IFLA_TARGET_NETNSID (+ IFLA_IFNAME or the
//!   ifindex). `up` = IFF_UP, `carrier` = IFF_LOWER_UP.
//! * Moving a device closes it (NETDEV_DOWN in the old namespace, reported as a
//!   down NEWLINK before the DELLINK), so a moved TAP reports DOWN until it is
//!   set up in its new namespace.
//! * When a namespace is destroyed, the kernel unhashes its nsids *before* its
//!   devices are unregistered, so the RTM_DELLINK of a TAP dying with its
//!   namespace never reaches us. What does reach us (RTNLGRP_NSID) is the
//!   RTM_DELNSID of that id: every watched link in that namespace is reported
//!   gone then (a TAP is deleted with its namespace; a physical NIC would be
//!   moved back to the initial namespace and found again by the sweep). Our
//!   TAP fd then answers EBADFD, which the data plane sees at once.
//! * Anything missed (netlink overrun: ENOBUFS) is caught by a periodic sweep
//!   that re-resolves every watched link.
//! * Moves between two foreign namespaces carry an IFLA_NEW_NETNSID relative to
//!   the *old* namespace, which we cannot translate; TAP watches re-resolve
//!   through the fd, other watches report the link gone (a `Name` watch picks it
//!   up again when an interface of that name appears in our namespace).

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::netlink::{self, LinkMsg, Rtnl, Target};
use super::sys;
use super::tap::TapPort;
use super::{LinkState, MacAddr};

/// The caller's identity for a watched port (e.g. its OpenFlow port number).
pub type PortKey = u32;

/// A link as seen from our namespace: `nsid` None = in our namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkId {
    pub nsid: Option<i32>,
    pub ifindex: i32,
}

/// Result of a one-shot [`query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub id: LinkId,
    pub name: String,
    pub state: LinkState,
    pub mac: Option<MacAddr>,
}

/// What to look up with [`query`].
#[derive(Clone, Copy, Debug)]
pub enum LinkQuery<'a> {
    /// By name in our namespace.
    Name(&'a str),
    /// By name in the namespace with id `nsid` in ours.
    NameIn { nsid: i32, name: &'a str },
    /// By (nsid, ifindex).
    Id(LinkId),
}

fn info_of(nsid: Option<i32>, l: LinkMsg) -> LinkInfo {
    LinkInfo {
        id: LinkId {
            nsid,
            ifindex: l.ifindex,
        },
        state: LinkState::from_ifi_flags(l.flags),
        name: l.name,
        mac: l.mac.map(MacAddr),
    }
}

fn query_with(rtnl: &Rtnl, q: LinkQuery<'_>) -> io::Result<Option<LinkInfo>> {
    let (nsid, t) = match q {
        LinkQuery::Name(n) => (None, Target::Name(n)),
        LinkQuery::NameIn { nsid, name } => (Some(nsid), Target::Name(name)),
        LinkQuery::Id(id) => (id.nsid, Target::Index(id.ifindex)),
    };
    Ok(rtnl.get_link(nsid, t)?.map(|l| info_of(nsid, l)))
}

/// One-shot link lookup from the calling thread's namespace. Ok(None): no such
/// link (or no namespace with that id).
pub fn query(q: LinkQuery<'_>) -> io::Result<Option<LinkInfo>> {
    query_with(&Rtnl::open()?, q)
}

/// The id that the calling thread's namespace has for namespace `ns` (an fd of
/// /proc/PID/ns/net or /run/netns/NAME); with `assign`, gives it one if it has
/// none (RTM_NEWNSID).
pub fn netns_id(ns: BorrowedFd<'_>, assign: bool) -> io::Result<Option<i32>> {
    let rtnl = Rtnl::open()?;
    if assign {
        rtnl.ensure_nsid(ns.as_raw_fd()).map(Some)
    } else {
        rtnl.get_nsid(ns.as_raw_fd())
    }
}

/// [`netns_id`] for a namespace file path such as `/run/netns/ns1`.
pub fn netns_id_of_path(path: &Path, assign: bool) -> io::Result<Option<i32>> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::ErrorKind::InvalidInput)?;
    let fd = sys::open_path(&c, libc::O_RDONLY)?;
    netns_id(fd_borrow(&fd), assign)
}

fn fd_borrow(fd: &OwnedFd) -> BorrowedFd<'_> {
    use std::os::fd::AsFd;
    fd.as_fd()
}

/// A handle on a [`TapPort`]'s fd that does not keep the TAP alive.
#[derive(Clone)]
pub struct TapLocator(pub(crate) Weak<OwnedFd>);

/// A link state change of a watched port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkEvent {
    pub key: PortKey,
    /// Where the link is now; None when it is gone (deleted, its namespace
    /// destroyed, or the TapPort dropped).
    pub link: Option<LinkId>,
    /// Its current name (the last known one when gone).
    pub name: String,
    /// [`LinkState::DOWN`] when gone.
    pub state: LinkState,
}

/// What a watch follows.
enum WatchTarget {
    /// An interface of our namespace by name; followed by ifindex (and into
    /// another namespace) once found; re-found by name when it reappears.
    Name(String),
    Link(LinkId),
    Tap(TapLocator),
}

struct Watch {
    target: WatchTarget,
    link: Option<LinkId>,
    name: String,
    current: LinkState,
    /// Last reported (None: nothing reported yet).
    reported: Option<(Option<LinkId>, LinkState)>,
}

enum Cmd {
    Watch(PortKey, WatchTarget),
    Unwatch(PortKey),
    Resync,
}

struct Shared {
    cmds: Mutex<Vec<Cmd>>,
    wake: OwnedFd,
    stop: AtomicBool,
}

/// Watches the link state of registered ports and reports changes from a
/// background thread. Dropping it stops the thread.
pub struct LinkMonitor {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Default period of the full re-resolution sweep.
pub const DEFAULT_SWEEP: Duration = Duration::from_secs(2);

impl LinkMonitor {
    /// Starts the monitor in the calling thread's namespace ("ours");
    /// `on_event` runs on the monitor thread for every change of a watched
    /// port's (location, state), starting with its first resolution.
    pub fn spawn<F>(on_event: F) -> io::Result<LinkMonitor>
    where
        F: FnMut(LinkEvent) + Send + 'static,
    {
        Self::spawn_with_sweep(on_event, DEFAULT_SWEEP)
    }

    /// [`spawn`](Self::spawn) with events on a channel.
    pub fn channel() -> io::Result<(LinkMonitor, mpsc::Receiver<LinkEvent>)> {
        let (tx, rx) = mpsc::channel();
        let m = Self::spawn(move |e| {
            let _ = tx.send(e);
        })?;
        Ok((m, rx))
    }

    /// [`spawn`](Self::spawn) with a given sweep period (how soon a change
    /// that sends no event here — a TAP dying with its namespace — is seen).
    pub fn spawn_with_sweep<F>(on_event: F, sweep: Duration) -> io::Result<LinkMonitor>
    where
        F: FnMut(LinkEvent) + Send + 'static,
    {
        // Sockets are opened here so they live in the caller's namespace.
        let listener = netlink::open_link_listener()?;
        let rtnl = Rtnl::open()?;
        let own = sys::current_netns()?;
        let self_nsid = rtnl.get_nsid(own.as_raw_fd()).unwrap_or(None);
        let shared = Arc::new(Shared {
            cmds: Mutex::new(Vec::new()),
            wake: sys::eventfd()?,
            stop: AtomicBool::new(false),
        });
        let mut w = Worker {
            shared: shared.clone(),
            listener,
            rtnl,
            self_nsid,
            watches: HashMap::new(),
            on_event: Box::new(on_event),
            sweep,
        };
        let thread = std::thread::Builder::new()
            .name("tapflow-link".into())
            .spawn(move || w.run())?;
        Ok(LinkMonitor {
            shared,
            thread: Some(thread),
        })
    }

    fn cmd(&self, c: Cmd) {
        self.shared
            .cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(c);
        sys::eventfd_signal(&self.shared.wake);
    }

    /// Watches interface `name` of our namespace (a `system` port).
    pub fn watch_name(&self, key: PortKey, name: &str) {
        self.cmd(Cmd::Watch(key, WatchTarget::Name(name.to_string())));
    }

    /// Watches a link by id.
    pub fn watch_link(&self, key: PortKey, id: LinkId) {
        self.cmd(Cmd::Watch(key, WatchTarget::Link(id)));
    }

    /// Watches a TAP we hold, wherever its interface goes.
    pub fn watch_tap(&self, key: PortKey, tap: &TapPort) {
        self.cmd(Cmd::Watch(key, WatchTarget::Tap(tap.locator())));
    }

    pub fn unwatch(&self, key: PortKey) {
        self.cmd(Cmd::Unwatch(key));
    }

    /// Re-resolves every watch now.
    pub fn resync(&self) {
        self.cmd(Cmd::Resync);
    }
}

impl Drop for LinkMonitor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        sys::eventfd_signal(&self.shared.wake);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    listener: OwnedFd,
    rtnl: Rtnl,
    self_nsid: Option<i32>,
    watches: HashMap<PortKey, Watch>,
    on_event: Box<dyn FnMut(LinkEvent) + Send>,
    sweep: Duration,
}

impl Worker {
    fn run(&mut self) {
        let mut buf = vec![0u8; 1 << 16];
        let mut next_sweep = Instant::now() + self.sweep;
        loop {
            let timeout = next_sweep.saturating_duration_since(Instant::now());
            let mut pfd = [
                libc::pollfd {
                    fd: self.listener.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.shared.wake.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            unsafe { libc::poll(pfd.as_mut_ptr(), 2, ms) };
            if self.shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let mut resync = false;
            if pfd[1].revents != 0 {
                sys::eventfd_drain(&self.shared.wake);
                let cmds = std::mem::take(
                    &mut *self.shared.cmds.lock().unwrap_or_else(|e| e.into_inner()),
                );
                for c in cmds {
                    match c {
                        Cmd::Watch(key, target) => {
                            let name = match &target {
                                WatchTarget::Name(n) => n.clone(),
                                _ => String::new(),
                            };
                            self.watches.insert(
                                key,
                                Watch {
                                    target,
                                    link: None,
                                    name,
                                    current: LinkState::DOWN,
                                    reported: None,
                                },
                            );
                            self.resolve(key);
                        }
                        Cmd::Unwatch(key) => {
                            self.watches.remove(&key);
                        }
                        Cmd::Resync => resync = true,
                    }
                }
            }
            if pfd[0].revents != 0 {
                loop {
                    match netlink::recv_with_nsid(self.listener.as_raw_fd(), &mut buf) {
                        Ok((n, nsid)) => {
                            let nsid = if nsid.is_some() && nsid == self.self_nsid {
                                None
                            } else {
                                nsid
                            };
                            self.handle(&buf[..n], nsid);
                        }
                        Err(e) if sys::is_would_block(&e) => break,
                        // Overrun: events were lost; re-resolve everything.
                        Err(_) => {
                            resync = true;
                            break;
                        }
                    }
                }
            }
            if resync || Instant::now() >= next_sweep {
                let keys: Vec<PortKey> = self.watches.keys().copied().collect();
                for k in keys {
                    self.resolve(k);
                }
                next_sweep = Instant::now() + self.sweep;
            }
        }
    }

    fn report(&mut self, key: PortKey) {
        let Some(w) = self.watches.get_mut(&key) else {
            return;
        };
        let state = if w.link.is_some() {
            w.current
        } else {
            LinkState::DOWN
        };
        let now = (w.link, state);
        if w.reported != Some(now) {
            w.reported = Some(now);
            let ev = LinkEvent {
                key,
                link: w.link,
                name: w.name.clone(),
                state,
            };
            (self.on_event)(ev);
        }
    }

    /// Records a fresh observation and reports it if it changed anything.
    fn observe(&mut self, key: PortKey, info: Option<LinkInfo>) {
        let Some(w) = self.watches.get_mut(&key) else {
            return;
        };
        match info {
            Some(i) => {
                w.link = Some(i.id);
                w.name = i.name;
                w.current = i.state;
            }
            None => {
                w.link = None;
                w.current = LinkState::DOWN;
            }
        }
        self.report(key);
    }

    /// Finds the watched link from scratch (or from its last known id).
    fn resolve(&mut self, key: PortKey) {
        let Some(w) = self.watches.get(&key) else {
            return;
        };
        let r = match (&w.target, w.link) {
            (WatchTarget::Tap(loc), _) => loc.locate(&self.rtnl),
            (WatchTarget::Name(_), Some(id)) | (WatchTarget::Link(_), Some(id)) => {
                query_with(&self.rtnl, LinkQuery::Id(id))
            }
            (WatchTarget::Name(n), None) => query_with(&self.rtnl, LinkQuery::Name(n)),
            (WatchTarget::Link(id), None) => query_with(&self.rtnl, LinkQuery::Id(*id)),
        };
        match r {
            Ok(info) => self.observe(key, info),
            // Transient (e.g. the namespace is being torn down): keep the last
            // state; the next sweep tries again.
            Err(_) => {
                if self.watches.get(&key).is_some_and(|w| w.reported.is_none()) {
                    self.observe(key, None);
                }
            }
        }
    }

    fn handle(&mut self, buf: &[u8], nsid: Option<i32>) {
        for m in netlink::messages(buf) {
            if m.ty == netlink::RTM_DELNSID && nsid.is_none() {
                // A namespace is being destroyed: its id is dropped before its
                // devices are, and their RTM_DELLINKs will not reach us.
                if let Some(dead) = netlink::parse_nsid(m.payload) {
                    let keys: Vec<PortKey> = self
                        .watches
                        .iter()
                        .filter(|(_, w)| w.link.is_some_and(|l| l.nsid == Some(dead)))
                        .map(|(k, _)| *k)
                        .collect();
                    for key in keys {
                        self.observe(key, None);
                    }
                }
                continue;
            }
            if m.ty != netlink::RTM_NEWLINK && m.ty != netlink::RTM_DELLINK {
                continue;
            }
            let Some(l) = netlink::parse_link(m.payload) else {
                continue;
            };
            let id = LinkId {
                nsid,
                ifindex: l.ifindex,
            };
            let keys: Vec<PortKey> = self
                .watches
                .iter()
                .filter(|(_, w)| {
                    w.link == Some(id)
                        || (w.link.is_none()
                            && nsid.is_none()
                            && m.ty == netlink::RTM_NEWLINK
                            && matches!(&w.target, WatchTarget::Name(n) if *n == l.name))
                })
                .map(|(k, _)| *k)
                .collect();
            for key in keys {
                if m.ty == netlink::RTM_NEWLINK {
                    self.observe(key, Some(info_of(nsid, l.clone())));
                    continue;
                }
                // RTM_DELLINK: moved or deleted.
                let is_tap = matches!(self.watches[&key].target, WatchTarget::Tap(_));
                if let (None, Some(new_nsid)) = (nsid, l.new_nsid) {
                    // Moved out of our namespace: the nsid is ours for the target.
                    let new_id = LinkId {
                        nsid: Some(new_nsid).filter(|&n| Some(n) != self.self_nsid),
                        ifindex: l.new_ifindex.unwrap_or(l.ifindex),
                    };
                    if let Some(w) = self.watches.get_mut(&key) {
                        w.link = Some(new_id);
                    }
                    self.resolve(key);
                } else if is_tap {
                    self.resolve(key);
                } else {
                    self.observe(key, None);
                }
            }
        }
    }
}
