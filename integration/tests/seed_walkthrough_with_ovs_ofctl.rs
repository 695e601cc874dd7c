//! The seed article's walkthrough, driven by the real `ovs-ofctl -O
//! OpenFlow13` exactly as an operator types it, against tapflowd in secure
//! mode with two namespace VMs on TAP ports 1 and 2:
//!
//! 1. no flows: ping fails;
//! 2. ARP flows (by arp_tpa): ARP resolves, ping still fails;
//! 3. ICMP flows (by nw_dst): ping works both ways, TCP does not;
//! 4. IP flows (by nw_dst): TCP works;
//!
//! and after each step `dump-flows` shows the flows with n_packets > 0 for
//! the ones the step used. Once over the `.mgmt` unix socket, once over a
//! `ptcp` listener.

use integration::{
    have_ovs_ofctl, n_packets, ovs_ofctl, ovs_ofctl_ok, require_root, TwoVms, IP1, IP2,
};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn add_flow(target: &str, flow: &str) {
    eprintln!("$ ovs-ofctl -O OpenFlow13 add-flow {target} \"{flow}\"");
    ovs_ofctl_ok(["add-flow", target, flow]);
}

fn dump(target: &str) -> String {
    let out = ovs_ofctl_ok(["dump-flows", target]);
    eprintln!("$ ovs-ofctl -O OpenFlow13 dump-flows {target}\n{out}");
    out
}

/// n_packets of the flow whose line contains all of `needles`, or a panic
/// showing the dump.
fn count(dump: &str, needles: &[&str]) -> u64 {
    n_packets(dump, needles)
        .unwrap_or_else(|| panic!("no flow with {needles:?} in dump-flows:\n{dump}"))
}

fn ping_fails(bed: &TwoVms, what: &str) {
    assert!(
        !bed.vm1.ping(IP2, 2, SEC),
        "{what}: vm1 -> vm2 ping must fail\n{}",
        bed.d.log_text()
    );
}

fn walkthrough(bed: &TwoVms, target: &str) {
    let (vm1, vm2) = (&bed.vm1, &bed.vm2);

    eprintln!("== step 1: secure mode, no flows: nothing forwards");
    let d = dump(target);
    assert_eq!(
        d.lines().filter(|l| l.contains("actions=")).count(),
        0,
        "a secure bridge starts with no flows:\n{d}"
    );
    ping_fails(bed, "no flows");
    assert_eq!(vm1.neigh(IP2), None, "no flows: ARP cannot resolve");

    eprintln!("== step 2: ARP flows: ARP resolves, ping still fails");
    add_flow(
        target,
        "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
    );
    add_flow(
        target,
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    );
    vm1.flush_neigh();
    vm2.flush_neigh();
    ping_fails(bed, "ARP flows only");
    assert!(
        integration::wait_until(3 * SEC, Duration::from_millis(100), || vm1
            .neigh(IP2)
            .as_deref()
            == Some(vm2.mac_str().as_str())),
        "with ARP flows vm1 must learn vm2's MAC ({}); ARP table: {:?}",
        vm2.mac_str(),
        vm1.ns.ip(["neigh", "show"])
    );
    assert_eq!(vm2.neigh(IP1).as_deref(), Some(vm1.mac_str().as_str()));
    let d = dump(target);
    assert!(
        count(&d, &["arp_tpa=10.10.10.12", "actions=output:2"]) > 0,
        "{d}"
    );
    assert!(
        count(&d, &["arp_tpa=10.10.10.11", "actions=output:1"]) > 0,
        "{d}"
    );

    eprintln!("== step 3: ICMP flows: ping works both ways, TCP does not yet");
    add_flow(
        target,
        "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
    );
    add_flow(
        target,
        "priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
    );
    assert_eq!(
        vm1.ping_replies(IP2, 3, SEC),
        3,
        "vm1 -> vm2 with ICMP flows"
    );
    assert_eq!(
        vm2.ping_replies(IP1, 3, SEC),
        3,
        "vm2 -> vm1 with ICMP flows"
    );
    assert!(
        vm1.tcp_echo(vm2, 5001, 100, 2 * SEC).is_err(),
        "TCP must not pass with only ARP and ICMP flows"
    );
    let d = dump(target);
    assert!(
        count(&d, &["icmp,nw_dst=10.10.10.12", "actions=output:2"]) >= 6,
        "{d}"
    );
    assert!(
        count(&d, &["icmp,nw_dst=10.10.10.11", "actions=output:1"]) >= 6,
        "{d}"
    );

    eprintln!("== step 4: IP flows: TCP works");
    add_flow(
        target,
        "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
    );
    add_flow(
        target,
        "priority=100,ip,nw_dst=10.10.10.12 actions=output:2",
    );
    vm1.tcp_echo(vm2, 5001, 256 * 1024, 20 * SEC)
        .expect("TCP vm1 -> vm2 with IP flows");
    vm2.tcp_echo(vm1, 5002, 64 * 1024, 20 * SEC)
        .expect("TCP vm2 -> vm1 with IP flows");
    assert!(vm1.ping(IP2, 3, SEC), "ping still works");
    let d = dump(target);
    assert!(
        count(
            &d,
            &["priority=100,ip,nw_dst=10.10.10.12", "actions=output:2"]
        ) > 0,
        "{d}"
    );
    assert!(
        count(
            &d,
            &["priority=100,ip,nw_dst=10.10.10.11", "actions=output:1"]
        ) > 0,
        "{d}"
    );
    assert_eq!(
        d.lines().filter(|l| l.contains("actions=")).count(),
        6,
        "exactly the six flows added:\n{d}"
    );

    // Our CLI prints the same flows the same way (statistics aside).
    let ours = bed
        .d
        .tapflow_ok(["--no-stats", "--sort", "dump-flows", target]);
    let theirs = ovs_ofctl_ok(["--no-stats", "--sort", "dump-flows", target]);
    assert_eq!(
        ours, theirs,
        "tapflow vs ovs-ofctl dump-flows --no-stats --sort"
    );
}

