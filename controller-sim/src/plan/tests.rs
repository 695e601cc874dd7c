//! Tests across the whole plan: a tiny OpenFlow pipeline interpreter walks
//! frames through the planned flows to check isolation, routing and trunks
//! by behavior rather than by string; plus syntax round trips, ordering and
//! the example descriptions in `deploy/controller/`.

use super::*;
use crate::desc::NetDesc;
use ofproto::action::Action;
use ofproto::instruction::Instruction;
use ofproto::oxm::OxmField;
use ofproto::text::{format_flow, format_flow_mod, parse_flow};
use ofproto::MacAddr;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

// ---------------------------------------------------------------------------
// Helpers shared with the per-file tests.

pub fn desc(text: &str) -> NetDesc {
    NetDesc::parse(text).unwrap_or_else(|e| panic!("test description invalid: {e}"))
}

fn bridge<'a>(d: &'a NetDesc, name: &str) -> &'a BridgeDesc {
    d.bridge(name).unwrap_or_else(|| panic!("no bridge {name}"))
}

/// `check`'s view: every port up, no names.
pub fn plan_all_up(d: &NetDesc, br: &str) -> Vec<PlannedFlow> {
    plan_for_check(d, bridge(d, br), &HashMap::new()).unwrap()
}

/// The runtime's view: these names, these ports up.
pub fn plan_with(d: &NetDesc, br: &str, names: &[(&str, u32)], up: &[u32]) -> Vec<PlannedFlow> {
    let ports = PortView {
        by_name: names.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
        up: up.iter().copied().collect(),
    };
    plan(d, bridge(d, br), &ports)
}

pub fn texts(flows: &[PlannedFlow]) -> Vec<&str> {
    flows.iter().map(|f| f.text.as_str()).collect()
}

