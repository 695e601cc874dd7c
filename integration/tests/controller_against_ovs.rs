//! tapflow-controller (app vm-flows) driving a private Open vSwitch
//! (userspace datapath, secure fail mode, two bridges joined by patch ports
//! as the trunk) with the same description as `controller_vm_flows`: OVS
//! ends up holding exactly `check`'s flows, the ping matrix is the policy,
//! and a controller restart finds OVS's flows (in OVS's own canonical form)
//! equal to the plan and changes nothing.
//!
//! OVS runs in a namespace of its own (see `integration::ovs`), so the
//! controller runs there too and OVS connects to it at
//! `tcp:127.0.0.1:PORT`.

use integration::controller::*;
use integration::ovs::{have_ovs, BridgeSpec, Ovs};
use integration::{have_ovs_ofctl, ovs_ofctl_ok, require_root, wait_until, Link, Names};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn controller_against_ovs() {
    require_root!();
    if !have_ovs() || !have_ovs_ofctl() {
        return;
    }
    let names = Names::new();
    let ports = Ports::new(&names);
    let (ob, of) = (names.name("ob"), names.name("of"));
    let listen = integration::free_tcp_port();
    let mut ovs = Ovs::builder(&names).start();
    for (br, dpid) in [(&ob, DPID), (&of, FAR_DPID)] {
        ovs.add_bridge_with(
            &BridgeSpec::new(br).set("other_config:datapath-id", &format!("\"{dpid:016x}\"")),
        );
    }
    // VM ports are veth pairs: the switch's end in OVS's namespace, the
    // VM's end in the VM's. (An OVS `type=tap` port moved into another
    // namespace is reported PORT_DOWN/LINK_DOWN, and the controller would
    // rightly give it no flows.)
    let ns = ovs.netns().expect("OVS's namespace").name().to_string();
    let vm_ends = ["u1", "u2", "u3", "u4", "u5", "u6"].map(|s| names.name(s));
    let mut veths = Vec::new();
    for (i, (_, bridge, no)) in Ports::placement().into_iter().enumerate() {
        let br = if bridge == BRIDGE { &ob } else { &of };
        veths.push(Link::veth(&ports.vms[i], &vm_ends[i]));
        integration::ip(["link", "set", &ports.vms[i], "netns", &ns]);
        ovs.ip(["link", "set", &ports.vms[i], "up"]);
        ovs.add_port(br, &ports.vms[i], &[], Some(no));
    }
    // The trunk: a pair of patch ports, made in one transaction (a patch
    // port without its peer gets no port number).
    ovs.vsctl_ok([
        "add-port",
        &ob,
        &ports.trunk,
        "--",
        "set",
        "interface",
        &ports.trunk,
        "type=patch",
        &format!("options:peer={}", ports.far_trunk),
        &format!("ofport_request={TRUNK_PORT}"),
        "--",
        "add-port",
        &of,
        &ports.far_trunk,
        "--",
        "set",
        "interface",
        &ports.far_trunk,
        "type=patch",
        &format!("options:peer={}", ports.trunk),
        &format!("ofport_request={FAR_TRUNK_PORT}"),
    ]);
    assert_eq!(ovs.ofport(&ports.trunk), TRUNK_PORT);
    assert_eq!(ovs.ofport(&ports.far_trunk), FAR_TRUNK_PORT);

    let desc = tenant_desc(&ports, None, &[]);
    let mut ctl = Controller::start(
        &names,
        &desc,
        &["--listen".into(), format!("ptcp:{listen}:127.0.0.1")],
        Some(&ns),
    );
    for br in [&ob, &of] {
        ovs.vsctl_ok(["set-controller", br, &format!("tcp:127.0.0.1:{listen}")]);
    }
    let net = TenantNet::build(&names, &vm_ends);

    let want = check_by_bridge(ctl.desc_path(), &ports.check_args());
    let ours = || -> BTreeMap<String, BTreeSet<String>> {
        [(BRIDGE, &ob), (FAR_BRIDGE, &of)]
            .into_iter()
            .map(|(name, br)| {
                let dump = ovs_ofctl_ok([
                    "dump-flows",
                    "--no-stats",
                    &ovs.mgmt_target(br),
                    &cookie_filter(),
                ]);
                (name.to_string(), flow_lines(&dump))
            })
            .collect()
    };
    let converged = wait_until(30 * SEC, Duration::from_millis(200), || ours() == want);
    let got = ours();
    assert!(
        converged,
        "OVS's flows differ from `check`:\n{}{}\n--- controller ---\n{}",
        set_diff(&want[BRIDGE], &got[BRIDGE]),
        set_diff(&want[FAR_BRIDGE], &got[FAR_BRIDGE]),
        ctl.log_text()
    );

    let rows = ping_matrix(&net, 5);
    eprintln!("ping matrix (OVS):\n{}", format_matrix(&rows));
    assert!(
        rows.iter().all(|r| r.got == r.expected),
        "ping matrix on OVS differs from the policy:\n{}\n--- controller ---\n{}",
        format_matrix(&rows),
        ctl.log_text()
    );
    let leaks = arp_leaks(&net);
    assert!(leaks.is_empty(), "cross-tenant ARP on OVS: {leaks:?}");

    // OVS reports our flows its own way (field order, vlan_vid, ...); the
    // controller must still recognize each as planned.
    assert_eq!(
        ctl.count_log("after convergence the switch still"),
        0,
        "{}",
        ctl.log_text()
    );
    let connects = ctl.count_log("converged (connect)");
    ctl.restart();
    assert!(
        ctl.wait_log("converged (connect)", connects + 2, 30 * SEC),
        "{}",
        ctl.log_text()
    );
    for (dpid, bridge) in [(DPID, BRIDGE), (FAR_DPID, FAR_BRIDGE)] {
        let line = ctl.last_log(&format!("switch {dpid:016x} converged (connect)"));
        eprintln!("OVS, controller restart: {line}");
        let n = want[bridge].len();
        assert!(
            line.contains(&format!("{n} unchanged, 0 added (0 replacing), 0 deleted")),
            "{line}"
        );
    }
    assert_eq!(ours(), want);

    drop(net);
    drop(ctl);
    drop(ovs);
    drop(veths);
}
