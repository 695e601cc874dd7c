//! Executing groups (OF1.3.5 §5.6.1) and meters (§5.7) on a packet.
//!
//! Both are resolved when their op executes — from the snapshot the worker
//! loaded for the batch, with port liveness read from the port map's
//! atomics — on the slow path and on every cache hit alike. A cached
//! verdict holds `Op::Group(id)` / `Op::Meter(id)`, never a chosen bucket or
//! a meter's verdict, so nothing stale can be replayed: a PORT_STATUS (link
//! down, PORT_MOD down) moves fast-failover and select traffic with the
//! very next frame, with no generation bump or cache flush.
//!
//! ## Groups
//! - **all**: every bucket; **indirect**: its one bucket;
//! - **select**: one live bucket, chosen by weighted rendezvous hashing of
//!   the packet's flow hash ([`flow_hash`]: IP addresses, protocol and L4
//!   ports for IP, Ethernet addresses, type and VLAN otherwise), so one flow
//!   always takes one bucket, buckets get flows in proportion to their
//!   weights, and when a bucket dies only its own flows move. Buckets of
//!   weight 0 get nothing while a live bucket of non-zero weight exists;
//!   if none has weight, the last live bucket takes all (as OVS's default
//!   selection method does);
//! - **fast failover**: the first live bucket.
//!
//! Liveness: a bucket is live when its watch_port (if any) exists, is not
//! `OFPPC_PORT_DOWN` and has no `OFPPS_LINK_DOWN`, and its watch_group (if
//! any) is live — has a live bucket — checked up to [`MAX_CHAIN_DEPTH`].
//!
//! Every bucket acts on a clone of the packet (as OVS does): a bucket that
//! changes the packet works on a copy (offload metadata included), one that
//! only outputs sends the packet itself (copied only if something after
//! the group changes it — the op's `copy`). What follows the group sees the
//! packet unchanged. A bucket whose dec_ttl finds TTL ≤ 1 ends that bucket
//! only. PACKET_INs from buckets carry the flow's table and cookie and
//! reason `OFPR_ACTION` (OF1.3 has no `OFPR_GROUP`).
//!
//! Counters: per group and per bucket, one relaxed atomic add each per
//! packet, on cache lines of their own.

use super::exec::{compile, Buf, Ctx, Op, Origin, Sink, Step};
use crate::packet::{FieldBytes, Frame, FrameBuf, Packet, L3};
use crate::pipeline::groups::{Group, GroupsSnapshot, MAX_CHAIN_DEPTH};
use crate::pipeline::meters::{remark_dscp, BandAction};
use crate::port::VnetHdr;
use ofproto::consts::*;
use ofproto::oxm::*;
use std::sync::atomic::Ordering::Relaxed;

/// A copy of a frame for a bucket that changes it, keeping the frame's
/// offload state (a partial checksum must still be completed on send).
pub(crate) struct CloneBuf {
    frame: Frame,
    offload: VnetHdr,
}

impl FrameBuf for CloneBuf {
    #[inline]
    fn data(&self) -> &[u8] {
        self.frame.data()
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        self.frame.data_mut()
    }
    #[inline]
    fn grow_front(&mut self, n: usize) -> bool {
        self.frame.grow_front(n)
    }
    #[inline]
    fn shrink_front(&mut self, n: usize) {
        self.frame.shrink_front(n)
    }
    #[inline]
    fn partial_csum_at(&self) -> Option<usize> {
        let o = &self.offload;
        o.needs_csum()
            .then(|| usize::from(o.csum_start) + usize::from(o.csum_offset))
    }
    #[inline]
    fn headers_moved(&mut self, _at: usize, delta: isize) {
        self.offload.shift(delta as i16 as u16);
    }
}

