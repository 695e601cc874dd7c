//! One OpenFlow flow table: its entries ([`FlowEntry`]), the FLOW_MOD
//! semantics of OF1.3.5 §6.4 applied to one table, and timeouts.
//!
//! ## Counters
//! Each entry's packet/byte counters and last-use time live in an
//! `Arc<`[`FlowCounters`]`>` of relaxed `AtomicU64`s. Every version of the entry (MODIFY makes a new `FlowEntry`, ADD over
//! an identical entry too) shares that `Arc` unless `OFPFF_RESET_COUNTS`, so
//! a packet counted through an old snapshot still shows in the stats.
//!
//! Why atomics rather than per-worker counters: the data plane counts
//! through its per-worker flow cache, which adds once per flow per receive
//! batch (`record(n_packets, n_bytes, now)`), not once per packet, so the
//! shared line moves between cores at most once per batch; reading is a
//! plain load, nothing to sum; and the entry does not need to know the
//! worker count (which per-worker slots would fix at creation, at
//! workers × 64 bytes per flow — 100 000 flows × 8 workers = 51 MB).
//! Table lookup/matched counters ([`TableCounters`]) follow the same rule.
//! Flow counters are not padded to a cache line of their own: at a million
//! flows the padding alone was 80 bytes a flow, and since updates come once
//! per flow per batch, two flows sharing a line cost at most one extra line
//! transfer per batch.
//!
//! ## Memory per entry
//! An entry keeps the match as the controller sent it and nothing derived
//! from it: the compiled `(value, mask)` lives in the classifier (the mask
//! once per subtable, the value packed into its bucket) and is recompiled
//! from the match on the rare paths that need it (MODIFY, DELETE). The
//! instruction list is shared between entries that have the same one
//! ([`FlowTable`] interns them): a table of per-VM flows repeats a handful
//! of action lists thousands of times.

use super::classifier::{keyops, Classifier, Entry};
use super::{Nanos, NANOS_PER_SEC};
use crate::packet::FlowKey;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::instruction::Instruction;
use ofproto::message::{FlowMod, FlowRemoved};
use ofproto::multipart::FlowStats;
use ofproto::oxm::Match;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Every `OFPFF_*` bit OF1.3 defines.
pub const OFPFF_ALL: u16 = OFPFF_SEND_FLOW_REM
    | OFPFF_CHECK_OVERLAP
    | OFPFF_RESET_COUNTS
    | OFPFF_NO_PKT_COUNTS
    | OFPFF_NO_BYT_COUNTS;

/// The flags an entry keeps and flow stats report: all five OF1.3 flags.
/// `OFPFF_CHECK_OVERLAP` and `OFPFF_RESET_COUNTS` act on the FLOW_MOD that
/// carries them, but Open vSwitch 3.1 (whose dump-flows output ours must
/// equal) still stores and reports them, so we do too.
pub const OFPFF_STATE: u16 = OFPFF_ALL;

/// Default `max_entries` of a table.
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 20;

/// Per-entry counters, shared by every version of the entry and updated by
/// the data plane without locks.
#[derive(Debug, Default)]
pub struct FlowCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    last_used: AtomicU64,
}

impl FlowCounters {
    pub fn new(now: Nanos) -> Self {
        FlowCounters {
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last_used: AtomicU64::new(now),
        }
    }

    /// Counts `packets` packets of `bytes` bytes in total, used at `now`.
    #[inline]
    pub fn record(&self, packets: u64, bytes: u64, now: Nanos) {
        self.packets.fetch_add(packets, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
        // A plain store: workers race only by the time between their
        // batches, and idle timeouts have one-second resolution.
        if self.last_used.load(Relaxed) < now {
            self.last_used.store(now, Relaxed);
        }
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Relaxed)
    }

    pub fn last_used(&self) -> Nanos {
        self.last_used.load(Relaxed)
    }
}

/// Per-table lookup/matched counters (`ofp_table_stats`), shared by every
/// snapshot of the table.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct TableCounters {
    lookups: AtomicU64,
    matched: AtomicU64,
}

impl TableCounters {
    #[inline]
    pub fn record(&self, lookups: u64, matched: u64) {
        self.lookups.fetch_add(lookups, Relaxed);
        self.matched.fetch_add(matched, Relaxed);
    }

    pub fn lookups(&self) -> u64 {
        self.lookups.load(Relaxed)
    }

    pub fn matched(&self) -> u64 {
        self.matched.load(Relaxed)
    }
}

