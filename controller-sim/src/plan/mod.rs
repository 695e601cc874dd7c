//! The exact flow set a network description implies on one bridge, given
//! which of its ports exist and are up. The runtime installs it and keeps the
//! switch equal to it; `tapflow-controller check` prints it.
//!
//! # Design
//!
//! Every flow is written once, as a line of `ovs-ofctl add-flow` syntax, and
//! its FLOW_MOD is parsed from that line (`ofproto::text::parse_flow`), so the
//! text an operator reads in `check` and the message the switch gets cannot
//! disagree. The texts are in the canonical form `ovs-ofctl dump-flows`
//! prints (match fields in Open vSwitch's order, no `table=0`), so
//! `dump-flows` output can be compared with `check` output line by line. Only
//! OpenFlow 1.3 fields and actions are used, and every shape was checked with
//! Open vSwitch 3.1's `ovs-ofctl -O OpenFlow13 parse-flow`. All flows carry
//! the description's cookie (not part of the text).
//!
//! Nothing ever matches `in_port` to avoid sending a frame back where it came
//! from: OpenFlow switches drop output to the in_port unless the action
//! names `IN_PORT`, and both tapflowd and OVS do.
//!
//! A VM whose port is unknown or down, or whose port another VM or trunk
//! also resolves to, gets no flows at all: none delivering to it, none
//! matching its port. The same goes for trunks. When the port comes up the
//! runtime plans again and the flows appear.
//!
//! ## Flat mode (no tenants): table 0 only
//!
//! The seed walkthrough, automated. Per VM on port P:
//!
//! | priority | match | actions |
//! |---|---|---|
//! | 101 | `icmp6,icmp_type=135,nd_target=IP6` (neighbor solicitation for it) | `output:P` |
//! | 100 | `arp,arp_tpa=IP` | `output:P` |
//! | 100 | `icmp,nw_dst=IP` | `output:P` |
//! | 100 | `ip,nw_dst=IP` | `output:P` |
//! | 100 | `ipv6,ipv6_dst=IP6` | `output:P` |
//! | 90 | `arp,dl_dst=ff:ff:ff:ff:ff:ff` | every IPv4 VM's port |
//! | 90 | `ipv6,dl_dst=33:33:00:00:00:00/ff:ff:00:00:00:00` | every IPv6 VM's port |
//! | 0 | (all) | `drop` |
//!
//! `icmp` and `ip` overlap at one priority as in the walkthrough; they have
//! the same actions, so which one a packet hits changes nothing but the
//! counters. Neighbor solicitations get 101 because a (malformed) unicast
//! solicitation to one VM's address for another VM's target would otherwise
//! match two priority-100 flows with different outputs. The flood flows
//! carry ARP requests for unknown addresses (gratuitous ARP, probes) and IPv6
//! multicast (router/neighbor discovery, MLD); the IPv6 one exists only when
//! some VM has IPv6, so the seed's two IPv4 VMs get exactly the walkthrough's
//! six flows, the ARP broadcast and the drop.
//!
//! ## Tenant mode: table 0 classifies, table 1 forwards per tenant
//!
//! Every tenant has a VLAN. Inside the pipeline every frame is tagged with
//! its tenant's VLAN; table 1 only ever matches `dl_vlan=V` and outputs to
//! ports of that tenant, so nothing crosses between tenants except through
//! the router flows, which exist only for allowed pairs.
//!
//! Table 0:
//!
//! | priority | match | actions |
//! |---|---|---|
//! | 110 | access port P untagged (`vlan_tci=0x0000/0x1fff`), ARP request for its tenant's gateway / NS for its gateway6 | `CONTROLLER:65535` |
//! | 110 | trunk port P, `dl_vlan=V` of a carried tenant, ARP request / NS for that tenant's gateway | `CONTROLLER:65535` |
//! | 100 | access port P, untagged | `push_vlan:0x8100,set_field:(0x1000|V)->vlan_vid,goto_table:1` |
//! | 100 | trunk port P, `dl_vlan=V` of a carried tenant | `write_metadata:0x1/0x1,goto_table:1` |
//! | 0 | (all: tagged frames on access ports, other VLANs on trunks, unknown ports) | `drop` |
//!
//! Gateway ARP/ND goes to the controller from table 0, before tagging, so
//! the PACKET_IN holds the frame exactly as it arrived: untagged from an
//! access port, tagged from a trunk. The runtime answers with the reply in
//! the same shape, out the in_port. A VM can only resolve its own tenant's
//! gateway. Metadata bit 0 says "came in on a trunk" (split horizon, below).
//!
//! Table 1 (per tenant T with VLAN V present on the bridge, i.e. with an up
//! VM or trunk there; "deliver to P" is `pop_vlan,output:P` for an access
//! port and `output:P` for a trunk, tagged outputs first, then one
//! `pop_vlan`, then the access ports):
//!
//! | priority | match | actions |
//! |---|---|---|
//! | 110 | `ip,dl_vlan=V,dl_dst=GWMAC(T),nw_dst=IP` of a VM of an allowed tenant U (and `ipv6,…,ipv6_dst=`) | `set_field:GWMAC(U)->eth_src,set_field:MAC->eth_dst,dec_ttl`, then the VM's port: `pop_vlan,output:P`; or, VM on another bridge: `set_field:(0x1000|VLAN(U))->vlan_vid` and out this bridge's trunks carrying U |
//! | 105 | `dl_vlan=V,dl_dst=GWMAC(T)` (tenants with a gateway) | `drop` (to the gateway but not routable) |
//! | 101 | `icmp6,dl_vlan=V,icmp_type=135,nd_target=IP6` of a local VM of T | deliver to its port |
//! | 100 | `arp,dl_vlan=V,arp_tpa=IP`, `ip,dl_vlan=V,nw_dst=IP`, `ipv6,dl_vlan=V,ipv6_dst=IP6` of a local VM of T | deliver to its port |
//! | 90 | `dl_vlan=V,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00` (broadcast and multicast) | deliver to every trunk and access port of T |
//! | 10 | `dl_vlan=V` (unknown unicast; only tenants with a trunk here) | out T's trunks |
//! | 0 | (all) | `drop` |
//!
//! For a tenant with a trunk on the bridge, the flood (90) and unknown (10)
//! flows are split on metadata bit 0: a frame that came in on a trunk is
//! delivered to access ports only, never to another trunk (split horizon).
//! So any set of bridges joined by trunks is loop-free, at the price that a
//! bridge never relays between two trunks: join bridges that share a tenant
//! directly (a full mesh), or hang them off one uplink each. Frames to VMs on
//! other bridges need no flows of their own here: their ARP requests flood,
//! their unicast goes out the trunks (10), and the bridge that hosts them
//! delivers. Routed frames are the exception (the router rewrites MACs
//! first), so 110 lists remote VMs too when a trunk here carries their
//! tenant.
//!
//! Routing happens on the source's bridge in one step: VMs send to their
//! tenant's gateway MAC (learned from the runtime's ARP/ND answers), and the
//! flow rewrites source MAC, destination MAC, TTL and VLAN at once: there is
//! no router state beyond these flows. IPv4 routes exist when both tenants of
//! an allowed pair have `gateway`, IPv6 routes when both have `gateway6`
//! (link-local destinations are never routed). Pings to the gateway address
//! itself are not answered (105 drops them).
//!
//! ## Order
//!
//! Flows are sorted by table, then priority (highest first), then text, and
//! deduplicated: the same description and ports always give the same list.

