//! Pipeline execution (OF1.3.5 §5): tables, instructions, the action set,
//! outputs, PACKET_IN, and the recording of what happened as a list of
//! [`Op`]s for the flow cache.
//!
//! The slow path ([`Ctx::run_pipeline`]) walks the tables on a real packet:
//! per table a lookup (table counters), on a hit the entry's counters and
//! its instructions in the spec's order (meter, apply_actions,
//! clear_actions, write_actions, write_metadata, goto_table). Every packet
//! operation it performs is first compiled into an [`Op`], executed with
//! [`Ctx::exec_op`] and appended to a [`Recorder`]. A cache hit replays
//! the same `Op`s through the same `exec_op`, so the cached and uncached
//! paths cannot drift apart.
//!
//! Choices worth knowing:
//! - **Table miss** without a table-miss entry: `TableMiss::Drop` drops
//!   (counted), `TableMiss::Controller` sends PACKET_IN `OFPR_NO_MATCH`
//!   with the table id, cookie `0xffff_ffff_ffff_ffff` and `miss_send_len`
//!   bytes. Read at execution time, so changing the mode needs no flush.
//! - **output:CONTROLLER** from a table-miss entry (priority 0, matching
//!   everything) gives reason `OFPR_NO_MATCH`, as OF1.3 defines
//!   ("no matching flow (table-miss flow entry)"); otherwise `OFPR_ACTION`.
//!   A port with `OFPPC_NO_PACKET_IN` sends none (counted).
//! - **Outputs**: a packet never leaves through its ingress port except by
//!   `IN_PORT`. `NO_FWD`, `PORT_DOWN` and link down stop *every* output to
//!   a port — port N, `IN_PORT`, `ALL`, `FLOOD`, `NORMAL` — since NO_FWD
//!   means "drop packets forwarded to port" (as OVS does). `FLOOD` would
//!   also skip ports OFPPS_BLOCKED by a spanning tree; there is none, so
//!   `FLOOD` = `ALL` = every port but the ingress that can forward.
//!   Output to a port that does not exist is a silent drop.
//! - **dec_ttl** on TTL ≤ 1: processing of the packet stops (outputs
//!   already made stay made); PACKET_IN `OFPR_INVALID_TTL` only if the
//!   controller asked ([`Datapath::set_invalid_ttl_to_controller`]; OF1.3
//!   moved this from a switch config flag to the async config, so the
//!   bridge maps whichever it gets), otherwise dropped and counted.
//! - **Groups** (`group_exec.rs`) are resolved when the op executes, from
//!   the snapshot's group table, also on cache hits: a verdict holds
//!   `Op::Group(id)`, never a bucket choice, so port liveness and group
//!   changes act on the next packet without a cache flush. A group that
//!   does not exist (it cannot, once FLOW_MOD checks it; be safe) drops
//!   that copy and counts it (`group_dropped`). In the action set a group
//!   supersedes output (spec).
//! - **Meters** (`Op::Meter`, first in a flow's instructions) run per
//!   packet, on cache hits too: a drop band stops the packet
//!   (`meter_dropped`), a dscp_remark band rewrites the DSCP.
//! - **set_queue** (`queues.rs`) is folded into the outputs after it when
//!   the pipeline runs: `Op::QueuedOutput` carries the queue, so cache hits
//!   shape too. It holds for the rest of the pipeline (later tables' apply
//!   actions and the action set). Group buckets and PACKET_OUT send on the
//!   default queue.
//! - A push that finds no headroom (128 bytes: 32 VLAN tags' worth) stops
//!   processing the packet and counts it (`headroom_dropped`).
//!
//! [`Datapath::set_invalid_ttl_to_controller`]: super::Datapath::set_invalid_ttl_to_controller

