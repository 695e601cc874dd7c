//! Data-plane worker threads.
//!
//! Each worker owns an epoll instance with its share of the ports (port
//! number `seq % n == id`, `seq` being the order of addition) plus an
//! eventfd the control plane signals when the port set changes or the
//! workers should stop; epoll is level-triggered with a 100 ms timeout as a
//! backstop. When a port is readable the worker drains it in batches
//! (`recv_batch`, up to [`BUDGET`] batches before looking at other ports)
//! and processes each batch:
//!
//! 1. rx counters; drop everything if the port has NO_RECV / PORT_DOWN;
//! 2. load the pipeline snapshot and the port map — **after** the receive
//!    (see the BARRIER note in [`Worker::process`]);
//! 3. per frame: parse → flow cache (exact key + header shape, valid for
//!    one snapshot generation) → hit: replay the recorded ops; miss: run
//!    the pipeline (executing as it goes) and cache what it recorded;
//! 4. flush flow/table counters (once per flow per batch) and transmit:
//!    outputs are queued per destination port and sent with one
//!    `send_batch` per port; a frame nothing changes after its output is
//!    sent from the receive buffer itself, others from a reused copy arena.
//!
//! A port whose receive fails (a TAP whose interface was deleted reads
//! EBADFD and polls EPOLLERR for ever) is taken out of the epoll set and
//! retried every second, so it can't spin the worker.

use super::cache::{cache_key, FlowCache};
use super::exec::{gso_fits, transmit_segmented, Ctx, Recorder, Sink};
use super::ports::{PortEntry, PortMap};
use super::{Datapath, LocalStats};
use crate::packet::Packet;
use crate::pipeline::{clock, SnapshotReader};
use crate::port::{PacketBatch, TxFrame, TxMeta, VnetHdr};
use ofproto::consts::{OFPPC_NO_RECV, OFPPC_PORT_DOWN};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Batches read from one port before the worker looks at the others.
const BUDGET: usize = 8;
/// epoll_wait timeout.
const POLL_MS: i32 = 100;
/// How long a port whose receive failed stays out of the epoll set.
const PARK: Duration = Duration::from_secs(1);
const WAKE_TOKEN: u64 = u64::MAX;

/// An eventfd: wakes a worker out of epoll_wait.
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd we own.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn signal(&self) {
        let one: u64 = 1;
        // Can only fail when the counter would overflow (it is then
        // readable anyway) or on EAGAIN for the same reason.
        unsafe {
            libc::write(
                self.0.as_raw_fd(),
                &one as *const u64 as *const libc::c_void,
                8,
            );
        }
    }

    pub fn drain(&self) {
        let mut v: u64 = 0;
        unsafe {
            libc::read(
                self.0.as_raw_fd(),
                &mut v as *mut u64 as *mut libc::c_void,
                8,
            );
        }
    }

    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd we own.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        let r = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn del(&self, fd: RawFd) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        unsafe {
            libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev);
        }
    }

    fn wait(&self, events: &mut [libc::epoll_event], ms: i32) -> usize {
        let n = unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                ms,
            )
        };
        n.max(0) as usize
    }
}

#[derive(Clone, Copy)]
enum Src {
    /// Frame `i` of the receive batch, as it is at the end of the batch.
    Rx(u32),
    /// A copy in the arena.
    Arena(u32),
}

#[derive(Clone, Copy)]
struct TxItem {
    /// Index into the batch's port map.
    port: u32,
    seq: u32,
    src: Src,
    meta: VnetHdr,
}

/// Outputs of one batch, sent at its end.
#[derive(Default)]
pub(crate) struct TxQueue {
    items: Vec<TxItem>,
    /// Copies of frames changed after an output; reused (grows only).
    arena: Vec<Vec<u8>>,
    used: usize,
    /// Scratch for software segmentation (reused).
    gso_buf: Vec<u8>,
}

impl TxQueue {
    fn copy(&mut self, data: &[u8]) -> u32 {
        if self.used == self.arena.len() {
            self.arena.push(Vec::with_capacity(data.len().max(2048)));
        }
        let v = &mut self.arena[self.used];
        v.clear();
        v.extend_from_slice(data);
        self.used += 1;
        (self.used - 1) as u32
    }

