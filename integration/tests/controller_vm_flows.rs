//! tapflow-controller (app vm-flows) driving two tapflowd bridges in secure
//! mode, the tenant network of `integration::controller` (three tenants,
//! blue <-> red routed, blue and green also on a second bridge behind a
//! trunk):
//!
//! - the flows it installs (our cookie) are exactly `check`'s for the
//!   description on each bridge, with port names resolved through PORT_DESC;
//! - the full ping matrix is the policy: same-tenant pairs (also across
//!   the trunk) and routed blue/red pairs (via the gateways the controller
//!   answers ARP for) ping, every other pair doesn't, and on-link ARP across
//!   tenants never resolves; IPv6 between the routed tenants works too, each
//!   side resolving its gateway6 through the controller's neighbor
//!   advertisement;
//! - a VM's port going down removes its flows, coming back restores them;
//! - a controller restart converges without touching a single flow
//!   (durations and counters carry on);
//! - a bad reload changes nothing and is counted; a good one reconverges.

use integration::controller::*;
use integration::vm::mac_str;
use integration::{require_root, wait_until, Daemon, Names};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

type ByBridge = BTreeMap<String, BTreeSet<String>>;

/// Each of our flows on `d` (statistics removed, as the key) with its
/// duration in seconds and n_packets.
fn flow_stats(d: &Daemon) -> BTreeMap<String, (f64, u64)> {
    let dump = d.tapflow_ok(["dump-flows", d.bridge(), &cookie_filter()]);
    let mut out = BTreeMap::new();
    for line in dump.lines().filter(|l| l.contains("actions=")) {
        let (mut duration, mut packets) = (None, None);
        let mut key = Vec::new();
        for tok in line.trim().split(", ") {
            if let Some(v) = tok.strip_prefix("duration=") {
                duration = v.trim_end_matches('s').parse::<f64>().ok();
            } else if let Some(v) = tok.strip_prefix("n_packets=") {
                packets = v.parse::<u64>().ok();
            } else if !["cookie=", "n_bytes=", "idle_age=", "hard_age="]
                .iter()
                .any(|p| tok.starts_with(p))
            {
                key.push(tok);
            }
        }
        out.insert(
            key.join(", "),
            (
                duration.unwrap_or_else(|| panic!("no duration in {line}")),
                packets.unwrap_or_else(|| panic!("no n_packets in {line}")),
            ),
        );
    }
    out
}

/// The last "converged" log line of the switch with datapath id `dpid`.
fn last_convergence(ctl: &Controller, dpid: u64) -> String {
    ctl.last_log(&format!("switch {dpid:016x} converged ("))
}

fn diff_all(want: &ByBridge, got: &ByBridge) -> String {
    let empty = BTreeSet::new();
    want.keys()
        .chain(got.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|b| {
            format!(
                "bridge {b}:\n{}",
                set_diff(want.get(b).unwrap_or(&empty), got.get(b).unwrap_or(&empty))
            )
        })
        .collect()
}

/// Waits until our flows on both bridges equal `want`.
fn wait_flows(sw: &TapflowdBridges, ctl: &Controller, want: &ByBridge, what: &str) {
    let ok = wait_until(20 * SEC, Duration::from_millis(100), || {
        sw.our_flows() == *want
    });
    assert!(
        ok,
        "{what}: our flows differ from `check`:\n{}\n--- controller ---\n{}",
        diff_all(want, &sw.our_flows()),
        ctl.log_text()
    );
}

/// Whether a flow line of the bridge mentions port 2 or vm-blue2.
fn mentions_blue2(line: &str) -> bool {
    line.contains("in_port=2,")
        || line.contains("output:2,")
        || line.ends_with("output:2")
        || line.contains(&format!("={},", BLUE2.ip))
        || line.contains(&format!("={} ", BLUE2.ip))
        || line.contains(&mac_str(&BLUE2.mac))
}

