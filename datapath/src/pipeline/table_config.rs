//! What each flow table may hold, as `OFPMP_TABLE_FEATURES` describes it
//! (OF1.3.5 §7.3.5.5.1), and the checks a FLOW_MOD passes against it.
//!
//! The pipeline starts with all 255 tables able to do everything the
//! datapath can ([`TableConfigs::new`]). A TABLE_FEATURES request with a
//! body (the "set" form) replaces that configuration whole
//! ([`TableConfigs::replace`]): the tables it lists, with the names, sizes,
//! metadata masks and property lists it gives; tables it does not list
//! leave the pipeline (the spec: the request "must include all tables in
//! the desired configuration"). A request can only narrow what the datapath
//! does — it cannot make a table match a field we cannot match — and is
//! taken entirely or not at all (`OFPET_TABLE_FEATURES_FAILED` otherwise).
//! Afterwards [`TableConfigs::check_flow_mod`] holds FLOW_MODs to what their
//! table declares.
//!
//! ## Empty lists
//! An empty list in a set request narrows nothing: that capability stays
//! what the datapath can do, and the reply says so. Faucet fills every
//! required property it has nothing to say about with an empty list, and
//! its "Open vSwitch TFM" profile sends all its match, wildcard and
//! set-field lists empty on purpose (Open vSwitch accepts a request that
//! asks for no more than it has and then keeps its own, fuller features;
//! the spec allows a switch to support a superset). Reading those lists
//! literally would leave tables unable to match anything at all.
//!
//! ## Not listed, missing
//! A `_MISS` property that is absent means "as for regular entries" (as
//! Open vSwitch reads it); an absent regular property is an error, since
//! OF1.3 makes all eight required (`OFPTFFC_BAD_ARGUMENT`; Open vSwitch
//! answers the OF1.5-only `BAD_FEATURES`).

use ofproto::action::*;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::instruction::{
    Instruction, OFPIT_APPLY_ACTIONS, OFPIT_CLEAR_ACTIONS, OFPIT_GOTO_TABLE, OFPIT_METER,
    OFPIT_WRITE_ACTIONS, OFPIT_WRITE_METADATA,
};
use ofproto::message::FlowMod;
use ofproto::multipart::{
    ActionId, InstructionId, OxmId, TableFeatureProp, TableFeatures, OFPTFPT_APPLY_ACTIONS,
    OFPTFPT_APPLY_SETFIELD, OFPTFPT_INSTRUCTIONS, OFPTFPT_MATCH, OFPTFPT_NEXT_TABLES,
    OFPTFPT_WILDCARDS, OFPTFPT_WRITE_ACTIONS, OFPTFPT_WRITE_SETFIELD,
};
use ofproto::oxm::*;
use ofproto::WireError;

/// Tables 0..=254 (`OFPTT_MAX`).
const N_TABLES: usize = OFPTT_MAX as usize + 1;

/// Actions the datapath executes: everything OF1.3 has but experimenter.
pub const SUPPORTED_ACTIONS: &[u16] = &[
    OFPAT_OUTPUT,
    OFPAT_COPY_TTL_OUT,
    OFPAT_COPY_TTL_IN,
    OFPAT_SET_MPLS_TTL,
    OFPAT_DEC_MPLS_TTL,
    OFPAT_PUSH_VLAN,
    OFPAT_POP_VLAN,
    OFPAT_PUSH_MPLS,
    OFPAT_POP_MPLS,
    OFPAT_SET_QUEUE,
    OFPAT_GROUP,
    OFPAT_SET_NW_TTL,
    OFPAT_DEC_NW_TTL,
    OFPAT_SET_FIELD,
    OFPAT_PUSH_PBB,
    OFPAT_POP_PBB,
];

/// Instructions the datapath executes (all of OF1.3's but experimenter).
const SUPPORTED_INSTRUCTIONS: &[u16] = &[
    OFPIT_GOTO_TABLE,
    OFPIT_METER,
    OFPIT_WRITE_METADATA,
    OFPIT_WRITE_ACTIONS,
    OFPIT_APPLY_ACTIONS,
    OFPIT_CLEAR_ACTIONS,
];