mod flat;
mod l2;
mod router;
mod tenants;

pub use l2::l2_learning_base;

use crate::desc::{BridgeDesc, NetDesc, PortRef, Trunk, VmDesc};
use ofproto::message::FlowMod;
use ofproto::text::{parse_flow_with_warnings, FlowCommand};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Table 0 classifies (tenant mode) or is the whole pipeline (flat mode).
pub const TABLE_CLASSIFY: u8 = 0;
/// Table 1 forwards per tenant (tenant mode only).
pub const TABLE_FORWARD: u8 = 1;
/// Metadata bit set on frames that came in on a trunk.
pub const METADATA_FROM_TRUNK: u64 = 0x1;

/// What the controller knows of one switch's ports (from PORT_DESC / PORT_STATUS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortView {
    pub by_name: HashMap<String, u32>,
    pub up: HashSet<u32>,
}

/// One flow the description implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFlow {
    /// One line of `ovs-ofctl add-flow` syntax, e.g.
    /// `priority=100,arp,arp_tpa=10.10.10.12 actions=output:2` (no cookie).
    pub text: String,
    /// `parse_flow(text, Add)` with the description's cookie.
    pub flow_mod: FlowMod,
}

impl PlannedFlow {
    pub fn table(&self) -> u8 {
        self.flow_mod.table_id
    }

    pub fn priority(&self) -> u16 {
        self.flow_mod.priority
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "{vm_or_trunk}: port {port:?} is not known (give its number with --port {port}=NUMBER)"
    )]
    UnresolvedPort { vm_or_trunk: String, port: String },
    #[error("{second}: port {port} is also the port of {first}")]
    PortConflict {
        first: String,
        second: String,
        port: u32,
    },
}