use super::cache::Verdict;
use super::normal::is_multicast;
use super::ports::{PortEntry, PortMap};
use super::{Datapath, LocalStats, PacketInEvent};
use crate::config::TableMiss;
use crate::packet::{FieldBytes, Frame, FrameBuf, Packet, RewriteOutcome};
use crate::pipeline::{FlowEntry, Nanos, PipelineSnapshot};
use crate::port::{complete_checksum, PacketBuf, TxFrame, TxMeta, VnetHdr};
use bytes::Bytes;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::instruction::Instruction;
use ofproto::oxm::{
    OxmField, OFPXMT_OFB_ETH_TYPE, OFPXMT_OFB_ICMPV6_CODE, OFPXMT_OFB_ICMPV6_TYPE,
    OFPXMT_OFB_IP_PROTO, OFPXMT_OFB_MPLS_BOS,
};
use ofproto::text::format_action;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// One packet operation, as executed and as cached.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// set_field, prebuilt.
    SetField(FieldBytes),
    /// push/pop, set/copy TTL: `Packet::apply`.
    Rewrite(Action),
    /// dec_nw_ttl / dec_mpls_ttl, with the flow that asked (for an
    /// `OFPR_INVALID_TTL` PACKET_IN).
    DecTtl {
        mpls: bool,
        table_id: u8,
        cookie: u64,
    },
    WriteMetadata {
        value: u64,
        mask: u64,
    },
    /// A port number, `IN_PORT`, `ALL`, `FLOOD` or `LOCAL`. `copy`: the
    /// packet changes after this output, so the output must be a copy
    /// (otherwise a worker sends the receive buffer itself).
    Output {
        port: u32,
        copy: bool,
    },
    /// An output after set_queue (queue ≠ 0): as `Output`, through the
    /// target port's queue `queue` if it has one.
    QueuedOutput {
        port: u32,
        queue: u32,
        copy: bool,
    },
    Normal {
        copy: bool,
    },
    Controller {
        reason: u8,
        table_id: u8,
        cookie: u64,
        max_len: u16,
    },
    /// No entry matched in `table_id` and there is no table-miss entry.
    Miss {
        table_id: u8,
    },
    /// A group action, with the flow that ran it (for PACKET_INs from its
    /// buckets). `copy` as for `Output`: buckets that only output send the
    /// packet itself unless something after the group changes it.
    Group {
        id: u32,
        copy: bool,
        table_id: u8,
        cookie: u64,
    },
    /// The meter instruction.
    Meter(u32),
    /// `output:TABLE` (PACKET_OUT only).
    Table,
    Nop,
}

impl Op {
    fn mutates(&self) -> bool {
        // A meter may remark the DSCP (buckets of a group work on copies).
        matches!(
            self,
            Op::SetField(_) | Op::Rewrite(_) | Op::DecTtl { .. } | Op::Meter(_)
        )
    }
}

/// Whether execution of the packet goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    Stop,
}

/// A frame buffer the executor can send from.
pub(crate) trait Buf: FrameBuf {
    /// The frame's offload state (for the vnet header on transmit).
    fn vnet(&self) -> VnetHdr;
}

impl Buf for &mut PacketBuf {
    #[inline]
    fn vnet(&self) -> VnetHdr {
        self.offload
    }
}

impl Buf for Frame {
    #[inline]
    fn vnet(&self) -> VnetHdr {
        VnetHdr::NONE
    }
}

/// Where outputs go, and (for traces) what is worth writing down.
pub(crate) trait Sink {
    /// False for traces: no counters, no learning, no PACKET_IN, no sends.
    const LIVE: bool;

    /// Sends `frame` to the ports at `targets` (indices into `ports`),
    /// already filtered (ingress, config, link). `copy`: the caller will
    /// change the frame afterwards.
    fn output(&mut self, ports: &PortMap, targets: &[u32], frame: &[u8], meta: VnetHdr, copy: bool);

    /// A table was looked up.
    fn table(&mut self, _table_id: u8, _entry: Option<&Arc<FlowEntry>>) {}
    fn note(&mut self, _f: impl FnOnce() -> String) {}
    /// An action was executed (apply_actions or the action set).
    fn executed(&mut self, _a: &Action) {}
    /// A PACKET_IN would be sent (dry runs only).
    fn to_controller(&mut self, _reason: u8) {}
}

/// Sends at once, from the calling thread (PACKET_OUT).
pub(crate) struct DirectSink;

impl Sink for DirectSink {
    const LIVE: bool = true;
    fn output(
        &mut self,
        ports: &PortMap,
        targets: &[u32],
        frame: &[u8],
        meta: VnetHdr,
        _copy: bool,
    ) {
        for &i in targets {
            let e = &ports.list[i as usize];
            if gso_fits(e, &meta) {
                e.transmit(&[TxFrame {
                    data: frame,
                    meta: TxMeta { offload: meta },
                }]);
            } else {
                transmit_segmented(e, frame, &meta, &mut Vec::new());
            }
        }
    }
}

/// Whether `e` can take a frame with this offload state whole: not a GSO
/// frame, or a port with the matching segmentation offload. Partial
/// checksums are fine everywhere: `Port::send` completes them for ports
/// without checksum offload.
#[inline]
pub(crate) fn gso_fits(e: &PortEntry, meta: &VnetHdr) -> bool {
    if !meta.is_gso() {
        return true;
    }
    let gso_only = VnetHdr {
        flags: meta.flags & !VnetHdr::F_NEEDS_CSUM,
        ..*meta
    };
    e.offloads.accepts(&gso_only)
}

