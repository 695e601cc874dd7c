//! udp-flood: sends small UDP datagrams as fast as it can (or at `--pps`)
//! for `--secs`, from whatever network namespace it runs in. The control
//! benchmarks use it to make table misses (a destination no flow matches)
//! or to load a drop flow.
//!
//!   ip netns exec tfb-vm1 udp-flood 10.10.10.99:9 --secs 5 [--pps 100000] [--ports 1000]
//!
//! `--ports N` cycles the source port over N values so the frames are N
//! different flows (a miss storm, not one flow); prints `sent=<n> pps=<rate>`.

use clap::Parser;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    dst: SocketAddr,
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Datagrams per second; 0 = as fast as possible.
    #[arg(long, default_value_t = 0)]
    pps: u64,
    /// UDP payload bytes (22 gives 64-byte Ethernet frames).
    #[arg(long, default_value_t = 22)]
    len: usize,
    /// Distinct source ports to cycle through.
    #[arg(long, default_value_t = 1)]
    ports: u16,
}

fn main() {
    let a = Args::parse();
    let socks: Vec<UdpSocket> = (0..a.ports.max(1))
        .map(|_| UdpSocket::bind("0.0.0.0:0").expect("bind a UDP socket"))
        .collect();
    let payload = vec![0x5au8; a.len];
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(a.secs);
    let mut sent = 0u64;
    let mut i = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if a.pps > 0 {
            let due = (now - start).as_secs_f64() * a.pps as f64;
            if (sent as f64) >= due {
                std::hint::spin_loop();
                if (sent as f64) - due > 64.0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                continue;
            }
        }
        // Errors (ENOBUFS under a flood, ECONNREFUSED from an ICMP error)
        // are part of flooding; they are not sent datagrams.
        for _ in 0..32 {
            if socks[i].send_to(&payload, a.dst).is_ok() {
                sent += 1;
            }
            i = (i + 1) % socks.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("sent={sent} pps={:.0}", sent as f64 / secs);
}