static NEXT_FLOW_ID: AtomicU64 = AtomicU64::new(1);

/// One flow entry. Immutable once installed: a MODIFY installs a new
/// version (same `id`, same counters unless reset).
#[derive(Debug, Clone)]
pub struct FlowEntry {
    /// Unique in the process; kept across MODIFY, new for every ADD.
    pub id: u64,
    pub table_id: u8,
    pub priority: u16,
    /// The match as the controller sent it (for dump-flows, FLOW_REMOVED).
    pub match_: Match,
    /// The match is empty (all wildcards): with priority 0, the table-miss
    /// entry.
    pub matches_all: bool,
    pub cookie: u64,
    /// Shared with every entry of the table that has the same list.
    pub instructions: Arc<[Instruction]>,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    /// The ADD's `OFPFF_*` flags ([`OFPFF_STATE`]).
    pub flags: u16,
    /// When the entry was added (duration counts from here).
    pub installed: Nanos,
    pub counters: Arc<FlowCounters>,
}

impl FlowEntry {
    /// OF1.3's table-miss entry: priority 0, every field wildcarded.
    pub fn is_table_miss(&self) -> bool {
        self.priority == 0 && self.matches_all
    }

    /// Counts a hit (see [`FlowCounters::record`]).
    #[inline]
    pub fn record(&self, packets: u64, bytes: u64, now: Nanos) {
        self.counters.record(packets, bytes, now);
    }

    pub fn packet_count(&self) -> u64 {
        self.counters.packets()
    }

    pub fn byte_count(&self) -> u64 {
        self.counters.bytes()
    }

    /// Last time a packet hit the entry (the install time if none did).
    pub fn last_used(&self) -> Nanos {
        self.counters.last_used().max(self.installed)
    }

    /// Time since install as (seconds, nanoseconds).
    /// (seconds, nanoseconds) since install, at millisecond precision as
    /// OVS reports it, so dump-flows shows `duration=1.234s` like OVS does
    /// (ovs-ofctl prints all nine digits of a non-millisecond value).
    pub fn duration(&self, now: Nanos) -> (u32, u32) {
        super::clock::duration(self.installed, now)
    }

    pub fn sends_flow_removed(&self) -> bool {
        self.flags & OFPFF_SEND_FLOW_REM != 0
    }

    /// `(cookie & mask) == (self.cookie & mask)`.
    pub fn cookie_matches(&self, cookie: u64, mask: u64) -> bool {
        (self.cookie ^ cookie) & mask == 0
    }

    /// Whether an output action in the entry's apply or write actions sends
    /// to `port`; `OFPP_ANY` accepts every entry.
    pub fn outputs_to_port(&self, port: u32) -> bool {
        port == OFPP_ANY || instructions_output_to_port(&self.instructions, port)
    }

    /// Whether a group action in the entry's apply or write actions sends
    /// to `group`; `OFPG_ANY` accepts every entry.
    pub fn outputs_to_group(&self, group: u32) -> bool {
        group == OFPG_ANY || instructions_output_to_group(&self.instructions, group)
    }

    /// The deadline the entry expires at and why, if it has a timeout.
    pub fn expiry(&self) -> Option<(Nanos, u8)> {
        let hard = (self.hard_timeout != 0).then(|| {
            (
                self.installed + u64::from(self.hard_timeout) * NANOS_PER_SEC,
                OFPRR_HARD_TIMEOUT,
            )
        });
        let idle = (self.idle_timeout != 0).then(|| {
            (
                self.last_used() + u64::from(self.idle_timeout) * NANOS_PER_SEC,
                OFPRR_IDLE_TIMEOUT,
            )
        });
        match (hard, idle) {
            // Whichever comes first; a hard deadline wins a tie.
            (Some(h), Some(i)) => Some(if i.0 < h.0 { i } else { h }),
            (h, i) => h.or(i),
        }
    }

    /// The entry as an `ofp_flow_stats`.
    pub fn to_flow_stats(&self, now: Nanos) -> FlowStats {
        let (duration_sec, duration_nsec) = self.duration(now);
        FlowStats {
            table_id: self.table_id,
            duration_sec,
            duration_nsec,
            priority: self.priority,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            flags: self.flags,
            cookie: self.cookie,
            packet_count: self.packet_count(),
            byte_count: self.byte_count(),
            match_: self.match_.clone(),
            instructions: self.instructions.to_vec(),
        }
    }