/// Basic fields set_field may write (all but the pipeline fields in_port,
/// in_phy_port, metadata and ipv6_exthdr, which OF1.3 makes read-only).
pub fn settable(field: u8) -> bool {
    !matches!(
        field,
        OFPXMT_OFB_IN_PORT | OFPXMT_OFB_IN_PHY_PORT | OFPXMT_OFB_METADATA | OFPXMT_OFB_IPV6_EXTHDR
    )
}

/// A set of small ids (table ids, field numbers, action and instruction
/// types below 256): one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct IdSet([u64; 4]);

impl IdSet {
    pub fn insert(&mut self, id: u8) {
        self.0[usize::from(id / 64)] |= 1 << (id % 64);
    }

    pub fn contains(&self, id: u8) -> bool {
        self.0[usize::from(id / 64)] & (1 << (id % 64)) != 0
    }

    /// Whether a wider id (an action or instruction type) is in the set.
    pub fn contains_u16(&self, id: u16) -> bool {
        u8::try_from(id).is_ok_and(|i| self.contains(i))
    }

    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|&i| self.contains(i))
    }

    fn intersect(self, o: IdSet) -> IdSet {
        IdSet(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }
}

impl FromIterator<u8> for IdSet {
    fn from_iter<I: IntoIterator<Item = u8>>(it: I) -> IdSet {
        let mut s = IdSet::default();
        it.into_iter().for_each(|i| s.insert(i));
        s
    }
}

/// What one kind of entry (regular, or the table-miss entry) may carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EntryCaps {
    /// `OFPIT_*` types.
    pub instructions: IdSet,
    /// goto_table targets.
    pub next_tables: IdSet,
    /// `OFPAT_*` types, in write-actions and apply-actions.
    pub write_actions: IdSet,
    pub apply_actions: IdSet,
    /// Fields set_field may write, in write-actions and apply-actions.
    pub write_setfield: IdSet,
    pub apply_setfield: IdSet,
}

/// One table's configuration.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TableConfig {
    pub table_id: u8,
    pub name: String,
    /// Bits of metadata the table can match / write_metadata can write.
    pub metadata_match: u64,
    pub metadata_write: u64,
    /// `ofp_table_config` bits as the controller gave them (OF1.3 defines
    /// only the deprecated ones).
    pub config: u32,
    pub max_entries: u32,
    pub regular: EntryCaps,
    /// The table-miss entry (priority 0, every field wildcarded).
    pub miss: EntryCaps,
    /// Fields a match may hold, those of them that may be masked, and those
    /// a match may leave out (the rest must be in every regular entry).
    pub matchable: IdSet,
    pub maskable: IdSet,
    pub wildcards: IdSet,
}

impl TableConfig {
    /// Table `id` as able as the datapath: every OF1.3 field, instruction
    /// and action but experimenter; goto_table to every later table.
    pub fn full(id: u8, max_entries: u32) -> TableConfig {
        let last = usize::from(id) + 1 == N_TABLES;
        let instructions: IdSet = SUPPORTED_INSTRUCTIONS
            .iter()
            .filter(|&&t| !(last && t == OFPIT_GOTO_TABLE))
            .map(|&t| t as u8)
            .collect();
        let actions: IdSet = SUPPORTED_ACTIONS.iter().map(|&t| t as u8).collect();
        let setfield: IdSet = BASIC_FIELDS
            .iter()
            .map(|f| f.field)
            .filter(|&f| settable(f))
            .collect();
        let caps = EntryCaps {
            instructions,
            // Empty for table 254 (255..=254).
            next_tables: (id.saturating_add(1)..=OFPTT_MAX).collect(),
            write_actions: actions,
            apply_actions: actions,
            write_setfield: setfield,
            apply_setfield: setfield,
        };
        TableConfig {
            table_id: id,
            // As Open vSwitch names its tables.
            name: if id == 0 {
                "classifier".into()
            } else {
                format!("table{id}")
            },
            metadata_match: u64::MAX,
            metadata_write: u64::MAX,
            config: 0,
            max_entries,
            regular: caps,
            miss: caps,
            matchable: BASIC_FIELDS.iter().map(|f| f.field).collect(),
            maskable: BASIC_FIELDS
                .iter()
                .filter(|f| f.maskable)
                .map(|f| f.field)
                .collect(),
            wildcards: BASIC_FIELDS.iter().map(|f| f.field).collect(),
        }
    }

