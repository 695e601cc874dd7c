//! Ports at runtime: `tapflow add-port`/`del-port` announced with
//! PORT_STATUS to connected controllers (a service connection only after it
//! asked), remembered across a restart with the same numbers, and link state
//! that follows a TAP into whatever namespace it now lives in.

use integration::of::Of;
use integration::{link_exists, require_root, wait_until, DaemonBuilder, Names, TwoVms};
use ofproto::consts::*;
use ofproto::message::{AsyncConfig, PortStatus};
use ofproto::Message;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn port_status(
    of: &mut Of,
    timeout: Duration,
    pred: impl Fn(&PortStatus) -> bool,
) -> Option<PortStatus> {
    match of.wait_for(
        timeout,
        |m| matches!(m, Message::PortStatus(ps) if pred(ps)),
    ) {
        Some(Message::PortStatus(ps)) => Some(ps),
        _ => None,
    }
}

/// (name, number) of every port but LOCAL.
fn ports(of: &mut Of) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = of
        .port_desc()
        .into_iter()
        .filter(|p| p.port_no != OFPP_LOCAL)
        .map(|p| (p.name, p.port_no))
        .collect();
    v.sort();
    v
}

#[test]
fn add_port_and_del_port_at_runtime_send_port_status() {
    require_root!();
    let n = Names::new();
    let listen = integration::free_tcp_port();
    let (t1, t3, t4) = (n.name("t1"), n.name("t3"), n.name("t4"));
    let _g3 = integration::Link::adopt(&t3);
    let _g4 = integration::Link::adopt(&t4);
    let d = DaemonBuilder::new(&n.name("br"))
        .secure()
        .listen_tcp(listen)
        .port(&t1, 1)
        .spawn(&n);
    let br = d.bridge().to_string();
    // A primary connection gets PORT_STATUS by default...
    let mut primary = Of::connect(&format!("tcp:127.0.0.1:{listen}"));
    // ...a service connection (the .mgmt socket) only once it asks...
    let mut quiet = Of::connect(&d.mgmt_target());
    let mut asked = Of::connect(&d.mgmt_target());
    asked.send(Message::SetAsync(AsyncConfig {
        packet_in_mask: [0, 0],
        port_status_mask: [0b111, 0b111],
        flow_removed_mask: [0, 0],
    }));
    asked.barrier();

    d.tapflow_ok(["add-port", &br, &t3, "ofport=7"]);
    let ps = port_status(&mut primary, 5 * SEC, |ps| ps.desc.name == t3).unwrap_or_else(|| {
        panic!(
            "no PORT_STATUS for {t3} at the primary connection\n{}",
            d.log_text()
        )
    });
    assert_eq!(ps.reason, OFPPR_ADD);
    assert_eq!(ps.desc.port_no, 7, "ofport=7 was asked for");
    let ps = port_status(&mut asked, 5 * SEC, |ps| ps.desc.name == t3)
        .expect("PORT_STATUS at the service connection that asked");
    assert_eq!((ps.reason, ps.desc.port_no), (OFPPR_ADD, 7));
    assert!(link_exists(&t3), "a missing interface is created as a TAP");
    assert!(ports(&mut primary).contains(&(t3.clone(), 7)));

    // Without ofport=: a number is chosen, not one in use.
    d.tapflow_ok(["add-port", &br, &t4]);
    let ps =
        port_status(&mut primary, 5 * SEC, |ps| ps.desc.name == t4).expect("PORT_STATUS ADD t4");
    assert_eq!(ps.reason, OFPPR_ADD);
    assert!(![0, 1, 7].contains(&ps.desc.port_no) && ps.desc.port_no < OFPP_MAX);

    // A second port with a number in use is refused, the daemon carries on.
    let out = d.tapflow(["add-port", &br, &n.name("t5"), "ofport=7"]);
    assert!(!out.status.success(), "ofport 7 is taken");
    let _g5 = integration::Link::adopt(&n.name("t5"));

    d.tapflow_ok(["del-port", &br, &t3]);
    let ps =
        port_status(&mut primary, 5 * SEC, |ps| ps.desc.name == t3).expect("PORT_STATUS DELETE");
    assert_eq!((ps.reason, ps.desc.port_no), (OFPPR_DELETE, 7));
    assert!(!ports(&mut primary).iter().any(|(name, _)| *name == t3));
    assert!(
        wait_until(3 * SEC, Duration::from_millis(50), || !link_exists(&t3)),
        "the TAP tapflowd created for {t3} is removed with the port"
    );

    // The quiet service connection heard nothing.
    let heard: Vec<Message> = quiet
        .collect_for(Duration::from_millis(300))
        .into_iter()
        .filter(|m| matches!(m, Message::PortStatus(_)))
        .collect();
    assert!(
        heard.is_empty(),
        "service connection got PORT_STATUS unasked: {heard:?}"
    );
    assert!(primary.echo() && quiet.echo());
}

