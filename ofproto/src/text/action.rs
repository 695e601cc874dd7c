//! Actions and instructions: ovs-ofctl's `actions=` syntax ↔ OF1.3
//! [`Instruction`]s.
//!
//! The text is one list; `meter:`, `clear_actions`, `write_actions(...)`,
//! `write_metadata:` and `goto_table:` are instructions, everything else goes
//! into one `apply_actions`. As in ovs-ofctl they must come in the order the
//! instructions execute (meter, apply, clear, write, write_metadata, goto).
//!
//! Actions are checked against what the match guarantees about the packet
//! (and what earlier actions did to it), like ovs-ofctl does before it
//! encodes for OpenFlow 1.3: `set_field:…->ip_dst` needs an IPv4 match,
//! `strip_vlan` a VLAN tag, `mod_tp_src` a TCP/UDP/SCTP match. `mod_vlan_vid`
//! pushes a tag first unless the match guarantees one, exactly as ovs-ofctl
//! encodes it for OpenFlow 1.3.

use super::error::{Span, TextError};
use super::field::*;
use super::lex::*;
use super::port::{format_port, parse_port, valid_output_port};
use crate::action::Action;
use crate::consts::*;
use crate::instruction::Instruction;
use crate::oxm::{Match, OxmField, OFPVID_PRESENT};
use crate::wire::MacAddr;
use bytes::Bytes;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What the actions may assume about the packet at a point of the list.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Shape {
    /// Whether prerequisites are enforced (not for group buckets, which have
    /// no match; ovs-ofctl doesn't check them there either).
    pub checked: bool,
    pub dl_type: Option<u16>,
    pub nw_proto: Option<u16>,
    /// ICMPv6 type, for the ND fields.
    pub icmp_type: Option<u16>,
    /// `Some(true)`: a VLAN tag is present; `Some(false)`: none; `None`: unknown.
    pub vlan: Option<bool>,
    /// An earlier push_pbb put an I-TAG outermost (pbb_isid may be set).
    /// Kept apart from `dl_type` so the customer headers' prerequisites
    /// stay as they were, as the wire accepts them.
    pub pbb_pushed: bool,
}

impl Shape {
    pub fn from_match(m: &Match) -> Shape {
        let fm = FlowMatch::from_match(m);
        Shape {
            checked: true,
            dl_type: fm.dl_type,
            nw_proto: fm.nw_proto,
            icmp_type: fm.tp_src,
            vlan: vlan_presence(&fm),
            pbb_pushed: false,
        }
    }

    /// For group buckets: nothing is known and nothing is checked.
    pub fn unchecked() -> Shape {
        Shape::default()
    }

    fn is_ip(&self) -> bool {
        matches!(self.dl_type, Some(ETH_IP) | Some(ETH_IPV6))
    }

    fn is_mpls(&self) -> bool {
        matches!(self.dl_type, Some(ETH_MPLS) | Some(ETH_MPLSM))
    }

    /// Checks a prerequisite (when checking is on).
    fn need(&self, ok: bool, what: &str, hint: &str) -> Result<(), String> {
        if !self.checked || ok {
            Ok(())
        } else {
            Err(format!(
                "{what}: needs {hint} in the match (or an earlier action), OpenFlow 1.3 can't express it otherwise"
            ))
        }
    }
}

// ------------------------------------------------------------------ parsing

/// Instruction kinds in the order they must appear (and execute).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Meter,
    Apply,
    Clear,
    Write,
    WriteMetadata,
    Goto,
    Experimenter,
}

impl Kind {
    fn of(key: &str) -> Kind {
        match key {
            "meter" => Kind::Meter,
            "clear_actions" => Kind::Clear,
            "write_actions" => Kind::Write,
            "write_metadata" => Kind::WriteMetadata,
            "goto_table" => Kind::Goto,
            "experimenter_instruction" => Kind::Experimenter,
            _ => Kind::Apply,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Meter => "meter",
            Kind::Apply => "apply_actions",
            Kind::Clear => "clear_actions",
            Kind::Write => "write_actions",
            Kind::WriteMetadata => "write_metadata",
            Kind::Goto => "goto_table",
            Kind::Experimenter => "experimenter_instruction",
        }
    }
}

/// Parses an `actions=` text (`text` is positioned in the whole input) into
/// instructions. `table_id` is the flow's table (for `goto_table`).
pub(crate) fn parse_instructions(
    text: Span<'_>,
    mut shape: Shape,
    table_id: Option<u8>,
) -> Result<Vec<Instruction>, TextError> {
    let kvs = split_all(text.text, text.pos)?;
    if let Some(d) = kvs
        .iter()
        .find(|kv| kv.key() == "drop" && kv.value.is_none())
    {
        if kvs.len() > 1 {
            return Err(TextError::at(
                d.whole,
                "\"drop\" must not be accompanied by any other action or instruction",
            ));
        }
        return Ok(Vec::new());
    }
    let mut last: Option<Kind> = None;
    let mut meter = None;
    let mut apply = Vec::new();
    let mut clear = false;
    let mut write = None;
    let mut write_md = None;
    let mut goto = None;
    let mut exp = Vec::new();
    for kv in &kvs {
        let kind = Kind::of(kv.key());
        if let Some(l) = last {
            if kind < l {
                return Err(TextError::at(
                    kv.whole,
                    format!(
                        "invalid instruction ordering: {} must appear before {}",
                        kind.name(),
                        l.name()
                    ),
                ));
            }
            if kind == l && kind != Kind::Apply && kind != Kind::Experimenter {
                return Err(TextError::at(
                    kv.whole,
                    format!("duplicate {} instruction not allowed", kind.name()),
                ));
            }
        }
        last = Some(kind);
        let e = |msg: String| TextError::at(kv.whole, msg);
        let val = kv.value.map(|v| v.text);
        let need_val = || val.ok_or_else(|| e(format!("{}: missing value", kv.key())));
        match kind {
            Kind::Meter => {
                let s = need_val()?;
                let id = uint_max("meter", s, u64::from(u32::MAX)).map_err(e)? as u32;
                if id == 0 || (id > OFPM_MAX && id != OFPM_SLOWPATH && id != OFPM_CONTROLLER) {
                    return Err(e(format!("meter: invalid meter id {s}")));
                }
                meter = Some(id);
            }
            Kind::Apply => apply.extend(parse_action(kv, &mut shape)?),
            Kind::Clear => {
                if val.is_some() {
                    return Err(e("clear_actions: takes no value".into()));
                }
                clear = true;
            }
            Kind::Write => {
                let inner = kv
                    .value
                    .ok_or_else(|| e("write_actions: missing (actions)".into()))?;
                let list = parse_action_list(inner, &mut shape, "write_actions")?;
                // ovs-ofctl sends no instruction for an empty write_actions.
                write = Some(list).filter(|l| !l.is_empty());
            }
            Kind::WriteMetadata => {
                let (v, m) = uint_masked("write_metadata", need_val()?, u64::MAX).map_err(e)?;
                write_md = Some((v, m));
            }
            Kind::Goto => {
                let s = need_val()?;
                let t = uint_max("goto_table", s, 0xff).map_err(e)? as u8;
                if let Some(cur) = table_id {
                    if t <= cur && cur != OFPTT_ALL {
                        return Err(e(format!(
                            "goto_table:{t}: must go to a table after the flow's table {cur} (OFPBIC_BAD_TABLE_ID)"
                        )));
                    }
                }
                goto = Some(t);
            }
            Kind::Experimenter => {
                let (experimenter, data) = parse_experimenter(need_val()?).map_err(e)?;
                exp.push(Instruction::Experimenter { experimenter, data });
            }
        }
    }
    let mut out = Vec::new();
    out.extend(meter.map(Instruction::Meter));
    if !apply.is_empty() {
        out.push(Instruction::ApplyActions(apply));
    }
    if clear {
        out.push(Instruction::ClearActions);
    }
    out.extend(write.map(Instruction::WriteActions));
    out.extend(write_md.map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }));
    out.extend(goto.map(Instruction::GotoTable));
    out.extend(exp);
    Ok(out)
}