    /// Sends everything queued, one `send_batch` per destination port.
    fn flush(&mut self, batch: &PacketBatch, ports: &PortMap) {
        if !self.items.is_empty() {
            // (port, seq): per port, in the order the outputs happened.
            self.items.sort_unstable_by_key(|t| (t.port, t.seq));
            const CHUNK: usize = 64;
            let mut frames = [TxFrame {
                data: &[],
                meta: TxMeta::PLAIN,
            }; CHUNK];
            let items = &self.items;
            let mut i = 0;
            while i < items.len() {
                let p = items[i].port;
                let entry = &ports.list[p as usize];
                let mut k = 0;
                while i < items.len() && items[i].port == p {
                    let it = items[i];
                    i += 1;
                    let data = match it.src {
                        Src::Rx(j) => batch.frame(j as usize),
                        Src::Arena(a) => &self.arena[a as usize],
                    };
                    if !gso_fits(entry, &it.meta) {
                        // Keep the port's order: what is queued goes first.
                        if k > 0 {
                            entry.transmit(&frames[..k]);
                            k = 0;
                        }
                        transmit_segmented(entry, data, &it.meta, &mut self.gso_buf);
                        continue;
                    }
                    frames[k] = TxFrame {
                        data,
                        meta: TxMeta { offload: it.meta },
                    };
                    k += 1;
                    if k == CHUNK {
                        entry.transmit(&frames[..k]);
                        k = 0;
                    }
                }
                if k > 0 {
                    entry.transmit(&frames[..k]);
                }
            }
            self.items.clear();
        }
        self.used = 0;
    }
}

/// The worker's sink: queues outputs for the end of the batch.
struct WorkerSink<'q> {
    q: &'q mut TxQueue,
    /// Index of the frame being processed.
    cur: u32,
}

impl Sink for WorkerSink<'_> {
    const LIVE: bool = true;

    #[inline]
    fn output(
        &mut self,
        _ports: &PortMap,
        targets: &[u32],
        frame: &[u8],
        meta: VnetHdr,
        copy: bool,
    ) {
        let src = if copy {
            Src::Arena(self.q.copy(frame))
        } else {
            Src::Rx(self.cur)
        };
        for &port in targets {
            let seq = self.q.items.len() as u32;
            self.q.items.push(TxItem {
                port,
                seq,
                src,
                meta,
            });
        }
    }
}

/// One worker's state: everything on the packet path that is not shared.
pub(crate) struct Worker {
    pub(crate) dp: Arc<Datapath>,
    id: usize,
    n: usize,
    reader: SnapshotReader,
    pub(crate) cache: FlowCache,
    rec: Recorder,
    pub(crate) batch: PacketBatch,
    tx: TxQueue,
    targets: Vec<u32>,
    stats: LocalStats,
    /// Run every packet through the pipeline (tests compare the paths).
    pub(crate) no_cache: bool,
}

impl Worker {
    pub fn new(dp: Arc<Datapath>, id: usize, n: usize) -> Worker {
        Worker {
            reader: dp.reader(),
            cache: FlowCache::new(dp.cache_capacity.load(Relaxed)),
            dp,
            id,
            n: n.max(1),
            rec: Recorder::default(),
            batch: PacketBatch::default(),
            tx: TxQueue::default(),
            targets: Vec::new(),
            stats: LocalStats::default(),
            no_cache: false,
        }
    }

    fn owns(&self, e: &PortEntry) -> bool {
        e.seq % self.n as u64 == self.id as u64
    }

