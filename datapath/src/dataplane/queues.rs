//! Per-port queues (OF1.3.5 §7.2.2 `ofp_packet_queue`, §7.3.4.5 set_queue
//! semantics, QUEUE_GET_CONFIG, `OFPMP_QUEUE`): configuration, shaping and
//! counters.
//!
//! ## What a queue is here
//! Every port has queue 0, the default queue; more queues come from the
//! configuration (`queues = ["IFNAME:QUEUE:max=RATE,min=RATE"]`, see
//! [`QueueSpec`]). `set_queue:Q` gives the packet queue Q for the outputs
//! after it (apply_actions of that table and later ones, and the action
//! set, where set_queue runs before output). An output to a port that has
//! no queue Q goes out on the default queue, unshaped — as Open vSwitch
//! does when a queue id has no priority mapping on the port.
//!
//! ## Shaping
//! tapflowd writes frames straight into TAPs and AF_PACKET sockets: tc on a
//! TAP shapes the *other* direction (what tapflowd writes is that
//! interface's ingress), so `max` is enforced here with the meters'
//! lock-free [`TokenBucket`] (GCRA, one atomic per queue shared by all
//! workers), holding [`BURST_SECS_DIV`]-th of a second of traffic (at least
//! two full-size frames), counting the Ethernet frame as sent, without
//! FCS (as the meters count). There is no buffer to hold a frame that is over
//! the rate: it is dropped and counted as the queue's `tx_errors`, which is
//! what Open vSwitch reports for a Linux queue (the tc class's drops).
//!
//! `min` is reported in QUEUE_GET_CONFIG but not enforced: guaranteeing a
//! minimum needs a scheduler that holds back *other* queues' frames while
//! this one has some waiting; a switch that transmits synchronously, without
//! transmit queues of its own, never has frames waiting to prefer.
//!
//! ## Counters
//! A configured queue counts what it admitted (`tx_packets`/`tx_bytes`) and
//! what it dropped (`tx_errors`). Queue 0 counts nothing of its own (no
//! atomic per unshaped packet on the hot path): its counters are the port's
//! transmit counters less the configured queues' — everything else the port
//! sent went out on the default queue.
//!
//! ## Rates on the wire
//! QUEUE_GET_CONFIG gives rates in 1/10 % of the port's current speed
//! (`ofp_port.curr_speed`, kbit/s): `permille = rate_bps / curr_speed_kbps`,
//! rounded, at least 1 for a non-zero rate and at most 1000. A port with an
//! unknown speed (0) gets no rate properties, as Open vSwitch omits them.

use super::Datapath;
use crate::config::{check_ifname, ConfigError};
use crate::pipeline::groups::duration;
use crate::pipeline::meters::TokenBucket;
use crate::pipeline::Nanos;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// The default queue every port has.
pub const DEFAULT_QUEUE: u32 = 0;
/// The bucket holds 1/`BURST_SECS_DIV` s of traffic at the queue's rate.
pub const BURST_SECS_DIV: u64 = 50;
/// ... but at least this many bits (two 1518-byte frames).
pub const MIN_BURST_BITS: u64 = 2 * 1518 * 8;

/// One configured queue: `IFNAME:QUEUE[:min=RATE][,max=RATE]`, rates in
/// bit/s with an optional SI suffix (`k`, `M`, `G`: 10^3, 10^6, 10^9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    pub ifname: String,
    pub queue_id: u32,
    /// Bit/s; reported, not enforced (module doc).
    pub min_rate: Option<u64>,
    /// Bit/s; enforced.
    pub max_rate: Option<u64>,
}

impl fmt::Display for QueueSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ifname, self.queue_id)?;
        let mut sep = ':';
        for (k, v) in [("min", self.min_rate), ("max", self.max_rate)] {
            if let Some(v) = v {
                write!(f, "{sep}{k}={v}")?;
                sep = ',';
            }
        }
        Ok(())
    }
}

/// `10M`, `1.5G`, `64k`, `1000`: bit/s.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1e3),
        Some((i, 'M' | 'm')) => (&s[..i], 1e6),
        Some((i, 'G' | 'g')) => (&s[..i], 1e9),
        _ => (s, 1.0),
    };
    let v: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            format!("rate '{s}' is not a positive number of bit/s (suffix k, M or G)")
        })?;
    let bps = (v * mult).round();
    if !(1.0..=1e15).contains(&bps) {
        return Err(format!(
            "rate '{s}' is out of range (1 bit/s to 1000 Tbit/s)"
        ));
    }
    Ok(bps as u64)
}

