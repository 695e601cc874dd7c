//! Property tests of the text syntax: typed FlowMods from the subset the text
//! can express survive format → parse unchanged, and no input makes any
//! parser panic.

use super::*;
use crate::action::Action;
use crate::consts::*;
use crate::group::{Bucket, GroupMod};
use crate::instruction::Instruction;
use crate::message::FlowMod;
use crate::meter::{MeterBand, MeterMod};
use crate::multipart::FlowStats;
use crate::oxm::{Match, OxmField as F};
use crate::wire::MacAddr;
use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `(value & mask, Some(mask))`, or `(value, None)` for a full mask; never
/// an all-zero mask (that is "not matched" and can't be written as a match).
fn masked_u64(bits: u32) -> impl Strategy<Value = (u64, Option<u64>)> {
    let full = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    (any::<u64>(), prop_oneof![Just(full), 1..=full]).prop_map(move |(v, m)| {
        let (v, m) = (v & full, m & full);
        if m == full {
            (v, None)
        } else {
            (v & m, Some(m))
        }
    })
}

fn mac_masked() -> impl Strategy<Value = (MacAddr, Option<MacAddr>)> {
    masked_u64(48).prop_map(|(v, m)| {
        let b = |x: u64| {
            let a = x.to_be_bytes();
            MacAddr([a[2], a[3], a[4], a[5], a[6], a[7]])
        };
        (b(v), m.map(b))
    })
}

fn v4_masked() -> impl Strategy<Value = (Ipv4Addr, Option<Ipv4Addr>)> {
    masked_u64(32).prop_map(|(v, m)| {
        (
            Ipv4Addr::from(v as u32),
            m.map(|m| Ipv4Addr::from(m as u32)),
        )
    })
}

fn v6_masked() -> impl Strategy<Value = (Ipv6Addr, Option<Ipv6Addr>)> {
    (
        any::<u128>(),
        prop_oneof![
            Just(u128::MAX),
            1..=u128::MAX,
            (0u32..128).prop_map(|n| u128::MAX << n)
        ],
    )
        .prop_map(|(v, m)| {
            if m == u128::MAX {
                (Ipv6Addr::from(v), None)
            } else {
                (Ipv6Addr::from(v & m), Some(Ipv6Addr::from(m)))
            }
        })
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

/// Port numbers the text can name (0xff00–0xffff would read as OpenFlow 1.0
/// reserved ports, as in ovs-ofctl).
fn port() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..0xff00,
        0x1_0000u32..0xffff_ff00,
        0xffff_ff00u32..=0xffff_ffff,
        Just(OFPP_LOCAL),
        Just(OFPP_CONTROLLER),
    ]
}

fn output_port() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..0xff00,
        0x1_0000u32..0xffff_ff00,
        OFPP_IN_PORT..=OFPP_LOCAL
    ]
}