    /// The `OFPT_FLOW_REMOVED` body announcing this entry's removal.
    pub fn to_flow_removed(&self, reason: u8, now: Nanos) -> FlowRemoved {
        let (duration_sec, duration_nsec) = self.duration(now);
        FlowRemoved {
            cookie: self.cookie,
            priority: self.priority,
            reason,
            table_id: self.table_id,
            duration_sec,
            duration_nsec,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            packet_count: self.packet_count(),
            byte_count: self.byte_count(),
            match_: self.match_.clone(),
        }
    }
}

fn actions_of(instructions: &[Instruction]) -> impl Iterator<Item = &Action> {
    instructions.iter().flat_map(|i| match i {
        Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
        _ => &[],
    })
}

/// Whether an output action in the apply or write actions sends to `port`.
pub fn instructions_output_to_port(instructions: &[Instruction], port: u32) -> bool {
    actions_of(instructions).any(|a| matches!(a, Action::Output { port: p, .. } if *p == port))
}

/// Whether a group action in the apply or write actions sends to `group`.
pub fn instructions_output_to_group(instructions: &[Instruction], group: u32) -> bool {
    actions_of(instructions).any(|a| matches!(a, Action::Group(g) if *g == group))
}

/// The groups the apply or write actions of `instructions` name.
pub fn group_refs(instructions: &[Instruction]) -> impl Iterator<Item = u32> + '_ {
    actions_of(instructions).filter_map(|a| match a {
        Action::Group(g) => Some(*g),
        _ => None,
    })
}

/// An entry taken out of a table, and the `OFPRR_*` reason.
#[derive(Debug, Clone)]
pub struct RemovedFlow {
    pub entry: Arc<FlowEntry>,
    pub reason: u8,
}

impl RemovedFlow {
    /// Whether the controller asked for a FLOW_REMOVED (`OFPFF_SEND_FLOW_REM`).
    pub fn wants_flow_removed(&self) -> bool {
        self.entry.sends_flow_removed()
    }

    pub fn to_flow_removed(&self, now: Nanos) -> FlowRemoved {
        self.entry.to_flow_removed(self.reason, now)
    }
}

/// Which entries a MODIFY, DELETE or stats request is about.
#[derive(Debug, Clone)]
pub struct FlowFilter {
    /// The request's compiled match (value masked or not).
    pub value: FlowKey,
    pub mask: FlowKey,
    /// `Some(p)`: strict — exactly this match and priority. `None`:
    /// non-strict — every entry the match covers, any priority.
    pub strict_priority: Option<u16>,
    pub cookie: u64,
    /// 0 = any cookie.
    pub cookie_mask: u64,
    /// `OFPP_ANY` = no restriction.
    pub out_port: u32,
    /// `OFPG_ANY` = no restriction.
    pub out_group: u32,
}

impl FlowFilter {
    /// Every entry.
    pub fn all() -> Self {
        FlowFilter {
            value: FlowKey::default(),
            mask: FlowKey::default(),
            strict_priority: None,
            cookie: 0,
            cookie_mask: 0,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
        }
    }

    /// Whether `e` passes the cookie, out_port and out_group restrictions
    /// (the match is the classifier's business).
    pub fn accepts(&self, e: &FlowEntry) -> bool {
        e.cookie_matches(self.cookie, self.cookie_mask)
            && e.outputs_to_port(self.out_port)
            && e.outputs_to_group(self.out_group)
    }
}

/// What a FLOW_MOD did.
#[derive(Debug, Clone, Default)]
pub struct FlowModOutcome {
    /// ADD: the new entry.
    pub added: Option<Arc<FlowEntry>>,
    /// ADD: the entry with identical match and priority it replaced (no
    /// FLOW_REMOVED is due for it: OF1.3.5 calls this a replacement).
    pub replaced: Option<Arc<FlowEntry>>,
    /// MODIFY: the new versions of the modified entries.
    pub modified: Vec<Arc<FlowEntry>>,
    /// DELETE: the removed entries, reason `OFPRR_DELETE`. The caller sends
    /// FLOW_REMOVED for those with [`RemovedFlow::wants_flow_removed`].
    pub removed: Vec<RemovedFlow>,
}