fn actions_of(f: &PlannedFlow) -> Vec<&Action> {
    f.flow_mod
        .instructions
        .iter()
        .flat_map(|i| match i {
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.iter().collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// No flow matches `in_port=port` or outputs to it.
pub fn assert_no_port(flows: &[PlannedFlow], port: u32) {
    for f in flows {
        assert!(
            !f.flow_mod.match_.fields.contains(&OxmField::InPort(port)),
            "{} matches port {port}",
            f.text
        );
        assert!(
            !actions_of(f)
                .iter()
                .any(|a| matches!(a, Action::Output { port: p, .. } if *p == port)),
            "{} outputs to port {port}",
            f.text
        );
    }
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/controller")
        .join(name)
}

// ---------------------------------------------------------------------------
// The interpreter: enough of OpenFlow 1.3 for the fields and actions the
// plan uses, and strict: it fails the test when two flows of the same
// priority match a frame with different instructions (an ambiguous overlap)
// or when a flow uses something it does not know.

#[derive(Clone, Debug, PartialEq)]
struct Frame {
    in_port: u32,
    metadata: u64,
    /// VID of the outer tag, if tagged.
    vlan: Option<u16>,
    eth_src: MacAddr,
    eth_dst: MacAddr,
    eth_type: u16,
    arp_op: u16,
    arp_tpa: Option<Ipv4Addr>,
    ipv4_dst: Option<Ipv4Addr>,
    ipv6_dst: Option<Ipv6Addr>,
    ip_proto: u8,
    icmpv6_type: Option<u8>,
    nd_target: Option<Ipv6Addr>,
    ttl: u8,
}

#[derive(Clone, Debug, PartialEq)]
enum Out {
    Port { port: u32, frame: Frame },
    Controller { frame: Frame },
}

impl Out {
    fn port(&self) -> Option<u32> {
        match self {
            Out::Port { port, .. } => Some(*port),
            Out::Controller { .. } => None,
        }
    }
}

const SRC_MAC: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0xee, 0xee]);

impl Frame {
    fn base(in_port: u32, eth_dst: MacAddr, eth_type: u16) -> Frame {
        Frame {
            in_port,
            metadata: 0,
            vlan: None,
            eth_src: SRC_MAC,
            eth_dst,
            eth_type,
            arp_op: 0,
            arp_tpa: None,
            ipv4_dst: None,
            ipv6_dst: None,
            ip_proto: 0,
            icmpv6_type: None,
            nd_target: None,
            ttl: 64,
        }
    }
    fn arp_request(in_port: u32, tpa: Ipv4Addr) -> Frame {
        Frame {
            arp_op: 1,
            arp_tpa: Some(tpa),
            ..Frame::base(in_port, MacAddr::BROADCAST, 0x0806)
        }
    }
    fn ipv4(in_port: u32, eth_dst: MacAddr, dst: Ipv4Addr) -> Frame {
        Frame {
            ipv4_dst: Some(dst),
            ip_proto: 1,
            ..Frame::base(in_port, eth_dst, 0x0800)
        }
    }
    fn ipv6(in_port: u32, eth_dst: MacAddr, dst: Ipv6Addr) -> Frame {
        Frame {
            ipv6_dst: Some(dst),
            ip_proto: 58,
            icmpv6_type: Some(128),
            ..Frame::base(in_port, eth_dst, 0x86dd)
        }
    }
    fn neighbor_solicitation(in_port: u32, target: Ipv6Addr) -> Frame {
        let s = target.segments();
        let solicited = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | (s[6] & 0xff), s[7]);
        let o = solicited.octets();
        Frame {
            icmpv6_type: Some(135),
            nd_target: Some(target),
            ..Frame::ipv6(
                in_port,
                MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]]),
                solicited,
            )
        }
    }
    fn tagged(mut self, vid: u16) -> Frame {
        self.vlan = Some(vid);
        self
    }

    fn matches(&self, f: &OxmField) -> bool {
        fn m4(a: Option<Ipv4Addr>, v: Ipv4Addr, mk: Option<Ipv4Addr>) -> bool {
            let mk = u32::from(mk.unwrap_or(Ipv4Addr::BROADCAST));
            a.is_some_and(|a| u32::from(a) & mk == u32::from(v))
        }
        fn m6(a: Option<Ipv6Addr>, v: Ipv6Addr, mk: Option<Ipv6Addr>) -> bool {
            let mk = mk.map(u128::from).unwrap_or(u128::MAX);
            a.is_some_and(|a| u128::from(a) & mk == u128::from(v))
        }
        match f {
            OxmField::InPort(p) => self.in_port == *p,
            OxmField::Metadata(v, m) => self.metadata & m.unwrap_or(u64::MAX) == *v,
            OxmField::EthDst(v, m) => {
                let m = m.unwrap_or(MacAddr::BROADCAST);
                (0..6).all(|i| self.eth_dst.0[i] & m.0[i] == v.0[i])
            }
            OxmField::EthType(t) => self.eth_type == *t,
            OxmField::VlanVid(v, m) => {
                let vid = self.vlan.map(|x| 0x1000 | x).unwrap_or(0);
                vid & m.unwrap_or(0x1fff) == *v
            }
            OxmField::IpProto(p) => self.ip_proto == *p,
            OxmField::ArpOp(o) => self.eth_type == 0x0806 && self.arp_op == *o,
            OxmField::ArpTpa(v, m) => m4(self.arp_tpa, *v, *m),
            OxmField::Ipv4Dst(v, m) => m4(self.ipv4_dst, *v, *m),
            OxmField::Ipv6Dst(v, m) => m6(self.ipv6_dst, *v, *m),
            OxmField::Icmpv6Type(t) => self.icmpv6_type == Some(*t),
            OxmField::Ipv6NdTarget(t) => self.nd_target == Some(*t),
            other => panic!("interpreter does not know match field {other:?}"),
        }
    }
}

/// Runs `frame` through `flows` from table 0; returns where copies went.
fn run(flows: &[PlannedFlow], frame: Frame) -> Vec<Out> {
    let mut frame = frame;
    let mut outs = Vec::new();
    let mut table = 0u8;
    loop {
        let hits: Vec<&PlannedFlow> = flows
            .iter()
            .filter(|f| f.table() == table)
            .filter(|f| f.flow_mod.match_.fields.iter().all(|m| frame.matches(m)))
            .collect();
        let Some(top) = hits.iter().map(|f| f.priority()).max() else {
            return outs; // table miss: drop
        };
        let best: Vec<&&PlannedFlow> = hits.iter().filter(|f| f.priority() == top).collect();
        for other in &best[1..] {
            assert_eq!(
                other.flow_mod.instructions, best[0].flow_mod.instructions,
                "ambiguous overlap for {frame:?}:\n  {}\n  {}",
                best[0].text, other.text
            );
        }
        let mut next = None;
        for ins in &best[0].flow_mod.instructions {
            match ins {
                Instruction::ApplyActions(acts) => {
                    for a in acts {
                        match a {
                            Action::Output { port, .. }
                                if *port == ofproto::consts::OFPP_CONTROLLER =>
                            {
                                outs.push(Out::Controller {
                                    frame: frame.clone(),
                                })
                            }
                            Action::Output { port, .. } if *port == frame.in_port => {}
                            Action::Output { port, .. } => outs.push(Out::Port {
                                port: *port,
                                frame: frame.clone(),
                            }),
                            Action::PushVlan(0x8100) => {
                                assert!(frame.vlan.is_none(), "double tagging in {}", best[0].text);
                                frame.vlan = Some(0);
                            }
                            Action::PopVlan => {
                                assert!(
                                    frame.vlan.is_some(),
                                    "pop of untagged in {}",
                                    best[0].text
                                );
                                frame.vlan = None;
                            }
                            Action::SetField(OxmField::VlanVid(v, None)) => {
                                assert!(frame.vlan.is_some() && v & 0x1000 != 0);
                                frame.vlan = Some(v & 0xfff);
                            }
                            Action::SetField(OxmField::EthSrc(m, None)) => frame.eth_src = *m,
                            Action::SetField(OxmField::EthDst(m, None)) => frame.eth_dst = *m,
                            Action::DecNwTtl => frame.ttl -= 1,
                            other => panic!("interpreter does not know action {other:?}"),
                        }
                    }
                }
                Instruction::WriteMetadata { metadata, mask } => {
                    frame.metadata = (frame.metadata & !mask) | (metadata & mask)
                }
                Instruction::GotoTable(t) => next = Some(*t),
                other => panic!("interpreter does not know instruction {other:?}"),
            }
        }
        match next {
            Some(t) => {
                assert!(t > table);
                table = t;
            }
            None => return outs,
        }
    }
}

