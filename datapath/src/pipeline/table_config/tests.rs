use super::*;
use ofproto::multipart::{ExperimenterProp, OFPTFPT_INSTRUCTIONS_MISS, OFPTFPT_NEXT_TABLES_MISS};
use ofproto::text::{parse_flow, FlowCommand};

const CAP: u32 = 1 << 20;

fn basic(field: u8, masked: bool) -> OxmId {
    let len = BASIC_FIELDS[usize::from(field)].len * if masked { 2 } else { 1 };
    OxmId::new(OFPXMC_OPENFLOW_BASIC, field, masked, len as u8)
}

fn insts(t: &[u16]) -> Vec<InstructionId> {
    t.iter().map(|&t| InstructionId::new(t)).collect()
}

fn acts(t: &[u16]) -> Vec<ActionId> {
    t.iter().map(|&t| ActionId::new(t)).collect()
}

/// A set-request entry with every required property, as given.
struct Entry {
    id: u8,
    name: &'static str,
    instructions: Vec<u16>,
    next: Vec<u8>,
    apply: Vec<u16>,
    write: Vec<u16>,
    matches: Vec<OxmId>,
    wildcards: Vec<OxmId>,
    apply_setfield: Vec<u8>,
    extra: Vec<TableFeatureProp>,
}

impl Entry {
    fn new(id: u8, name: &'static str) -> Entry {
        Entry {
            id,
            name,
            instructions: vec![],
            next: vec![],
            apply: vec![],
            write: vec![],
            matches: vec![],
            wildcards: vec![],
            apply_setfield: vec![],
            extra: vec![],
        }
    }

    fn build(self) -> TableFeatures {
        use TableFeatureProp as P;
        let mut properties = vec![
            P::Instructions(insts(&self.instructions)),
            P::NextTables(self.next),
            P::WriteActions(acts(&self.write)),
            P::ApplyActions(acts(&self.apply)),
            P::Match(self.matches),
            P::Wildcards(self.wildcards),
            P::WriteSetfield(vec![]),
            P::ApplySetfield(
                self.apply_setfield
                    .iter()
                    .map(|&f| basic(f, false))
                    .collect(),
            ),
        ];
        properties.extend(self.extra);
        TableFeatures {
            table_id: self.id,
            name: self.name.into(),
            metadata_match: 0,
            metadata_write: 0,
            config: 0,
            max_entries: 100,
            properties,
        }
    }
}

/// Table 0 "ingress": matches in_port (required) and eth_dst (maskable,
/// may be wildcarded); apply-actions output/push_vlan/set_field
/// (vlan_vid only) and goto table 1; its table-miss entry may only go to
/// table 1. Table 1 "egress": matches vlan_vid, outputs.
fn two_tables() -> Vec<TableFeatures> {
    let mut t0 = Entry::new(0, "ingress");
    t0.instructions = vec![OFPIT_APPLY_ACTIONS, OFPIT_GOTO_TABLE];
    t0.next = vec![1];
    t0.apply = vec![OFPAT_OUTPUT, OFPAT_PUSH_VLAN, OFPAT_SET_FIELD];
    t0.matches = vec![
        basic(OFPXMT_OFB_IN_PORT, false),
        basic(OFPXMT_OFB_ETH_DST, true),
    ];
    t0.wildcards = vec![basic(OFPXMT_OFB_ETH_DST, false)];
    t0.apply_setfield = vec![OFPXMT_OFB_VLAN_VID];
    t0.extra = vec![
        TableFeatureProp::InstructionsMiss(insts(&[OFPIT_GOTO_TABLE])),
        TableFeatureProp::NextTablesMiss(vec![1]),
    ];
    let mut t1 = Entry::new(1, "egress");
    t1.instructions = vec![OFPIT_APPLY_ACTIONS];
    t1.apply = vec![OFPAT_OUTPUT];
    t1.matches = vec![basic(OFPXMT_OFB_VLAN_VID, false)];
    t1.wildcards = vec![basic(OFPXMT_OFB_VLAN_VID, false)];
    vec![t0.build(), t1.build()]
}

fn flow(text: &str) -> FlowMod {
    parse_flow(text, FlowCommand::Add).unwrap()
}

fn code(r: Result<impl std::fmt::Debug, WireError>) -> ErrorCode {
    r.expect_err("should be refused").code
}

fn prop(t: &TableFeatures, ty: u16) -> &TableFeatureProp {
    t.properties
        .iter()
        .find(|p| p.prop_type() == ty)
        .unwrap_or_else(|| panic!("table {} lacks property {ty}", t.table_id))
}

