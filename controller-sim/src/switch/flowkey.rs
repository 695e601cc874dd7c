//! A flow's identity for convergence: what it matches and what it does,
//! written so that the same flow compares equal whether it is the FLOW_MOD
//! we would send or the FLOW_STATS entry a switch reports back.
//!
//! Switches report flows in their own canonical form. Open vSwitch 3.1
//! (checked against its FLOW_STATS replies) returns the OXM fields in its
//! own order (`in_port`, `eth_type`, `vlan_vid`, ..., `metadata` last),
//! drops a mask that covers the whole field (`nw_dst=10.0.0.1/32`,
//! `vlan_tci=0x0000/0x1fff` come back exact), and leaves out an empty
//! apply-actions (`actions=drop` is no instruction at all). The key undoes
//! that, and tolerates what other switches may do as well: value bits
//! outside a mask, a `set_field` of `vlan_vid` without `OFPVID_PRESENT`,
//! `max_len` on outputs to ports other than CONTROLLER (where it means
//! nothing), instructions listed in another order (they run in a fixed
//! one). So: the match is an order-independent set of normalized OXM TLVs,
//! instructions are in execution order, actions keep their order.

use bytes::BytesMut;
use ofproto::action::Action;
use ofproto::consts::OFPP_CONTROLLER;
use ofproto::instruction::Instruction;
use ofproto::message::FlowMod;
use ofproto::multipart::FlowStats;
use ofproto::oxm::{Match, OxmField, OFPVID_PRESENT};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Where a flow sits: two flows with the same place cannot coexist (an ADD
/// of one replaces the other).
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct FlowPlace {
    pub table_id: u8,
    pub priority: u16,
    /// The normalized OXM TLVs, each encoded, sorted.
    pub match_: Vec<Vec<u8>>,
}

/// A flow's place plus everything else that makes it the flow it is.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FlowKey {
    pub place: FlowPlace,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub instructions: Vec<Instruction>,
}

impl FlowKey {
    pub fn of_flow_mod(fm: &FlowMod) -> FlowKey {
        FlowKey {
            place: place(fm.table_id, fm.priority, &fm.match_),
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            instructions: canonical_instructions(&fm.instructions),
        }
    }

    pub fn of_stats(fs: &FlowStats) -> FlowKey {
        FlowKey {
            place: place(fs.table_id, fs.priority, &fs.match_),
            idle_timeout: fs.idle_timeout,
            hard_timeout: fs.hard_timeout,
            instructions: canonical_instructions(&fs.instructions),
        }
    }
}

fn place(table_id: u8, priority: u16, m: &Match) -> FlowPlace {
    let mut fields: Vec<Vec<u8>> = m
        .fields
        .iter()
        .map(|f| {
            let mut b = BytesMut::new();
            canonical_field(f).emit(&mut b);
            b.to_vec()
        })
        .collect();
    fields.sort();
    FlowPlace {
        table_id,
        priority,
        match_: fields,
    }
}

/// `value & mask`, with the mask dropped when it covers every bit of the field.
fn masked<T: Copy + PartialEq>(
    v: T,
    m: Option<T>,
    full: T,
    and: impl Fn(T, T) -> T,
) -> (T, Option<T>) {
    match m {
        None => (v, None),
        Some(m) if m == full => (v, None),
        Some(m) => (and(v, m), Some(m)),
    }
}

fn mac_and(a: ofproto::MacAddr, b: ofproto::MacAddr) -> ofproto::MacAddr {
    let mut o = a.0;
    for (x, y) in o.iter_mut().zip(b.0) {
        *x &= y;
    }
    ofproto::MacAddr(o)
}

fn v4_and(a: Ipv4Addr, b: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a) & u32::from(b))
}

fn v6_and(a: Ipv6Addr, b: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(a) & u128::from(b))
}