fn ports_of(outs: &[Out]) -> Vec<u32> {
    let mut v: Vec<u32> = outs.iter().filter_map(Out::port).collect();
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------
// Tenant mode

/// Three tenants on one bridge: blue (VLAN 10, ports 1, 2) and red (VLAN 20,
/// port 3) may route to each other; green (VLAN 30, port 4) has a gateway
/// but no allowed pair; trunk port 9 carries blue and green.
const THREE_TENANTS: &str = r#"
[[tenant]]
name = "blue"
vlan = 10
subnet = "10.0.10.0/24"
gateway = "10.0.10.1"
subnet6 = "fd00:10::/64"
gateway6 = "fd00:10::1"

[[tenant]]
name = "red"
vlan = 20
subnet = "10.0.20.0/24"
gateway = "10.0.20.1"
subnet6 = "fd00:20::/64"
gateway6 = "fd00:20::1"

[[tenant]]
name = "green"
vlan = 30
subnet = "10.0.30.0/24"
gateway = "10.0.30.1"

[[vm]]
name = "b1"
mac = "52:54:00:00:10:01"
ipv4 = "10.0.10.11"
ipv6 = ["fd00:10::11"]
port = 1
tenant = "blue"

[[vm]]
name = "b2"
mac = "52:54:00:00:10:02"
ipv4 = "10.0.10.12"
port = 2
tenant = "blue"

[[vm]]
name = "r1"
mac = "52:54:00:00:20:01"
ipv4 = "10.0.20.11"
ipv6 = ["fd00:20::11"]
port = 3
tenant = "red"

[[vm]]
name = "g1"
mac = "52:54:00:00:30:01"
ipv4 = "10.0.30.11"
port = 4
tenant = "green"

[[trunk]]
port = 9
tenants = ["blue", "green"]

[policy]
allow = [["blue", "red"]]
"#;

/// Which tenant a port belongs to in THREE_TENANTS (trunk: both it carries).
fn tenants_of_port(p: u32) -> &'static [&'static str] {
    match p {
        1 | 2 => &["blue"],
        3 => &["red"],
        4 => &["green"],
        9 => &["blue", "green"],
        _ => &[],
    }
}