impl FromStr for QueueSpec {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = |m: String| ConfigError(format!("queue '{s}': {m}"));
        let mut parts = s.splitn(3, ':');
        let ifname = parts.next().unwrap_or_default();
        check_ifname(ifname).map_err(|e| bad(e.0))?;
        let q = parts
            .next()
            .ok_or_else(|| bad("needs IFNAME:QUEUE[:min=RATE][,max=RATE]".into()))?;
        let queue_id: u32 = q
            .parse()
            .map_err(|_| bad(format!("queue id '{q}' is not a number")))?;
        if queue_id == DEFAULT_QUEUE || queue_id == ofproto::consts::OFPQ_ALL {
            return Err(bad(format!(
                "queue id {queue_id} cannot be configured (0 is the default queue, {:#x} is OFPQ_ALL)",
                ofproto::consts::OFPQ_ALL
            )));
        }
        let mut spec = QueueSpec {
            ifname: ifname.to_string(),
            queue_id,
            min_rate: None,
            max_rate: None,
        };
        for kv in parts
            .next()
            .unwrap_or_default()
            .split(',')
            .filter(|x| !x.is_empty())
        {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| bad(format!("'{kv}' is not KEY=RATE (min=RATE or max=RATE)")))?;
            let rate = parse_rate(v).map_err(bad)?;
            let slot = match k {
                "min" => &mut spec.min_rate,
                "max" => &mut spec.max_rate,
                _ => return Err(bad(format!("unknown key '{k}' (min or max)"))),
            };
            if slot.replace(rate).is_some() {
                return Err(bad(format!("'{k}' given twice")));
            }
        }
        if let (Some(min), Some(max)) = (spec.min_rate, spec.max_rate) {
            if min > max {
                return Err(bad(format!("min rate {min} is above max rate {max}")));
            }
        }
        Ok(spec)
    }
}

/// Checks a bridge's queue list: each queue once per interface.
pub fn check_queue_specs(specs: &[QueueSpec]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for q in specs {
        if !seen.insert((q.ifname.as_str(), q.queue_id)) {
            return Err(ConfigError(format!(
                "queue {} of port '{}' is configured twice",
                q.queue_id, q.ifname
            )));
        }
    }
    Ok(())
}

/// One configured queue's live state.
#[derive(Debug)]
pub struct Queue {
    pub spec: QueueSpec,
    bucket: Option<TokenBucket>,
    pub tx_packets: AtomicU64,
    pub tx_bytes: AtomicU64,
    pub tx_errors: AtomicU64,
    pub created: Nanos,
}

impl Queue {
    pub fn new(spec: QueueSpec, now: Nanos) -> Queue {
        Queue {
            bucket: spec
                .max_rate
                .map(|r| TokenBucket::new(r, (r / BURST_SECS_DIV).max(MIN_BURST_BITS))),
            spec,
            tx_packets: AtomicU64::new(0),
            tx_bytes: AtomicU64::new(0),
            tx_errors: AtomicU64::new(0),
            created: now,
        }
    }

    /// Whether a frame of `bytes` may leave now; counts either way.
    #[inline]
    pub fn admit(&self, bytes: u64, now: Nanos) -> bool {
        if let Some(b) = &self.bucket {
            if !b.take(bytes * 8, now) {
                self.tx_errors.fetch_add(1, Relaxed);
                return false;
            }
        }
        self.tx_packets.fetch_add(1, Relaxed);
        self.tx_bytes.fetch_add(bytes, Relaxed);
        true
    }
}

/// The bridge's configured queues by interface name (names, not OpenFlow
/// port numbers: the configuration names interfaces, and a port keeps its
/// queues when it is re-added under another number).
#[derive(Default)]
pub struct QueueTable {
    by_port: ArcSwap<HashMap<String, Vec<Arc<Queue>>>>,
}

impl QueueTable {
    /// Replaces the configuration (counters start from zero).
    pub fn configure(&self, specs: &[QueueSpec], now: Nanos) {
        let mut m: HashMap<String, Vec<Arc<Queue>>> = HashMap::new();
        for s in specs {
            m.entry(s.ifname.clone())
                .or_default()
                .push(Arc::new(Queue::new(s.clone(), now)));
        }
        for v in m.values_mut() {
            v.sort_by_key(|q| q.spec.queue_id);
        }
        self.by_port.store(Arc::new(m));
    }

    /// Queue `queue_id` of interface `ifname`, if configured.
    #[inline]
    pub fn get(&self, ifname: &str, queue_id: u32) -> Option<Arc<Queue>> {
        let m = self.by_port.load();
        m.get(ifname)?
            .iter()
            .find(|q| q.spec.queue_id == queue_id)
            .cloned()
    }