/// One OXM TLV in the form a switch reports it.
pub fn canonical_field(f: &OxmField) -> OxmField {
    use OxmField::*;
    let mac_full = ofproto::MacAddr([0xff; 6]);
    let v4_full = Ipv4Addr::from(u32::MAX);
    let v6_full = Ipv6Addr::from(u128::MAX);
    match f.clone() {
        Metadata(v, m) => {
            let (v, m) = masked(v, m, u64::MAX, |a, b| a & b);
            Metadata(v, m)
        }
        EthDst(v, m) => {
            let (v, m) = masked(v, m, mac_full, mac_and);
            EthDst(v, m)
        }
        EthSrc(v, m) => {
            let (v, m) = masked(v, m, mac_full, mac_and);
            EthSrc(v, m)
        }
        VlanVid(v, m) => {
            // 13 significant bits (12-bit VID + OFPVID_PRESENT).
            let (v, m) = masked(v, m.map(|m| m & 0x1fff), 0x1fff, |a, b| a & b);
            VlanVid(v, m)
        }
        Ipv4Src(v, m) => {
            let (v, m) = masked(v, m, v4_full, v4_and);
            Ipv4Src(v, m)
        }
        Ipv4Dst(v, m) => {
            let (v, m) = masked(v, m, v4_full, v4_and);
            Ipv4Dst(v, m)
        }
        ArpSpa(v, m) => {
            let (v, m) = masked(v, m, v4_full, v4_and);
            ArpSpa(v, m)
        }
        ArpTpa(v, m) => {
            let (v, m) = masked(v, m, v4_full, v4_and);
            ArpTpa(v, m)
        }
        ArpSha(v, m) => {
            let (v, m) = masked(v, m, mac_full, mac_and);
            ArpSha(v, m)
        }
        ArpTha(v, m) => {
            let (v, m) = masked(v, m, mac_full, mac_and);
            ArpTha(v, m)
        }
        Ipv6Src(v, m) => {
            let (v, m) = masked(v, m, v6_full, v6_and);
            Ipv6Src(v, m)
        }
        Ipv6Dst(v, m) => {
            let (v, m) = masked(v, m, v6_full, v6_and);
            Ipv6Dst(v, m)
        }
        Ipv6Flabel(v, m) => {
            let (v, m) = masked(v, m.map(|m| m & 0xf_ffff), 0xf_ffff, |a, b| a & b);
            Ipv6Flabel(v, m)
        }
        PbbIsid(v, m) => {
            let (v, m) = masked(v, m.map(|m| m & 0xff_ffff), 0xff_ffff, |a, b| a & b);
            PbbIsid(v, m)
        }
        TunnelId(v, m) => {
            let (v, m) = masked(v, m, u64::MAX, |a, b| a & b);
            TunnelId(v, m)
        }
        Ipv6Exthdr(v, m) => {
            let (v, m) = masked(v, m.map(|m| m & 0x1ff), 0x1ff, |a, b| a & b);
            Ipv6Exthdr(v, m)
        }
        other => other,
    }
}

fn canonical_action(a: &Action) -> Action {
    match a {
        // max_len only means something for CONTROLLER.
        Action::Output { port, .. } if *port != OFPP_CONTROLLER => Action::Output {
            port: *port,
            max_len: 0,
        },
        // A set_field of vlan_vid always sets a present VID.
        Action::SetField(OxmField::VlanVid(v, _)) => {
            Action::SetField(OxmField::VlanVid(v | OFPVID_PRESENT, None))
        }
        Action::SetField(f) => Action::SetField(canonical_field(f)),
        a => a.clone(),
    }
}

/// The order in which the pipeline runs instructions (OF1.3.5 5.9), which
/// does not depend on the order they were listed in.
fn execution_rank(i: &Instruction) -> u8 {
    match i {
        Instruction::Meter(_) => 0,
        Instruction::ApplyActions(_) => 1,
        Instruction::ClearActions => 2,
        Instruction::WriteActions(_) => 3,
        Instruction::WriteMetadata { .. } => 4,
        Instruction::GotoTable(_) => 5,
        Instruction::Experimenter { .. } => 6,
    }
}