/// A plain list of actions (a bucket, or inside `write_actions(...)`).
pub(crate) fn parse_action_list(
    text: Span<'_>,
    shape: &mut Shape,
    ctx: &str,
) -> Result<Vec<Action>, TextError> {
    let kvs = split_all(text.text, text.pos)?;
    let mut out = Vec::new();
    for kv in &kvs {
        if kv.key() == "drop" && kv.value.is_none() {
            if kvs.len() > 1 {
                return Err(TextError::at(
                    kv.whole,
                    "\"drop\" must not be accompanied by any other action",
                ));
            }
            continue;
        }
        if Kind::of(kv.key()) != Kind::Apply {
            return Err(TextError::at(
                kv.whole,
                format!("{}: instruction not allowed inside {ctx}", kv.key()),
            ));
        }
        out.extend(parse_action(kv, shape)?);
    }
    Ok(out)
}

/// One action field; `mod_vlan_vid` may expand to push_vlan + set_field.
pub(crate) fn parse_action(kv: &Kv<'_>, shape: &mut Shape) -> Result<Vec<Action>, TextError> {
    parse_action_inner(kv, shape).map_err(|msg| TextError::at(kv.whole, msg))
}

fn parse_action_inner(kv: &Kv<'_>, sh: &mut Shape) -> Result<Vec<Action>, String> {
    let key = kv.key();
    let val = kv.value.map(|v| v.text);
    let need = || val.ok_or_else(|| format!("{key}: missing value"));
    let none = || match val {
        Some(_) => Err(format!("{key}: takes no value")),
        None => Ok(()),
    };
    let one = |a: Action| Ok(vec![a]);
    match key {
        "output" => {
            let s = need()?;
            if s.contains('=') {
                let (mut port, mut max_len) = (None, 0u16);
                for kv in split_all(s, 0).map_err(|e| e.msg)? {
                    let v = kv.value.map(|v| v.text).unwrap_or("");
                    match kv.key() {
                        "port" => port = Some(out_port(v)?),
                        "max_len" => max_len = uint_max("max_len", v, 0xffff)? as u16,
                        k => return Err(format!("output: unknown option {k}")),
                    }
                }
                let port = port.ok_or("output: missing port")?;
                if port != OFPP_CONTROLLER && max_len != 0 {
                    return Err(
                        "output: max_len (truncation) needs Open vSwitch's Nicira output_trunc extension, not supported (only to CONTROLLER)".into(),
                    );
                }
                return one(if port == OFPP_CONTROLLER {
                    Action::Output { port, max_len }
                } else {
                    output(port)
                });
            }
            let port = out_port(s)?;
            one(output(port))
        }
        k if k.eq_ignore_ascii_case("controller") => {
            let max_len = match val {
                None => OFPCML_NO_BUFFER,
                Some(s) if !s.contains('=') => {
                    uint_max("controller", s, 0xffff).map_err(|_| format!("invalid max_len {s:?}"))? as u16
                }
                Some(s) => {
                    let mut max_len = OFPCML_NO_BUFFER;
                    for kv in split_all(s, 0).map_err(|e| e.msg)? {
                        let v = kv.value.map(|v| v.text).unwrap_or("");
                        match (kv.key(), v) {
                            ("max_len", v) => {
                                max_len = uint_max("max_len", v, 0xffff)
                                    .map_err(|_| format!("invalid max_len {v:?}"))?
                                    as u16
                            }
                            ("reason", "action") => {}
                            (k, _) => {
                                return Err(format!(
                                    "controller: option {k:?} needs Open vSwitch's Nicira controller action, not supported (only max_len and reason=action)"
                                ))
                            }
                        }
                    }
                    max_len
                }
            };
            one(Action::Output {
                port: OFPP_CONTROLLER,
                max_len,
            })
        }
        "enqueue" => Err(
            "enqueue: needs Open vSwitch's pop_queue extension, not supported; write set_queue:QUEUE,output:PORT".into(),
        ),
        "mod_vlan_vid" | "mod_vlan_pcp" => {
            let s = need()?;
            let set = if key == "mod_vlan_vid" {
                let vid = parse_uint(s)
                    .filter(|v| *v <= 0xfff)
                    .ok_or_else(|| format!("{key}: {s}: not a valid VLAN VID"))?;
                OxmField::VlanVid(OFPVID_PRESENT | vid as u16, None)
            } else {
                let pcp = parse_uint(s)
                    .filter(|v| *v <= 7)
                    .ok_or_else(|| format!("{key}: {s}: not a valid VLAN PCP"))?;
                OxmField::VlanPcp(pcp as u8)
            };
            let mut v = Vec::new();
            if sh.vlan != Some(true) {
                v.push(Action::PushVlan(0x8100));
                sh.vlan = Some(true);
            }
            v.push(Action::SetField(set));
            Ok(v)
        }
        "strip_vlan" | "pop_vlan" => {
            none()?;
            sh.need(sh.vlan == Some(true), key, "a VLAN tag (dl_vlan=…, vlan_tci=0x1000/0x1000 or push_vlan)")?;
            sh.vlan = Some(false);
            one(Action::PopVlan)
        }
        "push_vlan" => {
            let e = uint_max(key, need()?, 0xffff)? as u16;
            if e != 0x8100 && e != 0x88a8 {
                return Err(format!("push_vlan: {}: not a valid VLAN ethertype", need()?));
            }
            sh.vlan = Some(true);
            one(Action::PushVlan(e))
        }
        "push_mpls" => {
            let e = uint_max(key, need()?, 0xffff)? as u16;
            if e != ETH_MPLS && e != ETH_MPLSM {
                return Err(format!("push_mpls: {}: not a valid MPLS ethertype", need()?));
            }
            sh.dl_type = Some(e);
            sh.nw_proto = None;
            one(Action::PushMpls(e))
        }
        "pop_mpls" => {
            let e = uint_max(key, need()?, 0xffff)? as u16;
            sh.need(sh.is_mpls(), key, "an MPLS packet (mpls or mplsm)")?;
            sh.dl_type = Some(e);
            sh.nw_proto = None;
            one(Action::PopMpls(e))
        }
        "set_field" => one(parse_set_field(need()?, sh)?),
        "load" | "move" => Err(format!(
            "{key}: Open vSwitch's Nicira register actions are not supported; write set_field:VALUE->FIELD"
        )),
        "mod_dl_src" | "mod_dl_dst" => {
            let a = parse_mac(key, need()?)?;
            one(Action::SetField(if key == "mod_dl_src" {
                OxmField::EthSrc(a, None)
            } else {
                OxmField::EthDst(a, None)
            }))
        }
        "mod_nw_src" | "mod_nw_dst" => {
            let a = parse_ipv4(key, need()?)?;
            sh.need(sh.dl_type == Some(ETH_IP), key, "an IPv4 packet (ip)")?;
            one(Action::SetField(if key == "mod_nw_src" {
                OxmField::Ipv4Src(a, None)
            } else {
                OxmField::Ipv4Dst(a, None)
            }))
        }
        "mod_nw_tos" => {
            let s = need()?;
            let tos = parse_uint(s)
                .filter(|t| *t <= 0xff && t & 3 == 0)
                .ok_or_else(|| format!("{key}: {s}: not a valid TOS"))?;
            sh.need(sh.is_ip(), key, "an IP packet (ip or ipv6)")?;
            one(Action::SetField(OxmField::IpDscp((tos >> 2) as u8)))
        }
        "mod_nw_ecn" => {
            let ecn = uint_max(key, need()?, 3)? as u8;
            sh.need(sh.is_ip(), key, "an IP packet (ip or ipv6)")?;
            one(Action::SetField(OxmField::IpEcn(ecn)))
        }
        "mod_nw_ttl" => {
            let ttl = uint_max(key, need()?, 0xff)? as u8;
            sh.need(sh.is_ip(), key, "an IP packet (ip or ipv6)")?;
            one(Action::SetNwTtl(ttl))
        }
        "mod_tp_src" | "mod_tp_dst" => {
            let p = uint_max(key, need()?, 0xffff)? as u16;
            let src = key == "mod_tp_src";
            let f = match (sh.is_ip(), sh.nw_proto) {
                (true, Some(IPPROTO_TCP)) if src => OxmField::TcpSrc(p),
                (true, Some(IPPROTO_TCP)) => OxmField::TcpDst(p),
                (true, Some(IPPROTO_UDP)) if src => OxmField::UdpSrc(p),
                (true, Some(IPPROTO_UDP)) => OxmField::UdpDst(p),
                (true, Some(IPPROTO_SCTP)) if src => OxmField::SctpSrc(p),
                (true, Some(IPPROTO_SCTP)) => OxmField::SctpDst(p),
                _ => {
                    return Err(format!(
                        "{key}: needs a tcp, udp or sctp match to know which port to set (or write set_field:{p}->tcp_{})",
                        if src { "src" } else { "dst" }
                    ))
                }
            };
            one(Action::SetField(f))
        }
        "dec_ttl" => {
            if val.is_some() {
                return Err(
                    "dec_ttl: controller ids need Open vSwitch's Nicira dec_ttl, not supported".into(),
                );
            }
            sh.need(sh.is_ip(), key, "an IP packet (ip or ipv6)")?;
            one(Action::DecNwTtl)
        }
        "set_mpls_ttl" => {
            let ttl = uint_max(key, need()?, 0xff)? as u8;
            sh.need(sh.is_mpls(), key, "an MPLS packet (mpls, mplsm or push_mpls)")?;
            one(Action::SetMplsTtl(ttl))
        }
        "dec_mpls_ttl" => {
            none()?;
            sh.need(sh.is_mpls(), key, "an MPLS packet (mpls, mplsm or push_mpls)")?;
            one(Action::DecMplsTtl)
        }
        "set_mpls_label" => {
            let l = uint_max(key, need()?, 0xf_ffff)? as u32;
            sh.need(sh.is_mpls(), key, "an MPLS packet (mpls, mplsm or push_mpls)")?;
            one(Action::SetField(OxmField::MplsLabel(l)))
        }
        "set_mpls_tc" => {
            let tc = uint_max(key, need()?, 7)? as u8;
            sh.need(sh.is_mpls(), key, "an MPLS packet (mpls, mplsm or push_mpls)")?;
            one(Action::SetField(OxmField::MplsTc(tc)))
        }
        "group" => one(Action::Group(uint_max(key, need()?, u64::from(u32::MAX))? as u32)),
        "set_queue" => one(Action::SetQueue(uint_max(key, need()?, u64::from(u32::MAX))? as u32)),
        "copy_ttl_out" => none().and_then(|_| one(Action::CopyTtlOut)),
        "copy_ttl_in" => none().and_then(|_| one(Action::CopyTtlIn)),
        "push_pbb" => {
            let e = uint_max(key, need()?, 0xffff)? as u16;
            sh.pbb_pushed = true;
            one(Action::PushPbb(e))
        }
        "pop_pbb" => {
            none()?;
            sh.pbb_pushed = false;
            one(Action::PopPbb)
        }
        "experimenter" => {
            let (experimenter, data) = parse_experimenter(need()?)?;
            one(Action::Experimenter { experimenter, data })
        }
        _ if val.is_none() => match parse_port(key) {
            Some(p) => {
                if !valid_output_port(p) {
                    return Err(format!("{key}: not a valid output port"));
                }
                one(output(p))
            }
            None => Err(format!("unknown action {key}")),
        },
        _ => Err(format!("unknown action {key}")),
    }
}