/// The checks of a FLOW_MOD that need no table: a known command
/// (`OFPFMFC_BAD_COMMAND`) and known flag bits (`OFPFMFC_BAD_FLAGS`).
pub fn check_command_and_flags(fm: &FlowMod) -> Result<(), WireError> {
    if fm.command > OFPFC_DELETE_STRICT {
        return Err(WireError::new(
            OFPFMFC_BAD_COMMAND,
            format!("unknown flow_mod command {}", fm.command),
        ));
    }
    if fm.flags & !OFPFF_ALL != 0 {
        return Err(WireError::new(
            OFPFMFC_BAD_FLAGS,
            format!("unknown flow_mod flags {:#06x}", fm.flags & !OFPFF_ALL),
        ));
    }
    Ok(())
}

/// The filter a MODIFY/DELETE (strict or not) selects entries with.
/// out_port/out_group restrict DELETEs only (§6.4: MODIFY ignores them).
pub fn filter_of(fm: &FlowMod, value: FlowKey, mask: FlowKey) -> FlowFilter {
    let strict = matches!(fm.command, OFPFC_MODIFY_STRICT | OFPFC_DELETE_STRICT);
    let delete = matches!(fm.command, OFPFC_DELETE | OFPFC_DELETE_STRICT);
    FlowFilter {
        value,
        mask,
        strict_priority: strict.then_some(fm.priority),
        cookie: fm.cookie,
        cookie_mask: fm.cookie_mask,
        out_port: if delete { fm.out_port } else { OFPP_ANY },
        out_group: if delete { fm.out_group } else { OFPG_ANY },
    }
}

/// One OpenFlow table.
pub struct FlowTable {
    id: u8,
    classifier: Classifier<Arc<FlowEntry>>,
    max_entries: usize,
    counters: Arc<TableCounters>,
    /// Entries with a timeout, by id (what `expire` scans).
    timed: HashMap<u64, Arc<FlowEntry>>,
    /// Instruction lists in use, shared between entries (see the module
    /// docs); pruned of unused lists as it grows.
    interned: InstructionInterner,
    /// How the pipeline compiled the entries' matches (recompiled on
    /// MODIFY/DELETE rather than stored per entry).
    compile: super::tables::MatchCompiler,
    /// Changed since the last `take_dirty`.
    dirty: bool,
}

impl FlowTable {
    pub fn new(id: u8, max_entries: usize) -> Self {
        Self::with_match_compiler(id, max_entries, crate::packet::compile_match)
    }

    /// A table whose entries' matches were compiled with `compile` (the
    /// pipeline's; tests use their own key layout).
    pub fn with_match_compiler(
        id: u8,
        max_entries: usize,
        compile: super::tables::MatchCompiler,
    ) -> Self {
        FlowTable {
            compile,
            id,
            classifier: Classifier::new(),
            max_entries,
            counters: Arc::default(),
            timed: HashMap::new(),
            interned: InstructionInterner::default(),
            dirty: false,
        }
    }

    pub fn id(&self) -> u8 {
        self.id
    }

    /// Active entries.
    pub fn len(&self) -> usize {
        self.classifier.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classifier.is_empty()
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Changes the capacity; existing entries beyond it stay.
    pub fn set_max_entries(&mut self, n: usize) {
        self.max_entries = n;
    }

    pub fn counters(&self) -> &Arc<TableCounters> {
        &self.counters
    }

    pub fn classifier(&self) -> &Classifier<Arc<FlowEntry>> {
        &self.classifier
    }

    /// The entry a packet with `key` hits (control-plane use: trace,
    /// tests; the data plane looks up in a snapshot).
    pub fn lookup(&self, key: &FlowKey) -> Option<&Arc<FlowEntry>> {
        self.classifier.lookup(key).map(|e| &e.data)
    }

    /// The entry with exactly this match and priority.
    pub fn get(&self, value: &FlowKey, mask: &FlowKey, priority: u16) -> Option<&Arc<FlowEntry>> {
        self.classifier.get(value, mask, priority).map(|e| &e.data)
    }

    /// Every entry, no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<FlowEntry>> {
        self.classifier.iter().map(|r| &r.entry.data)
    }

    /// The entries `filter` selects, ordered by priority (highest first),
    /// then install order.
    pub fn select(&self, filter: &FlowFilter) -> Vec<&Arc<FlowEntry>> {
        let mut entries: Vec<&Entry<Arc<FlowEntry>>> = match filter.strict_priority {
            Some(p) => self
                .classifier
                .get(&filter.value, &filter.mask, p)
                .into_iter()
                .collect(),
            None => self
                .classifier
                .covered_by(&filter.value, &filter.mask)
                .map(|r| r.entry)
                .collect(),
        };
        entries.retain(|e| filter.accepts(&e.data));
        entries.sort_by_key(|e| (std::cmp::Reverse(e.priority), e.seq));
        entries.into_iter().map(|e| &e.data).collect()
    }