/// The exact flow set the description implies on `bridge` given the switch's ports. A VM whose port is
/// not in `ports` (unknown name) or is down gets no flows pointing at it and none matching in_port=its port.
pub fn plan(desc: &NetDesc, bridge: &BridgeDesc, ports: &PortView) -> Vec<PlannedFlow> {
    let lookup = |p: &PortRef| match p {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(s) => ports.by_name.get(s).copied(),
    };
    let (site, _conflicts) = Site::resolve(desc, bridge, lookup, |n| ports.up.contains(&n));
    site.flows()
}

/// For `check`: every port up; names resolved from `names` (NAME=NUM pairs given on the command line), error if one is missing.
pub fn plan_for_check(
    desc: &NetDesc,
    bridge: &BridgeDesc,
    names: &HashMap<String, u32>,
) -> Result<Vec<PlannedFlow>, PlanError> {
    let users = port_users(desc, bridge);
    for (who, port) in &users {
        if let PortRef::Name(s) = port {
            if !names.contains_key(s) {
                return Err(PlanError::UnresolvedPort {
                    vm_or_trunk: who.clone(),
                    port: s.clone(),
                });
            }
        }
    }
    let lookup = |p: &PortRef| match p {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(s) => names.get(s).copied(),
    };
    let (site, conflicts) = Site::resolve(desc, bridge, lookup, |_| true);
    if let Some(c) = conflicts.into_iter().next() {
        return Err(c);
    }
    Ok(site.flows())
}

/// Who uses which port on `bridge`, in description order: VMs, then trunks.
fn port_users<'a>(desc: &'a NetDesc, bridge: &BridgeDesc) -> Vec<(String, &'a PortRef)> {
    let vms = desc
        .vms
        .iter()
        .filter(|v| v.bridge == bridge.name)
        .map(|v| (format!("vm {:?}", v.name), &v.port));
    let trunks = desc
        .trunks
        .iter()
        .filter(|t| t.bridge == bridge.name)
        .map(|t| (trunk_label(t), &t.port));
    vms.chain(trunks).collect()
}

fn trunk_label(t: &Trunk) -> String {
    format!("trunk on bridge {:?} port {}", t.bridge, t.port)
}

/// The description as seen from one bridge: the VMs and trunks on it whose
/// ports resolved to a number that is up and used by no one else.
pub(crate) struct Site<'a> {
    pub desc: &'a NetDesc,
    pub bridge: &'a BridgeDesc,
    /// (VM, its port), in description order.
    pub vms: Vec<(&'a VmDesc, u32)>,
    /// (trunk, its port), in description order.
    pub trunks: Vec<(&'a Trunk, u32)>,
}

impl<'a> Site<'a> {
    fn resolve(
        desc: &'a NetDesc,
        bridge: &'a BridgeDesc,
        lookup: impl Fn(&PortRef) -> Option<u32>,
        up: impl Fn(u32) -> bool,
    ) -> (Site<'a>, Vec<PlanError>) {
        enum User<'a> {
            Vm(&'a VmDesc),
            Trunk(&'a Trunk),
        }
        let label = |u: &User<'_>| match u {
            User::Vm(v) => format!("vm {:?}", v.name),
            User::Trunk(t) => trunk_label(t),
        };
        let users = desc
            .vms
            .iter()
            .filter(|v| v.bridge == bridge.name)
            .map(|v| (User::Vm(v), &v.port))
            .chain(
                desc.trunks
                    .iter()
                    .filter(|t| t.bridge == bridge.name)
                    .map(|t| (User::Trunk(t), &t.port)),
            );
        let mut by_port: BTreeMap<u32, Vec<User<'a>>> = BTreeMap::new();
        for (u, p) in users {
            if let Some(n) = lookup(p) {
                by_port.entry(n).or_default().push(u);
            }
        }
        let mut conflicts = Vec::new();
        let mut site = Site {
            desc,
            bridge,
            vms: Vec::new(),
            trunks: Vec::new(),
        };
        for (port, users) in by_port {
            if users.len() > 1 {
                // Ambiguous: whoever gets the port, the other's traffic would
                // go to the wrong place. Neither gets flows.
                conflicts.push(PlanError::PortConflict {
                    first: label(&users[0]),
                    second: label(&users[1]),
                    port,
                });
                continue;
            }
            if !up(port) {
                continue;
            }
            match users.into_iter().next() {
                Some(User::Vm(v)) => site.vms.push((v, port)),
                Some(User::Trunk(t)) => site.trunks.push((t, port)),
                None => {}
            }
        }
        let vm_index = |v: &VmDesc| desc.vms.iter().position(|x| std::ptr::eq(x, v));
        site.vms.sort_by_key(|(v, _)| vm_index(v));
        let trunk_index = |t: &Trunk| desc.trunks.iter().position(|x| std::ptr::eq(x, t));
        site.trunks.sort_by_key(|(t, _)| trunk_index(t));
        (site, conflicts)
    }

    fn flows(&self) -> Vec<PlannedFlow> {
        let mut out = FlowSet::default();
        if self.desc.is_flat() {
            flat::plan_flat(self, &mut out);
        } else {
            tenants::plan_tenants(self, &mut out);
            router::plan_router(self, &mut out);
        }
        out.finish(self.desc.controller.cookie)
    }

    /// Ports of the up VMs of `tenant` on this bridge, ascending.
    pub fn access_ports(&self, tenant: &str) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .vms
            .iter()
            .filter(|(vm, _)| vm.tenant == tenant)
            .map(|(_, p)| *p)
            .collect();
        v.sort_unstable();
        v
    }

    /// Ports of the up trunks on this bridge carrying `tenant`, ascending.
    pub fn trunk_ports(&self, tenant: &str) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .trunks
            .iter()
            .filter(|(t, _)| t.tenants.iter().any(|n| n == tenant))
            .map(|(_, p)| *p)
            .collect();
        v.sort_unstable();
        v
    }

    /// The port of `vm` if it is on this bridge and up.
    pub fn port_of(&self, vm: &VmDesc) -> Option<u32> {
        self.vms
            .iter()
            .find(|(v, _)| std::ptr::eq(*v, vm))
            .map(|(_, p)| *p)
    }
}

