//! Group specs as `ovs-ofctl -O OpenFlow13 add-group/mod-group/del-groups`
//! read them and `dump-groups`/`ofp-print` print them:
//! `group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1,bucket=output:2`.
//!
//! Everything after a `bucket=` up to the next `bucket=` belongs to that
//! bucket: first its parameters (`weight:`, `watch_port:`, `watch_group:`),
//! then its actions, with or without an `actions=` in front of them.

use super::action::{format_action_list, parse_action, Shape};
use super::error::{Span, TextError};
use super::flow::parse_group_id;
use super::lex::*;
use super::port::{format_port, parse_port};
use crate::consts::*;
use crate::group::{Bucket, GroupMod};
use crate::multipart::GroupDesc;

/// `add-group`, `mod-group`, `del-groups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupCommand {
    Add,
    Modify,
    Delete,
}

impl GroupCommand {
    pub fn wire(self) -> u16 {
        match self {
            GroupCommand::Add => OFPGC_ADD,
            GroupCommand::Modify => OFPGC_MODIFY,
            GroupCommand::Delete => OFPGC_DELETE,
        }
    }
}

const TYPES: [(&str, u8); 5] = [
    ("all", OFPGT_ALL),
    ("select", OFPGT_SELECT),
    ("indirect", OFPGT_INDIRECT),
    ("ff", OFPGT_FF),
    ("fast_failover", OFPGT_FF),
];

/// Parses an `add-group` spec.
pub fn parse_group(s: &str) -> Result<GroupMod, TextError> {
    parse_group_cmd(s, GroupCommand::Add)
}

/// Parses a group spec for `cmd`. `del-groups` takes just `group_id=` (all
/// groups when empty), as ovs-ofctl.
pub fn parse_group_cmd(s: &str, cmd: GroupCommand) -> Result<GroupMod, TextError> {
    let mut gm = GroupMod {
        command: cmd.wire(),
        ..GroupMod::default()
    };
    let (mut id, mut ty) = (None, None);
    // Buckets: (the `bucket=` token, its items).
    let mut buckets: Vec<(Span<'_>, Vec<Kv<'_>>)> = Vec::new();
    for kv in split_all(s, 0)? {
        let e = |msg: String| TextError::at(kv.whole, msg);
        let val = kv.value.map(|v| v.text);
        let need = || val.ok_or_else(|| e(format!("{}: missing value", kv.key())));
        if kv.key() == "bucket" {
            if cmd == GroupCommand::Delete {
                return Err(e("bucket: not allowed when deleting groups".into()));
            }
            let inner = kv.value.ok_or_else(|| e("bucket: missing value".into()))?;
            buckets.push((kv.whole, split_all(inner.text, inner.pos)?));
            continue;
        }
        if let Some((_, items)) = buckets.last_mut() {
            items.push(kv);
            continue;
        }
        match kv.key() {
            "group_id" => id = Some(parse_group_id(need()?).map_err(e)?),
            "type" => {
                let v = need()?;
                let t = TYPES.iter().find(|t| t.0 == v).ok_or_else(|| {
                    e(format!(
                        "type: unknown group type {v:?} (all, select, indirect, ff)"
                    ))
                })?;
                ty = Some(t.1);
            }
            // OpenFlow 1.5 / Open vSwitch extensions ovs-ofctl drops over OF1.3.
            "selection_method" | "selection_method_param" | "fields" => {}
            k => return Err(e(format!("unknown keyword {k}"))),
        }
    }
    gm.group_id = match (id, cmd) {
        (Some(id), _) => id,
        (None, GroupCommand::Delete) => OFPG_ALL,
        (None, _) => return Err(TextError::new(0, s, "must specify a group_id")),
    };
    gm.group_type = match (ty, cmd) {
        (Some(t), _) => t,
        (None, GroupCommand::Delete) => OFPGT_ALL,
        (None, _) => return Err(TextError::new(0, s, "must specify a type")),
    };
    for (tok, items) in &buckets {
        gm.buckets.push(parse_bucket(*tok, items, gm.group_type)?);
    }
    if gm.group_type == OFPGT_INDIRECT && gm.buckets.len() > 1 {
        return Err(TextError::at(
            buckets[1].0,
            "indirect groups can have at most one bucket",
        ));
    }
    Ok(gm)
}

