//! The router: gateway ARP/ND to the controller (table 0, before tagging,
//! so the runtime sees and answers the frame as it arrived) and one flow per
//! (allowed source tenant, destination VM address) that rewrites MACs, TTL
//! and VLAN in one step (table 1). See the tables in `plan/mod.rs`.

use super::tenants::{vlan, UNTAGGED};
use super::{vlan_vid_present, FlowSet, Site, TABLE_CLASSIFY, TABLE_FORWARD};
use crate::desc::{Tenant, VmDesc};
use std::net::Ipv6Addr;

pub(super) const PRIO_GATEWAY_PUNT: u16 = 110;
pub(super) const PRIO_ROUTED: u16 = 110;

/// Output to the controller with the whole frame (no buffering, so the
/// runtime can build the reply from the PACKET_IN alone).
const TO_CONTROLLER: &str = "CONTROLLER:65535";

pub(super) fn plan_router(site: &Site<'_>, out: &mut FlowSet) {
    gateway_punts(site, out);
    for (a, b) in &site.desc.policy.allow {
        let (Some(a), Some(b)) = (site.desc.tenant(a), site.desc.tenant(b)) else {
            continue;
        };
        routes(site, a, b, out);
        routes(site, b, a, out);
    }
}

/// ARP requests for the gateway address / neighbor solicitations for the
/// gateway6 address, per port where the tenant's frames come in.
fn gateway_punts(site: &Site<'_>, out: &mut FlowSet) {
    let punt = |out: &mut FlowSet, port: u32, vlan_match: &str, t: &Tenant| {
        if let Some(gw) = t.gateway4 {
            out.add(
                TABLE_CLASSIFY,
                PRIO_GATEWAY_PUNT,
                &format!("arp,in_port={port},{vlan_match},arp_tpa={gw},arp_op=1"),
                TO_CONTROLLER,
            );
        }
        if let Some(gw6) = t.gateway6 {
            out.add(
                TABLE_CLASSIFY,
                PRIO_GATEWAY_PUNT,
                &format!("icmp6,in_port={port},{vlan_match},icmp_type=135,nd_target={gw6}"),
                TO_CONTROLLER,
            );
        }
    };
    for (vm, port) in &site.vms {
        if let Some(t) = site.desc.tenant(&vm.tenant) {
            punt(out, *port, UNTAGGED, t);
        }
    }
    for (trunk, port) in &site.trunks {
        for name in &trunk.tenants {
            if let Some(t) = site.desc.tenant(name) {
                punt(out, *port, &format!("dl_vlan={}", vlan(t)), t);
            }
        }
    }
}

/// Flows routing frames of tenant `src` (sent to its gateway MAC) to the VMs of `dst`.
fn routes(site: &Site<'_>, src: &Tenant, dst: &Tenant, out: &mut FlowSet) {
    let present =
        !site.access_ports(&src.name).is_empty() || !site.trunk_ports(&src.name).is_empty();
    if !present {
        return;
    }
    let v4 = src.gateway4.is_some() && dst.gateway4.is_some();
    let v6 = src.gateway6.is_some() && dst.gateway6.is_some();
    let head = format!("dl_vlan={},dl_dst={}", vlan(src), src.gateway_mac);
    for vm in site.desc.vms.iter().filter(|v| v.tenant == dst.name) {
        let Some(deliver) = delivery(site, dst, vm) else {
            continue;
        };
        let acts = format!(
            "set_field:{}->eth_src,set_field:{}->eth_dst,dec_ttl,{deliver}",
            dst.gateway_mac, vm.mac
        );
        if let (true, Some(ip)) = (v4, vm.ipv4) {
            out.add(
                TABLE_FORWARD,
                PRIO_ROUTED,
                &format!("ip,{head},nw_dst={ip}"),
                &acts,
            );
        }
        if v6 {
            for ip6 in vm.ipv6.iter().filter(|a| !is_link_local(a)) {
                out.add(
                    TABLE_FORWARD,
                    PRIO_ROUTED,
                    &format!("ipv6,{head},ipv6_dst={ip6}"),
                    &acts,
                );
            }
        }
    }
}

/// How a routed frame reaches `vm` of tenant `dst` from this bridge: its own
/// port (untagged), or this bridge's trunks carrying `dst` (re-tagged) when
/// the VM is on another bridge; `None` when neither is up.
fn delivery(site: &Site<'_>, dst: &Tenant, vm: &VmDesc) -> Option<String> {
    if vm.bridge == site.bridge.name {
        return site.port_of(vm).map(|p| format!("pop_vlan,output:{p}"));
    }
    let trunks = site.trunk_ports(&dst.name);
    if trunks.is_empty() {
        return None;
    }
    let outs: Vec<String> = trunks.iter().map(|p| format!("output:{p}")).collect();
    Some(format!(
        "set_field:{}->vlan_vid,{}",
        vlan_vid_present(vlan(dst)),
        outs.join(",")
    ))
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
