//! ofproto/trace: the pipeline run on a frame (or on a frame synthesized
//! from a flow key) by the same code the workers use (`exec.rs`), with a
//! sink that only writes down what happens. Nothing is sent, no counter
//! moves, NORMAL looks addresses up without learning, and no PACKET_IN is
//! sent (the output list says `CONTROLLER`).
//!
//! Steps: one per table looked up, with the matched flow in ovs-ofctl text
//! (`priority=100,arp,arp_tpa=10.10.10.12 actions=output:2`) and a note per
//! instruction/action. When the tables are not consulted at all (fail-open,
//! or the ingress port has NO_RECV / PORT_DOWN) there is a single step
//! with table id 0xff (`OFPTT_ALL`) saying why.

use super::exec::{Ctx, Recorder, Sink};
use super::ports::PortMap;
use super::{Datapath, LocalStats, Trace, TraceStep};
use crate::packet::{FlowKey, Frame, Packet};
use crate::pipeline::{clock, FlowEntry};
use crate::port::VnetHdr;
use ofproto::action::Action;
use ofproto::consts::{OFPPC_NO_RECV, OFPPC_PORT_DOWN, OFPTT_ALL};
use ofproto::oxm::*;
use ofproto::text::{
    format_action_list, format_actions, format_match, format_match_with_priority, format_port,
};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

#[derive(Default)]
struct TraceSink {
    steps: Vec<TraceStep>,
    executed: Vec<Action>,
    outputs: Vec<String>,
}

impl Sink for TraceSink {
    const LIVE: bool = false;

    fn output(
        &mut self,
        ports: &PortMap,
        targets: &[u32],
        _frame: &[u8],
        _meta: VnetHdr,
        _copy: bool,
    ) {
        for &t in targets {
            self.outputs
                .push(format_port(ports.list[t as usize].ofport));
        }
    }

    fn table(&mut self, table_id: u8, entry: Option<&Arc<FlowEntry>>) {
        self.steps.push(TraceStep {
            table_id,
            flow: entry.map(|e| format_entry(e)),
            cookie: entry.map_or(0, |e| e.cookie),
            notes: Vec::new(),
        });
    }

    fn note(&mut self, f: impl FnOnce() -> String) {
        match self.steps.last_mut() {
            Some(s) => s.notes.push(f()),
            None => self.steps.push(TraceStep {
                table_id: OFPTT_ALL,
                flow: None,
                cookie: 0,
                notes: vec![f()],
            }),
        }
    }

    fn executed(&mut self, a: &Action) {
        self.executed.push(a.clone());
    }

    fn to_controller(&mut self, _reason: u8) {
        self.outputs.push("CONTROLLER".into());
    }
}

/// A flow entry as ovs-ofctl prints it (without stats and cookie).
pub(crate) fn format_entry(e: &FlowEntry) -> String {
    format!(
        "{} actions={}",
        format_match_with_priority(e.priority, &e.match_),
        format_actions(&e.instructions)
    )
}

pub(crate) fn trace(dp: &Datapath, in_port: u32, frame: &[u8], key: Option<&FlowKey>) -> Trace {
    let snap = dp.snapshot();
    let ports = dp.ports.load_full();
    let mut pkt = Packet::parse(Frame::new(frame), in_port);
    if let Some(k) = key {
        pkt.key.set_metadata(k.metadata());
        pkt.key.set_tunnel_id(k.tunnel_id());
    }
    let key_text = format_key(&pkt.key);
    let mut sink = TraceSink::default();
    let blocked = ports
        .get(in_port)
        .map(|e| e.config.load(Relaxed) & (OFPPC_NO_RECV | OFPPC_PORT_DOWN))
        .unwrap_or(0);
    if blocked != 0 {
        sink.note(|| "ingress port has NO_RECV or PORT_DOWN: dropped on receive".into());
    } else {
        let fail_open = dp.fail_open();
        if fail_open {
            sink.note(|| "fail-open: NORMAL forwarding, flow tables skipped".into());
        }
        let mut stats = LocalStats::default();
        let mut targets = Vec::new();
        let mut cx = Ctx {
            dp,
            ports: &ports,
            snap: &snap,
            now: clock::now(),
            in_port,
            sink: &mut sink,
            stats: &mut stats,
            targets: &mut targets,
            allow_table: false,
        };
        if fail_open {
            cx.normal(&pkt, false);
        } else {
            cx.run_pipeline(&mut pkt, &mut Recorder::default(), 0);
        }
    }
    let mut outputs = sink.outputs;
    if outputs.is_empty() {
        outputs.push("drop".into());
    }
    Trace {
        key: key_text,
        steps: sink.steps,
        final_actions: format_action_list(&sink.executed),
        outputs,
    }
}