    /// Whether a frame of `bytes` for queue `queue_id` may leave through
    /// `ifname`; a queue the port does not have is the default queue.
    #[inline]
    pub fn admit(&self, ifname: &str, queue_id: u32, bytes: u64, now: Nanos) -> bool {
        match self.get(ifname, queue_id) {
            Some(q) => q.admit(bytes, now),
            None => true,
        }
    }

    /// The configured queues of `ifname`, by id.
    pub fn of_port(&self, ifname: &str) -> Vec<Arc<Queue>> {
        self.by_port.load().get(ifname).cloned().unwrap_or_default()
    }
}

/// One queue as QUEUE_GET_CONFIG and `OFPMP_QUEUE` report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueReport {
    pub queue_id: u32,
    pub min_rate: Option<u64>,
    pub max_rate: Option<u64>,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_errors: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

/// A port's queues, default queue first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortQueues {
    pub ofport: u32,
    pub queues: Vec<QueueReport>,
}

/// A rate in 1/10 % of `curr_speed_kbps` (module doc); `None` when the
/// speed is unknown.
pub fn rate_permille(rate_bps: u64, curr_speed_kbps: u32) -> Option<u16> {
    if curr_speed_kbps == 0 {
        return None;
    }
    let s = u128::from(curr_speed_kbps);
    let p = (u128::from(rate_bps) + s / 2) / s;
    Some(p.clamp(1, 1000) as u16)
}

impl Datapath {
    /// Replaces the bridge's queue configuration.
    pub fn configure_queues(&self, specs: &[QueueSpec]) {
        self.queues.configure(specs, crate::pipeline::clock::now());
    }