/// An OF1.3 match whose fields' prerequisites all hold (any field order).
fn typed_match() -> impl Strategy<Value = Vec<F>> {
    let l2 = (
        option::of((port(), option::of(port()))),
        option::of(mac_masked()),
        option::of(mac_masked()),
        option::of(masked_u64(64)),
        option::of(masked_u64(64)),
        0u8..5,
        0u16..0x1000,
        0u8..8,
        1u16..0x1fff,
    )
        .prop_map(|(inp, src, dst, md, tun, vlan, vid, pcp, vm)| {
            let mut f = Vec::new();
            if let Some((p, phy)) = inp {
                f.push(F::InPort(p));
                f.extend(phy.map(F::InPhyPort));
            }
            f.extend(src.map(|(a, m)| F::EthSrc(a, m)));
            f.extend(dst.map(|(a, m)| F::EthDst(a, m)));
            f.extend(md.map(|(v, m)| F::Metadata(v, m)));
            f.extend(tun.map(|(v, m)| F::TunnelId(v, m)));
            match vlan {
                1 => f.push(F::VlanVid(0x1000 | vid, None)),
                2 => f.extend([F::VlanVid(0x1000 | vid, None), F::VlanPcp(pcp)]),
                3 => f.push(F::VlanVid(0, None)),
                4 => {
                    // Any mask; a PCP only when the mask says "tagged".
                    let m = vm | 0x1000;
                    let mask = (m != 0x1fff).then_some(m);
                    f.extend([F::VlanVid((0x1000 | vid) & m, mask), F::VlanPcp(pcp)]);
                }
                _ => {}
            }
            f
        });
    let l3 = prop_oneof![
        Just(vec![]),
        // IPv4 / IPv6 with an optional transport.
        (
            any::<bool>(),
            (option::of(v4_masked()), option::of(v4_masked())),
            (option::of(v6_masked()), option::of(v6_masked())),
            (option::of(0u8..64), option::of(0u8..4)),
            option::of(masked_u64(20)),
            0u8..7,
            any::<u8>(),
            (option::of(any::<u16>()), option::of(any::<u16>())),
            (
                prop_oneof![Just(135u8), Just(136u8), any::<u8>()],
                option::of(any::<u8>()),
                option::of(any::<u128>()),
                option::of(mac())
            ),
            option::of(masked_u64(9)),
        )
            .prop_map(
                |(
                    v6,
                    (s4, d4),
                    (s6, d6),
                    (dscp, ecn),
                    label,
                    l4,
                    other,
                    (ps, pd),
                    (ity, icode, nd, ll),
                    ext,
                )| {
                    let mut f = vec![F::EthType(if v6 { 0x86dd } else { 0x0800 })];
                    if v6 {
                        f.extend(s6.map(|(a, m)| F::Ipv6Src(a, m)));
                        f.extend(d6.map(|(a, m)| F::Ipv6Dst(a, m)));
                        f.extend(label.map(|(v, m)| F::Ipv6Flabel(v as u32, m.map(|m| m as u32))));
                        f.extend(ext.map(|(v, m)| F::Ipv6Exthdr(v as u16, m.map(|m| m as u16))));
                    } else {
                        f.extend(s4.map(|(a, m)| F::Ipv4Src(a, m)));
                        f.extend(d4.map(|(a, m)| F::Ipv4Dst(a, m)));
                    }
                    f.extend(dscp.map(F::IpDscp));
                    f.extend(ecn.map(F::IpEcn));
                    match l4 {
                        1 => {
                            f.push(F::IpProto(6));
                            f.extend(ps.map(F::TcpSrc));
                            f.extend(pd.map(F::TcpDst));
                        }
                        2 => {
                            f.push(F::IpProto(17));
                            f.extend(ps.map(F::UdpSrc));
                            f.extend(pd.map(F::UdpDst));
                        }
                        3 => {
                            f.push(F::IpProto(132));
                            f.extend(ps.map(F::SctpSrc));
                            f.extend(pd.map(F::SctpDst));
                        }
                        4 if !v6 => {
                            f.extend([F::IpProto(1), F::Icmpv4Type(ity)]);
                            f.extend(icode.map(F::Icmpv4Code));
                        }
                        4 | 5 if v6 => {
                            f.extend([F::IpProto(58), F::Icmpv6Type(ity)]);
                            f.extend(icode.map(F::Icmpv6Code));
                            if ity == 135 || ity == 136 {
                                f.extend(nd.map(|t| F::Ipv6NdTarget(Ipv6Addr::from(t))));
                                f.extend(ll.map(|a| {
                                    if ity == 135 {
                                        F::Ipv6NdSll(a)
                                    } else {
                                        F::Ipv6NdTll(a)
                                    }
                                }));
                            }
                        }
                        6 => f.push(F::IpProto(other)),
                        _ => {}
                    }
                    f
                }
            ),
        // ARP / RARP.
        (
            any::<bool>(),
            option::of(any::<u16>()),
            option::of(v4_masked()),
            option::of(v4_masked()),
            option::of(mac_masked()),
            option::of(mac_masked())
        )
            .prop_map(|(rarp, op, spa, tpa, sha, tha)| {
                let mut f = vec![F::EthType(if rarp { 0x8035 } else { 0x0806 })];
                f.extend(op.map(F::ArpOp));
                f.extend(spa.map(|(a, m)| F::ArpSpa(a, m)));
                f.extend(tpa.map(|(a, m)| F::ArpTpa(a, m)));
                f.extend(sha.map(|(a, m)| F::ArpSha(a, m)));
                f.extend(tha.map(|(a, m)| F::ArpTha(a, m)));
                f
            }),
        // MPLS.
        (
            any::<bool>(),
            option::of(0u32..0x10_0000),
            option::of(0u8..8),
            option::of(0u8..2)
        )
            .prop_map(|(m, l, tc, bos)| {
                let mut f = vec![F::EthType(if m { 0x8848 } else { 0x8847 })];
                f.extend(l.map(F::MplsLabel));
                f.extend(tc.map(F::MplsTc));
                f.extend(bos.map(F::MplsBos));
                f
            }),
        // PBB, or any other ethertype.
        option::of(masked_u64(24)).prop_map(|i| {
            let mut f = vec![F::EthType(0x88e7)];
            f.extend(i.map(|(v, m)| F::PbbIsid(v as u32, m.map(|m| m as u32))));
            f
        }),
        (0x0600u16..=0xffff)
            .prop_filter("not a shorthand ethertype", |t| ![
                0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x88e7
            ]
            .contains(t))
            .prop_map(|t| vec![F::EthType(t)]),
    ];
    (l2, l3).prop_map(|(mut a, b)| {
        a.extend(b);
        a
    })
}