#[test]
fn seed_walkthrough_over_the_mgmt_unix_socket() {
    require_root!();
    if !have_ovs_ofctl() {
        return;
    }
    let bed = TwoVms::start(|b| b.secure());
    let target = bed.d.mgmt_target();
    walkthrough(&bed, &target);
    // ovs-ofctl's other views work too.
    let show = ovs_ofctl_ok(["show", &target]);
    assert!(
        show.contains(&format!("({})", bed.tap1)),
        "show lists tap1:\n{show}"
    );
    assert!(
        show.contains(&format!("({})", bed.tap2)),
        "show lists tap2:\n{show}"
    );
    let ports = ovs_ofctl_ok(["dump-ports", &target]);
    eprintln!("$ ovs-ofctl -O OpenFlow13 dump-ports {target}\n{ports}");
    assert!(
        ports.contains("port  1:") && ports.contains("port  2:"),
        "{ports}"
    );
}

#[test]
fn seed_walkthrough_over_ptcp() {
    require_root!();
    if !have_ovs_ofctl() {
        return;
    }
    let port = integration::free_tcp_port();
    let bed = TwoVms::start(|b| b.secure().listen_tcp(port));
    let target = format!("tcp:127.0.0.1:{port}");
    walkthrough(&bed, &target);
    // The unix socket sees the same flows.
    let d = dump(&bed.d.mgmt_target());
    assert_eq!(
        d.lines().filter(|l| l.contains("actions=")).count(),
        6,
        "{d}"
    );
}

/// A flow the switch refuses makes ovs-ofctl fail with the switch's error,
/// and the walkthrough's flows are unaffected.
#[test]
fn ovs_ofctl_reports_a_refused_flow() {
    require_root!();
    if !have_ovs_ofctl() {
        return;
    }
    let bed = TwoVms::start(|b| b.secure());
    let target = bed.d.mgmt_target();
    add_flow(
        &target,
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    );
    // ovs-ofctl checks most things itself; an overlap at the same priority
    // (check_overlap) is for the switch to refuse: OFPFMFC_OVERLAP.
    let out = ovs_ofctl([
        "add-flow",
        &target,
        "priority=100,arp,check_overlap actions=output:1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "an overlapping flow with check_overlap must be refused"
    );
    assert!(
        err.contains("OFPT_ERROR") && err.contains("OFPFMFC_OVERLAP"),
        "ovs-ofctl shows the switch's error: {err}"
    );
    let d = dump(&target);
    assert_eq!(
        d.lines().filter(|l| l.contains("actions=")).count(),
        1,
        "{d}"
    );
}
