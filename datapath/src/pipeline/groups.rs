//! The group table (OF1.3.5 §5.6, GROUP_MOD §7.3.4.2): validation of
//! GROUP_MODs, the owner's table, and the immutable [`GroupsSnapshot`] the
//! data plane executes from (published with the flow tables in one
//! [`PipelineSnapshot`](super::PipelineSnapshot), so the BARRIER guarantee
//! covers groups too).
//!
//! ## Error codes
//! The spec names the codes but rarely which check gives which; where it is
//! vague we answer as Open vSwitch does (its `ofputil_check_group_mod` and
//! `ofproto` group handling), checked in this order:
//!
//! | check | code |
//! | --- | --- |
//! | DELETE carrying buckets (OF1.3.5 says it must not) | `OFPGMFC_INVALID_GROUP` |
//! | type not all/select/indirect/ff | `OFPGMFC_BAD_TYPE` |
//! | indirect without exactly one bucket | `OFPGMFC_INVALID_GROUP` |
//! | command not ADD/MODIFY/DELETE | `OFPGMFC_BAD_COMMAND` |
//! | weight ≠ 0 outside select | `OFPGMFC_INVALID_GROUP` |
//! | all/indirect bucket with a watch | `OFPGMFC_WATCH_UNSUPPORTED` |
//! | ff bucket watching nothing | `OFPGMFC_INVALID_GROUP` |
//! | watch_port 0, unassigned or reserved (but LOCAL) | `OFPGMFC_BAD_WATCH` |
//! | more buckets than `max_buckets` | `OFPGMFC_OUT_OF_BUCKETS` |
//! | ADD/MODIFY of an id > `OFPG_MAX` | `OFPGMFC_INVALID_GROUP` |
//! | ADD of an existing id | `OFPGMFC_GROUP_EXISTS` |
//! | MODIFY of a missing id | `OFPGMFC_UNKNOWN_GROUP` |
//! | ADD past `max_groups` | `OFPGMFC_OUT_OF_GROUPS` |
//! | bucket actions (as apply-actions) | `OFPBAC_*` |
//! | bucket `group:` of the group itself, or of one that leads back to it | `OFPGMFC_LOOP` |
//! | bucket `group:` of a missing group (as for flows, like OVS) | `OFPBAC_BAD_OUT_GROUP` |
//! | watch_group of the group itself / one leading back | `OFPGMFC_LOOP` |
//! | watch_group > `OFPG_MAX` (not ANY) or missing | `OFPGMFC_BAD_WATCH` |
//! | DELETE of a group another group forwards to or watches | `OFPGMFC_CHAINED_GROUP` |
//!
//! Select buckets of weight 0 are accepted (as OVS); they get no traffic
//! while a live bucket of non-zero weight exists. DELETE of a missing group
//! is no error (spec). `OFPG_ALL` deletes every group. Deleting groups
//! removes the flows whose actions name them (the caller's job, reason
//! `OFPRR_GROUP_DELETE`); no group can be left naming a deleted group,
//! since that delete is refused with `OFPGMFC_CHAINED_GROUP`.
//!
//! ## Counters
//! Per group and per bucket, relaxed atomics each on a cache line of its
//! own ([`PacketCounter`]), added to by the data plane per packet. Group
//! counters and the creation time survive a MODIFY (same group, new
//! buckets); bucket counters start at zero with the new buckets.

use super::Nanos;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::group::{Bucket, GroupMod};
use ofproto::multipart::{BucketCounter, GroupDesc, GroupFeatures, GroupStats};
use ofproto::WireError;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// `OFPGFC_*` (ofp_group_capabilities).
pub const OFPGFC_SELECT_WEIGHT: u32 = 1 << 0;
pub const OFPGFC_SELECT_LIVENESS: u32 = 1 << 1;
pub const OFPGFC_CHAINING: u32 = 1 << 2;
pub const OFPGFC_CHAINING_CHECKS: u32 = 1 << 3;