/// Actions that need nothing from the match.
fn free_action() -> impl Strategy<Value = Vec<Action>> {
    prop_oneof![
        (output_port(), any::<u16>()).prop_map(|(port, ml)| {
            let max_len = if port == OFPP_CONTROLLER { ml } else { 0 };
            vec![Action::Output { port, max_len }]
        }),
        any::<u32>().prop_map(|g| vec![Action::Group(g)]),
        any::<u32>().prop_map(|q| vec![Action::SetQueue(q)]),
        Just(vec![Action::CopyTtlOut]),
        Just(vec![Action::CopyTtlIn]),
        any::<u16>().prop_map(|e| vec![Action::PushPbb(e)]),
        Just(vec![Action::PopPbb]),
        mac_masked().prop_map(|(a, m)| vec![Action::SetField(F::EthSrc(a, m))]),
        mac().prop_map(|a| vec![Action::SetField(F::EthDst(a, None))]),
        masked_u64(64).prop_map(|(v, m)| vec![Action::SetField(F::Metadata(v, m))]),
        masked_u64(64).prop_map(|(v, m)| vec![Action::SetField(F::TunnelId(v, m))]),
        port().prop_map(|p| vec![Action::SetField(F::InPort(p))]),
        (
            prop_oneof![Just(0x8100u16), Just(0x88a8)],
            0u16..0x1000,
            option::of(0u8..8)
        )
            .prop_map(|(e, vid, pcp)| {
                let mut v = vec![
                    Action::PushVlan(e),
                    Action::SetField(F::VlanVid(0x1000 | vid, None)),
                ];
                v.extend(pcp.map(|p| Action::SetField(F::VlanPcp(p))));
                v
            }),
        (any::<u32>(), vec(any::<u8>(), 0..12)).prop_map(|(experimenter, d)| {
            vec![Action::Experimenter {
                experimenter,
                data: Bytes::from(d),
            }]
        }),
    ]
}

/// Actions valid on an IPv4 packet (pushing MPLS last, as it changes the packet).
fn ipv4_action() -> impl Strategy<Value = Vec<Action>> {
    prop_oneof![
        Just(vec![Action::DecNwTtl]),
        any::<u8>().prop_map(|t| vec![Action::SetNwTtl(t)]),
        (0u8..64).prop_map(|d| vec![Action::SetField(F::IpDscp(d))]),
        (0u8..4).prop_map(|e| vec![Action::SetField(F::IpEcn(e))]),
        v4_masked().prop_map(|(a, m)| vec![Action::SetField(F::Ipv4Src(a, m))]),
        any::<u32>().prop_map(|a| vec![Action::SetField(F::Ipv4Dst(Ipv4Addr::from(a), None))]),
    ]
}