fn out_port(s: &str) -> Result<u32, String> {
    match parse_port(s) {
        Some(p) if valid_output_port(p) => Ok(p),
        Some(_) => Err(format!("output: {s}: not a valid output port")),
        None => Err(format!("output: {s}: output to unknown port")),
    }
}

/// `output:P`; to the controller ovs-ofctl asks for the whole packet.
fn output(port: u32) -> Action {
    let max_len = if port == OFPP_CONTROLLER {
        OFPCML_NO_BUFFER
    } else {
        0
    };
    Action::Output { port, max_len }
}

/// `id=0x2320,data=0011…` (the data as hex, exactly the bytes after the id).
fn parse_experimenter(s: &str) -> Result<(u32, Bytes), String> {
    let (mut id, mut data) = (None, Vec::new());
    for kv in split_all(s, 0).map_err(|e| e.msg)? {
        let v = kv.value.map(|v| v.text).unwrap_or("");
        match kv.key() {
            "id" => id = Some(uint_max("experimenter id", v, u64::from(u32::MAX))? as u32),
            "data" => {
                let h = v.strip_prefix("0x").unwrap_or(v);
                if h.len() % 2 != 0 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(format!("experimenter: invalid hex data {v:?}"));
                }
                data = (0..h.len() / 2)
                    .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0))
                    .collect();
            }
            k => return Err(format!("experimenter: unknown option {k}")),
        }
    }
    Ok((id.ok_or("experimenter: missing id")?, Bytes::from(data)))
}

// ------------------------------------------------------------------ set_field

