//! The meter table (OF1.3.5 §5.7, METER_MOD §7.3.4.4): validation, the
//! owner's table, the [`MetersSnapshot`] the data plane meters through
//! (published with the flow tables), and the per-band token buckets.
//!
//! ## Rates
//! `OFPMF_KBPS` meters count frame bits (the Ethernet frame as received,
//! without FCS) at `rate` × 1000 bit/s; `OFPMF_PKTPS` meters count packets.
//! A meter with neither flag is a kbps meter (as OVS treats it); both is
//! `OFPMMFC_BAD_FLAGS`.
//!
//! ## Bursts
//! With `OFPMF_BURST` a band's bucket holds `burst_size` kbit (or packets);
//! without it, `burst_size` is ignored and the bucket holds `rate` units —
//! one second of traffic at the band's rate, the default Open vSwitch uses
//! (its kernel and TC meters set burst = rate when the flag is absent).
//!
//! ## Token buckets, lock-free
//! Each band is a token bucket kept as one `AtomicU64`: the "theoretical
//! arrival time" of the generic cell rate algorithm (GCRA). A packet costing
//! `c` units takes `c / rate` seconds of credit; the bucket is full when the
//! stored time is at or before `now`, and holds `burst / rate` seconds of
//! credit at most. A packet conforms — and only then consumes — when
//! `max(tat, now) + cost − now ≤ burst_time`; one compare-and-swap per band
//! per packet, shared by every worker, exact to the nanosecond (no
//! refill timer, no drift). [`TokenBucket`] takes `now` as an argument, so
//! the tests run it on a made-up clock.
//!
//! ## Bands
//! Every band measures the meter's whole input (a band consumes from its own
//! bucket when the packet conforms to it). Of the bands a packet exceeds,
//! the one with the highest rate applies (OF1.3.5 §5.7): drop, or
//! dscp_remark — the packet's drop precedence (DSCP bits 1–2, the AF
//! classes' y of AFxy) goes up by `prec_level`, capped at 3; non-IP packets
//! pass unchanged.
//!
//! ## Error codes (in this order)
//! | check | code |
//! | --- | --- |
//! | command not ADD/MODIFY/DELETE | `OFPMMFC_BAD_COMMAND` |
//! | meter_id 0, or > `OFPM_MAX` (but ALL for DELETE) — virtual meters (SLOWPATH, CONTROLLER) are not supported | `OFPMMFC_INVALID_METER` |
//! | ADD/MODIFY: flags other than KBPS/PKTPS/BURST/STATS, or KBPS and PKTPS | `OFPMMFC_BAD_FLAGS` |
//! | more bands than `max_bands` | `OFPMMFC_OUT_OF_BANDS` |
//! | experimenter band | `OFPMMFC_BAD_BAND` |
//! | band rate 0 | `OFPMMFC_BAD_RATE` |
//! | `OFPMF_BURST` with burst_size 0 | `OFPMMFC_BAD_BURST` |
//! | dscp_remark prec_level 0 or > 3 | `OFPMMFC_BAD_BAND_VALUE` |
//! | ADD of an existing meter | `OFPMMFC_METER_EXISTS` |
//! | MODIFY of a missing meter | `OFPMMFC_UNKNOWN_METER` |
//! | ADD past `max_meters` | `OFPMMFC_OUT_OF_METERS` |
//!
//! (An unknown band type never gets here: the decoder answers
//! `OFPMMFC_BAD_BAND`.) DELETE of a missing meter is no error; `OFPM_ALL`
//! deletes every meter; the caller removes the flows that use a deleted
//! meter. A flow naming a missing meter is refused with
//! `OFPMMFC_INVALID_METER`, as OVS does (bridge's FLOW_MOD checks).

use super::groups::{duration, IdModOutcome, IdSnapshot, PacketCounter};
use super::Nanos;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::meter::{MeterBand, MeterMod};
use ofproto::multipart::{MeterBandStats, MeterConfig, MeterFeatures, MeterStats};
use ofproto::WireError;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Every `OFPMF_*` flag OF1.3 defines.
pub const OFPMF_ALL: u16 = OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS;

/// Capacity limits of the meter table.
#[derive(Clone, Copy, Debug)]
pub struct MeterLimits {
    /// Meters in the table (`OFPMMFC_OUT_OF_METERS` beyond it).
    pub max_meters: u32,
    /// Bands per meter (`OFPMMFC_OUT_OF_BANDS` beyond it).
    pub max_bands: u8,
}

