//! Group and meter measurements for BENCHMARKS.md (run as root, through
//! `bench/groups_meters.sh`; about 40 s, everything it makes is removed on
//! exit):
//!
//! 1. **select spread**: 1 000 UDP flows (source ports) from VM 1 through a
//!    select group of 3 equal buckets to VMs 2–4; flows per bucket.
//! 2. **failover time**: VM 1 sends 10 000 frames/s through a fast-failover
//!    group (bucket 1 watches port 2, bucket 2 port 3). Measured from the
//!    moment `ip link set down` on VM 2's interface returns (or the
//!    PORT_MOD's barrier reply arrives) to the first frame VM 3 receives.
//! 3. **meter accuracy**: UDP offered at 2 × a 10 Mbit/s drop meter
//!    (default burst: one second at the rate, as OVS) for 10 s; delivered
//!    bytes against rate × time + burst, time being first to last packet
//!    the meter saw.

use integration::of::Of;
use integration::packet::PacketSocket;
use integration::traffic::{udp_between, udp_ports, ManyVms};
use ofproto::consts::*;
use ofproto::multipart::{MultipartReplyBody, MultipartRequest, MultipartRequestBody};
use ofproto::text::{parse_group_cmd, parse_meter_cmd, GroupCommand, MeterCommand};
use ofproto::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn group(of: &mut Of, text: &str) {
    let gm = parse_group_cmd(text, GroupCommand::Add).unwrap();
    of.send(Message::GroupMod(gm));
    of.barrier();
}

fn quiet_collect(sock: &PacketSocket, dport: u16) -> Vec<u16> {
    let mut v = Vec::new();
    while let Some(f) = sock.recv_incoming(Duration::from_millis(500)) {
        if let Some((s, d)) = udp_ports(&f) {
            if d == dport {
                v.push(s);
            }
        }
    }
    v
}

