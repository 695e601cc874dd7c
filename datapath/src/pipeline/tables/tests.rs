use super::*;
use crate::pipeline::testutil::*;
use crate::pipeline::NANOS_PER_SEC as S;
use ofproto::action::Action;
use ofproto::oxm::OxmField;

fn pipeline() -> Pipeline {
    Pipeline::with_match_compiler(PipelineConfig::default(), test_compile)
}

fn code(r: Result<FlowModOutcome, WireError>) -> ErrorCode {
    r.unwrap_err().code
}

fn port_of(e: &FlowEntry) -> u32 {
    e.match_
        .fields
        .iter()
        .find_map(|f| match f {
            OxmField::InPort(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}

fn ports(p: &Pipeline, table: u8) -> Vec<(u32, u16)> {
    p.table(table)
        .unwrap()
        .select(&FlowFilter::all())
        .iter()
        .map(|e| (port_of(e), e.priority))
        .collect()
}

fn with<F: FnOnce(&mut FlowMod)>(mut fm: FlowMod, f: F) -> FlowMod {
    f(&mut fm);
    fm
}

// ---------------------------------------------------------------- ADD

#[test]
fn flow_mod_add_then_lookup_hits_highest_priority() {
    let mut p = pipeline();
    p.apply_flow_mod(&add(0, 0, vec![], vec![output(OFPP_CONTROLLER)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![output(2)]), 0)
        .unwrap();
    let mut f = vec![in_port(1)];
    f.extend(tcp());
    f.push(nw_dst([10, 0, 0, 0], 24));
    p.apply_flow_mod(&add(0, 20, f, vec![output(3)]), 0)
        .unwrap();
    let hit = |k| p.lookup(0, &k).unwrap().instructions.to_vec();
    assert_eq!(
        hit(pkt(1, [1, 1, 1, 1], [10, 0, 0, 9], 80)),
        vec![output(3)]
    );
    assert_eq!(
        hit(pkt(1, [1, 1, 1, 1], [10, 0, 1, 9], 80)),
        vec![output(2)]
    );
    assert_eq!(
        hit(pkt(2, [1, 1, 1, 1], [10, 0, 0, 9], 80)),
        vec![output(OFPP_CONTROLLER)]
    );
    assert!(p
        .lookup(1, &pkt(2, [1, 1, 1, 1], [10, 0, 0, 9], 80))
        .is_none());
}

#[test]
fn flow_mod_add_identical_match_and_priority_replaces_keeping_counters() {
    let mut p = pipeline();
    let old = p
        .apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![output(2)]), S)
        .unwrap()
        .added
        .unwrap();
    old.record(5, 500, 2 * S);
    let new_fm = with(add(0, 10, vec![in_port(1)], vec![output(3)]), |f| {
        f.cookie = 0xabc;
        f.idle_timeout = 7;
        f.flags = OFPFF_SEND_FLOW_REM;
    });
    let out = p.apply_flow_mod(&new_fm, 10 * S).unwrap();
    assert!(Arc::ptr_eq(out.replaced.as_ref().unwrap(), &old));
    let new = out.added.unwrap();
    assert_eq!(p.len(), 1);
    // Everything from the new FLOW_MOD; counters carried over; duration anew.
    assert_eq!(new.instructions.to_vec(), vec![output(3)]);
    assert_eq!(
        (new.cookie, new.idle_timeout, new.flags),
        (0xabc, 7, OFPFF_SEND_FLOW_REM)
    );
    assert_eq!((new.packet_count(), new.byte_count()), (5, 500));
    assert_eq!(new.duration(11 * S), (1, 0));
    assert_ne!(new.id, old.id);
    // Packets counted through the old entry (an old snapshot) still count.
    old.record(1, 100, 11 * S);
    assert_eq!(new.packet_count(), 6);
}

#[test]
fn flow_mod_add_identical_with_reset_counts_starts_from_zero() {
    let mut p = pipeline();
    let old = p
        .apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![]), 0)
        .unwrap()
        .added
        .unwrap();
    old.record(5, 500, 1);
    let f = with(add(0, 10, vec![in_port(1)], vec![]), |f| {
        f.flags = OFPFF_RESET_COUNTS
    });
    let new = p.apply_flow_mod(&f, 2).unwrap().added.unwrap();
    assert_eq!((new.packet_count(), new.byte_count()), (0, 0));
    old.record(1, 1, 3);
    assert_eq!(new.packet_count(), 0);
}

#[test]
fn entries_keep_and_report_every_flag_as_ovs_does() {
    let mut p = pipeline();
    let f = with(add(0, 10, vec![in_port(1)], vec![]), |f| {
        f.flags =
            OFPFF_SEND_FLOW_REM | OFPFF_CHECK_OVERLAP | OFPFF_RESET_COUNTS | OFPFF_NO_PKT_COUNTS
    });
    let e = p.apply_flow_mod(&f, 0).unwrap().added.unwrap();
    let all = OFPFF_SEND_FLOW_REM | OFPFF_CHECK_OVERLAP | OFPFF_RESET_COUNTS | OFPFF_NO_PKT_COUNTS;
    assert_eq!(e.flags, all);
    let st = p.flow_stats(&FlowStatsRequest::default(), 0).unwrap();
    assert_eq!(st[0].flags, all);
}

#[test]
fn flow_mod_add_same_match_other_priority_coexists() {
    let mut p = pipeline();
    p.apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![output(1)]), 0)
        .unwrap();
    let out = p
        .apply_flow_mod(&add(0, 20, vec![in_port(1)], vec![output(2)]), 0)
        .unwrap();
    assert!(out.replaced.is_none());
    assert_eq!(ports(&p, 0), [(1, 20), (1, 10)]);
    assert_eq!(
        p.lookup(0, &pkt(1, [0; 4], [0; 4], 0)).unwrap().priority,
        20
    );
}