fn parse_bucket(tok: Span<'_>, items: &[Kv<'_>], group_type: u8) -> Result<Bucket, TextError> {
    let mut b = Bucket {
        weight: u16::from(group_type == OFPGT_SELECT),
        watch_port: OFPP_ANY,
        watch_group: OFPG_ANY,
        actions: Vec::new(),
    };
    let mut shape = Shape::unchecked();
    let mut in_actions = false;
    let mut saw_drop = None;
    for kv in items {
        let e = |msg: String| TextError::at(kv.whole, msg);
        let v = kv.value.map(|v| v.text).unwrap_or("");
        let kv = if !in_actions && kv.key() == "actions" {
            in_actions = true;
            let Some(inner) = kv.value else {
                return Err(e("actions: missing value".into()));
            };
            match split_all(inner.text, inner.pos)?.first() {
                Some(a) => *a,
                None => continue,
            }
        } else {
            *kv
        };
        if !in_actions {
            match kv.key() {
                "weight" => {
                    b.weight = uint_max("weight", v, 0xffff).map_err(e)? as u16;
                    continue;
                }
                "watch_port" => {
                    b.watch_port = parse_port(v)
                        .ok_or_else(|| e(format!("watch_port: invalid or unknown port {v:?}")))?;
                    continue;
                }
                "watch_group" => {
                    b.watch_group = parse_group_id(v).map_err(e)?;
                    continue;
                }
                // OpenFlow 1.5 bucket ids; ovs-ofctl drops them over OF1.3.
                "bucket_id" => continue,
                _ => in_actions = true,
            }
        }
        if kv.key() == "drop" && kv.value.is_none() {
            saw_drop = Some(kv.whole);
            continue;
        }
        b.actions.extend(parse_action(&kv, &mut shape)?);
    }
    if group_type == OFPGT_FF && b.watch_port == OFPP_ANY && b.watch_group == OFPG_ANY {
        return Err(TextError::at(
            tok,
            "fast failover bucket requires watch_port or watch_group",
        ));
    }
    if let (Some(d), false) = (saw_drop, b.actions.is_empty()) {
        return Err(TextError::at(
            d,
            "\"drop\" must not be accompanied by any other action",
        ));
    }
    Ok(b)
}

fn type_name(t: u8) -> String {
    match t {
        OFPGT_ALL => "all".into(),
        OFPGT_SELECT => "select".into(),
        OFPGT_INDIRECT => "indirect".into(),
        OFPGT_FF => "ff".into(),
        t => t.to_string(),
    }
}

fn format_bucket(b: &Bucket, group_type: u8) -> String {
    let mut s = "bucket=".to_string();
    let default_weight = u16::from(group_type == OFPGT_SELECT);
    if b.weight != default_weight {
        s += &format!("weight:{},", b.weight);
    }
    if b.watch_port != OFPP_ANY {
        s += &format!("watch_port:{},", format_port(b.watch_port));
    }
    if b.watch_group != OFPG_ANY {
        s += &format!("watch_group:{},", b.watch_group);
    }
    s + "actions=" + &format_action_list(&b.actions)
}

fn format_group_body(group_type: u8, group_id: u32, buckets: &[Bucket]) -> String {
    let mut s = format!("group_id={group_id},type={}", type_name(group_type));
    for b in buckets {
        s.push(',');
        s += &format_bucket(b, group_type);
    }
    s
}

