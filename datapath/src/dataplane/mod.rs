//! The data plane of one bridge: worker threads (outside tokio) that read
//! frames from ports in batches, classify them through the published
//! pipeline snapshot (with a per-worker flow cache), run instructions and the
//! action set, and send the results out. The control plane reaches it only
//! through [`Datapath`]'s methods.
//!
//! API contract (shared by the bridge task): this file's signatures.
//!
//! ## Layout
//! - `worker.rs`: the threads — epoll over each worker's share of the
//!   ports, batch receive, the per-batch snapshot load (the BARRIER
//!   guarantee), cache lookup or slow path, batched transmit.
//! - `exec.rs`: the pipeline (tables, instructions, action set), outputs,
//!   PACKET_IN; records what it did as `Op`s for the cache.
//! - `group_exec.rs`: groups (bucket choice, liveness, clones) and meters,
//!   resolved per packet on cache hits too.
//! - `cache.rs`: the per-worker flow cache (exact key → recorded ops).
//! - `normal.rs`: `output:NORMAL`, a VLAN-aware MAC-learning switch.
//! - `ports.rs`: the published port map, per-port config and counters.
//! - `limiter.rs`: the PACKET_IN token bucket.
//! - `trace.rs`: ofproto/trace without side effects.
//!
//! ## Hot path
//! No lock and no allocation per packet: the snapshot and the port map are
//! lock-free loads once per batch; a cache hit is one keyed hash lookup
//! plus the recorded operations; outputs that nothing changes afterwards
//! are sent straight from the receive buffers (per destination port, one
//! `send_batch` per batch); flow/table/port counters are added once per
//! batch. The NORMAL MAC table takes a shard's read lock per lookup/learn
//! (its write lock only to learn a new address). Allocation happens on
//! cache misses (the verdict), for PACKET_INs (the event) and for copies
//! of frames that are changed after an output (a reused per-worker arena;
//! it allocates only while growing).
//!
//! ## BARRIER
//! "The first frame read from any port after the BARRIER_REPLY is written
//! sees the new flows": the bridge publishes before replying, workers load
//! the snapshot after every receive, and the flow cache is keyed by
//! snapshot generation (details in `worker.rs` and `cache.rs`).
//!
//! ## Offloads
//! Frames keep their virtio-net metadata (partial checksum, GSO) from the
//! receive buffer through rewrites (offsets follow pushes and pops) to
//! `TxMeta` on send. Ports without checksum offload finish checksums in
//! `Port::send`; PACKET_IN data gets its checksum finished here. A GSO
//! frame for a port that cannot take it whole (no matching segmentation
//! offload) is segmented in software (`gso.rs`: TCP over IPv4/IPv6, UDP
//! segmentation), and a PACKET_IN of one sends its segments; only what
//! cannot be segmented (UFO, unknown headers) is dropped, as `tx_dropped`.
//!
//! Forwarding semantics (outputs, NO_FWD, table miss, invalid TTL, groups)
//! are listed at the top of `exec.rs`.

mod cache;
mod exec;
mod group_exec;
mod gso;
mod limiter;
mod normal;
mod ports;
pub mod queues;
mod trace;
mod worker;

#[cfg(test)]
mod tests;

use crate::config::TableMiss;
use crate::packet::{FlowKey, Frame, Packet};
use crate::pipeline::{clock, PipelineSnapshot, SnapshotReader};
use crate::port::Port;
use arc_swap::ArcSwap;
use bytes::Bytes;
use exec::{compile, Ctx, DirectSink, Origin, Step};
use limiter::RateLimiter;
use normal::MacTable;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::OFPBRC_BAD_PORT;
use ofproto::oxm::Match;
use ofproto::{MacAddr, WireError};
use ports::{PortEntry, PortMap};
use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A packet for the controller, from a worker to the bridge task.
#[derive(Clone, Debug)]
pub struct PacketInEvent {
    /// `OFPR_NO_MATCH`, `OFPR_ACTION` or `OFPR_INVALID_TTL`.
    pub reason: u8,
    pub table_id: u8,
    pub cookie: u64,
    /// Pipeline fields (in_port, and metadata/tunnel_id when set).
    pub match_: Match,
    /// The frame as it was when sent to the controller, cut to `max_len`
    /// (or `miss_send_len` for a table miss; OFPCML_NO_BUFFER = whole).
    pub data: Bytes,
    pub total_len: u16,
}