#[test]
fn flow_mod_add_check_overlap_refuses_intersecting_same_priority() {
    let mut p = pipeline();
    let mut f = vec![in_port(1), ipv4()];
    f.push(nw_dst([10, 0, 0, 0], 24));
    p.apply_flow_mod(&add(0, 10, f, vec![]), 0).unwrap();
    let check = |fields: Vec<OxmField>, prio: u16| {
        with(add(0, prio, fields, vec![]), |f| {
            f.flags = OFPFF_CHECK_OVERLAP
        })
    };
    // Wider on one field, same on the other: a packet matches both.
    assert_eq!(
        code(p.apply_flow_mod(&check(vec![in_port(1)], 10), 0)),
        OFPFMFC_OVERLAP
    );
    // Narrower prefix inside the /24.
    assert_eq!(
        code(p.apply_flow_mod(&check(vec![ipv4(), nw_dst([10, 0, 0, 128], 25)], 10), 0)),
        OFPFMFC_OVERLAP
    );
    // Wider prefix containing it.
    assert_eq!(
        code(p.apply_flow_mod(&check(vec![ipv4(), nw_dst([10, 0, 0, 0], 8)], 10), 0)),
        OFPFMFC_OVERLAP
    );
    // Identical counts as overlapping.
    assert_eq!(
        code(p.apply_flow_mod(
            &check(vec![in_port(1), ipv4(), nw_dst([10, 0, 0, 0], 24)], 10),
            0
        )),
        OFPFMFC_OVERLAP
    );
    // Everything wildcarded overlaps anything of its priority.
    assert_eq!(
        code(p.apply_flow_mod(&check(vec![], 10), 0)),
        OFPFMFC_OVERLAP
    );
    assert_eq!(p.len(), 1, "refused ADDs change nothing");
}

#[test]
fn flow_mod_add_check_overlap_accepts_disjoint_or_other_priority() {
    let base = || {
        let mut p = pipeline();
        p.apply_flow_mod(
            &add(
                0,
                10,
                vec![in_port(1), ipv4(), nw_dst([10, 0, 0, 0], 24)],
                vec![],
            ),
            0,
        )
        .unwrap();
        p
    };
    let accepted = |fields: Vec<OxmField>, prio: u16| {
        let mut p = base();
        let f = with(add(0, prio, fields, vec![]), |f| {
            f.flags = OFPFF_CHECK_OVERLAP
        });
        p.apply_flow_mod(&f, 0).is_ok() && p.len() == 2
    };
    // Other priority: no conflict whatever the match.
    assert!(accepted(vec![in_port(1)], 11));
    assert!(accepted(vec![], 9));
    // Same priority, disjoint: other port; adjacent prefix; other eth_type.
    assert!(accepted(vec![in_port(2)], 10));
    assert!(accepted(vec![ipv4(), nw_dst([10, 0, 1, 0], 24)], 10));
    assert!(accepted(vec![OxmField::EthType(0x0806)], 10));
    assert!(accepted(
        vec![in_port(2), ipv4(), nw_dst([10, 0, 0, 0], 24)],
        10
    ));
    // Without the flag overlapping entries are simply added.
    let mut p = base();
    p.apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 10, vec![], vec![]), 0).unwrap();
    assert_eq!(p.len(), 3);
}

#[test]
fn flow_mod_add_to_ofptt_all_is_bad_table_id() {
    let mut p = pipeline();
    assert_eq!(
        code(p.apply_flow_mod(&add(OFPTT_ALL, 1, vec![], vec![]), 0)),
        OFPFMFC_BAD_TABLE_ID
    );
    p.apply_flow_mod(&add(OFPTT_MAX, 1, vec![], vec![]), 0)
        .unwrap();
    assert_eq!(p.table(OFPTT_MAX).unwrap().len(), 1);
}

#[test]
fn flow_mod_add_to_full_table_is_table_full() {
    let mut p = Pipeline::with_match_compiler(
        PipelineConfig {
            max_entries_per_table: 2,
        },
        test_compile,
    );
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(2)], vec![]), 0)
        .unwrap();
    assert_eq!(
        code(p.apply_flow_mod(&add(0, 1, vec![in_port(3)], vec![]), 0)),
        OFPFMFC_TABLE_FULL
    );
    // Other tables have their own room; a replacement needs none.
    p.apply_flow_mod(&add(1, 1, vec![in_port(3)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(2)], vec![output(1)]), 0)
        .unwrap();
    // Room again after a delete.
    p.apply_flow_mod(&fm(OFPFC_DELETE_STRICT, 0, 1, vec![in_port(1)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(3)], vec![]), 0)
        .unwrap();
    p.table_mut(0).unwrap().set_max_entries(3);
    p.apply_flow_mod(&add(0, 1, vec![in_port(4)], vec![]), 0)
        .unwrap();
    assert_eq!(p.table(0).unwrap().len(), 3);
}

// ---------------------------------------------------------------- validation

#[test]
fn flow_mod_unknown_command_is_bad_command() {
    let mut p = pipeline();
    for c in [5u8, 6, 0xff] {
        assert_eq!(
            code(p.apply_flow_mod(&fm(c, 0, 1, vec![]), 0)),
            OFPFMFC_BAD_COMMAND
        );
    }
}

#[test]
fn flow_mod_unknown_flag_bits_are_bad_flags() {
    let mut p = pipeline();
    for bad in [1u16 << 5, 1 << 15, 0x00e0] {
        for cmd in [OFPFC_ADD, OFPFC_MODIFY, OFPFC_DELETE] {
            let f = with(fm(cmd, 0, 1, vec![]), |f| {
                f.flags = OFPFF_SEND_FLOW_REM | bad
            });
            assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPFMFC_BAD_FLAGS);
        }
    }
    // Every defined bit is accepted.
    let f = with(add(0, 1, vec![], vec![]), |f| {
        f.flags = crate::pipeline::flow_table::OFPFF_ALL
    });
    p.apply_flow_mod(&f, 0).unwrap();
}

#[test]
fn flow_mod_invalid_match_is_refused_with_its_bad_match_code() {
    let mut p = pipeline();
    // ipv4_dst without eth_type=0x0800: prerequisite missing.
    let f = add(0, 1, vec![nw_dst([10, 0, 0, 1], 32)], vec![]);
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBMC_BAD_PREREQ);
    // Duplicate field.
    let f = add(0, 1, vec![in_port(1), in_port(2)], vec![]);
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBMC_DUP_FIELD);
    // Deletes and stats requests validate their match too.
    let f = fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![nw_dst([10, 0, 0, 1], 32)]);
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBMC_BAD_PREREQ);
    let req = FlowStatsRequest {
        match_: Match::new(vec![nw_dst([10, 0, 0, 1], 32)]),
        ..Default::default()
    };
    assert_eq!(p.flow_stats(&req, 0).unwrap_err().code, OFPBMC_BAD_PREREQ);
    // A field the compiler cannot match.
    let f = add(
        0,
        1,
        vec![
            OxmField::EthType(0x86dd),
            OxmField::IpProto(58),
            OxmField::Icmpv6Type(1),
        ],
        vec![],
    );
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBMC_BAD_FIELD);
    assert!(p.is_empty());
}