#[test]
fn tenant_mode_no_frame_crosses_tenants_except_routed_allowed_pairs() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    let gw_mac = |t: &str| d.tenant(t).unwrap().gateway_mac;
    let vlan_of = |t: &str| d.tenant(t).unwrap().vlan.unwrap();
    // Every VM sends every kind of frame towards every other VM and gateway.
    let senders: Vec<(u32, &str, Option<u16>)> = vec![
        (1, "blue", None),
        (2, "blue", None),
        (3, "red", None),
        (4, "green", None),
        (9, "blue", Some(10)),
        (9, "green", Some(30)),
    ];
    for &(in_port, src_tenant, tag) in &senders {
        let mut frames = vec![
            Frame::base(in_port, MacAddr::BROADCAST, 0x0806),
            Frame::base(in_port, MacAddr([0x33, 0x33, 0, 0, 0, 1]), 0x86dd),
        ];
        for vm in &d.vms {
            if let Some(ip) = vm.ipv4 {
                frames.push(Frame::arp_request(in_port, ip));
                frames.push(Frame::ipv4(in_port, vm.mac, ip));
                for t in &d.tenants {
                    frames.push(Frame::ipv4(in_port, t.gateway_mac, ip));
                }
            }
            for ip6 in &vm.ipv6 {
                frames.push(Frame::neighbor_solicitation(in_port, *ip6));
                frames.push(Frame::ipv6(in_port, vm.mac, *ip6));
                for t in &d.tenants {
                    frames.push(Frame::ipv6(in_port, t.gateway_mac, *ip6));
                }
            }
        }
        for t in &d.tenants {
            if let Some(g) = t.gateway4 {
                frames.push(Frame::arp_request(in_port, g));
            }
        }
        for frame in frames {
            let frame = match tag {
                Some(v) => frame.tagged(v),
                None => frame,
            };
            for out in run(&flows, frame.clone()) {
                let Out::Port { port, frame: sent } = out else {
                    continue;
                };
                let dst_tenants = tenants_of_port(port);
                // Which tenant the frame is in as it leaves: by its tag on a
                // trunk, by the port on an access port (which must get it untagged).
                let dst_tenant = if port == 9 {
                    let v = sent.vlan.expect("trunk output is tagged");
                    d.tenants
                        .iter()
                        .find(|t| t.vlan == Some(v))
                        .unwrap()
                        .name
                        .as_str()
                } else {
                    assert_eq!(
                        sent.vlan, None,
                        "tagged frame to access port {port}: {frame:?}"
                    );
                    dst_tenants[0]
                };
                assert!(
                    dst_tenants.contains(&dst_tenant),
                    "{frame:?} left port {port} as {dst_tenant}"
                );
                if dst_tenant == src_tenant {
                    assert_eq!(
                        sent.eth_src, frame.eth_src,
                        "rewritten within tenant: {frame:?}"
                    );
                    continue;
                }
                // Crossed tenants: only routed, only for the allowed pair.
                assert!(
                    d.policy.allows(src_tenant, dst_tenant),
                    "{frame:?} leaked from {src_tenant} to {dst_tenant}"
                );
                assert_eq!(
                    frame.eth_dst,
                    gw_mac(src_tenant),
                    "crossed without going to the gateway: {frame:?}"
                );
                assert_eq!(sent.eth_src, gw_mac(dst_tenant));
                assert_eq!(sent.ttl, frame.ttl - 1);
                let dst_vm = d
                    .vms
                    .iter()
                    .find(|v| Some(v.mac) == Some(sent.eth_dst))
                    .expect("routed to a VM's MAC");
                assert_eq!(dst_vm.tenant, dst_tenant);
                if port == 9 {
                    assert_eq!(sent.vlan, Some(vlan_of(dst_tenant)));
                }
            }
        }
    }
}

#[test]
fn tenant_mode_delivers_within_a_tenant() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    let b2 = "10.0.10.12".parse().unwrap();
    let b2_mac = d.vms[1].mac;
    // ARP request for b2 from b1: only b2's port, untagged.
    let outs = run(&flows, Frame::arp_request(1, b2));
    assert_eq!(ports_of(&outs), [2]);
    let Out::Port { frame, .. } = &outs[0] else {
        unreachable!()
    };
    assert_eq!(frame.vlan, None);
    // Unicast IP to b2.
    assert_eq!(ports_of(&run(&flows, Frame::ipv4(1, b2_mac, b2))), [2]);
    // Broadcast from b1: trunk (tagged 10) and b2 (untagged), not b1 itself.
    let outs = run(&flows, Frame::base(1, MacAddr::BROADCAST, 0x0806));
    assert_eq!(ports_of(&outs), [2, 9]);
    for o in &outs {
        let Out::Port { port, frame } = o else {
            unreachable!()
        };
        assert_eq!(frame.vlan, (*port == 9).then_some(10));
    }
    // IPv6 neighbor solicitation for b1 from the trunk: only b1's port.
    let ns = Frame::neighbor_solicitation(9, "fd00:10::11".parse().unwrap()).tagged(10);
    assert_eq!(ports_of(&run(&flows, ns)), [1]);
}

#[test]
fn tenant_mode_trunk_admits_only_its_tenants_and_never_relays_to_trunks() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    // Red (VLAN 20) is not carried by the trunk: dropped.
    let red = Frame::base(9, MacAddr::BROADCAST, 0x0806).tagged(20);
    assert!(run(&flows, red).is_empty());
    // Untagged on the trunk: dropped.
    assert!(run(&flows, Frame::base(9, MacAddr::BROADCAST, 0x0806)).is_empty());
    // Tagged on an access port: dropped.
    assert!(run(
        &flows,
        Frame::base(1, MacAddr::BROADCAST, 0x0806).tagged(10)
    )
    .is_empty());
    // Broadcast in from the trunk on VLAN 10: blue's access ports, untagged.
    let outs = run(
        &flows,
        Frame::base(9, MacAddr::BROADCAST, 0x0806).tagged(10),
    );
    assert_eq!(ports_of(&outs), [1, 2]);
    // Unknown unicast from a blue VM goes out the trunk; from the trunk it is dropped.
    let unknown = MacAddr([0x52, 0x54, 0, 0, 0x99, 0x99]);
    let ip = "10.0.10.99".parse().unwrap();
    assert_eq!(ports_of(&run(&flows, Frame::ipv4(1, unknown, ip))), [9]);
    assert!(run(&flows, Frame::ipv4(9, unknown, ip).tagged(10)).is_empty());
    // Red has no trunk: its unknown unicast is dropped.
    assert!(run(
        &flows,
        Frame::ipv4(3, unknown, "10.0.20.99".parse().unwrap())
    )
    .is_empty());
}

