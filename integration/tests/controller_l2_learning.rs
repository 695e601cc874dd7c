//! tapflow-controller, app l2-learning, dialing tapflowd's BRIDGE.mgmt unix
//! socket (a service connection: the controller asks for PACKET_IN,
//! PORT_STATUS and FLOW_REMOVED itself): three VMs on a bridge in secure
//! mode learn each other through PACKET_IN, every pair pings, TCP flows,
//! the learned `priority=1,in_port,dl_dst,dl_src` flows (our cookie, the
//! description's idle timeout) show in dump-flows and leave after the idle
//! timeout, and traffic is learned again afterwards.

use integration::controller::{cookie_filter, metric, Controller};
use integration::vm::{mac, Vm};
use integration::{require_root, wait_until, DaemonBuilder, Names};
use std::net::Ipv4Addr;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const IDLE: u64 = 2;

fn learned(dump: &str) -> Vec<String> {
    dump.lines()
        .filter(|l| l.contains("priority=1,"))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn controller_l2_learning() {
    require_root!();
    let names = Names::new();
    let taps = ["t1", "t2", "t3"].map(|t| names.name(t));
    let mut b = DaemonBuilder::new(&names.name("br")).secure();
    for (i, t) in taps.iter().enumerate() {
        b = b.port(t, i as u32 + 1);
    }
    let d = b.spawn(&names);
    let ips = [11u8, 12, 13].map(|n| Ipv4Addr::new(10, 10, 10, n));
    let vms: Vec<Vm> = (0..3)
        .map(|i| {
            Vm::attach(
                &names.name(&format!("v{}", i + 1)),
                &taps[i],
                ips[i],
                mac(i as u8 + 1),
            )
        })
        .collect();

    let metrics_addr = format!("127.0.0.1:{}", integration::free_tcp_port());
    let desc = format!(
        "[controller]\napp = \"l2-learning\"\nl2_idle_timeout = {IDLE}\nmetrics = \"{metrics_addr}\"\n"
    );
    let ctl = Controller::start(&names, &desc, &["--connect".into(), d.mgmt_target()], None);
    let br = d.bridge().to_string();
    let dump = || d.tapflow_ok(["dump-flows", &br, &cookie_filter()]);
    assert!(
        wait_until(20 * SEC, Duration::from_millis(100), || dump()
            .contains("priority=0 actions=CONTROLLER:65535")),
        "no table-miss flow:\n{}\n--- controller ---\n{}",
        dump(),
        ctl.log_text()
    );

    // Every pair pings, TCP flows.
    for (i, a) in vms.iter().enumerate() {
        for (j, b) in vms.iter().enumerate() {
            if i != j {
                assert!(
                    a.ping(b.ip, 5, SEC),
                    "{} -> {} through l2-learning\n--- controller ---\n{}",
                    a.ip,
                    b.ip,
                    ctl.log_text()
                );
            }
        }
    }
    vms[0]
        .tcp_echo(&vms[1], 5001, 256 * 1024, 20 * SEC)
        .expect("TCP through learned flows");

    // The learned flows: priority 1, exact in_port/dl_dst/dl_src, our
    // cookie, the idle timeout, carrying the traffic.
    let now = dump();
    eprintln!("{now}");
    let flows = learned(&now);
    for (i, a) in vms.iter().enumerate() {
        for (j, b) in vms.iter().enumerate() {
            if i == j {
                continue;
            }
            let (ma, mb) = (a.mac_str(), b.mac_str());
            let line = flows
                .iter()
                .find(|l| {
                    l.contains(&format!("in_port={},", i + 1))
                        && l.contains(&format!("dl_dst={mb}"))
                        && l.contains(&format!("dl_src={ma}"))
                })
                .unwrap_or_else(|| panic!("no learned flow {} -> {}:\n{now}", a.ip, b.ip));
            assert!(
                line.ends_with(&format!("actions=output:{}", j + 1)),
                "{line}"
            );
            assert!(line.contains(&format!("idle_timeout={IDLE},")), "{line}");
        }
    }
    assert!(
        integration::n_packets(
            &now,
            &[
                &format!("dl_src={}", vms[0].mac_str()),
                &format!("dl_dst={}", vms[1].mac_str())
            ]
        )
        .unwrap_or(0)
            > 10,
        "the TCP exchange went through the learned flow:\n{now}"
    );
    let m = ctl.metrics(&metrics_addr);
    assert!(
        metric(&m, "tapflow_controller_packet_in_total").unwrap_or(0.0) >= 6.0,
        "{m}"
    );
    assert!(
        metric(&m, "tapflow_controller_packet_out_total").unwrap_or(0.0) >= 3.0,
        "{m}"
    );
    assert!(
        metric(&m, "tapflow_controller_flows_installed_total").unwrap_or(0.0) >= 7.0,
        "{m}"
    );

    // Idle: the learned flows leave; the table-miss flow stays.
    assert!(
        wait_until(
            Duration::from_secs(IDLE * 8),
            Duration::from_millis(200),
            || learned(&dump()).is_empty()
        ),
        "learned flows still there well past idle_timeout={IDLE}:\n{}",
        dump()
    );
    assert!(dump().contains("priority=0 actions=CONTROLLER:65535"));

    // Learning again (the first echo floods: its destination was
    // forgotten with its flows; the reply teaches it back).
    assert_eq!(vms[2].ping_replies(vms[0].ip, 3, SEC), 3);
    let again = learned(&dump());
    for (in_port, out) in [(3, 1), (1, 3)] {
        assert!(
            again
                .iter()
                .any(|l| l.contains(&format!("in_port={in_port},"))
                    && l.ends_with(&format!("actions=output:{out}"))),
            "relearned {in_port} -> {out}:\n{again:#?}"
        );
    }

    drop(d);
    drop(vms);
    drop(ctl);
}