/// `mpls`: may end by pushing an MPLS header (only for the last list of the
/// pipeline: later actions would see an MPLS packet).
fn action_list(ipv4: bool, mpls: bool) -> impl Strategy<Value = Vec<Action>> {
    (
        vec(
            if ipv4 {
                ipv4_action().boxed()
            } else {
                Just(vec![]).boxed()
            },
            0..3,
        ),
        vec(free_action(), 0..4),
        option::of((0u32..0x10_0000, any::<u8>())).prop_map(move |m| m.filter(|_| mpls)),
    )
        .prop_map(|(ip, free, mpls)| {
            let mut v: Vec<Action> = ip.into_iter().chain(free).flatten().collect();
            if let Some((label, ttl)) = mpls {
                v.extend([
                    Action::PushMpls(0x8847),
                    Action::SetField(F::MplsLabel(label)),
                    Action::SetMplsTtl(ttl),
                    Action::DecMplsTtl,
                ]);
            }
            v
        })
}

fn instructions(ipv4: bool, table: u8) -> impl Strategy<Value = Vec<Instruction>> {
    (
        option::of(prop_oneof![
            1u32..=OFPM_MAX,
            Just(OFPM_SLOWPATH),
            Just(OFPM_CONTROLLER)
        ]),
        action_list(ipv4, false),
        any::<bool>(),
        option::of(action_list(ipv4, true)),
        option::of((any::<u64>(), any::<u64>())),
        option::of(table.saturating_add(1)..=255),
        option::of((any::<u32>(), vec(any::<u8>(), 0..8))),
    )
        .prop_map(move |(meter, apply, clear, write, wmd, goto, exp)| {
            let mut v = Vec::new();
            v.extend(meter.map(Instruction::Meter));
            if !apply.is_empty() {
                v.push(Instruction::ApplyActions(apply));
            }
            if clear {
                v.push(Instruction::ClearActions);
            }
            v.extend(
                write
                    .filter(|w| !w.is_empty())
                    .map(Instruction::WriteActions),
            );
            v.extend(wmd.map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }));
            if table < 255 {
                v.extend(goto.map(Instruction::GotoTable));
            }
            v.extend(exp.map(|(experimenter, d)| Instruction::Experimenter {
                experimenter,
                data: Bytes::from(d),
            }));
            v
        })
}

/// A FLOW_MOD the text can express for its command (fields in any order).
fn typed_flow_mod() -> impl Strategy<Value = (FlowCommand, FlowMod)> {
    let cmd = prop_oneof![
        Just(FlowCommand::Add),
        Just(FlowCommand::Modify),
        Just(FlowCommand::ModifyStrict),
        Just(FlowCommand::Delete),
        Just(FlowCommand::DeleteStrict),
    ];
    (
        cmd,
        typed_match(),
        0u8..=255,
        any::<u16>(),
        any::<u64>(),
        any::<u64>(),
        any::<(u16, u16)>(),
        0u16..32,
        port(),
        any::<u32>(),
    )
        .prop_flat_map(
            |(cmd, m, table, prio, cookie, mask, (idle, hard), flags, out_port, out_group)| {
                let del = matches!(cmd, FlowCommand::Delete | FlowCommand::DeleteStrict);
                let table = if del { table } else { table.min(254) };
                let ipv4 = m.contains(&F::EthType(0x0800));
                let mut fm = FlowMod {
                    command: cmd.wire(),
                    table_id: table,
                    priority: if cmd == FlowCommand::Delete {
                        DEFAULT_PRIORITY
                    } else {
                        prio
                    },
                    buffer_id: OFP_NO_BUFFER,
                    out_port: OFPP_ANY,
                    out_group: OFPG_ANY,
                    match_: Match { fields: m },
                    ..FlowMod::default()
                };
                match cmd {
                    FlowCommand::Add => fm.cookie = cookie,
                    _ => (fm.cookie, fm.cookie_mask) = (cookie & mask, mask),
                }
                if del {
                    (fm.out_port, fm.out_group) = (out_port, out_group);
                } else {
                    (fm.idle_timeout, fm.hard_timeout, fm.flags) = (idle, hard, flags);
                }
                let ins = if del {
                    Just(vec![]).boxed()
                } else {
                    instructions(ipv4, table).boxed()
                };
                (Just(cmd), Just(fm), ins)
            },
        )
        .prop_map(|(cmd, mut fm, ins)| {
            fm.instructions = ins;
            (cmd, fm)
        })
}