#[test]
fn tenant_mode_flood_puts_trunk_outputs_before_pop_vlan() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    let flood = flows
        .iter()
        .find(|f| {
            f.text
                .starts_with("table=1,priority=90,metadata=0/0x1,dl_vlan=10,")
        })
        .expect("blue's flood from access ports");
    assert!(
        flood
            .text
            .ends_with(" actions=output:9,pop_vlan,output:1,output:2"),
        "{}",
        flood.text
    );
    let from_trunk = flows
        .iter()
        .find(|f| {
            f.text
                .starts_with("table=1,priority=90,metadata=0x1/0x1,dl_vlan=10,")
        })
        .expect("blue's flood from the trunk");
    assert!(
        from_trunk
            .text
            .ends_with(" actions=pop_vlan,output:1,output:2"),
        "{}",
        from_trunk.text
    );
    // Green: only g1 locally.
    assert!(texts(&flows).contains(
        &"table=1,priority=90,metadata=0/0x1,dl_vlan=30,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:9,pop_vlan,output:4"
    ));
}

#[test]
fn tenant_mode_gateway_requests_go_to_the_controller_as_they_arrived() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    // From an access port: untagged, to the controller, nowhere else.
    let outs = run(&flows, Frame::arp_request(1, "10.0.10.1".parse().unwrap()));
    assert_eq!(outs.len(), 1);
    let Out::Controller { frame } = &outs[0] else {
        panic!("{outs:?}")
    };
    assert_eq!((frame.in_port, frame.vlan), (1, None));
    // From the trunk: still tagged.
    let outs = run(
        &flows,
        Frame::arp_request(9, "10.0.30.1".parse().unwrap()).tagged(30),
    );
    let [Out::Controller { frame }] = outs.as_slice() else {
        panic!("{outs:?}")
    };
    assert_eq!(frame.vlan, Some(30));
    // IPv6: neighbor solicitation for blue's gateway6.
    let outs = run(
        &flows,
        Frame::neighbor_solicitation(2, "fd00:10::1".parse().unwrap()),
    );
    assert!(
        matches!(outs.as_slice(), [Out::Controller { .. }]),
        "{outs:?}"
    );
    // A blue VM asking for red's gateway does not reach the controller (or red).
    let outs = run(&flows, Frame::arp_request(1, "10.0.20.1".parse().unwrap()));
    assert!(
        outs.iter()
            .all(|o| matches!(o, Out::Port { port: 2 | 9, .. })),
        "{outs:?}"
    );
    // Green's gateway via the trunk while tagged blue: not green's.
    let outs = run(
        &flows,
        Frame::arp_request(9, "10.0.30.1".parse().unwrap()).tagged(10),
    );
    assert!(
        outs.iter()
            .all(|o| matches!(o, Out::Port { port: 1 | 2, .. })),
        "{outs:?}"
    );
    for f in flows.iter().filter(|f| f.text.contains("CONTROLLER")) {
        assert_eq!((f.table(), f.priority()), (0, 110), "{}", f.text);
    }
}

