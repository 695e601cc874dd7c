//! The [`Pipeline`]: 255 flow tables, FLOW_MOD validation and dispatch,
//! statistics, and lock-free publication to the data plane.
//!
//! ## Publication
//! The control plane owns the mutable `Pipeline` and applies FLOW_MODs to
//! it; nothing it does is visible to the data plane until
//! [`Pipeline::publish`]. Publishing builds an immutable
//! [`PipelineSnapshot`] and swaps it into an `ArcSwap` that the workers'
//! [`SnapshotReader`]s load from — no lock on either side, and a worker
//! holding an old snapshot keeps it valid (it is reference-counted) until
//! it lets go. Each publish that carries changes bumps the snapshot's
//! generation number, which per-worker flow caches compare against to drop
//! stale verdicts.
//!
//! Cost: a snapshot shares everything with its predecessor except the
//! tables that changed since, and a changed table shares all its subtables
//! except those that changed, and a changed subtable all its shards except
//! the changed ones (see [`classifier`](super::classifier)). So a publish
//! costs 255 pointer copies plus, per changed table, one pointer per
//! subtable; the copying of changed shards happens at the first write to
//! each after a publish. Batching: the owner applies any number of
//! FLOW_MODs and publishes once — at the latest before answering a BARRIER
//! (OF1.3.5 §6.2: everything before the barrier must be in effect).
//!
//! Counters are `Arc`s shared by every snapshot and every version of an
//! entry (see [`flow_table`](super::flow_table)), so a packet counted
//! through an old snapshot shows in the stats.

use super::flow_table::{
    check_command_and_flags, filter_of, FlowEntry, FlowFilter, FlowModOutcome, FlowTable,
    RemovedFlow, TableCounters, DEFAULT_MAX_ENTRIES,
};
use super::groups::{GroupModOutcome, GroupTable, GroupsSnapshot};
use super::meters::{MeterModOutcome, MeterTable, MetersSnapshot};
use super::{classifier::ClassifierSnapshot, Nanos};
use crate::packet::key::compile_match;
use crate::packet::FlowKey;
use arc_swap::ArcSwap;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::instruction::Instruction;
use ofproto::message::FlowMod;
use ofproto::multipart::{AggregateStats, FlowStats, FlowStatsRequest, TableStats};
use ofproto::oxm::Match;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Tables 0..=254 (`OFPTT_MAX`).
pub const N_TABLES: usize = OFPTT_MAX as usize + 1;

/// Compiles a match into (value, mask); [`compile_match`] in production.
pub type MatchCompiler = fn(&Match) -> Result<(FlowKey, FlowKey), WireError>;

#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Capacity of each table (`OFPFMFC_TABLE_FULL` beyond it).
    pub max_entries_per_table: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_entries_per_table: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// One table as the data plane sees it.
pub struct TableSnapshot {
    table_id: u8,
    classifier: ClassifierSnapshot<Arc<FlowEntry>>,
    counters: Arc<TableCounters>,
}

impl TableSnapshot {
    fn of(t: &FlowTable) -> Self {
        TableSnapshot {
            table_id: t.id(),
            classifier: t.classifier().snapshot(),
            counters: Arc::clone(t.counters()),
        }
    }

    fn empty(table_id: u8, counters: Arc<TableCounters>) -> Self {
        TableSnapshot {
            table_id,
            classifier: ClassifierSnapshot::default(),
            counters,
        }
    }

    pub fn table_id(&self) -> u8 {
        self.table_id
    }

    /// The entry a packet with `key` hits; `None` = table miss (OF1.3:
    /// drop, unless a table-miss entry — priority 0, all wildcards — exists,
    /// which this returns like any other entry). No allocation, no lock.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<&Arc<FlowEntry>> {
        self.classifier.lookup(key).map(|e| &e.data)
    }

    /// `lookup`, counting it in the table's lookup/matched counters
    /// (batch with [`TableCounters::record`] where possible).
    #[inline]
    pub fn lookup_counted(&self, key: &FlowKey) -> Option<&Arc<FlowEntry>> {
        let r = self.lookup(key);
        self.counters.record(1, u64::from(r.is_some()));
        r
    }

    pub fn counters(&self) -> &TableCounters {
        &self.counters
    }

    pub fn len(&self) -> usize {
        self.classifier.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classifier.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<FlowEntry>> {
        self.classifier.iter().map(|r| &r.entry.data)
    }
}