impl Default for MeterLimits {
    fn default() -> Self {
        MeterLimits {
            max_meters: 65536,
            max_bands: 8,
        }
    }
}

/// A token bucket as one atomic (GCRA; see the module doc).
#[derive(Debug)]
#[repr(align(64))]
pub struct TokenBucket {
    /// Nanoseconds of credit one unit (bit or packet) costs, × 2^16.
    unit_cost: u64,
    /// Credit the bucket holds when full, in ns × 2^16.
    capacity: u64,
    /// Theoretical arrival time, ns × 2^16 on the `now` clock.
    tat: AtomicU64,
}

const FRAC: u32 = 16;

impl TokenBucket {
    /// A full bucket for `rate` units/s holding `burst` units.
    pub fn new(rate: u64, burst: u64) -> TokenBucket {
        let rate = u128::from(rate.max(1));
        let unit_cost = ((1_000_000_000u128 << FRAC) / rate).min(u128::from(u64::MAX)) as u64;
        let capacity = (u128::from(burst) * (1_000_000_000u128 << FRAC) / rate)
            .min(u128::from(u64::MAX >> 1)) as u64;
        TokenBucket {
            unit_cost,
            capacity,
            tat: AtomicU64::new(0),
        }
    }

    /// Takes `units` from the bucket at `now` if they are there; false
    /// (nothing taken) if the packet exceeds the rate.
    #[inline]
    pub fn take(&self, units: u64, now: Nanos) -> bool {
        let now = now << FRAC;
        let cost = units.saturating_mul(self.unit_cost);
        let mut tat = self.tat.load(Relaxed);
        loop {
            let next = tat.max(now).saturating_add(cost);
            if next - now > self.capacity {
                return false;
            }
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) => return true,
                Err(t) => tat = t,
            }
        }
    }
}

/// What a band does to a packet that exceeds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandAction {
    Drop,
    /// Raise the drop precedence by this many levels.
    DscpRemark(u8),
}

#[derive(Debug)]
pub struct Band {
    pub action: BandAction,
    pub rate: u32,
    pub bucket: TokenBucket,
    pub counters: PacketCounter,
}

/// One meter; immutable configuration, shared mutable token buckets and
/// counters (MODIFY installs a new meter with full buckets).
#[derive(Debug)]
pub struct Meter {
    pub id: u32,
    pub flags: u16,
    /// As configured (METER_CONFIG replies).
    pub config: Vec<MeterBand>,
    pub bands: Box<[Band]>,
    /// Packets and bytes into the meter; kept across MODIFY.
    pub input: Arc<PacketCounter>,
    pub created: Nanos,
}

impl Meter {
    fn of(mm: &MeterMod, input: Arc<PacketCounter>, created: Nanos) -> Meter {
        let burst_flag = mm.flags & OFPMF_BURST != 0;
        let bands = mm
            .bands
            .iter()
            .filter_map(|b| {
                let (action, rate, burst) = match *b {
                    MeterBand::Drop { rate, burst_size } => (BandAction::Drop, rate, burst_size),
                    MeterBand::DscpRemark {
                        rate,
                        burst_size,
                        prec_level,
                    } => (BandAction::DscpRemark(prec_level), rate, burst_size),
                    MeterBand::Experimenter { .. } => return None,
                };
                let burst = if burst_flag { burst } else { rate };
                // kbps: the bucket counts bits.
                let scale: u64 = if mm.flags & OFPMF_PKTPS != 0 { 1 } else { 1000 };
                Some(Band {
                    action,
                    rate,
                    bucket: TokenBucket::new(u64::from(rate) * scale, u64::from(burst) * scale),
                    counters: PacketCounter::default(),
                })
            })
            .collect();
        Meter {
            id: mm.meter_id,
            flags: mm.flags,
            config: mm.bands.clone(),
            bands,
            input,
            created,
        }
    }

    pub fn is_pktps(&self) -> bool {
        self.flags & OFPMF_PKTPS != 0
    }

    /// Whether a band may change the packet (DSCP remark).
    pub fn remarks(&self) -> bool {
        self.bands
            .iter()
            .any(|b| matches!(b.action, BandAction::DscpRemark(_)))
    }