#[test]
fn flow_mod_bad_instructions_are_refused() {
    let mut p = pipeline();
    // Two instructions of one type.
    let f = add(0, 1, vec![], vec![output(1), output(2)]);
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBIC_UNSUP_INST);
    // Experimenter instruction.
    let f = add(
        0,
        1,
        vec![],
        vec![Instruction::Experimenter {
            experimenter: 0x2320,
            data: bytes::Bytes::from_static(&[0; 4]),
        }],
    );
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBIC_BAD_EXPERIMENTER);
    // MODIFY checks its instructions too.
    let f = with(fm(OFPFC_MODIFY, 0, 1, vec![]), |f| {
        f.instructions = vec![Instruction::ClearActions, Instruction::ClearActions]
    });
    assert_eq!(code(p.apply_flow_mod(&f, 0)), OFPBIC_UNSUP_INST);
    // DELETE ignores them.
    let f = with(fm(OFPFC_DELETE, 0, 1, vec![]), |f| {
        f.instructions = vec![Instruction::ClearActions, Instruction::ClearActions]
    });
    p.apply_flow_mod(&f, 0).unwrap();
}

#[test]
fn flow_mod_goto_table_must_go_forward() {
    let mut p = pipeline();
    let goto = |table: u8, to: u8| add(table, 1, vec![], vec![Instruction::GotoTable(to)]);
    assert_eq!(code(p.apply_flow_mod(&goto(3, 3), 0)), OFPBIC_BAD_TABLE_ID);
    assert_eq!(code(p.apply_flow_mod(&goto(3, 1), 0)), OFPBIC_BAD_TABLE_ID);
    assert_eq!(
        code(p.apply_flow_mod(&goto(0, OFPTT_ALL), 0)),
        OFPBIC_BAD_TABLE_ID
    );
    p.apply_flow_mod(&goto(3, 4), 0).unwrap();
    p.apply_flow_mod(&goto(0, OFPTT_MAX), 0).unwrap();
    // MODIFY in one table.
    let m = |table: u8, to: u8| {
        with(fm(OFPFC_MODIFY, table, 0, vec![]), |f| {
            f.instructions = vec![Instruction::GotoTable(to)]
        })
    };
    assert_eq!(code(p.apply_flow_mod(&m(3, 2), 0)), OFPBIC_BAD_TABLE_ID);
    p.apply_flow_mod(&m(3, 5), 0).unwrap();
    // MODIFY across all tables: refused if any table with an entry to
    // modify is at or after the target, and then nothing is modified.
    assert_eq!(
        code(p.apply_flow_mod(&m(OFPTT_ALL, 3), 0)),
        OFPBIC_BAD_TABLE_ID
    );
    assert_eq!(
        p.table(0)
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .instructions
            .to_vec(),
        vec![Instruction::GotoTable(OFPTT_MAX)]
    );
    let out = p.apply_flow_mod(&m(OFPTT_ALL, 4), 0).unwrap();
    assert_eq!(out.modified.len(), 2);
}

// ---------------------------------------------------------------- MODIFY

fn three_flows() -> Pipeline {
    let mut p = pipeline();
    for (port, prio, cookie) in [(1, 10, 0x11), (1, 20, 0x12), (2, 10, 0x21)] {
        let f = with(
            add(0, prio, vec![in_port(port), ipv4()], vec![output(9)]),
            |f| f.cookie = cookie,
        );
        p.apply_flow_mod(&f, 0).unwrap();
    }
    p.apply_flow_mod(
        &with(add(0, 5, vec![ipv4()], vec![output(9)]), |f| {
            f.cookie = 0x30
        }),
        0,
    )
    .unwrap();
    p
}

fn instructions_by_port(p: &Pipeline) -> Vec<(u32, u16, Vec<Instruction>)> {
    p.table(0)
        .unwrap()
        .select(&FlowFilter::all())
        .iter()
        .map(|e| (port_of(e), e.priority, e.instructions.to_vec()))
        .collect()
}

#[test]
fn flow_mod_modify_changes_every_covered_entry_any_priority() {
    let mut p = three_flows();
    let m = with(fm(OFPFC_MODIFY, 0, 999, vec![in_port(1)]), |f| {
        f.instructions = vec![output(7)]
    });
    let out = p.apply_flow_mod(&m, 0).unwrap();
    assert_eq!(out.modified.len(), 2);
    assert_eq!(
        instructions_by_port(&p),
        [
            (1, 20, vec![output(7)]),
            (1, 10, vec![output(7)]),
            (2, 10, vec![output(9)]),
            (0, 5, vec![output(9)]),
        ]
    );
    // An empty match covers all.
    let m = with(fm(OFPFC_MODIFY, 0, 0, vec![]), |f| f.instructions = vec![]);
    assert_eq!(p.apply_flow_mod(&m, 0).unwrap().modified.len(), 4);
}

#[test]
fn flow_mod_modify_does_not_touch_entries_wider_than_its_match() {
    let mut p = three_flows();
    // in_port=1,ip,tcp is narrower than the entries: it covers none.
    let mut f = vec![in_port(1)];
    f.extend(tcp());
    let m = with(fm(OFPFC_MODIFY, 0, 0, f), |f| f.instructions = vec![]);
    assert!(p.apply_flow_mod(&m, 0).unwrap().modified.is_empty());
}

#[test]
fn flow_mod_modify_keeps_cookie_timeouts_flags_duration_and_counters() {
    let mut p = pipeline();
    let f = with(add(0, 10, vec![in_port(1)], vec![output(2)]), |f| {
        f.cookie = 0x55;
        f.idle_timeout = 30;
        f.hard_timeout = 60;
        f.flags = OFPFF_SEND_FLOW_REM;
    });
    let old = p.apply_flow_mod(&f, S).unwrap().added.unwrap();
    old.record(4, 400, 2 * S);
    let m = with(fm(OFPFC_MODIFY_STRICT, 0, 10, vec![in_port(1)]), |f| {
        f.cookie = 0x99; // not a new cookie: cookie_mask is 0
        f.idle_timeout = 1;
        f.hard_timeout = 1;
        f.flags = OFPFF_NO_PKT_COUNTS;
        f.instructions = vec![output(3)];
    });
    let new = p.apply_flow_mod(&m, 5 * S).unwrap().modified.remove(0);
    assert_eq!(new.instructions.to_vec(), vec![output(3)]);
    assert_eq!(
        (new.cookie, new.idle_timeout, new.hard_timeout, new.flags),
        (0x55, 30, 60, OFPFF_SEND_FLOW_REM)
    );
    assert_eq!(new.installed, S);
    assert_eq!((new.packet_count(), new.byte_count()), (4, 400));
    assert_eq!(new.id, old.id);
    assert!(Arc::ptr_eq(&new.counters, &old.counters));
}

