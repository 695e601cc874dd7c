//! Flow timeouts: an idle flow expires (traffic keeps it alive), a hard
//! timeout expires regardless of traffic, and with send_flow_rem a connected
//! controller gets FLOW_REMOVED with the right reason, cookie, priority,
//! match and counters; without the flag it gets nothing.

use integration::of::{flow, Of};
use integration::{require_root, wait_until, TwoVms, IP2};
use ofproto::consts::*;
use ofproto::message::FlowRemoved;
use ofproto::Message;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);

/// The walkthrough's ARP and ICMP flows for vm2 -> vm1 (permanent), so only
/// the flows under test decide whether vm1 -> vm2 passes.
fn base_flows(of: &mut Of) {
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.12 actions=output:2");
    of.add_flow("priority=100,icmp,nw_dst=10.10.10.11 actions=output:1");
}

fn flow_removed(of: &mut Of, timeout: Duration, cookie: u64) -> Option<FlowRemoved> {
    match of.wait_for(
        timeout,
        |m| matches!(m, Message::FlowRemoved(fr) if fr.cookie == cookie),
    ) {
        Some(Message::FlowRemoved(fr)) => Some(fr),
        _ => None,
    }
}

fn has_cookie(of: &mut Of, cookie: u64) -> bool {
    of.dump_flows().iter().any(|f| f.cookie == cookie)
}

fn start() -> (TwoVms, Of) {
    let listen = integration::free_tcp_port();
    let bed = TwoVms::start(|b| b.secure().listen_tcp(listen));
    // A primary connection: FLOW_REMOVED is on by default.
    let mut of = Of::connect(&format!("tcp:127.0.0.1:{listen}"));
    base_flows(&mut of);
    (bed, of)
}

#[test]
fn idle_timeout_expires_an_unused_flow_with_flow_removed() {
    require_root!();
    let (bed, mut of) = start();
    let text =
        "cookie=0x1234,priority=50,idle_timeout=2,send_flow_rem,udp,tp_dst=9 actions=output:2";
    let sent = flow(text);
    of.add_flow(text);
    let t0 = Instant::now();
    assert!(has_cookie(&mut of, 0x1234));
    let fr = flow_removed(&mut of, 8 * SEC, 0x1234)
        .unwrap_or_else(|| panic!("no FLOW_REMOVED within 8 s\n{}", bed.d.log_text()));
    let took = t0.elapsed();
    assert_eq!(fr.reason, OFPRR_IDLE_TIMEOUT, "{fr:?}");
    assert_eq!(
        (fr.priority, fr.table_id, fr.idle_timeout, fr.hard_timeout),
        (50, 0, 2, 0)
    );
    assert_eq!(
        fr.match_, sent.match_,
        "FLOW_REMOVED carries the flow's match"
    );
    assert_eq!(fr.packet_count, 0);
    assert!(
        (2..=5).contains(&fr.duration_sec),
        "duration {}s",
        fr.duration_sec
    );
    assert!(
        took >= Duration::from_millis(1900),
        "expired after {took:?}, idle_timeout=2"
    );
    assert!(!has_cookie(&mut of, 0x1234), "gone from the table");
}