/// The whole pipeline as the data plane sees it: immutable.
pub struct PipelineSnapshot {
    generation: u64,
    tables: Box<[Arc<TableSnapshot>]>,
    /// The group and meter tables, published with the flows (one
    /// generation, one BARRIER guarantee).
    groups: Arc<GroupsSnapshot>,
    meters: Arc<MetersSnapshot>,
}

impl PipelineSnapshot {
    /// Bumped by every publish that changed something.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Table `id` (0..=254); `None` for `OFPTT_ALL`.
    #[inline]
    pub fn table(&self, id: u8) -> Option<&TableSnapshot> {
        self.tables.get(usize::from(id)).map(|t| &**t)
    }

    /// The entry of table `table_id` a packet with `key` hits.
    #[inline]
    pub fn lookup(&self, table_id: u8, key: &FlowKey) -> Option<&Arc<FlowEntry>> {
        self.table(table_id)?.lookup(key)
    }

    /// Entries in all tables.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.is_empty())
    }

    #[inline]
    pub fn groups(&self) -> &GroupsSnapshot {
        &self.groups
    }

    #[inline]
    pub fn meters(&self) -> &MetersSnapshot {
        &self.meters
    }
}

struct Published {
    current: ArcSwap<PipelineSnapshot>,
    /// `current.generation`, readable with one load.
    generation: AtomicU64,
}

/// A data-plane worker's handle on the published pipeline: keeps the
/// snapshot it last loaded and reloads only when the generation moved.
#[derive(Clone)]
pub struct SnapshotReader {
    published: Arc<Published>,
    cached: Arc<PipelineSnapshot>,
}

impl SnapshotReader {
    /// The newest published snapshot (one atomic load when unchanged).
    #[inline]
    pub fn current(&mut self) -> &Arc<PipelineSnapshot> {
        if self.published.generation.load(Ordering::Acquire) != self.cached.generation {
            self.cached = self.published.current.load_full();
        }
        &self.cached
    }

    /// The snapshot loaded last, without checking for a newer one.
    pub fn cached(&self) -> &Arc<PipelineSnapshot> {
        &self.cached
    }

    /// The generation most recently published.
    pub fn published_generation(&self) -> u64 {
        self.published.generation.load(Ordering::Acquire)
    }
}