    /// Whether the table changed since the last call (and clears the mark).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.dirty, false)
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Applies a FLOW_MOD whose match compiled to `(value, mask)` to this
    /// table (the table id, match and instructions are the caller's to
    /// validate: see `Pipeline::apply_flow_mod`).
    pub fn apply_flow_mod(
        &mut self,
        fm: &FlowMod,
        value: FlowKey,
        mask: FlowKey,
        now: Nanos,
    ) -> Result<FlowModOutcome, WireError> {
        check_command_and_flags(fm)?;
        match fm.command {
            OFPFC_ADD => self.add(fm, value, mask, now),
            OFPFC_MODIFY | OFPFC_MODIFY_STRICT => Ok(FlowModOutcome {
                modified: self.modify(
                    &filter_of(fm, value, mask),
                    &fm.instructions,
                    fm.flags & OFPFF_RESET_COUNTS != 0,
                ),
                ..Default::default()
            }),
            _ => Ok(FlowModOutcome {
                removed: self.delete(&filter_of(fm, value, mask), OFPRR_DELETE),
                ..Default::default()
            }),
        }
    }

    /// OFPFC_ADD. An entry with identical match and priority is replaced
    /// (its counters carry over unless `OFPFF_RESET_COUNTS`; its duration
    /// restarts). `OFPFF_CHECK_OVERLAP`: refused with `OFPFMFC_OVERLAP` if
    /// an entry of the same priority matches some packet this one matches
    /// (an identical entry included). A new entry in a full table:
    /// `OFPFMFC_TABLE_FULL`.
    pub fn add(
        &mut self,
        fm: &FlowMod,
        value: FlowKey,
        mask: FlowKey,
        now: Nanos,
    ) -> Result<FlowModOutcome, WireError> {
        let value = keyops::and(&value, &mask);
        if fm.flags & OFPFF_CHECK_OVERLAP != 0
            && self.classifier.overlaps(&value, &mask, fm.priority)
        {
            return Err(WireError::new(
                OFPFMFC_OVERLAP,
                format!(
                    "table {}: an entry of priority {} overlaps",
                    self.id, fm.priority
                ),
            ));
        }
        let old = self.get(&value, &mask, fm.priority).cloned();
        if old.is_none() && self.len() >= self.max_entries {
            return Err(WireError::new(
                OFPFMFC_TABLE_FULL,
                format!("table {} is full ({} entries)", self.id, self.max_entries),
            ));
        }
        let counters = match &old {
            Some(o) if fm.flags & OFPFF_RESET_COUNTS == 0 => Arc::clone(&o.counters),
            _ => Arc::new(FlowCounters::new(now)),
        };
        let entry = Arc::new(FlowEntry {
            id: NEXT_FLOW_ID.fetch_add(1, Relaxed),
            table_id: self.id,
            priority: fm.priority,
            match_: fm.match_.clone(),
            matches_all: mask.is_zero(),
            cookie: fm.cookie,
            instructions: self.interned.intern(&fm.instructions),
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            flags: fm.flags & OFPFF_STATE,
            installed: now,
            counters,
        });
        if let Some(o) = &old {
            self.timed.remove(&o.id);
        }
        self.track(&entry);
        self.classifier
            .insert(value, mask, fm.priority, Arc::clone(&entry));
        self.dirty = true;
        Ok(FlowModOutcome {
            added: Some(entry),
            replaced: old,
            ..Default::default()
        })
    }

    /// OFPFC_MODIFY / OFPFC_MODIFY_STRICT: the selected entries get the new
    /// instructions; cookie, timeouts, flags, duration and counters stay
    /// (counters reset with `reset_counts`). Selecting nothing changes
    /// nothing (OF1.3: no implicit ADD). Returns the new versions.
    pub fn modify(
        &mut self,
        filter: &FlowFilter,
        instructions: &[Instruction],
        reset_counts: bool,
    ) -> Vec<Arc<FlowEntry>> {
        let targets: Vec<Arc<FlowEntry>> = self.select(filter).into_iter().cloned().collect();
        let mut out = Vec::with_capacity(targets.len());
        for old in targets {
            let counters = if reset_counts {
                // Fresh counts; the last use stays (resetting is no use).
                Arc::new(FlowCounters::new(old.counters.last_used()))
            } else {
                Arc::clone(&old.counters)
            };
            let new = Arc::new(FlowEntry {
                instructions: self.interned.intern(instructions),
                counters,
                ..(*old).clone()
            });
            let (value, mask) = self.compiled(&old);
            let slot = self
                .classifier
                .get_mut(&value, &mask, old.priority)
                .expect("selected entry is in the table");
            *slot = Arc::clone(&new);
            self.track(&new);
            out.push(new);
        }
        if !out.is_empty() {
            self.dirty = true;
        }
        out
    }