pub fn canonical_instructions(list: &[Instruction]) -> Vec<Instruction> {
    let mut out: Vec<Instruction> = list
        .iter()
        .filter_map(|i| match i {
            // An empty action list does nothing; switches leave it out.
            Instruction::ApplyActions(a) | Instruction::WriteActions(a) if a.is_empty() => None,
            Instruction::ApplyActions(a) => Some(Instruction::ApplyActions(
                a.iter().map(canonical_action).collect(),
            )),
            Instruction::WriteActions(a) => {
                // The action set holds one action per type and runs them in
                // its own order; only the set matters.
                let mut v: Vec<Action> = a.iter().map(canonical_action).collect();
                v.sort_by_key(|a| {
                    let mut b = BytesMut::new();
                    a.emit(&mut b);
                    b.to_vec()
                });
                Some(Instruction::WriteActions(v))
            }
            i => Some(i.clone()),
        })
        .collect();
    out.sort_by_key(execution_rank);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::consts::OFPFF_SEND_FLOW_REM;
    use ofproto::text::{parse_flow, FlowCommand};

    fn fm(text: &str) -> FlowMod {
        parse_flow(text, FlowCommand::Add).unwrap()
    }

    /// What a switch would report for `fm` after rewriting it its way.
    fn stats_of(fm: &FlowMod) -> FlowStats {
        FlowStats {
            table_id: fm.table_id,
            priority: fm.priority,
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            flags: fm.flags,
            cookie: fm.cookie,
            match_: fm.match_.clone(),
            instructions: fm.instructions.clone(),
            duration_sec: 42,
            packet_count: 7,
            ..FlowStats::default()
        }
    }

    #[test]
    fn match_field_order_does_not_matter() {
        let a =
            fm("table=1,priority=100,dl_vlan=10,arp,arp_tpa=10.0.10.11 actions=pop_vlan,output:2");
        let mut s = stats_of(&a);
        s.match_.fields.reverse();
        assert_ne!(s.match_, a.match_);
        assert_eq!(FlowKey::of_flow_mod(&a), FlowKey::of_stats(&s));
    }

    /// Replies recorded from Open vSwitch 3.1 for flows the plan sends.
    #[test]
    fn open_vswitch_replies_are_recognized() {
        let mac = |s: &str| s.parse::<ofproto::MacAddr>().unwrap();
        let sent = fm("table=1,priority=90,metadata=0/0x1,dl_vlan=10,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:5,pop_vlan,output:1,output:2");
        let mut got = stats_of(&sent);
        got.match_.fields = vec![
            OxmField::EthDst(mac("01:00:00:00:00:00"), Some(mac("01:00:00:00:00:00"))),
            OxmField::VlanVid(0x100a, None),
            OxmField::Metadata(0, Some(1)),
        ];
        assert_eq!(FlowKey::of_flow_mod(&sent), FlowKey::of_stats(&got));

        let sent = fm("table=1,priority=5,ip,nw_dst=10.0.0.0/8 actions=drop");
        let mut got = stats_of(&sent);
        got.match_.fields = vec![
            OxmField::EthType(0x0800),
            OxmField::Ipv4Dst(
                Ipv4Addr::new(10, 0, 0, 0),
                Some(Ipv4Addr::new(255, 0, 0, 0)),
            ),
        ];
        got.instructions = vec![];
        assert_eq!(FlowKey::of_flow_mod(&sent), FlowKey::of_stats(&got));
    }

    #[test]
    fn counters_flags_and_duration_are_not_part_of_the_key() {
        let mut a = fm("priority=100,ip,nw_dst=10.0.0.1 actions=output:1");
        let s = stats_of(&a);
        a.flags = OFPFF_SEND_FLOW_REM;
        assert_eq!(FlowKey::of_flow_mod(&a), FlowKey::of_stats(&s));
    }

    #[test]
    fn full_masks_and_bits_outside_the_mask_are_normalized() {
        let a = fm("priority=5,ip,nw_dst=10.0.0.0/8,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop");
        let mut s = stats_of(&a);
        for f in &mut s.match_.fields {
            match f {
                OxmField::Ipv4Dst(v, _) => *v = Ipv4Addr::new(10, 1, 2, 3),
                OxmField::EthDst(v, _) => v.0[5] = 0x55,
                _ => {}
            }
        }
        assert_eq!(FlowKey::of_flow_mod(&a), FlowKey::of_stats(&s));
        let exact = fm("priority=5,ip,nw_dst=10.0.0.1 actions=drop");
        let mut s = stats_of(&exact);
        for f in &mut s.match_.fields {
            if let OxmField::Ipv4Dst(_, m) = f {
                *m = Some(Ipv4Addr::BROADCAST);
            }
        }
        assert_eq!(FlowKey::of_flow_mod(&exact), FlowKey::of_stats(&s));
    }

    #[test]
    fn switch_rewrites_of_actions_are_undone() {
        let a = fm("table=1,priority=100,dl_vlan=10,ip,nw_dst=10.0.20.11 actions=set_field:4116->vlan_vid,dec_ttl,goto_table:2");
        let mut s = stats_of(&a);
        // Instructions in another order; a switch (or a controller) that
        // leaves OFPVID_PRESENT out of a set_field of vlan_vid.
        s.instructions.reverse();
        for i in &mut s.instructions {
            if let Instruction::ApplyActions(acts) = i {
                for act in acts {
                    if let Action::SetField(OxmField::VlanVid(v, _)) = act {
                        *v &= !OFPVID_PRESENT;
                    }
                }
            }
        }
        assert_eq!(FlowKey::of_flow_mod(&a), FlowKey::of_stats(&s));

        let drop = fm("priority=0 actions=drop");
        let mut s = stats_of(&drop);
        s.instructions = vec![Instruction::ApplyActions(vec![])];
        assert_eq!(FlowKey::of_flow_mod(&drop), FlowKey::of_stats(&s));
    }

    #[test]
    fn different_behavior_is_a_different_key_at_the_same_place() {
        let a = fm("priority=100,ip,nw_dst=10.0.0.1 actions=output:1");
        let b = fm("priority=100,ip,nw_dst=10.0.0.1 actions=output:2");
        let (ka, kb) = (FlowKey::of_flow_mod(&a), FlowKey::of_flow_mod(&b));
        assert_ne!(ka, kb);
        assert_eq!(ka.place, kb.place);
        // Action order inside apply-actions matters.
        let c = fm("priority=100,ip,nw_dst=10.0.0.1 actions=output:1,output:2");
        let d = fm("priority=100,ip,nw_dst=10.0.0.1 actions=output:2,output:1");
        assert_ne!(FlowKey::of_flow_mod(&c), FlowKey::of_flow_mod(&d));
        // So do the timeouts and the priority.
        let e = fm("priority=100,idle_timeout=5,ip,nw_dst=10.0.0.1 actions=output:1");
        assert_ne!(FlowKey::of_flow_mod(&e), ka);
        let f = fm("priority=101,ip,nw_dst=10.0.0.1 actions=output:1");
        assert_ne!(FlowKey::of_flow_mod(&f).place, ka.place);
    }

    #[test]
    fn controller_max_len_counts_other_ports_max_len_does_not() {
        let a = fm("priority=1,arp actions=CONTROLLER:65535");
        let b = fm("priority=1,arp actions=CONTROLLER:128");
        assert_ne!(FlowKey::of_flow_mod(&a), FlowKey::of_flow_mod(&b));
        let c = fm("priority=1,arp actions=output:3");
        let mut s = stats_of(&c);
        s.instructions = vec![Instruction::ApplyActions(vec![Action::Output {
            port: 3,
            max_len: 0xffe5,
        }])];
        assert_eq!(FlowKey::of_flow_mod(&c), FlowKey::of_stats(&s));
    }
}