/// A basic OXM field holding the key's bytes for `field`.
fn field_of(k: &FlowKey, field: u8) -> Option<OxmField> {
    let v = k.get_field(field);
    let mut tlv = vec![0x80, 0x00, field << 1, v.len() as u8];
    tlv.extend_from_slice(v);
    OxmField::parse(&tlv).ok().map(|(_, f)| f)
}

/// The key's fields as a `Match` (only the fields the packet has, by the
/// OXM prerequisites).
pub(crate) fn key_match(k: &FlowKey) -> Match {
    let mut ids: Vec<u8> = vec![OFPXMT_OFB_IN_PORT];
    if k.metadata() != 0 {
        ids.push(OFPXMT_OFB_METADATA);
    }
    if k.tunnel_id() != 0 {
        ids.push(OFPXMT_OFB_TUNNEL_ID);
    }
    let et = k.eth_type();
    if et != 0 {
        ids.extend([OFPXMT_OFB_ETH_SRC, OFPXMT_OFB_ETH_DST, OFPXMT_OFB_ETH_TYPE]);
        if k.vlan_vid() != 0 {
            ids.extend([OFPXMT_OFB_VLAN_VID, OFPXMT_OFB_VLAN_PCP]);
        }
        let proto = k.ip_proto();
        match et {
            0x0800 | 0x86dd => {
                ids.extend([OFPXMT_OFB_IP_DSCP, OFPXMT_OFB_IP_ECN, OFPXMT_OFB_IP_PROTO]);
                if et == 0x0800 {
                    ids.extend([OFPXMT_OFB_IPV4_SRC, OFPXMT_OFB_IPV4_DST]);
                } else {
                    ids.extend([
                        OFPXMT_OFB_IPV6_SRC,
                        OFPXMT_OFB_IPV6_DST,
                        OFPXMT_OFB_IPV6_FLABEL,
                    ]);
                }
                match (et, proto) {
                    (_, 6) => ids.extend([OFPXMT_OFB_TCP_SRC, OFPXMT_OFB_TCP_DST]),
                    (_, 17) => ids.extend([OFPXMT_OFB_UDP_SRC, OFPXMT_OFB_UDP_DST]),
                    (_, 132) => ids.extend([OFPXMT_OFB_SCTP_SRC, OFPXMT_OFB_SCTP_DST]),
                    (0x0800, 1) => ids.extend([OFPXMT_OFB_ICMPV4_TYPE, OFPXMT_OFB_ICMPV4_CODE]),
                    (0x86dd, 58) => {
                        ids.extend([OFPXMT_OFB_ICMPV6_TYPE, OFPXMT_OFB_ICMPV6_CODE]);
                        match k.get_field(OFPXMT_OFB_ICMPV6_TYPE).first() {
                            Some(135) => {
                                ids.extend([OFPXMT_OFB_IPV6_ND_TARGET, OFPXMT_OFB_IPV6_ND_SLL])
                            }
                            Some(136) => {
                                ids.extend([OFPXMT_OFB_IPV6_ND_TARGET, OFPXMT_OFB_IPV6_ND_TLL])
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            0x0806 => ids.extend([
                OFPXMT_OFB_ARP_OP,
                OFPXMT_OFB_ARP_SPA,
                OFPXMT_OFB_ARP_TPA,
                OFPXMT_OFB_ARP_SHA,
                OFPXMT_OFB_ARP_THA,
            ]),
            0x8847 | 0x8848 => ids.extend([
                OFPXMT_OFB_MPLS_LABEL,
                OFPXMT_OFB_MPLS_TC,
                OFPXMT_OFB_MPLS_BOS,
            ]),
            0x88e7 => ids.push(OFPXMT_OFB_PBB_ISID),
            _ => {}
        }
    }
    Match::new(ids.into_iter().filter_map(|f| field_of(k, f)).collect())
}

/// The key in ovs-ofctl match syntax (`icmp,in_port=1,dl_src=...`).
pub(crate) fn format_key(k: &FlowKey) -> String {
    format_match(&key_match(k))
}

/// A frame whose parse gives `k`'s packet fields: Ethernet (+ one VLAN tag),
/// then ARP, IPv4 or IPv6 (TTL 64) with TCP/UDP/SCTP/ICMP/ICMPv6 (+ ND
/// target and link-layer option), an MPLS label, or a PBB I-TAG; padded
/// to 60 bytes. Checksums are left zero (nothing checks them here).
pub(crate) fn frame_from_key(k: &FlowKey) -> Vec<u8> {
    let g = |f: u8| k.get_field(f).to_vec();
    let mut f = Vec::with_capacity(128);
    f.extend(g(OFPXMT_OFB_ETH_DST));
    f.extend(g(OFPXMT_OFB_ETH_SRC));
    let vid = k.vlan_vid();
    if vid & OFPVID_PRESENT != 0 {
        let tci = (u16::from(k.vlan_pcp() & 7) << 13) | (vid & 0x0fff);
        f.extend([0x81, 0x00]);
        f.extend(tci.to_be_bytes());
    }
    let et = k.eth_type();
    f.extend(et.to_be_bytes());
    let tos = (k.get_field(OFPXMT_OFB_IP_DSCP)[0] << 2) | (k.get_field(OFPXMT_OFB_IP_ECN)[0] & 3);
    let proto = k.ip_proto();
    match et {
        0x0806 => {
            f.extend([0, 1, 0x08, 0x00, 6, 4]);
            f.extend(g(OFPXMT_OFB_ARP_OP));
            f.extend(g(OFPXMT_OFB_ARP_SHA));
            f.extend(g(OFPXMT_OFB_ARP_SPA));
            f.extend(g(OFPXMT_OFB_ARP_THA));
            f.extend(g(OFPXMT_OFB_ARP_TPA));
        }
        0x0800 => {
            let l4 = l4_bytes(k, proto, false);
            let total = (20 + l4.len()) as u16;
            f.extend([0x45, tos]);
            f.extend(total.to_be_bytes());
            f.extend([0, 0, 0, 0, 64, proto, 0, 0]);
            f.extend(g(OFPXMT_OFB_IPV4_SRC));
            f.extend(g(OFPXMT_OFB_IPV4_DST));
            f.extend(l4);
        }
        0x86dd => {
            let l4 = l4_bytes(k, proto, true);
            let fl = u32::from_be_bytes(
                k.get_field(OFPXMT_OFB_IPV6_FLABEL)
                    .try_into()
                    .unwrap_or([0; 4]),
            );
            let w = (6u32 << 28) | (u32::from(tos) << 20) | (fl & 0x000f_ffff);
            f.extend(w.to_be_bytes());
            f.extend((l4.len() as u16).to_be_bytes());
            f.extend([proto, 64]);
            f.extend(g(OFPXMT_OFB_IPV6_SRC));
            f.extend(g(OFPXMT_OFB_IPV6_DST));
            f.extend(l4);
        }
        0x8847 | 0x8848 => {
            let label = u32::from_be_bytes(
                k.get_field(OFPXMT_OFB_MPLS_LABEL)
                    .try_into()
                    .unwrap_or([0; 4]),
            );
            let tc = u32::from(k.get_field(OFPXMT_OFB_MPLS_TC)[0] & 7);
            let lse = (label << 12) | (tc << 9) | (1 << 8) | 64;
            f.extend(lse.to_be_bytes());
        }
        0x88e7 => {
            f.push(0);
            f.extend(g(OFPXMT_OFB_PBB_ISID));
            f.extend(g(OFPXMT_OFB_ETH_DST));
            f.extend(g(OFPXMT_OFB_ETH_SRC));
            f.extend([0x08, 0x00]);
        }
        _ => {}
    }
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

fn l4_bytes(k: &FlowKey, proto: u8, v6: bool) -> Vec<u8> {
    let g = |f: u8| k.get_field(f).to_vec();
    let mut l = Vec::new();
    match proto {
        6 => {
            l.extend(g(OFPXMT_OFB_TCP_SRC));
            l.extend(g(OFPXMT_OFB_TCP_DST));
            l.extend([0; 8]);
            l.extend([0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        }
        17 => {
            l.extend(g(OFPXMT_OFB_UDP_SRC));
            l.extend(g(OFPXMT_OFB_UDP_DST));
            l.extend(8u16.to_be_bytes());
            l.extend([0, 0]);
        }
        132 => {
            l.extend(g(OFPXMT_OFB_SCTP_SRC));
            l.extend(g(OFPXMT_OFB_SCTP_DST));
            l.extend([0; 8]);
        }
        1 if !v6 => {
            l.extend(g(OFPXMT_OFB_ICMPV4_TYPE));
            l.extend(g(OFPXMT_OFB_ICMPV4_CODE));
            l.extend([0; 6]);
        }
        58 if v6 => {
            let t = k.get_field(OFPXMT_OFB_ICMPV6_TYPE)[0];
            l.push(t);
            l.extend(g(OFPXMT_OFB_ICMPV6_CODE));
            l.extend([0; 6]);
            if t == 135 || t == 136 {
                l.extend(g(OFPXMT_OFB_IPV6_ND_TARGET));
                let (opt, field) = if t == 135 {
                    (1, OFPXMT_OFB_IPV6_ND_SLL)
                } else {
                    (2, OFPXMT_OFB_IPV6_ND_TLL)
                };
                let ll = g(field);
                if ll.iter().any(|&b| b != 0) {
                    l.extend([opt, 1]);
                    l.extend(ll);
                }
            }
        }
        _ => {}
    }
    l
}
