//! Reactive MAC learning, one table per switch, the way os-ken's
//! `simple_switch_13` does it: the plan's table-miss flow sends unknown
//! traffic to the controller; each PACKET_IN teaches `src MAC → in_port`;
//! a frame to a known MAC gets a `priority=1,in_port,dl_dst,dl_src` flow
//! (idle timeout, our cookie) and is sent on, anything else is flooded.
//!
//! Differences from `simple_switch_13`: learned flows ask for FLOW_REMOVED,
//! and a MAC with no learned flow toward it left is forgotten, so a VM that
//! moved ports is found again by flooding instead of being sent to its old
//! port; frames from a multicast source are never learned; a frame whose
//! destination sits behind its own in_port is dropped (the switch could not
//! send it back there anyway).

use super::ether::{EthHeader, ETHERTYPE_LLDP};
use ofproto::action::Action;
use ofproto::consts::{
    OFPFC_ADD, OFPFF_SEND_FLOW_REM, OFPG_ANY, OFPP_ANY, OFPP_FLOOD, OFP_NO_BUFFER,
};
use ofproto::instruction::Instruction;
use ofproto::message::{FlowMod, FlowRemoved, PacketIn, PacketOut};
use ofproto::multipart::FlowStats;
use ofproto::oxm::{Match, OxmField};
use ofproto::{MacAddr, Message};
use std::collections::{HashMap, HashSet};

/// Priority of learned flows (above the plan's priority-0 table-miss).
pub const LEARNED_PRIORITY: u16 = 1;
/// Table learned flows go to.
pub const LEARNED_TABLE: u8 = 0;

/// What one PACKET_IN led to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reaction {
    pub messages: Vec<Message>,
    /// `(src, port)` when this packet taught us something new.
    pub learned: Option<(MacAddr, u32)>,
}

#[derive(Debug, Default)]
pub struct L2Learning {
    /// Where each MAC was last seen.
    macs: HashMap<MacAddr, u32>,
    /// Learned flows the switch holds: (in_port, dst, src).
    flows: HashSet<(u32, MacAddr, MacAddr)>,
}

/// The match of a learned flow: exactly in_port, eth_dst, eth_src.
fn learned_match(in_port: u32, dst: MacAddr, src: MacAddr) -> Match {
    Match::new(vec![
        OxmField::InPort(in_port),
        OxmField::EthDst(dst, None),
        OxmField::EthSrc(src, None),
    ])
}

/// (in_port, dst, src) of a learned flow's match, whatever the field order.
fn learned_triple(m: &Match) -> Option<(u32, MacAddr, MacAddr)> {
    if m.fields.len() != 3 {
        return None;
    }
    let mut in_port = None;
    let (mut dst, mut src) = (None, None);
    for f in &m.fields {
        match f {
            OxmField::InPort(p) => in_port = Some(*p),
            OxmField::EthDst(d, None) => dst = Some(*d),
            OxmField::EthSrc(s, None) => src = Some(*s),
            _ => return None,
        }
    }
    Some((in_port?, dst?, src?))
}

impl L2Learning {
    /// True for flows this app installed by learning: convergence leaves
    /// them to their idle timeout instead of treating them as stale.
    pub fn is_learned(fs: &FlowStats) -> bool {
        fs.table_id == LEARNED_TABLE
            && fs.priority == LEARNED_PRIORITY
            && learned_triple(&fs.match_).is_some()
    }

    pub fn port_of(&self, mac: &MacAddr) -> Option<u32> {
        self.macs.get(mac).copied()
    }