/// Per-port counters (OFPMP_PORT_STATS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
}

/// Switch-wide settings the control plane changes at run time.
#[derive(Clone, Debug)]
pub struct DatapathConfig {
    pub bridge: String,
    pub table_miss: TableMiss,
    /// PACKET_INs per second the workers may send (token bucket); excess is
    /// dropped and counted.
    pub packet_in_rate: u32,
}

/// One step of `trace`: which table, which flow (or a miss), what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    pub table_id: u8,
    /// ovs-ofctl text of the matched flow (`priority=100,arp,... actions=...`);
    /// `None` on a miss.
    pub flow: Option<String>,
    pub cookie: u64,
    /// What happened here, one line each (`set_field ...`, `goto_table:1`).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub key: String,
    pub steps: Vec<TraceStep>,
    /// The action set / actions finally executed, in ovs-ofctl syntax.
    pub final_actions: String,
    /// Where the packet leaves: port numbers/names, `CONTROLLER`, or `drop`.
    pub outputs: Vec<String>,
}

macro_rules! datapath_stats {
    ($($(#[$doc:meta])* $f:ident,)*) => {
        /// Data-plane event counters (for metrics and debugging), summed
        /// over all workers.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct DatapathStats {
            $($(#[$doc])* pub $f: u64,)*
        }

        #[derive(Debug, Default)]
        pub(crate) struct SharedStats {
            $($f: AtomicU64,)*
        }

        /// A worker's (or a call's) counts, added to the shared ones once
        /// per batch.
        #[derive(Clone, Copy, Debug, Default)]
        pub(crate) struct LocalStats {
            $(pub $f: u64,)*
        }

        impl LocalStats {
            pub fn flush(&mut self, to: &SharedStats) {
                $(if self.$f != 0 {
                    to.$f.fetch_add(self.$f, Relaxed);
                    self.$f = 0;
                })*
            }
        }

        impl SharedStats {
            fn read(&self) -> DatapathStats {
                DatapathStats { $($f: self.$f.load(Relaxed),)* }
            }
        }
    };
}

datapath_stats! {
    /// PACKET_INs handed to the bridge.
    packet_in_sent,
    /// PACKET_INs over the rate limit.
    packet_in_rate_dropped,
    /// PACKET_INs dropped because the channel to the bridge was full.
    packet_in_queue_dropped,
    /// PACKET_INs not sent because the ingress port has NO_PACKET_IN.
    packet_in_suppressed,
    /// Packets dropped by a table miss (table_miss=drop, no miss entry).
    table_miss_dropped,
    /// Packets dropped by dec_ttl at TTL ≤ 1 (no INVALID_TTL packet-in).
    invalid_ttl_dropped,
    /// Group actions that found no group (or groups nested too deep).
    group_dropped,
    /// Packets a meter's drop band dropped.
    meter_dropped,
    /// Pushes that found no headroom.
    headroom_dropped,
    /// Flow cache hits / misses (slow path runs).
    cache_hits,
    cache_misses,
    /// Slow-path results that could not be cached.
    cache_uncacheable,
}

/// One learned address of the NORMAL MAC table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacTableEntry {
    /// `vlan_vid` as in a flow key: VID | OFPVID_PRESENT, 0 = untagged.
    pub vlan_vid: u16,
    pub mac: MacAddr,
    pub port: u32,
    /// Time since the address was last seen.
    pub age: Duration,
}

/// The shared state workers and the control plane use.
pub struct Datapath {
    bridge: String,
    /// 0 = `TableMiss::Drop`, 1 = `TableMiss::Controller`.
    table_miss: AtomicU8,
    miss_send_len: AtomicU32,
    fail_open: AtomicBool,
    invalid_ttl_to_controller: AtomicBool,
    /// Template for the workers' readers; also the control plane's view
    /// (PACKET_OUT, trace). Refreshed under the lock so it does not pin an
    /// old snapshot.
    reader: Mutex<SnapshotReader>,
    packet_in: tokio::sync::mpsc::Sender<PacketInEvent>,
    limiter: RateLimiter,
    mac: MacTable,
    ports: ArcSwap<PortMap>,
    /// Serializes port-set writers (control plane only) and numbers ports.
    port_seq: Mutex<u64>,
    /// Wake-up handles of the running workers.
    wakers: Mutex<Vec<Arc<worker::EventFd>>>,
    running: AtomicBool,
    cache_capacity: AtomicUsize,
    stats: SharedStats,
    /// Configured per-port queues (`queues.rs`).
    queues: queues::QueueTable,
}

/// Worker threads; dropping this (or calling `stop`) joins them.
pub struct Workers {
    dp: Arc<Datapath>,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<worker::EventFd>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    done: bool,
}

/// `miss_send_len` until SET_CONFIG says otherwise (OF1.3.5 §7.3.2).
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

impl Datapath {
    /// `pipeline` is the reader of the bridge's published snapshots;
    /// `packet_in` carries PACKET_INs to the bridge task (`try_send`: a full
    /// channel drops and counts, never blocks a worker).
    pub fn new(
        cfg: DatapathConfig,
        pipeline: SnapshotReader,
        packet_in: tokio::sync::mpsc::Sender<PacketInEvent>,
    ) -> Arc<Datapath> {
        Arc::new(Datapath {
            bridge: cfg.bridge,
            table_miss: AtomicU8::new(table_miss_code(cfg.table_miss)),
            miss_send_len: AtomicU32::new(u32::from(DEFAULT_MISS_SEND_LEN)),
            fail_open: AtomicBool::new(false),
            invalid_ttl_to_controller: AtomicBool::new(false),
            reader: Mutex::new(pipeline),
            packet_in,
            limiter: RateLimiter::new(cfg.packet_in_rate),
            mac: MacTable::new(normal::DEFAULT_MAX_ENTRIES, normal::DEFAULT_AGING),
            ports: ArcSwap::from_pointee(PortMap::default()),
            port_seq: Mutex::new(0),
            wakers: Mutex::new(Vec::new()),
            running: AtomicBool::new(false),
            cache_capacity: AtomicUsize::new(cache::DEFAULT_CAPACITY),
            stats: SharedStats::default(),
            queues: queues::QueueTable::default(),
        })
    }

    /// Starts `n` worker threads (ports are spread over them).
    ///
    /// Threads are named `tapflow-dp-K`. A port is read by worker
    /// `order-of-addition % n`, so it keeps its reader while other ports
    /// come and go. Fails with `AlreadyExists` if workers are running.
    pub fn start(self: &Arc<Self>, n: usize) -> std::io::Result<Workers> {
        if self.running.swap(true, Relaxed) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("bridge {}: data-plane workers already running", self.bridge),
            ));
        }
        let n = n.max(1);
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Workers {
            dp: Arc::clone(self),
            stop: Arc::clone(&stop),
            wakers: Vec::new(),
            threads: Vec::new(),
            done: false,
        };
        for k in 0..n {
            let wake = match worker::EventFd::new() {
                Ok(w) => Arc::new(w),
                Err(e) => {
                    workers.shutdown();
                    return Err(e);
                }
            };
            // Registered before the thread runs, so no port change made
            // while it starts goes unsignalled.
            workers.wakers.push(Arc::clone(&wake));
            self.lock_wakers().push(Arc::clone(&wake));
            let (dp, stop) = (Arc::clone(self), Arc::clone(&stop));
            // The worker (flow cache, buffers) is built on its own thread:
            // it is thread-local state (`Rc`s), never shared.
            let spawned = std::thread::Builder::new()
                .name(format!("tapflow-dp-{k}"))
                .spawn(move || worker::run(worker::Worker::new(dp, k, n), stop, wake));
            match spawned {
                Ok(h) => workers.threads.push(h),
                Err(e) => {
                    workers.shutdown();
                    return Err(e);
                }
            }
        }
        Ok(workers)
    }

    fn lock_wakers(&self) -> std::sync::MutexGuard<'_, Vec<Arc<worker::EventFd>>> {
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_workers(&self) {
        for w in self.lock_wakers().iter() {
            w.signal();
        }
    }

    /// Adds a port (workers pick it up at once). `ofport` may be `OFPP_LOCAL`.
    /// A port already using `ofport` is replaced (counters start at zero).
    pub fn add_port(&self, ofport: u32, port: Arc<dyn Port>) {
        {
            let mut seq = self.port_seq.lock().unwrap_or_else(|e| e.into_inner());
            let entry = Arc::new(PortEntry::new(ofport, *seq, port));
            *seq += 1;
            let map = self.ports.load().with(entry);
            self.ports.store(Arc::new(map));
        }
        self.wake_workers();
    }

    /// Removes a port; returns it so the caller can close it. Addresses
    /// NORMAL learned on it are forgotten.
    pub fn remove_port(&self, ofport: u32) -> Option<Arc<dyn Port>> {
        let removed = {
            let _seq = self.port_seq.lock().unwrap_or_else(|e| e.into_inner());
            let (map, e) = self.ports.load().without(ofport)?;
            self.ports.store(Arc::new(map));
            e
        };
        self.mac.flush_port(ofport);
        self.wake_workers();
        Some(Arc::clone(&removed.port))
    }

    /// OFPPC_* bits (PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN) from PORT_MOD.
    pub fn set_port_config(&self, ofport: u32, config: u32) {
        if let Some(e) = self.ports.load().get(ofport) {
            e.config.store(config, Relaxed);
        }
    }

    /// OFPPS_* bits of a port as the bridge learns them (link monitor):
    /// with `OFPPS_LINK_DOWN` set nothing is sent to the port.
    pub fn set_port_state(&self, ofport: u32, state: u32) {
        if let Some(e) = self.ports.load().get(ofport) {
            e.state.store(state, Relaxed);
        }
    }

    pub fn port_counters(&self, ofport: u32) -> Option<PortCounters> {
        self.ports.load().get(ofport).map(|e| e.counters())
    }

    /// `miss_send_len` from SET_CONFIG.
    pub fn set_miss_send_len(&self, n: u16) {
        self.miss_send_len.store(u32::from(n), Relaxed);
    }

    pub fn miss_send_len(&self) -> u16 {
        self.miss_send_len.load(Relaxed) as u16
    }

    /// What a table miss (no table-miss entry) does; takes effect at once.
    pub fn set_table_miss(&self, m: TableMiss) {
        self.table_miss.store(table_miss_code(m), Relaxed);
    }

    pub fn table_miss(&self) -> TableMiss {
        match self.table_miss.load(Relaxed) {
            0 => TableMiss::Drop,
            _ => TableMiss::Controller,
        }
    }

    /// Whether a dec_ttl that finds TTL ≤ 1 sends PACKET_IN
    /// `OFPR_INVALID_TTL` (else the packet is dropped and counted). Off by
    /// default; the bridge turns it on when a controller's async config
    /// (OF1.3) or `OFPC_INVALID_TTL_TO_CONTROLLER` (OF1.1/1.2) asks.
    pub fn set_invalid_ttl_to_controller(&self, on: bool) {
        self.invalid_ttl_to_controller.store(on, Relaxed);
    }

    pub fn invalid_ttl_to_controller(&self) -> bool {
        self.invalid_ttl_to_controller.load(Relaxed)
    }

    /// PACKET_INs per second (0 = unlimited).
    pub fn set_packet_in_rate(&self, per_sec: u32) {
        self.limiter.set_rate(per_sec);
    }

    pub fn packet_in_rate(&self) -> u32 {
        self.limiter.rate()
    }

    /// Fail-open (standalone mode with every controller unreachable): NORMAL
    /// forwarding overrides the flow tables while on.
    pub fn set_fail_open(&self, on: bool) {
        self.fail_open.store(on, Relaxed);
    }

    pub fn fail_open(&self) -> bool {
        self.fail_open.load(Relaxed)
    }

    /// How long NORMAL remembers an address without traffic from it
    /// (default 300 s, as OVS's `mac-aging-time`).
    pub fn set_mac_aging(&self, aging: Duration) {
        self.mac
            .set_aging(aging.as_nanos().min(u128::from(u64::MAX)) as u64);
    }

    /// NORMAL's learned addresses (like `ovs-appctl fdb/show`).
    pub fn mac_table(&self) -> Vec<MacTableEntry> {
        self.mac
            .entries(clock::now())
            .into_iter()
            .map(|(vlan_vid, mac, port, age)| MacTableEntry {
                vlan_vid,
                mac,
                port,
                age: Duration::from_nanos(age),
            })
            .collect()
    }

    /// Forgets every learned address.
    pub fn flush_mac_table(&self) {
        self.mac.flush();
    }

    /// Entries of each worker's flow cache (workers started later use it).
    pub fn set_flow_cache_capacity(&self, n: usize) {
        self.cache_capacity.store(n.max(1), Relaxed);
    }

    pub fn stats(&self) -> DatapathStats {
        self.stats.read()
    }

    /// The newest published snapshot.
    fn snapshot(&self) -> Arc<PipelineSnapshot> {
        Arc::clone(
            self.reader
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .current(),
        )
    }

    fn reader(&self) -> SnapshotReader {
        let mut r = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        r.current();
        r.clone()
    }

    /// PACKET_OUT: runs `actions` on `frame` as if it arrived on `in_port`
    /// (`OFPP_CONTROLLER` when none); `output:TABLE` runs the pipeline.
    ///
    /// `in_port` may be a port number (existing or not, as OVS allows),
    /// `OFPP_LOCAL`, `OFPP_CONTROLLER` or `OFPP_ANY` (= none = CONTROLLER);
    /// other reserved ports are `OFPBRC_BAD_PORT`. Outputs to ports that
    /// don't exist are dropped silently (as OVS does). Runs on the
    /// caller's thread: sends directly, counts like the workers.
    pub fn packet_out(
        &self,
        in_port: u32,
        actions: &[Action],
        frame: &[u8],
    ) -> Result<(), WireError> {
        let in_port = match in_port {
            OFPP_ANY => OFPP_CONTROLLER,
            p if p <= OFPP_MAX || p == OFPP_LOCAL || p == OFPP_CONTROLLER => p,
            p => {
                return Err(WireError::new(
                    OFPBRC_BAD_PORT,
                    format!("packet_out in_port {}", ofproto::text::format_port(p)),
                ))
            }
        };
        let snap = self.snapshot();
        let ports = self.ports.load_full();
        let mut pkt = Packet::parse(Frame::new(frame), in_port);
        let mut stats = LocalStats::default();
        let mut targets = Vec::new();
        let mut sink = DirectSink;
        let mut cx = Ctx {
            dp: self,
            ports: &ports,
            snap: &snap,
            now: clock::now(),
            in_port,
            sink: &mut sink,
            stats: &mut stats,
            targets: &mut targets,
            allow_table: true,
        };
        for a in actions {
            let op = compile(a, &Origin::PACKET_OUT);
            if cx.exec_op(&mut pkt, &op) == Step::Stop {
                break;
            }
        }
        stats.flush(&self.stats);
        Ok(())
    }

    /// ofproto/trace: what the pipeline does with `frame` from `in_port`,
    /// without sending anything or touching counters.
    pub fn trace(&self, in_port: u32, frame: &[u8]) -> Trace {
        trace::trace(self, in_port, frame, None)
    }

    /// Same, from a flow description instead of a frame (the key is built from it).
    ///
    /// A frame is synthesized from the key's fields (Ethernet, VLAN, ARP /
    /// IPv4 / IPv6 with TCP/UDP/SCTP/ICMP, MPLS), so actions rewrite real
    /// headers; `metadata` and `tunnel_id` are taken from the key.
    pub fn trace_key(&self, key: &FlowKey) -> Trace {
        let frame = trace::frame_from_key(key);
        trace::trace(self, key.in_port(), &frame, Some(key))
    }
}

fn table_miss_code(m: TableMiss) -> u8 {
    match m {
        TableMiss::Drop => 0,
        TableMiss::Controller => 1,
    }
}

impl Workers {
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.stop.store(true, Relaxed);
        for w in &self.wakers {
            w.signal();
        }
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!(bridge = %self.dp.bridge, "a data-plane worker panicked");
            }
        }
        {
            let mut all = self.dp.lock_wakers();
            all.retain(|w| !self.wakers.iter().any(|m| Arc::ptr_eq(w, m)));
        }
        self.wakers.clear();
        self.dp.running.store(false, Relaxed);
    }

    /// Number of worker threads.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("bridge", &self.dp.bridge)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[allow(dead_code)]
const _ASSERT_SEND_SYNC: fn() = || {
    fn is<T: Send + Sync>() {}
    is::<Datapath>();
    is::<Workers>();
};