/// How deep `group:` actions in buckets may nest when executed (a safety
/// net: loops are refused at GROUP_MOD time, so only long chains reach it).
pub const MAX_CHAIN_DEPTH: u32 = 32;

/// Capacity limits of the group table.
#[derive(Clone, Copy, Debug)]
pub struct GroupLimits {
    /// Groups in the table (`OFPGMFC_OUT_OF_GROUPS` beyond it).
    pub max_groups: usize,
    /// Buckets per group (`OFPGMFC_OUT_OF_BUCKETS` beyond it).
    pub max_buckets: usize,
}

impl Default for GroupLimits {
    fn default() -> Self {
        GroupLimits {
            max_groups: 65536,
            max_buckets: 1024,
        }
    }
}

/// Packets and bytes, on a cache line of their own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct PacketCounter {
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl PacketCounter {
    #[inline]
    pub fn record(&self, packets: u64, bytes: u64) {
        self.packets.fetch_add(packets, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }
}

/// One bucket as the data plane executes it.
#[derive(Debug)]
pub struct GroupBucket {
    pub weight: u16,
    pub watch_port: u32,
    pub watch_group: u32,
    pub actions: Vec<Action>,
    /// The actions change the packet: the bucket runs on a copy (every
    /// bucket of every group type acts on a clone of the packet, as OVS
    /// does, so what follows the group sees the packet unchanged).
    pub mutates: bool,
    pub counters: PacketCounter,
}

impl GroupBucket {
    fn of(b: &Bucket) -> GroupBucket {
        GroupBucket {
            weight: b.weight,
            watch_port: b.watch_port,
            watch_group: b.watch_group,
            mutates: b.actions.iter().any(action_mutates),
            actions: b.actions.clone(),
            counters: PacketCounter::default(),
        }
    }

    fn to_bucket(&self) -> Bucket {
        Bucket {
            weight: self.weight,
            watch_port: self.watch_port,
            watch_group: self.watch_group,
            actions: self.actions.clone(),
        }
    }

    /// The bucket watches nothing (always live, as far as its own watches go).
    pub fn watches_nothing(&self) -> bool {
        self.watch_port == OFPP_ANY && self.watch_group == OFPG_ANY
    }
}

/// Whether `a` changes the packet (anything but output, group, set_queue).
pub fn action_mutates(a: &Action) -> bool {
    !matches!(
        a,
        Action::Output { .. } | Action::Group(_) | Action::SetQueue(_)
    )
}

/// One group entry; immutable once installed (MODIFY installs a new one).
#[derive(Debug)]
pub struct Group {
    pub id: u32,
    pub group_type: u8,
    pub buckets: Box<[GroupBucket]>,
    /// Shared by every version of the group.
    pub counters: Arc<PacketCounter>,
    /// When the group was first added (duration counts from here).
    pub created: Nanos,
}

impl Group {
    /// Groups this one's buckets forward to (`group:` actions) or watch.
    pub fn references(&self) -> impl Iterator<Item = u32> + '_ {
        self.buckets.iter().flat_map(|b| {
            b.actions
                .iter()
                .filter_map(|a| match a {
                    Action::Group(g) => Some(*g),
                    _ => None,
                })
                .chain((b.watch_group != OFPG_ANY).then_some(b.watch_group))
        })
    }

    pub fn desc(&self) -> GroupDesc {
        GroupDesc {
            group_type: self.group_type,
            group_id: self.id,
            buckets: self.buckets.iter().map(GroupBucket::to_bucket).collect(),
        }
    }

    pub fn stats(&self, ref_count: u32, now: Nanos) -> GroupStats {
        let (duration_sec, duration_nsec) = duration(self.created, now);
        GroupStats {
            group_id: self.id,
            ref_count,
            packet_count: self.counters.packets(),
            byte_count: self.counters.bytes(),
            duration_sec,
            duration_nsec,
            bucket_stats: self
                .buckets
                .iter()
                .map(|b| BucketCounter {
                    packet_count: b.counters.packets(),
                    byte_count: b.counters.bytes(),
                })
                .collect(),
        }
    }
}