#[test]
fn router_flows_exist_only_for_allowed_pairs() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    let routed: Vec<&str> = texts(&flows)
        .into_iter()
        .filter(|t| t.contains("dec_ttl"))
        .collect();
    assert_eq!(
        routed,
        [
            "table=1,priority=110,ip,dl_vlan=10,dl_dst=02:74:66:00:00:0a,nw_dst=10.0.20.11 actions=set_field:02:74:66:00:00:14->eth_src,set_field:52:54:00:00:20:01->eth_dst,dec_ttl,pop_vlan,output:3",
            "table=1,priority=110,ip,dl_vlan=20,dl_dst=02:74:66:00:00:14,nw_dst=10.0.10.11 actions=set_field:02:74:66:00:00:0a->eth_src,set_field:52:54:00:00:10:01->eth_dst,dec_ttl,pop_vlan,output:1",
            "table=1,priority=110,ip,dl_vlan=20,dl_dst=02:74:66:00:00:14,nw_dst=10.0.10.12 actions=set_field:02:74:66:00:00:0a->eth_src,set_field:52:54:00:00:10:02->eth_dst,dec_ttl,pop_vlan,output:2",
            "table=1,priority=110,ipv6,dl_vlan=10,dl_dst=02:74:66:00:00:0a,ipv6_dst=fd00:20::11 actions=set_field:02:74:66:00:00:14->eth_src,set_field:52:54:00:00:20:01->eth_dst,dec_ttl,pop_vlan,output:3",
            "table=1,priority=110,ipv6,dl_vlan=20,dl_dst=02:74:66:00:00:14,ipv6_dst=fd00:10::11 actions=set_field:02:74:66:00:00:0a->eth_src,set_field:52:54:00:00:10:01->eth_dst,dec_ttl,pop_vlan,output:1",
        ]
    );
    // Green is a routing endpoint (gateway) but in no pair: its frames to
    // the gateway MAC are dropped, not routed.
    let g_gw = d.tenant("green").unwrap().gateway_mac;
    assert!(run(&flows, Frame::ipv4(4, g_gw, "10.0.10.11".parse().unwrap())).is_empty());
    // Without the policy line, no routed flows at all.
    let d = desc(&THREE_TENANTS.replace("allow = [[\"blue\", \"red\"]]", ""));
    assert!(!plan_all_up(&d, "br0")
        .iter()
        .any(|f| f.text.contains("dec_ttl")));
}

#[test]
fn routing_delivers_with_rewritten_headers() {
    let d = desc(THREE_TENANTS);
    let flows = plan_all_up(&d, "br0");
    let blue_gw = d.tenant("blue").unwrap().gateway_mac;
    let red_gw = d.tenant("red").unwrap().gateway_mac;
    let outs = run(
        &flows,
        Frame::ipv4(1, blue_gw, "10.0.20.11".parse().unwrap()),
    );
    let [Out::Port { port: 3, frame }] = outs.as_slice() else {
        panic!("{outs:?}")
    };
    assert_eq!(
        (frame.eth_src, frame.eth_dst, frame.vlan, frame.ttl),
        (red_gw, d.vms[2].mac, None, 63)
    );
}

#[test]
fn down_or_unknown_port_vm_has_no_flows() {
    let d = desc(THREE_TENANTS);
    // Port 3 (red's only VM) is down: nothing about red, no routes to it.
    let flows = plan_with(&d, "br0", &[], &[1, 2, 4, 9]);
    assert_no_port(&flows, 3);
    for f in &flows {
        assert!(
            !f.text.contains("10.0.20.11") && !f.text.contains("dl_vlan=20"),
            "{}",
            f.text
        );
        assert!(!f.text.contains("fd00:20::11"), "{}", f.text);
    }
    // Still routes from red to blue? Red has no port here: no red frames can
    // arrive, so no flows match VLAN 20 at all (checked above).
    // b2 down: blue keeps b1 and the trunk; b2's port appears nowhere.
    let flows = plan_with(&d, "br0", &[], &[1, 3, 4, 9]);
    assert_no_port(&flows, 2);
    assert!(!flows.iter().any(|f| f.text.contains("10.0.10.12")));
    // The trunk down: no VLAN-10/30 admission from port 9, no outputs to it.
    let flows = plan_with(&d, "br0", &[], &[1, 2, 3, 4]);
    assert_no_port(&flows, 9);
    assert!(!flows.iter().any(|f| f.text.contains("metadata")));
}

/// Two bridges joined by a trunk; blue on both, red only on br1.
const TWO_BRIDGES: &str = r#"
[[bridge]]
name = "br0"
datapath_id = 1
[[bridge]]
name = "br1"
datapath_id = "0x2"

[[tenant]]
name = "blue"
vlan = 10
subnet = "10.0.10.0/24"
gateway = "10.0.10.1"
[[tenant]]
name = "red"
vlan = 20
subnet = "10.0.20.0/24"
gateway = "10.0.20.1"

[[vm]]
name = "b1"
bridge = "br0"
mac = "52:54:00:00:10:01"
ipv4 = "10.0.10.11"
port = 1
tenant = "blue"
[[vm]]
name = "b2"
bridge = "br1"
mac = "52:54:00:00:10:02"
ipv4 = "10.0.10.12"
port = 1
tenant = "blue"
[[vm]]
name = "r1"
bridge = "br1"
mac = "52:54:00:00:20:01"
ipv4 = "10.0.20.11"
port = 2
tenant = "red"

[[trunk]]
bridge = "br0"
port = 10
tenants = ["blue", "red"]
[[trunk]]
bridge = "br1"
port = 10
tenants = ["blue", "red"]