    /// This table as `ofp_table_features`: every required property and the
    /// `_MISS` variants.
    pub fn features(&self) -> TableFeatures {
        let oxm = |f: u8, masked: bool| {
            let len = BASIC_FIELDS[usize::from(f)].len * if masked { 2 } else { 1 };
            OxmId::new(OFPXMC_OPENFLOW_BASIC, f, masked, len as u8)
        };
        let oxms = |s: &IdSet| s.iter().map(|f| oxm(f, false)).collect::<Vec<_>>();
        let insts = |s: &IdSet| {
            s.iter()
                .map(|t| InstructionId::new(u16::from(t)))
                .collect::<Vec<_>>()
        };
        let acts = |s: &IdSet| {
            s.iter()
                .map(|t| ActionId::new(u16::from(t)))
                .collect::<Vec<_>>()
        };
        let next = |s: &IdSet| s.iter().collect::<Vec<u8>>();
        let (r, m) = (&self.regular, &self.miss);
        use TableFeatureProp as P;
        TableFeatures {
            table_id: self.table_id,
            name: self.name.clone(),
            metadata_match: self.metadata_match,
            metadata_write: self.metadata_write,
            config: self.config,
            max_entries: self.max_entries,
            properties: vec![
                P::Instructions(insts(&r.instructions)),
                P::InstructionsMiss(insts(&m.instructions)),
                P::NextTables(next(&r.next_tables)),
                P::NextTablesMiss(next(&m.next_tables)),
                P::WriteActions(acts(&r.write_actions)),
                P::WriteActionsMiss(acts(&m.write_actions)),
                P::ApplyActions(acts(&r.apply_actions)),
                P::ApplyActionsMiss(acts(&m.apply_actions)),
                P::Match(
                    self.matchable
                        .iter()
                        .map(|f| oxm(f, self.maskable.contains(f)))
                        .collect(),
                ),
                P::Wildcards(oxms(&self.wildcards)),
                P::WriteSetfield(oxms(&r.write_setfield)),
                P::WriteSetfieldMiss(oxms(&m.write_setfield)),
                P::ApplySetfield(oxms(&r.apply_setfield)),
                P::ApplySetfieldMiss(oxms(&m.apply_setfield)),
            ],
        }
    }

    /// Everything but the name equal: a table whose capabilities change
    /// loses its entries (§7.3.5.5.1), a renamed one does not.
    fn same_capabilities(&self, o: &TableConfig) -> bool {
        TableConfig {
            name: String::new(),
            ..self.clone()
        } == TableConfig {
            name: String::new(),
            ..o.clone()
        }
    }
}

fn bad(reason: String) -> WireError {
    WireError::new(OFPTFFC_BAD_ARGUMENT, reason)
}

/// Which list a property fills, and whether for the table-miss entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum List {
    Instructions,
    NextTables,
    WriteActions,
    ApplyActions,
    WriteSetfield,
    ApplySetfield,
}

/// The property lists of one request entry, before empty lists and absent
/// `_MISS` lists are resolved.
#[derive(Default)]
struct Requested {
    regular: [Option<IdSet>; 6],
    miss: [Option<IdSet>; 6],
    matchable: Option<(IdSet, IdSet)>,
    wildcards: Option<IdSet>,
}

/// Reads an OXM id list: OpenFlow-basic fields only, a mask only where the
/// field has one, and (for set-field lists) only settable fields.
fn oxm_set(
    ids: &[OxmId],
    what: &str,
    table: u8,
    setfield: bool,
) -> Result<(IdSet, IdSet), WireError> {
    let mut fields = IdSet::default();
    let mut masked = IdSet::default();
    for id in ids {
        let info = (id.class() == OFPXMC_OPENFLOW_BASIC)
            .then(|| basic_field(id.field()))
            .flatten()
            .ok_or_else(|| {
                bad(format!(
                    "table {table} {what}: OXM {:#010x} is not an OpenFlow 1.3 basic field",
                    id.header
                ))
            })?;
        if id.hasmask() && !info.maskable {
            return Err(bad(format!(
                "table {table} {what}: {} cannot be masked",
                info.name
            )));
        }
        if setfield && !settable(info.field) {
            return Err(bad(format!(
                "table {table} {what}: {} cannot be set",
                info.name
            )));
        }
        fields.insert(info.field);
        if id.hasmask() {
            masked.insert(info.field);
        }
    }
    Ok((fields, masked))
}

