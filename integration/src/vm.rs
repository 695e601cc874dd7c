//! A "VM": a namespace holding one interface (a TAP far end or a veth end)
//! with a MAC and an IPv4 address. Ping and a TCP echo run in-process on
//! sockets created inside the namespace.

use crate::netns::Netns;
use crate::packet::{internet_checksum, Fd};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Vm {
    pub ns: Netns,
    /// The interface's name inside the namespace (same as it had outside).
    pub ifname: String,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
}

/// `02:00:00:00:00:NN`-style locally administered MACs, distinct per `n`.
pub fn mac(n: u8) -> [u8; 6] {
    [0x02, 0x7f, 0x00, 0x00, 0x00, n]
}

pub fn mac_str(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Vm {
    /// Makes namespace `ns_name`, moves root-namespace interface `ifname` into
    /// it, and configures it: MAC `mac`, address `ip`/24, up.
    pub fn attach(ns_name: &str, ifname: &str, ip: Ipv4Addr, mac: [u8; 6]) -> Vm {
        let ns = Netns::new(ns_name);
        crate::ip(["link", "set", ifname, "netns", ns_name]);
        let vm = Vm {
            ns,
            ifname: ifname.to_string(),
            ip,
            mac,
        };
        vm.ns
            .sysctl(&format!("net/ipv6/conf/{ifname}/disable_ipv6"), "1");
        vm.ns
            .ip(["link", "set", "dev", ifname, "address", &mac_str(&mac)]);
        vm.ns
            .ip(["addr", "add", &format!("{ip}/24"), "dev", ifname]);
        vm.ns.ip(["link", "set", "dev", ifname, "up"]);
        vm
    }

    pub fn mac_str(&self) -> String {
        mac_str(&self.mac)
    }

    pub fn set_link(&self, up: bool) {
        self.ns.ip([
            "link",
            "set",
            "dev",
            &self.ifname,
            if up { "up" } else { "down" },
        ]);
    }

    /// Forgets every ARP entry, so the next ping resolves again.
    pub fn flush_neigh(&self) {
        self.ns.ip(["neigh", "flush", "all"]);
    }

    /// The MAC this VM's ARP table holds for `ip`, if resolved (any state but
    /// INCOMPLETE/FAILED).
    pub fn neigh(&self, ip: Ipv4Addr) -> Option<String> {
        let out = self.ns.ip(["neigh", "show", &ip.to_string()]);
        let line = out.lines().next()?;
        if line.contains("FAILED") || line.contains("INCOMPLETE") {
            return None;
        }
        let mut words = line.split_whitespace();
        words.find(|w| *w == "lladdr")?;
        words.next().map(str::to_string)
    }

    /// Sends up to `count` ICMP echo requests to `dst`, each waiting up to
    /// `timeout` for its reply; true at the first reply (`ping -c1 -W1`,
    /// repeated).
    pub fn ping(&self, dst: Ipv4Addr, count: u32, timeout: Duration) -> bool {
        (0..count).any(|_| self.ping_replies(dst, 1, timeout) == 1)
    }

    /// Sends `count` echo requests, each waiting up to `timeout` for its
    /// reply; returns how many were answered.
    pub fn ping_replies(&self, dst: Ipv4Addr, count: u32, timeout: Duration) -> u32 {
        self.ns.enter(move || icmp_ping(dst, count, timeout))
    }

    /// A TCP connection from this VM to `server` (which listens on `port`):
    /// sends `bytes` bytes and expects them echoed back, all within `timeout`.
    pub fn tcp_echo(
        &self,
        server: &Vm,
        port: u16,
        bytes: usize,
        timeout: Duration,
    ) -> Result<(), String> {
        let srv = TcpEchoServer::start(server, port);
        let r = self.tcp_echo_to(server.ip, port, bytes, timeout);
        drop(srv);
        r
    }

    /// The client side of [`Vm::tcp_echo`], for a server started separately.
    pub fn tcp_echo_to(
        &self,
        dst: Ipv4Addr,
        port: u16,
        bytes: usize,
        timeout: Duration,
    ) -> Result<(), String> {
        let addr = SocketAddr::V4(SocketAddrV4::new(dst, port));
        let stream = self
            .ns
            .enter(move || TcpStream::connect_timeout(&addr, timeout))
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let deadline = Instant::now() + timeout;
        stream.set_read_timeout(Some(timeout)).ok();
        stream.set_write_timeout(Some(timeout)).ok();
        let data: Vec<u8> = (0..bytes).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut wr = stream.try_clone().map_err(|e| e.to_string())?;
        let to_send = data.clone();
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            wr.write_all(&to_send)?;
            wr.shutdown(std::net::Shutdown::Write)
        });
        let mut got = Vec::with_capacity(bytes);
        let mut rd = stream;
        let mut buf = vec![0u8; 64 * 1024];
        while got.len() < bytes {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            rd.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok();
            match rd.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                Err(e) => return Err(format!("read from {addr}: {e} after {} bytes", got.len())),
            }
        }
        if got.len() < bytes {
            // Unblock the writer (it may wait on a full window) and report.
            let _ = rd.shutdown(std::net::Shutdown::Both);
            let _ = writer.join();
            return Err(format!(
                "echo from {addr}: {} of {bytes} bytes back within {timeout:?}",
                got.len()
            ));
        }
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("write to {addr}: {e}")),
            Err(_) => return Err("writer thread panicked".into()),
        }
        if got != data {
            return Err(format!(
                "echo from {addr}: got {} bytes back of {bytes}{}",
                got.len(),
                if got.len() == bytes {
                    " (different content)"
                } else {
                    ""
                }
            ));
        }
        Ok(())
    }
}

