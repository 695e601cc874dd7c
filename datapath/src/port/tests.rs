//! Tests with real devices (root): TAPs, veths, namespaces. Every device and
//! namespace carries a `tfp<pid>` name and is removed by a guard.

use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::testutil::*;
use super::*;

const T: Duration = Duration::from_secs(5);
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0x77, 0, 2];

fn batch() -> PacketBatch {
    PacketBatch::new(16, DEFAULT_FRAME_CAP)
}

fn tap(vnet_hdr: bool) -> (TapPort, LinkGuard) {
    let name = unique('t');
    let p = TapPort::create(
        &name,
        &TapOpts {
            vnet_hdr,
            ..TapOpts::default()
        },
    )
    .unwrap();
    (p, LinkGuard(name))
}

/// Moves the TAP into `ns` and configures it there as a VM's NIC with
/// 10.77.0.1/24.
fn tap_as_vm_nic(ns: &Netns, name: &str) {
    ns.adopt(name);
    ns.exec(&["ip", "link", "set", name, "up"]);
    ns.exec(&["ip", "addr", "add", "10.77.0.1/24", "dev", name]);
}

fn arp_reply_to(req: &[u8], sha: [u8; 6]) -> Vec<u8> {
    let a = &req[14..];
    let mut p = vec![0, 1, 8, 0, 6, 4, 0, 2];
    p.extend_from_slice(&sha);
    p.extend_from_slice(&a[24..28]); // spa = the target asked for
    p.extend_from_slice(&a[8..14]); // tha = requester
    p.extend_from_slice(&a[14..18]); // tpa = requester's IP
    eth(req[6..12].try_into().unwrap(), sha, 0x0806, &p)
}

fn is_arp_request_for(f: &[u8], ip: [u8; 4]) -> bool {
    ethertype(f) == 0x0806 && f.len() >= 42 && f[20..22] == [0, 1] && f[38..42] == ip
}

fn is_udp_to(f: &[u8], port: u16) -> bool {
    matches!(ipv4_l4(f), Some((ip, 17)) if f[ip + 20 + 2..ip + 20 + 4] == port.to_be_bytes())
}

/// Both directions through a TAP whose interface plays a VM NIC in a netns:
/// a frame we write shows up on an AF_PACKET socket in the namespace, and the
/// namespace's ARP request and then its UDP datagram reach our fd.
fn tap_traffic_both_ways(vnet_hdr: bool) {
    if !can_make_devices() {
        return;
    }
    let (port, _g) = tap(vnet_hdr);
    let name = port.name().to_string();
    assert_eq!(port.vnet_hdr(), vnet_hdr);
    let ns = Netns::new();
    tap_as_vm_nic(&ns, &name);
    let inside = ns.run(|| SystemPort::attach(&name).unwrap());
    let mut b = batch();

    // fd -> interface
    let f = test_frame(PEER_MAC, b"to-the-vm");
    port.send(&f, &TxMeta::PLAIN).unwrap();
    let (got, _) = recv_match(&inside, &mut b, T, |f, _| is_test_frame(f, b"to-the-vm"))
        .expect("frame inside");
    assert_eq!(got, f);

    // interface -> fd: the namespace resolves 10.77.0.2 (ARP), we answer, the
    // datagram follows.
    let udp = ns.run(|| UdpSocket::bind("10.77.0.1:0").unwrap());
    udp.send_to(b"hello switch", "10.77.0.2:9999").unwrap();
    let (req, _) = recv_match(&port, &mut b, T, |f, _| {
        is_arp_request_for(f, [10, 77, 0, 2])
    })
    .expect("ARP request");
    port.send(&arp_reply_to(&req, PEER_MAC), &TxMeta::PLAIN)
        .unwrap();
    let (mut dgram, h) =
        recv_match(&port, &mut b, T, |f, _| is_udp_to(f, 9999)).expect("UDP datagram");
    assert_eq!(&dgram[..6], &PEER_MAC);
    assert!(dgram.ends_with(b"hello switch"));
    if vnet_hdr {
        // TUN_F_CSUM gave the TAP tx checksum offload: the stack left it to us.
        assert!(h.needs_csum(), "{h:?}");
        assert_eq!((h.csum_start, h.csum_offset), (34, 6));
        complete_checksum(&mut dgram, h.csum_start as usize, h.csum_offset as usize).unwrap();
    } else {
        assert_eq!(h, VnetHdr::NONE);
    }
    assert!(l4_checksum_ok(&dgram));
}