    pub fn packet_in(&mut self, pi: &PacketIn, cookie: u64, idle_timeout: u16) -> Reaction {
        let mut r = Reaction::default();
        let Some(in_port) = pi.match_.fields.iter().find_map(|f| match f {
            OxmField::InPort(p) => Some(*p),
            _ => None,
        }) else {
            return r;
        };
        let Some((eth, _)) = EthHeader::parse(&pi.data) else {
            return r;
        };
        if eth.ethertype == ETHERTYPE_LLDP {
            return r;
        }
        if !eth.src.is_multicast() && self.macs.insert(eth.src, in_port) != Some(in_port) {
            r.learned = Some((eth.src, in_port));
        }
        let out = if eth.dst.is_multicast() {
            OFPP_FLOOD
        } else {
            self.macs.get(&eth.dst).copied().unwrap_or(OFPP_FLOOD)
        };
        if out == in_port {
            return r;
        }
        let buffered = pi.buffer_id != OFP_NO_BUFFER;
        let actions = vec![Action::Output {
            port: out,
            max_len: 0,
        }];
        if out != OFPP_FLOOD {
            r.messages.push(Message::FlowMod(FlowMod {
                cookie,
                cookie_mask: 0,
                table_id: LEARNED_TABLE,
                command: OFPFC_ADD,
                idle_timeout,
                hard_timeout: 0,
                priority: LEARNED_PRIORITY,
                // A buffered packet goes out with the new flow's actions.
                buffer_id: pi.buffer_id,
                out_port: OFPP_ANY,
                out_group: OFPG_ANY,
                flags: OFPFF_SEND_FLOW_REM,
                match_: learned_match(in_port, eth.dst, eth.src),
                instructions: vec![Instruction::ApplyActions(actions.clone())],
            }));
            self.flows.insert((in_port, eth.dst, eth.src));
            if buffered {
                return r;
            }
        }
        r.messages.push(Message::PacketOut(PacketOut {
            buffer_id: pi.buffer_id,
            in_port,
            actions,
            data: if buffered {
                Default::default()
            } else {
                pi.data.clone()
            },
        }));
        r
    }