    /// Every port's queues with their counters, by OpenFlow port number.
    pub fn queue_reports(&self) -> Vec<PortQueues> {
        let now = crate::pipeline::clock::now();
        let ports = self.ports.load();
        let mut out: Vec<PortQueues> = ports
            .list
            .iter()
            .map(|e| {
                let configured = self.queues.of_port(e.port.name());
                let (mut pk, mut by) = (e.tx.packets.load(Relaxed), e.tx.bytes.load(Relaxed));
                let mut queues = Vec::with_capacity(configured.len() + 1);
                for q in &configured {
                    let (sec, nsec) = duration(q.created, now);
                    let (p, b) = (q.tx_packets.load(Relaxed), q.tx_bytes.load(Relaxed));
                    pk = pk.saturating_sub(p);
                    by = by.saturating_sub(b);
                    queues.push(QueueReport {
                        queue_id: q.spec.queue_id,
                        min_rate: q.spec.min_rate,
                        max_rate: q.spec.max_rate,
                        tx_packets: p,
                        tx_bytes: b,
                        tx_errors: q.tx_errors.load(Relaxed),
                        duration_sec: sec,
                        duration_nsec: nsec,
                    });
                }
                // The default queue exists since the daemon started (the
                // clock's epoch).
                let (sec, nsec) = duration(0, now);
                queues.insert(
                    0,
                    QueueReport {
                        queue_id: DEFAULT_QUEUE,
                        min_rate: None,
                        max_rate: None,
                        tx_packets: pk,
                        tx_bytes: by,
                        tx_errors: 0,
                        duration_sec: sec,
                        duration_nsec: nsec,
                    },
                );
                PortQueues {
                    ofport: e.ofport,
                    queues,
                }
            })
            .collect();
        out.sort_by_key(|p| p.ofport);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::NANOS_PER_SEC;

    #[test]
    fn specs_parse_and_print() {
        let q: QueueSpec = "vnet0:1:min=10M,max=100M".parse().unwrap();
        assert_eq!(
            q,
            QueueSpec {
                ifname: "vnet0".into(),
                queue_id: 1,
                min_rate: Some(10_000_000),
                max_rate: Some(100_000_000),
            }
        );
        assert_eq!(q.to_string(), "vnet0:1:min=10000000,max=100000000");
        assert_eq!(q.to_string().parse::<QueueSpec>().unwrap(), q);
        let q: QueueSpec = "tap1:7".parse().unwrap();
        assert_eq!((q.queue_id, q.min_rate, q.max_rate), (7, None, None));
        let q: QueueSpec = "tap1:2:max=1.5G".parse().unwrap();
        assert_eq!(q.max_rate, Some(1_500_000_000));
        assert_eq!(parse_rate("64k").unwrap(), 64_000);
        assert_eq!(parse_rate("1000").unwrap(), 1000);
    }

    #[test]
    fn bad_specs_name_the_entry() {
        for (s, what) in [
            ("vnet0", "IFNAME:QUEUE"),
            ("vnet0:x", "not a number"),
            ("vnet0:0:max=1M", "default queue"),
            ("vnet0:4294967295", "OFPQ_ALL"),
            ("vnet0:1:max=fast", "not a positive number"),
            ("vnet0:1:max=0", "not a positive number"),
            ("vnet0:1:max=-5M", "not a positive number"),
            ("vnet0:1:burst=1M", "unknown key 'burst'"),
            ("vnet0:1:max=1M,max=2M", "given twice"),
            ("vnet0:1:min=2M,max=1M", "above max"),
            ("vnet0:1:max", "KEY=RATE"),
            (":1", "interface name"),
        ] {
            let e = s.parse::<QueueSpec>().unwrap_err().0;
            assert!(e.starts_with(&format!("queue '{s}'")), "{s}: {e}");
            assert!(e.contains(what), "{s}: {e}");
        }
        let two = ["a:1:max=1M".parse().unwrap(), "a:1".parse().unwrap()];
        let e = check_queue_specs(&two).unwrap_err().0;
        assert!(e.contains("queue 1 of port 'a' is configured twice"), "{e}");
        let ok = ["a:1".parse().unwrap(), "b:1".parse().unwrap()];
        check_queue_specs(&ok).unwrap();
    }

    /// 10 Mbit/s for one simulated second of 1000-byte frames offered at
    /// 30 Mbit/s: about a third gets through (the burst on top), the rest
    /// is counted as tx_errors.
    #[test]
    fn shaping_holds_the_max_rate_on_a_simulated_clock() {
        let q = Queue::new("p:1:max=10M".parse().unwrap(), 0);
        let frame = 1000u64;
        let interval = NANOS_PER_SEC * frame * 8 / 30_000_000; // 30 Mbit/s
        let mut now = 0;
        let n = 30_000_000 / (frame * 8); // one second's worth
        for _ in 0..n {
            q.admit(frame, now);
            now += interval;
        }
        let sent_bits = q.tx_bytes.load(Relaxed) * 8;
        let burst = 10_000_000 / BURST_SECS_DIV;
        assert!(sent_bits <= 10_000_000 + burst + frame * 8, "{sent_bits}");
        assert!(sent_bits >= 10_000_000 - frame * 8 * 2, "{sent_bits}");
        assert_eq!(
            q.tx_packets.load(Relaxed) + q.tx_errors.load(Relaxed),
            n,
            "every frame is either sent or counted as an error"
        );
        // Idle for a second: the bucket refills only up to its burst.
        now += NANOS_PER_SEC;
        let before = q.tx_packets.load(Relaxed);
        for _ in 0..100 {
            q.admit(frame, now);
        }
        let burst_frames = q.tx_packets.load(Relaxed) - before;
        assert_eq!(burst_frames, burst / (frame * 8));
    }

    #[test]
    fn unshaped_queue_counts_everything() {
        let q = Queue::new("p:3:min=1M".parse().unwrap(), 0);
        for i in 0..1000 {
            assert!(q.admit(1500, i));
        }
        assert_eq!(q.tx_packets.load(Relaxed), 1000);
        assert_eq!(q.tx_bytes.load(Relaxed), 1_500_000);
        assert_eq!(q.tx_errors.load(Relaxed), 0);
    }

    #[test]
    fn table_lookup_and_default_queue() {
        let t = QueueTable::default();
        t.configure(
            &[
                "a:2:max=1k".parse().unwrap(),
                "a:1".parse().unwrap(),
                "b:1".parse().unwrap(),
            ],
            0,
        );
        let ids: Vec<u32> = t.of_port("a").iter().map(|q| q.spec.queue_id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(t.get("a", 3).is_none());
        // Unknown queue: the default queue, never dropped.
        for _ in 0..100 {
            assert!(t.admit("a", 3, 1500, 0));
        }
        // 1 kbit/s, 24 kbit burst: two 1500-byte frames, then drops.
        let admitted = (0..10).filter(|_| t.admit("a", 2, 1500, 0)).count();
        assert_eq!(admitted, 2);
        assert_eq!(t.get("a", 2).unwrap().tx_errors.load(Relaxed), 8);
    }

    #[test]
    fn rates_in_tenths_of_a_percent() {
        let ten_g = 10_000_000; // kbit/s
        assert_eq!(rate_permille(10_000_000_000, ten_g), Some(1000));
        assert_eq!(rate_permille(20_000_000_000, ten_g), Some(1000));
        assert_eq!(rate_permille(1_000_000_000, ten_g), Some(100));
        assert_eq!(rate_permille(10_000_000, ten_g), Some(1));
        assert_eq!(rate_permille(1_000, ten_g), Some(1), "never 0");
        assert_eq!(rate_permille(15_000_000, 10_000), Some(1000));
        assert_eq!(rate_permille(5_000_000, 10_000), Some(500));
        assert_eq!(rate_permille(5_000_000, 0), None);
    }
}
