//! Tenant mode without the router: table 0 tags frames with their tenant's
//! VLAN (or admits a trunk's tagged frames), table 1 forwards within the
//! tenant (see the tables in `plan/mod.rs`).

use super::{
    deliver_tagged, vlan_vid_present, FlowSet, Site, METADATA_FROM_TRUNK, TABLE_CLASSIFY,
    TABLE_FORWARD,
};
use crate::desc::Tenant;

pub(super) const PRIO_CLASSIFY: u16 = 100;
pub(super) const PRIO_GATEWAY_DROP: u16 = 105;
pub(super) const PRIO_ND: u16 = 101;
pub(super) const PRIO_VM: u16 = 100;
pub(super) const PRIO_FLOOD: u16 = 90;
pub(super) const PRIO_UNKNOWN: u16 = 10;

/// Untagged frames (OpenFlow 1.3: `vlan_vid=OFPVID_NONE`).
pub(super) const UNTAGGED: &str = "vlan_tci=0x0000/0x1fff";
/// Broadcast and multicast destinations (the group bit).
const MULTICAST: &str = "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00";

pub(super) fn plan_tenants(site: &Site<'_>, out: &mut FlowSet) {
    classify(site, out);
    for t in &site.desc.tenants {
        forward(site, t, out);
    }
    out.add(TABLE_CLASSIFY, 0, "", "drop");
    out.add(TABLE_FORWARD, 0, "", "drop");
}

/// The tenant's VLAN; validation guarantees one in tenant mode.
pub(super) fn vlan(t: &Tenant) -> u16 {
    t.vlan
        .expect("tenant mode: every tenant has a VLAN (validated)")
}

fn classify(site: &Site<'_>, out: &mut FlowSet) {
    let goto = format!("goto_table:{TABLE_FORWARD}");
    for (vm, port) in &site.vms {
        let Some(t) = site.desc.tenant(&vm.tenant) else {
            continue;
        };
        out.add(
            TABLE_CLASSIFY,
            PRIO_CLASSIFY,
            &format!("in_port={port},{UNTAGGED}"),
            &format!(
                "push_vlan:0x8100,set_field:{}->vlan_vid,{goto}",
                vlan_vid_present(vlan(t))
            ),
        );
    }
    for (trunk, port) in &site.trunks {
        for name in &trunk.tenants {
            let Some(t) = site.desc.tenant(name) else {
                continue;
            };
            out.add(
                TABLE_CLASSIFY,
                PRIO_CLASSIFY,
                &format!("in_port={port},dl_vlan={}", vlan(t)),
                &format!("write_metadata:{METADATA_FROM_TRUNK:#x}/{METADATA_FROM_TRUNK:#x},{goto}"),
            );
        }
    }
}

fn forward(site: &Site<'_>, t: &Tenant, out: &mut FlowSet) {
    let access = site.access_ports(&t.name);
    let trunks = site.trunk_ports(&t.name);
    if access.is_empty() && trunks.is_empty() {
        // No frame of this tenant can enter the pipeline here.
        return;
    }
    let v = vlan(t);
    let tb = TABLE_FORWARD;

    for (vm, port) in site.vms.iter().filter(|(vm, _)| vm.tenant == t.name) {
        let to_vm = format!("pop_vlan,output:{port}");
        if let Some(ip) = vm.ipv4 {
            out.add(
                tb,
                PRIO_VM,
                &format!("arp,dl_vlan={v},arp_tpa={ip}"),
                &to_vm,
            );
            out.add(tb, PRIO_VM, &format!("ip,dl_vlan={v},nw_dst={ip}"), &to_vm);
        }
        for ip6 in &vm.ipv6 {
            out.add(
                tb,
                PRIO_VM,
                &format!("ipv6,dl_vlan={v},ipv6_dst={ip6}"),
                &to_vm,
            );
            out.add(
                tb,
                PRIO_ND,
                &format!("icmp6,dl_vlan={v},icmp_type=135,nd_target={ip6}"),
                &to_vm,
            );
        }
    }

    if t.has_gateway() {
        out.add(
            tb,
            PRIO_GATEWAY_DROP,
            &format!("dl_vlan={v},dl_dst={}", t.gateway_mac),
            "drop",
        );
    }

    if trunks.is_empty() {
        if let Some(acts) = deliver_tagged(&[], &access) {
            out.add(tb, PRIO_FLOOD, &format!("dl_vlan={v},{MULTICAST}"), &acts);
        }
        return;
    }
    // Split horizon: what came in on a trunk goes to access ports only.
    let m = METADATA_FROM_TRUNK;
    let from_access = format!("metadata=0/{m:#x},dl_vlan={v}");
    let from_trunk = format!("metadata={m:#x}/{m:#x},dl_vlan={v}");
    if let Some(acts) = deliver_tagged(&trunks, &access) {
        out.add(tb, PRIO_FLOOD, &format!("{from_access},{MULTICAST}"), &acts);
    }
    if let Some(acts) = deliver_tagged(&[], &access) {
        out.add(tb, PRIO_FLOOD, &format!("{from_trunk},{MULTICAST}"), &acts);
    }
    if let Some(acts) = deliver_tagged(&trunks, &[]) {
        out.add(tb, PRIO_UNKNOWN, &from_access, &acts);
    }
}
