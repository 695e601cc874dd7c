//! `system` ports: an interface that already exists is attached through
//! AF_PACKET, never opened.
//!
//! - A veth end (its peer is a VM's NIC) forwards both ways, and what the
//!   veth VM sends with a partial checksum (veth's tx checksum offload is on
//!   by default) reaches the TAP VM with a correct one: TCP works end to end,
//!   and every frame the TAP VM receives either has a valid checksum or is
//!   still marked partial by the kernel.
//! - A TAP held by another process (this test, standing in for QEMU with
//!   IFF_VNET_HDR) is attached, not opened: tapflowd holds no fd for it,
//!   frames written to it are switched, frames switched to it are read back,
//!   and a frame written with VIRTIO_NET_HDR_F_NEEDS_CSUM (what a virtio-net
//!   guest with checksum offload hands QEMU) arrives at the VM with a valid
//!   checksum (its UDP socket receives it).

use integration::of::Of;
use integration::packet::{self, HeldTap, PacketSocket, TP_STATUS_CSUMNOTREADY};
use integration::vm::mac;
use integration::{require_root, DaemonBuilder, Link, Names, Vm, IP1, IP2};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// Does `ethtool -k IF` inside `vm` say tx-checksumming is on? None without ethtool.
fn tx_csum_offload(vm: &Vm) -> Option<bool> {
    let out = vm.ns.exec("ethtool", ["-k", &vm.ifname]);
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tx-checksumming:"))
        .map(|l| l.contains(": on"))
}

/// Partial checksums alone: TSO/GSO off on the veth VM, tx checksum
/// offload on (its default), so every TCP segment fits the MTU and leaves
/// the VM with an unfinished checksum.
#[test]
fn veth_system_port_forwards_both_ways_and_completes_partial_checksums() {
    require_root!();
    veth_case(false);
}

/// veth's defaults (TSO/GSO on): TCP segments of up to 64 KB arrive at the
/// system port and must cross without loss.
#[test]
fn veth_system_port_carries_tso_segments_without_loss() {
    require_root!();
    veth_case(true);
}