/// Parses `VALUE[/MASK]->FIELD`.
fn parse_set_field(s: &str, sh: &mut Shape) -> Result<Action, String> {
    let (v, name) = s
        .rsplit_once("->")
        .ok_or_else(|| format!("set_field: {s:?}: missing '->FIELD'"))?;
    let what = format!("set_field:{s}");
    let ip4 = sh.dl_type == Some(ETH_IP);
    let ip6 = sh.dl_type == Some(ETH_IPV6);
    let proto = |p: u16| sh.is_ip() && sh.nw_proto == Some(p);
    let u = |max: u64| -> Result<(u64, Option<u64>), String> {
        let (x, m) = uint_masked(name, v, max)?;
        Ok((x & m, (m != max).then_some(m)))
    };
    let exact = |max: u64| -> Result<u64, String> {
        if v.contains('/') {
            return Err(format!(
                "{name}: masked set_field is not supported for this field"
            ));
        }
        uint_max(name, v, max)
    };
    let mac = || -> Result<(MacAddr, Option<MacAddr>), String> {
        let (a, m) = parse_mac_masked(name, v)?;
        Ok((mac_and(a, m), (m != MacAddr::BROADCAST).then_some(m)))
    };
    let v4 = || -> Result<(Ipv4Addr, Option<Ipv4Addr>), String> {
        let (a, m) = parse_ipv4_masked(name, v)?;
        let a = Ipv4Addr::from(u32::from(a) & u32::from(m));
        Ok((a, (m != Ipv4Addr::BROADCAST).then_some(m)))
    };
    let v6 = || -> Result<(Ipv6Addr, Option<Ipv6Addr>), String> {
        let (a, m) = parse_ipv6_masked(name, v)?;
        let a = Ipv6Addr::from(u128::from(a) & u128::from(m));
        Ok((a, (u128::from(m) != u128::MAX).then_some(m)))
    };
    let read_only = || Err(format!("set_field: {name} is read-only"));
    let vlan = || {
        sh.need(
            sh.vlan == Some(true),
            &what,
            "a VLAN tag (dl_vlan=… or push_vlan)",
        )
    };
    let f = match name {
        "in_port" => {
            no_set_mask(name, v)?;
            OxmField::InPort(
                parse_port(v).ok_or_else(|| format!("in_port: invalid or unknown port {v:?}"))?,
            )
        }
        "metadata" => {
            let (x, m) = u(u64::MAX)?;
            OxmField::Metadata(x, m)
        }
        "tun_id" | "tunnel_id" => {
            let (x, m) = u(u64::MAX)?;
            OxmField::TunnelId(x, m)
        }
        "eth_src" | "dl_src" => {
            let (a, m) = mac()?;
            OxmField::EthSrc(a, m)
        }
        "eth_dst" | "dl_dst" => {
            let (a, m) = mac()?;
            OxmField::EthDst(a, m)
        }
        "vlan_vid" => {
            vlan()?;
            let (x, m) = u(0x1fff)?;
            if m.is_none() && x & u64::from(OFPVID_PRESENT) == 0 {
                return Err(format!(
                    "{what}: an OpenFlow 1.3 vlan_vid is OFPVID_PRESENT (0x1000) | VID: write {} or mod_vlan_vid:{x}",
                    x | u64::from(OFPVID_PRESENT)
                ));
            }
            OxmField::VlanVid(x as u16, m.map(|m| m as u16))
        }
        "dl_vlan" => {
            vlan()?;
            OxmField::VlanVid(OFPVID_PRESENT | exact(0xfff)? as u16, None)
        }
        "vlan_pcp" | "dl_vlan_pcp" => {
            vlan()?;
            OxmField::VlanPcp(exact(7)? as u8)
        }
        "ip_dscp" => {
            sh.need(sh.is_ip(), &what, "an IP packet (ip or ipv6)")?;
            OxmField::IpDscp(exact(63)? as u8)
        }
        "nw_tos" => {
            sh.need(sh.is_ip(), &what, "an IP packet (ip or ipv6)")?;
            OxmField::IpDscp((exact(0xff)? >> 2) as u8)
        }
        "nw_ecn" | "ip_ecn" => {
            sh.need(sh.is_ip(), &what, "an IP packet (ip or ipv6)")?;
            OxmField::IpEcn(exact(3)? as u8)
        }
        "nw_ttl" => {
            sh.need(sh.is_ip(), &what, "an IP packet (ip or ipv6)")?;
            return Ok(Action::SetNwTtl(exact(0xff)? as u8));
        }
        "ip_src" | "nw_src" | "ipv4_src" | "ip_dst" | "nw_dst" | "ipv4_dst" => {
            sh.need(ip4, &what, "an IPv4 packet (ip)")?;
            let (a, m) = v4()?;
            if name.ends_with("src") {
                OxmField::Ipv4Src(a, m)
            } else {
                OxmField::Ipv4Dst(a, m)
            }
        }
        // In ovs-ofctl `tp_src`/`tp_dst` are other names of tcp_src/tcp_dst.
        "tcp_src" | "tcp_dst" | "tp_src" | "tp_dst" | "udp_src" | "udp_dst" | "sctp_src"
        | "sctp_dst" => {
            let p = exact(0xffff)? as u16;
            let (f, hint): (fn(u16) -> OxmField, u16) = match name {
                "tcp_src" | "tp_src" => (OxmField::TcpSrc, IPPROTO_TCP),
                "tcp_dst" | "tp_dst" => (OxmField::TcpDst, IPPROTO_TCP),
                "udp_src" => (OxmField::UdpSrc, IPPROTO_UDP),
                "udp_dst" => (OxmField::UdpDst, IPPROTO_UDP),
                "sctp_src" => (OxmField::SctpSrc, IPPROTO_SCTP),
                _ => (OxmField::SctpDst, IPPROTO_SCTP),
            };
            let n = match hint {
                IPPROTO_TCP => "tcp",
                IPPROTO_UDP => "udp",
                _ => "sctp",
            };
            sh.need(proto(hint), &what, &format!("a {n} packet ({n} or {n}6)"))?;
            f(p)
        }
        "icmp_type" | "icmpv4_type" | "icmp_code" | "icmpv4_code" => {
            sh.need(
                ip4 && sh.nw_proto == Some(IPPROTO_ICMP),
                &what,
                "an ICMP packet (icmp)",
            )?;
            let x = exact(0xff)? as u8;
            if name.ends_with("type") {
                OxmField::Icmpv4Type(x)
            } else {
                OxmField::Icmpv4Code(x)
            }
        }
        "icmpv6_type" | "icmpv6_code" => {
            sh.need(
                ip6 && sh.nw_proto == Some(IPPROTO_ICMPV6),
                &what,
                "an ICMPv6 packet (icmp6)",
            )?;
            let x = exact(0xff)? as u8;
            if name.ends_with("type") {
                OxmField::Icmpv6Type(x)
            } else {
                OxmField::Icmpv6Code(x)
            }
        }
        "arp_op" | "arp_spa" | "arp_tpa" | "arp_sha" | "arp_tha" => {
            let arp = matches!(sh.dl_type, Some(ETH_ARP) | Some(ETH_RARP));
            sh.need(arp, &what, "an ARP packet (arp or rarp)")?;
            match name {
                "arp_op" => OxmField::ArpOp(exact(0xffff)? as u16),
                "arp_spa" | "arp_tpa" => {
                    let (a, m) = v4()?;
                    if name == "arp_spa" {
                        OxmField::ArpSpa(a, m)
                    } else {
                        OxmField::ArpTpa(a, m)
                    }
                }
                _ => {
                    let (a, m) = mac()?;
                    if name == "arp_sha" {
                        OxmField::ArpSha(a, m)
                    } else {
                        OxmField::ArpTha(a, m)
                    }
                }
            }
        }
        "ipv6_src" | "ipv6_dst" => {
            sh.need(ip6, &what, "an IPv6 packet (ipv6)")?;
            let (a, m) = v6()?;
            if name == "ipv6_src" {
                OxmField::Ipv6Src(a, m)
            } else {
                OxmField::Ipv6Dst(a, m)
            }
        }
        "ipv6_label" | "ipv6_flabel" => {
            sh.need(ip6, &what, "an IPv6 packet (ipv6)")?;
            let (x, m) = u(0xf_ffff)?;
            OxmField::Ipv6Flabel(x as u32, m.map(|m| m as u32))
        }
        "nd_target" | "nd_sll" | "nd_tll" => {
            let icmp6 = ip6 && sh.nw_proto == Some(IPPROTO_ICMPV6);
            let ok = match name {
                "nd_target" => matches!(sh.icmp_type, Some(135) | Some(136)),
                "nd_sll" => sh.icmp_type == Some(135),
                _ => sh.icmp_type == Some(136),
            };
            sh.need(
                icmp6 && ok,
                &what,
                "icmp6 with icmp_type=135 (or 136) matched",
            )?;
            match name {
                "nd_target" => {
                    no_set_mask(name, v)?;
                    OxmField::Ipv6NdTarget(parse_ipv6(name, v)?)
                }
                "nd_sll" => {
                    no_set_mask(name, v)?;
                    OxmField::Ipv6NdSll(parse_mac(name, v)?)
                }
                _ => {
                    no_set_mask(name, v)?;
                    OxmField::Ipv6NdTll(parse_mac(name, v)?)
                }
            }
        }
        "mpls_label" | "mpls_tc" => {
            sh.need(
                sh.is_mpls(),
                &what,
                "an MPLS packet (mpls, mplsm or push_mpls)",
            )?;
            if name == "mpls_label" {
                OxmField::MplsLabel(exact(0xf_ffff)? as u32)
            } else {
                OxmField::MplsTc(exact(7)? as u8)
            }
        }
        "pbb_isid" => {
            sh.need(
                sh.dl_type == Some(ETH_PBB) || sh.pbb_pushed,
                &what,
                "a PBB packet (dl_type=0x88e7 or push_pbb)",
            )?;
            let (x, m) = u(0xff_ffff)?;
            OxmField::PbbIsid(x as u32, m.map(|m| m as u32))
        }
        "eth_type" | "dl_type" | "ip_proto" | "nw_proto" | "mpls_bos" | "in_phy_port"
        | "ipv6_exthdr" => return read_only(),
        "vlan_tci" => {
            return Err(
                "set_field: vlan_tci can't be set in OpenFlow 1.3; set vlan_vid and vlan_pcp"
                    .into(),
            )
        }
        _ => return Err(format!("set_field: {name} is not a valid OXM field name")),
    };
    Ok(Action::SetField(f))
}

fn no_set_mask(name: &str, v: &str) -> Result<(), String> {
    if v.contains('/') {
        Err(format!(
            "{name}: masked set_field is not supported for this field"
        ))
    } else {
        Ok(())
    }
}

// ------------------------------------------------------------------ formatting