/// A GROUP_MOD the text can express.
fn typed_group_mod() -> impl Strategy<Value = (GroupCommand, GroupMod)> {
    let bucket = (
        any::<u16>(),
        prop_oneof![Just(OFPP_ANY), port()],
        prop_oneof![Just(OFPG_ANY), any::<u32>()],
        vec(free_action(), 0..3),
    );
    (
        prop_oneof![
            Just(GroupCommand::Add),
            Just(GroupCommand::Modify),
            Just(GroupCommand::Delete)
        ],
        0u8..4,
        any::<u32>(),
        vec(bucket, 0..4),
    )
        .prop_map(|(cmd, group_type, group_id, b)| {
            let mut buckets: Vec<Bucket> = b
                .into_iter()
                .map(|(weight, watch_port, watch_group, a)| {
                    let watch_port = if group_type == OFPGT_FF
                        && watch_port == OFPP_ANY
                        && watch_group == OFPG_ANY
                    {
                        1
                    } else {
                        watch_port
                    };
                    Bucket {
                        weight,
                        watch_port,
                        watch_group,
                        actions: a.into_iter().flatten().collect(),
                    }
                })
                .collect();
            if cmd == GroupCommand::Delete {
                buckets.clear();
            } else if group_type == OFPGT_INDIRECT {
                buckets.truncate(1);
            }
            (
                cmd,
                GroupMod {
                    command: cmd.wire(),
                    group_type,
                    group_id,
                    buckets,
                },
            )
        })
}

/// A METER_MOD the text can express.
fn typed_meter_mod() -> impl Strategy<Value = (MeterCommand, MeterMod)> {
    let band = (any::<bool>(), 1u32..=u32::MAX, 1u32..=u32::MAX, any::<u8>());
    (
        prop_oneof![
            Just(MeterCommand::Add),
            Just(MeterCommand::Modify),
            Just(MeterCommand::Delete)
        ],
        any::<bool>(),
        any::<(bool, bool)>(),
        prop_oneof![
            1u32..=OFPM_MAX,
            Just(OFPM_SLOWPATH),
            Just(OFPM_CONTROLLER),
            Just(OFPM_ALL)
        ],
        vec(band, 1..4),
    )
        .prop_map(|(cmd, kbps, (burst, stats), meter_id, b)| {
            let flags = if kbps { OFPMF_KBPS } else { OFPMF_PKTPS }
                | if burst { OFPMF_BURST } else { 0 }
                | if stats { OFPMF_STATS } else { 0 };
            let bands = b
                .into_iter()
                .map(|(drop, rate, bs, prec_level)| {
                    let burst_size = if burst { bs } else { 0 };
                    if drop {
                        MeterBand::Drop { rate, burst_size }
                    } else {
                        MeterBand::DscpRemark {
                            rate,
                            burst_size,
                            prec_level,
                        }
                    }
                })
                .collect();
            let mm = MeterMod {
                command: cmd.wire(),
                flags,
                meter_id,
                bands,
            };
            if cmd == MeterCommand::Delete {
                (
                    cmd,
                    MeterMod {
                        bands: vec![],
                        ..mm
                    },
                )
            } else {
                (cmd, mm)
            }
        })
}

fn sorted(m: &Match) -> Vec<String> {
    let mut v: Vec<String> = m.fields.iter().map(|f| format!("{f:?}")).collect();
    v.sort();
    v
}

/// Pieces of flow-like text, to throw at the parsers.
fn junk() -> impl Strategy<Value = String> {
    let tok = prop_oneof![
        Just("ip"),
        Just("tcp6"),
        Just("arp"),
        Just("actions="),
        Just("action="),
        Just("output:"),
        Just("("),
        Just(")"),
        Just(","),
        Just(" "),
        Just("="),
        Just(":"),
        Just("/"),
        Just("0x"),
        Just("->"),
        Just("set_field:"),
        Just("write_actions("),
        Just("bucket="),
        Just("bands="),
        Just("type="),
        Just("drop"),
        Just("nw_src="),
        Just("dl_vlan="),
        Just("vlan_tci="),
        Just("in_port="),
        Just("1.2.3.4"),
        Just("::1"),
        Just("00:11:22:33:44:55"),
        Just("65535"),
        Just("4294967295"),
        Just("99999999999999999999999"),
        Just("-1"),
        Just("é"),
        Just("\u{1F600}"),
        Just("#"),
        Just("\n"),
        Just("priority="),
        Just("cookie="),
        Just("goto_table:"),
        Just("meter="),
        Just("mod_vlan_vid:"),
        Just("controller("),
        Just("max_len="),
        Just("0"),
        Just("7"),
        Just("group_id="),
        Just("weight:"),
        Just("rate="),
        Just("kbps"),
        Just("experimenter("),
    ];
    vec(tok, 0..24).prop_map(|v| v.concat())
}