#[test]
fn restart_with_the_same_statedir_restores_runtime_ports_with_their_numbers() {
    require_root!();
    let n = Names::new();
    let (t1, t3, t4) = (n.name("t1"), n.name("t3"), n.name("t4"));
    let _g3 = integration::Link::adopt(&t3);
    let _g4 = integration::Link::adopt(&t4);
    let mut d = DaemonBuilder::new(&n.name("br"))
        .secure()
        .port(&t1, 1)
        .spawn(&n);
    let br = d.bridge().to_string();
    d.tapflow_ok(["add-port", &br, &t3, "ofport=9"]);
    d.tapflow_ok(["add-port", &br, &t4]);
    let before = ports(&mut Of::connect(&d.mgmt_target()));
    let t4_no = before
        .iter()
        .find(|(name, _)| *name == t4)
        .map(|(_, no)| *no)
        .expect("t4 added");

    d.restart();
    let after = ports(&mut Of::connect(&d.mgmt_target()));
    assert_eq!(
        after,
        before,
        "same ports, same numbers after a restart\n{}",
        d.log_text()
    );
    assert!(after.contains(&(t3.clone(), 9)));
    assert!(after.contains(&(t4.clone(), t4_no)));

    // A deleted port stays deleted.
    d.tapflow_ok(["del-port", &br, &t4]);
    d.restart();
    let again = ports(&mut Of::connect(&d.mgmt_target()));
    assert!(!again.iter().any(|(name, _)| *name == t4), "{again:?}");
    assert!(again.contains(&(t3.clone(), 9)) && again.contains(&(t1.clone(), 1)));
}

#[test]
fn link_state_follows_a_tap_into_its_namespace() {
    require_root!();
    let listen = integration::free_tcp_port();
    let bed = TwoVms::start(|b| b.secure().listen_tcp(listen));
    let mut of = Of::connect(&format!("tcp:127.0.0.1:{listen}"));
    // Both TAPs live (up) in their namespaces: not LINK_DOWN.
    assert!(
        wait_until(3 * SEC, Duration::from_millis(100), || of
            .port_desc()
            .iter()
            .filter(|p| p.port_no == 1 || p.port_no == 2)
            .all(|p| p.state & OFPPS_LINK_DOWN == 0)),
        "a TAP moved into a namespace and up there is up: {:?}",
        of.port_desc()
    );

    bed.vm2.set_link(false);
    let ps = port_status(&mut of, 5 * SEC, |ps| {
        ps.desc.port_no == 2 && ps.desc.state & OFPPS_LINK_DOWN != 0
    })
    .unwrap_or_else(|| {
        panic!(
            "no PORT_STATUS with LINK_DOWN for port 2\n{}",
            bed.d.log_text()
        )
    });
    assert_eq!(ps.reason, OFPPR_MODIFY);
    assert_eq!(ps.desc.name, bed.tap2);
    let desc = of.port_desc();
    let p2 = desc.iter().find(|p| p.port_no == 2).expect("port 2");
    assert!(p2.state & OFPPS_LINK_DOWN != 0, "PORT_DESC agrees: {p2:?}");

    bed.vm2.set_link(true);
    let ps = port_status(&mut of, 5 * SEC, |ps| {
        ps.desc.port_no == 2 && ps.desc.state & OFPPS_LINK_DOWN == 0
    })
    .expect("PORT_STATUS clearing LINK_DOWN");
    assert_eq!(ps.reason, OFPPR_MODIFY);

    // Forwarding to the port works again.
    of.add_flow("priority=1,in_port=1 actions=output:2");
    of.add_flow("priority=1,in_port=2 actions=output:1");
    assert!(bed.vm1.ping(integration::IP2, 5, SEC));
}