/// One action as ovs-ofctl prints it.
pub fn format_action(a: &Action) -> String {
    match a {
        Action::Output { port, max_len } => match *port {
            // max_len means nothing to other ports; ovs-ofctl doesn't show it.
            OFPP_CONTROLLER => format!("CONTROLLER:{max_len}"),
            p @ (OFPP_IN_PORT | OFPP_TABLE | OFPP_NORMAL | OFPP_FLOOD | OFPP_ALL | OFPP_LOCAL) => {
                format_port(p)
            }
            p => format!("output:{}", format_port(p)),
        },
        Action::CopyTtlOut => "copy_ttl_out".into(),
        Action::CopyTtlIn => "copy_ttl_in".into(),
        Action::SetMplsTtl(t) => format!("set_mpls_ttl({t})"),
        Action::DecMplsTtl => "dec_mpls_ttl".into(),
        Action::PushVlan(e) => format!("push_vlan:0x{e:04x}"),
        Action::PopVlan => "pop_vlan".into(),
        Action::PushMpls(e) => format!("push_mpls:0x{e:04x}"),
        Action::PopMpls(e) => format!("pop_mpls:0x{e:04x}"),
        Action::SetQueue(q) => format!("set_queue:{q}"),
        Action::Group(g) => format!("group:{g}"),
        Action::SetNwTtl(t) => format!("mod_nw_ttl:{t}"),
        Action::DecNwTtl => "dec_ttl".into(),
        Action::SetField(f) => format_set_field(f),
        Action::PushPbb(e) => format!("push_pbb:0x{e:04x}"),
        Action::PopPbb => "pop_pbb".into(),
        Action::Experimenter { experimenter, data } => {
            format!(
                "experimenter(id={experimenter:#x},data={})",
                hex_bytes(data)
            )
        }
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn masked_hex(v: u64, m: Option<u64>) -> String {
    match m {
        Some(m) => format!("{}/{}", hex_c(v), hex_c(m)),
        None => hex_c(v),
    }
}

fn masked_dec(v: u64, m: Option<u64>) -> String {
    match m {
        Some(m) => format!("{v}/{m}"),
        None => v.to_string(),
    }
}

/// `set_field:VALUE->FIELD` with ovs-ofctl's field names and value formats.
fn format_set_field(f: &OxmField) -> String {
    let full4 = Ipv4Addr::BROADCAST;
    let full6 = Ipv6Addr::from(u128::MAX);
    let mac =
        |a: &MacAddr, m: &Option<MacAddr>| fmt_mac_masked(*a, m.unwrap_or(MacAddr::BROADCAST));
    let (v, name) = match f {
        OxmField::InPort(p) => (format_port(*p), "in_port"),
        OxmField::InPhyPort(p) => (format_port(*p), "in_phy_port"),
        OxmField::Metadata(v, m) => (masked_hex(*v, *m), "metadata"),
        OxmField::EthDst(a, m) => (mac(a, m), "eth_dst"),
        OxmField::EthSrc(a, m) => (mac(a, m), "eth_src"),
        OxmField::EthType(t) => (hex_c(u64::from(*t)), "eth_type"),
        OxmField::VlanVid(v, m) => (masked_dec(u64::from(*v), m.map(u64::from)), "vlan_vid"),
        OxmField::VlanPcp(p) => (p.to_string(), "vlan_pcp"),
        OxmField::IpDscp(d) => (d.to_string(), "ip_dscp"),
        OxmField::IpEcn(e) => (e.to_string(), "nw_ecn"),
        OxmField::IpProto(p) => (p.to_string(), "nw_proto"),
        OxmField::Ipv4Src(a, m) => (fmt_ipv4_masked(*a, m.unwrap_or(full4)), "ip_src"),
        OxmField::Ipv4Dst(a, m) => (fmt_ipv4_masked(*a, m.unwrap_or(full4)), "ip_dst"),
        OxmField::TcpSrc(p) => (p.to_string(), "tcp_src"),
        OxmField::TcpDst(p) => (p.to_string(), "tcp_dst"),
        OxmField::UdpSrc(p) => (p.to_string(), "udp_src"),
        OxmField::UdpDst(p) => (p.to_string(), "udp_dst"),
        OxmField::SctpSrc(p) => (p.to_string(), "sctp_src"),
        OxmField::SctpDst(p) => (p.to_string(), "sctp_dst"),
        OxmField::Icmpv4Type(t) => (t.to_string(), "icmp_type"),
        OxmField::Icmpv4Code(c) => (c.to_string(), "icmp_code"),
        OxmField::ArpOp(o) => (o.to_string(), "arp_op"),
        OxmField::ArpSpa(a, m) => (fmt_ipv4_masked(*a, m.unwrap_or(full4)), "arp_spa"),
        OxmField::ArpTpa(a, m) => (fmt_ipv4_masked(*a, m.unwrap_or(full4)), "arp_tpa"),
        OxmField::ArpSha(a, m) => (mac(a, m), "arp_sha"),
        OxmField::ArpTha(a, m) => (mac(a, m), "arp_tha"),
        OxmField::Ipv6Src(a, m) => (fmt_ipv6_masked(*a, m.unwrap_or(full6)), "ipv6_src"),
        OxmField::Ipv6Dst(a, m) => (fmt_ipv6_masked(*a, m.unwrap_or(full6)), "ipv6_dst"),
        OxmField::Ipv6Flabel(v, m) => (masked_hex(u64::from(*v), m.map(u64::from)), "ipv6_label"),
        OxmField::Icmpv6Type(t) => (t.to_string(), "icmpv6_type"),
        OxmField::Icmpv6Code(c) => (c.to_string(), "icmpv6_code"),
        OxmField::Ipv6NdTarget(a) => (fmt_ipv6(*a), "nd_target"),
        OxmField::Ipv6NdSll(a) => (a.to_string(), "nd_sll"),
        OxmField::Ipv6NdTll(a) => (a.to_string(), "nd_tll"),
        OxmField::MplsLabel(l) => (l.to_string(), "mpls_label"),
        OxmField::MplsTc(t) => (t.to_string(), "mpls_tc"),
        OxmField::MplsBos(b) => (b.to_string(), "mpls_bos"),
        OxmField::PbbIsid(v, m) => (masked_hex(u64::from(*v), m.map(u64::from)), "pbb_isid"),
        OxmField::TunnelId(v, m) => (masked_hex(*v, *m), "tun_id"),
        OxmField::Ipv6Exthdr(v, m) => (masked_hex(u64::from(*v), m.map(u64::from)), "ipv6_exthdr"),
        OxmField::Raw(r) => {
            return format!(
                "set_field:oxm(class=0x{:04x},field={},{}0x{})",
                r.class,
                r.field,
                if r.hasmask { "masked," } else { "" },
                hex_bytes(&r.body)
            )
        }
    };
    format!("set_field:{v}->{name}")
}

fn instruction_rank(i: &Instruction) -> Kind {
    match i {
        Instruction::Meter(_) => Kind::Meter,
        Instruction::ApplyActions(_) => Kind::Apply,
        Instruction::ClearActions => Kind::Clear,
        Instruction::WriteActions(_) => Kind::Write,
        Instruction::WriteMetadata { .. } => Kind::WriteMetadata,
        Instruction::GotoTable(_) => Kind::Goto,
        Instruction::Experimenter { .. } => Kind::Experimenter,
    }
}

/// A comma-separated action list; `drop` when empty.
pub fn format_action_list(actions: &[Action]) -> String {
    if actions.is_empty() {
        "drop".to_string()
    } else {
        actions
            .iter()
            .map(format_action)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Instructions as ovs-ofctl prints them after `actions=` (in execution
/// order, as ovs-ofctl does whatever the wire order): `output:2`,
/// `meter:1,output:3,write_actions(group:1),goto_table:2`, `drop`.
pub fn format_actions(instructions: &[Instruction]) -> String {
    let mut list: Vec<&Instruction> = instructions.iter().collect();
    list.sort_by_key(|i| instruction_rank(i));
    let mut out: Vec<String> = Vec::new();
    for i in list {
        match i {
            Instruction::Meter(m) => out.push(format!("meter:{m}")),
            Instruction::ApplyActions(a) => out.extend(a.iter().map(format_action)),
            Instruction::ClearActions => out.push("clear_actions".into()),
            Instruction::WriteActions(a) => {
                out.push(format!("write_actions({})", format_action_list(a)))
            }
            Instruction::WriteMetadata { metadata, mask } => {
                if *mask == u64::MAX {
                    out.push(format!("write_metadata:{}", hex_c(*metadata)));
                } else {
                    out.push(format!(
                        "write_metadata:{}/{}",
                        hex_c(*metadata),
                        hex_c(*mask)
                    ));
                }
            }
            Instruction::GotoTable(t) => out.push(format!("goto_table:{t}")),
            Instruction::Experimenter { experimenter, data } => out.push(format!(
                "experimenter_instruction(id={experimenter:#x},data={})",
                hex_bytes(data)
            )),
        }
    }
    if out.is_empty() {
        "drop".to_string()
    } else {
        out.join(",")
    }
}

/// Parses an action list as a flow's `actions=` (instructions allowed), for a
/// flow with `m` in table `table_id`.
pub fn parse_actions(s: &str, m: &Match, table_id: u8) -> Result<Vec<Instruction>, TextError> {
    parse_instructions(Span::new(0, s), Shape::from_match(m), Some(table_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::field::parse_match;

    /// Parses `actions` for a flow matching `m` and prints them back.
    fn acts(m: &str, actions: &str) -> Result<(Vec<Instruction>, String), TextError> {
        let mt = parse_match(m).unwrap();
        let i = parse_actions(actions, &mt, 0)?;
        let s = format_actions(&i);
        // Formatting is parseable and gives the same instructions back.
        assert_eq!(parse_actions(&s, &mt, 0).unwrap(), i, "{s}");
        Ok((i, s))
    }

    fn txt(m: &str, actions: &str) -> String {
        acts(m, actions)
            .unwrap_or_else(|e| panic!("{m} {actions}: {e}"))
            .1
    }

    fn apply(m: &str, actions: &str) -> Vec<Action> {
        match acts(m, actions)
            .unwrap_or_else(|e| panic!("{actions}: {e}"))
            .0
            .as_slice()
        {
            [Instruction::ApplyActions(a)] => a.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn err(m: &str, actions: &str) -> TextError {
        let mt = parse_match(m).unwrap();
        parse_actions(actions, &mt, 0).expect_err(actions)
    }

    fn out(port: u32, max_len: u16) -> Action {
        Action::Output { port, max_len }
    }

    // Expected texts: `ovs-ofctl -O OpenFlow13 parse-flow "MATCH,actions=…"`;
    // expected actions: what `ovs-ofctl add-flow` put on the wire.

    #[test]
    fn output_forms_and_reserved_ports() {
        assert_eq!(
            txt("ip", "output:1,2,IN_PORT,CONTROLLER,CONTROLLER:100,LOCAL,FLOOD,ALL,NORMAL,TABLE,in_port,local,normal"),
            "output:1,output:2,IN_PORT,CONTROLLER:65535,CONTROLLER:100,LOCAL,FLOOD,ALL,NORMAL,TABLE,IN_PORT,LOCAL,NORMAL"
        );
        assert_eq!(
            apply("", "output:1,CONTROLLER,CONTROLLER:100,LOCAL"),
            vec![
                out(1, 0),
                out(OFPP_CONTROLLER, 0xffff),
                out(OFPP_CONTROLLER, 100),
                out(OFPP_LOCAL, 0)
            ]
        );
        assert_eq!(txt("", "controller(max_len=100)"), "CONTROLLER:100");
        assert_eq!(
            txt("", "controller(max_len=5,reason=action)"),
            "CONTROLLER:5"
        );
        assert_eq!(txt("", "controller"), "CONTROLLER:65535");
        assert_eq!(txt("", "controller:5"), "CONTROLLER:5");
        assert_eq!(txt("", "CONTROLLER:0"), "CONTROLLER:0");
        assert_eq!(txt("", "output:CONTROLLER"), "CONTROLLER:65535");
        assert_eq!(txt("", "output:65534"), "LOCAL");
        assert_eq!(txt("", "output:0"), "output:0");
        assert_eq!(txt("", "output=1"), "output:1");
        assert_eq!(txt("", "output(1)"), "output:1");
        assert_eq!(
            txt("", "output(port=CONTROLLER,max_len=100)"),
            "CONTROLLER:100"
        );
        assert_eq!(txt("", "output(port=2)"), "output:2");
        // ovs-ofctl prints an OF1.3 output's max_len only for CONTROLLER.
        assert_eq!(
            format_action_list(&[out(1, 100), out(OFPP_LOCAL, 5), out(OFPP_CONTROLLER, 0)]),
            "output:1,LOCAL,CONTROLLER:0"
        );
        assert_eq!(txt("", ",output:1,,output:2,,"), "output:1,output:2");
        assert_eq!(
            txt("", "output:1,controller:5,output:2"),
            "output:1,CONTROLLER:5,output:2"
        );
        assert_eq!(txt("", ""), "drop");
        assert_eq!(txt("", "drop"), "drop");
    }

    #[test]
    fn vlan_actions_push_a_tag_when_the_match_has_none() {
        assert_eq!(
            txt("in_port=LOCAL,dl_vlan=10", "mod_vlan_vid:20,CONTROLLER:100"),
            "set_field:4116->vlan_vid,CONTROLLER:100"
        );
        assert_eq!(
            apply("dl_vlan=10", "mod_vlan_vid:20"),
            vec![Action::SetField(OxmField::VlanVid(0x1014, None))]
        );
        assert_eq!(
            txt("ip", "mod_vlan_vid:10"),
            "push_vlan:0x8100,set_field:4106->vlan_vid"
        );
        assert_eq!(
            apply("ip", "mod_vlan_vid:10"),
            vec![
                Action::PushVlan(0x8100),
                Action::SetField(OxmField::VlanVid(0x100a, None))
            ]
        );
        assert_eq!(
            txt("ip", "mod_vlan_pcp:3"),
            "push_vlan:0x8100,set_field:3->vlan_pcp"
        );
        assert_eq!(
            txt("", "mod_vlan_vid:10,mod_vlan_pcp:2"),
            "push_vlan:0x8100,set_field:4106->vlan_vid,set_field:2->vlan_pcp"
        );
        assert_eq!(
            txt("dl_vlan=3", "mod_vlan_vid:10,mod_vlan_pcp:2,strip_vlan,mod_vlan_vid:3"),
            "set_field:4106->vlan_vid,set_field:2->vlan_pcp,pop_vlan,push_vlan:0x8100,set_field:4099->vlan_vid"
        );
        assert_eq!(
            txt("", "push_vlan:0x8100,mod_vlan_vid:10"),
            "push_vlan:0x8100,set_field:4106->vlan_vid"
        );
        assert_eq!(
            txt("vlan_tci=0x1000/0x1000", "mod_vlan_vid:10"),
            "set_field:4106->vlan_vid"
        );
        assert_eq!(
            txt("", "mod_vlan_vid(5)"),
            "push_vlan:0x8100,set_field:4101->vlan_vid"
        );
        assert_eq!(txt("dl_vlan=5", "strip_vlan"), "pop_vlan");
        assert_eq!(
            txt("dl_vlan=1", "set_field:3->vlan_pcp"),
            "set_field:3->vlan_pcp"
        );
        assert_eq!(txt("ip", "push_vlan:0x88a8"), "push_vlan:0x88a8");
        // ovs-ofctl: "no usable protocol" / OFPBAC_MATCH_INCONSISTENT.
        assert!(err("ip", "strip_vlan").msg.contains("needs a VLAN tag"));
        assert!(err("dl_vlan=5", "pop_vlan,pop_vlan")
            .msg
            .contains("needs a VLAN tag"));
        assert!(err("", "set_field:4101->vlan_vid")
            .msg
            .contains("needs a VLAN tag"));
        assert!(err("", "push_vlan:0x1234")
            .msg
            .contains("not a valid VLAN ethertype"));
        assert!(err("", "mod_vlan_vid:4096")
            .msg
            .contains("not a valid VLAN VID"));
    }

    #[test]
    fn rewrite_actions_become_set_field() {
        assert_eq!(
            txt(
                "ip",
                "mod_dl_src:00:11:22:33:44:55,mod_dl_dst:00:11:22:33:44:56"
            ),
            "set_field:00:11:22:33:44:55->eth_src,set_field:00:11:22:33:44:56->eth_dst"
        );
        assert_eq!(
            txt("ip", "mod_nw_src:1.1.1.1,mod_nw_dst:2.2.2.2"),
            "set_field:1.1.1.1->ip_src,set_field:2.2.2.2->ip_dst"
        );
        assert_eq!(txt("ip", "mod_nw_tos:32"), "set_field:8->ip_dscp");
        assert_eq!(txt("ip", "mod_nw_ecn:2"), "set_field:2->nw_ecn");
        assert_eq!(
            txt("tcp", "mod_tp_src:5,mod_tp_dst:6"),
            "set_field:5->tcp_src,set_field:6->tcp_dst"
        );
        assert_eq!(txt("udp", "mod_tp_src:5"), "set_field:5->udp_src");
        assert_eq!(txt("ip", "mod_nw_ttl:5"), "mod_nw_ttl:5");
        assert_eq!(apply("ip", "mod_nw_ttl:5"), vec![Action::SetNwTtl(5)]);
        assert_eq!(txt("ip", "dec_ttl"), "dec_ttl");
        assert_eq!(txt("ipv6", "dec_ttl"), "dec_ttl");
        assert_eq!(apply("ip", "dec_ttl"), vec![Action::DecNwTtl]);
        assert_eq!(
            txt("", "mod_dl_src:00:00:00:00:00:01"),
            "set_field:00:00:00:00:00:01->eth_src"
        );
        assert!(err("", "mod_nw_src:1.1.1.1")
            .msg
            .contains("needs an IPv4 packet"));
        assert!(err("", "dec_ttl").msg.contains("needs an IP packet"));
        assert!(err("mpls", "dec_ttl").msg.contains("needs an IP packet"));
        assert!(err("ip", "mod_tp_src:1").msg.contains("tcp, udp or sctp"));
        assert!(err("", "mod_nw_tos:4").msg.contains("needs an IP packet"));
        assert!(err("ip", "mod_nw_tos:5").msg.contains("not a valid TOS"));
    }

    #[test]
    fn set_field_names_values_and_prerequisites() {
        for (m, a, t) in [
            ("ip", "set_field:10.0.0.1->ip_dst", "set_field:10.0.0.1->ip_dst"),
            ("ip", "set_field:10.0.0.1->nw_dst", "set_field:10.0.0.1->ip_dst"),
            ("", "set_field:00:11:22:33:44:55->eth_src", "set_field:00:11:22:33:44:55->eth_src"),
            ("", "set_field:5->in_port", "set_field:5->in_port"),
            ("", "set_field:LOCAL->in_port", "set_field:LOCAL->in_port"),
            ("", "set_field:5->metadata", "set_field:0x5->metadata"),
            ("", "set_field:0->metadata", "set_field:0->metadata"),
            ("", "set_field:0x5->tunnel_id", "set_field:0x5->tun_id"),
            ("", "set_field:0->tun_id", "set_field:0->tun_id"),
            ("ip", "set_field:3->ip_dscp", "set_field:3->ip_dscp"),
            ("ip", "set_field:3->ip_ecn", "set_field:3->nw_ecn"),
            ("ip", "set_field:5->nw_ttl", "mod_nw_ttl:5"),
            ("tcp", "set_field:1->tcp_src,set_field:2->tcp_dst", "set_field:1->tcp_src,set_field:2->tcp_dst"),
            ("udp", "set_field:1->udp_src,set_field:2->udp_dst", "set_field:1->udp_src,set_field:2->udp_dst"),
            ("sctp", "set_field:1->sctp_src,set_field:2->sctp_dst", "set_field:1->sctp_src,set_field:2->sctp_dst"),
            ("sctp", "mod_tp_src:1,mod_tp_dst:2,set_field:3->sctp_src", "set_field:1->sctp_src,set_field:2->sctp_dst,set_field:3->sctp_src"),
            ("tcp", "set_field:1->tp_src", "set_field:1->tcp_src"),
            ("icmp", "set_field:1->icmp_type,set_field:2->icmp_code", "set_field:1->icmp_type,set_field:2->icmp_code"),
            (
                "arp",
                "set_field:1->arp_op,set_field:1.1.1.1->arp_spa,set_field:1.1.1.1->arp_tpa,set_field:00:00:00:00:00:01->arp_sha,set_field:00:00:00:00:00:01->arp_tha",
                "set_field:1->arp_op,set_field:1.1.1.1->arp_spa,set_field:1.1.1.1->arp_tpa,set_field:00:00:00:00:00:01->arp_sha,set_field:00:00:00:00:00:01->arp_tha",
            ),
            (
                "ipv6",
                "set_field:::1->ipv6_src,set_field:::2->ipv6_dst,set_field:5->ipv6_label",
                "set_field:::1->ipv6_src,set_field:::2->ipv6_dst,set_field:0x5->ipv6_label",
            ),
            ("ipv6", "set_field:0->ipv6_label", "set_field:0->ipv6_label"),
            ("icmp6", "set_field:1->icmpv6_type,set_field:2->icmpv6_code", "set_field:1->icmpv6_type,set_field:2->icmpv6_code"),
            (
                "icmp6,icmp_type=135",
                "set_field:::1->nd_target,set_field:00:00:00:00:00:01->nd_sll",
                "set_field:::1->nd_target,set_field:00:00:00:00:00:01->nd_sll",
            ),
            ("icmp6,icmp_type=136", "set_field:00:00:00:00:00:01->nd_tll", "set_field:00:00:00:00:00:01->nd_tll"),
            ("mpls", "set_field:1->mpls_label,set_field:1->mpls_tc", "set_field:1->mpls_label,set_field:1->mpls_tc"),
            ("ip", "push_mpls:0x8847,set_field:5->mpls_label", "push_mpls:0x8847,set_field:5->mpls_label"),
            ("mpls", "pop_mpls:0x0800,set_field:1.1.1.1->ip_dst", "pop_mpls:0x0800,set_field:1.1.1.1->ip_dst"),
            // Masked set_field (ovs-ofctl encodes a Nicira reg_load and prints
            // load:…; we keep the masked OXM, OpenFlow 1.5 style).
            ("", "set_field:0x5/0xf->metadata", "set_field:0x5/0xf->metadata"),
            ("ip", "set_field:1.1.1.0/24->ip_src", "set_field:1.1.1.0/24->ip_src"),
        ] {
            assert_eq!(txt(m, a), t, "{m} {a}");
        }
        assert_eq!(
            apply("", "set_field:0x5/0xf->metadata"),
            vec![Action::SetField(OxmField::Metadata(5, Some(0xf)))]
        );
        for (m, a, needle) in [
            ("", "set_field:10.0.0.1->ip_dst", "needs an IPv4 packet"),
            ("icmp6", "set_field:::1->nd_target", "icmp_type=135"),
            ("", "set_field:0x800->eth_type", "eth_type is read-only"),
            ("ip", "set_field:3->ip_proto", "ip_proto is read-only"),
            ("mpls", "set_field:1->mpls_bos", "mpls_bos is read-only"),
            (
                "icmp",
                "set_field:1->icmpv4_typo",
                "not a valid OXM field name",
            ),
            ("ip", "set_field:5/3->ip_dscp", "masked set_field"),
            ("ip", "set_field:1.1.1.1", "missing '->FIELD'"),
            ("udp", "set_field:3->tp_dst", "needs a tcp packet"),
            ("dl_vlan=5", "set_field:4095->vlan_vid", "OFPVID_PRESENT"),
        ] {
            let e = err(m, a);
            assert!(e.msg.contains(needle), "{a}: {e}");
        }
    }

    #[test]
    fn mpls_group_queue_and_extension_actions() {
        assert_eq!(
            txt(
                "mpls",
                "set_mpls_ttl:5,dec_mpls_ttl,set_mpls_label:5,set_mpls_tc:2"
            ),
            "set_mpls_ttl(5),dec_mpls_ttl,set_field:5->mpls_label,set_field:2->mpls_tc"
        );
        assert_eq!(txt("mpls", "pop_mpls:0x0800"), "pop_mpls:0x0800");
        assert_eq!(txt("mpls", "pop_mpls:0x8847"), "pop_mpls:0x8847");
        assert_eq!(txt("ip", "push_mpls:0x8847"), "push_mpls:0x8847");
        assert_eq!(txt("", "group:5"), "group:5");
        assert_eq!(txt("", "group(5)"), "group:5");
        assert_eq!(txt("", "group:0xffffffff"), "group:4294967295");
        assert_eq!(txt("", "set_queue:3"), "set_queue:3");
        assert_eq!(txt("", "set_queue:0x10"), "set_queue:16");
        assert_eq!(txt("", "set_queue:0"), "set_queue:0");
        // Not in ovs-ofctl (it rejects them), but OF1.3 actions we can express.
        assert_eq!(
            txt("", "copy_ttl_out,copy_ttl_in,push_pbb:0x88e7,pop_pbb"),
            "copy_ttl_out,copy_ttl_in,push_pbb:0x88e7,pop_pbb"
        );
        assert_eq!(
            txt("", "experimenter(id=0x2320,data=0014ffff00000000)"),
            "experimenter(id=0x2320,data=0014ffff00000000)"
        );
        assert!(err("ip", "pop_mpls:0x0800")
            .msg
            .contains("needs an MPLS packet"));
        assert_eq!(
            txt("", "push_pbb:0x88e7,set_field:0x123456->pbb_isid"),
            "push_pbb:0x88e7,set_field:0x123456->pbb_isid"
        );
        assert!(err("", "push_mpls:0x800")
            .msg
            .contains("not a valid MPLS ethertype"));
        assert!(err("", "enqueue:1:2").msg.contains("set_queue"));
        assert!(err("", "controller(reason=no_match)")
            .msg
            .contains("not supported"));
        assert!(err("", "load:5->OXM_OF_IP_DSCP[]")
            .msg
            .contains("set_field"));
    }

    #[test]
    fn instructions_come_in_execution_order() {
        assert_eq!(txt("", "meter:3,output:1"), "meter:3,output:1");
        assert_eq!(
            acts("", "meter:3,output:1").unwrap().0,
            vec![
                Instruction::Meter(3),
                Instruction::ApplyActions(vec![out(1, 0)])
            ]
        );
        assert_eq!(
            acts("", "goto_table:2").unwrap().0,
            vec![Instruction::GotoTable(2)]
        );
        assert_eq!(txt("", "write_metadata:0x5"), "write_metadata:0x5");
        assert_eq!(
            acts("", "write_metadata:0x5").unwrap().0,
            vec![Instruction::WriteMetadata {
                metadata: 5,
                mask: u64::MAX
            }]
        );
        assert_eq!(
            txt("", "write_metadata:0x5/0xff"),
            "write_metadata:0x5/0xff"
        );
        assert_eq!(txt("", "write_metadata:1/0"), "write_metadata:0x1/0");
        assert_eq!(
            txt("", "output:1,write_metadata:0"),
            "output:1,write_metadata:0"
        );
        assert_eq!(
            txt("", "write_actions(output:1,group:2)"),
            "write_actions(output:1,group:2)"
        );
        assert_eq!(
            txt("", "write_actions(output:1,output:2)"),
            "write_actions(output:1,output:2)"
        );
        assert_eq!(txt("", "clear_actions"), "clear_actions");
        assert_eq!(
            txt("ip", "write_actions(dec_ttl)"),
            "write_actions(dec_ttl)"
        );
        assert_eq!(
            txt("ip", "write_actions(output:1),goto_table:1"),
            "write_actions(output:1),goto_table:1"
        );
        assert_eq!(
            txt("ip", "output:1,write_actions(output:1)"),
            "output:1,write_actions(output:1)"
        );
        // ovs-ofctl drops an empty write_actions (and prints one from the wire).
        assert_eq!(txt("", "write_actions(drop)"), "drop");
        assert_eq!(txt("", "write_actions()"), "drop");
        let full = "meter:2,output:3,clear_actions,write_actions(group:1),write_metadata:0x5/0xff,goto_table:3";
        assert_eq!(txt("ip", full), full);
        assert_eq!(
            acts("ip", full).unwrap().0,
            vec![
                Instruction::Meter(2),
                Instruction::ApplyActions(vec![out(3, 0)]),
                Instruction::ClearActions,
                Instruction::WriteActions(vec![Action::Group(1)]),
                Instruction::WriteMetadata {
                    metadata: 5,
                    mask: 0xff
                },
                Instruction::GotoTable(3),
            ]
        );
        // Whatever the list order, printing follows execution order.
        assert_eq!(
            format_actions(&[
                Instruction::GotoTable(3),
                Instruction::ApplyActions(vec![out(1, 0)])
            ]),
            "output:1,goto_table:3"
        );
        assert_eq!(format_actions(&[Instruction::ApplyActions(vec![])]), "drop");
        assert_eq!(
            format_actions(&[
                Instruction::WriteActions(vec![]),
                Instruction::ApplyActions(vec![])
            ]),
            "write_actions(drop)"
        );
        for (a, msg) in [
            (
                "write_actions(output:1),output:2",
                "invalid instruction ordering: apply_actions must appear before write_actions",
            ),
            (
                "goto_table:1,output:2",
                "invalid instruction ordering: apply_actions must appear before goto_table",
            ),
            (
                "clear_actions,output:2",
                "invalid instruction ordering: apply_actions must appear before clear_actions",
            ),
            (
                "output:1,meter:1",
                "invalid instruction ordering: meter must appear before apply_actions",
            ),
            (
                "write_metadata:0,output:1",
                "invalid instruction ordering: apply_actions must appear before write_metadata",
            ),
            (
                "meter:2,write_metadata:0x5/0xff,goto_table:3,write_actions(group:1)",
                "invalid instruction ordering: write_actions must appear before goto_table",
            ),
            ("meter:1,meter:2", "duplicate meter instruction not allowed"),
            (
                "goto_table:1,goto_table:2",
                "duplicate goto_table instruction not allowed",
            ),
            (
                "write_actions(meter:1)",
                "meter: instruction not allowed inside write_actions",
            ),
            (
                "write_actions(goto_table:1)",
                "goto_table: instruction not allowed inside write_actions",
            ),
            (
                "write_actions(write_actions(output:1))",
                "write_actions: instruction not allowed inside write_actions",
            ),
            (
                "drop,output:1",
                "\"drop\" must not be accompanied by any other action or instruction",
            ),
            (
                "output:1,drop",
                "\"drop\" must not be accompanied by any other action or instruction",
            ),
            ("goto_table:0", "OFPBIC_BAD_TABLE_ID"),
            ("meter:0", "invalid meter id"),
            ("meter:0xffffffff", "invalid meter id"),
            ("write_actions(output:1", "missing ')'"),
            ("output:1)", "unbalanced ')'"),
            ("output: 1", "output to unknown port"),
            ("output:0xfffffffd", "output to unknown port"),
            ("output:ANY", "not a valid output port"),
            ("output:65535", "not a valid output port"),
            ("65280", "not a valid output port"),
            ("output:1:2", "output to unknown port"),
            ("CONTROLLER:65536", "invalid max_len"),
            ("output(port=1,max_len=100)", "output_trunc"),
            ("bogus:1", "unknown action bogus"),
            ("priority=5", "unknown action priority"),
        ] {
            let e = err("ip", a);
            assert!(e.msg.contains(msg), "{a}: {e}");
            assert!(a[e.pos..].starts_with(&e.token), "{a}: {e:?}");
        }
        assert_eq!(err("ip", "output:1,bogus:2").pos, 9);
    }
}