#[test]
fn flow_mod_modify_with_reset_counts_zeroes_them() {
    let mut p = pipeline();
    let old = p
        .apply_flow_mod(&add(0, 10, vec![in_port(1)], vec![]), 0)
        .unwrap()
        .added
        .unwrap();
    old.record(4, 400, 1);
    let m = with(fm(OFPFC_MODIFY, 0, 0, vec![]), |f| {
        f.flags = OFPFF_RESET_COUNTS
    });
    let new = p.apply_flow_mod(&m, 2).unwrap().modified.remove(0);
    assert_eq!((new.packet_count(), new.byte_count()), (0, 0));
}

#[test]
fn flow_mod_modify_cookie_mask_selects_entries() {
    let mut p = three_flows();
    let m = with(fm(OFPFC_MODIFY, 0, 0, vec![]), |f| {
        f.cookie = 0x10;
        f.cookie_mask = 0xf0;
        f.instructions = vec![output(1)];
    });
    let out = p.apply_flow_mod(&m, 0).unwrap();
    let mut cookies: Vec<u64> = out.modified.iter().map(|e| e.cookie).collect();
    cookies.sort();
    assert_eq!(cookies, [0x11, 0x12]);
}

#[test]
fn flow_mod_modify_strict_needs_exact_match_and_priority() {
    let mut p = three_flows();
    let m = |prio: u16, fields: Vec<OxmField>| {
        with(fm(OFPFC_MODIFY_STRICT, 0, prio, fields), |f| {
            f.instructions = vec![output(4)]
        })
    };
    assert!(p
        .apply_flow_mod(&m(15, vec![in_port(1), ipv4()]), 0)
        .unwrap()
        .modified
        .is_empty());
    assert!(p
        .apply_flow_mod(&m(20, vec![in_port(1)]), 0)
        .unwrap()
        .modified
        .is_empty());
    assert!(p
        .apply_flow_mod(&m(5, vec![]), 0)
        .unwrap()
        .modified
        .is_empty());
    let out = p
        .apply_flow_mod(&m(20, vec![in_port(1), ipv4()]), 0)
        .unwrap();
    assert_eq!(out.modified.len(), 1);
    assert_eq!(
        instructions_by_port(&p),
        [
            (1, 20, vec![output(4)]),
            (1, 10, vec![output(9)]),
            (2, 10, vec![output(9)]),
            (0, 5, vec![output(9)]),
        ]
    );
}

#[test]
fn flow_mod_modify_matching_nothing_adds_nothing() {
    let mut p = three_flows();
    for cmd in [OFPFC_MODIFY, OFPFC_MODIFY_STRICT] {
        let m = with(fm(cmd, 0, 10, vec![in_port(7)]), |f| {
            f.instructions = vec![output(1)]
        });
        let out = p.apply_flow_mod(&m, 0).unwrap();
        assert!(out.modified.is_empty() && out.added.is_none());
        assert_eq!(p.len(), 4);
        // Another (empty) table: nothing either.
        let m = with(m, |f| f.table_id = 3);
        assert!(p.apply_flow_mod(&m, 0).unwrap().modified.is_empty());
        assert!(p.table(3).unwrap().is_empty());
    }
}

#[test]
fn flow_mod_modify_ignores_out_port_and_out_group() {
    let mut p = three_flows();
    let m = with(fm(OFPFC_MODIFY, 0, 0, vec![]), |f| {
        f.out_port = 1234;
        f.out_group = 5;
        f.instructions = vec![output(1)];
    });
    assert_eq!(p.apply_flow_mod(&m, 0).unwrap().modified.len(), 4);
}

#[test]
fn flow_mod_modify_ofptt_all_spans_tables() {
    let mut p = pipeline();
    for t in [0u8, 4, 200] {
        p.apply_flow_mod(&add(t, 1, vec![in_port(1)], vec![output(1)]), 0)
            .unwrap();
        p.apply_flow_mod(&add(t, 1, vec![in_port(2)], vec![output(1)]), 0)
            .unwrap();
    }
    let m = with(fm(OFPFC_MODIFY, OFPTT_ALL, 0, vec![in_port(1)]), |f| {
        f.instructions = vec![output(8)]
    });
    let out = p.apply_flow_mod(&m, 0).unwrap();
    let mut tables: Vec<u8> = out.modified.iter().map(|e| e.table_id).collect();
    tables.sort();
    assert_eq!(tables, [0, 4, 200]);
    // Only table 4:
    let m = with(m, |f| {
        f.table_id = 4;
        f.instructions = vec![output(9)]
    });
    assert_eq!(p.apply_flow_mod(&m, 0).unwrap().modified.len(), 1);
    assert_eq!(
        p.lookup(4, &pkt(1, [0; 4], [0; 4], 0))
            .unwrap()
            .instructions
            .to_vec(),
        vec![output(9)]
    );
    assert_eq!(
        p.lookup(200, &pkt(1, [0; 4], [0; 4], 0))
            .unwrap()
            .instructions
            .to_vec(),
        vec![output(8)]
    );
}

// ---------------------------------------------------------------- DELETE

#[test]
fn flow_mod_delete_removes_covered_entries_any_priority() {
    let mut p = three_flows();
    let out = p
        .apply_flow_mod(&fm(OFPFC_DELETE, 0, 12345, vec![in_port(1)]), 0)
        .unwrap();
    let mut gone: Vec<(u32, u16, u8)> = out
        .removed
        .iter()
        .map(|r| (port_of(&r.entry), r.entry.priority, r.reason))
        .collect();
    gone.sort();
    assert_eq!(gone, [(1, 10, OFPRR_DELETE), (1, 20, OFPRR_DELETE)]);
    assert_eq!(ports(&p, 0), [(2, 10), (0, 5)]);
}