#[test]
fn default_configuration_has_every_table_with_every_capability() {
    let c = TableConfigs::new(CAP);
    let f = c.features();
    assert_eq!(f.len(), N_TABLES);
    assert_eq!(f[0].name, "classifier");
    assert_eq!(f[7].name, "table7");
    use TableFeatureProp as P;
    match prop(&f[254], OFPTFPT_INSTRUCTIONS) {
        P::Instructions(i) => assert!(!i.iter().any(|i| i.ty == OFPIT_GOTO_TABLE)),
        other => panic!("{other:?}"),
    }
    match prop(&f[3], OFPTFPT_NEXT_TABLES) {
        P::NextTables(n) => assert_eq!(n, &(4..=254).collect::<Vec<u8>>()),
        other => panic!("{other:?}"),
    }
    match prop(&f[3], OFPTFPT_MATCH) {
        P::Match(m) => {
            assert_eq!(m.len(), BASIC_FIELD_COUNT);
            let ip = m.iter().find(|o| o.field() == OFPXMT_OFB_IPV4_DST).unwrap();
            assert!(ip.hasmask() && ip.length() == 8);
            let port = m.iter().find(|o| o.field() == OFPXMT_OFB_IN_PORT).unwrap();
            assert!(!port.hasmask() && port.length() == 4);
        }
        other => panic!("{other:?}"),
    }
    // Any flow the datapath takes passes.
    for text in [
        "table=3,priority=5,tcp,nw_dst=10.0.0.0/8,tp_dst=80 actions=set_field:1->tcp_dst,output:2,goto_table:9",
        "table=254,priority=0 actions=clear_actions,write_actions(output:1),write_metadata:0x5/0xff",
    ] {
        c.check_flow_mod(&flow(text)).unwrap();
    }
}

#[test]
fn our_own_reply_sent_back_as_a_set_changes_nothing() {
    let c = TableConfigs::new(CAP);
    let back = c.replace(&c.features()).unwrap();
    assert_eq!(back, c);
    assert!(c.reshaped(&back).is_empty());
}

#[test]
fn a_set_renames_narrows_and_removes_tables_and_the_reply_says_so() {
    let c = TableConfigs::new(CAP).replace(&two_tables()).unwrap();
    let f = c.features();
    assert_eq!(f.len(), 2, "tables the request left out are gone");
    assert_eq!((f[0].table_id, f[0].name.as_str()), (0, "ingress"));
    assert_eq!((f[1].table_id, f[1].name.as_str()), (1, "egress"));
    assert_eq!(f[0].max_entries, 100);
    assert!(c.get(2).is_none());
    use TableFeatureProp as P;
    assert_eq!(
        prop(&f[0], OFPTFPT_MATCH),
        &P::Match(vec![
            basic(OFPXMT_OFB_IN_PORT, false),
            basic(OFPXMT_OFB_ETH_DST, true)
        ])
    );
    assert_eq!(
        prop(&f[0], OFPTFPT_INSTRUCTIONS_MISS),
        &P::InstructionsMiss(insts(&[OFPIT_GOTO_TABLE]))
    );
    // Table 1 gave no _MISS lists: its table-miss entry is like the others.
    assert_eq!(c.get(1).unwrap().miss, c.get(1).unwrap().regular);
    assert_eq!(
        prop(&f[1], OFPTFPT_NEXT_TABLES_MISS),
        &P::NextTablesMiss(vec![]),
        "nothing after the last table of the pipeline"
    );
    // The reply round-trips to the same configuration.
    assert_eq!(c.replace(&f).unwrap(), c);
}