#[test]
fn tap_frames_cross_both_ways_with_far_end_in_netns() {
    tap_traffic_both_ways(false);
}

#[test]
fn tap_with_vnet_hdr_frames_cross_both_ways_with_far_end_in_netns() {
    tap_traffic_both_ways(true);
}

#[test]
fn tap_without_vnet_hdr_finishes_checksum_in_software_and_refuses_gso() {
    if !can_make_devices() {
        return;
    }
    let (port, _g) = tap(false);
    let name = port.name().to_string();
    let ns = Netns::new();
    tap_as_vm_nic(&ns, &name);
    let inside = ns.run(|| SystemPort::attach(&name).unwrap());
    let (f, h) = partial_udp_frame(PEER_MAC, [10, 77, 0, 2], [10, 77, 0, 1], b"finish me");
    assert!(!l4_checksum_ok(&f));
    assert!(port.tx_offloads().csum && !port.tx_offloads().tso4);
    port.send(&f, &TxMeta::from(h)).unwrap();
    let mut b = batch();
    let (got, gh) =
        recv_match(&inside, &mut b, T, |f, _| f.ends_with(b"finish me")).expect("frame inside");
    assert!(!gh.needs_csum());
    assert!(l4_checksum_ok(&got), "checksum completed on the way out");
    let mut gso = h;
    gso.gso_type = VnetHdr::GSO_UDP_L4;
    gso.gso_size = 8;
    let e = port.send(&f, &TxMeta::from(gso)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

/// A 3000-byte-payload TSO frame written with a vnet header arrives whole
/// (unsegmented, still GSO) on the interface side.
#[test]
fn tap_with_vnet_hdr_passes_gso_frames_unsegmented() {
    if !can_make_devices() {
        return;
    }
    let (port, _g) = tap(true);
    let name = port.name().to_string();
    let ns = Netns::new();
    tap_as_vm_nic(&ns, &name);
    let inside = ns.run(|| SystemPort::attach(&name).unwrap());
    let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let (sip, dip) = ([10, 77, 0, 2], [10, 77, 0, 9]);
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&sip);
    ip.extend_from_slice(&dip);
    let c = ip_hdr_csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&5000u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
    tcp[4..8].copy_from_slice(&1u32.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; // PSH|ACK
    tcp[14..16].copy_from_slice(&65535u16.to_be_bytes());
    let mut pseudo = sip.to_vec();
    pseudo.extend_from_slice(&dip);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    tcp[16..18].copy_from_slice(&csum_fold(csum_add(&pseudo, 0)).to_be_bytes());
    ip.extend_from_slice(&tcp);
    ip.extend_from_slice(&payload);
    let f = eth(inside.hw_addr().octets(), PEER_MAC, 0x0800, &ip);
    let h = VnetHdr {
        gso_type: VnetHdr::GSO_TCPV4,
        gso_size: 1000,
        hdr_len: 54,
        ..VnetHdr::NONE.with_csum(34, 16)
    };
    assert!(port.tx_offloads().accepts(&h));
    port.send(&f, &TxMeta::from(h)).unwrap();
    let mut b = batch();
    let (got, gh) =
        recv_match(&inside, &mut b, T, |f, _| f.len() > 3000).expect("GSO frame inside");
    assert_eq!(got.len(), f.len());
    assert_eq!(&got[54..], &payload[..]);
    assert_eq!(gh.gso_type, VnetHdr::GSO_TCPV4);
    assert_eq!(gh.gso_size, 1000);
    assert!(gh.needs_csum());
}

#[test]
fn tap_create_refuses_an_existing_name_and_drop_removes_the_interface() {
    if !can_make_devices() {
        return;
    }
    let (port, _g) = tap(false);
    let name = port.name().to_string();
    assert!(exists_here(&name));
    assert!(port.hw_addr() != MacAddr::ZERO);
    assert_eq!(port.link_state(), LinkState::UP);
    let e = TapPort::create(&name, &TapOpts::default()).err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert!(TapPort::create("bad/name", &TapOpts::default()).is_err());
    assert!(TapPort::create("waytoolongname16", &TapOpts::default()).is_err());
    drop(port);
    assert!(
        wait_until(T, || !exists_here(&name)),
        "{name} removed with its fd"
    );
}

#[test]
fn system_port_frames_cross_a_veth_both_ways_and_own_sends_are_not_read_back() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    let ours = SystemPort::attach(&v.a).unwrap();
    let theirs = ns.run(|| SystemPort::attach(&v.b).unwrap());
    assert_eq!(ours.name(), v.a);
    assert!(wait_until(T, || ours.link_state() == LinkState::UP));
    let mut b = batch();

    let out = test_frame(ours.hw_addr().octets(), b"ours->theirs");
    ours.send(&out, &TxMeta::PLAIN).unwrap();
    let (got, _) =
        recv_match(&theirs, &mut b, T, |f, _| is_test_frame(f, b"ours->theirs")).unwrap();
    assert_eq!(got, out);
    let back = test_frame(theirs.hw_addr().octets(), b"theirs->ours");
    theirs.send(&back, &TxMeta::PLAIN).unwrap();
    let (got, h) = recv_match(&ours, &mut b, T, |f, _| is_test_frame(f, b"theirs->ours")).unwrap();
    assert_eq!(got, back);
    assert_eq!(h, VnetHdr::NONE);
    // PACKET_IGNORE_OUTGOING: what we sent never came back to us.
    ours.send(
        &test_frame(ours.hw_addr().octets(), b"echo?"),
        &TxMeta::PLAIN,
    )
    .unwrap();
    assert!(
        recv_match(&ours, &mut b, Duration::from_millis(300), |f, _| {
            is_test_frame(f, b"echo?")
        })
        .is_none()
    );
    assert!(recv_match(&theirs, &mut b, T, |f, _| is_test_frame(f, b"echo?")).is_some());
}

#[test]
fn system_port_send_is_safe_from_many_threads_and_send_batch_delivers_all() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    let ours = SystemPort::attach(&v.a).unwrap();
    let theirs = ns.run(|| SystemPort::attach(&v.b).unwrap());
    assert!(wait_until(T, || ours.link_state() == LinkState::UP));
    let src = ours.hw_addr().octets();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let ours = &ours;
            s.spawn(move || {
                for i in 0..50u8 {
                    ours.send(&test_frame(src, &[b'M', t, i]), &TxMeta::PLAIN)
                        .unwrap();
                }
            });
        }
    });
    let frames: Vec<Vec<u8>> = (0..100u8).map(|i| test_frame(src, &[b'B', i])).collect();
    let tx: Vec<TxFrame> = frames
        .iter()
        .map(|f| TxFrame {
            data: f,
            meta: TxMeta::PLAIN,
        })
        .collect();
    assert_eq!(ours.send_batch(&tx).unwrap(), 100);
    let mut seen = std::collections::HashSet::new();
    let mut b = batch();
    let end = Instant::now() + T;
    while seen.len() < 300 && Instant::now() < end {
        poll_in(theirs.fd(), 50);
        let n = theirs.recv_batch(&mut b).unwrap();
        for i in 0..n {
            let f = b.frame(i);
            if ethertype(f) == ETH_TEST && (f[14] == b'M' || f[14] == b'B') {
                seen.insert(f[14..17].to_vec());
            }
        }
    }
    assert_eq!(seen.len(), 300);
}