/// The authoritative OpenFlow pipeline, owned by the control plane.
pub struct Pipeline {
    tables: Vec<FlowTable>,
    compile: MatchCompiler,
    published: Arc<Published>,
    /// Per table, what the last publish carried.
    last: Vec<Arc<TableSnapshot>>,
    generation: u64,
    groups: GroupTable,
    meters: MeterTable,
    last_groups: Arc<GroupsSnapshot>,
    last_meters: Arc<MetersSnapshot>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new(PipelineConfig::default())
    }
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        Self::with_match_compiler(config, compile_match)
    }

    /// A pipeline compiling matches with `compile` instead of
    /// [`compile_match`] (tests, tools with their own key layout).
    pub fn with_match_compiler(config: PipelineConfig, compile: MatchCompiler) -> Self {
        let tables: Vec<FlowTable> = (0..N_TABLES)
            .map(|id| {
                FlowTable::with_match_compiler(id as u8, config.max_entries_per_table, compile)
            })
            .collect();
        let last: Vec<Arc<TableSnapshot>> = tables
            .iter()
            .map(|t| Arc::new(TableSnapshot::empty(t.id(), Arc::clone(t.counters()))))
            .collect();
        let first = Arc::new(PipelineSnapshot {
            generation: 0,
            tables: last.clone().into_boxed_slice(),
            groups: Arc::default(),
            meters: Arc::default(),
        });
        Pipeline {
            tables,
            compile,
            published: Arc::new(Published {
                current: ArcSwap::new(first),
                generation: AtomicU64::new(0),
            }),
            last,
            generation: 0,
            groups: GroupTable::default(),
            meters: MeterTable::default(),
            last_groups: Arc::default(),
            last_meters: Arc::default(),
        }
    }

    pub fn table(&self, id: u8) -> Option<&FlowTable> {
        self.tables.get(usize::from(id))
    }

    /// For configuration (e.g. [`FlowTable::set_max_entries`]); changes to
    /// entries made through it are published like FLOW_MODs.
    pub fn table_mut(&mut self, id: u8) -> Option<&mut FlowTable> {
        self.tables.get_mut(usize::from(id))
    }

    pub fn tables(&self) -> impl Iterator<Item = &FlowTable> {
        self.tables.iter()
    }

    /// Entries in all tables.
    pub fn len(&self) -> usize {
        self.tables.iter().map(FlowTable::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(FlowTable::is_empty)
    }

    /// Compiles a match with this pipeline's compiler.
    pub fn compile(&self, m: &Match) -> Result<(FlowKey, FlowKey), WireError> {
        (self.compile)(m)
    }

    /// Validates and applies one FLOW_MOD (OF1.3.5 §6.4) to the owner's
    /// tables. Not visible to the data plane before [`Pipeline::publish`].
    ///
    /// Checks, in this order: command (`OFPFMFC_BAD_COMMAND`), flags
    /// (`OFPFMFC_BAD_FLAGS`), table id (`OFPTT_ALL` only for MODIFY/DELETE:
    /// `OFPFMFC_BAD_TABLE_ID`), the match (`Match::validate`, `OFPBMC_*`),
    /// for ADD/MODIFY the instructions (`Instruction::check`; experimenter
    /// instructions: `OFPBIC_BAD_EXPERIMENTER`; goto_table to a table not
    /// after this one: `OFPBIC_BAD_TABLE_ID`), then the match compiles
    /// (`OFPBMC_BAD_FIELD` for fields the datapath cannot match). A failed
    /// FLOW_MOD changes nothing.
    pub fn apply_flow_mod(
        &mut self,
        fm: &FlowMod,
        now: Nanos,
    ) -> Result<FlowModOutcome, WireError> {
        check_command_and_flags(fm)?;
        let add = fm.command == OFPFC_ADD;
        let modify = matches!(fm.command, OFPFC_MODIFY | OFPFC_MODIFY_STRICT);
        if add && fm.table_id == OFPTT_ALL {
            return Err(WireError::new(
                OFPFMFC_BAD_TABLE_ID,
                "flow_mod ADD to OFPTT_ALL",
            ));
        }
        fm.match_.validate()?;
        let goto = if add || modify {
            check_instructions(&fm.instructions)?
        } else {
            None
        };
        if let Some(t) = goto {
            if fm.table_id != OFPTT_ALL && t <= fm.table_id {
                return Err(bad_goto(fm.table_id, t));
            }
        }
        let (value, mask) = (self.compile)(&fm.match_)?;
        match fm.command {
            OFPFC_ADD => self.tables[usize::from(fm.table_id)].add(fm, value, mask, now),
            _ => {
                let filter = filter_of(fm, value, mask);
                let range = table_range(fm.table_id);
                if let (true, Some(t), OFPTT_ALL) = (modify, goto, fm.table_id) {
                    // Across all tables, every table with an entry to modify
                    // must come before the goto target — check all first.
                    if let Some(tid) = self.tables[range.clone()]
                        .iter()
                        .filter(|tab| tab.id() >= t)
                        .find(|tab| !tab.select(&filter).is_empty())
                        .map(FlowTable::id)
                    {
                        return Err(bad_goto(tid, t));
                    }
                }
                let mut out = FlowModOutcome::default();
                for table in &mut self.tables[range] {
                    if table.is_empty() {
                        continue;
                    }
                    if modify {
                        out.modified.extend(table.modify(
                            &filter,
                            &fm.instructions,
                            fm.flags & OFPFF_RESET_COUNTS != 0,
                        ));
                    } else {
                        out.removed.extend(table.delete(&filter, OFPRR_DELETE));
                    }
                }
                Ok(out)
            }
        }
    }

    /// Removes every entry whose idle or hard timeout passed at `now`
    /// (reasons `OFPRR_IDLE_TIMEOUT` / `OFPRR_HARD_TIMEOUT`); the caller
    /// sends FLOW_REMOVED for those with `OFPFF_SEND_FLOW_REM` and
    /// publishes.
    pub fn expire(&mut self, now: Nanos) -> Vec<RemovedFlow> {
        let mut out = Vec::new();
        for t in &mut self.tables {
            if !t.is_empty() {
                out.extend(t.expire(now));
            }
        }
        out
    }

    /// The earliest timeout deadline of any entry.
    pub fn next_expiry(&self) -> Option<Nanos> {
        self.tables.iter().filter_map(FlowTable::next_expiry).min()
    }

    /// The entries an `OFPMP_FLOW` request selects (table filter, non-strict
    /// match, cookie/mask, out_port, out_group), by table, then priority
    /// (highest first), then install order.
    pub fn flow_stats(
        &self,
        req: &FlowStatsRequest,
        now: Nanos,
    ) -> Result<Vec<FlowStats>, WireError> {
        let filter = self.stats_filter(req)?;
        Ok(self.tables[table_range(req.table_id)]
            .iter()
            .flat_map(|t| t.select(&filter))
            .map(|e| e.to_flow_stats(now))
            .collect())
    }

    /// `OFPMP_AGGREGATE`: the sums over what [`Pipeline::flow_stats`] selects.
    pub fn aggregate_stats(&self, req: &FlowStatsRequest) -> Result<AggregateStats, WireError> {
        let filter = self.stats_filter(req)?;
        let mut a = AggregateStats::default();
        for e in self.tables[table_range(req.table_id)]
            .iter()
            .flat_map(|t| t.select(&filter))
        {
            a.packet_count = a.packet_count.wrapping_add(e.packet_count());
            a.byte_count = a.byte_count.wrapping_add(e.byte_count());
            a.flow_count = a.flow_count.saturating_add(1);
        }
        Ok(a)
    }

    /// `OFPMP_TABLE`: every table's active/lookup/matched counts.
    pub fn table_stats(&self) -> Vec<TableStats> {
        self.tables
            .iter()
            .map(|t| TableStats {
                table_id: t.id(),
                active_count: t.len().min(u32::MAX as usize) as u32,
                lookup_count: t.counters().lookups(),
                matched_count: t.counters().matched(),
            })
            .collect()
    }

    /// Control-plane lookup in the owner's (possibly unpublished) state.
    pub fn lookup(&self, table_id: u8, key: &FlowKey) -> Option<&Arc<FlowEntry>> {
        self.table(table_id)?.lookup(key)
    }

    /// Whether FLOW_MODs, GROUP_MODs, METER_MODs or expiries changed
    /// something since the last publish.
    pub fn has_unpublished_changes(&self) -> bool {
        self.tables.iter().any(FlowTable::is_dirty)
            || self.groups.is_dirty()
            || self.meters.is_dirty()
    }

    /// Makes every change so far visible to the data plane and returns the
    /// generation now published (unchanged if there was nothing to publish).
    pub fn publish(&mut self) -> u64 {
        let mut changed = false;
        for (t, last) in self.tables.iter_mut().zip(self.last.iter_mut()) {
            if t.take_dirty() {
                *last = Arc::new(TableSnapshot::of(t));
                changed = true;
            }
        }
        if self.groups.take_dirty() {
            self.last_groups = Arc::new(self.groups.snapshot());
            changed = true;
        }
        if self.meters.take_dirty() {
            self.last_meters = Arc::new(self.meters.snapshot());
            changed = true;
        }
        if changed {
            self.generation += 1;
            let snap = Arc::new(PipelineSnapshot {
                generation: self.generation,
                tables: self.last.clone().into_boxed_slice(),
                groups: Arc::clone(&self.last_groups),
                meters: Arc::clone(&self.last_meters),
            });
            // Snapshot first, then the generation readers poll: a reader that
            // sees the new number loads at least this snapshot.
            self.published.current.store(snap);
            self.published
                .generation
                .store(self.generation, Ordering::Release);
        }
        self.generation
    }

    /// The generation of the last publish.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The snapshot published last.
    pub fn snapshot(&self) -> Arc<PipelineSnapshot> {
        self.published.current.load_full()
    }

    /// A reader for a data-plane worker (`Send`; clone one per worker).
    pub fn reader(&self) -> SnapshotReader {
        SnapshotReader {
            published: Arc::clone(&self.published),
            cached: self.published.current.load_full(),
        }
    }

    pub fn groups(&self) -> &GroupTable {
        &self.groups
    }

    /// For configuration (limits); changes are published like GROUP_MODs.
    pub fn groups_mut(&mut self) -> &mut GroupTable {
        &mut self.groups
    }

    pub fn meters(&self) -> &MeterTable {
        &self.meters
    }

    /// For configuration (limits); changes are published like METER_MODs.
    pub fn meters_mut(&mut self) -> &mut MeterTable {
        &mut self.meters
    }

    /// Validates and applies a GROUP_MOD (see [`GroupTable::apply`]); the
    /// flows that forward to a deleted group go with it (reason
    /// `OFPRR_GROUP_DELETE`, OF1.3.5 §6.5) and are returned.
    pub fn apply_group_mod(
        &mut self,
        gm: &ofproto::group::GroupMod,
        now: Nanos,
        check_actions: impl Fn(&[ofproto::action::Action]) -> Result<(), WireError>,
    ) -> Result<(GroupModOutcome, Vec<RemovedFlow>), WireError> {
        let out = self.groups.apply(gm, now, check_actions)?;
        let removed = if out.deleted.is_empty() {
            Vec::new()
        } else {
            let all = gm.group_id == OFPG_ALL;
            let deleted = &out.deleted;
            self.remove_flows_where(OFPRR_GROUP_DELETE, |e| {
                super::flow_table::group_refs(&e.instructions).any(|g| all || deleted.contains(&g))
            })
        };
        Ok((out, removed))
    }

    /// Validates and applies a METER_MOD; the flows using a deleted meter go
    /// with it (reason `OFPRR_DELETE`: OF1.3 has no METER_DELETE reason).
    pub fn apply_meter_mod(
        &mut self,
        mm: &ofproto::meter::MeterMod,
        now: Nanos,
    ) -> Result<(MeterModOutcome, Vec<RemovedFlow>), WireError> {
        let out = self.meters.apply(mm, now)?;
        let removed = if out.deleted.is_empty() {
            Vec::new()
        } else {
            let deleted = &out.deleted;
            self.remove_flows_where(OFPRR_DELETE, |e| {
                meter_of(&e.instructions).is_some_and(|m| deleted.contains(&m))
            })
        };
        Ok((out, removed))
    }

    /// Removes every entry `pred` selects, with `reason`.
    pub fn remove_flows_where(
        &mut self,
        reason: u8,
        pred: impl Fn(&FlowEntry) -> bool,
    ) -> Vec<RemovedFlow> {
        let mut out = Vec::new();
        for t in &mut self.tables {
            if !t.is_empty() {
                out.extend(t.delete_where(&pred, reason));
            }
        }
        out
    }

    /// How many flows and groups forward to each group (`ref_count`).
    pub fn group_ref_counts(&self) -> std::collections::HashMap<u32, u32> {
        let mut m = self.groups.group_refs();
        for t in self.tables.iter().filter(|t| !t.is_empty()) {
            for e in t.iter() {
                let mut seen: Vec<u32> = Vec::new();
                for g in super::flow_table::group_refs(&e.instructions) {
                    if !seen.contains(&g) {
                        seen.push(g);
                        *m.entry(g).or_insert(0) += 1;
                    }
                }
            }
        }
        m
    }

    /// How many flows use each meter (`flow_count`).
    pub fn meter_flow_counts(&self) -> std::collections::HashMap<u32, u32> {
        let mut m = std::collections::HashMap::new();
        for t in self.tables.iter().filter(|t| !t.is_empty()) {
            for e in t.iter() {
                if let Some(id) = meter_of(&e.instructions) {
                    *m.entry(id).or_insert(0) += 1;
                }
            }
        }
        m
    }

    /// `OFPMP_GROUP`: stats of group `id`, or of all (`OFPG_ALL`), by id.
    pub fn group_stats(&self, id: u32, now: Nanos) -> Vec<ofproto::multipart::GroupStats> {
        let refs = self.group_ref_counts();
        self.groups
            .iter()
            .filter(|g| id == OFPG_ALL || g.id == id)
            .map(|g| g.stats(refs.get(&g.id).copied().unwrap_or(0), now))
            .collect()
    }

    /// `OFPMP_METER`: stats of meter `id`, or of all (`OFPM_ALL`), by id.
    pub fn meter_stats(&self, id: u32, now: Nanos) -> Vec<ofproto::multipart::MeterStats> {
        let counts = self.meter_flow_counts();
        self.meters
            .iter()
            .filter(|m| id == OFPM_ALL || m.id == id)
            .map(|m| m.stats(counts.get(&m.id).copied().unwrap_or(0), now))
            .collect()
    }

    fn stats_filter(&self, req: &FlowStatsRequest) -> Result<FlowFilter, WireError> {
        req.match_.validate()?;
        let (value, mask) = (self.compile)(&req.match_)?;
        Ok(FlowFilter {
            value,
            mask,
            strict_priority: None,
            cookie: req.cookie,
            cookie_mask: req.cookie_mask,
            out_port: req.out_port,
            out_group: req.out_group,
        })
    }
}