fn type_set(
    types: impl Iterator<Item = u16>,
    supported: &[u16],
    what: &str,
    table: u8,
) -> Result<IdSet, WireError> {
    let mut s = IdSet::default();
    for t in types {
        if !supported.contains(&t) {
            return Err(bad(format!(
                "table {table} {what}: type {t:#x} is not one this switch executes"
            )));
        }
        s.insert(t as u8);
    }
    Ok(s)
}

impl Requested {
    fn parse(tf: &TableFeatures) -> Result<Requested, WireError> {
        let id = tf.table_id;
        let mut r = Requested::default();
        let mut seen = IdSet::default();
        use TableFeatureProp as P;
        for p in &tf.properties {
            let ty = p.prop_type();
            if seen.contains_u16(ty) {
                return Err(bad(format!("table {id}: property {ty} appears twice")));
            }
            if let Ok(t) = u8::try_from(ty) {
                seen.insert(t);
            }
            let (list, miss, set) = match p {
                P::Instructions(v) | P::InstructionsMiss(v) => (
                    List::Instructions,
                    matches!(p, P::InstructionsMiss(_)),
                    type_set(
                        v.iter().map(|i| i.ty),
                        SUPPORTED_INSTRUCTIONS,
                        "instructions",
                        id,
                    )?,
                ),
                P::NextTables(v) | P::NextTablesMiss(v) => {
                    if let Some(&t) = v.iter().find(|&&t| t <= id || t > OFPTT_MAX) {
                        return Err(bad(format!(
                            "table {id}: next table {t} is not a later table"
                        )));
                    }
                    (
                        List::NextTables,
                        matches!(p, P::NextTablesMiss(_)),
                        v.iter().copied().collect(),
                    )
                }
                P::WriteActions(v)
                | P::WriteActionsMiss(v)
                | P::ApplyActions(v)
                | P::ApplyActionsMiss(v) => {
                    let write = matches!(p, P::WriteActions(_) | P::WriteActionsMiss(_));
                    (
                        if write {
                            List::WriteActions
                        } else {
                            List::ApplyActions
                        },
                        matches!(p, P::WriteActionsMiss(_) | P::ApplyActionsMiss(_)),
                        type_set(v.iter().map(|a| a.ty), SUPPORTED_ACTIONS, "actions", id)?,
                    )
                }
                P::Match(v) => {
                    r.matchable = Some(oxm_set(v, "match", id, false)?);
                    continue;
                }
                P::Wildcards(v) => {
                    r.wildcards = Some(oxm_set(v, "wildcards", id, false)?.0);
                    continue;
                }
                P::WriteSetfield(v)
                | P::WriteSetfieldMiss(v)
                | P::ApplySetfield(v)
                | P::ApplySetfieldMiss(v) => {
                    let write = matches!(p, P::WriteSetfield(_) | P::WriteSetfieldMiss(_));
                    (
                        if write {
                            List::WriteSetfield
                        } else {
                            List::ApplySetfield
                        },
                        matches!(p, P::WriteSetfieldMiss(_) | P::ApplySetfieldMiss(_)),
                        oxm_set(v, "set-field", id, true)?.0,
                    )
                }
                P::Experimenter(_) | P::ExperimenterMiss(_) | P::Unknown { .. } => {
                    return Err(WireError::new(
                        OFPTFFC_BAD_TYPE,
                        format!("table {id}: property type {ty:#x} is not supported"),
                    ))
                }
            };
            let slot = if miss { &mut r.miss } else { &mut r.regular };
            slot[list as usize] = Some(set);
        }
        let required = [
            OFPTFPT_INSTRUCTIONS,
            OFPTFPT_NEXT_TABLES,
            OFPTFPT_WRITE_ACTIONS,
            OFPTFPT_APPLY_ACTIONS,
            OFPTFPT_MATCH,
            OFPTFPT_WILDCARDS,
            OFPTFPT_WRITE_SETFIELD,
            OFPTFPT_APPLY_SETFIELD,
        ];
        if let Some(t) = required.iter().find(|&&t| !seen.contains_u16(t)) {
            return Err(bad(format!(
                "table {id}: required property {} is missing",
                ofproto::multipart::table_feature_prop_name(*t).unwrap_or("?")
            )));
        }
        Ok(r)
    }