/// A TCP echo server listening inside a VM's namespace; stops on Drop.
pub struct TcpEchoServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TcpEchoServer {
    pub fn start(vm: &Vm, port: u16) -> TcpEchoServer {
        let addr = SocketAddr::V4(SocketAddrV4::new(vm.ip, port));
        let listener = vm
            .ns
            .enter(move || TcpListener::bind(addr))
            .unwrap_or_else(|e| panic!("listen on {addr} in {}: {e}", vm.ns.name()));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).ok();
                        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
                        workers.push(std::thread::spawn(move || {
                            let mut buf = vec![0u8; 64 * 1024];
                            loop {
                                match s.read(&mut buf) {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => {
                                        if s.write_all(&buf[..n]).is_err() {
                                            break;
                                        }
                                    }
                                }
                            }
                            let _ = s.shutdown(std::net::Shutdown::Both);
                        }));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
            drop(workers);
        });
        TcpEchoServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TcpEchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// ICMP echo over a raw socket in the current thread's namespace.
fn icmp_ping(dst: Ipv4Addr, count: u32, timeout: Duration) -> u32 {
    static SEQ: AtomicU16 = AtomicU16::new(1);
    // SAFETY: plain socket(2); the fd is owned by `Fd` from here on.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    assert!(
        raw >= 0,
        "raw ICMP socket: {}",
        std::io::Error::last_os_error()
    );
    let fd = Fd(raw);
    let id = (std::process::id() as u16) ^ 0x5a5a;
    let mut answered = 0;
    for _ in 0..count {
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let mut pkt = vec![8u8, 0, 0, 0];
        pkt.extend_from_slice(&id.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend((0..56u8).map(|i| i.wrapping_mul(3)));
        let c = internet_checksum(&[&pkt]);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
        let sa = libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(dst.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: valid buffer and sockaddr_in of the size passed.
        let rc = unsafe {
            libc::sendto(
                fd.0,
                pkt.as_ptr().cast(),
                pkt.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        if rc < 0 {
            // e.g. EHOSTUNREACH once ARP failed: no reply possible.
            std::thread::sleep(timeout.min(Duration::from_millis(200)));
            continue;
        }
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Some(n) = fd.recv_timeout(&mut buf, left) else {
                break;
            };
            let p = &buf[..n];
            if p.len() < 20 {
                continue;
            }
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if p.len() < ihl + 8 || p[12..16] != dst.octets() {
                continue;
            }
            let icmp = &p[ihl..];
            if icmp[0] == 0 && icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes() {
                answered += 1;
                break;
            }
        }
    }
    answered
}
