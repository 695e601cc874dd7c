use super::*;
use crate::pipeline::testutil::*;
use ofproto::oxm::OxmField;

const S: Nanos = NANOS_PER_SEC;

fn compiled(fm: &FlowMod) -> (FlowKey, FlowKey) {
    test_compile(&fm.match_).unwrap()
}

fn apply(t: &mut FlowTable, fm: &FlowMod, now: Nanos) -> Result<FlowModOutcome, WireError> {
    let (v, m) = compiled(fm);
    t.apply_flow_mod(fm, v, m, now)
}

fn timed(idle: u16, hard: u16, port: u32) -> FlowMod {
    FlowMod {
        idle_timeout: idle,
        hard_timeout: hard,
        flags: OFPFF_SEND_FLOW_REM,
        ..add(0, 10, vec![in_port(port)], vec![output(2)])
    }
}

#[test]
fn output_port_helper_looks_in_apply_and_write_actions() {
    let list = vec![
        Instruction::ApplyActions(vec![
            Action::PushVlan(0x8100),
            Action::Output {
                port: 3,
                max_len: 0,
            },
        ]),
        Instruction::WriteActions(vec![
            Action::Group(7),
            Action::Output {
                port: OFPP_CONTROLLER,
                max_len: 128,
            },
        ]),
        Instruction::GotoTable(4),
    ];
    assert!(instructions_output_to_port(&list, 3));
    assert!(instructions_output_to_port(&list, OFPP_CONTROLLER));
    assert!(!instructions_output_to_port(&list, 4));
    assert!(instructions_output_to_group(&list, 7));
    assert!(!instructions_output_to_group(&list, 3));
    assert!(!instructions_output_to_port(
        &[Instruction::ClearActions],
        3
    ));
}

#[test]
fn hard_timeout_expires_at_its_deadline_whatever_the_use() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    let e = apply(&mut t, &timed(0, 5, 1), 10 * S)
        .unwrap()
        .added
        .unwrap();
    e.record(1, 100, 14 * S);
    assert!(t.expire(15 * S - 1).is_empty());
    let out = t.expire(15 * S);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].reason, OFPRR_HARD_TIMEOUT);
    assert!(out[0].wants_flow_removed());
    assert!(t.is_empty());
    assert!(t.expire(100 * S).is_empty());
}

#[test]
fn idle_timeout_counts_from_last_use() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    let e = apply(&mut t, &timed(3, 0, 1), 0).unwrap().added.unwrap();
    assert_eq!(t.next_expiry(), Some(3 * S));
    e.record(1, 60, 2 * S);
    assert!(t.expire(3 * S).is_empty());
    assert_eq!(t.next_expiry(), Some(5 * S));
    // A hit through another version of the entry (same counters) counts.
    e.counters.record(1, 60, 4 * S);
    assert!(t.expire(6 * S).is_empty());
    let out = t.expire(7 * S);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].reason, OFPRR_IDLE_TIMEOUT);
    let fr = out[0].to_flow_removed(7 * S);
    assert_eq!(
        (
            fr.reason,
            fr.duration_sec,
            fr.packet_count,
            fr.byte_count,
            fr.idle_timeout
        ),
        (OFPRR_IDLE_TIMEOUT, 7, 2, 120, 3)
    );
    assert_eq!(fr.match_, Match::new(vec![in_port(1)]));
}

#[test]
fn earlier_deadline_decides_the_reason() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    apply(&mut t, &timed(2, 10, 1), 0).unwrap();
    apply(&mut t, &timed(10, 2, 2), 0).unwrap();
    apply(&mut t, &timed(4, 4, 3), 0).unwrap();
    let mut out: Vec<(u32, u8)> = t
        .expire(4 * S)
        .iter()
        .map(|r| {
            let OxmField::InPort(p) = r.entry.match_.fields[0] else {
                unreachable!()
            };
            (p, r.reason)
        })
        .collect();
    out.sort();
    assert_eq!(
        out,
        [
            (1, OFPRR_IDLE_TIMEOUT),
            (2, OFPRR_HARD_TIMEOUT),
            (3, OFPRR_HARD_TIMEOUT)
        ]
    );
}

#[test]
fn entries_without_timeouts_never_expire() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    apply(&mut t, &add(0, 1, vec![], vec![]), 0).unwrap();
    assert_eq!(t.next_expiry(), None);
    assert!(t.expire(u64::MAX / 2).is_empty());
    assert_eq!(t.len(), 1);
}