#[test]
fn traffic_keeps_an_idle_flow_alive_until_it_stops() {
    require_root!();
    let (bed, mut of) = start();
    of.add_flow("cookie=0x2,priority=100,idle_timeout=2,send_flow_rem,icmp,nw_dst=10.10.10.12 actions=output:2");
    // 5 s of pings, one per 0.5 s: never idle for 2 s.
    let t0 = Instant::now();
    let mut replies = 0;
    while t0.elapsed() < 5 * SEC {
        replies += bed.vm1.ping_replies(IP2, 1, SEC);
        std::thread::sleep(Duration::from_millis(400));
    }
    assert!(
        replies >= 8,
        "pings through the idle-timeout flow: {replies}"
    );
    assert!(has_cookie(&mut of, 0x2), "traffic kept the flow alive");
    let early: Vec<_> = of
        .collect_for(Duration::ZERO)
        .into_iter()
        .filter(|m| matches!(m, Message::FlowRemoved(_)))
        .collect();
    assert!(early.is_empty(), "removed while in use: {early:?}");

    let fr = flow_removed(&mut of, 8 * SEC, 0x2).unwrap_or_else(|| {
        panic!(
            "no FLOW_REMOVED after the traffic stopped\n{}",
            bed.d.log_text()
        )
    });
    assert_eq!(fr.reason, OFPRR_IDLE_TIMEOUT);
    assert!(
        fr.packet_count >= replies as u64,
        "{} packets counted",
        fr.packet_count
    );
    assert!(fr.byte_count >= fr.packet_count * 98);
    assert!(fr.duration_sec >= 5, "lived {}s", fr.duration_sec);
    assert!(!bed.vm1.ping(IP2, 1, SEC), "expired: no more forwarding");
}

#[test]
fn hard_timeout_expires_a_flow_in_use_with_flow_removed() {
    require_root!();
    let (bed, mut of) = start();
    of.add_flow("cookie=0x3,priority=100,hard_timeout=3,send_flow_rem,icmp,nw_dst=10.10.10.12 actions=output:2");
    let t0 = Instant::now();
    let pinger = || bed.vm1.ping(IP2, 1, Duration::from_millis(500));
    assert!(pinger(), "forwarding while the flow is there");
    // Keep traffic going; the flow goes anyway.
    let gone = wait_until(8 * SEC, Duration::from_millis(200), || !pinger());
    assert!(gone, "hard_timeout=3 did not stop forwarding");
    let fr = flow_removed(&mut of, 5 * SEC, 0x3)
        .unwrap_or_else(|| panic!("no FLOW_REMOVED for the hard timeout\n{}", bed.d.log_text()));
    assert_eq!(fr.reason, OFPRR_HARD_TIMEOUT, "{fr:?}");
    assert_eq!(fr.hard_timeout, 3);
    assert!(fr.packet_count > 0);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(2900),
        "expired after {took:?}"
    );
}

#[test]
fn delete_sends_flow_removed_only_for_flows_that_asked() {
    require_root!();
    let (bed, mut of) = start();
    of.add_flow("cookie=0x4,priority=60,send_flow_rem,udp,tp_dst=4 actions=output:2");
    of.add_flow("cookie=0x5,priority=60,udp,tp_dst=5 actions=output:2");
    of.add_flow("cookie=0x6,priority=60,idle_timeout=1,udp,tp_dst=6 actions=output:2");
    // A service connection that did not ask hears nothing.
    let mut quiet = Of::connect(&bed.d.mgmt_target());
    of.flow_mod("udp", ofproto::text::FlowCommand::Delete);
    let fr = flow_removed(&mut of, 3 * SEC, 0x4).expect("FLOW_REMOVED for the delete");
    assert_eq!(fr.reason, OFPRR_DELETE);
    assert_eq!(fr.priority, 60);
    // Nothing for 0x5 (no flag) nor 0x6 (deleted before it expired, no flag).
    let others: Vec<_> = of
        .collect_for(3 * SEC)
        .into_iter()
        .filter(|m| matches!(m, Message::FlowRemoved(_)))
        .collect();
    assert!(
        others.is_empty(),
        "FLOW_REMOVED without send_flow_rem: {others:?}"
    );
    let heard: Vec<_> = quiet
        .collect_for(Duration::from_millis(200))
        .into_iter()
        .filter(|m| matches!(m, Message::FlowRemoved(_)))
        .collect();
    assert!(
        heard.is_empty(),
        "service connection got FLOW_REMOVED unasked: {heard:?}"
    );
    // The base flows are untouched.
    assert_eq!(of.dump_flows().len(), 3);
    let _ = bed;
}
