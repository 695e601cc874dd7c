//! Fail modes, as OVS has them:
//! - standalone with no controller configured: a real, deletable
//!   `priority=0 actions=NORMAL` flow; VMs talk with no flows added;
//! - secure: only flows forward, always (also with an unreachable
//!   controller, however long it stays unreachable);
//! - standalone with controllers configured but unreachable: fail-open
//!   (NORMAL) after three inactivity-probe intervals, until a controller
//!   connects again;
//! - flows survive a controller disconnect, and the switch reconnects.

use integration::of::{FakeController, Of};
use integration::{require_root, wait_until, TwoVms, IP1, IP2};
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
/// Three probe intervals (15 s by default) plus slack for a busy machine.
const FAIL_OPEN_WITHIN: Duration = Duration::from_secs(25);

fn flow_lines(dump: &str) -> Vec<&str> {
    dump.lines().filter(|l| l.contains("actions=")).collect()
}

#[test]
fn standalone_without_controllers_has_a_deletable_normal_flow_and_forwards() {
    require_root!();
    let bed = TwoVms::start(|b| b.standalone());
    let br = bed.bridge().to_string();
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    let flows = flow_lines(&dump);
    assert_eq!(flows.len(), 1, "exactly one flow at startup:\n{dump}");
    assert!(
        flows[0].contains("table=0") && flows[0].ends_with("priority=0 actions=NORMAL"),
        "the NORMAL flow, as OVS shows it:\n{dump}"
    );
    if integration::have_ovs_ofctl() {
        let theirs = integration::ovs_ofctl_ok(["dump-flows", &bed.d.mgmt_target()]);
        assert!(theirs.contains("priority=0 actions=NORMAL"), "{theirs}");
    }

    assert_eq!(
        bed.vm1.ping_replies(IP2, 3, SEC),
        3,
        "NORMAL forwards vm1 -> vm2"
    );
    assert_eq!(
        bed.vm2.ping_replies(IP1, 3, SEC),
        3,
        "NORMAL forwards vm2 -> vm1"
    );
    bed.vm1
        .tcp_echo(&bed.vm2, 5001, 128 * 1024, 20 * SEC)
        .expect("TCP through NORMAL");
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert!(
        integration::n_packets(&dump, &["actions=NORMAL"]).unwrap_or(0) > 0,
        "{dump}"
    );

    // It is an ordinary flow: deleting it stops forwarding.
    bed.d
        .tapflow_ok(["--strict", "del-flows", &br, "priority=0"]);
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert!(flow_lines(&dump).is_empty(), "deleted:\n{dump}");
    bed.vm1.flush_neigh();
    assert!(
        !bed.vm1.ping(IP2, 2, SEC),
        "no flows left: nothing forwards"
    );
}

#[test]
fn secure_forwards_nothing_without_flows_even_with_an_unreachable_controller() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure().arg("--controller").arg("tcp:127.0.0.1:1"));
    let dump = bed.d.tapflow_ok(["dump-flows", bed.bridge()]);
    assert!(flow_lines(&dump).is_empty(), "secure starts empty:\n{dump}");
    // Longer than fail-open would take in standalone mode.
    let start = Instant::now();
    while start.elapsed() < FAIL_OPEN_WITHIN {
        assert!(
            !bed.vm1.ping(IP2, 1, SEC),
            "secure mode forwarded without flows after {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Flows do forward.
    bed.d.tapflow_ok([
        "add-flow",
        bed.bridge(),
        "priority=1,in_port=1 actions=output:2",
    ]);
    bed.d.tapflow_ok([
        "add-flow",
        bed.bridge(),
        "priority=1,in_port=2 actions=output:1",
    ]);
    assert!(bed.vm1.ping(IP2, 3, SEC));
}

#[test]
fn standalone_with_an_unreachable_controller_fails_open_until_one_connects() {
    require_root!();
    // A port nobody listens on yet: connection refused, as unreachable.
    let port = integration::free_tcp_port();
    let bed = TwoVms::start(|b| b.standalone().controller_tcp(port));
    let br = bed.bridge().to_string();
    let start = Instant::now();
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert!(
        flow_lines(&dump).is_empty(),
        "controllers configured: no NORMAL flow is installed:\n{dump}"
    );
    assert!(
        !bed.vm1.ping(IP2, 1, SEC),
        "not fail-open right after startup"
    );
    let opened = wait_until(FAIL_OPEN_WITHIN, Duration::from_millis(200), || {
        bed.vm1.ping(IP2, 1, Duration::from_millis(500))
    });
    let took = start.elapsed();
    assert!(
        opened,
        "standalone with an unreachable controller did not fail open within {FAIL_OPEN_WITHIN:?}\n{}",
        bed.d.log_text()
    );
    eprintln!("fail-open after {took:?}");
    assert!(
        took >= Duration::from_secs(5),
        "fail-open came too early: {took:?}"
    );
    // Fail-open is not a flow.
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert!(flow_lines(&dump).is_empty(), "{dump}");

    // The controller comes up: the switch reconnects (with backoff), and
    // forwarding follows the (empty) tables again.
    let ctl = FakeController::listen_on(port);
    let mut of = ctl
        .accept(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the switch did not reconnect\n{}", bed.d.log_text()));
    assert!(of.echo());
    bed.vm1.flush_neigh();
    assert!(
        wait_until(5 * SEC, Duration::from_millis(200), || !bed.vm1.ping(
            IP2,
            1,
            Duration::from_millis(500)
        )),
        "fail-open must end once a controller is connected"
    );
    // The controller's flows forward.
    of.add_flow("priority=1,in_port=1 actions=output:2");
    of.add_flow("priority=1,in_port=2 actions=output:1");
    assert!(bed.vm1.ping(IP2, 3, SEC));
}

#[test]
fn flows_survive_a_controller_disconnect_and_the_switch_reconnects() {
    require_root!();
    let ctl = FakeController::listen();
    let bed = TwoVms::start(|b| b.secure().controller_tcp(ctl.port));
    let mut of = ctl
        .accept(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("tapflowd did not connect\n{}", bed.d.log_text()));
    // What a controller asks first.
    match of.request(ofproto::Message::FeaturesRequest) {
        Ok(ofproto::Message::FeaturesReply(_)) => {}
        other => panic!("FEATURES_REQUEST: {other:?}"),
    }
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,arp,arp_tpa=10.10.10.12 actions=output:2");
    of.add_flow("priority=100,ip,nw_dst=10.10.10.11 actions=output:1");
    of.add_flow("priority=100,ip,nw_dst=10.10.10.12 actions=output:2");
    assert!(bed.vm1.ping(IP2, 3, SEC));

    drop(of); // the controller goes away
    std::thread::sleep(SEC);
    let dump = bed.d.tapflow_ok(["dump-flows", bed.bridge()]);
    assert_eq!(
        flow_lines(&dump).len(),
        4,
        "flows survive the disconnect:\n{dump}"
    );
    assert_eq!(bed.vm1.ping_replies(IP2, 3, SEC), 3, "and still forward");
    bed.vm1
        .tcp_echo(&bed.vm2, 5003, 64 * 1024, 10 * SEC)
        .expect("TCP after the controller left");

    // The switch comes back to us by itself.
    let mut again = ctl
        .accept(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("tapflowd did not reconnect\n{}", bed.d.log_text()));
    assert!(again.echo());
    assert_eq!(again.dump_flows().len(), 4);
    let _ = Of::connect(&bed.d.mgmt_target()); // the mgmt socket still answers
}