fn all_parsers(s: &str) {
    for c in [
        FlowCommand::Add,
        FlowCommand::Modify,
        FlowCommand::ModifyStrict,
        FlowCommand::Delete,
        FlowCommand::DeleteStrict,
    ] {
        if let Ok(fm) = parse_flow(s, c) {
            // Whatever parses also formats and reads back.
            assert_eq!(parse_flow(&format_flow(&fm), c).as_ref(), Ok(&fm), "{s:?}");
        }
    }
    let _ = parse_flows_file(s);
    let _ = parse_match(s);
    for c in [
        GroupCommand::Add,
        GroupCommand::Modify,
        GroupCommand::Delete,
    ] {
        if let Ok(g) = parse_group_cmd(s, c) {
            assert_eq!(
                parse_group_cmd(&format_group(&g), c).as_ref(),
                Ok(&g),
                "{s:?}"
            );
        }
    }
    for c in [
        MeterCommand::Add,
        MeterCommand::Modify,
        MeterCommand::Delete,
    ] {
        if let Ok(m) = parse_meter_cmd(s, c) {
            assert_eq!(
                parse_meter_cmd(&format_meter(&m), c).as_ref(),
                Ok(&m),
                "{s:?}"
            );
        }
    }
    let _ = parse_actions(s, &Match::default(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// format → parse is the identity on what the parser produces, and the
    /// formatter loses no field of any (valid) typed FlowMod.
    #[test]
    fn typed_flow_mods_survive_format_then_parse((cmd, fm) in typed_flow_mod()) {
        let text = format_flow(&fm);
        let back = parse_flow(&text, cmd).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(sorted(&back.match_), sorted(&fm.match_), "{}", text);
        let mut canon = fm.clone();
        canon.match_ = back.match_.clone();
        prop_assert_eq!(&back, &canon, "{}", text);
        // The canonical value is a fixed point.
        let again = parse_flow(&format_flow(&back), cmd);
        prop_assert_eq!(again.as_ref(), Ok(&back));
        // And a dump-flows line of it reads back too.
        if cmd == FlowCommand::Add {
            let fs = FlowStats {
                table_id: back.table_id,
                priority: back.priority,
                idle_timeout: back.idle_timeout,
                hard_timeout: back.hard_timeout,
                flags: back.flags,
                cookie: back.cookie,
                match_: back.match_.clone(),
                instructions: back.instructions.clone(),
                ..FlowStats::default()
            };
            for line in [format_flow_stats(&fs), format_flow_stats_no_stats(&fs)] {
                let again = parse_flow(&line, cmd);
                prop_assert_eq!(again.as_ref(), Ok(&back), "{}", line);
            }
        }
    }

    #[test]
    fn typed_group_mods_survive_format_then_parse((cmd, gm) in typed_group_mod()) {
        let text = format_group(&gm);
        let back = parse_group_cmd(&text, cmd);
        prop_assert_eq!(back.as_ref(), Ok(&gm), "{}", text);
    }

    #[test]
    fn typed_meter_mods_survive_format_then_parse((cmd, mm) in typed_meter_mod()) {
        let text = format_meter(&mm);
        let back = parse_meter_cmd(&text, cmd);
        prop_assert_eq!(back.as_ref(), Ok(&mm), "{}", text);
    }

    #[test]
    fn parsers_never_panic_on_any_string(s in ".{0,80}") {
        all_parsers(&s);
    }

    #[test]
    fn parsers_never_panic_on_flow_like_junk(s in junk()) {
        all_parsers(&s);
    }
}