#[test]
fn flow_mod_delete_strict_leaves_other_priorities() {
    let mut p = three_flows();
    let out = p
        .apply_flow_mod(&fm(OFPFC_DELETE_STRICT, 0, 10, vec![in_port(1), ipv4()]), 0)
        .unwrap();
    assert_eq!(out.removed.len(), 1);
    assert_eq!(ports(&p, 0), [(1, 20), (2, 10), (0, 5)]);
    // Strict with a covering (but not identical) match removes nothing.
    let out = p
        .apply_flow_mod(&fm(OFPFC_DELETE_STRICT, 0, 5, vec![]), 0)
        .unwrap();
    assert!(out.removed.is_empty());
    let out = p
        .apply_flow_mod(&fm(OFPFC_DELETE_STRICT, 0, 5, vec![ipv4()]), 0)
        .unwrap();
    assert_eq!(out.removed.len(), 1);
}

#[test]
fn flow_mod_delete_filters_by_cookie() {
    let mut p = three_flows();
    let d = with(fm(OFPFC_DELETE, 0, 0, vec![]), |f| {
        f.cookie = 0x20;
        f.cookie_mask = 0xf0;
    });
    let out = p.apply_flow_mod(&d, 0).unwrap();
    assert_eq!(out.removed.len(), 1);
    assert_eq!(out.removed[0].entry.cookie, 0x21);
    // Exact cookie with strict.
    let d = with(
        fm(OFPFC_DELETE_STRICT, 0, 20, vec![in_port(1), ipv4()]),
        |f| {
            f.cookie = 0x11;
            f.cookie_mask = u64::MAX;
        },
    );
    assert!(p.apply_flow_mod(&d, 0).unwrap().removed.is_empty());
    let d = with(d, |f| f.cookie = 0x12);
    assert_eq!(p.apply_flow_mod(&d, 0).unwrap().removed.len(), 1);
}

#[test]
fn flow_mod_delete_filters_by_out_port_in_apply_and_write_actions() {
    let mut p = pipeline();
    let write = |port| Instruction::WriteActions(vec![Action::Output { port, max_len: 0 }]);
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![output(5)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(2)], vec![write(5)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(3)], vec![output(6), write(7)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(4)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(
        &add(0, 1, vec![in_port(5)], vec![output(OFPP_CONTROLLER)]),
        0,
    )
    .unwrap();
    let del = |port: u32| with(fm(OFPFC_DELETE, 0, 0, vec![]), |f| f.out_port = port);
    let mut gone: Vec<u32> = p
        .apply_flow_mod(&del(5), 0)
        .unwrap()
        .removed
        .iter()
        .map(|r| port_of(&r.entry))
        .collect();
    gone.sort();
    assert_eq!(gone, [1, 2]);
    assert_eq!(p.apply_flow_mod(&del(7), 0).unwrap().removed.len(), 1);
    assert_eq!(
        p.apply_flow_mod(&del(OFPP_CONTROLLER), 0)
            .unwrap()
            .removed
            .len(),
        1
    );
    assert!(p.apply_flow_mod(&del(8), 0).unwrap().removed.is_empty());
    // Strict delete honours out_port as well.
    let d = with(fm(OFPFC_DELETE_STRICT, 0, 1, vec![in_port(4)]), |f| {
        f.out_port = 3
    });
    assert!(p.apply_flow_mod(&d, 0).unwrap().removed.is_empty());
    assert_eq!(ports(&p, 0), [(4, 1)]);
}

#[test]
fn flow_mod_delete_filters_by_out_group() {
    let mut p = pipeline();
    let group = |g| Instruction::ApplyActions(vec![Action::Group(g)]);
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![group(1)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(2)], vec![group(2)]), 0)
        .unwrap();
    p.apply_flow_mod(&add(0, 1, vec![in_port(3)], vec![output(1)]), 0)
        .unwrap();
    let d = with(fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![]), |f| f.out_group = 2);
    let out = p.apply_flow_mod(&d, 0).unwrap();
    assert_eq!(out.removed.len(), 1);
    assert_eq!(port_of(&out.removed[0].entry), 2);
    // out_port and out_group together: both must hold.
    let d = with(d, |f| {
        f.out_group = 1;
        f.out_port = 1;
    });
    assert!(p.apply_flow_mod(&d, 0).unwrap().removed.is_empty());
}

#[test]
fn flow_mod_delete_ofptt_all_empties_every_table_and_reports_flow_removed_wishes() {
    let mut p = pipeline();
    for t in [0u8, 1, 254] {
        p.apply_flow_mod(&add(t, 1, vec![], vec![]), 0).unwrap();
        let f = with(add(t, 2, vec![in_port(1)], vec![]), |f| {
            f.flags = OFPFF_SEND_FLOW_REM
        });
        p.apply_flow_mod(&f, 0).unwrap();
    }
    let out = p
        .apply_flow_mod(&fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![]), 5 * S)
        .unwrap();
    assert_eq!(out.removed.len(), 6);
    assert_eq!(
        out.removed
            .iter()
            .filter(|r| r.wants_flow_removed())
            .count(),
        3
    );
    let fr = out
        .removed
        .iter()
        .find(|r| r.wants_flow_removed())
        .unwrap()
        .to_flow_removed(5 * S);
    assert_eq!(
        (fr.reason, fr.duration_sec, fr.priority),
        (OFPRR_DELETE, 5, 2)
    );
    assert!(p.is_empty());
    // Deleting from empty tables is no error.
    assert!(p
        .apply_flow_mod(&fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![]), 0)
        .unwrap()
        .removed
        .is_empty());
}

#[test]
fn flow_mod_delete_in_one_table_leaves_the_others() {
    let mut p = pipeline();
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&add(1, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&fm(OFPFC_DELETE, 1, 0, vec![in_port(1)]), 0)
        .unwrap();
    assert_eq!(p.table(0).unwrap().len(), 1);
    assert!(p.table(1).unwrap().is_empty());
}

// ---------------------------------------------------------------- timeouts

#[test]
fn pipeline_expire_spans_tables_and_is_published() {
    let mut p = pipeline();
    let f = |t: u8, idle: u16, hard: u16| {
        with(add(t, 1, vec![in_port(1)], vec![]), |f| {
            f.idle_timeout = idle;
            f.hard_timeout = hard;
        })
    };
    p.apply_flow_mod(&f(0, 0, 10), 0).unwrap();
    let busy = p.apply_flow_mod(&f(2, 5, 0), 0).unwrap().added.unwrap();
    p.apply_flow_mod(&f(3, 0, 0), 0).unwrap();
    p.publish();
    assert_eq!(p.next_expiry(), Some(5 * S));
    busy.record(1, 64, 6 * S);
    assert!(p.expire(9 * S).is_empty());
    assert!(!p.has_unpublished_changes());
    let gone = p.expire(10 * S);
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (gone[0].entry.table_id, gone[0].reason),
        (0, OFPRR_HARD_TIMEOUT)
    );
    assert!(p.has_unpublished_changes());
    let gone = p.expire(11 * S);
    assert_eq!(
        (gone[0].entry.table_id, gone[0].reason),
        (2, OFPRR_IDLE_TIMEOUT)
    );
    let before = p.snapshot();
    p.publish();
    let after = p.snapshot();
    let k = pkt(1, [0; 4], [0; 4], 0);
    assert!(before.lookup(0, &k).is_some());
    assert!(after.lookup(0, &k).is_none());
    assert!(after.lookup(3, &k).is_some());
    assert_eq!(p.next_expiry(), None);
}