#[test]
fn controller_vm_flows() {
    require_root!();
    let names = Names::new();
    let ports = Ports::new(&names);
    let listen = integration::free_tcp_port();
    let metrics_addr = format!("127.0.0.1:{}", integration::free_tcp_port());
    let desc = tenant_desc(&ports, None, &[]);
    let mut ctl = Controller::start(
        &names,
        &desc,
        &[
            "--listen".into(),
            format!("ptcp:{listen}:127.0.0.1"),
            "--metrics".into(),
            metrics_addr.clone(),
        ],
        None,
    );
    let want = check_by_bridge(ctl.desc_path(), &ports.check_args());
    assert_eq!(want.len(), 2, "{want:#?}");
    assert!(want[BRIDGE].len() > 30, "{want:#?}");

    let sw = TapflowdBridges::start(&names, &ports, |b| b.controller_tcp(listen));
    let net = TenantNet::build(&names, &ports.vms);

    // 1. Converged to exactly what `check` prints, on both bridges.
    wait_flows(&sw, &ctl, &want, "after connect");
    let series = |dpid: u64| {
        format!("tapflow_controller_convergence_seconds{{datapath_id=\"{dpid:016x}\"}}")
    };
    let m = ctl.metrics(&metrics_addr);
    assert_eq!(
        metric(&m, "tapflow_controller_switches_connected"),
        Some(2.0),
        "{m}"
    );
    for dpid in [DPID, FAR_DPID] {
        let took = metric(&m, &series(dpid)).unwrap_or_else(|| panic!("{m}"));
        eprintln!(
            "convergence {dpid:#x}: last {:.2} ms; {}",
            took * 1e3,
            last_convergence(&ctl, dpid)
        );
    }
    if let Some(verdict) = promtool_check(&m) {
        verdict.unwrap_or_else(|e| panic!("promtool check metrics: {e}\n{m}"));
    }

    // 2. The ping matrix is the policy.
    let rows = ping_matrix(&net, 5);
    eprintln!("ping matrix:\n{}", format_matrix(&rows));
    assert!(
        rows.iter().all(|r| r.got == r.expected),
        "ping matrix differs from the policy:\n{}\n--- controller ---\n{}",
        format_matrix(&rows),
        ctl.log_text()
    );
    assert_eq!(rows.len(), 30);
    // The gateway answers came from the controller.
    let blue1 = net.vm(&BLUE1);
    let gw_mac = blue1
        .neigh(gateway("blue"))
        .expect("vm-blue1 resolved its gateway");
    assert!(gw_mac.starts_with("02:74:66"), "gateway MAC {gw_mac}");
    let m = ctl.metrics(&metrics_addr);
    assert!(
        metric(&m, "tapflow_controller_packet_out_total").unwrap_or(0.0) >= 6.0,
        "every VM's gateway ARP answered: {m}"
    );
    // IPv6 between the routed tenants: each side's neighbor solicitation
    // for its gateway6 is answered by the controller, and the routed flows
    // carry the datagrams both ways.
    let red1 = net.vm(&RED1);
    udp6_round_trip((&BLUE1, blue1), (&RED1, red1), 7006)
        .unwrap_or_else(|e| panic!("{e}\n--- controller ---\n{}", ctl.log_text()));
    for (h, vm) in [(&BLUE1, blue1), (&RED1, red1)] {
        let gw6 = gateway6(h.tenant).expect("gateway6");
        let gw4_mac = vm.neigh(gateway(h.tenant)).expect("IPv4 gateway resolved");
        assert_eq!(
            neigh6(vm, gw6).as_deref(),
            Some(gw4_mac.as_str()),
            "{} resolved {gw6} through the controller's neighbor advertisement",
            h.name
        );
    }

    // Across tenants not even ARP gets through.
    let leaks = arp_leaks(&net);
    assert!(leaks.is_empty(), "cross-tenant ARP: {leaks:?}");

    // 3. Port down: the VM's flows go; back up: they return.
    let blue2 = net.vm(&BLUE2);
    blue2.set_link(false);
    let gone = wait_until(20 * SEC, Duration::from_millis(100), || {
        sw.our_flows()[BRIDGE].iter().all(|l| !mentions_blue2(l))
    });
    let now = sw.our_flows();
    assert!(gone, "vm-blue2's flows stay with its port down:\n{now:#?}");
    for l in want[BRIDGE].iter().filter(|l| !mentions_blue2(l)) {
        assert!(
            now[BRIDGE].contains(l),
            "unrelated flow {l} went with port 2:\n{now:#?}"
        );
    }
    assert_eq!(
        now[FAR_BRIDGE], want[FAR_BRIDGE],
        "the other bridge is untouched"
    );
    eprintln!("port down: {}", last_convergence(&ctl, DPID));
    assert!(
        !blue1.ping(BLUE2.ip, 2, SEC),
        "vm-blue2 reachable with its port down"
    );
    blue2.set_link(true);
    wait_flows(&sw, &ctl, &want, "port back up");
    eprintln!("port up: {}", last_convergence(&ctl, DPID));
    assert!(
        blue1.ping(BLUE2.ip, 5, SEC),
        "vm-blue1 -> vm-blue2 after the port came back"
    );

    // 4. A controller restart touches nothing.
    assert!(blue1.ping(RED1.ip, 3, SEC));
    assert!(blue1.ping(FAR_BLUE.ip, 3, SEC));
    let before = [flow_stats(&sw.d), flow_stats(&sw.far)];
    let connects = ctl.count_log("converged (connect)");
    ctl.restart();
    assert!(
        ctl.wait_log("converged (connect)", connects + 2, 30 * SEC),
        "no convergence of both switches after the restart:\n{}",
        ctl.log_text()
    );
    for (dpid, bridge) in [(DPID, BRIDGE), (FAR_DPID, FAR_BRIDGE)] {
        let line = last_convergence(&ctl, dpid);
        eprintln!("controller restart: {line}");
        let n = want[bridge].len();
        assert!(
            line.contains(&format!("{n} unchanged, 0 added (0 replacing), 0 deleted")),
            "{line}"
        );
    }
    let m = ctl.metrics(&metrics_addr);
    assert_eq!(
        metric(&m, "tapflow_controller_flows_installed_total"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "tapflow_controller_flows_removed_total"),
        Some(0.0),
        "{m}"
    );
    let after = [flow_stats(&sw.d), flow_stats(&sw.far)];
    let mut carried = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, (dur, pk)) in b {
            let (dur2, pk2) = a[k];
            assert!(dur2 >= *dur, "{k}: duration {dur} -> {dur2}: re-added");
            assert!(pk2 >= *pk, "{k}: n_packets {pk} -> {pk2}: re-added");
            carried += usize::from(*pk > 0);
        }
    }
    assert!(
        carried > 5,
        "flows with traffic before the restart: {carried}"
    );

    // 5. A bad reload changes nothing and is counted.
    // vm-blue2 with vm-blue1's MAC.
    let b1_mac = format!("mac = \"{}\"", mac_str(&BLUE1.mac));
    let b2_mac = format!("mac = \"{}\"", mac_str(&BLUE2.mac));
    ctl.write_desc(&desc.replace(&b2_mac, &b1_mac));
    ctl.hup();
    assert!(
        ctl.wait_log("reload (SIGHUP) failed", 1, 10 * SEC),
        "{}",
        ctl.log_text()
    );
    let failed = ctl.last_log("reload (SIGHUP) failed");
    eprintln!("bad reload: {failed}");
    assert!(
        failed.contains("network.toml")
            && failed.contains("vm \"vm-blue2\"")
            && failed.contains("already used"),
        "the error names the file and the problem: {failed}"
    );
    let m = ctl.metrics(&metrics_addr);
    assert_eq!(
        metric(&m, "tapflow_controller_reloads_total{result=\"error\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(sw.our_flows(), want, "flows changed after a bad reload");
    assert!(blue1.ping(RED1.ip, 3, SEC), "routing survives a bad reload");

    // 6. A good reload reconverges: vm-green1 leaves the description.
    let without_green1 = tenant_desc(&ports, None, &[&GREEN1]);
    ctl.write_desc(&without_green1);
    let want2 = check_by_bridge(ctl.desc_path(), &ports.check_args());
    assert!(want2[BRIDGE].len() < want[BRIDGE].len());
    ctl.hup();
    wait_flows(&sw, &ctl, &want2, "after a good reload");
    eprintln!("reload: {}", last_convergence(&ctl, DPID));
    let far_green = net.vm(&FAR_GREEN);
    assert!(
        !far_green.ping(GREEN1.ip, 2, SEC),
        "vm-green1 is no longer described: no flow delivers to it"
    );
    ctl.write_desc(&desc);
    ctl.hup();
    wait_flows(&sw, &ctl, &want, "after reloading the original");
    assert!(
        far_green.ping(GREEN1.ip, 5, SEC),
        "far-green -> vm-green1 again"
    );
    let m = ctl.metrics(&metrics_addr);
    assert_eq!(
        metric(&m, "tapflow_controller_reloads_total{result=\"ok\"}"),
        Some(2.0),
        "{m}"
    );
    let times: Vec<f64> = ctl
        .log_text()
        .lines()
        .filter(|l| l.contains(" converged ("))
        .filter_map(|l| l.rsplit(" in ").next()?.strip_suffix(" ms")?.parse().ok())
        .collect();
    eprintln!(
        "convergence times (ms), {} rounds: min {:.1}, max {:.1}",
        times.len(),
        times.iter().cloned().fold(f64::INFINITY, f64::min),
        times.iter().cloned().fold(0.0, f64::max)
    );

    // Every round left the switches as planned: a second pass right after
    // would have found nothing to do (the controller re-reads after each
    // change and would have said so).
    assert_eq!(
        ctl.count_log("after convergence the switch still"),
        0,
        "{}",
        ctl.log_text()
    );

    drop(sw);
    drop(net);
    drop(ctl);
}