[policy]
allow = [["red", "blue"]]
"#;

#[test]
fn routing_to_a_vm_on_another_bridge_goes_out_the_trunk_retagged() {
    let d = desc(TWO_BRIDGES);
    let br0 = plan_all_up(&d, "br0");
    let br1 = plan_all_up(&d, "br1");
    let blue_gw = d.tenant("blue").unwrap().gateway_mac;
    let red_gw = d.tenant("red").unwrap().gateway_mac;
    // b1 on br0 pings r1 on br1 through the gateway: br0 routes and tags 20.
    let outs = run(&br0, Frame::ipv4(1, blue_gw, "10.0.20.11".parse().unwrap()));
    let [Out::Port { port: 10, frame }] = outs.as_slice() else {
        panic!("{outs:?}")
    };
    assert_eq!(
        (frame.vlan, frame.eth_src, frame.eth_dst),
        (Some(20), red_gw, d.vms[2].mac)
    );
    // br1 receives it on its trunk and delivers it to r1 untagged.
    let mut arriving = frame.clone();
    arriving.in_port = 10;
    arriving.metadata = 0;
    let outs = run(&br1, arriving);
    let [Out::Port { port: 2, frame }] = outs.as_slice() else {
        panic!("{outs:?}")
    };
    assert_eq!(frame.vlan, None);
    // Same tenant across bridges: ARP from b1 for b2 floods out the trunk,
    // and br1 delivers it to b2 only.
    let outs = run(&br0, Frame::arp_request(1, "10.0.10.12".parse().unwrap()));
    let [Out::Port { port: 10, frame }] = outs.as_slice() else {
        panic!("{outs:?}")
    };
    let mut arriving = frame.clone();
    arriving.in_port = 10;
    assert_eq!(ports_of(&run(&br1, arriving)), [1]);
}

#[test]
fn bridge_for_dpid_picks_by_datapath_id() {
    let d = desc(TWO_BRIDGES);
    assert_eq!(d.bridge_for_dpid(2).unwrap().name, "br1");
    assert!(d.bridge_for_dpid(3).is_none());
}

#[test]
fn port_conflicts_after_name_resolution_get_no_flows_and_fail_check() {
    let d = desc(
        r#"
[[vm]]
name = "vm1"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
port = 1
[[vm]]
name = "vm2"
mac = "52:54:00:00:00:02"
ipv4 = "10.10.10.12"
port = "vnet1"
[[vm]]
name = "vm3"
mac = "52:54:00:00:00:03"
ipv4 = "10.10.10.13"
port = 3
"#,
    );
    let flows = plan_with(&d, "br0", &[("vnet1", 1)], &[1, 3]);
    assert_no_port(&flows, 1);
    assert!(texts(&flows).contains(&"priority=100,ip,nw_dst=10.10.10.13 actions=output:3"));
    let names: HashMap<String, u32> = [("vnet1".to_string(), 1)].into();
    let e = plan_for_check(&d, bridge(&d, "br0"), &names).unwrap_err();
    assert_eq!(
        e.to_string(),
        "vm \"vm2\": port 1 is also the port of vm \"vm1\""
    );
    let e = plan_for_check(&d, bridge(&d, "br0"), &HashMap::new()).unwrap_err();
    assert_eq!(
        e,
        PlanError::UnresolvedPort {
            vm_or_trunk: "vm \"vm2\"".into(),
            port: "vnet1".into()
        }
    );
}

// ---------------------------------------------------------------------------
// Syntax, order, examples

/// Every description the tests and examples use.
fn all_descs() -> Vec<(String, NetDesc)> {
    let mut v = vec![
        ("THREE_TENANTS".to_string(), desc(THREE_TENANTS)),
        ("TWO_BRIDGES".to_string(), desc(TWO_BRIDGES)),
    ];
    for f in ["seed.toml", "tenants.toml", "trunk.toml"] {
        let d = NetDesc::load(&example(f)).unwrap_or_else(|e| panic!("{e}"));
        v.push((f.to_string(), d));
    }
    v
}

fn all_flows() -> Vec<PlannedFlow> {
    let mut flows = Vec::new();
    for (_, d) in all_descs() {
        for b in &d.bridges {
            flows.extend(plan_for_check(&d, b, &test_names()).unwrap());
        }
        flows.extend(l2_learning_base(&d));
    }
    flows
}