/// A group spec as ovs-ofctl prints it (and [`parse_group_cmd`] reads it):
/// `group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1`.
pub fn format_group(gm: &GroupMod) -> String {
    format_group_body(gm.group_type, gm.group_id, &gm.buckets)
}

/// A GROUP_MOD as `ovs-ofctl ofp-print` prints it on the line after the
/// header: `ADD group_id=1,type=all,bucket=actions=output:1`.
pub fn format_group_mod(gm: &GroupMod) -> String {
    let cmd = match gm.command {
        OFPGC_ADD => "ADD".to_string(),
        OFPGC_MODIFY => "MOD".to_string(),
        OFPGC_DELETE => "DEL".to_string(),
        c => format!("cmd:{c}"),
    };
    format!("{cmd} {}", format_group(gm))
}

/// One line of `ovs-ofctl -O OpenFlow13 dump-groups`:
/// ` group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1`.
pub fn format_group_desc(g: &GroupDesc) -> String {
    format!(
        " {}",
        format_group_body(g.group_type, g.group_id, &g.buckets)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::oxm::OxmField;

    fn out(port: u32) -> Action {
        Action::Output { port, max_len: 0 }
    }

    fn bucket(weight: u16, watch_port: u32, watch_group: u32, actions: Vec<Action>) -> Bucket {
        Bucket {
            weight,
            watch_port,
            watch_group,
            actions,
        }
    }

    /// Parses, checks format → parse identity, returns (mod, ofp-print text).
    fn g(s: &str, cmd: GroupCommand) -> (GroupMod, String) {
        let gm = parse_group_cmd(s, cmd).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(
            parse_group_cmd(&format_group(&gm), cmd).unwrap(),
            gm,
            "{}",
            format_group(&gm)
        );
        let p = format_group_mod(&gm);
        (gm, p)
    }

    // Expected: what `ovs-ofctl -O OpenFlow13 add-group` sent (decoded) and
    // `ovs-ofctl ofp-print` printed for it.
    #[test]
    fn group_specs_parse_like_ovs_ofctl() {
        let (gm, p) = g(
            "group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1,bucket=weight:50,actions=output:2",
            GroupCommand::Add,
        );
        assert_eq!(
            gm,
            GroupMod {
                command: OFPGC_ADD,
                group_type: OFPGT_SELECT,
                group_id: 1,
                buckets: vec![
                    bucket(100, 1, OFPG_ANY, vec![out(1)]),
                    bucket(50, OFPP_ANY, OFPG_ANY, vec![out(2)])
                ],
            }
        );
        assert_eq!(p, "ADD group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1,bucket=weight:50,actions=output:2");
        let (gm, p) = g(
            "group_id=2,type=all,bucket=output:1,bucket=output:2",
            GroupCommand::Add,
        );
        assert_eq!(
            gm.buckets,
            vec![
                bucket(0, OFPP_ANY, OFPG_ANY, vec![out(1)]),
                bucket(0, OFPP_ANY, OFPG_ANY, vec![out(2)])
            ]
        );
        assert_eq!(
            p,
            "ADD group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2"
        );
        assert_eq!(
            g(
                "group_id=3,type=indirect,bucket=actions=output:1",
                GroupCommand::Add
            )
            .1,
            "ADD group_id=3,type=indirect,bucket=actions=output:1"
        );
        let (gm, p) = g(
            "group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_group:5,output:2",
            GroupCommand::Add,
        );
        assert_eq!(gm.buckets[1], bucket(0, OFPP_ANY, 5, vec![out(2)]));
        assert_eq!(p, "ADD group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:5,actions=output:2");
        assert_eq!(
            g(
                "group_id=5,type=fast_failover,bucket=watch_port:1,actions=output:1",
                GroupCommand::Add
            )
            .1,
            "ADD group_id=5,type=ff,bucket=watch_port:1,actions=output:1"
        );
        let (gm, p) = g(
            "group_id=6,type=select,selection_method=hash,bucket=output:1",
            GroupCommand::Add,
        );
        assert_eq!(gm.buckets[0].weight, 1);
        assert_eq!(p, "ADD group_id=6,type=select,bucket=actions=output:1");
        assert_eq!(
            g("group_id=7,type=all", GroupCommand::Add).1,
            "ADD group_id=7,type=all"
        );
        assert_eq!(
            g(
                "group_id=8,type=all,bucket=bucket_id:5,output:1",
                GroupCommand::Add
            )
            .1,
            "ADD group_id=8,type=all,bucket=actions=output:1"
        );
        assert_eq!(
            g(
                "group_id=1,type=select,bucket=weight:100,output:1",
                GroupCommand::Modify
            )
            .1,
            "MOD group_id=1,type=select,bucket=weight:100,actions=output:1"
        );
        assert_eq!(
            g("group_id=1", GroupCommand::Delete).1,
            "DEL group_id=1,type=all"
        );
        assert_eq!(
            g("", GroupCommand::Delete).1,
            "DEL group_id=4294967292,type=all"
        );
        let (gm, p) = g("group_id=9,type=select,bucket=mod_dl_src:00:00:00:00:00:01,output:1,bucket=weight=3,output:2", GroupCommand::Add);
        assert_eq!(
            gm.buckets[0].actions[0],
            Action::SetField(OxmField::EthSrc("00:00:00:00:00:01".parse().unwrap(), None))
        );
        assert_eq!(p, "ADD group_id=9,type=select,bucket=actions=set_field:00:00:00:00:00:01->eth_src,output:1,bucket=weight:3,actions=output:2");
        assert_eq!(
            g(
                "group_id=10,type=all,bucket=output:1,set_field:1.1.1.1->ip_dst",
                GroupCommand::Add
            )
            .1,
            "ADD group_id=10,type=all,bucket=actions=output:1,set_field:1.1.1.1->ip_dst"
        );
        assert_eq!(
            g("group_id=all,type=all", GroupCommand::Add).1,
            "ADD group_id=4294967292,type=all"
        );
        assert_eq!(
            g("group_id=0xffffff00,type=all", GroupCommand::Add).1,
            "ADD group_id=4294967040,type=all"
        );
        assert_eq!(
            g(
                "group_id=13 , type=all , bucket=output:1 , bucket=output:2",
                GroupCommand::Add
            )
            .1,
            "ADD group_id=13,type=all,bucket=actions=output:1,bucket=actions=output:2"
        );
        // No match in a bucket, so no prerequisite checks; mod_vlan_vid pushes a tag.
        let (gm, _) = g("group_id=1,type=all,bucket=mod_vlan_vid:5,strip_vlan,mod_nw_src:1.1.1.1,dec_ttl,output:1", GroupCommand::Add);
        assert_eq!(
            gm.buckets[0].actions[..2],
            [
                Action::PushVlan(0x8100),
                Action::SetField(OxmField::VlanVid(0x1005, None))
            ]
        );
    }

    #[test]
    fn group_print_of_hand_built_mods_and_descs() {
        let gm = GroupMod {
            command: OFPGC_ADD,
            group_type: OFPGT_SELECT,
            group_id: 1,
            buckets: vec![
                bucket(0, OFPP_ANY, OFPG_ANY, vec![out(1)]),
                bucket(1, OFPP_LOCAL, 3, vec![out(2)]),
            ],
        };
        assert_eq!(format_group_mod(&gm), "ADD group_id=1,type=select,bucket=weight:0,actions=output:1,bucket=watch_port:LOCAL,watch_group:3,actions=output:2");
        let gm = GroupMod {
            command: OFPGC_ADD,
            group_type: OFPGT_FF,
            group_id: OFPG_ALL,
            buckets: vec![bucket(
                0,
                OFPP_CONTROLLER,
                OFPG_ANY,
                vec![Action::Output {
                    port: OFPP_CONTROLLER,
                    max_len: 0,
                }],
            )],
        };
        assert_eq!(
            format_group_mod(&gm),
            "ADD group_id=4294967292,type=ff,bucket=watch_port:CONTROLLER,actions=CONTROLLER:0"
        );
        let gm = GroupMod {
            command: OFPGC_ADD,
            group_type: OFPGT_SELECT,
            group_id: 1,
            buckets: vec![bucket(2, OFPP_ANY, OFPG_ANY, vec![])],
        };
        assert_eq!(
            format_group_mod(&gm),
            "ADD group_id=1,type=select,bucket=weight:2,actions=drop"
        );
        // `ovs-ofctl -O OpenFlow13 dump-groups` against a fake switch.
        let descs = [
            (GroupDesc { group_type: OFPGT_SELECT, group_id: 1, buckets: vec![bucket(100, 1, OFPG_ANY, vec![out(1)]), bucket(1, OFPP_ANY, OFPG_ANY, vec![out(2)])] },
             " group_id=1,type=select,bucket=weight:100,watch_port:1,actions=output:1,bucket=actions=output:2"),
            (GroupDesc { group_type: OFPGT_ALL, group_id: 2, buckets: vec![bucket(0, OFPP_ANY, OFPG_ANY, vec![out(1)])] },
             " group_id=2,type=all,bucket=actions=output:1"),
            (GroupDesc { group_type: OFPGT_FF, group_id: 3, buckets: vec![bucket(0, 1, 5, vec![])] },
             " group_id=3,type=ff,bucket=watch_port:1,watch_group:5,actions=drop"),
            (GroupDesc { group_type: OFPGT_INDIRECT, group_id: 4, buckets: vec![] }, " group_id=4,type=indirect"),
        ];
        for (d, want) in descs {
            assert_eq!(format_group_desc(&d), want);
        }
    }

    #[test]
    fn group_errors_name_the_token() {
        for (s, cmd, msg) in [
            (
                "type=all,bucket=output:1",
                GroupCommand::Add,
                "must specify a group_id",
            ),
            (
                "group_id=11,bucket=output:1",
                GroupCommand::Add,
                "must specify a type",
            ),
            (
                "group_id=12,type=indirect,bucket=output:1,bucket=output:2",
                GroupCommand::Add,
                "at most one bucket",
            ),
            (
                "group_id=1,type=foo",
                GroupCommand::Add,
                "unknown group type",
            ),
            ("group_id=x,type=all", GroupCommand::Add, "invalid number"),
            (
                "group_id=1,type=all,bucket=weight:70000,output:1",
                GroupCommand::Add,
                "out of range",
            ),
            (
                "group_id=1,type=all,bucket=watch_port:foo,output:1",
                GroupCommand::Add,
                "invalid or unknown port",
            ),
            (
                "group_id=1,type=all,bucket=output:1,bogus",
                GroupCommand::Add,
                "unknown action bogus",
            ),
            (
                "group_id=1,type=all,bucket=output:1,goto_table:1",
                GroupCommand::Add,
                "unknown action goto_table",
            ),
            (
                "group_id=1,bucket=output:1",
                GroupCommand::Delete,
                "not allowed when deleting",
            ),
            (
                "group_id=1,type=all,bogus=1",
                GroupCommand::Add,
                "unknown keyword bogus",
            ),
            (
                "group_id=1,type=all,bucket=drop,output:1",
                GroupCommand::Add,
                "\"drop\"",
            ),
            (
                "group_id=1,type=ff,bucket=output:1",
                GroupCommand::Add,
                "fast failover bucket requires watch_port or watch_group",
            ),
        ] {
            let e = parse_group_cmd(s, cmd).expect_err(s);
            assert!(e.msg.contains(msg), "{s}: {e}");
            assert!(s[e.pos..].starts_with(&e.token), "{s}: {e:?}");
        }
    }
}