fn select_spread() {
    let bed = ManyVms::start(4, |b| b.secure());
    let mut of = Of::connect(&bed.d.mgmt_target());
    group(
        &mut of,
        "group_id=1,type=select,bucket=output:2,bucket=output:3,bucket=output:4",
    );
    of.add_flow("priority=10,in_port=1,udp actions=group:1");
    let tx = bed.socket(1);
    // Receivers read while the flows are sent (a socket buffer holds only
    // a few hundred small frames).
    let rx: Vec<_> = (2..=4)
        .map(|p| {
            let sock = bed.socket(p);
            std::thread::spawn(move || quiet_collect(&sock, 999))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    for s in 0..1000u16 {
        tx.send(&udp_between(1, 2, 10000 + s, 999, 16)).unwrap();
        if s % 100 == 99 {
            // Stay well under the TAP queue.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let counts: Vec<usize> = rx
        .into_iter()
        .map(|h| h.join().map(|v| v.len()).unwrap_or(0))
        .collect();
    println!(
        "select spread: 1000 flows over 3 equal buckets: {} / {} / {} (total {})",
        counts[0],
        counts[1],
        counts[2],
        counts.iter().sum::<usize>()
    );
}

/// Receiver thread: (arrival time, sequence number) of each frame to `dport`.
fn stamp(
    sock: PacketSocket,
    dport: u16,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(Instant, u64)>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Some(f) = sock.recv_incoming(Duration::from_millis(50)) {
                let t = Instant::now();
                if udp_ports(&f).is_some_and(|(_, d)| d == dport) && f.len() >= 50 {
                    let seq = u64::from_be_bytes(f[42..50].try_into().unwrap());
                    v.push((t, seq));
                }
            }
        }
        v
    })
}

/// (outage: last frame on bucket 1 to first on bucket 2, frames lost in
/// between, first frame on bucket 2 after the trigger returned).
fn failover_once(by_port_mod: bool) -> Option<(Duration, u64, Duration)> {
    let bed = ManyVms::start(3, |b| b.secure());
    let mut of = Of::connect(&bed.d.mgmt_target());
    group(
        &mut of,
        "group_id=5,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3",
    );
    of.add_flow("priority=10,in_port=1,udp actions=group:5");
    let stop = Arc::new(AtomicBool::new(false));
    let on2 = stamp(bed.socket(2), 5555, Arc::clone(&stop));
    let on3 = stamp(bed.socket(3), 5555, Arc::clone(&stop));
    let tx = bed.socket(1);
    let sender_stop = Arc::clone(&stop);
    let sender = std::thread::spawn(move || {
        let mut f = udp_between(1, 2, 1, 5555, 16);
        let start = Instant::now();
        let mut i = 0u64;
        while !sender_stop.load(Ordering::Relaxed) {
            // 10 000 frames/s, the sequence number in the payload (the
            // receivers read raw frames; the UDP checksum is not redone).
            let due = start + Duration::from_micros(100 * i);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
            f[42..50].copy_from_slice(&i.to_be_bytes());
            let _ = tx.send(&f);
            i += 1;
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let t_down = if by_port_mod {
        let desc = of.port_desc().into_iter().find(|d| d.port_no == 2)?;
        of.send(Message::PortMod(ofproto::message::PortMod {
            port_no: 2,
            hw_addr: desc.hw_addr,
            config: OFPPC_PORT_DOWN,
            mask: OFPPC_PORT_DOWN,
            advertise: 0,
        }));
        of.barrier();
        Instant::now()
    } else {
        bed.vm(2).set_link(false);
        Instant::now()
    };
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    sender.join().ok();
    let a2 = on2.join().ok()?;
    let a3 = on3.join().ok()?;
    let (first3, seq3) = *a3.first()?;
    let (last2, seq2) = a2
        .iter()
        .filter(|(_, s)| *s < seq3)
        .max_by_key(|x| x.1)
        .copied()?;
    Some((
        first3.saturating_duration_since(last2),
        seq3 - seq2 - 1,
        first3.saturating_duration_since(t_down),
    ))
}

fn failover() {
    for (what, pm) in [
        ("ip link set down (link monitor)", false),
        ("PORT_MOD down", true),
    ] {
        let runs: Vec<String> = (0..3)
            .map(|_| match failover_once(pm) {
                Some((outage, lost, after)) => format!(
                    "outage {:.2} ms ({lost} frames lost); first frame on bucket 2 {:.2} ms after the trigger returned",
                    outage.as_secs_f64() * 1e3,
                    after.as_secs_f64() * 1e3
                ),
                None => "no failover".into(),
            })
            .collect();
        println!("failover, {what}:\n  {}", runs.join("\n  "));
    }
}

fn meter() {
    let bed = ManyVms::start(2, |b| b.secure());
    let mut of = Of::connect(&bed.d.mgmt_target());
    let mm = parse_meter_cmd("meter=1,kbps,bands=type=drop,rate=10000", MeterCommand::Add).unwrap();
    of.send(Message::MeterMod(mm));
    of.barrier();
    of.add_flow("priority=10,in_port=1,udp actions=meter:1,output:2");
    let tx = bed.socket(1);
    // 1000 bytes of payload: 1042-byte frames, 8336 bits; 20 Mbit/s =
    // 2399 frames/s, sent in 1 ms slices.
    let f = udp_between(1, 2, 7, 6666, 1000);
    let bits = (f.len() * 8) as f64;
    let per_sec = 20e6 / bits;
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < Duration::from_secs(10) {
        let due = (start.elapsed().as_secs_f64() * per_sec) as u64;
        while sent < due {
            let _ = tx.send(&f);
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let st = of
        .multipart(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Meter(Default::default()),
        })
        .unwrap();
    let m = match &st[0].body {
        MultipartReplyBody::Meter(v) => v[0].clone(),
        other => panic!("{other:?}"),
    };
    let delivered = m.byte_in_count - m.band_stats[0].byte_band_count;
    let expected = 10e6 / 8.0 * elapsed + 10e6 / 8.0;
    println!(
        "meter: 10 Mbit/s drop band, default burst (10 Mbit), offered {:.1} Mbit/s for {elapsed:.2} s \
         ({sent} frames sent, {} reached the meter): delivered {} bytes = {:.3} of rate x time + burst ({:.0} bytes); \
         {:.2} Mbit/s over the run",
        m.byte_in_count as f64 * 8.0 / elapsed / 1e6,
        m.packet_in_count,
        delivered,
        delivered as f64 / expected,
        expected,
        delivered as f64 * 8.0 / elapsed / 1e6
    );
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("groups_meters: needs root (namespaces, TAPs)");
        std::process::exit(2);
    }
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    if want("spread") {
        select_spread();
    }
    if want("failover") {
        failover();
    }
    if want("meter") {
        meter();
    }
}
