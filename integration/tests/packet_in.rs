//! PACKET_IN at a primary connection: `--table-miss controller` sends
//! unmatched packets with reason NO_MATCH (cookie -1, no flow to name), a
//! CONTROLLER action sends them with reason ACTION and the flow's cookie;
//! both carry in_port in the match, OFP_NO_BUFFER, the frame's total length
//! and at most miss_send_len / max_len bytes of it. With the default
//! `--table-miss drop`, an unmatched packet is dropped silently.

use integration::of::Of;
use integration::{require_root, TwoVms, IP2};
use ofproto::consts::*;
use ofproto::message::PacketIn;
use ofproto::oxm::{OxmField, OFPXMT_OFB_IN_PORT};
use ofproto::Message;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn start(table_miss: Option<&str>) -> (TwoVms, Of) {
    let listen = integration::free_tcp_port();
    let bed = TwoVms::start(|b| {
        let b = b.secure().listen_tcp(listen);
        match table_miss {
            Some(m) => b.table_miss(m),
            None => b,
        }
    });
    let of = Of::connect(&format!("tcp:127.0.0.1:{listen}"));
    (bed, of)
}

fn packet_in(of: &mut Of, timeout: Duration, pred: impl Fn(&PacketIn) -> bool) -> Option<PacketIn> {
    match of.wait_for(timeout, |m| matches!(m, Message::PacketIn(p) if pred(p))) {
        Some(Message::PacketIn(p)) => Some(p),
        _ => None,
    }
}

/// An ICMP echo request from vm1 (IPv4 protocol 1, ICMP type 8), as the
/// switch saw it (the data may be cut short, the headers are there).
fn is_vm1_ping(p: &PacketIn) -> bool {
    let d = &p.data;
    d.len() >= 35 && d[12..14] == [0x08, 0x00] && d[23] == 1 && d[34] == 8
}

#[test]
fn table_miss_controller_sends_no_match_packet_ins() {
    require_root!();
    let (bed, mut of) = start(Some("controller"));
    // ARP goes through, so vm1's pings reach the (empty) ICMP lookup.
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.12 actions=output:2");
    assert!(!bed.vm1.ping(IP2, 1, SEC), "no ICMP flow: no reply");
    let p = packet_in(&mut of, 3 * SEC, is_vm1_ping)
        .unwrap_or_else(|| panic!("no PACKET_IN for vm1's ping\n{}", bed.d.log_text()));
    assert_eq!(p.reason, OFPR_NO_MATCH, "{p:?}");
    assert_eq!(p.table_id, 0);
    assert_eq!(p.cookie, u64::MAX, "no flow entry: cookie -1");
    assert_eq!(p.buffer_id, OFP_NO_BUFFER);
    assert_eq!(p.match_.get(OFPXMT_OFB_IN_PORT), Some(&OxmField::InPort(1)));
    // 98 bytes: 14 Ethernet + 20 IPv4 + 64 ICMP; all of it (< 128).
    assert_eq!(usize::from(p.total_len), 98);
    assert_eq!(p.data.len(), 98);

    // SET_CONFIG miss_send_len=40: only the first 40 bytes from now on.
    of.send(Message::SetConfig(ofproto::message::SwitchConfig {
        flags: 0,
        miss_send_len: 40,
    }));
    of.barrier();
    let _ = of.collect_for(Duration::from_millis(200));
    assert!(!bed.vm1.ping(IP2, 1, SEC));
    let p = packet_in(&mut of, 3 * SEC, is_vm1_ping).expect("PACKET_IN after SET_CONFIG");
    assert_eq!((usize::from(p.total_len), p.data.len()), (98, 40), "{p:?}");
}

#[test]
fn controller_action_sends_action_packet_ins_with_the_flow_cookie() {
    require_root!();
    let (bed, mut of) = start(None);
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.12 actions=output:2");
    of.add_flow("cookie=0xc0ffee,priority=100,icmp actions=CONTROLLER:64");
    assert!(!bed.vm1.ping(IP2, 1, SEC));
    let p = packet_in(&mut of, 3 * SEC, is_vm1_ping).unwrap_or_else(|| {
        panic!(
            "no PACKET_IN from the CONTROLLER action\n{}",
            bed.d.log_text()
        )
    });
    assert_eq!(p.reason, OFPR_ACTION, "{p:?}");
    assert_eq!(p.cookie, 0xc0ffee);
    assert_eq!(p.match_.get(OFPXMT_OFB_IN_PORT), Some(&OxmField::InPort(1)));
    assert_eq!(
        (usize::from(p.total_len), p.data.len()),
        (98, 64),
        "max_len 64"
    );

    // A PACKET_OUT of what came in, to port 2: vm2 answers (its reply
    // comes back as a PACKET_IN too).
    of.packet_out(
        1,
        vec![ofproto::action::Action::Output {
            port: 2,
            max_len: 0,
        }],
        &p.data,
    );
    // (64 of 98 bytes: a truncated IP packet that vm2 drops; what matters
    // is that the switch took the PACKET_OUT without error.)
    assert!(of.echo());
}

#[test]
fn default_table_miss_drops_without_packet_in() {
    require_root!();
    let (bed, mut of) = start(None);
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.12 actions=output:2");
    assert!(!bed.vm1.ping(IP2, 2, SEC));
    let ins: Vec<Message> = of
        .collect_for(Duration::from_millis(500))
        .into_iter()
        .filter(|m| matches!(m, Message::PacketIn(_)))
        .collect();
    assert!(ins.is_empty(), "table-miss drop sent PACKET_IN: {ins:?}");
}