#[test]
fn flow_mods_are_held_to_their_tables_features() {
    let c = TableConfigs::new(CAP).replace(&two_tables()).unwrap();
    let ok = [
        "table=0,priority=10,in_port=1,dl_dst=02:00:00:00:00:01 actions=push_vlan:0x8100,set_field:4196->vlan_vid,goto_table:1",
        "table=0,priority=10,in_port=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:2",
        "table=0,priority=0 actions=goto_table:1",
        "table=1,priority=5,dl_vlan=100 actions=output:3",
        "table=1,priority=5 actions=output:3",
    ];
    for text in ok {
        c.check_flow_mod(&flow(text))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    let refused = [
        // A field table 0 does not match.
        (
            "table=0,priority=10,in_port=1,ip,nw_dst=10.0.0.1 actions=output:2",
            OFPBMC_BAD_FIELD,
        ),
        // in_port is required there (not a wildcard).
        (
            "table=0,priority=10,dl_dst=02:00:00:00:00:01 actions=output:2",
            OFPBMC_BAD_WILDCARDS,
        ),
        // vlan_vid may not be masked in table 1.
        (
            "table=1,priority=5,vlan_tci=0x1000/0x1000 actions=output:3",
            OFPBMC_BAD_MASK,
        ),
        // write-actions is not one of table 0's instructions.
        (
            "table=0,priority=10,in_port=1 actions=write_actions(output:2)",
            OFPBIC_UNSUP_INST,
        ),
        // Table 1 has no goto.
        ("table=1,priority=5 actions=goto_table:2", OFPBIC_UNSUP_INST),
        // group is not one of table 0's actions.
        (
            "table=0,priority=10,in_port=1 actions=group:1",
            OFPBAC_BAD_TYPE,
        ),
        // Table 0 sets vlan_vid only.
        (
            "table=0,priority=10,in_port=1 actions=set_field:02:00:00:00:00:09->eth_src,output:2",
            OFPBAC_BAD_SET_TYPE,
        ),
        // The table-miss entry may only go to table 1.
        ("table=0,priority=0 actions=output:2", OFPBIC_UNSUP_INST),
        // Not in the pipeline any more.
        ("table=2,priority=1 actions=output:1", OFPFMFC_BAD_TABLE_ID),
    ];
    for (text, want) in refused {
        assert_eq!(code(c.check_flow_mod(&flow(text))), want, "{text}");
    }
    // MODIFY is held to the instructions; DELETE passes.
    let mut m = flow("table=0,priority=10,in_port=1 actions=group:1");
    m.command = OFPFC_MODIFY;
    assert_eq!(code(c.check_flow_mod(&m)), OFPBAC_BAD_TYPE);
    m.command = OFPFC_DELETE;
    c.check_flow_mod(&m).unwrap();
}

#[test]
fn goto_only_to_declared_next_tables() {
    let mut t0 = Entry::new(0, "a");
    t0.instructions = vec![OFPIT_GOTO_TABLE];
    t0.next = vec![2];
    let mut reqs = vec![t0.build()];
    for id in [1, 2] {
        reqs.push(Entry::new(id, "b").build());
    }
    let c = TableConfigs::new(CAP).replace(&reqs).unwrap();
    c.check_flow_mod(&flow("table=0,priority=1 actions=goto_table:2"))
        .unwrap();
    assert_eq!(
        code(c.check_flow_mod(&flow("table=0,priority=1 actions=goto_table:1"))),
        OFPBIC_BAD_TABLE_ID
    );
}

#[test]
fn metadata_masks_limit_matches_and_writes() {
    let mut t = Entry::new(0, "meta").build();
    t.metadata_match = 0xff;
    t.metadata_write = 0xf0;
    let c = TableConfigs::new(CAP).replace(&[t]).unwrap();
    c.check_flow_mod(&flow(
        "priority=1,metadata=0x5/0x0f actions=write_metadata:0x10/0xf0",
    ))
    .unwrap();
    assert_eq!(
        code(c.check_flow_mod(&flow("priority=1,metadata=0x5 actions=drop"))),
        OFPBMC_BAD_MASK
    );
    assert_eq!(
        code(c.check_flow_mod(&flow("priority=1 actions=write_metadata:0x1/0x1"))),
        OFPBIC_UNSUP_METADATA_MASK
    );
}

/// Faucet's "Open vSwitch TFM" profile: tables 0..=253, every OXM list
/// empty, missing properties filled with empty lists. Empty lists narrow
/// nothing; only what is listed is enforced.
#[test]
fn empty_lists_narrow_nothing() {
    let mut reqs: Vec<TableFeatures> = (0..=253u8)
        .map(|id| {
            let mut e = Entry::new(id, "filler");
            e.extra = vec![
                TableFeatureProp::InstructionsMiss(vec![]),
                TableFeatureProp::NextTablesMiss(vec![]),
            ];
            e.build()
        })
        .collect();
    let mut vlan = Entry::new(1, "vlan");
    vlan.instructions = vec![OFPIT_APPLY_ACTIONS, OFPIT_GOTO_TABLE];
    vlan.next = vec![2, 3];
    vlan.apply = vec![OFPAT_PUSH_VLAN, OFPAT_SET_FIELD, OFPAT_OUTPUT];
    reqs[1] = vlan.build();
    let c = TableConfigs::new(CAP).replace(&reqs).unwrap();
    assert!(c.get(254).is_none());
    let full = TableConfig::full(1, CAP);
    let t = c.get(1).unwrap();
    assert_eq!((t.matchable, t.wildcards), (full.matchable, full.wildcards));
    assert_eq!(t.regular.apply_setfield, full.regular.apply_setfield);
    c.check_flow_mod(&flow(
        "table=1,priority=9,in_port=1,vlan_tci=0 actions=push_vlan:0x8100,set_field:4196->vlan_vid,goto_table:3",
    ))
    .unwrap();
    assert_eq!(
        code(c.check_flow_mod(&flow("table=1,priority=9,in_port=1 actions=group:1"))),
        OFPBAC_BAD_TYPE
    );
    assert_eq!(
        code(c.check_flow_mod(&flow("table=1,priority=9,in_port=1 actions=goto_table:4"))),
        OFPBIC_BAD_TABLE_ID
    );
    // Table 253's placeholder next tables stop at the pipeline's end.
    assert!(c.get(253).unwrap().regular.next_tables.is_empty());
}

#[test]
fn invalid_set_requests_get_table_features_failed_codes() {
    let base = TableConfigs::new(CAP);
    let with = |f: &dyn Fn(&mut Vec<TableFeatures>)| {
        let mut r = two_tables();
        f(&mut r);
        code(base.replace(&r))
    };
    assert_eq!(with(&|r| r[1].table_id = OFPTT_ALL), OFPTFFC_BAD_TABLE);
    assert_eq!(with(&|r| r[1].table_id = 0), OFPTFFC_BAD_ARGUMENT);
    assert_eq!(
        with(&|r| r[0].properties.push(TableFeatureProp::Unknown {
            ty: 9,
            data: Default::default()
        })),
        OFPTFFC_BAD_TYPE
    );
    assert_eq!(
        with(&|r| r[0]
            .properties
            .push(TableFeatureProp::Experimenter(ExperimenterProp::default()))),
        OFPTFFC_BAD_TYPE
    );
    assert_eq!(
        with(&|r| r[0]
            .properties
            .retain(|p| p.prop_type() != OFPTFPT_WILDCARDS)),
        OFPTFFC_BAD_ARGUMENT,
        "a required property is missing"
    );
    assert_eq!(
        with(&|r| r[0].properties.push(TableFeatureProp::Wildcards(vec![]))),
        OFPTFFC_BAD_ARGUMENT,
        "a property twice"
    );
    let set = |r: &mut Vec<TableFeatures>, p: TableFeatureProp| {
        let ty = p.prop_type();
        for q in r[0].properties.iter_mut() {
            if q.prop_type() == ty {
                *q = p.clone();
            }
        }
    };
    use TableFeatureProp as P;
    for (what, p) in [
        (
            "experimenter action",
            P::ApplyActions(vec![ActionId::experimenter(1)]),
        ),
        ("unknown instruction", P::Instructions(insts(&[42]))),
        ("next table not later", P::NextTables(vec![0])),
        ("next table not in the request", P::NextTables(vec![7])),
        (
            "unmaskable field masked",
            P::Match(vec![basic(OFPXMT_OFB_IN_PORT, true)]),
        ),
        (
            "experimenter field",
            P::Match(vec![OxmId::new_experimenter(1, false, 4, 0x1234)]),
        ),
        (
            "in_port is not settable",
            P::ApplySetfield(vec![basic(OFPXMT_OFB_IN_PORT, false)]),
        ),
    ] {
        assert_eq!(with(&|r| set(r, p.clone())), OFPTFFC_BAD_ARGUMENT, "{what}");
    }
    assert_eq!(with(&|r| r[0].max_entries = CAP + 1), OFPTFFC_BAD_ARGUMENT);
    assert_eq!(with(&|r| r[0].config = 4), OFPTFFC_BAD_ARGUMENT);
    // Faucet's config value (the deprecated bits) is fine.
    assert!(base
        .replace(&{
            let mut r = two_tables();
            r[0].config = OFPTC_DEPRECATED_MASK;
            r
        })
        .is_ok());
}

#[test]
fn reshaped_tables_are_the_removed_and_the_changed_not_the_renamed() {
    let a = TableConfigs::new(CAP).replace(&two_tables()).unwrap();
    let mut r = two_tables();
    r[0].name = "renamed".into();
    assert!(a.reshaped(&a.replace(&r).unwrap()).is_empty());
    r[1].max_entries = 5;
    assert_eq!(
        a.reshaped(&a.replace(&r).unwrap())
            .iter()
            .collect::<Vec<_>>(),
        vec![1]
    );
    let back = TableConfigs::new(CAP);
    let gone = back.reshaped(&a);
    assert_eq!(gone.iter().count(), N_TABLES, "every table changed or went");
}