    /// A learned flow left the switch: once no learned flow leads to its
    /// destination any more, the destination is forgotten. Returns the MAC
    /// forgotten, if any.
    pub fn flow_removed(&mut self, fr: &FlowRemoved) -> Option<MacAddr> {
        if fr.priority != LEARNED_PRIORITY || fr.table_id != LEARNED_TABLE {
            return None;
        }
        let t = learned_triple(&fr.match_)?;
        self.flows.remove(&t);
        let dst = t.1;
        if self.flows.iter().any(|(_, d, _)| *d == dst) {
            return None;
        }
        self.macs.remove(&dst).map(|_| dst)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ether::ETHERTYPE_IPV4;
    use super::*;
    use bytes::Bytes;

    const A: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 0xa]);
    const B: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 0xb]);
    const COOKIE: u64 = 0x7466_0000_0000_0001;

    fn pi(in_port: u32, src: MacAddr, dst: MacAddr, buffer_id: u32) -> PacketIn {
        let mut data = Vec::new();
        EthHeader {
            dst,
            src,
            vlan_tci: None,
            ethertype: ETHERTYPE_IPV4,
        }
        .emit(&mut data);
        data.resize(60, 0);
        PacketIn {
            buffer_id,
            total_len: 60,
            match_: Match::new(vec![OxmField::InPort(in_port)]),
            data: Bytes::from(data),
            ..PacketIn::default()
        }
    }

    fn outputs(m: &Message) -> Vec<u32> {
        let acts = match m {
            Message::PacketOut(po) => po.actions.clone(),
            Message::FlowMod(fm) => match &fm.instructions[..] {
                [Instruction::ApplyActions(a)] => a.clone(),
                _ => panic!("{fm:?}"),
            },
            m => panic!("{m:?}"),
        };
        acts.iter()
            .map(|a| match a {
                Action::Output { port, .. } => *port,
                a => panic!("{a:?}"),
            })
            .collect()
    }

    #[test]
    fn unknown_destination_floods_and_learns_the_source() {
        let mut l2 = L2Learning::default();
        let r = l2.packet_in(&pi(1, A, B, OFP_NO_BUFFER), COOKIE, 2);
        assert_eq!(r.learned, Some((A, 1)));
        assert_eq!(r.messages.len(), 1);
        assert_eq!(outputs(&r.messages[0]), vec![OFPP_FLOOD]);
        match &r.messages[0] {
            Message::PacketOut(po) => {
                assert_eq!(po.in_port, 1, "flood leaves the in_port out");
                assert_eq!(po.data.len(), 60, "unbuffered: the packet travels back");
            }
            m => panic!("{m:?}"),
        }
        assert_eq!(l2.port_of(&A), Some(1));
    }

    #[test]
    fn known_destination_gets_a_flow_with_our_cookie_and_idle_timeout_then_the_packet() {
        let mut l2 = L2Learning::default();
        l2.packet_in(&pi(1, A, B, OFP_NO_BUFFER), COOKIE, 2);
        let r = l2.packet_in(&pi(2, B, A, OFP_NO_BUFFER), COOKIE, 2);
        assert_eq!(r.learned, Some((B, 2)));
        let [Message::FlowMod(fm), po @ Message::PacketOut(_)] = &r.messages[..] else {
            panic!("{:?}", r.messages)
        };
        assert_eq!(
            (fm.cookie, fm.idle_timeout, fm.priority, fm.table_id),
            (COOKIE, 2, LEARNED_PRIORITY, LEARNED_TABLE)
        );
        assert_eq!(learned_triple(&fm.match_), Some((2, A, B)));
        assert_ne!(fm.flags & OFPFF_SEND_FLOW_REM, 0);
        assert_eq!(outputs(&r.messages[0]), vec![1]);
        assert_eq!(outputs(po), vec![1]);
        let fs = FlowStats {
            table_id: fm.table_id,
            priority: fm.priority,
            match_: fm.match_.clone(),
            ..FlowStats::default()
        };
        assert!(L2Learning::is_learned(&fs));
    }

    #[test]
    fn buffered_packet_rides_on_the_flow_mod() {
        let mut l2 = L2Learning::default();
        l2.packet_in(&pi(1, A, B, OFP_NO_BUFFER), COOKIE, 2);
        let r = l2.packet_in(&pi(2, B, A, 77), COOKIE, 2);
        let [Message::FlowMod(fm)] = &r.messages[..] else {
            panic!("{:?}", r.messages)
        };
        assert_eq!(fm.buffer_id, 77);
    }

    #[test]
    fn destination_behind_the_in_port_is_dropped() {
        let mut l2 = L2Learning::default();
        l2.packet_in(&pi(1, A, B, OFP_NO_BUFFER), COOKIE, 2);
        let r = l2.packet_in(&pi(1, B, A, OFP_NO_BUFFER), COOKIE, 2);
        assert!(r.messages.is_empty(), "{:?}", r.messages);
    }

    #[test]
    fn removal_of_the_last_flow_to_a_mac_forgets_it() {
        let mut l2 = L2Learning::default();
        l2.packet_in(&pi(1, A, B, OFP_NO_BUFFER), COOKIE, 2);
        l2.packet_in(&pi(2, B, A, OFP_NO_BUFFER), COOKIE, 2); // flow 2,A,B
        l2.packet_in(
            &pi(3, MacAddr([2, 0, 0, 0, 0, 3]), A, OFP_NO_BUFFER),
            COOKIE,
            2,
        );
        let removed = |in_port, dst, src| FlowRemoved {
            priority: LEARNED_PRIORITY,
            table_id: LEARNED_TABLE,
            match_: learned_match(in_port, dst, src),
            ..FlowRemoved::default()
        };
        assert_eq!(
            l2.flow_removed(&removed(2, A, B)),
            None,
            "a flow from port 3 still leads to A"
        );
        assert_eq!(
            l2.flow_removed(&removed(3, A, MacAddr([2, 0, 0, 0, 0, 3]))),
            Some(A)
        );
        assert_eq!(l2.port_of(&A), None);
        assert_eq!(l2.port_of(&B), Some(2), "B is kept");
    }
}