// ---------------------------------------------------------------- stats

fn stats_pipeline() -> Pipeline {
    let mut p = pipeline();
    let entries = [
        (0u8, 10u16, 1u32, 0x1u64, 5u32),
        (0, 20, 2, 0x2, 6),
        (0, 30, 1, 0x13, 6),
        (1, 10, 1, 0x1, 5),
    ];
    for (t, prio, port, cookie, out) in entries {
        let f = with(
            add(t, prio, vec![in_port(port), ipv4()], vec![output(out)]),
            |f| f.cookie = cookie,
        );
        let e = p.apply_flow_mod(&f, S).unwrap().added.unwrap();
        e.record(u64::from(prio), 100 * u64::from(prio), 2 * S);
    }
    p
}

#[test]
fn flow_stats_filter_by_table_match_cookie_and_out_port() {
    let p = stats_pipeline();
    let all = p.flow_stats(&FlowStatsRequest::default(), 3 * S).unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.table_id, s.priority))
            .collect::<Vec<_>>(),
        [(0, 30), (0, 20), (0, 10), (1, 10)]
    );
    assert_eq!(
        (all[0].duration_sec, all[0].packet_count, all[0].byte_count),
        (2, 30, 3000)
    );
    let req = |f: &dyn Fn(&mut FlowStatsRequest)| {
        let mut r = FlowStatsRequest::default();
        f(&mut r);
        p.flow_stats(&r, 3 * S)
            .unwrap()
            .iter()
            .map(|s| (s.table_id, s.priority))
            .collect::<Vec<_>>()
    };
    assert_eq!(req(&|r| r.table_id = 1), [(1, 10)]);
    assert_eq!(req(&|r| r.table_id = 7), []);
    assert_eq!(
        req(&|r| r.match_ = Match::new(vec![in_port(1)])),
        [(0, 30), (0, 10), (1, 10)]
    );
    assert_eq!(
        req(&|r| {
            r.cookie = 0x3;
            r.cookie_mask = 0xf
        }),
        [(0, 30)]
    );
    assert_eq!(req(&|r| r.out_port = 6), [(0, 30), (0, 20)]);
    assert_eq!(req(&|r| r.out_group = 6), []);
    // Non-strict: a narrower request match selects nothing wider.
    let mut narrower = vec![in_port(1)];
    narrower.extend(tcp());
    assert_eq!(req(&|r| r.match_ = Match::new(narrower.clone())), []);
}