    /// Reads and processes up to [`BUDGET`] batches from `entry`; returns
    /// how many frames were read.
    pub fn poll_port(&mut self, entry: &PortEntry) -> io::Result<usize> {
        let mut total = 0;
        for _ in 0..BUDGET {
            match entry.port.recv_batch(&mut self.batch) {
                Ok(0) => break,
                Ok(k) => {
                    total += k;
                    self.process(entry);
                    if k < self.batch.capacity() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) =>
                {
                    break
                }
                Err(e) => {
                    entry.rx.errors.fetch_add(1, Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    /// Processes the frames in `self.batch`, received on `entry`.
    pub fn process(&mut self, entry: &PortEntry) {
        let n = self.batch.len();
        if n == 0 {
            return;
        }
        let bytes: u64 = self.batch.iter().map(|b| b.len() as u64).sum();
        entry.rx.packets.fetch_add(n as u64, Relaxed);
        entry.rx.bytes.fetch_add(bytes, Relaxed);
        if entry.config.load(Relaxed) & (OFPPC_NO_RECV | OFPPC_PORT_DOWN) != 0 {
            entry.rx.dropped.fetch_add(n as u64, Relaxed);
            return;
        }
        let Worker {
            dp,
            reader,
            cache,
            rec,
            batch,
            tx,
            targets,
            stats,
            no_cache,
            ..
        } = self;
        // BARRIER guarantee: "the first frame read from any port after the
        // BARRIER_REPLY is written sees the new flows". The bridge publishes
        // the snapshot before it writes the reply, so a frame that entered
        // the port after the reply was sent is in this batch only if
        // `recv_batch` returned after the publish — and this load happens
        // after `recv_batch` returned, so it sees that snapshot (or a newer
        // one). Never hoist this load above the receive or keep a snapshot
        // across receives. The flow cache half: every cache lookup below
        // compares the entry's generation with this snapshot's, so nothing
        // computed from an older pipeline is replayed.
        let snap = &**reader.current();
        let ports = dp.ports.load();
        let generation = snap.generation();
        let now = clock::now();
        let in_port = entry.ofport;
        let fail_open = dp.fail_open();
        for i in 0..n {
            let buf = batch.get_mut(i);
            let len = buf.len() as u64;
            let mut pkt = Packet::parse(buf, in_port);
            let mut sink = WorkerSink {
                q: tx,
                cur: i as u32,
            };
            let mut cx = Ctx {
                dp,
                ports: &ports,
                snap,
                now,
                in_port,
                sink: &mut sink,
                stats,
                targets,
                allow_table: false,
            };
            if fail_open {
                cx.normal(&pkt, false);
                continue;
            }
            let key = cache_key(&pkt.key, &pkt.info);
            let h = cache.hash(&key);
            let hit = if *no_cache {
                None
            } else {
                cache.get(h, &key, generation)
            };
            if let Some(v) = hit {
                let v = Rc::clone(v);
                cache.account(&v, len);
                cx.stats.cache_hits += 1;
                cx.replay(&mut pkt, &v.ops);
            } else {
                cx.stats.cache_misses += 1;
                rec.reset();
                cx.run_pipeline(&mut pkt, rec, 0);
                if rec.cacheable && !*no_cache {
                    cache.insert(h, key, generation, rec.verdict());
                } else {
                    cx.stats.cache_uncacheable += 1;
                }
            }
        }
        cache.flush_counters(snap, now);
        tx.flush(batch, &ports);
        stats.flush(&dp.stats);
    }
}

/// The thread body.
pub(crate) fn run(mut w: Worker, stop: Arc<AtomicBool>, wake: Arc<EventFd>) {
    let ep = match Epoll::new().and_then(|ep| ep.add(wake.fd(), WAKE_TOKEN).map(|_| ep)) {
        Ok(ep) => ep,
        Err(e) => {
            tracing::error!(bridge = %w.dp.bridge, worker = w.id, "epoll setup failed: {e}");
            return;
        }
    };
    let mut mine: Option<Arc<PortMap>> = None;
    let mut registered: Vec<RawFd> = Vec::new();
    let mut parked: Vec<(u32, RawFd, Instant)> = Vec::new();
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
    while !stop.load(Relaxed) {
        let changed = match &mine {
            Some(m) => m.generation != w.dp.ports.load().generation,
            None => true,
        };
        if changed {
            // Unregister while we still hold the old map: its ports' fds
            // stay open (so no fd number can have been reused) until the
            // old map is dropped below.
            for fd in registered.drain(..) {
                ep.del(fd);
            }
            parked.clear();
            let cur = w.dp.ports.load_full();
            for e in cur.list.iter().filter(|e| w.owns(e)) {
                let fd = e.port.fd();
                match ep.add(fd, u64::from(e.ofport)) {
                    Ok(()) => registered.push(fd),
                    Err(err) => tracing::warn!(
                        bridge = %w.dp.bridge,
                        port = e.ofport,
                        "cannot poll port {}: {err}",
                        e.port.name()
                    ),
                }
            }
            mine = Some(cur);
        }
        let Some(map) = mine.clone() else { continue };
        if !parked.is_empty() {
            let now = Instant::now();
            parked.retain(|&(ofport, fd, since)| {
                if now.duration_since(since) < PARK {
                    return true;
                }
                if ep.add(fd, u64::from(ofport)).is_ok() {
                    registered.push(fd);
                }
                false
            });
        }
        let n = ep.wait(&mut events, POLL_MS);
        for ev in &events[..n] {
            let (token, flags) = (ev.u64, ev.events);
            if token == WAKE_TOKEN {
                wake.drain();
                continue;
            }
            let Some(entry) = map.get(token as u32) else {
                continue;
            };
            let failed = match w.poll_port(entry) {
                Ok(0) => flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0,
                Ok(_) => false,
                Err(_) => true,
            };
            if failed {
                let fd = entry.port.fd();
                ep.del(fd);
                registered.retain(|&f| f != fd);
                parked.push((entry.ofport, fd, Instant::now()));
            }
        }
    }
}