/// Sends a GSO frame that `e` cannot take whole as the segments software
/// segmentation makes of it ([`super::gso`]); one it cannot segment (UFO,
/// headers it doesn't know) is dropped and counted as `tx_dropped`.
#[cold]
pub(crate) fn transmit_segmented(e: &PortEntry, frame: &[u8], meta: &VnetHdr, buf: &mut Vec<u8>) {
    let r = super::gso::segment(frame, meta, buf, |seg| {
        e.transmit(&[TxFrame {
            data: seg,
            meta: TxMeta::PLAIN,
        }]);
    });
    if r.is_err() {
        e.tx.dropped.fetch_add(1, Relaxed);
    }
}

/// Which flow an action came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub table_id: u8,
    pub cookie: u64,
    /// The entry is a table-miss entry (priority 0, wildcards everything).
    pub miss_entry: bool,
}

impl Origin {
    /// Actions of a PACKET_OUT: no table, no flow.
    pub const PACKET_OUT: Origin = Origin {
        table_id: 0,
        cookie: u64::MAX,
        miss_entry: false,
    };

    fn of(e: &FlowEntry) -> Origin {
        Origin {
            table_id: e.table_id,
            cookie: e.cookie,
            miss_entry: e.is_table_miss(),
        }
    }
}

/// Compiles one action into the operation that executes it.
pub(crate) fn compile(a: &Action, o: &Origin) -> Op {
    match a {
        Action::Output { port, max_len } => match *port {
            OFPP_CONTROLLER => Op::Controller {
                reason: if o.miss_entry {
                    OFPR_NO_MATCH
                } else {
                    OFPR_ACTION
                },
                table_id: o.table_id,
                cookie: o.cookie,
                max_len: *max_len,
            },
            OFPP_NORMAL => Op::Normal { copy: true },
            OFPP_TABLE => Op::Table,
            OFPP_ANY => Op::Nop,
            p => Op::Output {
                port: p,
                copy: true,
            },
        },
        Action::SetField(f) => FieldBytes::of(f).map_or(Op::Nop, Op::SetField),
        Action::DecNwTtl => Op::DecTtl {
            mpls: false,
            table_id: o.table_id,
            cookie: o.cookie,
        },
        Action::DecMplsTtl => Op::DecTtl {
            mpls: true,
            table_id: o.table_id,
            cookie: o.cookie,
        },
        Action::Group(g) => Op::Group {
            id: *g,
            copy: true,
            table_id: o.table_id,
            cookie: o.cookie,
        },
        Action::SetQueue(_) | Action::Experimenter { .. } => Op::Nop,
        other => Op::Rewrite(other.clone()),
    }
}

/// [`compile`] for the pipeline, where set_queue sets `queue` for the
/// outputs after it (and is itself no operation on the packet).
fn compile_queued(a: &Action, o: &Origin, queue: &mut u32) -> Op {
    match (a, compile(a, o)) {
        (Action::SetQueue(q), _) => {
            *queue = *q;
            Op::Nop
        }
        (_, Op::Output { port, copy }) if *queue != 0 => Op::QueuedOutput {
            port,
            queue: *queue,
            copy,
        },
        (_, op) => op,
    }
}