/// The namespace side of a veth with tx checksum offload sends UDP and a TCP
/// SYN; they reach our AF_PACKET socket marked NEEDS_CSUM, with the pseudo-
/// header sum in the checksum field, and complete_checksum makes them right.
#[test]
fn system_port_gets_needs_csum_from_veth_with_tx_offload_and_complete_checksum_fixes_it() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    ns.exec(&["ip", "addr", "add", "10.78.0.1/24", "dev", &v.b]);
    ns.exec(&[
        "ip",
        "neigh",
        "add",
        "10.78.0.2",
        "lladdr",
        "02:00:00:78:00:02",
        "dev",
        &v.b,
        "nud",
        "permanent",
    ]);
    if which("ethtool") {
        ns.exec(&["ethtool", "-K", &v.b, "tx", "on"]);
    } else {
        eprintln!("ethtool not installed: relying on veth's default tx checksum offload (on)");
    }
    let ours = SystemPort::attach(&v.a).unwrap();
    let mut b = batch();

    let udp = ns.run(|| UdpSocket::bind("10.78.0.1:0").unwrap());
    udp.send_to(b"offloaded udp", "10.78.0.2:7777").unwrap();
    let (mut f, h) = recv_match(&ours, &mut b, T, |f, _| is_udp_to(f, 7777)).expect("UDP frame");
    assert!(h.needs_csum(), "{h:?}");
    assert_eq!((h.csum_start, h.csum_offset), (34, 6));
    assert!(!l4_checksum_ok(&f), "checksum still partial");
    complete_checksum(&mut f, h.csum_start as usize, h.csum_offset as usize).unwrap();
    assert!(l4_checksum_ok(&f));

    // A TCP SYN from a nonblocking connect.
    let sock = ns.run(|| unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
        assert!(fd >= 0);
        let sa = libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: 8888u16.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes([10, 78, 0, 2]),
            },
            sin_zero: [0; 8],
        };
        libc::connect(
            fd,
            &sa as *const _ as *const libc::sockaddr,
            std::mem::size_of_val(&sa) as u32,
        );
        OwnedFd::from_raw_fd(fd)
    });
    let (mut syn, h) = recv_match(
        &ours,
        &mut b,
        T,
        |f, _| matches!(ipv4_l4(f), Some((ip, 6)) if f[ip + 22..ip + 24] == 8888u16.to_be_bytes()),
    )
    .expect("TCP SYN");
    drop(sock);
    assert!(h.needs_csum(), "{h:?}");
    assert_eq!((h.csum_start, h.csum_offset), (34, 16));
    complete_checksum(&mut syn, h.csum_start as usize, h.csum_offset as usize).unwrap();
    assert!(l4_checksum_ok(&syn));
}

fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

/// The kernel moves a received VLAN tag out of the frame before AF_PACKET sees
/// it; the port puts it back (and shifts csum_start with it).
#[test]
fn system_port_puts_received_vlan_tags_back_into_the_frame() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    let ours = SystemPort::attach(&v.a).unwrap();
    let theirs = ns.run(|| SystemPort::attach(&v.b).unwrap());
    let mut tagged = test_frame(PEER_MAC, b"vlan 100");
    tagged.splice(12..12, [0x81, 0x00, 0x20, 0x64]); // PCP 1, VID 100
    theirs.send(&tagged, &TxMeta::PLAIN).unwrap();
    let mut b = batch();
    let (got, _) = recv_match(&ours, &mut b, T, |f, _| {
        f.windows(8).any(|w| w == b"vlan 100")
    })
    .expect("tagged frame");
    assert_eq!(got, tagged);

    let (f, h) = partial_udp_frame(PEER_MAC, [10, 0, 0, 1], [10, 0, 0, 2], b"tagged csum");
    let mut f2 = f.clone();
    f2.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
    theirs.send(&f2, &TxMeta::from(h.with_csum(38, 6))).unwrap();
    let (mut got, gh) =
        recv_match(&ours, &mut b, T, |f, _| f.ends_with(b"tagged csum")).expect("tagged udp");
    assert_eq!(&got[12..16], &[0x81, 0, 0, 7]);
    assert!(gh.needs_csum());
    assert_eq!(gh.csum_start, 38);
    complete_checksum(&mut got, 38, 6).unwrap();
    assert!(l4_checksum_ok(&got));
}

