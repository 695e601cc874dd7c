//! The harness itself, without tapflowd: two "VMs" joined by a plain veth
//! pair must ping, resolve ARP, and carry TCP, and the raw-frame helpers
//! must see what they send. If these fail, the other tests' verdicts mean
//! nothing.

use integration::packet::{self, PacketSocket};
use integration::vm::mac;
use integration::{require_root, Link, Names, Vm};
use std::net::Ipv4Addr;
use std::time::Duration;

const IP1: Ipv4Addr = Ipv4Addr::new(10, 10, 10, 11);
const IP2: Ipv4Addr = Ipv4Addr::new(10, 10, 10, 12);

#[test]
fn veth_between_two_vms_carries_ping_arp_and_tcp() {
    require_root!();
    let n = Names::new();
    let (a, b) = (n.name("a"), n.name("b"));
    let _link = Link::veth(&a, &b);
    let vm1 = Vm::attach(&n.name("v1"), &a, IP1, mac(1));
    let vm2 = Vm::attach(&n.name("v2"), &b, IP2, mac(2));

    assert!(
        vm1.ping(IP2, 3, Duration::from_secs(1)),
        "ping over a plain veth"
    );
    assert_eq!(vm1.neigh(IP2).as_deref(), Some(vm2.mac_str().as_str()));
    assert_eq!(vm2.ping_replies(IP1, 3, Duration::from_secs(1)), 3);
    vm1.tcp_echo(&vm2, 5001, 1 << 20, Duration::from_secs(10))
        .expect("TCP echo over a plain veth");
    // Nothing listens: refused quickly, not a pass.
    assert!(vm1
        .tcp_echo_to(IP2, 5002, 10, Duration::from_secs(2))
        .is_err());
    // An address nobody has: no reply.
    assert!(!vm1.ping(Ipv4Addr::new(10, 10, 10, 99), 1, Duration::from_millis(300)));
}

#[test]
fn packet_sockets_inject_and_observe_frames_in_a_namespace() {
    require_root!();
    let n = Names::new();
    let (a, b) = (n.name("a"), n.name("b"));
    let _link = Link::veth(&a, &b);
    let vm1 = Vm::attach(&n.name("v1"), &a, IP1, mac(1));
    let vm2 = Vm::attach(&n.name("v2"), &b, IP2, mac(2));
    let s1 = vm1
        .ns
        .enter(|| PacketSocket::open(&a))
        .expect("socket in vm1");
    let s2 = vm2
        .ns
        .enter(|| PacketSocket::open(&b))
        .expect("socket in vm2");
    s2.drain();
    let f = packet::udp_frame(
        mac(1),
        mac(2),
        IP1.octets(),
        IP2.octets(),
        1000,
        2000,
        b"hello",
    );
    packet::verify_checksums(&f).expect("builder makes good checksums");
    s1.send(&f).expect("send");
    let got = loop {
        let g = s2
            .recv_incoming(Duration::from_secs(2))
            .expect("frame arrives");
        if g.ends_with(b"hello") {
            break g;
        }
    };
    assert_eq!(got, f);
    // A partial checksum is not a valid one.
    let (p, _, _) =
        packet::udp_frame_partial_csum(mac(1), mac(2), IP1.octets(), IP2.octets(), 1, 2, b"x");
    assert!(packet::verify_checksums(&p).is_err());
}
