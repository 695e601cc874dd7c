//! The port set as the data plane sees it: an immutable [`PortMap`]
//! published through an `ArcSwap` (workers re-read it per batch, one
//! lock-free load), and per-port state that changes without republishing
//! (config bits, link state, counters) in atomics of the [`PortEntry`].
//!
//! ## Counter layout
//! A port's receive counters are written only by the worker that owns the
//! port's reads; its transmit counters by every worker (and the PACKET_OUT
//! caller) that sends to it. Each group sits on a 64-byte line of its own
//! (`repr(align(64))`), and both are apart from the read-mostly header
//! (`ofport`, the `Port` pointer, `config`, `state`) that every worker reads
//! for every output. So a worker counting what it received never steals the
//! line other workers need to decide where to send, and transmitters contend
//! only with each other — once per port per batch, since the workers add
//! per batch, not per frame.

use super::PortCounters;
use crate::port::{Offloads, Port};
use ofproto::consts::{OFPPC_NO_FWD, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN};
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct RxCounters {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
}

#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct TxCounters {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
}

/// One port of the bridge.
pub(crate) struct PortEntry {
    pub ofport: u32,
    /// Order of addition: worker `seq % n` reads the port (stable while
    /// other ports come and go, so a port never changes reader).
    pub seq: u64,
    pub port: Arc<dyn Port>,
    /// `tx_offloads()` when the port was added.
    pub offloads: Offloads,
    /// `OFPPC_*` from PORT_MOD.
    pub config: AtomicU32,
    /// `OFPPS_*` (only `LINK_DOWN` is used by the data plane).
    pub state: AtomicU32,
    pub rx: RxCounters,
    pub tx: TxCounters,
}

impl PortEntry {
    pub fn new(ofport: u32, seq: u64, port: Arc<dyn Port>) -> PortEntry {
        PortEntry {
            ofport,
            seq,
            offloads: port.tx_offloads(),
            port,
            config: AtomicU32::new(0),
            state: AtomicU32::new(0),
            rx: RxCounters::default(),
            tx: TxCounters::default(),
        }
    }

    /// Whether frames may be sent out of this port: not administratively
    /// down, not `NO_FWD`, link up.
    #[inline]
    pub fn can_forward(&self) -> bool {
        self.config.load(Relaxed) & (OFPPC_PORT_DOWN | OFPPC_NO_FWD) == 0
            && self.state.load(Relaxed) & OFPPS_LINK_DOWN == 0
    }

    pub fn counters(&self) -> PortCounters {
        PortCounters {
            rx_packets: self.rx.packets.load(Relaxed),
            tx_packets: self.tx.packets.load(Relaxed),
            rx_bytes: self.rx.bytes.load(Relaxed),
            tx_bytes: self.tx.bytes.load(Relaxed),
            rx_dropped: self.rx.dropped.load(Relaxed),
            tx_dropped: self.tx.dropped.load(Relaxed),
            rx_errors: self.rx.errors.load(Relaxed),
            tx_errors: self.tx.errors.load(Relaxed),
        }
    }

    /// Sends `frames` (all to this port), counting what went out, what the
    /// port refused (queue full, link down, GSO it cannot take: `tx_dropped`)
    /// and what failed otherwise (`tx_errors`).
    pub fn transmit(&self, frames: &[crate::port::TxFrame<'_>]) {
        let (mut pk, mut by, mut dr, mut er) = (0u64, 0u64, 0u64, 0u64);
        let mut i = 0;
        while i < frames.len() {
            match self.port.send_batch(&frames[i..]) {
                Ok(0) => {
                    dr += (frames.len() - i) as u64;
                    break;
                }
                Ok(n) => {
                    pk += n as u64;
                    by += frames[i..i + n]
                        .iter()
                        .map(|f| f.data.len() as u64)
                        .sum::<u64>();
                    i += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Queue full: the rest would fail the same way.
                    dr += (frames.len() - i) as u64;
                    break;
                }
                Err(e) => {
                    if is_drop(&e) {
                        dr += 1;
                    } else {
                        er += 1;
                    }
                    i += 1;
                }
            }
        }
        if pk > 0 {
            self.tx.packets.fetch_add(pk, Relaxed);
            self.tx.bytes.fetch_add(by, Relaxed);
        }
        if dr > 0 {
            self.tx.dropped.fetch_add(dr, Relaxed);
        }
        if er > 0 {
            self.tx.errors.fetch_add(er, Relaxed);
        }
    }
}

/// Send failures that are the port saying "not now / not this frame"
/// rather than something broken.
fn is_drop(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::WouldBlock
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::ENETDOWN | libc::ENOBUFS | libc::ENXIO | libc::EBADFD)
    )
}

/// The published port set: sorted by ofport, immutable.
#[derive(Default)]
pub(crate) struct PortMap {
    /// Bumped by every change of the set (not by config/state changes).
    pub generation: u64,
    pub list: Vec<Arc<PortEntry>>,
}

impl PortMap {
    #[inline]
    pub fn index_of(&self, ofport: u32) -> Option<usize> {
        self.list.binary_search_by_key(&ofport, |e| e.ofport).ok()
    }

    #[inline]
    pub fn get(&self, ofport: u32) -> Option<&Arc<PortEntry>> {
        self.index_of(ofport).map(|i| &self.list[i])
    }

    /// A copy with `entry` added (replacing any port with its number).
    pub fn with(&self, entry: Arc<PortEntry>) -> PortMap {
        let mut list = self.list.clone();
        match list.binary_search_by_key(&entry.ofport, |e| e.ofport) {
            Ok(i) => list[i] = entry,
            Err(i) => list.insert(i, entry),
        }
        PortMap {
            generation: self.generation + 1,
            list,
        }
    }

    /// A copy without port `ofport`, and the entry removed.
    pub fn without(&self, ofport: u32) -> Option<(PortMap, Arc<PortEntry>)> {
        let i = self.index_of(ofport)?;
        let mut list = self.list.clone();
        let e = list.remove(i);
        Some((
            PortMap {
                generation: self.generation + 1,
                list,
            },
            e,
        ))
    }
}