    /// Meters one packet of `bytes` bytes at `now` (counting it): the band
    /// that applies, if the packet exceeds any.
    #[inline]
    pub fn meter(&self, bytes: u64, now: Nanos, count: bool) -> Option<&Band> {
        if count {
            self.input.record(1, bytes);
        }
        let units = if self.is_pktps() { 1 } else { bytes * 8 };
        let mut applied: Option<&Band> = None;
        for b in self.bands.iter() {
            let ok = if count {
                b.bucket.take(units, now)
            } else {
                // A dry run (trace): look without taking.
                b.bucket.would_take(units, now)
            };
            if !ok && applied.is_none_or(|a| b.rate > a.rate) {
                applied = Some(b);
            }
        }
        if let (Some(b), true) = (applied, count) {
            b.counters.record(1, bytes);
        }
        applied
    }

    pub fn config(&self) -> MeterConfig {
        MeterConfig {
            flags: self.flags,
            meter_id: self.id,
            bands: self.config.clone(),
        }
    }

    pub fn stats(&self, flow_count: u32, now: Nanos) -> MeterStats {
        let (duration_sec, duration_nsec) = duration(self.created, now);
        MeterStats {
            meter_id: self.id,
            flow_count,
            packet_in_count: self.input.packets(),
            byte_in_count: self.input.bytes(),
            duration_sec,
            duration_nsec,
            band_stats: self
                .bands
                .iter()
                .map(|b| MeterBandStats {
                    packet_band_count: b.counters.packets(),
                    byte_band_count: b.counters.bytes(),
                })
                .collect(),
        }
    }
}

impl TokenBucket {
    /// Whether `take` would succeed now (no change).
    pub fn would_take(&self, units: u64, now: Nanos) -> bool {
        let now = now << FRAC;
        let next = self
            .tat
            .load(Relaxed)
            .max(now)
            .saturating_add(units.saturating_mul(self.unit_cost));
        next - now <= self.capacity
    }
}

/// New DSCP after raising the drop precedence (bits 1–2) by `levels`,
/// capped at 3.
pub fn remark_dscp(dscp: u8, levels: u8) -> u8 {
    let dp = (dscp >> 1) & 3;
    let up = (dp + levels.min(3)).min(3);
    (dscp & !0b110) | (up << 1)
}

/// The meter table as the data plane sees it.
pub type MetersSnapshot = IdSnapshot<Meter>;

/// What a METER_MOD changed.
pub type MeterModOutcome = IdModOutcome;

/// The authoritative meter table, owned by the bridge's owner task.
#[derive(Debug, Default)]
pub struct MeterTable {
    meters: BTreeMap<u32, Arc<Meter>>,
    limits: MeterLimits,
    dirty: bool,
}

fn err(code: ErrorCode, reason: impl Into<std::borrow::Cow<'static, str>>) -> WireError {
    WireError::new(code, reason)
}

/// The checks of a METER_MOD that need no table, in the documented order.
pub fn check_meter_mod(mm: &MeterMod, limits: &MeterLimits) -> Result<(), WireError> {
    if !matches!(mm.command, OFPMC_ADD | OFPMC_MODIFY | OFPMC_DELETE) {
        return Err(err(
            OFPMMFC_BAD_COMMAND,
            format!("unknown meter command {}", mm.command),
        ));
    }
    let id = mm.meter_id;
    let delete = mm.command == OFPMC_DELETE;
    if id == 0 || (id > OFPM_MAX && !(delete && id == OFPM_ALL)) {
        return Err(err(
            OFPMMFC_INVALID_METER,
            format!(
                "meter id {id:#x}: meters are 1..={OFPM_MAX:#x} (virtual meters are not supported)"
            ),
        ));
    }
    if delete {
        return Ok(());
    }
    if mm.flags & !OFPMF_ALL != 0 {
        return Err(err(
            OFPMMFC_BAD_FLAGS,
            format!(
                "meter flags {:#x} are not OpenFlow 1.3 flags",
                mm.flags & !OFPMF_ALL
            ),
        ));
    }
    if mm.flags & OFPMF_KBPS != 0 && mm.flags & OFPMF_PKTPS != 0 {
        return Err(err(
            OFPMMFC_BAD_FLAGS,
            "a meter counts kbps or pktps, not both",
        ));
    }
    if mm.bands.len() > usize::from(limits.max_bands) {
        return Err(err(
            OFPMMFC_OUT_OF_BANDS,
            format!(
                "{} bands: at most {} per meter",
                mm.bands.len(),
                limits.max_bands
            ),
        ));
    }
    for (i, b) in mm.bands.iter().enumerate() {
        let (rate, burst) = match *b {
            MeterBand::Experimenter { experimenter, .. } => {
                return Err(err(
                    OFPMMFC_BAD_BAND,
                    format!("band {i}: experimenter {experimenter:#010x} bands are not supported"),
                ))
            }
            MeterBand::Drop { rate, burst_size } => (rate, burst_size),
            MeterBand::DscpRemark {
                rate, burst_size, ..
            } => (rate, burst_size),
        };
        if rate == 0 {
            return Err(err(OFPMMFC_BAD_RATE, format!("band {i}: rate 0")));
        }
        if mm.flags & OFPMF_BURST != 0 && burst == 0 {
            return Err(err(
                OFPMMFC_BAD_BURST,
                format!("band {i}: burst_size 0 with the burst flag"),
            ));
        }
        if let MeterBand::DscpRemark { prec_level, .. } = *b {
            if !(1..=3).contains(&prec_level) {
                return Err(err(
                    OFPMMFC_BAD_BAND_VALUE,
                    format!("band {i}: prec_level {prec_level} (1..=3 drop precedence levels)"),
                ));
            }
        }
    }
    Ok(())
}