fn veth_case(tso: bool) {
    let n = Names::new();
    let (veth_vm, veth_sw) = (n.name("a"), n.name("b"));
    let tap = n.name("t2");
    let link = Link::veth(&veth_vm, &veth_sw);
    integration::ip(["link", "set", "dev", &veth_sw, "up"]);
    let d = DaemonBuilder::new(&n.name("br"))
        .secure()
        .port(&veth_sw, 1)
        .port(&tap, 2)
        .spawn(&n);
    let vm1 = Vm::attach(&n.name("v1"), &veth_vm, IP1, mac(1));
    let vm2 = Vm::attach(&n.name("v2"), &tap, IP2, mac(2));
    if let Some(on) = tx_csum_offload(&vm1) {
        assert!(on, "the premise: veth tx checksum offload is on by default");
    }
    if !tso {
        let out = vm1
            .ns
            .exec("ethtool", ["-K", &veth_vm, "tso", "off", "gso", "off"]);
        assert!(
            out.status.success(),
            "ethtool -K {veth_vm} tso off gso off: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The veth stayed a veth: tapflowd attached to it, it did not replace it.
    assert!(integration::link_exists(&veth_sw));

    let mut of = Of::connect(&d.mgmt_target());
    assert!(!vm1.ping(IP2, 1, SEC), "secure mode, no flows");
    of.add_flow("priority=10,in_port=1 actions=output:2");
    of.add_flow("priority=10,in_port=2 actions=output:1");
    // Forget the failed resolution from the no-flows ping (an INCOMPLETE
    // entry would delay the next ARP probe by up to a second).
    vm1.flush_neigh();
    vm2.flush_neigh();
    assert!(vm1.ping(IP2, 3, SEC), "veth VM -> TAP VM");
    assert_eq!(vm1.ping_replies(IP2, 3, SEC), 3, "veth VM -> TAP VM");
    assert_eq!(vm2.ping_replies(IP1, 3, SEC), 3, "TAP VM -> veth VM");

    // Watch everything the TAP VM receives while TCP runs both ways.
    let sock = vm2
        .ns
        .enter(|| PacketSocket::open(&tap))
        .expect("packet socket in vm2");
    sock.enable_auxdata().expect("PACKET_AUXDATA");
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, partial) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let watcher = {
        let (stop, seen, partial) = (stop.clone(), seen.clone(), partial.clone());
        std::thread::spawn(move || -> Result<(), String> {
            while !stop.load(Ordering::Relaxed) {
                let Some((f, status)) = sock.recv_aux(Duration::from_millis(100)) else {
                    continue;
                };
                if f.len() < 34 || f[23] != 6 {
                    continue; // TCP over IPv4 only
                }
                seen.fetch_add(1, Ordering::Relaxed);
                if status & TP_STATUS_CSUMNOTREADY != 0 {
                    partial.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                packet::verify_checksums(&f).map_err(|e| {
                    format!("TAP VM received a TCP frame of {} bytes: {e}", f.len())
                })?;
            }
            Ok(())
        })
    };
    // With TSO/GSO on, the veth VM hands over TCP segments of up to 64 KB.
    // They must cross (segmented, or with their offload metadata to a TAP
    // that takes it), not be dropped and retransmitted: the transfer takes
    // ~0.1 s when nothing is dropped, ~10 s when every large segment falls
    // back to retransmission.
    let t = std::time::Instant::now();
    let r1 = vm1.tcp_echo(&vm2, 5001, 1 << 20, 10 * SEC);
    let t1 = t.elapsed();
    let t = std::time::Instant::now();
    let r2 = vm2.tcp_echo(&vm1, 5002, 1 << 20, 10 * SEC);
    let t2 = t.elapsed();
    eprintln!("1 MiB echoed veth VM -> TAP VM in {t1:?}, TAP VM -> veth VM in {t2:?}");
    stop.store(true, Ordering::Relaxed);
    let watched = watcher.join().expect("watcher");
    // (A fresh connection: the first one sat unread through the transfer.)
    let stats = Of::connect(&d.mgmt_target()).port_stats();
    let dropped: Vec<String> = stats
        .iter()
        .filter(|p| p.tx_dropped + p.rx_dropped + p.tx_errors + p.rx_errors > 0)
        .map(|p| {
            format!(
                "port {:#x}: rx_dropped={} tx_dropped={} rx_errors={} tx_errors={}",
                p.port_no, p.rx_dropped, p.tx_dropped, p.rx_errors, p.tx_errors
            )
        })
        .collect();
    let why = if dropped.is_empty() {
        String::new()
    } else {
        format!("; port counters: {}", dropped.join(", "))
    };
    if let Err(e) = &r1 {
        panic!(
            "TCP veth VM -> TAP VM (1 MiB echoed, TSO/GSO {}): {e}{why}",
            if tso { "on" } else { "off" }
        );
    }
    if let Err(e) = &r2 {
        panic!(
            "TCP TAP VM -> veth VM (1 MiB echoed, TSO/GSO {}): {e}{why}",
            if tso { "on" } else { "off" }
        );
    }
    watched.expect("frames into the TAP VM carry correct checksums");
    eprintln!(
        "TAP VM received {} TCP frames, {} of them still marked partial",
        seen.load(Ordering::Relaxed),
        partial.load(Ordering::Relaxed)
    );
    assert!(seen.load(Ordering::Relaxed) > 0);
    assert!(
        dropped.is_empty(),
        "frames were dropped between the veth (TSO/GSO {}) and the TAP:\n{}",
        if tso { "on" } else { "off" },
        dropped.join("\n")
    );
    assert!(
        t1 < 5 * SEC && t2 < 5 * SEC,
        "1 MiB over TCP took {t1:?} / {t2:?}: large segments are being lost"
    );

    // Counters moved on both ports.
    let dump = d.tapflow_ok(["dump-flows", d.bridge()]);
    assert!(
        integration::n_packets(&dump, &["in_port=1"]).unwrap_or(0) > 0,
        "{dump}"
    );
    assert!(
        integration::n_packets(&dump, &["in_port=2"]).unwrap_or(0) > 0,
        "{dump}"
    );
    drop(of);
    drop(d);
    drop(vm1);
    drop(vm2);
    drop(link);
}

/// Interfaces of /dev/net/tun fds `pid` holds (`iff:` in fdinfo).
fn tun_ifaces_of(pid: u32) -> Vec<String> {
    let mut v = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return v;
    };
    for e in dir.flatten() {
        if let Ok(text) = std::fs::read_to_string(e.path()) {
            for l in text.lines() {
                if let Some(name) = l.strip_prefix("iff:") {
                    v.push(name.trim().to_string());
                }
            }
        }
    }
    v
}

#[test]
fn tap_held_by_another_process_is_attached_not_opened() {
    require_root!();
    let n = Names::new();
    let qemu_tap = n.name("q");
    let tap2 = n.name("t2");
    // "QEMU": creates the TAP with a virtio-net header and keeps it open.
    let held = HeldTap::create(&qemu_tap, true).expect("create the QEMU-held TAP");
    let _guard = Link::adopt(&qemu_tap);
    let d = DaemonBuilder::new(&n.name("br"))
        .secure()
        .port(&qemu_tap, 1)
        .port(&tap2, 2)
        .spawn(&n);
    let vm2 = Vm::attach(&n.name("v2"), &tap2, IP2, mac(2));

    let pid = d.pid().expect("daemon pid");
    let theirs = tun_ifaces_of(pid);
    assert!(
        !theirs.contains(&qemu_tap),
        "tapflowd opened the TAP that QEMU holds (its tun fds: {theirs:?})"
    );
    assert!(
        theirs.contains(&tap2),
        "tapflowd holds the TAP it created: {theirs:?}"
    );

    let mut of = Of::connect(&d.mgmt_target());
    of.add_flow("priority=10,in_port=1 actions=output:2");
    of.add_flow("priority=10,in_port=2 actions=output:1");

    // The "guest" behind the held TAP: 10.10.10.13.
    let guest_mac = mac(3);
    let guest_ip = Ipv4Addr::new(10, 10, 10, 13);
    let read_until = |what: &str, pred: &dyn Fn(&[u8]) -> bool| -> Vec<u8> {
        let deadline = std::time::Instant::now() + 3 * SEC;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            if let Some(f) = held.read_frame(left) {
                if pred(&f) {
                    return f;
                }
            } else {
                break;
            }
        }
        panic!(
            "{what}: nothing came back through the QEMU-held TAP\n{}",
            d.log_text()
        );
    };

    // ARP: who-has .12 from the guest; vm2's reply comes back to the guest.
    held.write_frame(&packet::arp_request(
        guest_mac,
        guest_ip.octets(),
        IP2.octets(),
    ))
    .expect("write ARP request");
    let reply = read_until("ARP reply", &|f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[20..22] == [0, 2]
    });
    assert_eq!(&reply[22..28], &vm2.mac, "ARP reply carries vm2's MAC");

    // ICMP echo from the guest, reply read back with a valid checksum.
    held.write_frame(&packet::icmp_echo_frame(
        guest_mac,
        vm2.mac,
        guest_ip.octets(),
        IP2.octets(),
        0x4242,
        1,
    ))
    .expect("write echo request");
    let echo = read_until("ICMP echo reply", &|f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x00] && f[23] == 1 && f[34] == 0
    });
    packet::verify_checksums(&echo).expect("echo reply checksum");

    // UDP with a partial checksum (NEEDS_CSUM) from the guest: vm2's socket
    // only gets it if the checksum was completed on the way.
    let vm2_addr = SocketAddr::from((IP2, 9999));
    let rx = vm2
        .ns
        .enter(move || UdpSocket::bind(vm2_addr))
        .expect("bind in vm2");
    rx.set_read_timeout(Some(3 * SEC)).unwrap();
    let payload = b"partial checksum from a virtio guest";
    let (f, start, off) = packet::udp_frame_partial_csum(
        guest_mac,
        vm2.mac,
        guest_ip.octets(),
        IP2.octets(),
        5555,
        9999,
        payload,
    );
    held.write_partial_csum(&f, start, off)
        .expect("write NEEDS_CSUM frame");
    let mut buf = [0u8; 2048];
    let (len, from) = rx.recv_from(&mut buf).unwrap_or_else(|e| {
        panic!(
            "vm2 did not receive the NEEDS_CSUM datagram ({e})\n{}",
            d.log_text()
        )
    });
    assert_eq!(&buf[..len], payload);
    assert_eq!(from, SocketAddr::from((guest_ip, 5555)));

    // And vm2 -> guest: UDP from vm2's socket, read back from the held TAP
    // with a correct checksum.
    rx.send_to(b"back to the guest", SocketAddr::from((guest_ip, 5555)))
        .expect("send from vm2");
    // vm2 may first resolve the guest's MAC (answer its ARP request).
    let deadline = std::time::Instant::now() + 5 * SEC;
    let udp = loop {
        let left = deadline
            .checked_duration_since(std::time::Instant::now())
            .unwrap_or_else(|| panic!("no UDP from vm2 through the held TAP\n{}", d.log_text()));
        let Some(f) = held.read_frame(left) else {
            continue;
        };
        let is_arp_req = f.len() >= 42
            && f[12..14] == [0x08, 0x06]
            && f[20..22] == [0, 1]
            && f[38..42] == guest_ip.octets();
        if is_arp_req {
            let mut arp_reply = packet::eth(vm2.mac, guest_mac, packet::ETH_P_ARP);
            arp_reply.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 2]);
            arp_reply.extend_from_slice(&guest_mac);
            arp_reply.extend_from_slice(&guest_ip.octets());
            arp_reply.extend_from_slice(&f[22..28]);
            arp_reply.extend_from_slice(&f[28..32]);
            arp_reply.resize(60, 0);
            held.write_frame(&arp_reply).expect("write ARP reply");
        } else if f.len() >= 42 && f[23] == 17 && f.ends_with(b"back to the guest") {
            break f;
        }
    };
    packet::verify_checksums(&udp).expect("UDP from vm2 has a valid checksum");
}