/// `output:T…` for the trunks (tagged) then, if there are access ports,
/// `pop_vlan,output:P…`: the tag must be on for the trunks and off for the VMs.
pub(crate) fn deliver_tagged(trunks: &[u32], access: &[u32]) -> Option<String> {
    let mut acts: Vec<String> = trunks.iter().map(|p| format!("output:{p}")).collect();
    if !access.is_empty() {
        acts.push("pop_vlan".into());
        acts.extend(access.iter().map(|p| format!("output:{p}")));
    }
    (!acts.is_empty()).then(|| acts.join(","))
}

/// `output:P…` (untagged frames, flat mode).
pub(crate) fn outputs(ports: &[u32]) -> Option<String> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| format!("output:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The `vlan_vid` value OpenFlow 1.3 sets and matches for VID `vlan`
/// (`OFPVID_PRESENT` | VID), as `set_field:N->vlan_vid` needs it.
pub(crate) fn vlan_vid_present(vlan: u16) -> u32 {
    u32::from(ofproto::oxm::OFPVID_PRESENT) | u32::from(vlan)
}

/// Flows collected as text, turned into [`PlannedFlow`]s at the end.
#[derive(Default)]
pub(crate) struct FlowSet {
    texts: Vec<String>,
}

impl FlowSet {
    /// Adds `[table=T,]priority=P[,MATCH] actions=ACTIONS`; `matches` must be
    /// in canonical (dump-flows) order.
    pub fn add(&mut self, table: u8, priority: u16, matches: &str, actions: &str) {
        let mut t = String::new();
        if table != 0 {
            t += &format!("table={table},");
        }
        t += &format!("priority={priority}");
        if !matches.is_empty() {
            t.push(',');
            t += matches;
        }
        t += " actions=";
        t += actions;
        self.texts.push(t);
    }

    fn finish(self, cookie: u64) -> Vec<PlannedFlow> {
        let mut flows: Vec<PlannedFlow> = self
            .texts
            .into_iter()
            .filter_map(|text| to_planned(text, cookie))
            .collect();
        flows.sort_by(|a, b| {
            (a.table(), Reverse(a.priority()), &a.text).cmp(&(
                b.table(),
                Reverse(b.priority()),
                &b.text,
            ))
        });
        flows.dedup_by(|a, b| a.text == b.text);
        flows
    }
}

/// Parses `text` into its FLOW_MOD. Every text the plan writes is made of
/// validated values and parses (the unit tests parse every shape); one that
/// did not, or that lost a match field to a missing prerequisite, would be a
/// bug in this module: it is left out and logged rather than installed
/// broader than meant.
pub(crate) fn to_planned(text: String, cookie: u64) -> Option<PlannedFlow> {
    match parse_flow_with_warnings(&text, FlowCommand::Add) {
        Ok((mut fm, warnings)) if warnings.is_empty() => {
            fm.cookie = cookie;
            Some(PlannedFlow { text, flow_mod: fm })
        }
        Ok((_, warnings)) => {
            debug_assert!(false, "planned flow {text:?} loses fields: {warnings:?}");
            tracing::error!(flow = %text, "planned flow would lose match fields; not installed (bug)");
            None
        }
        Err(e) => {
            debug_assert!(false, "planned flow {text:?} does not parse: {e}");
            tracing::error!(flow = %text, error = %e, "planned flow does not parse; not installed (bug)");
            None
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