impl MeterTable {
    pub fn new(limits: MeterLimits) -> MeterTable {
        MeterTable {
            meters: BTreeMap::new(),
            limits,
            dirty: false,
        }
    }

    pub fn limits(&self) -> &MeterLimits {
        &self.limits
    }

    pub fn set_limits(&mut self, limits: MeterLimits) {
        self.limits = limits;
    }

    pub fn get(&self, id: u32) -> Option<&Arc<Meter>> {
        self.meters.get(&id)
    }

    pub fn contains(&self, id: u32) -> bool {
        self.meters.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.meters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meters.is_empty()
    }

    /// Meters in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Meter>> {
        self.meters.values()
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn snapshot(&self) -> MetersSnapshot {
        IdSnapshot::of(&self.meters)
    }

    /// Validates and applies a METER_MOD; nothing changes when it fails.
    pub fn apply(&mut self, mm: &MeterMod, now: Nanos) -> Result<MeterModOutcome, WireError> {
        check_meter_mod(mm, &self.limits)?;
        let id = mm.meter_id;
        match mm.command {
            OFPMC_DELETE => {
                let deleted: Vec<u32> = if id == OFPM_ALL {
                    let all = self.meters.keys().copied().collect();
                    self.meters.clear();
                    all
                } else if self.meters.remove(&id).is_some() {
                    vec![id]
                } else {
                    vec![]
                };
                self.dirty |= !deleted.is_empty();
                Ok(MeterModOutcome { deleted })
            }
            OFPMC_ADD => {
                if self.meters.contains_key(&id) {
                    return Err(err(
                        OFPMMFC_METER_EXISTS,
                        format!("meter {id} already exists"),
                    ));
                }
                if self.meters.len() >= self.limits.max_meters as usize {
                    return Err(err(
                        OFPMMFC_OUT_OF_METERS,
                        format!(
                            "the meter table is full ({} meters)",
                            self.limits.max_meters
                        ),
                    ));
                }
                let m = Meter::of(mm, Arc::new(PacketCounter::default()), now);
                self.meters.insert(id, Arc::new(m));
                self.dirty = true;
                Ok(MeterModOutcome::default())
            }
            _ => {
                let Some(old) = self.meters.get(&id) else {
                    return Err(err(OFPMMFC_UNKNOWN_METER, format!("no meter {id}")));
                };
                let m = Meter::of(mm, Arc::clone(&old.input), old.created);
                self.meters.insert(id, Arc::new(m));
                self.dirty = true;
                Ok(MeterModOutcome::default())
            }
        }
    }

    /// OFPMP_METER_FEATURES.
    pub fn features(&self) -> MeterFeatures {
        MeterFeatures {
            max_meter: self.limits.max_meters,
            band_types: 1 << OFPMBT_DROP | 1 << OFPMBT_DSCP_REMARK,
            capabilities: u32::from(OFPMF_ALL),
            max_bands: self.limits.max_bands,
            max_color: 0,
        }
    }
}

#[cfg(test)]
mod tests;