    /// The table's configuration: empty lists widened to what `full` has,
    /// absent `_MISS` lists copied from the regular ones, next tables
    /// limited to the tables of the new pipeline (`present`).
    fn resolve(self, tf: &TableFeatures, full: &TableConfig, present: IdSet) -> TableConfig {
        let widen = |s: Option<IdSet>, all: IdSet| match s {
            Some(s) if !s.is_empty() => s,
            _ => all,
        };
        let caps = |lists: &[Option<IdSet>; 6], fallback: Option<&EntryCaps>| {
            let get = |l: List, all: IdSet, from: fn(&EntryCaps) -> IdSet| match (
                lists[l as usize],
                fallback,
            ) {
                (None, Some(regular)) => from(regular),
                (s, _) => widen(s, all),
            };
            let f = &full.regular;
            EntryCaps {
                instructions: get(List::Instructions, f.instructions, |c| c.instructions),
                next_tables: get(List::NextTables, f.next_tables, |c| c.next_tables)
                    .intersect(present),
                write_actions: get(List::WriteActions, f.write_actions, |c| c.write_actions),
                apply_actions: get(List::ApplyActions, f.apply_actions, |c| c.apply_actions),
                write_setfield: get(List::WriteSetfield, f.write_setfield, |c| c.write_setfield),
                apply_setfield: get(List::ApplySetfield, f.apply_setfield, |c| c.apply_setfield),
            }
        };
        let regular = caps(&self.regular, None);
        let miss = caps(&self.miss, Some(&regular));
        let (matchable, maskable) = match self.matchable {
            Some((m, k)) if !m.is_empty() => (m, k),
            _ => (full.matchable, full.maskable),
        };
        TableConfig {
            table_id: tf.table_id,
            name: tf.name.clone(),
            metadata_match: tf.metadata_match,
            metadata_write: tf.metadata_write,
            config: tf.config,
            max_entries: tf.max_entries,
            regular,
            miss,
            matchable,
            maskable,
            wildcards: widen(self.wildcards, full.wildcards),
        }
    }
}

/// The configuration of the whole pipeline: which tables exist and what
/// each may hold.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TableConfigs {
    /// Indexed by table id; `None` for a table a set request left out.
    tables: Vec<Option<TableConfig>>,
    /// Most entries a table can hold here (the datapath's limit).
    capacity: u32,
}

impl TableConfigs {
    /// All 255 tables, each able to do everything, `capacity` entries each.
    pub fn new(capacity: u32) -> TableConfigs {
        TableConfigs {
            tables: (0..N_TABLES)
                .map(|id| Some(TableConfig::full(id as u8, capacity)))
                .collect(),
            capacity,
        }
    }

    pub fn get(&self, id: u8) -> Option<&TableConfig> {
        self.tables.get(usize::from(id))?.as_ref()
    }

