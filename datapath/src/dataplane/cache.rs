//! The per-worker flow cache: the pipeline's verdict for a packet, keyed by
//! the packet's exact [`FlowKey`] (plus its header shape), so a packet that
//! hits costs one hash lookup plus its actions however many flows and
//! tables there are.
//!
//! A [`Verdict`] is what the slow path recorded while it ran the pipeline
//! on the first packet with that key: the ordered packet operations
//! (rewrites, outputs, NORMAL, CONTROLLER, ... — see `exec::Op`), the flow
//! entries it hit (their counters) and the tables it looked up (lookup /
//! matched counters). Replaying the operations on another packet with the
//! same key does exactly what the pipeline would do: every lookup's input
//! is the key after the rewrites before it, which is a function of the
//! initial key — except after rewrites that expose bytes the key does not
//! hold (popping an inner VLAN tag, MPLS or PBB, rewriting eth_type...);
//! the slow path marks such verdicts uncacheable when a lookup follows.
//! Decisions that depend on state other than the flow tables are made at
//! replay time, never cached: NORMAL's MAC table, port config and link
//! state, FLOOD/ALL's port list, the table-miss mode, miss_send_len, the
//! PACKET_IN rate limit, TTLs, and groups and meters (a verdict holds
//! `Op::Group(id)` / `Op::Meter(id)`: the bucket choice, liveness and
//! the meter's token buckets are consulted for every packet; a meter that
//! may remark DSCP makes later lookups of that verdict uncacheable).
//!
//! Validity: a slot holds the snapshot generation it was built in, and a
//! lookup with another generation is a miss (the slot is overwritten) —
//! one compare per lookup, no flush walk when the pipeline changes. This
//! is half of the BARRIER guarantee (the other half: the worker loads the
//! snapshot after each receive; see `worker.rs`).
//!
//! Bounded: at `capacity` entries the cache is cleared (simple, and a
//! working set that large is churning anyway).
//!
//! Counters: a hit adds to its verdict's pending packet/byte counts; the
//! worker flushes them into the flow and table counters once per batch
//! (one atomic add per flow per batch, not per packet).
//!
//! Hashing: the cache's keys are chosen by whoever sends packets, so the
//! hash is keyed with per-process random seeds (folded multiply, as
//! foldhash/ahash do) — FlowKey's own FxHash-style `hash64` would let a
//! sender build collision chains.

use super::exec::Op;
use crate::packet::{FlowKey, ParseInfo, L3};
use crate::pipeline::{FlowEntry, Nanos, PipelineSnapshot};
use hashbrown::HashTable;
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;
use std::sync::Arc;

/// Default number of entries per worker.
pub const DEFAULT_CAPACITY: usize = 65536;

#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Random per-instance seeds for a keyed hash of `u64`s and `FlowKey`s.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeededState {
    k: [u64; 4],
}

impl SeededState {
    pub fn new() -> SeededState {
        // std's RandomState is seeded from the OS once per thread and then
        // varied per instance; hashing constants through it yields seeds.
        let rs = std::collections::hash_map::RandomState::new();
        let mut k = [0u64; 4];
        for (i, x) in k.iter_mut().enumerate() {
            *x = rs.hash_one(i as u64 ^ 0x9e37_79b9_7f4a_7c15) | 1;
        }
        SeededState { k }
    }

    #[inline]
    pub fn hash_u64(&self, v: u64) -> u64 {
        folded_multiply(v ^ self.k[0], self.k[1])
    }

    #[inline]
    pub fn hash_key(&self, key: &FlowKey) -> u64 {
        let w = &key.words;
        let mut s = self.k[0];
        let mut i = 0;
        while i < w.len() {
            s = folded_multiply(w[i] ^ self.k[1] ^ s, w[i + 1] ^ self.k[2]);
            i += 2;
        }
        folded_multiply(s, self.k[3])
    }
}

impl Default for SeededState {
    fn default() -> Self {
        SeededState::new()
    }
}

pub(crate) struct SeededHasher {
    s: u64,
    k: u64,
}

impl Hasher for SeededHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut a = [0u8; 8];
            a[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(a));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.s = folded_multiply(self.s ^ v, self.k);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.s
    }
}

impl BuildHasher for SeededState {
    type Hasher = SeededHasher;
    fn build_hasher(&self) -> SeededHasher {
        SeededHasher {
            s: self.k[0],
            k: self.k[1],
        }
    }
}