#[test]
fn aggregate_stats_sum_what_flow_stats_select() {
    let p = stats_pipeline();
    let a = p.aggregate_stats(&FlowStatsRequest::default()).unwrap();
    assert_eq!((a.packet_count, a.byte_count, a.flow_count), (70, 7000, 4));
    let a = p
        .aggregate_stats(&FlowStatsRequest {
            table_id: 0,
            match_: Match::new(vec![in_port(1)]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((a.packet_count, a.byte_count, a.flow_count), (40, 4000, 2));
}

#[test]
fn table_stats_count_active_lookups_and_matches() {
    let mut p = stats_pipeline();
    p.publish();
    let snap = p.snapshot();
    let t0 = snap.table(0).unwrap();
    assert!(t0.lookup_counted(&pkt(1, [0; 4], [0; 4], 0)).is_some());
    assert!(t0.lookup_counted(&pkt(9, [0; 4], [0; 4], 0)).is_none());
    t0.counters().record(10, 4);
    let st = p.table_stats();
    assert_eq!(st.len(), N_TABLES);
    assert_eq!(
        (
            st[0].table_id,
            st[0].active_count,
            st[0].lookup_count,
            st[0].matched_count
        ),
        (0, 3, 12, 5)
    );
    assert_eq!((st[1].active_count, st[1].lookup_count), (1, 0));
    assert_eq!(st[254].table_id, 254);
    // The counters outlive republishing.
    p.apply_flow_mod(&add(0, 1, vec![], vec![]), 0).unwrap();
    p.publish();
    assert_eq!(p.snapshot().table(0).unwrap().counters().lookups(), 12);
    assert_eq!(p.table_stats()[0].active_count, 4);
}

// ---------------------------------------------------------------- publication

#[test]
fn changes_are_invisible_to_the_data_plane_until_published() {
    let mut p = pipeline();
    let mut reader = p.reader();
    assert_eq!(reader.current().generation(), 0);
    let k = pkt(1, [0; 4], [0; 4], 0);
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    assert!(p.has_unpublished_changes());
    assert!(reader.current().lookup(0, &k).is_none());
    assert_eq!(p.publish(), 1);
    assert!(!p.has_unpublished_changes());
    assert_eq!(reader.published_generation(), 1);
    assert_eq!(reader.cached().generation(), 0);
    let snap = reader.current();
    assert_eq!(snap.generation(), 1);
    assert!(snap.lookup(0, &k).is_some());
    // Nothing changed: no new generation.
    assert_eq!(p.publish(), 1);
    // A FLOW_MOD that changes nothing (delete matching nothing) neither.
    p.apply_flow_mod(&fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![in_port(9)]), 0)
        .unwrap();
    assert_eq!(p.publish(), 1);
}

#[test]
fn batched_flow_mods_publish_once() {
    let mut p = pipeline();
    for i in 0..100 {
        p.apply_flow_mod(&add((i % 3) as u8, 1, vec![in_port(i)], vec![]), 0)
            .unwrap();
    }
    assert_eq!(p.snapshot().len(), 0);
    assert_eq!(p.publish(), 1);
    let s = p.snapshot();
    assert_eq!(s.len(), 100);
    assert_eq!(s.table(1).unwrap().len(), 33);
}

#[test]
fn publish_shares_unchanged_tables() {
    let mut p = pipeline();
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.apply_flow_mod(&add(1, 1, vec![in_port(1)], vec![]), 0)
        .unwrap();
    p.publish();
    let a = p.snapshot();
    p.apply_flow_mod(&add(1, 1, vec![in_port(2)], vec![]), 0)
        .unwrap();
    p.publish();
    let b = p.snapshot();
    assert!(Arc::ptr_eq(&a.tables[0], &b.tables[0]));
    assert!(!Arc::ptr_eq(&a.tables[1], &b.tables[1]));
    assert!(Arc::ptr_eq(&a.tables[200], &b.tables[200]));
}

#[test]
fn old_snapshot_stays_valid_and_counts_into_current_stats() {
    let mut p = pipeline();
    p.apply_flow_mod(&add(0, 1, vec![in_port(1)], vec![output(1)]), 0)
        .unwrap();
    p.publish();
    let mut reader = p.reader();
    let old = Arc::clone(reader.current());
    // MODIFY and publish: the old snapshot keeps the old instructions...
    let m = with(fm(OFPFC_MODIFY, 0, 0, vec![]), |f| {
        f.instructions = vec![output(2)]
    });
    p.apply_flow_mod(&m, 0).unwrap();
    p.publish();
    let k = pkt(1, [0; 4], [0; 4], 0);
    let old_entry = old.lookup(0, &k).unwrap();
    assert_eq!(old_entry.instructions.to_vec(), vec![output(1)]);
    // ...and a packet counted through it shows in the stats of the new one.
    old_entry.record(1, 60, 1);
    let st = p.flow_stats(&FlowStatsRequest::default(), 2).unwrap();
    assert_eq!(
        (st[0].packet_count, st[0].instructions.to_vec()),
        (1, vec![output(2)])
    );
    // Delete and publish: the old snapshot still answers, memory held by it.
    p.apply_flow_mod(&fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![]), 0)
        .unwrap();
    p.publish();
    assert!(reader.current().lookup(0, &k).is_none());
    assert!(old.lookup(0, &k).is_some());
    assert_eq!(old.len(), 1);
}

#[test]
fn readers_on_other_threads_follow_publishes() {
    let mut p = pipeline();
    let k = pkt(1, [0; 4], [0; 4], 0);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut r = p.reader();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut last_gen = 0;
                let mut hits = 0u64;
                loop {
                    // Read the flag first: the pass after it is seen set
                    // loads the last generation.
                    let done = stop.load(std::sync::atomic::Ordering::Acquire);
                    let s = r.current();
                    assert!(s.generation() >= last_gen, "generations only grow");
                    last_gen = s.generation();
                    if let Some(e) = s.lookup(0, &k) {
                        e.record(1, 10, 0);
                        hits += 1;
                    }
                    if done {
                        break;
                    }
                }
                (last_gen, hits)
            })
        })
        .collect();
    for i in 0..200u16 {
        let f = with(add(0, 1 + i % 2, vec![in_port(1)], vec![]), |f| {
            f.cookie = u64::from(i)
        });
        p.apply_flow_mod(&f, 0).unwrap();
        if i % 2 == 1 {
            p.apply_flow_mod(&fm(OFPFC_DELETE_STRICT, 0, 1, vec![in_port(1)]), 0)
                .unwrap();
        }
        p.publish();
    }
    // The workers see the last generation.
    let last = p.generation();
    let mut r = p.reader();
    assert_eq!(r.current().generation(), last);
    std::thread::sleep(std::time::Duration::from_millis(20));
    stop.store(true, std::sync::atomic::Ordering::Release);
    let mut counted = 0;
    for w in workers {
        let (g, hits) = w.join().unwrap();
        assert_eq!(g, last);
        counted += hits;
    }
    // Every hit landed in some version's counters; the surviving entry's
    // counters are shared with every version since its last ADD.
    assert!(counted > 0);
    let total: u64 = p
        .flow_stats(&FlowStatsRequest::default(), 0)
        .unwrap()
        .iter()
        .map(|s| s.packet_count)
        .sum();
    assert!(total <= counted);
}

#[test]
fn snapshot_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PipelineSnapshot>();
    check::<TableSnapshot>();
    check::<SnapshotReader>();
    check::<Pipeline>();
}

// ---------------------------------------------------------------- through compile_match

/// The same semantics with the real key layout (`packet::key`), where
/// fields share storage (arp_tpa = ipv4_dst) and prerequisites keep them
/// apart.
mod with_compile_match {
    use super::*;
    use ofproto::oxm::{OFPVID_NONE, OFPVID_PRESENT};
    use std::net::Ipv4Addr;

    fn ip(a: [u8; 4]) -> Ipv4Addr {
        Ipv4Addr::from(a)
    }

    /// A packet key with exactly these fields.
    fn packet(fields: &[OxmField]) -> FlowKey {
        let mut k = FlowKey::default();
        for f in fields {
            assert!(k.set_field(f));
        }
        k
    }

    fn arp_to(a: [u8; 4]) -> Vec<OxmField> {
        vec![OxmField::EthType(0x0806), OxmField::ArpTpa(ip(a), None)]
    }

    fn icmp_to(a: [u8; 4]) -> Vec<OxmField> {
        vec![
            OxmField::EthType(0x0800),
            OxmField::IpProto(1),
            OxmField::Ipv4Dst(ip(a), None),
        ]
    }

    fn ip_to(a: [u8; 4]) -> Vec<OxmField> {
        vec![OxmField::EthType(0x0800), OxmField::Ipv4Dst(ip(a), None)]
    }

    /// The seed walkthrough's flows for one VM, plus a table-miss entry.
    fn walkthrough() -> Pipeline {
        let mut p = Pipeline::new(PipelineConfig::default());
        let vm = [10, 10, 10, 12];
        for f in [arp_to(vm), icmp_to(vm), ip_to(vm)] {
            p.apply_flow_mod(&add(0, 100, f, vec![output(2)]), 0)
                .unwrap();
        }
        p.apply_flow_mod(&add(0, 0, vec![], vec![output(OFPP_CONTROLLER)]), 0)
            .unwrap();
        p.publish();
        p
    }

    fn verdict(p: &Pipeline, fields: &[OxmField]) -> u32 {
        let s = p.snapshot();
        let e = s.lookup(0, &packet(fields)).expect("table-miss entry");
        match &e.instructions[..] {
            [Instruction::ApplyActions(a)] => match a[..] {
                [Action::Output { port, .. }] => port,
                _ => unreachable!(),
            },
            _ => unreachable!(),
        }
    }