pub use super::clock::duration;

/// Multiply-shift hasher for group and meter ids (chosen by the controller,
/// not by packets, so no keyed hash is needed).
#[derive(Clone, Copy, Default, Debug)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

pub type IdMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<IdHasher>>;

/// An id-keyed table (groups, meters) as the data plane sees it: an
/// immutable copy of the owner's, published with the flow tables.
#[derive(Debug)]
pub struct IdSnapshot<T> {
    map: IdMap<Arc<T>>,
}

impl<T> Default for IdSnapshot<T> {
    fn default() -> Self {
        IdSnapshot {
            map: IdMap::default(),
        }
    }
}

impl<T> IdSnapshot<T> {
    /// A copy of the owner's `entries` (the entries themselves are shared).
    pub fn of(entries: &BTreeMap<u32, Arc<T>>) -> Self {
        IdSnapshot {
            map: entries.iter().map(|(k, v)| (*k, Arc::clone(v))).collect(),
        }
    }

    #[inline]
    pub fn get(&self, id: u32) -> Option<&Arc<T>> {
        self.map.get(&id)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The group table as the data plane sees it.
pub type GroupsSnapshot = IdSnapshot<Group>;

/// What a GROUP_MOD or METER_MOD changed.
#[derive(Debug, Default)]
pub struct IdModOutcome {
    /// Entries removed by a DELETE (the caller removes the flows using them).
    pub deleted: Vec<u32>,
}

/// What a GROUP_MOD changed.
pub type GroupModOutcome = IdModOutcome;

/// The authoritative group table, owned by the bridge's owner task.
#[derive(Debug, Default)]
pub struct GroupTable {
    groups: BTreeMap<u32, Arc<Group>>,
    limits: GroupLimits,
    dirty: bool,
}

fn err(code: ErrorCode, reason: impl Into<std::borrow::Cow<'static, str>>) -> WireError {
    WireError::new(code, reason)
}

/// `watch_port` values a bucket may carry: a port number, LOCAL, or ANY
/// (= none).
fn valid_watch_port(p: u32) -> bool {
    (p != 0 && p <= OFPP_MAX) || p == OFPP_LOCAL || p == OFPP_ANY
}

fn type_name(t: u8) -> &'static str {
    match t {
        OFPGT_ALL => "all",
        OFPGT_SELECT => "select",
        OFPGT_INDIRECT => "indirect",
        OFPGT_FF => "fast_failover",
        _ => "unknown",
    }
}

/// The checks of a GROUP_MOD that need no table (type, command, buckets'
/// weights and watches, bucket count), in OVS's order.
pub fn check_group_mod(gm: &GroupMod, limits: &GroupLimits) -> Result<(), WireError> {
    if gm.command == OFPGC_DELETE && !gm.buckets.is_empty() {
        return Err(err(
            OFPGMFC_INVALID_GROUP,
            "a group DELETE must not carry buckets (OF1.3.5)",
        ));
    }
    match gm.group_type {
        OFPGT_ALL | OFPGT_SELECT | OFPGT_FF => {}
        OFPGT_INDIRECT => {
            if gm.command != OFPGC_DELETE && gm.buckets.len() != 1 {
                return Err(err(
                    OFPGMFC_INVALID_GROUP,
                    format!(
                        "an indirect group has exactly one bucket, not {}",
                        gm.buckets.len()
                    ),
                ));
            }
        }
        t => return Err(err(OFPGMFC_BAD_TYPE, format!("unknown group type {t}"))),
    }
    if !matches!(gm.command, OFPGC_ADD | OFPGC_MODIFY | OFPGC_DELETE) {
        return Err(err(
            OFPGMFC_BAD_COMMAND,
            format!("unknown group command {}", gm.command),
        ));
    }
    let ty = type_name(gm.group_type);
    for (i, b) in gm.buckets.iter().enumerate() {
        if b.weight != 0 && gm.group_type != OFPGT_SELECT {
            return Err(err(
                OFPGMFC_INVALID_GROUP,
                format!(
                    "bucket {i}: weight {} in a {ty} group (only select groups weigh buckets)",
                    b.weight
                ),
            ));
        }
        let watches = b.watch_port != OFPP_ANY || b.watch_group != OFPG_ANY;
        match gm.group_type {
            OFPGT_ALL | OFPGT_INDIRECT if watches => {
                return Err(err(
                    OFPGMFC_WATCH_UNSUPPORTED,
                    format!("bucket {i}: a {ty} group's buckets watch nothing"),
                ))
            }
            OFPGT_FF if !watches => {
                return Err(err(
                    OFPGMFC_INVALID_GROUP,
                    format!("bucket {i}: a fast_failover bucket must watch a port or a group"),
                ))
            }
            _ => {}
        }
        if !valid_watch_port(b.watch_port) {
            return Err(err(
                OFPGMFC_BAD_WATCH,
                format!("bucket {i}: watch_port {:#x} is not a port", b.watch_port),
            ));
        }
    }
    if gm.buckets.len() > limits.max_buckets {
        return Err(err(
            OFPGMFC_OUT_OF_BUCKETS,
            format!(
                "{} buckets: at most {} per group",
                gm.buckets.len(),
                limits.max_buckets
            ),
        ));
    }
    Ok(())
}

impl GroupTable {
    pub fn new(limits: GroupLimits) -> GroupTable {
        GroupTable {
            groups: BTreeMap::new(),
            limits,
            dirty: false,
        }
    }