#[test]
fn every_text_parses_and_round_trips_through_format_flow() {
    for f in all_flows() {
        // The FLOW_MOD is the text's (plus the cookie).
        let mut parsed = parse_flow(&f.text, FlowCommand::Add).unwrap();
        parsed.cookie = f.flow_mod.cookie;
        assert_eq!(parsed, f.flow_mod, "{}", f.text);
        // The text is canonical: format_flow prints it back (with the cookie
        // and dump-flows' "table=N, " spacing).
        let printed = format_flow(&f.flow_mod);
        let expected = format!("cookie={:#x}, {}", f.flow_mod.cookie, f.text).replacen(
            &format!("table={},", f.table()),
            &format!("table={}, ", f.table()),
            1,
        );
        assert_eq!(printed, expected);
        // And printing is stable.
        assert_eq!(parse_flow(&printed, FlowCommand::Add).unwrap(), f.flow_mod);
    }
}

#[test]
fn flows_are_sorted_and_deterministic() {
    for (name, d) in all_descs() {
        for b in &d.bridges {
            let a = plan_all_up_names(&d, b);
            let again = plan_all_up_names(&d, b);
            assert_eq!(a, again, "{name}");
            for w in a.windows(2) {
                let k = |f: &PlannedFlow| (f.table(), Reverse(f.priority()), f.text.clone());
                assert!(
                    k(&w[0]) < k(&w[1]),
                    "{name}: {} before {}",
                    w[0].text,
                    w[1].text
                );
            }
            // Priority 0 drop closes every table used.
            let tables: HashSet<u8> = a.iter().map(|f| f.table()).collect();
            for t in tables {
                let last = a.iter().rfind(|f| f.table() == t).unwrap();
                assert_eq!(last.priority(), 0, "{name}: table {t}");
            }
        }
    }
}

fn plan_all_up_names(d: &NetDesc, b: &BridgeDesc) -> Vec<PlannedFlow> {
    plan_for_check(d, b, &test_names()).unwrap()
}

/// Port numbers for the interface names the examples use.
fn test_names() -> HashMap<String, u32> {
    let mut m: HashMap<String, u32> = (0..=40).map(|i| (format!("vnet{i}"), 100 + i)).collect();
    m.insert("uplink0".into(), 99);
    m
}

#[test]
fn examples_load_and_plan() {
    for (name, d) in all_descs() {
        for b in &d.bridges {
            let flows = plan_all_up_names(&d, b);
            assert!(flows.len() > 1, "{name}: {}", flows.len());
        }
    }
    let d = NetDesc::load(&example("seed.toml")).unwrap();
    assert!(d.is_flat());
    assert_eq!(
        texts(&plan_all_up(&d, "br0")),
        [
            "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
            "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
            "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
            "priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
            "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
            "priority=100,ip,nw_dst=10.10.10.12 actions=output:2",
            "priority=90,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=output:1,output:2",
            "priority=0 actions=drop",
        ]
    );
    let d = NetDesc::load(&example("tenants.toml")).unwrap();
    assert_eq!(d.tenants.len(), 2);
    assert_eq!(d.policy.allow.len(), 1);
    assert!(plan_all_up(&d, "br0")
        .iter()
        .any(|f| f.text.contains("dec_ttl")));
    let d = NetDesc::load(&example("trunk.toml")).unwrap();
    assert_eq!(d.tenants.len(), 3);
    assert_eq!(d.trunks.len(), 1);
    assert_eq!(d.trunks[0].tenants.len(), 2);
}

/// Open vSwitch 3.1's ovs-ofctl reads every planned flow as tapflow does:
/// same OpenFlow 1.3 FLOW_MOD, printed the same.
#[test]
fn every_flow_parses_identically_with_ovs_ofctl() {
    if std::process::Command::new("ovs-ofctl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: ovs-ofctl not installed; skipping the OVS cross-check");
        return;
    }
    let flows = all_flows();
    let mut seen = HashSet::new();
    for f in flows.iter().filter(|f| seen.insert(f.text.clone())) {
        let out = std::process::Command::new("ovs-ofctl")
            .args(["-O", "OpenFlow13", "parse-flow", &f.text])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "OVS rejects {}: {}",
            f.text,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("OFPT_FLOW_MOD (OF1.3) (xid=0x1): "))
            .unwrap_or_else(|| panic!("no FLOW_MOD in {stdout}"));
        let mut ours = f.flow_mod.clone();
        ours.cookie = 0;
        assert_eq!(line, format_flow_mod(&ours), "{}", f.text);
    }
    // Every shape the plan writes is among them.
    assert!(seen.len() > 100, "{}", seen.len());
    for shape in [
        "write_metadata",
        "push_vlan",
        "dec_ttl",
        "CONTROLLER",
        "nd_target",
        "ipv6_dst",
        "metadata=0x1/0x1",
        "set_field:4116->vlan_vid",
    ] {
        assert!(
            seen.iter().any(|t| t.contains(shape)),
            "no flow with {shape}"
        );
    }
}