    /// The tables in the pipeline, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &TableConfig> {
        self.tables.iter().flatten()
    }

    /// The TABLE_FEATURES reply: one entry per table in the pipeline.
    pub fn features(&self) -> Vec<TableFeatures> {
        self.iter().map(TableConfig::features).collect()
    }

    /// The configuration a TABLE_FEATURES set request asks for (`req`, all
    /// parts of a multipart request together), or the error that refuses
    /// it: `OFPTFFC_BAD_TABLE` for table 255, `OFPTFFC_BAD_TYPE` for a
    /// property we don't know, `OFPTFFC_BAD_ARGUMENT` for anything asking
    /// more than the datapath can do or contradicting itself (duplicate
    /// tables or properties, next tables not later or not in the request,
    /// more entries than a table can hold, config bits OF1.3 lacks).
    pub fn replace(&self, req: &[TableFeatures]) -> Result<TableConfigs, WireError> {
        let mut present = IdSet::default();
        for tf in req {
            if tf.table_id > OFPTT_MAX {
                return Err(WireError::new(
                    OFPTFFC_BAD_TABLE,
                    format!("table {} is not a flow table", tf.table_id),
                ));
            }
            if present.contains(tf.table_id) {
                return Err(bad(format!("table {} is listed twice", tf.table_id)));
            }
            present.insert(tf.table_id);
        }
        let mut tables: Vec<Option<TableConfig>> = vec![None; N_TABLES];
        for tf in req {
            let id = tf.table_id;
            if tf.config & !OFPTC_DEPRECATED_MASK != 0 {
                return Err(bad(format!(
                    "table {id}: config {:#x} is not an OpenFlow 1.3 setting",
                    tf.config
                )));
            }
            if tf.max_entries > self.capacity {
                return Err(bad(format!(
                    "table {id}: max_entries {} is more than the {} a table holds here",
                    tf.max_entries, self.capacity
                )));
            }
            let full = TableConfig::full(id, self.capacity);
            let r = Requested::parse(tf)?;
            let next = List::NextTables as usize;
            if let Some(t) = [r.regular[next], r.miss[next]]
                .iter()
                .flatten()
                .flat_map(|s| s.iter().collect::<Vec<_>>())
                .find(|&t| !present.contains(t))
            {
                return Err(bad(format!(
                    "table {id}: next table {t} is not in the request"
                )));
            }
            tables[usize::from(id)] = Some(r.resolve(tf, &full, present));
        }
        Ok(TableConfigs {
            tables,
            capacity: self.capacity,
        })
    }

    /// Tables that `new` removes or whose capabilities it changes: their
    /// entries go, without FLOW_REMOVED (§7.3.5.5.1: entries of tables that
    /// were removed or had their capabilities changed are removed and no
    /// flow-removed messages are sent). A table only renamed keeps its
    /// entries.
    pub fn reshaped(&self, new: &TableConfigs) -> IdSet {
        (0..N_TABLES)
            .filter(|&i| match (&self.tables[i], &new.tables[i]) {
                (Some(a), Some(b)) => !a.same_capabilities(b),
                (Some(_), None) => true,
                _ => false,
            })
            .map(|i| i as u8)
            .collect()
    }

    /// Holds a FLOW_MOD to its table's configuration: the table must be in
    /// the pipeline (`OFPFMFC_BAD_TABLE_ID`); an ADD's match may use only
    /// the table's fields (`OFPBMC_BAD_FIELD`), masks only where allowed and
    /// metadata bits within `metadata_match` (`OFPBMC_BAD_MASK`), and must
    /// hold every field the table cannot wildcard (`OFPBMC_BAD_WILDCARDS`);
    /// ADD and MODIFY instructions must be of the table's types
    /// (`OFPBIC_UNSUP_INST`), go only to its next tables
    /// (`OFPBIC_BAD_TABLE_ID`), write metadata within `metadata_write`
    /// (`OFPBIC_UNSUP_METADATA_MASK`), and use its actions
    /// (`OFPBAC_BAD_TYPE`) and set-fields (`OFPBAC_BAD_SET_TYPE`). The
    /// table-miss entry (priority 0, empty match) is held to the `_MISS`
    /// lists. Table capacity is the flow table's own check
    /// (`OFPFMFC_TABLE_FULL`). MODIFY and DELETE across `OFPTT_ALL` pass.
    pub fn check_flow_mod(&self, fm: &FlowMod) -> Result<(), WireError> {
        if fm.table_id == OFPTT_ALL {
            return Ok(());
        }
        let Some(t) = self.get(fm.table_id) else {
            return Err(WireError::new(
                OFPFMFC_BAD_TABLE_ID,
                format!(
                    "table {} is not in the pipeline (TABLE_FEATURES left it out)",
                    fm.table_id
                ),
            ));
        };
        let is_miss = fm.priority == 0 && fm.match_.fields.is_empty();
        match fm.command {
            OFPFC_ADD => {
                if !is_miss {
                    t.check_match(&fm.match_)?;
                }
            }
            OFPFC_MODIFY | OFPFC_MODIFY_STRICT => {}
            _ => return Ok(()),
        }
        t.check_instructions(&fm.instructions, is_miss)
    }
}