#[test]
fn mktap_sets_owner_group_and_persist_and_rmtap_removes_it() {
    if !can_make_devices() {
        return;
    }
    let name = unique('p');
    let nobody = lookup_user("nobody").unwrap();
    let nogroup = lookup_group("nogroup")
        .or_else(|_| lookup_group("nobody"))
        .unwrap();
    let made = mktap(&name, Some(nobody), Some(nogroup)).unwrap();
    let _g = PersistentTap(made.clone());
    assert_eq!(made, name);
    let sysfs = |f: &str| std::fs::read_to_string(format!("/sys/class/net/{name}/{f}")).unwrap();
    assert_eq!(sysfs("owner").trim(), nobody.to_string());
    assert_eq!(sysfs("group").trim(), nogroup.to_string());
    let flags =
        u32::from_str_radix(sysfs("tun_flags").trim().trim_start_matches("0x"), 16).unwrap();
    assert_ne!(flags & 0x0800, 0, "IFF_PERSIST in {flags:#x}");
    assert_ne!(flags & 0x0002, 0, "IFF_TAP");
    // Nobody holds it, yet it stays.
    std::thread::sleep(Duration::from_millis(100));
    assert!(exists_here(&name));
    assert_eq!(
        mktap(&name, None, None).unwrap_err().kind(),
        std::io::ErrorKind::AlreadyExists
    );
    // (EBUSY while a concurrently forked child still holds mktap's fd.)
    assert!(wait_until(T, || rmtap(&name).is_ok()));
    assert!(wait_until(T, || !exists_here(&name)));
    assert_eq!(
        rmtap(&name).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}

#[test]
fn rmtap_refuses_an_interface_that_is_not_a_tap() {
    if !can_make_devices() {
        return;
    }
    let v = Veth::new(None);
    let e = rmtap(&v.a).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
    assert!(exists_here(&v.a));
}

#[test]
fn user_and_group_names_resolve_with_getpwnam_getgrnam() {
    assert_eq!(lookup_user("root").unwrap(), 0);
    assert_eq!(lookup_group("root").unwrap(), 0);
    assert_eq!(lookup_user("4242").unwrap(), 4242);
    assert_eq!(lookup_group("4243").unwrap(), 4243);
    assert_eq!(
        lookup_user("no-such-user-tfp").unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert_eq!(
        lookup_group("no-such-group-tfp").unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}

/// Opens a persistent TAP through /dev/net/tun the way QEMU does.
fn qemu_open(name: &str) -> std::io::Result<OwnedFd> {
    let fd = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
        )
    };
    assert!(fd >= 0);
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut ifr = [0u8; 40];
    ifr[..name.len()].copy_from_slice(name.as_bytes());
    ifr[16..18].copy_from_slice(&(0x0002u16 | 0x1000).to_ne_bytes());
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, ifr.as_mut_ptr()) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(fd)
}

/// A TAP made with mktap and held open by "QEMU" (a thread with its own
/// /dev/net/tun fd) is attached as a system port through AF_PACKET; frames
/// flow between the QEMU fd and our socket both ways.
#[test]
fn system_port_attaches_a_tap_held_by_qemu_without_opening_it() {
    if !can_make_devices() {
        return;
    }
    let name = mktap(&unique('q'), Some(lookup_user("nobody").unwrap()), None).unwrap();
    let _g = PersistentTap(name.clone());
    // mktap's own fd may outlive its close() for a moment: a `Command` forked
    // by a concurrent test holds a copy until it execs. Retry like a
    // supervisor restarting QEMU would.
    let mut qemu = None;
    assert!(wait_until(T, || {
        qemu = qemu_open(&name).ok();
        qemu.is_some()
    }));
    let qemu = qemu.unwrap();
    set_link_up(&name, true).unwrap();
    let port = SystemPort::attach(&name).unwrap();
    assert!(
        wait_until(T, || port.link_state() == LinkState::UP),
        "carrier while QEMU holds it"
    );
    // The TAP's single queue is still QEMU's: attaching did not open it (a
    // second opener is refused while one is attached).
    assert_eq!(
        qemu_open(&name).unwrap_err().raw_os_error(),
        Some(libc::EBUSY)
    );
    let (tx_done, rx_done) = std::sync::mpsc::channel();
    let qfd = qemu.as_raw_fd();
    let vm_mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    let guest = std::thread::spawn(move || {
        // The guest transmits (QEMU writes to its fd)...
        let f = test_frame(vm_mac, b"from-guest");
        let n = unsafe { libc::write(qfd, f.as_ptr() as *const libc::c_void, f.len()) };
        assert_eq!(n as usize, f.len());
        // ...and receives what the switch sends (QEMU reads its fd).
        let mut buf = vec![0u8; 2048];
        let end = Instant::now() + T;
        while Instant::now() < end {
            poll_in(qfd, 100);
            let n = unsafe { libc::read(qfd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n > 0 && is_test_frame(&buf[..n as usize], b"to-guest") {
                tx_done.send(buf[..n as usize].to_vec()).unwrap();
                return;
            }
        }
    });
    let mut b = batch();
    let (got, _) =
        recv_match(&port, &mut b, T, |f, _| is_test_frame(f, b"from-guest")).expect("guest frame");
    assert_eq!(&got[6..12], &vm_mac);
    let f = test_frame(port.hw_addr().octets(), b"to-guest");
    port.send(&f, &TxMeta::PLAIN).unwrap();
    let got = rx_done.recv_timeout(T).expect("guest received");
    assert_eq!(got, f);
    guest.join().unwrap();
    drop(qemu);
    // QEMU gone: the TAP stays (persistent) but loses carrier.
    assert!(wait_until(T, || !port.link_state().carrier));
    assert!(exists_here(&name));
}

fn next_event(
    rx: &Receiver<LinkEvent>,
    what: &str,
    pred: impl Fn(&LinkEvent) -> bool,
) -> LinkEvent {
    let end = Instant::now() + T;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(e) if pred(&e) => return e,
            Ok(e) => seen.push(e),
            Err(_) => break,
        }
    }
    panic!("no event: {what}; got {seen:?}");
}