impl Buf for CloneBuf {
    #[inline]
    fn vnet(&self) -> VnetHdr {
        self.offload
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let p = u128::from(a ^ 0x9e37_79b9_7f4a_7c15) * u128::from(b | 1);
    (p as u64) ^ ((p >> 64) as u64)
}

/// SplitMix64's finalizer: every input bit affects every output bit.
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The flow hash select groups choose by: IPv4/IPv6 source and destination,
/// IP protocol and TCP/UDP/SCTP ports for IP packets; Ethernet source and
/// destination, EtherType and VLAN otherwise. The same on every worker and
/// every run (no random seed: a flow's bucket must not depend on which
/// worker reads it).
pub(crate) fn flow_hash(key: &crate::packet::FlowKey, l3: L3) -> u64 {
    let mut h: u64 = 0x5bd1_e995;
    let mut eat = |bytes: &[u8]| {
        for c in bytes.chunks(8) {
            let mut a = [0u8; 8];
            a[..c.len()].copy_from_slice(c);
            h = mix(h ^ u64::from_le_bytes(a), 0xff51_afd7_ed55_8ccd);
        }
    };
    match l3 {
        L3::Ipv4 | L3::Ipv6 => {
            let (src, dst) = if l3 == L3::Ipv4 {
                (OFPXMT_OFB_IPV4_SRC, OFPXMT_OFB_IPV4_DST)
            } else {
                (OFPXMT_OFB_IPV6_SRC, OFPXMT_OFB_IPV6_DST)
            };
            eat(key.get_field(src));
            eat(key.get_field(dst));
            let proto = key.ip_proto();
            eat(&[proto]);
            let ports = match proto {
                6 => Some((OFPXMT_OFB_TCP_SRC, OFPXMT_OFB_TCP_DST)),
                17 => Some((OFPXMT_OFB_UDP_SRC, OFPXMT_OFB_UDP_DST)),
                132 => Some((OFPXMT_OFB_SCTP_SRC, OFPXMT_OFB_SCTP_DST)),
                _ => None,
            };
            if let Some((s, d)) = ports {
                eat(key.get_field(s));
                eat(key.get_field(d));
            }
        }
        _ => {
            eat(key.get_field(OFPXMT_OFB_ETH_SRC));
            eat(key.get_field(OFPXMT_OFB_ETH_DST));
            eat(&key.eth_type().to_be_bytes());
            eat(&key.vlan_vid().to_be_bytes());
        }
    }
    h
}

/// Weighted rendezvous choice among `candidates` (index, weight): the
/// highest `weight / -ln(u)` with `u` uniform in (0,1) from the hash of the
/// flow and the bucket's index. Weight-0 candidates only when all are 0
/// (then the last one, as OVS).
pub(crate) fn select_bucket(
    hash: u64,
    candidates: impl Iterator<Item = (usize, u16)>,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    let mut last_zero = None;
    for (i, w) in candidates {
        if w == 0 {
            last_zero = Some(i);
            continue;
        }
        let r = splitmix(hash ^ (i as u64 + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f));
        // 53 random bits, never 0 (ln(0) = -inf).
        let u = ((r >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let score = f64::from(w) / -u.ln();
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i).or(last_zero)
}

/// What a group execution needs to know about ports and groups.
pub(crate) trait Liveness {
    /// Port `p` exists, is not administratively down and has link.
    fn port_live(&self, p: u32) -> bool;
    fn group(&self, id: u32) -> Option<&Group>;
}

/// Whether bucket `b` of a group is live (its watches allow it).
pub(crate) fn bucket_live(
    l: &impl Liveness,
    b: &crate::pipeline::groups::GroupBucket,
    depth: u32,
) -> bool {
    (b.watch_port == OFPP_ANY || l.port_live(b.watch_port))
        && (b.watch_group == OFPG_ANY || group_live(l, b.watch_group, depth + 1))
}

/// A group is live when one of its buckets is.
pub(crate) fn group_live(l: &impl Liveness, id: u32, depth: u32) -> bool {
    if depth > MAX_CHAIN_DEPTH {
        return false;
    }
    l.group(id)
        .is_some_and(|g| g.buckets.iter().any(|b| bucket_live(l, b, depth)))
}

/// The buckets a packet goes through (no allocation: the hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// Buckets `0..n` (all, indirect).
    Every(usize),
    /// One bucket, or none live (select, fast failover).
    One(Option<usize>),
}

impl Chosen {
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let (range, one) = match self {
            Chosen::Every(n) => (0..n, None),
            Chosen::One(o) => (0..0, o),
        };
        range.chain(one)
    }
}

/// The buckets a packet with flow hash `hash` goes through.
pub(crate) fn choose_buckets(l: &impl Liveness, g: &Group, hash: impl FnOnce() -> u64) -> Chosen {
    match g.group_type {
        OFPGT_ALL | OFPGT_INDIRECT => Chosen::Every(g.buckets.len()),
        OFPGT_FF => Chosen::One(g.buckets.iter().position(|b| bucket_live(l, b, 0))),
        OFPGT_SELECT => {
            let live = g
                .buckets
                .iter()
                .enumerate()
                .filter(|(_, b)| bucket_live(l, b, 0))
                .map(|(i, b)| (i, b.weight));
            Chosen::One(select_bucket(hash(), live))
        }
        _ => Chosen::One(None),
    }
}

struct Live<'a> {
    ports: &'a super::ports::PortMap,
    groups: &'a GroupsSnapshot,
}

impl Liveness for Live<'_> {
    fn port_live(&self, p: u32) -> bool {
        self.ports.get(p).is_some_and(|e| {
            e.config.load(Relaxed) & OFPPC_PORT_DOWN == 0
                && e.state.load(Relaxed) & OFPPS_LINK_DOWN == 0
        })
    }

    fn group(&self, id: u32) -> Option<&Group> {
        self.groups.get(id).map(|g| &**g)
    }
}

fn type_name(t: u8) -> &'static str {
    match t {
        OFPGT_ALL => "all",
        OFPGT_SELECT => "select",
        OFPGT_INDIRECT => "indirect",
        OFPGT_FF => "fast_failover",
        _ => "?",
    }
}