#[test]
fn modify_keeps_the_timeout_clock_and_replaced_add_restarts_it() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    apply(&mut t, &timed(0, 5, 1), 0).unwrap();
    let m = FlowMod {
        instructions: vec![output(9)],
        ..fm(OFPFC_MODIFY, 0, 0, vec![in_port(1)])
    };
    assert_eq!(apply(&mut t, &m, 3 * S).unwrap().modified.len(), 1);
    assert_eq!(t.next_expiry(), Some(5 * S));
    // ADD over it: a new entry, its duration from now.
    apply(&mut t, &timed(0, 5, 1), 4 * S).unwrap();
    assert_eq!(t.next_expiry(), Some(9 * S));
    assert!(t.expire(8 * S).is_empty());
    let out = t.expire(9 * S);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].entry.instructions.to_vec(), vec![output(2)]);
}

#[test]
fn flow_stats_of_an_entry() {
    let mut t = FlowTable::with_match_compiler(3, 100, test_compile);
    let f = FlowMod {
        cookie: 0xc0ffee,
        idle_timeout: 60,
        hard_timeout: 600,
        flags: OFPFF_SEND_FLOW_REM | OFPFF_NO_BYT_COUNTS,
        ..add(3, 77, vec![in_port(4)], vec![output(5)])
    };
    let e = apply(&mut t, &f, 10 * S).unwrap().added.unwrap();
    e.record(3, 300, 11 * S);
    let st = e.to_flow_stats(12 * S + 250_123_456);
    assert_eq!(st.table_id, 3);
    // Millisecond precision, as OVS reports durations.
    assert_eq!((st.duration_sec, st.duration_nsec), (2, 250_000_000));
    assert_eq!(
        (st.priority, st.idle_timeout, st.hard_timeout),
        (77, 60, 600)
    );
    assert_eq!(st.flags, OFPFF_SEND_FLOW_REM | OFPFF_NO_BYT_COUNTS);
    assert_eq!(
        (st.cookie, st.packet_count, st.byte_count),
        (0xc0ffee, 3, 300)
    );
    assert_eq!(st.match_, f.match_);
    assert_eq!(st.instructions, f.instructions);
    st.validate().unwrap();
}

#[test]
fn table_full_counts_new_entries_only() {
    let mut t = FlowTable::with_match_compiler(0, 2, test_compile);
    apply(&mut t, &add(0, 1, vec![in_port(1)], vec![]), 0).unwrap();
    apply(&mut t, &add(0, 1, vec![in_port(2)], vec![]), 0).unwrap();
    let e = apply(&mut t, &add(0, 1, vec![in_port(3)], vec![]), 0).unwrap_err();
    assert_eq!(e.code, OFPFMFC_TABLE_FULL);
    // Replacing an existing entry needs no room.
    apply(&mut t, &add(0, 1, vec![in_port(2)], vec![output(1)]), 0).unwrap();
    t.set_max_entries(3);
    apply(&mut t, &add(0, 1, vec![in_port(3)], vec![]), 0).unwrap();
    assert_eq!(t.len(), 3);
}

#[test]
fn select_orders_by_priority_then_install() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    for (p, port) in [(5, 1), (9, 2), (5, 3), (9, 4), (1, 5)] {
        apply(&mut t, &add(0, p, vec![in_port(port)], vec![]), 0).unwrap();
    }
    let order: Vec<u32> = t
        .select(&FlowFilter::all())
        .iter()
        .map(|e| match e.match_.fields[0] {
            OxmField::InPort(p) => p,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(order, [2, 4, 1, 3, 5]);
}

#[test]
fn clear_takes_everything_and_marks_dirty() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    apply(&mut t, &timed(1, 0, 1), 0).unwrap();
    apply(&mut t, &add(0, 1, vec![in_port(2)], vec![]), 0).unwrap();
    assert!(t.take_dirty());
    assert!(!t.take_dirty());
    assert_eq!(t.clear().len(), 2);
    assert!(t.is_dirty());
    assert!(t.is_empty());
    assert_eq!(t.next_expiry(), None);
}

#[test]
fn counters_reset_only_on_request() {
    let mut t = FlowTable::with_match_compiler(0, 100, test_compile);
    let a = apply(&mut t, &add(0, 1, vec![in_port(1)], vec![]), 0)
        .unwrap()
        .added
        .unwrap();
    a.record(2, 200, 1);
    let m = fm(OFPFC_MODIFY_STRICT, 0, 1, vec![in_port(1)]);
    let b = apply(&mut t, &m, 2).unwrap().modified.remove(0);
    assert!(Arc::ptr_eq(&a.counters, &b.counters));
    assert_eq!(b.id, a.id);
    let m = FlowMod {
        flags: OFPFF_RESET_COUNTS,
        ..m
    };
    let c = apply(&mut t, &m, 3).unwrap().modified.remove(0);
    assert_eq!((c.packet_count(), c.byte_count()), (0, 0));
    assert_eq!(c.last_used(), 1, "resetting counts is not a use");
    // Counting through the old version no longer shows.
    a.record(1, 1, 4);
    let (cv, cm) = t.compiled(&c);
    assert_eq!(t.get(&cv, &cm, 1).unwrap().packet_count(), 0);
}