/// OVS gets this wrong: a TAP moved into another namespace reports the state
/// it has *there*.
#[test]
fn link_monitor_follows_a_tap_into_a_netns_down_then_up_then_down() {
    if !can_make_devices() {
        return;
    }
    let (port, _g) = tap(false);
    let name = port.name().to_string();
    let (mon, rx) = {
        let (tx, rx) = std::sync::mpsc::channel();
        let m = LinkMonitor::spawn_with_sweep(
            move |e| {
                let _ = tx.send(e);
            },
            Duration::from_millis(300),
        )
        .unwrap();
        (m, rx)
    };
    mon.watch_tap(7, &port);
    let e = next_event(&rx, "initial UP", |e| e.state == LinkState::UP);
    assert_eq!((e.key, e.name.as_str()), (7, name.as_str()));
    assert_eq!(e.link.unwrap().nsid, None);

    let ns = Netns::new();
    ns.adopt(&name);
    let e = next_event(&rx, "DOWN in the netns", |e| {
        e.link.is_some_and(|l| l.nsid.is_some())
    });
    assert_eq!(e.state, LinkState::DOWN);
    let id = e.link.unwrap();
    assert_eq!(port.link_state(), LinkState::DOWN);

    ns.exec(&["ip", "link", "set", &name, "up"]);
    let e = next_event(&rx, "UP in the netns", |e| e.state == LinkState::UP);
    assert_eq!(e.link, Some(id));
    assert_eq!(port.link_state(), LinkState::UP);
    let q = query(LinkQuery::Id(id)).unwrap().unwrap();
    assert_eq!((q.name.as_str(), q.state), (name.as_str(), LinkState::UP));
    let q = query(LinkQuery::NameIn {
        nsid: id.nsid.unwrap(),
        name: &name,
    })
    .unwrap()
    .unwrap();
    assert_eq!(q.id, id);
    assert_eq!(port.current_link().unwrap().unwrap().id, id);

    ns.exec(&["ip", "link", "set", &name, "down"]);
    let e = next_event(&rx, "DOWN in the netns again", |e| {
        e.state == LinkState::DOWN
    });
    assert_eq!(e.link, Some(id));
    ns.exec(&["ip", "link", "set", &name, "up"]);
    next_event(&rx, "UP again", |e| e.state == LinkState::UP);

    // Destroying the namespace destroys the TAP: our fd is dead, the monitor
    // reports the link gone, recv fails with EBADFD.
    drop(ns);
    let e = next_event(&rx, "gone", |e| e.link.is_none());
    assert_eq!(e.state, LinkState::DOWN);
    assert_eq!(port.link_state(), LinkState::DOWN);
    assert_eq!(port.current_link().unwrap(), None);
    // The namespace's devices go a little after its id (cleanup_net runs
    // asynchronously); then the fd is dead.
    let mut b = batch();
    assert!(wait_until(T, || port
        .recv_batch(&mut b)
        .is_err_and(|e| e.raw_os_error() == Some(libc::EBADFD))));
}