impl<S: Sink> Ctx<'_, S> {
    /// Runs group `id` on `pkt` (see the module doc); `depth` counts
    /// enclosing groups.
    pub(crate) fn exec_group<B: Buf>(
        &mut self,
        pkt: &mut Packet<B>,
        id: u32,
        copy: bool,
        origin: &Origin,
        depth: u32,
    ) {
        let snap = self.snap;
        let Some(g) = snap.groups().get(id) else {
            self.stats.group_dropped += 1;
            self.sink
                .note(|| format!("group:{id}: no such group: dropped"));
            return;
        };
        if depth >= MAX_CHAIN_DEPTH {
            self.stats.group_dropped += 1;
            self.sink.note(|| {
                format!("group:{id}: groups nested deeper than {MAX_CHAIN_DEPTH}: dropped")
            });
            return;
        }
        let bytes = pkt.frame.data().len() as u64;
        if S::LIVE {
            g.counters.record(1, bytes);
        }
        let live = Live {
            ports: self.ports,
            groups: snap.groups(),
        };
        let chosen = choose_buckets(&live, g, || flow_hash(&pkt.key, pkt.info.l3));
        let n = g.buckets.len();
        let ty = type_name(g.group_type);
        if chosen.iter().next().is_none() {
            self.sink
                .note(|| format!("group:{id} ({ty}): no live bucket: dropped"));
            return;
        }
        for i in chosen.iter() {
            let b = &g.buckets[i];
            if S::LIVE {
                b.counters.record(1, bytes);
            }
            self.sink.note(|| {
                format!(
                    "group:{id} ({ty}): bucket {i} of {n}: {}",
                    ofproto::text::format_action_list(&b.actions)
                )
            });
            if b.mutates {
                let mut clone = Packet {
                    frame: CloneBuf {
                        frame: Frame::new(pkt.frame.data()),
                        offload: pkt.frame.vnet(),
                    },
                    key: pkt.key,
                    info: pkt.info,
                };
                // A copy: every output from it is a copy too.
                self.exec_bucket(&mut clone, &b.actions, true, origin, depth);
            } else {
                self.exec_bucket(pkt, &b.actions, copy, origin, depth);
            }
        }
    }

    fn exec_bucket<B: Buf>(
        &mut self,
        pkt: &mut Packet<B>,
        actions: &[ofproto::action::Action],
        copy: bool,
        origin: &Origin,
        depth: u32,
    ) {
        for a in actions {
            let step = match compile(a, origin) {
                Op::Output { port, .. } => self.exec_op(pkt, &Op::Output { port, copy }),
                Op::Normal { .. } => self.exec_op(pkt, &Op::Normal { copy }),
                Op::Group { id, .. } => {
                    self.exec_group(pkt, id, copy, origin, depth + 1);
                    Step::Continue
                }
                op => self.exec_op(pkt, &op),
            };
            if step == Step::Stop {
                return;
            }
        }
    }

    /// The meter instruction: the band that applies, if any (module doc of
    /// `crate::pipeline::meters`). A meter that does not exist lets the
    /// packet through (the flow goes when its meter does).
    pub(crate) fn exec_meter<B: Buf>(&mut self, pkt: &mut Packet<B>, id: u32) -> Step {
        let Some(m) = self.snap.meters().get(id) else {
            self.sink
                .note(|| format!("meter:{id}: no such meter: ignored"));
            return Step::Continue;
        };
        let bytes = pkt.frame.data().len() as u64;
        match m
            .meter(bytes, self.now, S::LIVE)
            .map(|b| (b.action, b.rate))
        {
            None => {
                self.sink.note(|| format!("meter:{id}: within every band"));
                Step::Continue
            }
            Some((BandAction::Drop, rate)) => {
                self.stats.meter_dropped += 1;
                self.sink
                    .note(|| format!("meter:{id}: over the drop band's rate {rate}: drop"));
                Step::Stop
            }
            Some((BandAction::DscpRemark(levels), rate)) => {
                if matches!(pkt.info.l3, L3::Ipv4 | L3::Ipv6) {
                    let old = pkt
                        .key
                        .get_field(OFPXMT_OFB_IP_DSCP)
                        .first()
                        .copied()
                        .unwrap_or(0);
                    let new = remark_dscp(old, levels);
                    if let Some(fb) = FieldBytes::of(&OxmField::IpDscp(new)) {
                        let _ = pkt.set_field_bytes(&fb);
                    }
                    self.sink.note(|| {
                        format!("meter:{id}: over the dscp_remark band's rate {rate}: dscp {old} -> {new}")
                    });
                } else {
                    self.sink
                        .note(|| format!("meter:{id}: over the dscp_remark band's rate {rate}: not IP, unchanged"));
                }
                Step::Continue
            }
        }
    }
}

#[cfg(test)]
mod tests;
