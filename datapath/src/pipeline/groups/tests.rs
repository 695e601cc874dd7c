use super::*;
use crate::pipeline::{Pipeline, PipelineConfig};
use ofproto::action::{OFPAT_GROUP, OFPAT_OUTPUT};
use ofproto::text::{parse_group_cmd, GroupCommand};

fn gm(text: &str) -> GroupMod {
    parse_group_cmd(text, GroupCommand::Add).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

fn cmd(text: &str, c: GroupCommand) -> GroupMod {
    parse_group_cmd(text, c).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

fn ok(_: &[Action]) -> Result<(), WireError> {
    Ok(())
}

fn apply(t: &mut GroupTable, g: &GroupMod) -> Result<GroupModOutcome, ErrorCode> {
    t.apply(g, 0, ok).map_err(|e| e.code)
}

fn add(t: &mut GroupTable, text: &str) {
    apply(t, &gm(text)).unwrap_or_else(|e| panic!("{text}: {e:?}"));
}

#[test]
fn add_modify_delete_and_delete_all() {
    let mut t = GroupTable::default();
    add(
        &mut t,
        "group_id=1,type=all,bucket=output:1,bucket=output:2",
    );
    add(&mut t, "group_id=2,type=select,bucket=weight:5,output:1");
    assert!(t.take_dirty());
    assert_eq!(t.len(), 2);
    apply(
        &mut t,
        &cmd(
            "group_id=1,type=indirect,bucket=output:3",
            GroupCommand::Modify,
        ),
    )
    .unwrap();
    let g = t.get(1).unwrap();
    assert_eq!((g.group_type, g.buckets.len()), (OFPGT_INDIRECT, 1));
    let out = apply(&mut t, &cmd("group_id=1", GroupCommand::Delete)).unwrap();
    assert_eq!(out.deleted, vec![1]);
    // A missing group: no error, nothing deleted.
    let out = apply(&mut t, &cmd("group_id=7", GroupCommand::Delete)).unwrap();
    assert!(out.deleted.is_empty());
    add(&mut t, "group_id=3,type=all,bucket=output:1");
    let out = apply(&mut t, &cmd("", GroupCommand::Delete)).unwrap();
    assert_eq!(out.deleted, vec![2, 3]);
    assert!(t.is_empty());
}

#[test]
fn modify_keeps_group_counters_and_creation_time_but_not_bucket_counters() {
    let mut t = GroupTable::default();
    t.apply(&gm("group_id=1,type=all,bucket=output:1"), 5, ok)
        .unwrap();
    t.get(1).unwrap().counters.record(3, 300);
    t.get(1).unwrap().buckets[0].counters.record(3, 300);
    t.apply(
        &cmd("group_id=1,type=all,bucket=output:2", GroupCommand::Modify),
        9,
        ok,
    )
    .unwrap();
    let s = t.get(1).unwrap().stats(0, 1_000_000_005);
    assert_eq!((s.packet_count, s.byte_count), (3, 300));
    assert_eq!((s.duration_sec, s.duration_nsec), (1, 0));
    assert_eq!(s.bucket_stats[0].packet_count, 0);
}

/// Every GROUP_MOD error code this table gives, each from a minimal case.
#[test]
fn every_error_code() {
    let mut t = GroupTable::new(GroupLimits {
        max_groups: 3,
        max_buckets: 2,
    });
    add(&mut t, "group_id=1,type=all,bucket=output:1");
    let cases: Vec<(GroupMod, ErrorCode)> = vec![
        (
            gm("group_id=1,type=all,bucket=output:1"),
            OFPGMFC_GROUP_EXISTS,
        ),
        (
            GroupMod {
                group_id: OFPG_MAX + 1,
                ..gm("group_id=9,type=all,bucket=output:1")
            },
            OFPGMFC_INVALID_GROUP,
        ),
        (
            cmd("group_id=9,type=all,bucket=output:1", GroupCommand::Modify),
            OFPGMFC_UNKNOWN_GROUP,
        ),
        (
            GroupMod {
                group_type: 4,
                ..gm("group_id=9,type=all,bucket=output:1")
            },
            OFPGMFC_BAD_TYPE,
        ),
        (
            GroupMod {
                command: 3,
                ..gm("group_id=9,type=all,bucket=output:1")
            },
            OFPGMFC_BAD_COMMAND,
        ),
        // Indirect: exactly one bucket (OVS: INVALID_GROUP).
        (
            GroupMod {
                group_type: OFPGT_INDIRECT,
                ..gm("group_id=9,type=all,bucket=output:1,bucket=output:2")
            },
            OFPGMFC_INVALID_GROUP,
        ),
        (gm("group_id=9,type=indirect"), OFPGMFC_INVALID_GROUP),
        // Weights only in select groups.
        (
            GroupMod {
                group_type: OFPGT_ALL,
                ..gm("group_id=9,type=select,bucket=weight:2,output:1")
            },
            OFPGMFC_INVALID_GROUP,
        ),
        // Fast failover buckets must watch something.
        (
            GroupMod {
                group_type: OFPGT_FF,
                ..gm("group_id=9,type=all,bucket=output:1")
            },
            OFPGMFC_INVALID_GROUP,
        ),
        (
            GroupMod {
                group_type: OFPGT_ALL,
                ..gm("group_id=9,type=ff,bucket=watch_port:1,output:1")
            },
            OFPGMFC_WATCH_UNSUPPORTED,
        ),
        (
            GroupMod {
                buckets: vec![Bucket {
                    watch_port: 0,
                    watch_group: OFPG_ANY,
                    ..Default::default()
                }],
                ..gm("group_id=9,type=ff,bucket=watch_port:1,output:1")
            },
            OFPGMFC_BAD_WATCH,
        ),
        (
            gm("group_id=9,type=ff,bucket=watch_port:CONTROLLER,output:1"),
            OFPGMFC_BAD_WATCH,
        ),
        (
            gm("group_id=9,type=ff,bucket=watch_group:77,output:1"),
            OFPGMFC_BAD_WATCH,
        ),
        (
            gm("group_id=9,type=all,bucket=output:1,bucket=output:2,bucket=output:3"),
            OFPGMFC_OUT_OF_BUCKETS,
        ),
        (
            gm("group_id=9,type=all,bucket=group:8"),
            OFPBAC_BAD_OUT_GROUP,
        ),
        (gm("group_id=9,type=all,bucket=group:9"), OFPGMFC_LOOP),
        (
            gm("group_id=9,type=ff,bucket=watch_group:9,output:1"),
            OFPGMFC_LOOP,
        ),
        (
            GroupMod {
                command: OFPGC_DELETE,
                ..gm("group_id=1,type=all,bucket=output:1")
            },
            OFPGMFC_INVALID_GROUP,
        ),
    ];
    for (g, want) in cases {
        let got = apply(&mut t, &g).map(|_| ());
        assert_eq!(got, Err(want), "{g:?}");
    }
    // Nothing of the refused mods stuck.
    assert_eq!(t.len(), 1);
    add(&mut t, "group_id=2,type=all,bucket=output:1");
    add(&mut t, "group_id=3,type=all,bucket=group:1");
    assert_eq!(
        apply(&mut t, &gm("group_id=4,type=all,bucket=output:1")).map(|_| ()),
        Err(OFPGMFC_OUT_OF_GROUPS)
    );
    // Group 3 forwards to 1: 1 cannot go alone.
    assert_eq!(
        apply(&mut t, &cmd("group_id=1", GroupCommand::Delete)).map(|_| ()),
        Err(OFPGMFC_CHAINED_GROUP)
    );
    // A modify that would close a loop 1 -> 3 -> 1.
    assert_eq!(
        apply(
            &mut t,
            &cmd("group_id=1,type=all,bucket=group:3", GroupCommand::Modify)
        )
        .map(|_| ()),
        Err(OFPGMFC_LOOP)
    );
    // Bucket actions are checked by the caller's function.
    let bad = |_: &[Action]| Err(WireError::new(OFPBAC_BAD_OUT_PORT, "no"));
    assert_eq!(
        t.apply(
            &cmd("group_id=2,type=all,bucket=output:1", GroupCommand::Modify),
            0,
            bad
        )
        .map(|_| ())
        .map_err(|e| e.code),
        Err(OFPBAC_BAD_OUT_PORT)
    );
}

#[test]
fn select_weight_zero_and_chains_without_loops_are_accepted() {
    let mut t = GroupTable::default();
    add(
        &mut t,
        "group_id=1,type=select,bucket=weight:0,output:1,bucket=weight:0,output:2",
    );
    add(&mut t, "group_id=2,type=indirect,bucket=group:1");
    add(
        &mut t,
        "group_id=3,type=ff,bucket=watch_group:2,group:2,bucket=watch_port:4,output:4",
    );
    assert_eq!(t.group_refs().get(&2), Some(&1));
    assert_eq!(t.group_refs().get(&1), Some(&1));
    // Deleting from the top of the chain is fine.
    apply(&mut t, &cmd("group_id=3", GroupCommand::Delete)).unwrap();
    apply(&mut t, &cmd("group_id=2", GroupCommand::Delete)).unwrap();
    apply(&mut t, &cmd("group_id=1", GroupCommand::Delete)).unwrap();
}

#[test]
fn pipeline_deletes_the_flows_of_deleted_groups_and_counts_references() {
    let mut p = Pipeline::new(PipelineConfig::default());
    let flow = |t: &str| ofproto::text::parse_flow(t, ofproto::text::FlowCommand::Add).unwrap();
    p.apply_group_mod(&gm("group_id=1,type=all,bucket=output:1"), 0, ok)
        .unwrap();
    p.apply_group_mod(&gm("group_id=2,type=all,bucket=output:2"), 0, ok)
        .unwrap();
    p.apply_group_mod(&gm("group_id=3,type=indirect,bucket=group:2"), 0, ok)
        .unwrap();
    for f in [
        "priority=1,in_port=1 actions=group:1",
        "priority=2,in_port=1 actions=write_actions(group:1)",
        "priority=3,in_port=1 actions=group:2",
        "priority=4,in_port=1 actions=output:3",
    ] {
        p.apply_flow_mod(&flow(f), 0).unwrap();
    }
    let refs = p.group_ref_counts();
    assert_eq!(
        (refs.get(&1), refs.get(&2), refs.get(&3)),
        (Some(&2), Some(&2), None)
    );
    let stats = p.group_stats(OFPG_ALL, 0);
    assert_eq!(
        stats
            .iter()
            .map(|s| (s.group_id, s.ref_count))
            .collect::<Vec<_>>(),
        vec![(1, 2), (2, 2), (3, 0)]
    );
    assert_eq!(p.group_stats(2, 0).len(), 1);
    let gen = p.publish();
    assert!(p.snapshot().groups().get(3).is_some());
    let (_, removed) = p
        .apply_group_mod(&cmd("group_id=1", GroupCommand::Delete), 0, ok)
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|r| r.reason == OFPRR_GROUP_DELETE));
    assert_eq!(p.len(), 2);
    assert!(p.has_unpublished_changes());
    assert!(p.publish() > gen);
    assert!(p.snapshot().groups().get(1).is_none());
    // OFPG_ALL: every group, and every flow naming one.
    let (out, removed) = p
        .apply_group_mod(&cmd("", GroupCommand::Delete), 0, ok)
        .unwrap();
    assert_eq!(out.deleted, vec![2, 3]);
    assert_eq!(removed.len(), 1);
    assert_eq!(p.len(), 1);
}

#[test]
fn features_list_types_capabilities_limits_and_actions() {
    let t = GroupTable::new(GroupLimits {
        max_groups: 10,
        max_buckets: 4,
    });
    let f = t.features(&[OFPAT_OUTPUT, OFPAT_GROUP]);
    assert_eq!(f.types, 0b1111);
    assert_eq!(
        f.capabilities,
        OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING | OFPGFC_CHAINING_CHECKS
    );
    assert_eq!(f.max_groups, [10; 4]);
    assert_eq!(f.actions, [1 << OFPAT_OUTPUT | 1 << OFPAT_GROUP; 4]);
}

#[test]
fn desc_gives_back_the_buckets_as_configured() {
    let mut t = GroupTable::default();
    let g = gm("group_id=5,type=select,bucket=weight:3,watch_port:2,output:2,bucket=weight:1,set_field:4097->vlan_vid,output:3");
    t.apply(&g, 0, ok).unwrap();
    let d = t.desc();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].group_id, d[0].group_type), (5, OFPGT_SELECT));
    assert_eq!(d[0].buckets, g.buckets);
    assert!(!t.get(5).unwrap().buckets[0].mutates);
    assert!(t.get(5).unwrap().buckets[1].mutates);
}