/// The cache key of a packet: its `FlowKey` with the header shape the
/// parser found (VLAN/MPLS depth, which L3, whether an L4 header is
/// complete, fragment/routing/ND flags) in the two reserved bytes 126..128,
/// which are always zero in a parsed key. Two packets with one cache key
/// have the same fields *and* the same headers present, so every action
/// applies (or is skipped) alike on both.
#[inline]
pub(crate) fn cache_key(key: &FlowKey, info: &ParseInfo) -> FlowKey {
    let mut k = *key;
    let l3 = match info.l3 {
        L3::None => 0u8,
        L3::Arp => 1,
        L3::Ipv4 => 2,
        L3::Ipv6 => 3,
        L3::Mpls => 4,
        L3::Pbb => 5,
    };
    let b = k.as_bytes_mut();
    b[126] = (info.n_vlans.min(15) as u8) | ((info.n_mpls.min(15) as u8) << 4);
    b[127] = l3 | (u8::from(info.l4_off != 0) << 3) | ((info.flags & 0x0f) << 4);
    k
}

/// What the pipeline did with one key.
pub(crate) struct Verdict {
    pub ops: Box<[Op]>,
    /// Flow entries hit, in order (each counted once per packet).
    pub flows: Box<[Arc<FlowEntry>]>,
    /// Tables looked up, and whether the lookup matched.
    pub tables: Box<[(u8, bool)]>,
    pend_packets: Cell<u64>,
    pend_bytes: Cell<u64>,
}

impl Verdict {
    pub fn new(ops: Vec<Op>, flows: Vec<Arc<FlowEntry>>, tables: Vec<(u8, bool)>) -> Verdict {
        Verdict {
            ops: ops.into_boxed_slice(),
            flows: flows.into_boxed_slice(),
            tables: tables.into_boxed_slice(),
            pend_packets: Cell::new(0),
            pend_bytes: Cell::new(0),
        }
    }
}

struct Slot {
    key: FlowKey,
    generation: u64,
    verdict: Rc<Verdict>,
}

pub(crate) struct FlowCache {
    table: HashTable<Slot>,
    capacity: usize,
    hasher: SeededState,
    /// Verdicts with pending counts (flushed per batch).
    touched: Vec<Rc<Verdict>>,
}

impl FlowCache {
    pub fn new(capacity: usize) -> FlowCache {
        FlowCache {
            table: HashTable::new(),
            capacity: capacity.max(1),
            hasher: SeededState::new(),
            touched: Vec::new(),
        }
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    #[inline]
    pub fn hash(&self, key: &FlowKey) -> u64 {
        self.hasher.hash_key(key)
    }

    /// The verdict for `key` built in snapshot `generation`, if any.
    #[inline]
    pub fn get(&self, hash: u64, key: &FlowKey, generation: u64) -> Option<&Rc<Verdict>> {
        self.table
            .find(hash, |s| s.key == *key)
            .filter(|s| s.generation == generation)
            .map(|s| &s.verdict)
    }

    pub fn insert(&mut self, hash: u64, key: FlowKey, generation: u64, verdict: Verdict) {
        let verdict = Rc::new(verdict);
        if let Some(s) = self.table.find_mut(hash, |s| s.key == key) {
            s.generation = generation;
            s.verdict = verdict;
            return;
        }
        if self.table.len() >= self.capacity {
            // Pending counts survive: `touched` holds its own references.
            self.table.clear();
        }
        let h = self.hasher;
        self.table.insert_unique(
            hash,
            Slot {
                key,
                generation,
                verdict,
            },
            move |s| h.hash_key(&s.key),
        );
    }

    /// Counts one packet of `bytes` bytes against `v` (flushed later).
    #[inline]
    pub fn account(&mut self, v: &Rc<Verdict>, bytes: u64) {
        let p = v.pend_packets.get();
        if p == 0 {
            self.touched.push(Rc::clone(v));
        }
        v.pend_packets.set(p + 1);
        v.pend_bytes.set(v.pend_bytes.get() + bytes);
    }

    /// Adds the pending counts to the flow and table counters.
    pub fn flush_counters(&mut self, snap: &PipelineSnapshot, now: Nanos) {
        for v in self.touched.drain(..) {
            let (p, b) = (v.pend_packets.get(), v.pend_bytes.get());
            v.pend_packets.set(0);
            v.pend_bytes.set(0);
            for f in v.flows.iter() {
                f.record(p, b, now);
            }
            for &(t, matched) in v.tables.iter() {
                if let Some(ts) = snap.table(t) {
                    ts.counters().record(p, if matched { p } else { 0 });
                }
            }
        }
    }
}