impl TableConfig {
    fn label(&self) -> String {
        format!("table {} ({})", self.table_id, self.name)
    }

    fn check_match(&self, m: &Match) -> Result<(), WireError> {
        let mut present = IdSet::default();
        for f in m
            .fields
            .iter()
            .filter(|f| f.class() == OFPXMC_OPENFLOW_BASIC)
        {
            let id = f.field();
            present.insert(id);
            if !self.matchable.contains(id) {
                return Err(WireError::new(
                    OFPBMC_BAD_FIELD,
                    format!("{} cannot match {}", self.label(), f.name()),
                ));
            }
            if f.has_mask() && !self.maskable.contains(id) {
                return Err(WireError::new(
                    OFPBMC_BAD_MASK,
                    format!("{} cannot match {} with a mask", self.label(), f.name()),
                ));
            }
            if let OxmField::Metadata(_, mask) = f {
                let bits = mask.unwrap_or(u64::MAX);
                if bits & !self.metadata_match != 0 {
                    return Err(WireError::new(
                        OFPBMC_BAD_MASK,
                        format!(
                            "{} matches metadata bits {:#x} only, not {bits:#x}",
                            self.label(),
                            self.metadata_match
                        ),
                    ));
                }
            }
        }
        if let Some(f) = self
            .matchable
            .iter()
            .find(|&f| !self.wildcards.contains(f) && !present.contains(f))
        {
            return Err(WireError::new(
                OFPBMC_BAD_WILDCARDS,
                format!(
                    "{} cannot wildcard {}",
                    self.label(),
                    basic_field_name(f).unwrap_or("?")
                ),
            ));
        }
        Ok(())
    }

    fn check_instructions(&self, insts: &[Instruction], is_miss: bool) -> Result<(), WireError> {
        let (caps, entry) = if is_miss {
            (&self.miss, "table-miss entry")
        } else {
            (&self.regular, "entry")
        };
        for i in insts {
            let ty = i.instruction_type();
            if !caps.instructions.contains_u16(ty) {
                return Err(WireError::new(
                    OFPBIC_UNSUP_INST,
                    format!(
                        "{} does not allow {} in an {entry}",
                        self.label(),
                        ofproto::instruction::instruction_type_name(ty).unwrap_or("?")
                    ),
                ));
            }
            match i {
                Instruction::GotoTable(n) if !caps.next_tables.contains(*n) => {
                    return Err(WireError::new(
                        OFPBIC_BAD_TABLE_ID,
                        format!(
                            "{} cannot go to table {n} from an {entry} (not one of its next tables)",
                            self.label()
                        ),
                    ))
                }
                Instruction::WriteMetadata { mask, .. } if mask & !self.metadata_write != 0 => {
                    return Err(WireError::new(
                        OFPBIC_UNSUP_METADATA_MASK,
                        format!(
                            "{} writes metadata bits {:#x} only, not {mask:#x}",
                            self.label(),
                            self.metadata_write
                        ),
                    ))
                }
                Instruction::ApplyActions(a) => {
                    self.check_actions(a, &caps.apply_actions, &caps.apply_setfield, "apply")?
                }
                Instruction::WriteActions(a) => {
                    self.check_actions(a, &caps.write_actions, &caps.write_setfield, "write")?
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check_actions(
        &self,
        actions: &[Action],
        types: &IdSet,
        setfield: &IdSet,
        list: &str,
    ) -> Result<(), WireError> {
        for a in actions {
            let ty = a.action_type();
            if !types.contains_u16(ty) {
                return Err(WireError::new(
                    OFPBAC_BAD_TYPE,
                    format!(
                        "{} does not allow {} in {list}-actions",
                        self.label(),
                        action_type_name(ty).unwrap_or("this action")
                    ),
                ));
            }
            if let Action::SetField(f) = a {
                if f.class() == OFPXMC_OPENFLOW_BASIC && !setfield.contains(f.field()) {
                    return Err(WireError::new(
                        OFPBAC_BAD_SET_TYPE,
                        format!("{} cannot set {} in {list}-actions", self.label(), f.name()),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
