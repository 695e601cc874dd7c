//! `output:NORMAL`: a MAC-learning L2 switch, VLAN-aware.
//!
//! Behaves like OVS's NORMAL on a bridge without VLAN configuration: every
//! port is a trunk carrying whatever tag the frame has; addresses are
//! learned and looked up per VLAN (the outermost tag's VID, or "untagged"),
//! so the same MAC on two VLANs is two entries and a frame never goes to a
//! port learned on another VLAN. Unknown unicast, broadcast and multicast
//! are flooded to every port except the ingress one (and ports that cannot
//! forward: NO_FWD, PORT_DOWN, link down). A frame whose destination was
//! learned on its ingress port is dropped (the destination is behind the
//! port it came from). Entries age out after `aging` (300 s by default, as
//! in OVS).
//!
//! The table is shared by all workers: 64 shards, each a `RwLock`ed hash
//! map. Lookups and refreshes of an existing entry take a shard's read lock
//! only (port and last-seen time are atomics in the entry, and the time is
//! rewritten at most every [`REFRESH`] ns, so a busy flow does not bounce
//! the entry's line between cores); the write lock is taken only to learn
//! a new address or a move. Full shards evict expired entries, and learn
//! nothing new while still full (bounded memory under a MAC flood).

use super::cache::SeededState;
use crate::pipeline::{Nanos, NANOS_PER_SEC};
use ofproto::MacAddr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::RwLock;

const SHARDS: usize = 64;
/// Default maximum number of entries (all shards).
pub const DEFAULT_MAX_ENTRIES: usize = 65536;
/// Default aging time (OVS's `mac-aging-time`).
pub const DEFAULT_AGING: Nanos = 300 * NANOS_PER_SEC;
/// An existing entry's last-seen time is refreshed at most this often.
const REFRESH: Nanos = NANOS_PER_SEC / 10;

struct MacEntry {
    port: AtomicU32,
    seen: AtomicU64,
}

pub(crate) struct MacTable {
    shards: Box<[RwLock<HashMap<u64, MacEntry, SeededState>>]>,
    aging: AtomicU64,
    max_per_shard: usize,
    hasher: SeededState,
}

/// (VLAN, MAC) as one word: bits 48..61 the 13-bit `vlan_vid` of the key
/// (VID | OFPVID_PRESENT, 0 = untagged), bits 0..48 the address.
#[inline]
fn mac_key(vlan: u16, mac: MacAddr) -> u64 {
    let m = mac.0;
    (u64::from(vlan & 0x1fff) << 48)
        | u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
}

/// Group bit set: broadcast or multicast.
#[inline]
pub(crate) fn is_multicast(mac: MacAddr) -> bool {
    mac.0[0] & 1 != 0
}