/// Whether executing `op` on a packet with `n_vlans` tags makes the key
/// depend on bytes the key before it did not hold (so a later table lookup
/// could differ between packets with equal keys).
fn taints(op: &Op, n_vlans: u32) -> bool {
    match op {
        Op::Rewrite(Action::PopVlan) => n_vlans >= 2,
        Op::Rewrite(Action::PopMpls(_) | Action::PushPbb(_) | Action::PopPbb) => true,
        Op::SetField(fb) => matches!(
            fb.field,
            OFPXMT_OFB_ETH_TYPE
                | OFPXMT_OFB_IP_PROTO
                | OFPXMT_OFB_MPLS_BOS
                | OFPXMT_OFB_ICMPV6_TYPE
                | OFPXMT_OFB_ICMPV6_CODE
        ),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Action set
// ---------------------------------------------------------------------------

/// Slots of the action set in execution order (OF1.3.5 §5.10); set_field
/// actions run between `DEC_NW_TTL` and `SET_MPLS_TTL`.
const S_COPY_TTL_IN: usize = 0;
const S_POP_VLAN: usize = 1;
const S_POP_MPLS: usize = 2;
const S_POP_PBB: usize = 3;
const S_PUSH_MPLS: usize = 4;
const S_PUSH_PBB: usize = 5;
const S_PUSH_VLAN: usize = 6;
const S_COPY_TTL_OUT: usize = 7;
const S_DEC_MPLS_TTL: usize = 8;
const S_DEC_NW_TTL: usize = 9;
/// First slot after the set_fields.
const S_SET_MPLS_TTL: usize = 10;
const S_SET_NW_TTL: usize = 11;
const S_SET_QUEUE: usize = 12;
const S_GROUP: usize = 13;
const S_OUTPUT: usize = 14;
const N_SLOTS: usize = 15;

/// The action set: at most one action of each type, one set_field per
/// field, executed in the spec's order at the end of the pipeline:
/// copy_ttl_in, pops (vlan, mpls, pbb), push_mpls, push_pbb, push_vlan,
/// copy_ttl_out, dec_ttl (mpls, nw), set_field (in the order first
/// written), set_mpls_ttl, set_nw_ttl, set_queue, group, output — output
/// only when there is no group.
#[derive(Default, Clone, Debug)]
pub(crate) struct ActionSet {
    slots: [Option<Action>; N_SLOTS],
    set_fields: Vec<Action>,
}

fn slot_of(a: &Action) -> Option<usize> {
    Some(match a {
        Action::CopyTtlIn => S_COPY_TTL_IN,
        Action::PopVlan => S_POP_VLAN,
        Action::PopMpls(_) => S_POP_MPLS,
        Action::PopPbb => S_POP_PBB,
        Action::PushMpls(_) => S_PUSH_MPLS,
        Action::PushPbb(_) => S_PUSH_PBB,
        Action::PushVlan(_) => S_PUSH_VLAN,
        Action::CopyTtlOut => S_COPY_TTL_OUT,
        Action::DecMplsTtl => S_DEC_MPLS_TTL,
        Action::DecNwTtl => S_DEC_NW_TTL,
        Action::SetMplsTtl(_) => S_SET_MPLS_TTL,
        Action::SetNwTtl(_) => S_SET_NW_TTL,
        Action::SetQueue(_) => S_SET_QUEUE,
        Action::Group(_) => S_GROUP,
        Action::Output { .. } => S_OUTPUT,
        Action::SetField(_) | Action::Experimenter { .. } => return None,
    })
}

fn same_field(a: &OxmField, b: &OxmField) -> bool {
    a.class() == b.class() && a.field() == b.field()
}

impl ActionSet {
    pub fn clear(&mut self) {
        self.slots = Default::default();
        self.set_fields.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none) && self.set_fields.is_empty()
    }

    /// write_actions: merges `list` in (a later action of a type replaces
    /// the earlier one). Experimenter actions are not kept.
    pub fn write(&mut self, list: &[Action]) {
        for a in list {
            match (slot_of(a), a) {
                (Some(i), _) => self.slots[i] = Some(a.clone()),
                (None, Action::SetField(f)) => {
                    match self
                        .set_fields
                        .iter_mut()
                        .find(|x| matches!(x, Action::SetField(g) if same_field(f, g)))
                    {
                        Some(x) => *x = a.clone(),
                        None => self.set_fields.push(a.clone()),
                    }
                }
                _ => {}
            }
        }
    }

    /// The actions in execution order.
    pub fn ordered(&self) -> Vec<Action> {
        let mut out = Vec::new();
        out.extend(self.slots[..S_SET_MPLS_TTL].iter().flatten().cloned());
        out.extend(self.set_fields.iter().cloned());
        out.extend(
            self.slots[S_SET_MPLS_TTL..S_OUTPUT]
                .iter()
                .flatten()
                .cloned(),
        );
        if self.slots[S_GROUP].is_none() {
            out.extend(self.slots[S_OUTPUT].iter().cloned());
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------

/// What the slow path did, for the cache.
pub(crate) struct Recorder {
    pub ops: Vec<Op>,
    pub flows: Vec<Arc<FlowEntry>>,
    pub tables: Vec<(u8, bool)>,
    /// Replaying `ops` on a packet with the same cache key is exact.
    pub cacheable: bool,
    /// A rewrite made the key depend on bytes outside the original key.
    tainted: bool,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            ops: Vec::new(),
            flows: Vec::new(),
            tables: Vec::new(),
            cacheable: true,
            tainted: false,
        }
    }
}

impl Recorder {
    pub fn reset(&mut self) {
        self.ops.clear();
        self.flows.clear();
        self.tables.clear();
        self.cacheable = true;
        self.tainted = false;
    }

    /// The verdict to cache: the ops with `copy` set only on outputs that
    /// a later op changes the packet after.
    pub fn verdict(&self) -> Verdict {
        let mut ops = self.ops.clone();
        let mut mutated_later = false;
        for op in ops.iter_mut().rev() {
            match op {
                Op::Output { copy, .. }
                | Op::QueuedOutput { copy, .. }
                | Op::Normal { copy }
                | Op::Group { copy, .. } => *copy = mutated_later,
                _ => {}
            }
            mutated_later |= op.mutates();
        }
        Verdict::new(ops, self.flows.clone(), self.tables.clone())
    }
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

/// Everything one packet's execution needs.
pub(crate) struct Ctx<'a, S: Sink> {
    pub dp: &'a Datapath,
    pub ports: &'a PortMap,
    pub snap: &'a PipelineSnapshot,
    pub now: Nanos,
    /// The ingress port (outputs never go back to it but through IN_PORT).
    pub in_port: u32,
    pub sink: &'a mut S,
    pub stats: &'a mut LocalStats,
    /// Scratch for output port lists (reused: no allocation per packet).
    pub targets: &'a mut Vec<u32>,
    /// `output:TABLE` allowed (PACKET_OUT's own actions only).
    pub allow_table: bool,
}

impl<'a, S: Sink> Ctx<'a, S> {
    /// Runs the pipeline from `table_id` on `pkt`, executing as it goes and
    /// recording into `rec`. `bytes` is what the flow counters count.
    pub fn run_pipeline<B: Buf>(&mut self, pkt: &mut Packet<B>, rec: &mut Recorder, first: u8) {
        let snap = self.snap;
        let bytes = pkt.frame.data().len() as u64;
        let mut aset = ActionSet::default();
        let mut table_id = first;
        let mut queue = 0u32;
        loop {
            let Some(table) = snap.table(table_id) else {
                self.sink.note(|| format!("no table {table_id}: drop"));
                return;
            };
            if rec.tainted {
                rec.cacheable = false;
            }
            let hit = table.lookup(&pkt.key);
            rec.tables.push((table_id, hit.is_some()));
            if S::LIVE {
                table.counters().record(1, u64::from(hit.is_some()));
            }
            self.sink.table(table_id, hit);
            let Some(e) = hit else {
                self.record_exec(pkt, rec, Op::Miss { table_id }, None);
                return;
            };
            if S::LIVE {
                e.record(1, bytes, self.now);
            }
            rec.flows.push(Arc::clone(e));
            let origin = Origin::of(e);
            let mut goto = None;
            for rank in 0..6 {
                for ins in e
                    .instructions
                    .iter()
                    .filter(|i| instruction_rank(i) == rank)
                {
                    match ins {
                        Instruction::ApplyActions(list) => {
                            for a in list {
                                let op = compile_queued(a, &origin, &mut queue);
                                if self.record_exec(pkt, rec, op, Some(a)) == Step::Stop {
                                    return;
                                }
                            }
                        }
                        Instruction::ClearActions => {
                            aset.clear();
                            self.sink.note(|| "clear_actions".into());
                        }
                        Instruction::WriteActions(list) => {
                            aset.write(list);
                            self.sink.note(|| {
                                format!(
                                    "write_actions({})",
                                    ofproto::text::format_action_list(list)
                                )
                            });
                        }
                        Instruction::WriteMetadata { metadata, mask } => {
                            let op = Op::WriteMetadata {
                                value: *metadata,
                                mask: *mask,
                            };
                            self.record_exec(pkt, rec, op, None);
                            let m = pkt.key.metadata();
                            self.sink.note(|| {
                                format!("write_metadata:{metadata:#x}/{mask:#x} -> metadata={m:#x}")
                            });
                        }
                        Instruction::GotoTable(t) => goto = Some(*t),
                        Instruction::Meter(m) => {
                            if snap.meters().get(*m).is_some_and(|x| x.remarks()) {
                                // The DSCP after the meter depends on the
                                // rate, not on the key: no later lookup
                                // may be cached.
                                rec.tainted = true;
                            }
                            if self.record_exec(pkt, rec, Op::Meter(*m), None) == Step::Stop {
                                return;
                            }
                        }
                        Instruction::Experimenter { experimenter, .. } => self.sink.note(|| {
                            format!("experimenter instruction {experimenter:#x}: ignored")
                        }),
                    }
                }
            }
            match goto {
                Some(t) if t > table_id => {
                    self.sink.note(|| format!("goto_table:{t}"));
                    table_id = t;
                }
                Some(t) => {
                    // FLOW_MOD validation rules this out; be safe anyway.
                    self.sink
                        .note(|| format!("goto_table:{t} is not forward: drop"));
                    return;
                }
                None => {
                    if aset.is_empty() {
                        // Not a drop if apply_actions already output.
                        self.sink
                            .note(|| "end of pipeline: action set empty".into());
                        return;
                    }
                    let list = aset.ordered();
                    self.sink.note(|| {
                        format!("action set: {}", ofproto::text::format_action_list(&list))
                    });
                    for a in &list {
                        let op = compile_queued(a, &origin, &mut queue);
                        if self.record_exec(pkt, rec, op, Some(a)) == Step::Stop {
                            return;
                        }
                    }
                    return;
                }
            }
        }
    }

    /// Executes `op`, appends it to `rec`, and tracks cacheability.
    fn record_exec<B: Buf>(
        &mut self,
        pkt: &mut Packet<B>,
        rec: &mut Recorder,
        op: Op,
        action: Option<&Action>,
    ) -> Step {
        if taints(&op, pkt.info.n_vlans) {
            rec.tainted = true;
        }
        if matches!(op, Op::Table) {
            rec.cacheable = false;
        }
        if let Some(a) = action {
            self.sink.note(|| format_action(a));
            self.sink.executed(a);
        }
        let step = self.exec_op(pkt, &op);
        rec.ops.push(op);
        if step == Step::Stop {
            rec.cacheable = false;
        }
        step
    }

    /// Replays a cached verdict's operations.
    #[inline]
    pub fn replay<B: Buf>(&mut self, pkt: &mut Packet<B>, ops: &[Op]) {
        for op in ops {
            if self.exec_op(pkt, op) == Step::Stop {
                break;
            }
        }
    }

    /// Executes one operation on `pkt`.
    #[inline]
    pub fn exec_op<B: Buf>(&mut self, pkt: &mut Packet<B>, op: &Op) -> Step {
        match op {
            Op::SetField(fb) => {
                let r = pkt.set_field_bytes(fb);
                self.rewrite_done(r, pkt, 0, 0)
            }
            Op::Rewrite(a) => {
                let r = pkt.apply(a);
                self.rewrite_done(r, pkt, 0, 0)
            }
            Op::DecTtl {
                mpls,
                table_id,
                cookie,
            } => {
                let r = if *mpls {
                    pkt.dec_mpls_ttl()
                } else {
                    pkt.dec_nw_ttl()
                };
                self.rewrite_done(r, pkt, *table_id, *cookie)
            }
            Op::WriteMetadata { value, mask } => {
                pkt.key.write_metadata(*value, *mask);
                Step::Continue
            }
            Op::Output { port, copy } => {
                self.output(pkt, *port, *copy, 0);
                Step::Continue
            }
            Op::QueuedOutput { port, queue, copy } => {
                self.output(pkt, *port, *copy, *queue);
                Step::Continue
            }
            Op::Normal { copy } => {
                self.normal(pkt, *copy);
                Step::Continue
            }
            Op::Controller {
                reason,
                table_id,
                cookie,
                max_len,
            } => {
                self.packet_in(pkt, *reason, *table_id, *cookie, *max_len);
                Step::Continue
            }
            Op::Miss { table_id } => {
                match self.dp.table_miss() {
                    TableMiss::Drop => {
                        self.stats.table_miss_dropped += 1;
                        self.sink.note(|| "no match: drop (table_miss=drop)".into());
                    }
                    TableMiss::Controller => {
                        let len = self.dp.miss_send_len();
                        self.sink
                            .note(|| format!("no match: CONTROLLER:{len} (table_miss=controller)"));
                        if !S::LIVE {
                            self.sink.executed(&Action::Output {
                                port: OFPP_CONTROLLER,
                                max_len: len,
                            });
                        }
                        self.packet_in(pkt, OFPR_NO_MATCH, *table_id, u64::MAX, len);
                    }
                }
                Step::Continue
            }
            Op::Group {
                id,
                copy,
                table_id,
                cookie,
            } => {
                let origin = Origin {
                    table_id: *table_id,
                    cookie: *cookie,
                    miss_entry: false,
                };
                self.exec_group(pkt, *id, *copy, &origin, 0);
                Step::Continue
            }
            Op::Meter(m) => self.exec_meter(pkt, *m),
            Op::Table => {
                if self.allow_table {
                    self.output_table(pkt);
                } else {
                    self.sink
                        .note(|| "output:TABLE outside PACKET_OUT: ignored".into());
                }
                Step::Continue
            }
            Op::Nop => Step::Continue,
        }
    }

    fn rewrite_done<B: Buf>(
        &mut self,
        r: RewriteOutcome,
        pkt: &mut Packet<B>,
        table_id: u8,
        cookie: u64,
    ) -> Step {
        match r {
            RewriteOutcome::InvalidTtl => {
                if self.dp.invalid_ttl_to_controller() {
                    self.sink.note(|| "TTL ≤ 1: packet-in invalid_ttl".into());
                    let len = self.dp.miss_send_len();
                    self.packet_in(pkt, OFPR_INVALID_TTL, table_id, cookie, len);
                } else {
                    self.stats.invalid_ttl_dropped += 1;
                    self.sink.note(|| "TTL ≤ 1: drop".into());
                }
                Step::Stop
            }
            RewriteOutcome::NoHeadroom => {
                self.stats.headroom_dropped += 1;
                self.sink.note(|| "no headroom for the push: drop".into());
                Step::Stop
            }
            RewriteOutcome::Skipped => {
                self.sink.note(|| "(skipped: header not present)".into());
                Step::Continue
            }
            _ => Step::Continue,
        }
    }

    /// Resolves a (possibly reserved) output port into `targets` and sends
    /// (through the targets' queue `queue`, if not the default).
    fn output<B: Buf>(&mut self, pkt: &Packet<B>, port: u32, copy: bool, queue: u32) {
        let ports = self.ports;
        let in_port = self.in_port;
        self.targets.clear();
        match port {
            OFPP_IN_PORT => match ports.index_of(in_port) {
                Some(i) if ports.list[i].can_forward() => self.targets.push(i as u32),
                Some(_) => self.sink.note(|| "IN_PORT: port cannot forward".into()),
                None => self.sink.note(|| format!("IN_PORT: no port {in_port}")),
            },
            OFPP_ALL | OFPP_FLOOD => {
                for (i, e) in ports.list.iter().enumerate() {
                    if e.ofport != in_port && e.can_forward() {
                        self.targets.push(i as u32);
                    }
                }
            }
            p if p == in_port => {
                self.sink
                    .note(|| format!("output:{p} is the ingress port: skipped"));
            }
            p => match ports.index_of(p) {
                Some(i) if ports.list[i].can_forward() => self.targets.push(i as u32),
                Some(_) => self
                    .sink
                    .note(|| format!("port {p} cannot forward (down/no_fwd): skipped")),
                None => self.sink.note(|| format!("no port {p}: dropped")),
            },
        }
        if queue != 0 {
            self.shape(pkt, queue);
        }
        self.emit(pkt, copy);
    }

    /// Keeps the targets whose queue `queue` admits the packet (a port
    /// without that queue sends it on its default queue). Traces only say
    /// which queue; they take no tokens.
    fn shape<B: Buf>(&mut self, pkt: &Packet<B>, queue: u32) {
        let (dp, ports, now) = (self.dp, self.ports, self.now);
        if !S::LIVE {
            for &i in self.targets.iter() {
                let e = &ports.list[i as usize];
                let has = dp.queues.get(e.port.name(), queue).is_some();
                let p = e.ofport;
                self.sink.note(|| {
                    if has {
                        format!("port {p}: queue {queue}")
                    } else {
                        format!("port {p}: no queue {queue}, default queue")
                    }
                });
            }
            return;
        }
        let bytes = pkt.frame.data().len() as u64;
        self.targets.retain(|&i| {
            let e = &ports.list[i as usize];
            dp.queues.admit(e.port.name(), queue, bytes, now)
        });
    }

    #[inline]
    fn emit<B: Buf>(&mut self, pkt: &Packet<B>, copy: bool) {
        if !self.targets.is_empty() {
            self.sink.output(
                self.ports,
                self.targets,
                pkt.frame.data(),
                pkt.frame.vnet(),
                copy,
            );
        }
    }

    /// `output:NORMAL` (see `normal.rs`).
    pub fn normal<B: Buf>(&mut self, pkt: &Packet<B>, copy: bool) {
        let ports = self.ports;
        let in_port = self.in_port;
        let vlan = pkt.key.vlan_vid();
        let (src, dst) = (pkt.key.eth_src(), pkt.key.eth_dst());
        let mac = &self.dp.mac;
        if S::LIVE && ports.index_of(in_port).is_some() {
            mac.learn(vlan, src, in_port, self.now);
        }
        self.targets.clear();
        if !is_multicast(dst) {
            if let Some(p) = mac.lookup(vlan, dst, self.now) {
                if p == in_port {
                    self.sink
                        .note(|| format!("NORMAL: {dst} is on the ingress port {p}: drop"));
                    return;
                }
                if let Some(i) = ports.index_of(p) {
                    if ports.list[i].can_forward() {
                        self.targets.push(i as u32);
                    }
                    self.sink
                        .note(|| format!("NORMAL: {dst} learned on port {p}"));
                    self.emit(pkt, copy);
                    return;
                }
            }
        }
        for (i, e) in ports.list.iter().enumerate() {
            if e.ofport != in_port && e.can_forward() {
                self.targets.push(i as u32);
            }
        }
        self.sink
            .note(|| format!("NORMAL: flood {dst} (vlan_vid {vlan:#x})"));
        self.emit(pkt, copy);
    }

    /// Sends the packet as it is to the controller.
    fn packet_in<B: Buf>(
        &mut self,
        pkt: &Packet<B>,
        reason: u8,
        table_id: u8,
        cookie: u64,
        max_len: u16,
    ) {
        if let Some(e) = self.ports.get(self.in_port) {
            if e.config.load(Relaxed) & OFPPC_NO_PACKET_IN != 0 {
                self.stats.packet_in_suppressed += 1;
                self.sink
                    .note(|| "ingress port has NO_PACKET_IN: no packet-in".into());
                return;
            }
        }
        if !S::LIVE {
            self.sink.to_controller(reason);
            return;
        }
        let data = pkt.frame.data();
        let meta = pkt.frame.vnet();
        if meta.is_gso() {
            // The controller gets what a port without offloads would send:
            // the segments, one PACKET_IN each.
            // (The segmenter checks the headers before it emits anything.)
            let (md, tun) = (pkt.key.metadata(), pkt.key.tunnel_id());
            let segmented = super::gso::segment(data, &meta, &mut Vec::new(), |s| {
                let mut seg = Packet::parse(Frame::new(s), self.in_port);
                seg.key.set_metadata(md);
                seg.key.set_tunnel_id(tun);
                self.packet_in(&seg, reason, table_id, cookie, max_len);
            });
            if segmented.is_ok() {
                return;
            }
        }
        if !self.dp.limiter.allow(self.now) {
            self.stats.packet_in_rate_dropped += 1;
            return;
        }
        let len = data.len();
        let cut = if max_len == OFPCML_NO_BUFFER {
            len
        } else {
            len.min(usize::from(max_len))
        };
        let bytes = if meta.needs_csum() && !meta.is_gso() {
            // The controller gets a finished frame, as a port without
            // checksum offload would.
            let mut v = data.to_vec();
            let _ = complete_checksum(
                &mut v,
                usize::from(meta.csum_start),
                usize::from(meta.csum_offset),
            );
            v.truncate(cut);
            Bytes::from(v)
        } else {
            Bytes::copy_from_slice(&data[..cut])
        };
        let ev = PacketInEvent {
            reason,
            table_id,
            cookie,
            match_: pkt.key.to_pipeline_match(),
            data: bytes,
            total_len: len.min(usize::from(u16::MAX)) as u16,
        };
        match self.dp.packet_in.try_send(ev) {
            Ok(()) => self.stats.packet_in_sent += 1,
            Err(_) => self.stats.packet_in_queue_dropped += 1,
        }
    }

    /// PACKET_OUT's `output:TABLE`: the pipeline from table 0 on a copy of
    /// the packet as it is now (later PACKET_OUT actions see it unchanged).
    fn output_table<B: Buf>(&mut self, pkt: &Packet<B>) {
        let mut copy = Packet {
            frame: Frame::new(pkt.frame.data()),
            key: pkt.key,
            info: pkt.info,
        };
        let mut rec = Recorder::default();
        self.allow_table = false;
        self.run_pipeline(&mut copy, &mut rec, 0);
        self.allow_table = true;
    }
}

/// OF1.3 execution order of instructions (ovs-ofctl prints them so too).
fn instruction_rank(i: &Instruction) -> u8 {
    match i {
        Instruction::Meter(_) => 0,
        Instruction::ApplyActions(_) => 1,
        Instruction::ClearActions => 2,
        Instruction::WriteActions(_) => 3,
        Instruction::WriteMetadata { .. } => 4,
        Instruction::GotoTable(_) => 5,
        Instruction::Experimenter { .. } => 5,
    }
}
