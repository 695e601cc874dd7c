//! Test scaffolding: uniquely named namespaces and interfaces that are removed
//! by Drop guards even when a test fails, and helpers to run code inside a
//! namespace and to build/inspect frames.

use std::io;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{offload, PacketBatch, Port, VnetHdr};

/// Root and /dev/net/tun are needed for device tests; elsewhere they skip.
pub fn can_make_devices() -> bool {
    let ok = unsafe { libc::geteuid() } == 0 && std::path::Path::new("/dev/net/tun").exists();
    if !ok {
        eprintln!("skipped: needs root and /dev/net/tun");
    }
    ok
}

/// `tfp<pid><kind><n>`: unique per process and call, at most 15 bytes.
pub fn unique(kind: char) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let s = format!("tfp{}{}{}", std::process::id(), kind, n);
    assert!(s.len() <= 15, "{s} too long");
    s
}

/// Runs a command, panicking with its stderr on failure.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sh_quiet(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub fn exists_here(ifname: &str) -> bool {
    std::path::Path::new(&format!("/sys/class/net/{ifname}")).exists()
}

/// A network namespace (`ip netns add`), deleted on drop with everything in it.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        let name = unique('n');
        sh(&["ip", "netns", "add", &name]);
        Netns { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `ip netns exec NAME args...`
    pub fn exec(&self, args: &[&str]) -> String {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        sh(&v)
    }

    /// Runs `f` on a thread that entered this namespace; sockets it opens stay
    /// in the namespace when handed back.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = self.path();
        std::thread::scope(|s| {
            s.spawn(|| {
                let ns = std::fs::File::open(&path).unwrap();
                let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns {path}: {}", io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// Moves interface `ifname` of our namespace into this one.
    pub fn adopt(&self, ifname: &str) {
        sh(&["ip", "link", "set", ifname, "netns", &self.name]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        sh_quiet(&["ip", "netns", "del", &self.name]);
    }
}

/// Deletes interface `name` from our namespace on drop, if it is still here.
pub struct LinkGuard(pub String);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        if exists_here(&self.0) {
            sh_quiet(&["ip", "link", "del", &self.0]);
        }
    }
}

/// A veth pair `a` (stays here) / `b`; removed on drop (deleting one end
/// deletes both, wherever `b` went).
pub struct Veth {
    pub a: String,
    pub b: String,
    _guard: LinkGuard,
}

impl Veth {
    /// `b` is created directly in `ns` when given.
    pub fn new(ns: Option<&Netns>) -> Veth {
        let a = unique('a');
        let b = unique('b');
        let mut args = vec!["ip", "link", "add", &a, "type", "veth", "peer", "name", &b];
        if let Some(ns) = ns {
            args.extend_from_slice(&["netns", &ns.name]);
        }
        sh(&args);
        let guard = LinkGuard(a.clone());
        sh(&["ip", "link", "set", &a, "up"]);
        Veth {
            a,
            b,
            _guard: guard,
        }
    }
}

/// A persistent TAP made by `mktap`; removed on drop.
pub struct PersistentTap(pub String);

impl Drop for PersistentTap {
    fn drop(&mut self) {
        if exists_here(&self.0) && super::rmtap(&self.0).is_err() {
            sh_quiet(&["ip", "link", "del", &self.0]);
        }
    }
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn poll_in(fd: i32, ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    unsafe { libc::poll(&mut p, 1, ms) };
}

/// Receives from `port` until a frame matches `pred`; returns a copy of it.
pub fn recv_match(
    port: &dyn Port,
    batch: &mut PacketBatch,
    timeout: Duration,
    mut pred: impl FnMut(&[u8], &VnetHdr) -> bool,
) -> Option<(Vec<u8>, VnetHdr)> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        poll_in(port.fd(), 50);
        let n = port.recv_batch(batch).expect("recv_batch");
        for i in 0..n {
            let b = batch.get(i);
            if pred(b.data(), &b.offload) {
                return Some((b.data().to_vec(), b.offload));
            }
        }
    }
    None
}

/// Experimental ethertype (IEEE 802 local) for test frames.
pub const ETH_TEST: u16 = 0x88b5;

pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn ethertype(f: &[u8]) -> u16 {
    if f.len() < 14 {
        return 0;
    }
    u16::from_be_bytes([f[12], f[13]])
}

/// A test frame: ETH_TEST with `marker` as payload (padded to 60 bytes).
pub fn test_frame(src: [u8; 6], marker: &[u8]) -> Vec<u8> {
    let mut p = marker.to_vec();
    p.resize(p.len().max(46), 0);
    eth([0xff; 6], src, ETH_TEST, &p)
}

pub fn is_test_frame(f: &[u8], marker: &[u8]) -> bool {
    ethertype(f) == ETH_TEST && f[14..].starts_with(marker)
}

/// Offset of the IPv4 header and the L4 protocol, after an optional VLAN tag.
pub fn ipv4_l4(f: &[u8]) -> Option<(usize, u8)> {
    let mut off = 12;
    let mut et = u16::from_be_bytes([f[off], f[off + 1]]);
    while et == 0x8100 || et == 0x88a8 {
        off += 4;
        et = u16::from_be_bytes([f[off], f[off + 1]]);
    }
    off += 2;
    (et == 0x0800).then(|| (off, f[off + 9]))
}

/// Verifies the TCP/UDP checksum of an IPv4 frame from scratch (pseudo-header
/// plus segment sums to 0xffff).
pub fn l4_checksum_ok(f: &[u8]) -> bool {
    let Some((ip, proto)) = ipv4_l4(f) else {
        return false;
    };
    let ihl = (f[ip] & 0xf) as usize * 4;
    let total = u16::from_be_bytes([f[ip + 2], f[ip + 3]]) as usize;
    let seg = &f[ip + ihl..ip + total];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&f[ip + 12..ip + 20]);
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    offload::csum_fold(offload::csum_add(seg, offload::csum_add(&pseudo, 0))) == 0xffff
}

/// IPv4 header checksum over `hdr` (its checksum field included).
pub fn ip_hdr_csum(hdr: &[u8]) -> u16 {
    !offload::csum_fold(offload::csum_add(hdr, 0))
}

/// An Ethernet/IPv4/UDP frame whose checksum field holds only the
/// pseudo-header sum (what a stack with checksum offload hands over), and the
/// matching `NEEDS_CSUM` header.
pub fn partial_udp_frame(
    src: [u8; 6],
    sip: [u8; 4],
    dip: [u8; 4],
    payload: &[u8],
) -> (Vec<u8>, VnetHdr) {
    let udp_len = 8 + payload.len();
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&((20 + udp_len) as u16).to_be_bytes());
    ip.extend_from_slice(&sip);
    ip.extend_from_slice(&dip);
    let c = ip_hdr_csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&sip);
    pseudo.extend_from_slice(&dip);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(udp_len as u16).to_be_bytes());
    let partial = offload::csum_fold(offload::csum_add(&pseudo, 0));
    let mut l4 = Vec::new();
    l4.extend_from_slice(&4000u16.to_be_bytes());
    l4.extend_from_slice(&4001u16.to_be_bytes());
    l4.extend_from_slice(&(udp_len as u16).to_be_bytes());
    l4.extend_from_slice(&partial.to_be_bytes());
    l4.extend_from_slice(payload);
    ip.extend_from_slice(&l4);
    (
        eth([0xff; 6], src, 0x0800, &ip),
        VnetHdr::NONE.with_csum(34, 6),
    )
}