    pub fn limits(&self) -> &GroupLimits {
        &self.limits
    }

    pub fn set_limits(&mut self, limits: GroupLimits) {
        self.limits = limits;
    }

    pub fn get(&self, id: u32) -> Option<&Arc<Group>> {
        self.groups.get(&id)
    }

    pub fn contains(&self, id: u32) -> bool {
        self.groups.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Groups in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Group>> {
        self.groups.values()
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn snapshot(&self) -> GroupsSnapshot {
        IdSnapshot::of(&self.groups)
    }

    /// Whether `from` reaches `target` through forwarding/watch references.
    fn reaches(&self, from: u32, target: u32) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![from];
        while let Some(g) = stack.pop() {
            if g == target {
                return true;
            }
            if !seen.insert(g) {
                continue;
            }
            if let Some(grp) = self.groups.get(&g) {
                stack.extend(grp.references());
            }
        }
        false
    }

    /// Validates and applies a GROUP_MOD. `check_actions` checks a bucket's
    /// actions as apply-actions (everything but group references, which are
    /// checked here). Nothing changes when it fails.
    pub fn apply(
        &mut self,
        gm: &GroupMod,
        now: Nanos,
        check_actions: impl Fn(&[Action]) -> Result<(), WireError>,
    ) -> Result<GroupModOutcome, WireError> {
        check_group_mod(gm, &self.limits)?;
        if gm.command == OFPGC_DELETE {
            return self.delete(gm.group_id);
        }
        let id = gm.group_id;
        if id > OFPG_MAX {
            return Err(err(
                OFPGMFC_INVALID_GROUP,
                format!("group id {id:#x} is above OFPG_MAX"),
            ));
        }
        let old = self.groups.get(&id).cloned();
        match (gm.command, &old) {
            (OFPGC_ADD, Some(_)) => {
                return Err(err(
                    OFPGMFC_GROUP_EXISTS,
                    format!("group {id} already exists"),
                ))
            }
            (OFPGC_MODIFY, None) => {
                return Err(err(OFPGMFC_UNKNOWN_GROUP, format!("no group {id}")))
            }
            (OFPGC_ADD, None) if self.groups.len() >= self.limits.max_groups => {
                return Err(err(
                    OFPGMFC_OUT_OF_GROUPS,
                    format!(
                        "the group table is full ({} groups)",
                        self.limits.max_groups
                    ),
                ))
            }
            _ => {}
        }
        for (i, b) in gm.buckets.iter().enumerate() {
            check_actions(&b.actions)?;
            for a in &b.actions {
                if let Action::Group(g) = a {
                    if *g == id || self.reaches(*g, id) {
                        return Err(err(
                            OFPGMFC_LOOP,
                            format!("bucket {i}: group:{g} leads back to group {id}"),
                        ));
                    }
                    if !self.groups.contains_key(g) {
                        return Err(err(
                            OFPBAC_BAD_OUT_GROUP,
                            format!("bucket {i}: group {g} does not exist"),
                        ));
                    }
                }
            }
            let w = b.watch_group;
            if w != OFPG_ANY {
                if w == id || self.reaches(w, id) {
                    return Err(err(
                        OFPGMFC_LOOP,
                        format!("bucket {i}: watch_group {w} leads back to group {id}"),
                    ));
                }
                if w > OFPG_MAX || !self.groups.contains_key(&w) {
                    return Err(err(
                        OFPGMFC_BAD_WATCH,
                        format!("bucket {i}: watch_group {w:#x} is not a group"),
                    ));
                }
            }
        }
        let (counters, created) = match &old {
            Some(g) => (Arc::clone(&g.counters), g.created),
            None => (Arc::new(PacketCounter::default()), now),
        };
        let g = Group {
            id,
            group_type: gm.group_type,
            buckets: gm.buckets.iter().map(GroupBucket::of).collect(),
            counters,
            created,
        };
        self.groups.insert(id, Arc::new(g));
        self.dirty = true;
        Ok(GroupModOutcome::default())
    }

    fn delete(&mut self, id: u32) -> Result<GroupModOutcome, WireError> {
        if id == OFPG_ALL {
            let deleted: Vec<u32> = self.groups.keys().copied().collect();
            self.dirty |= !deleted.is_empty();
            self.groups.clear();
            return Ok(GroupModOutcome { deleted });
        }
        if !self.groups.contains_key(&id) {
            return Ok(GroupModOutcome::default());
        }
        if let Some(by) = self
            .groups
            .values()
            .find(|g| g.id != id && g.references().any(|r| r == id))
        {
            return Err(err(
                OFPGMFC_CHAINED_GROUP,
                format!("group {} forwards to or watches group {id}", by.id),
            ));
        }
        self.groups.remove(&id);
        self.dirty = true;
        Ok(GroupModOutcome { deleted: vec![id] })
    }

    /// How many groups forward to or watch each group.
    pub fn group_refs(&self) -> HashMap<u32, u32> {
        let mut m = HashMap::new();
        for g in self.groups.values() {
            let mut seen = Vec::new();
            for r in g.references() {
                if !seen.contains(&r) {
                    seen.push(r);
                    *m.entry(r).or_insert(0) += 1;
                }
            }
        }
        m
    }

    /// OFPMP_GROUP_DESC: every group, in id order.
    pub fn desc(&self) -> Vec<GroupDesc> {
        self.groups.values().map(|g| g.desc()).collect()
    }

    /// OFPMP_GROUP_FEATURES. `actions`: the `OFPAT_*` types buckets may hold.
    pub fn features(&self, actions: &[u16]) -> GroupFeatures {
        let bits = actions
            .iter()
            .filter(|&&t| t < 32)
            .fold(0u32, |m, &t| m | 1 << t);
        let max = self.limits.max_groups.min(OFPG_MAX as usize) as u32;
        GroupFeatures {
            types: 1 << OFPGT_ALL | 1 << OFPGT_SELECT | 1 << OFPGT_INDIRECT | 1 << OFPGT_FF,
            capabilities: OFPGFC_SELECT_WEIGHT
                | OFPGFC_SELECT_LIVENESS
                | OFPGFC_CHAINING
                | OFPGFC_CHAINING_CHECKS,
            max_groups: [max; 4],
            actions: [bits; 4],
        }
    }
}

#[cfg(test)]
mod tests;
