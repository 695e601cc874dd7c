//! Traffic for group and meter tests: a bridge with N namespace "VMs" on
//! TAP ports 1..=N, raw UDP frames sent from one VM's interface (no ARP,
//! any source port), and per-VM capture of what arrives.

use crate::packet::{udp_frame, PacketSocket};
use crate::vm::{mac, Vm};
use crate::{Daemon, DaemonBuilder, Names};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Field order is drop order: the daemon stops first, then the namespaces.
pub struct ManyVms {
    pub d: Daemon,
    /// VM `i` sits on port `i + 1`.
    pub vms: Vec<Vm>,
    pub taps: Vec<String>,
    pub names: Names,
}

/// 10.20.0.<port>.
pub fn vm_ip(port: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 20, 0, port as u8)
}

impl ManyVms {
    /// `tapflowd` with TAP ports 1..=n (plus whatever `f` adds), each moved
    /// into a VM namespace with MAC `mac(port)` and address `vm_ip(port)`.
    pub fn start(n: u32, f: impl FnOnce(DaemonBuilder) -> DaemonBuilder) -> ManyVms {
        Self::start_with_taps(n, |b, _| f(b))
    }

    /// [`ManyVms::start`] for daemon flags that name the TAPs (`--queue
    /// TAP:…`): `f` also gets the TAP names, port 1's first.
    pub fn start_with_taps(
        n: u32,
        f: impl FnOnce(DaemonBuilder, &[String]) -> DaemonBuilder,
    ) -> ManyVms {
        let names = Names::new();
        let taps: Vec<String> = (1..=n).map(|p| names.name(&format!("t{p}"))).collect();
        let mut b = DaemonBuilder::new(&names.name("br"));
        for (i, t) in taps.iter().enumerate() {
            b = b.port(t, i as u32 + 1);
        }
        let d = f(b, &taps).spawn(&names);
        let vms = taps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let p = i as u32 + 1;
                Vm::attach(&names.name(&format!("v{p}")), t, vm_ip(p), mac(p as u8))
            })
            .collect();
        ManyVms {
            d,
            vms,
            taps,
            names,
        }
    }

    pub fn vm(&self, port: u32) -> &Vm {
        &self.vms[port as usize - 1]
    }

    /// An AF_PACKET socket on VM `port`'s interface.
    pub fn socket(&self, port: u32) -> PacketSocket {
        let vm = self.vm(port);
        let ifname = vm.ifname.clone();
        vm.ns
            .enter(move || PacketSocket::open(&ifname))
            .expect("packet socket in the VM")
    }
}

/// A UDP frame from VM `from` to VM `to` (MACs and addresses as
/// [`ManyVms`] sets them), `len` bytes of payload.
pub fn udp_between(from: u32, to: u32, sport: u16, dport: u16, len: usize) -> Vec<u8> {
    udp_frame(
        mac(from as u8),
        mac(to as u8),
        vm_ip(from).octets(),
        vm_ip(to).octets(),
        sport,
        dport,
        &vec![0x5a; len],
    )
}

/// UDP (source port, destination port) of an IPv4/UDP frame.
pub fn udp_ports(f: &[u8]) -> Option<(u16, u16)> {
    if f.len() < 42 || f[12..14] != [0x08, 0x00] || f[23] != 17 {
        return None;
    }
    let l4 = 14 + usize::from(f[14] & 0x0f) * 4;
    let p = f.get(l4..l4 + 4)?;
    Some((
        u16::from_be_bytes([p[0], p[1]]),
        u16::from_be_bytes([p[2], p[3]]),
    ))
}

/// Source ports of the UDP frames to `dport` that arrive on `sock` until
/// it has been quiet for `quiet` (or `max` has passed).
pub fn collect_sports(sock: &PacketSocket, dport: u16, quiet: Duration, max: Duration) -> Vec<u16> {
    let end = Instant::now() + max;
    let mut out = Vec::new();
    while Instant::now() < end {
        match sock.recv_incoming(quiet) {
            Some(f) => {
                if let Some((s, d)) = udp_ports(&f) {
                    if d == dport {
                        out.push(s);
                    }
                }
            }
            None => break,
        }
    }
    out
}

/// Sends `frame` from `sock` `count` times at `per_sec` frames per second
/// (0 = as fast as the socket takes them); returns how many were sent.
pub fn send_paced(sock: &PacketSocket, frame: &[u8], count: usize, per_sec: f64) -> usize {
    let start = Instant::now();
    let mut sent = 0;
    for i in 0..count {
        if per_sec > 0.0 {
            let due = start + Duration::from_secs_f64(i as f64 / per_sec);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
        }
        if sock.send(frame).is_ok() {
            sent += 1;
        }
    }
    sent
}