    #[test]
    fn walkthrough_flows_forward_by_arp_tpa_and_nw_dst() {
        let p = walkthrough();
        let mut icmp = icmp_to([10, 10, 10, 12]);
        icmp.push(OxmField::InPort(1));
        assert_eq!(verdict(&p, &icmp), 2);
        assert_eq!(verdict(&p, &arp_to([10, 10, 10, 12])), 2);
        assert_eq!(verdict(&p, &arp_to([10, 10, 10, 13])), OFPP_CONTROLLER);
        let mut tcp = ip_to([10, 10, 10, 12]);
        tcp.push(OxmField::IpProto(6));
        tcp.push(OxmField::TcpDst(22));
        assert_eq!(verdict(&p, &tcp), 2);
        // An IPv6 packet: nothing but the miss entry.
        assert_eq!(verdict(&p, &[OxmField::EthType(0x86dd)]), OFPP_CONTROLLER);
        // The ARP flow and the IP flow share key bytes, not matches: the
        // IP packet hits the ip flow (installed later), not the arp one.
        let s = p.snapshot();
        let e = s.lookup(0, &packet(&ip_to([10, 10, 10, 12]))).unwrap();
        assert_eq!(e.match_, Match::new(ip_to([10, 10, 10, 12])));
    }

    #[test]
    fn arp_and_ip_flows_for_one_address_do_not_overlap() {
        let mut p = Pipeline::new(PipelineConfig::default());
        let chk =
            |f: Vec<OxmField>| with(add(0, 100, f, vec![]), |f| f.flags = OFPFF_CHECK_OVERLAP);
        p.apply_flow_mod(&chk(arp_to([10, 10, 10, 12])), 0).unwrap();
        p.apply_flow_mod(&chk(ip_to([10, 10, 10, 12])), 0).unwrap();
        // icmp to the address is inside the ip flow.
        assert_eq!(
            code(p.apply_flow_mod(&chk(icmp_to([10, 10, 10, 12])), 0)),
            OFPFMFC_OVERLAP
        );
        // A /24 for IPv4 overlaps; the ARP /24 overlaps only the arp flow.
        let mut net = vec![OxmField::EthType(0x0800)];
        net.push(OxmField::Ipv4Dst(
            ip([10, 10, 10, 0]),
            Some(ip([255, 255, 255, 0])),
        ));
        assert_eq!(code(p.apply_flow_mod(&chk(net), 0)), OFPFMFC_OVERLAP);
        p.apply_flow_mod(&chk(arp_to([10, 10, 10, 13])), 0).unwrap();
    }

    #[test]
    fn delete_ip_leaves_arp_flows() {
        let mut p = walkthrough();
        let out = p
            .apply_flow_mod(
                &fm(OFPFC_DELETE, OFPTT_ALL, 0, vec![OxmField::EthType(0x0800)]),
                0,
            )
            .unwrap();
        assert_eq!(out.removed.len(), 2);
        p.publish();
        assert_eq!(verdict(&p, &icmp_to([10, 10, 10, 12])), OFPP_CONTROLLER);
        assert_eq!(verdict(&p, &arp_to([10, 10, 10, 12])), 2);
        // Non-strict delete by the arp flow's own match, other priority.
        let out = p
            .apply_flow_mod(&fm(OFPFC_DELETE, 0, 7, arp_to([10, 10, 10, 12])), 0)
            .unwrap();
        assert_eq!(out.removed.len(), 1);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn modify_tcp_covers_tcp_ports_not_udp() {
        let mut p = Pipeline::new(PipelineConfig::default());
        let l4 = |proto: u8, port: OxmField| {
            vec![OxmField::EthType(0x0800), OxmField::IpProto(proto), port]
        };
        p.apply_flow_mod(&add(0, 5, l4(6, OxmField::TcpDst(80)), vec![output(1)]), 0)
            .unwrap();
        p.apply_flow_mod(&add(0, 5, l4(17, OxmField::UdpDst(80)), vec![output(1)]), 0)
            .unwrap();
        let m = with(
            fm(
                OFPFC_MODIFY,
                0,
                0,
                vec![OxmField::EthType(0x0800), OxmField::IpProto(6)],
            ),
            |f| f.instructions = vec![output(3)],
        );
        let out = p.apply_flow_mod(&m, 0).unwrap();
        assert_eq!(out.modified.len(), 1);
        assert_eq!(
            out.modified[0].match_,
            Match::new(l4(6, OxmField::TcpDst(80)))
        );
        p.publish();
        let udp = packet(&l4(17, OxmField::UdpDst(80)));
        assert_eq!(
            p.snapshot().lookup(0, &udp).unwrap().instructions.to_vec(),
            vec![output(1)]
        );
    }

    #[test]
    fn vlan_none_and_present_are_disjoint() {
        let mut p = Pipeline::new(PipelineConfig::default());
        let none = vec![OxmField::VlanVid(OFPVID_NONE, None)];
        let any = vec![OxmField::VlanVid(OFPVID_PRESENT, Some(OFPVID_PRESENT))];
        let chk = |f: Vec<OxmField>, out: u32| {
            with(add(0, 1, f, vec![output(out)]), |f| {
                f.flags = OFPFF_CHECK_OVERLAP
            })
        };
        p.apply_flow_mod(&chk(none, 1), 0).unwrap();
        p.apply_flow_mod(&chk(any, 2), 0).unwrap();
        let vid10 = vec![OxmField::VlanVid(OFPVID_PRESENT | 10, None)];
        assert_eq!(
            code(p.apply_flow_mod(&chk(vid10.clone(), 3), 0)),
            OFPFMFC_OVERLAP
        );
        p.publish();
        assert_eq!(verdict(&p, &[OxmField::EthType(0x0800)]), 1);
        assert_eq!(verdict(&p, &vid10), 2);
    }

    #[test]
    fn stats_request_match_is_non_strict_through_compile_match() {
        let p = walkthrough();
        let req = FlowStatsRequest {
            match_: Match::new(vec![OxmField::EthType(0x0800)]),
            ..Default::default()
        };
        let st = p.flow_stats(&req, 0).unwrap();
        assert_eq!(st.len(), 2);
        // Bad match → its OFPBMC code, as for FLOW_MODs.
        let req = FlowStatsRequest {
            match_: Match::new(vec![OxmField::IpProto(6)]),
            ..Default::default()
        };
        assert_eq!(p.aggregate_stats(&req).unwrap_err().code, OFPBMC_BAD_PREREQ);
    }
}