impl MacTable {
    pub fn new(max_entries: usize, aging: Nanos) -> MacTable {
        MacTable {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_hasher(SeededState::new())))
                .collect(),
            aging: AtomicU64::new(aging),
            max_per_shard: max_entries.div_ceil(SHARDS).max(1),
            hasher: SeededState::new(),
        }
    }

    pub fn set_aging(&self, aging: Nanos) {
        self.aging.store(aging.max(1), Relaxed);
    }

    pub fn aging(&self) -> Nanos {
        self.aging.load(Relaxed)
    }

    #[inline]
    fn shard(&self, k: u64) -> &RwLock<HashMap<u64, MacEntry, SeededState>> {
        let h = self.hasher.hash_u64(k);
        &self.shards[(h >> 58) as usize % SHARDS]
    }

    /// `mac` on `vlan` was seen on `port` at `now`.
    pub fn learn(&self, vlan: u16, mac: MacAddr, port: u32, now: Nanos) {
        if is_multicast(mac) {
            return;
        }
        let k = mac_key(vlan, mac);
        let shard = self.shard(k);
        {
            let s = shard.read().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = s.get(&k) {
                if e.port.load(Relaxed) == port {
                    if now.saturating_sub(e.seen.load(Relaxed)) >= REFRESH {
                        e.seen.store(now, Relaxed);
                    }
                    return;
                }
            }
        }
        let aging = self.aging();
        let mut s = shard.write().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = s.get(&k) {
            // A move (or a race with another learner): last writer wins.
            e.port.store(port, Relaxed);
            e.seen.store(now, Relaxed);
            return;
        }
        if s.len() >= self.max_per_shard {
            s.retain(|_, e| now.saturating_sub(e.seen.load(Relaxed)) < aging);
            if s.len() >= self.max_per_shard {
                return;
            }
        }
        s.insert(
            k,
            MacEntry {
                port: AtomicU32::new(port),
                seen: AtomicU64::new(now),
            },
        );
    }

    /// The port `mac` on `vlan` was learned on, unless aged out.
    pub fn lookup(&self, vlan: u16, mac: MacAddr, now: Nanos) -> Option<u32> {
        let k = mac_key(vlan, mac);
        let s = self.shard(k).read().unwrap_or_else(|e| e.into_inner());
        let e = s.get(&k)?;
        (now.saturating_sub(e.seen.load(Relaxed)) < self.aging()).then(|| e.port.load(Relaxed))
    }

    /// Forgets everything learned on `port` (the port went away).
    pub fn flush_port(&self, port: u32) {
        for sh in self.shards.iter() {
            let mut s = sh.write().unwrap_or_else(|e| e.into_inner());
            s.retain(|_, e| e.port.load(Relaxed) != port);
        }
    }

    pub fn flush(&self) {
        for sh in self.shards.iter() {
            sh.write().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Live entries: (vlan_vid, MAC, port, age in ns), sorted.
    pub fn entries(&self, now: Nanos) -> Vec<(u16, MacAddr, u32, Nanos)> {
        let aging = self.aging();
        let mut out = Vec::new();
        for sh in self.shards.iter() {
            let s = sh.read().unwrap_or_else(|e| e.into_inner());
            for (k, e) in s.iter() {
                let age = now.saturating_sub(e.seen.load(Relaxed));
                if age < aging {
                    let b = k.to_be_bytes();
                    let mac = MacAddr([b[2], b[3], b[4], b[5], b[6], b[7]]);
                    out.push(((k >> 48) as u16, mac, e.port.load(Relaxed), age));
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 2]);
    const S: Nanos = NANOS_PER_SEC;

    #[test]
    fn mac_table_learns_per_vlan_and_ages_out() {
        let t = MacTable::new(1024, 300 * S);
        t.learn(0, A, 1, 10 * S);
        t.learn(0x1000 | 10, A, 2, 10 * S);
        assert_eq!(t.lookup(0, A, 11 * S), Some(1));
        assert_eq!(t.lookup(0x1000 | 10, A, 11 * S), Some(2));
        assert_eq!(t.lookup(0x1000 | 11, A, 11 * S), None);
        assert_eq!(t.lookup(0, B, 11 * S), None);
        // Refreshed by traffic, then silent: gone 300 s after the last frame.
        t.learn(0, A, 1, 200 * S);
        assert_eq!(t.lookup(0, A, 499 * S), Some(1));
        assert_eq!(t.lookup(0, A, 500 * S), None);
    }

    #[test]
    fn mac_table_follows_a_move_and_ignores_multicast_sources() {
        let t = MacTable::new(1024, 300 * S);
        t.learn(0, A, 1, S);
        t.learn(0, A, 3, 2 * S);
        assert_eq!(t.lookup(0, A, 3 * S), Some(3));
        let mc = MacAddr([0x01, 0, 0x5e, 0, 0, 1]);
        t.learn(0, mc, 1, S);
        assert_eq!(t.lookup(0, mc, S), None);
        t.flush_port(3);
        assert_eq!(t.lookup(0, A, 3 * S), None);
    }

    #[test]
    fn mac_table_stays_bounded_and_evicts_expired_entries_when_full() {
        let t = MacTable::new(SHARDS, 10 * S); // one entry per shard
        for i in 0..1000u32 {
            let b = i.to_be_bytes();
            t.learn(0, MacAddr([2, 0, b[0], b[1], b[2], b[3]]), 1, S);
        }
        assert!(t.entries(S).len() <= SHARDS);
        // Everything expired: new addresses get in again.
        for i in 0..1000u32 {
            let b = i.to_be_bytes();
            t.learn(0, MacAddr([4, 0, b[0], b[1], b[2], b[3]]), 2, 100 * S);
        }
        let e = t.entries(100 * S);
        assert!(!e.is_empty() && e.len() <= SHARDS);
        assert!(e.iter().all(|x| x.2 == 2));
    }
}