/// The meter a flow's instructions name, if any.
pub fn meter_of(instructions: &[Instruction]) -> Option<u32> {
    instructions.iter().find_map(|i| match i {
        Instruction::Meter(m) => Some(*m),
        _ => None,
    })
}

fn table_range(table_id: u8) -> std::ops::Range<usize> {
    if table_id == OFPTT_ALL {
        0..N_TABLES
    } else {
        usize::from(table_id)..usize::from(table_id) + 1
    }
}

fn bad_goto(from: u8, to: u8) -> WireError {
    WireError::new(
        OFPBIC_BAD_TABLE_ID,
        format!(
            "goto_table {to} from table {from}: must go to a later table (at most {OFPTT_MAX})"
        ),
    )
}

/// `Instruction::check`, plus what this datapath cannot do; returns the
/// goto_table target if any (checked against OFPTT_MAX here, against the
/// entry's table by the caller).
fn check_instructions(list: &[Instruction]) -> Result<Option<u8>, WireError> {
    Instruction::check(list)?;
    let mut goto = None;
    for i in list {
        match i {
            Instruction::Experimenter { experimenter, .. } => {
                return Err(WireError::new(
                    OFPBIC_BAD_EXPERIMENTER,
                    format!("experimenter instruction {experimenter:#010x} is not supported"),
                ))
            }
            Instruction::GotoTable(t) => {
                if *t > OFPTT_MAX {
                    return Err(WireError::new(
                        OFPBIC_BAD_TABLE_ID,
                        format!("goto_table {t}: no such table"),
                    ));
                }
                goto = Some(*t);
            }
            _ => {}
        }
    }
    Ok(goto)
}

#[cfg(test)]
mod tests;