#[test]
fn link_monitor_reports_carrier_loss_when_the_veth_peer_goes_down_and_removal() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    let (mon, rx) = LinkMonitor::channel().unwrap();
    mon.watch_name(1, &v.a);
    let e = next_event(&rx, "UP", |e| e.state == LinkState::UP);
    assert_eq!(
        e.link.unwrap().ifindex,
        super::sys::if_index(&v.a).unwrap() as i32
    );
    ns.exec(&["ip", "link", "set", &v.b, "down"]);
    let e = next_event(&rx, "no carrier", |e| !e.state.carrier);
    assert!(e.state.up && e.state.is_link_down());
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    next_event(&rx, "carrier back", |e| e.state == LinkState::UP);
    sh(&["ip", "link", "del", &v.a]);
    let e = next_event(&rx, "gone", |e| e.link.is_none());
    assert_eq!(e.state, LinkState::DOWN);
    mon.unwatch(1);
}

#[test]
fn a_netns_without_an_nsid_gets_one_and_links_there_can_be_queried() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let path = std::path::PathBuf::from(ns.path());
    assert_eq!(
        netns_id_of_path(&path, false).unwrap(),
        None,
        "ip netns add assigns no nsid"
    );
    let id = netns_id_of_path(&path, true).unwrap().unwrap();
    assert_eq!(netns_id_of_path(&path, false).unwrap(), Some(id));
    assert!(sh(&["ip", "netns", "list-id"]).contains(&format!("nsid {id} ")));
    let lo = query(LinkQuery::NameIn {
        nsid: id,
        name: "lo",
    })
    .unwrap()
    .unwrap();
    assert_eq!(
        lo.id,
        LinkId {
            nsid: Some(id),
            ifindex: 1
        }
    );
    assert!(!lo.state.up);
}

#[test]
fn query_reports_missing_links_and_namespaces_as_none() {
    if !can_make_devices() {
        return;
    }
    assert_eq!(query(LinkQuery::Name("tfpnosuchif")).unwrap(), None);
    assert_eq!(
        query(LinkQuery::Id(LinkId {
            nsid: Some(99999),
            ifindex: 1
        }))
        .unwrap(),
        None
    );
    let lo = query(LinkQuery::Name("lo")).unwrap().unwrap();
    assert_eq!(
        lo.id,
        LinkId {
            nsid: None,
            ifindex: 1
        }
    );
}

/// Does batching pay? Fills the socket queue, then drains it with recvmmsg
/// batches and with one recvmsg per frame; and sends with sendmmsg vs sendmsg.
/// `cargo test -p datapath --lib afpacket_batch -- --ignored --nocapture`
#[test]
#[ignore]
fn afpacket_batch_syscalls_throughput() {
    if !can_make_devices() {
        return;
    }
    let ns = Netns::new();
    let v = Veth::new(Some(&ns));
    ns.exec(&["ip", "link", "set", &v.b, "up"]);
    let ours = SystemPort::attach(&v.a).unwrap();
    let theirs = ns.run(|| SystemPort::attach(&v.b).unwrap());
    let f = test_frame(PEER_MAC, b"bench");
    let tx: Vec<TxFrame> = (0..64)
        .map(|_| TxFrame {
            data: &f,
            meta: TxMeta::PLAIN,
        })
        .collect();
    const N: usize = 3000;
    let mut b = PacketBatch::new(32, 2048);
    let drain = |single: bool, b: &mut PacketBatch| {
        let mut got = 0;
        let t = Instant::now();
        loop {
            let n = if single {
                ours.recv_batch_single(b).unwrap()
            } else {
                ours.recv_batch(b).unwrap()
            };
            if n == 0 {
                break;
            }
            got += n;
        }
        (got, t.elapsed())
    };
    for round in 0..3 {
        for single in [false, true] {
            // send side
            let t = Instant::now();
            let mut sent = 0;
            if single {
                while sent < N {
                    theirs.send(&f, &TxMeta::PLAIN).unwrap();
                    sent += 1;
                }
            } else {
                while sent < N {
                    sent += theirs.send_batch(&tx[..64.min(N - sent)]).unwrap();
                }
            }
            let st = t.elapsed();
            std::thread::sleep(Duration::from_millis(50));
            let (got, rt) = drain(single, &mut b);
            println!(
                "round {round} {}: send {:.0} ns/frame, recv {got} frames {:.0} ns/frame",
                if single {
                    "one syscall per frame"
                } else {
                    "sendmmsg/recvmmsg"
                },
                st.as_nanos() as f64 / N as f64,
                rt.as_nanos() as f64 / got.max(1) as f64
            );
        }
    }
}
