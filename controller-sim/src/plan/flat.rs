//! Flat mode: one network, table 0 only, the seed walkthrough's flows per VM
//! (see the table in `plan/mod.rs`).

use super::{outputs, FlowSet, Site, TABLE_CLASSIFY};

pub(super) const PRIO_ND: u16 = 101;
pub(super) const PRIO_VM: u16 = 100;
pub(super) const PRIO_FLOOD: u16 = 90;

pub(super) fn plan_flat(site: &Site<'_>, out: &mut FlowSet) {
    let t = TABLE_CLASSIFY;
    let mut arp_ports = Vec::new();
    let mut v6_ports = Vec::new();
    for (vm, port) in &site.vms {
        let to_vm = format!("output:{port}");
        if let Some(ip) = vm.ipv4 {
            out.add(t, PRIO_VM, &format!("arp,arp_tpa={ip}"), &to_vm);
            out.add(t, PRIO_VM, &format!("icmp,nw_dst={ip}"), &to_vm);
            out.add(t, PRIO_VM, &format!("ip,nw_dst={ip}"), &to_vm);
            arp_ports.push(*port);
        }
        for ip6 in &vm.ipv6 {
            out.add(t, PRIO_VM, &format!("ipv6,ipv6_dst={ip6}"), &to_vm);
            out.add(
                t,
                PRIO_ND,
                &format!("icmp6,icmp_type=135,nd_target={ip6}"),
                &to_vm,
            );
        }
        if !vm.ipv6.is_empty() {
            v6_ports.push(*port);
        }
    }
    arp_ports.sort_unstable();
    v6_ports.sort_unstable();
    if let Some(acts) = outputs(&arp_ports) {
        out.add(t, PRIO_FLOOD, "arp,dl_dst=ff:ff:ff:ff:ff:ff", &acts);
    }
    if let Some(acts) = outputs(&v6_ports) {
        out.add(
            t,
            PRIO_FLOOD,
            "ipv6,dl_dst=33:33:00:00:00:00/ff:ff:00:00:00:00",
            &acts,
        );
    }
    out.add(t, 0, "", "drop");
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;

    const SEED: &str = r#"
[[vm]]
name = "vm1"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
port = 1

[[vm]]
name = "vm2"
mac = "52:54:00:00:00:02"
ipv4 = "10.10.10.12"
port = 2
"#;

    #[test]
    fn flat_two_vms_are_exactly_the_seed_walkthrough() {
        let d = desc(SEED);
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
    }

    #[test]
    fn flat_flow_mods_carry_the_cookie_and_the_parsed_text() {
        let d = desc(SEED);
        let flows = plan_all_up(&d, "br0");
        for f in &flows {
            assert_eq!(f.flow_mod.cookie, crate::desc::DEFAULT_COOKIE);
            assert_eq!(f.flow_mod.table_id, 0);
        }
        assert_eq!(flows[0].flow_mod.priority, 100);
        assert_eq!(flows.last().unwrap().flow_mod.priority, 0);
    }

    #[test]
    fn flat_down_vm_has_no_flows() {
        let d = desc(SEED);
        let flows = plan_with(&d, "br0", &[], &[1]);
        assert_eq!(
            texts(&flows),
            [
                "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
                "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
                "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
                "priority=90,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=output:1",
                "priority=0 actions=drop",
            ]
        );
        assert_no_port(&flows, 2);
    }

    #[test]
    fn flat_ipv6_vm_gets_nd_and_multicast_flows() {
        let d = desc(
            r#"
[[vm]]
name = "a"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
ipv6 = ["fd00::11"]
port = 1
[[vm]]
name = "b"
mac = "52:54:00:00:00:02"
ipv6 = ["fd00::12"]
port = 2
"#,
        );
        assert_eq!(
            texts(&plan_all_up(&d, "br0")),
            [
                "priority=101,icmp6,icmp_type=135,nd_target=fd00::11 actions=output:1",
                "priority=101,icmp6,icmp_type=135,nd_target=fd00::12 actions=output:2",
                "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
                "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
                "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
                "priority=100,ipv6,ipv6_dst=fd00::11 actions=output:1",
                "priority=100,ipv6,ipv6_dst=fd00::12 actions=output:2",
                "priority=90,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=output:1",
                "priority=90,ipv6,dl_dst=33:33:00:00:00:00/ff:ff:00:00:00:00 actions=output:1,output:2",
                "priority=0 actions=drop",
            ]
        );
    }

    #[test]
    fn flat_port_names_resolve_through_the_port_view() {
        let d = desc(
            r#"
[[vm]]
name = "vm1"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
port = "vnet0"
"#,
        );
        let flows = plan_with(&d, "br0", &[("vnet0", 7)], &[7]);
        assert_eq!(
            flows[0].text,
            "priority=100,arp,arp_tpa=10.10.10.11 actions=output:7"
        );
        // Unknown name: nothing for the VM.
        let flows = plan_with(&d, "br0", &[], &[7]);
        assert_eq!(texts(&flows), ["priority=0 actions=drop"]);
    }
}