    /// OFPFC_DELETE / OFPFC_DELETE_STRICT (and any removal): takes the
    /// selected entries out and returns them with `reason`.
    pub fn delete(&mut self, filter: &FlowFilter, reason: u8) -> Vec<RemovedFlow> {
        let targets: Vec<Arc<FlowEntry>> = self.select(filter).into_iter().cloned().collect();
        targets
            .into_iter()
            .map(|e| {
                self.remove_entry(&e);
                RemovedFlow { entry: e, reason }
            })
            .collect()
    }

    /// Takes out every entry `pred` selects, with `reason` (group and meter
    /// deletion).
    pub fn delete_where(
        &mut self,
        pred: impl Fn(&FlowEntry) -> bool,
        reason: u8,
    ) -> Vec<RemovedFlow> {
        let targets: Vec<Arc<FlowEntry>> = self.iter().filter(|e| pred(e)).cloned().collect();
        targets
            .into_iter()
            .map(|e| {
                self.remove_entry(&e);
                RemovedFlow { entry: e, reason }
            })
            .collect()
    }

    /// Removes every entry whose idle or hard timeout has passed at `now`.
    pub fn expire(&mut self, now: Nanos) -> Vec<RemovedFlow> {
        let mut expired: Vec<RemovedFlow> = self
            .timed
            .values()
            .filter_map(|e| match e.expiry() {
                Some((deadline, reason)) if deadline <= now => Some(RemovedFlow {
                    entry: Arc::clone(e),
                    reason,
                }),
                _ => None,
            })
            .collect();
        expired.sort_by_key(|r| r.entry.id);
        for r in &expired {
            self.remove_entry(&r.entry);
        }
        expired
    }

    /// The earliest timeout deadline in the table (for sleeping until it).
    pub fn next_expiry(&self) -> Option<Nanos> {
        self.timed
            .values()
            .filter_map(|e| e.expiry())
            .map(|(d, _)| d)
            .min()
    }

    /// Removes every entry (no FLOW_REMOVED reasons attached).
    pub fn clear(&mut self) -> Vec<Arc<FlowEntry>> {
        let all: Vec<Arc<FlowEntry>> = self.iter().cloned().collect();
        self.classifier.clear();
        self.timed.clear();
        self.dirty |= !all.is_empty();
        all
    }

    fn remove_entry(&mut self, e: &FlowEntry) {
        let (value, mask) = self.compiled(e);
        self.classifier.remove(&value, &mask, e.priority);
        self.timed.remove(&e.id);
        self.dirty = true;
    }

    /// An entry's compiled match `(value, mask)`, as the classifier holds it.
    pub fn compiled(&self, e: &FlowEntry) -> (FlowKey, FlowKey) {
        let (v, m) = (self.compile)(&e.match_).expect("an installed entry's match compiles");
        (keyops::and(&v, &m), m)
    }

    fn track(&mut self, e: &Arc<FlowEntry>) {
        if e.idle_timeout != 0 || e.hard_timeout != 0 {
            self.timed.insert(e.id, Arc::clone(e));
        }
    }
}

/// Shares equal instruction lists between entries. Lists no entry uses
/// any more are dropped when the set has doubled since the last sweep, so
/// its cost stays proportional to the lists in use.
#[derive(Default)]
struct InstructionInterner {
    lists: std::collections::HashSet<Arc<[Instruction]>>,
    swept_at: usize,
}

impl InstructionInterner {
    fn intern(&mut self, list: &[Instruction]) -> Arc<[Instruction]> {
        if let Some(a) = self.lists.get(list) {
            return Arc::clone(a);
        }
        if self.lists.len() >= 2 * self.swept_at.max(512) {
            // Only the set holds it: no entry, no snapshot uses it.
            self.lists.retain(|a| Arc::strong_count(a) > 1);
            self.swept_at = self.lists.len();
        }
        let a: Arc<[Instruction]> = Arc::from(list);
        self.lists.insert(Arc::clone(&a));
        a
    }
}

#[cfg(test)]
mod tests;
