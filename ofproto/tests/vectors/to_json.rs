//! Our typed [`Message`] in os-ken's `to_jsondict()` shape, one small function
//! per class family: OXM/match, actions, instructions, buckets/bands/queues,
//! messages, multipart requests and replies, table features.
//!
//! Lengths os-ken reads off the wire (`len`, `length`, `actions_len`, match
//! `length`, ...) are taken from the bytes our encoder writes for that
//! structure, at that structure's length field, never recomputed here.
//!
//! Experimenter content is not decoded by the codec, so it becomes a
//! *wildcard object* (see `compare.rs`): a class key starting with `?` that
//! lists the os-ken classes it may stand for, and only the identity keys.

use super::compare::{b64, hex, nonbasic_oxm_value_len, ONF_EXPERIMENTER_ID};
use bytes::BytesMut;
use ofproto::action::Action;
use ofproto::group::Bucket;
use ofproto::instruction::Instruction;
use ofproto::message::{ErrorMsg, HelloElem, Message};
use ofproto::meter::MeterBand;
use ofproto::multipart::{
    MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use ofproto::oxm::{Match, OxmField, OxmRaw};
use ofproto::port::PortDesc;
use ofproto::queue::{PacketQueue, QueueProp};
use serde_json::{json, Map, Value};

/// Nicira's experimenter id.
const NX_EXPERIMENTER_ID: u32 = 0x0000_2320;

// ---------------------------------------------------------------- helpers

/// `{"<class>": {fields...}}`.
pub fn class(name: &str, fields: Vec<(&str, Value)>) -> Value {
    let inner: Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut m = Map::new();
    m.insert(name.to_string(), Value::Object(inner));
    Value::Object(m)
}

/// The bytes `f` appends to an empty buffer.
fn emitted(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut b = BytesMut::new();
    f(&mut b);
    b.to_vec()
}

/// Big-endian u16 at `at` of `b`, as JSON (0xffff_ffff... if out of range, so
/// a too-short structure shows up as a mismatch rather than a panic).
fn be16(b: &[u8], at: usize) -> Value {
    match b.get(at..at + 2) {
        Some(s) => json!(u16::from_be_bytes([s[0], s[1]])),
        None => json!(format!(
            "<no u16 at offset {at} of {} emitted bytes>",
            b.len()
        )),
    }
}

fn bytes_list(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&x| json!(x)).collect())
}

// ---------------------------------------------------------------- OXM / match

/// os-ken's name, value and mask of an OpenFlow-basic field; `None` for a raw
/// (non-basic) OXM.
fn basic_oxm(f: &OxmField) -> Option<(&'static str, Value, Option<Value>)> {
    use OxmField::*;
    fn s<T: ToString>(v: &T) -> Value {
        Value::String(v.to_string())
    }
    fn ms<T: ToString>(m: &Option<T>) -> Option<Value> {
        m.as_ref().map(s)
    }
    fn mn<T: Into<Value> + Copy>(m: &Option<T>) -> Option<Value> {
        m.map(Into::into)
    }
    Some(match f {
        InPort(v) => ("in_port", json!(v), None),
        InPhyPort(v) => ("in_phy_port", json!(v), None),
        Metadata(v, m) => ("metadata", json!(v), mn(m)),
        EthDst(v, m) => ("eth_dst", s(v), ms(m)),
        EthSrc(v, m) => ("eth_src", s(v), ms(m)),
        EthType(v) => ("eth_type", json!(v), None),
        VlanVid(v, m) => ("vlan_vid", json!(v), mn(m)),
        VlanPcp(v) => ("vlan_pcp", json!(v), None),
        IpDscp(v) => ("ip_dscp", json!(v), None),
        IpEcn(v) => ("ip_ecn", json!(v), None),
        IpProto(v) => ("ip_proto", json!(v), None),
        Ipv4Src(v, m) => ("ipv4_src", s(v), ms(m)),
        Ipv4Dst(v, m) => ("ipv4_dst", s(v), ms(m)),
        TcpSrc(v) => ("tcp_src", json!(v), None),
        TcpDst(v) => ("tcp_dst", json!(v), None),
        UdpSrc(v) => ("udp_src", json!(v), None),
        UdpDst(v) => ("udp_dst", json!(v), None),
        SctpSrc(v) => ("sctp_src", json!(v), None),
        SctpDst(v) => ("sctp_dst", json!(v), None),
        Icmpv4Type(v) => ("icmpv4_type", json!(v), None),
        Icmpv4Code(v) => ("icmpv4_code", json!(v), None),
        ArpOp(v) => ("arp_op", json!(v), None),
        ArpSpa(v, m) => ("arp_spa", s(v), ms(m)),
        ArpTpa(v, m) => ("arp_tpa", s(v), ms(m)),
        ArpSha(v, m) => ("arp_sha", s(v), ms(m)),
        ArpTha(v, m) => ("arp_tha", s(v), ms(m)),
        Ipv6Src(v, m) => ("ipv6_src", s(v), ms(m)),
        Ipv6Dst(v, m) => ("ipv6_dst", s(v), ms(m)),
        Ipv6Flabel(v, m) => ("ipv6_flabel", json!(v), mn(m)),
        Icmpv6Type(v) => ("icmpv6_type", json!(v), None),
        Icmpv6Code(v) => ("icmpv6_code", json!(v), None),
        Ipv6NdTarget(v) => ("ipv6_nd_target", s(v), None),
        Ipv6NdSll(v) => ("ipv6_nd_sll", s(v), None),
        Ipv6NdTll(v) => ("ipv6_nd_tll", s(v), None),
        MplsLabel(v) => ("mpls_label", json!(v), None),
        MplsTc(v) => ("mpls_tc", json!(v), None),
        MplsBos(v) => ("mpls_bos", json!(v), None),
        PbbIsid(v, m) => ("pbb_isid", json!(v), mn(m)),
        TunnelId(v, m) => ("tunnel_id", json!(v), mn(m)),
        Ipv6Exthdr(v, m) => ("ipv6_exthdr", json!(v), mn(m)),
        Raw(_) => return None,
    })
}

/// One OXM TLV: `OXMTlv`, or a wildcard for a non-basic one (compared by
/// identity: "not OpenFlow-basic", name where we know it, value/mask sizes).
pub fn oxm(f: &OxmField) -> Value {
    match (basic_oxm(f), f) {
        (Some((name, value, mask)), _) => class(
            "OXMTlv",
            vec![
                ("field", json!(name)),
                ("mask", mask.unwrap_or(Value::Null)),
                ("value", value),
            ],
        ),
        (None, OxmField::Raw(r)) => nonbasic_oxm(r),
        (None, _) => unreachable!("basic_oxm covers every typed field"),
    }
}

fn nonbasic_oxm(r: &OxmRaw) -> Value {
    let (value_len, mask_len) = nonbasic_oxm_value_len(r.class, r.hasmask, &r.body);
    let payload = &r.body[r.body.len() - value_len - mask_len.unwrap_or(0)..];
    class(
        "?OXMTlv",
        vec![
            ("class", json!(r.class)),
            ("field", json!(r.field)),
            ("exp_type", exp_type_of_raw(r)),
            ("value_len", json!(value_len)),
            ("mask_len", mask_len.map_or(Value::Null, |m| json!(m))),
            ("value_hex", json!(hex(&payload[..value_len]))),
            ("mask_hex", json!(hex(&payload[value_len..]))),
        ],
    )
}

/// For an ONF experimenter OXM (class 0xffff), its 2-byte exp_type.
fn exp_type_of_raw(r: &OxmRaw) -> Value {
    if r.class == 0xffff && r.body.len() >= 6 && r.body[..4] == ONF_EXPERIMENTER_ID.to_be_bytes() {
        json!(u16::from_be_bytes([r.body[4], r.body[5]]))
    } else {
        Value::Null
    }
}

pub fn match_(m: &Match) -> Value {
    let w = emitted(|b| m.emit(b));
    class(
        "OFPMatch",
        vec![
            ("length", be16(&w, 2)),
            (
                "oxm_fields",
                Value::Array(m.fields.iter().map(oxm).collect()),
            ),
            ("type", be16(&w, 0)),
        ],
    )
}

// ---------------------------------------------------------------- actions

pub fn action(a: &Action) -> Value {
    let w = emitted(|b| a.emit(b));
    let (ty, len) = (be16(&w, 0), be16(&w, 2));
    let plain = |name: &str| class(name, vec![("len", len.clone()), ("type", ty.clone())]);
    let with = |name: &str, key: &'static str, v: Value| {
        class(
            name,
            vec![(key, v), ("len", len.clone()), ("type", ty.clone())],
        )
    };
    match a {
        Action::Output { port, max_len } => class(
            "OFPActionOutput",
            vec![
                ("len", len.clone()),
                ("max_len", json!(max_len)),
                ("port", json!(port)),
                ("type", ty.clone()),
            ],
        ),
        Action::CopyTtlOut => plain("OFPActionCopyTtlOut"),
        Action::CopyTtlIn => plain("OFPActionCopyTtlIn"),
        Action::DecMplsTtl => plain("OFPActionDecMplsTtl"),
        Action::PopVlan => plain("OFPActionPopVlan"),
        Action::DecNwTtl => plain("OFPActionDecNwTtl"),
        Action::PopPbb => plain("OFPActionPopPbb"),
        Action::SetMplsTtl(t) => with("OFPActionSetMplsTtl", "mpls_ttl", json!(t)),
        Action::SetNwTtl(t) => with("OFPActionSetNwTtl", "nw_ttl", json!(t)),
        Action::PushVlan(e) => with("OFPActionPushVlan", "ethertype", json!(e)),
        Action::PushMpls(e) => with("OFPActionPushMpls", "ethertype", json!(e)),
        Action::PushPbb(e) => with("OFPActionPushPbb", "ethertype", json!(e)),
        Action::PopMpls(e) => with("OFPActionPopMpls", "ethertype", json!(e)),
        Action::SetQueue(q) => with("OFPActionSetQueue", "queue_id", json!(q)),
        Action::Group(g) => with("OFPActionGroup", "group_id", json!(g)),
        Action::SetField(f) => with("OFPActionSetField", "field", oxm(f)),
        Action::Experimenter { experimenter, data } => {
            experimenter_action(*experimenter, data, len, ty)
        }
    }
}

/// Nicira actions: experimenter, subtype (the 2 bytes after the id), len,
/// type, and (for `NXActionUnknown`) the bytes after the subtype. Other
/// experimenters: experimenter, len, type and the bytes after the id.
fn experimenter_action(experimenter: u32, data: &[u8], len: Value, ty: Value) -> Value {
    if experimenter == NX_EXPERIMENTER_ID {
        let subtype = be16(data, 0);
        class(
            "?NXAction*",
            vec![
                ("experimenter", json!(experimenter)),
                ("subtype", subtype),
                ("len", len),
                ("type", ty),
                ("data?", json!(b64(data.get(2..).unwrap_or(&[])))),
            ],
        )
    } else {
        class(
            "?OFPActionExperimenter*|ONFAction*",
            vec![
                ("experimenter", json!(experimenter)),
                ("len", len),
                ("type", ty),
                ("data?", json!(b64(data))),
            ],
        )
    }
}

pub fn actions(l: &[Action]) -> Value {
    Value::Array(l.iter().map(action).collect())
}

// ---------------------------------------------------------------- instructions

pub fn instruction(i: &Instruction) -> Value {
    let w = emitted(|b| i.emit(b));
    let (ty, len) = (be16(&w, 0), be16(&w, 2));
    match i {
        Instruction::GotoTable(t) => class(
            "OFPInstructionGotoTable",
            vec![("len", len), ("table_id", json!(t)), ("type", ty)],
        ),
        Instruction::WriteMetadata { metadata, mask } => class(
            "OFPInstructionWriteMetadata",
            vec![
                ("len", len),
                ("metadata", json!(metadata)),
                ("metadata_mask", json!(mask)),
                ("type", ty),
            ],
        ),
        Instruction::WriteActions(l) | Instruction::ApplyActions(l) => class(
            "OFPInstructionActions",
            vec![("actions", actions(l)), ("len", len), ("type", ty)],
        ),
        Instruction::ClearActions => class(
            "OFPInstructionActions",
            vec![("actions", json!([])), ("len", len), ("type", ty)],
        ),
        Instruction::Meter(m) => class(
            "OFPInstructionMeter",
            vec![("len", len), ("meter_id", json!(m)), ("type", ty)],
        ),
        Instruction::Experimenter { experimenter, data } => class(
            "?OFPInstructionExperimenter*|NXInstruction*|ONFInstruction*",
            vec![
                ("experimenter", json!(experimenter)),
                ("len", len),
                ("type", ty),
                ("data?", json!(b64(data))),
            ],
        ),
    }
}

pub fn instructions(l: &[Instruction]) -> Value {
    Value::Array(l.iter().map(instruction).collect())
}

// ---------------------------------------------------------------- buckets, bands, queues, ports

pub fn bucket(b: &Bucket) -> Value {
    let w = emitted(|buf| b.emit(buf));
    class(
        "OFPBucket",
        vec![
            ("actions", actions(&b.actions)),
            ("len", be16(&w, 0)),
            ("watch_group", json!(b.watch_group)),
            ("watch_port", json!(b.watch_port)),
            ("weight", json!(b.weight)),
        ],
    )
}

pub fn buckets(l: &[Bucket]) -> Value {
    Value::Array(l.iter().map(bucket).collect())
}

pub fn meter_band(band: &MeterBand) -> Value {
    let w = emitted(|b| band.emit(b));
    let (ty, len) = (be16(&w, 0), be16(&w, 2));
    match band {
        MeterBand::Drop { rate, burst_size } => class(
            "OFPMeterBandDrop",
            vec![
                ("burst_size", json!(burst_size)),
                ("len", len),
                ("rate", json!(rate)),
                ("type", ty),
            ],
        ),
        MeterBand::DscpRemark {
            rate,
            burst_size,
            prec_level,
        } => class(
            "OFPMeterBandDscpRemark",
            vec![
                ("burst_size", json!(burst_size)),
                ("len", len),
                ("prec_level", json!(prec_level)),
                ("rate", json!(rate)),
                ("type", ty),
            ],
        ),
        MeterBand::Experimenter {
            rate,
            burst_size,
            experimenter,
            data,
        } => class(
            "?OFPMeterBandExperimenter",
            vec![
                ("burst_size", json!(burst_size)),
                ("experimenter", json!(experimenter)),
                ("len", len),
                ("rate", json!(rate)),
                ("type", ty),
                ("data?", json!(b64(data))),
            ],
        ),
    }
}

pub fn meter_bands(l: &[MeterBand]) -> Value {
    Value::Array(l.iter().map(meter_band).collect())
}

pub fn queue_prop(p: &QueueProp) -> Value {
    let w = emitted(|b| p.emit(b));
    let (property, len) = (be16(&w, 0), be16(&w, 2));
    match p {
        QueueProp::MinRate(r) => class(
            "OFPQueuePropMinRate",
            vec![("len", len), ("property", property), ("rate", json!(r))],
        ),
        QueueProp::MaxRate(r) => class(
            "OFPQueuePropMaxRate",
            vec![("len", len), ("property", property), ("rate", json!(r))],
        ),
        // os-ken carries the data of this one as a list of byte values.
        QueueProp::Experimenter { experimenter, data } => class(
            "OFPQueuePropExperimenter",
            vec![
                ("data", bytes_list(data)),
                ("experimenter", json!(experimenter)),
                ("len", len),
                ("property", property),
            ],
        ),
        QueueProp::Unknown { .. } => {
            class("?OFPQueueProp*", vec![("len", len), ("property", property)])
        }
    }
}

pub fn packet_queue(q: &PacketQueue) -> Value {
    let w = emitted(|b| q.emit(b));
    class(
        "OFPPacketQueue",
        vec![
            ("len", be16(&w, 8)),
            ("port", json!(q.port)),
            (
                "properties",
                Value::Array(q.properties.iter().map(queue_prop).collect()),
            ),
            ("queue_id", json!(q.queue_id)),
        ],
    )
}

pub fn port(p: &PortDesc) -> Value {
    class(
        "OFPPort",
        vec![
            ("advertised", json!(p.advertised)),
            ("config", json!(p.config)),
            ("curr", json!(p.curr)),
            ("curr_speed", json!(p.curr_speed)),
            ("hw_addr", json!(p.hw_addr.to_string())),
            ("max_speed", json!(p.max_speed)),
            ("name", json!(p.name)),
            ("peer", json!(p.peer)),
            ("port_no", json!(p.port_no)),
            ("state", json!(p.state)),
            ("supported", json!(p.supported)),
        ],
    )
}

// ---------------------------------------------------------------- messages

fn hello_elem(e: &HelloElem) -> Value {
    let w = emitted(|b| e.emit(b));
    let (ty, length) = (be16(&w, 0), be16(&w, 2));
    match e {
        HelloElem::VersionBitmap(words) => {
            let versions: Vec<Value> = words
                .iter()
                .enumerate()
                .flat_map(|(i, word)| {
                    (0..32)
                        .filter(move |bit| word & (1u32 << bit) != 0)
                        .map(move |bit| json!(i * 32 + bit))
                })
                .collect();
            class(
                "OFPHelloElemVersionBitmap",
                vec![
                    ("length", length),
                    ("type", ty),
                    ("versions", Value::Array(versions)),
                ],
            )
        }
        HelloElem::Unknown { .. } => {
            class("?OFPHelloElem*", vec![("length", length), ("type", ty)])
        }
    }
}

fn error_msg(e: &ErrorMsg) -> Value {
    match e {
        ErrorMsg::Standard { code, data } => class(
            "OFPErrorMsg",
            vec![
                ("code", json!(code.code)),
                ("data", json!(b64(data))),
                ("type", json!(code.ty)),
            ],
        ),
        ErrorMsg::Experimenter {
            exp_type,
            experimenter,
            data,
        } => class(
            "OFPErrorMsg",
            vec![
                ("code", Value::Null),
                ("data", json!(b64(data))),
                ("exp_type", json!(exp_type)),
                ("experimenter", json!(experimenter)),
                ("type", json!(ofproto::error::OFPET_EXPERIMENTER)),
            ],
        ),
    }
}

/// The whole message, as os-ken's `to_jsondict()` of the decoded message.
pub fn message(m: &Message) -> Value {
    use Message as M;
    let empty = |name: &str| class(name, vec![]);
    match m {
        M::Hello(h) => class(
            "OFPHello",
            vec![(
                "elements",
                Value::Array(h.elements.iter().map(hello_elem).collect()),
            )],
        ),
        M::Error(e) => error_msg(e),
        M::EchoRequest(d) => class("OFPEchoRequest", vec![("data", json!(b64(d)))]),
        M::EchoReply(d) => class("OFPEchoReply", vec![("data", json!(b64(d)))]),
        M::Experimenter(x) => class(
            "OFPExperimenter",
            vec![
                ("data", json!(b64(&x.data))),
                ("exp_type", json!(x.exp_type)),
                ("experimenter", json!(x.experimenter)),
            ],
        ),
        M::FeaturesRequest => empty("OFPFeaturesRequest"),
        M::FeaturesReply(f) => class(
            "OFPSwitchFeatures",
            vec![
                ("auxiliary_id", json!(f.auxiliary_id)),
                ("capabilities", json!(f.capabilities)),
                ("datapath_id", json!(f.datapath_id)),
                ("n_buffers", json!(f.n_buffers)),
                ("n_tables", json!(f.n_tables)),
            ],
        ),
        M::GetConfigRequest => empty("OFPGetConfigRequest"),
        M::GetConfigReply(c) | M::SetConfig(c) => class(
            if matches!(m, M::SetConfig(_)) {
                "OFPSetConfig"
            } else {
                "OFPGetConfigReply"
            },
            vec![
                ("flags", json!(c.flags)),
                ("miss_send_len", json!(c.miss_send_len)),
            ],
        ),
        M::PacketIn(p) => class(
            "OFPPacketIn",
            vec![
                ("buffer_id", json!(p.buffer_id)),
                ("cookie", json!(p.cookie)),
                ("data", json!(b64(&p.data))),
                ("match", match_(&p.match_)),
                ("reason", json!(p.reason)),
                ("table_id", json!(p.table_id)),
                ("total_len", json!(p.total_len)),
            ],
        ),
        M::FlowRemoved(f) => class(
            "OFPFlowRemoved",
            vec![
                ("byte_count", json!(f.byte_count)),
                ("cookie", json!(f.cookie)),
                ("duration_nsec", json!(f.duration_nsec)),
                ("duration_sec", json!(f.duration_sec)),
                ("hard_timeout", json!(f.hard_timeout)),
                ("idle_timeout", json!(f.idle_timeout)),
                ("match", match_(&f.match_)),
                ("packet_count", json!(f.packet_count)),
                ("priority", json!(f.priority)),
                ("reason", json!(f.reason)),
                ("table_id", json!(f.table_id)),
            ],
        ),
        M::PortStatus(p) => class(
            "OFPPortStatus",
            vec![("desc", port(&p.desc)), ("reason", json!(p.reason))],
        ),
        M::PacketOut(p) => {
            let actions_len = emitted(|b| p.actions.iter().for_each(|a| a.emit(b))).len();
            class(
                "OFPPacketOut",
                vec![
                    ("actions", actions(&p.actions)),
                    ("actions_len", json!(actions_len)),
                    ("buffer_id", json!(p.buffer_id)),
                    ("data", json!(b64(&p.data))),
                    ("in_port", json!(p.in_port)),
                ],
            )
        }
        M::FlowMod(f) => class(
            "OFPFlowMod",
            vec![
                ("buffer_id", json!(f.buffer_id)),
                ("command", json!(f.command)),
                ("cookie", json!(f.cookie)),
                ("cookie_mask", json!(f.cookie_mask)),
                ("flags", json!(f.flags)),
                ("hard_timeout", json!(f.hard_timeout)),
                ("idle_timeout", json!(f.idle_timeout)),
                ("instructions", instructions(&f.instructions)),
                ("match", match_(&f.match_)),
                ("out_group", json!(f.out_group)),
                ("out_port", json!(f.out_port)),
                ("priority", json!(f.priority)),
                ("table_id", json!(f.table_id)),
            ],
        ),
        M::GroupMod(g) => class(
            "OFPGroupMod",
            vec![
                ("buckets", buckets(&g.buckets)),
                ("command", json!(g.command)),
                ("group_id", json!(g.group_id)),
                ("type", json!(g.group_type)),
            ],
        ),
        M::PortMod(p) => class(
            "OFPPortMod",
            vec![
                ("advertise", json!(p.advertise)),
                ("config", json!(p.config)),
                ("hw_addr", json!(p.hw_addr.to_string())),
                ("mask", json!(p.mask)),
                ("port_no", json!(p.port_no)),
            ],
        ),
        M::TableMod(t) => class(
            "OFPTableMod",
            vec![("config", json!(t.config)), ("table_id", json!(t.table_id))],
        ),
        M::MultipartRequest(r) => multipart_request(r),
        M::MultipartReply(r) => multipart_reply(r),
        M::BarrierRequest => empty("OFPBarrierRequest"),
        M::BarrierReply => empty("OFPBarrierReply"),
        M::QueueGetConfigRequest(q) => {
            class("OFPQueueGetConfigRequest", vec![("port", json!(q.port))])
        }
        M::QueueGetConfigReply(q) => class(
            "OFPQueueGetConfigReply",
            vec![
                ("port", json!(q.port)),
                (
                    "queues",
                    Value::Array(q.queues.iter().map(packet_queue).collect()),
                ),
            ],
        ),
        M::RoleRequest(r) | M::RoleReply(r) => class(
            if matches!(m, M::RoleRequest(_)) {
                "OFPRoleRequest"
            } else {
                "OFPRoleReply"
            },
            vec![
                ("generation_id", json!(r.generation_id)),
                ("role", json!(r.role)),
            ],
        ),
        M::GetAsyncRequest => empty("OFPGetAsyncRequest"),
        M::GetAsyncReply(a) | M::SetAsync(a) => class(
            if matches!(m, M::SetAsync(_)) {
                "OFPSetAsync"
            } else {
                "OFPGetAsyncReply"
            },
            vec![
                ("flow_removed_mask", json!(a.flow_removed_mask)),
                ("packet_in_mask", json!(a.packet_in_mask)),
                ("port_status_mask", json!(a.port_status_mask)),
            ],
        ),
        M::MeterMod(mm) => class(
            "OFPMeterMod",
            vec![
                ("bands", meter_bands(&mm.bands)),
                ("command", json!(mm.command)),
                ("flags", json!(mm.flags)),
                ("meter_id", json!(mm.meter_id)),
            ],
        ),
    }
}

// ---------------------------------------------------------------- multipart

/// `{"<class>": {"flags": .., "type": .., extra...}}`: a multipart message.
fn mp(name: &str, flags: u16, ty: u16, extra: Vec<(&str, Value)>) -> Value {
    let mut fields = vec![("flags", json!(flags)), ("type", json!(ty))];
    fields.extend(extra);
    class(name, fields)
}

fn multipart_request(r: &MultipartRequest) -> Value {
    use MultipartRequestBody as B;
    let (flags, ty) = (r.flags, r.mp_type());
    let none = |name: &str| mp(name, flags, ty, vec![]);
    match &r.body {
        B::Desc => none("OFPDescStatsRequest"),
        B::Flow(q) | B::Aggregate(q) => mp(
            if matches!(r.body, B::Flow(_)) {
                "OFPFlowStatsRequest"
            } else {
                "OFPAggregateStatsRequest"
            },
            flags,
            ty,
            vec![
                ("cookie", json!(q.cookie)),
                ("cookie_mask", json!(q.cookie_mask)),
                ("match", match_(&q.match_)),
                ("out_group", json!(q.out_group)),
                ("out_port", json!(q.out_port)),
                ("table_id", json!(q.table_id)),
            ],
        ),
        B::Table => none("OFPTableStatsRequest"),
        B::PortStats(q) => mp(
            "OFPPortStatsRequest",
            flags,
            ty,
            vec![("port_no", json!(q.port_no))],
        ),
        B::Queue(q) => mp(
            "OFPQueueStatsRequest",
            flags,
            ty,
            vec![
                ("port_no", json!(q.port_no)),
                ("queue_id", json!(q.queue_id)),
            ],
        ),
        B::Group(q) => mp(
            "OFPGroupStatsRequest",
            flags,
            ty,
            vec![("group_id", json!(q.group_id))],
        ),
        B::GroupDesc => none("OFPGroupDescStatsRequest"),
        B::GroupFeatures => none("OFPGroupFeaturesStatsRequest"),
        B::Meter(q) => mp(
            "OFPMeterStatsRequest",
            flags,
            ty,
            vec![("meter_id", json!(q.meter_id))],
        ),
        B::MeterConfig(q) => mp(
            "OFPMeterConfigStatsRequest",
            flags,
            ty,
            vec![("meter_id", json!(q.meter_id))],
        ),
        B::MeterFeatures => none("OFPMeterFeaturesStatsRequest"),
        B::TableFeatures(l) => mp(
            "OFPTableFeaturesStatsRequest",
            flags,
            ty,
            vec![("body", super::table_features::list(l))],
        ),
        B::PortDesc => none("OFPPortDescStatsRequest"),
        // os-ken decodes ONF/Nicira experimenter requests it knows (e.g.
        // ONFFlowMonitorStatsRequest) into their own body: identity only,
        // plus the body size ("@body_len", see compare.rs).
        B::Experimenter(x) => mp(
            "?OFPExperimenterStatsRequest|ONF*StatsRequest|NX*StatsRequest",
            flags,
            ty,
            vec![
                ("experimenter", json!(x.experimenter)),
                ("exp_type", json!(x.exp_type)),
                ("data?", json!(b64(&x.data))),
                ("@body_len", json!(x.data.len())),
            ],
        ),
    }
}

fn list<T>(l: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::Array(l.iter().map(f).collect())
}

fn multipart_reply(r: &MultipartReply) -> Value {
    use MultipartReplyBody as B;
    let (flags, ty) = (r.flags, r.mp_type());
    let reply = |name: &str, body: Value| mp(name, flags, ty, vec![("body", body)]);
    match &r.body {
        B::Desc(d) => reply(
            "OFPDescStatsReply",
            class(
                "OFPDescStats",
                vec![
                    ("dp_desc", json!(d.dp_desc)),
                    ("hw_desc", json!(d.hw_desc)),
                    ("mfr_desc", json!(d.mfr_desc)),
                    ("serial_num", json!(d.serial_num)),
                    ("sw_desc", json!(d.sw_desc)),
                ],
            ),
        ),
        B::Flow(l) => reply("OFPFlowStatsReply", list(l, stats::flow)),
        B::Aggregate(a) => reply(
            "OFPAggregateStatsReply",
            class(
                "OFPAggregateStats",
                vec![
                    ("byte_count", json!(a.byte_count)),
                    ("flow_count", json!(a.flow_count)),
                    ("packet_count", json!(a.packet_count)),
                ],
            ),
        ),
        B::Table(l) => reply("OFPTableStatsReply", list(l, stats::table)),
        B::PortStats(l) => reply("OFPPortStatsReply", list(l, stats::port)),
        B::Queue(l) => reply("OFPQueueStatsReply", list(l, stats::queue)),
        B::Group(l) => reply("OFPGroupStatsReply", list(l, stats::group)),
        B::GroupDesc(l) => reply("OFPGroupDescStatsReply", list(l, stats::group_desc)),
        B::GroupFeatures(g) => reply(
            "OFPGroupFeaturesStatsReply",
            class(
                "OFPGroupFeaturesStats",
                vec![
                    ("actions", json!(g.actions)),
                    ("capabilities", json!(g.capabilities)),
                    ("max_groups", json!(g.max_groups)),
                    ("types", json!(g.types)),
                ],
            ),
        ),
        B::Meter(l) => reply("OFPMeterStatsReply", list(l, stats::meter)),
        B::MeterConfig(l) => reply("OFPMeterConfigStatsReply", list(l, stats::meter_config)),
        // os-ken's body for this one is a one-element list.
        B::MeterFeatures(f) => reply(
            "OFPMeterFeaturesStatsReply",
            json!([class(
                "OFPMeterFeaturesStats",
                vec![
                    ("band_types", json!(f.band_types)),
                    ("capabilities", json!(f.capabilities)),
                    ("max_bands", json!(f.max_bands)),
                    ("max_color", json!(f.max_color)),
                    ("max_meter", json!(f.max_meter)),
                ],
            )]),
        ),
        B::TableFeatures(l) => reply("OFPTableFeaturesStatsReply", super::table_features::list(l)),
        B::PortDesc(l) => reply("OFPPortDescStatsReply", list(l, port)),
        B::Experimenter(x) => reply(
            "OFPExperimenterStatsReply",
            class(
                "?OFPExperimenterMultipart|ONF*|NX*",
                vec![
                    ("data?", json!(b64(&x.data))),
                    ("exp_type", json!(x.exp_type)),
                    ("experimenter", json!(x.experimenter)),
                ],
            ),
        ),
    }
}

/// The entries of multipart replies.
mod stats {
    use super::{be16, bucket, class, emitted, instructions, match_, meter_bands};
    use ofproto::multipart::{
        FlowStats, GroupDesc, GroupStats, MeterConfig, MeterStats, PortStats, QueueStats,
        TableStats,
    };
    use serde_json::{json, Value};

    pub fn flow(f: &FlowStats) -> Value {
        let w = emitted(|b| f.emit(b));
        class(
            "OFPFlowStats",
            vec![
                ("byte_count", json!(f.byte_count)),
                ("cookie", json!(f.cookie)),
                ("duration_nsec", json!(f.duration_nsec)),
                ("duration_sec", json!(f.duration_sec)),
                ("flags", json!(f.flags)),
                ("hard_timeout", json!(f.hard_timeout)),
                ("idle_timeout", json!(f.idle_timeout)),
                ("instructions", instructions(&f.instructions)),
                ("length", be16(&w, 0)),
                ("match", match_(&f.match_)),
                ("packet_count", json!(f.packet_count)),
                ("priority", json!(f.priority)),
                ("table_id", json!(f.table_id)),
            ],
        )
    }

    pub fn table(t: &TableStats) -> Value {
        class(
            "OFPTableStats",
            vec![
                ("active_count", json!(t.active_count)),
                ("lookup_count", json!(t.lookup_count)),
                ("matched_count", json!(t.matched_count)),
                ("table_id", json!(t.table_id)),
            ],
        )
    }

    pub fn port(p: &PortStats) -> Value {
        class(
            "OFPPortStats",
            vec![
                ("collisions", json!(p.collisions)),
                ("duration_nsec", json!(p.duration_nsec)),
                ("duration_sec", json!(p.duration_sec)),
                ("port_no", json!(p.port_no)),
                ("rx_bytes", json!(p.rx_bytes)),
                ("rx_crc_err", json!(p.rx_crc_err)),
                ("rx_dropped", json!(p.rx_dropped)),
                ("rx_errors", json!(p.rx_errors)),
                ("rx_frame_err", json!(p.rx_frame_err)),
                ("rx_over_err", json!(p.rx_over_err)),
                ("rx_packets", json!(p.rx_packets)),
                ("tx_bytes", json!(p.tx_bytes)),
                ("tx_dropped", json!(p.tx_dropped)),
                ("tx_errors", json!(p.tx_errors)),
                ("tx_packets", json!(p.tx_packets)),
            ],
        )
    }

    pub fn queue(q: &QueueStats) -> Value {
        class(
            "OFPQueueStats",
            vec![
                ("duration_nsec", json!(q.duration_nsec)),
                ("duration_sec", json!(q.duration_sec)),
                ("port_no", json!(q.port_no)),
                ("queue_id", json!(q.queue_id)),
                ("tx_bytes", json!(q.tx_bytes)),
                ("tx_errors", json!(q.tx_errors)),
                ("tx_packets", json!(q.tx_packets)),
            ],
        )
    }

    pub fn group(g: &GroupStats) -> Value {
        let w = emitted(|b| g.emit(b));
        let counters: Vec<Value> = g
            .bucket_stats
            .iter()
            .map(|c| {
                class(
                    "OFPBucketCounter",
                    vec![
                        ("byte_count", json!(c.byte_count)),
                        ("packet_count", json!(c.packet_count)),
                    ],
                )
            })
            .collect();
        class(
            "OFPGroupStats",
            vec![
                ("bucket_stats", Value::Array(counters)),
                ("byte_count", json!(g.byte_count)),
                ("duration_nsec", json!(g.duration_nsec)),
                ("duration_sec", json!(g.duration_sec)),
                ("group_id", json!(g.group_id)),
                ("length", be16(&w, 0)),
                ("packet_count", json!(g.packet_count)),
                ("ref_count", json!(g.ref_count)),
            ],
        )
    }

    pub fn group_desc(g: &GroupDesc) -> Value {
        let w = emitted(|b| g.emit(b));
        class(
            "OFPGroupDescStats",
            vec![
                (
                    "buckets",
                    Value::Array(g.buckets.iter().map(bucket).collect()),
                ),
                ("group_id", json!(g.group_id)),
                ("length", be16(&w, 0)),
                ("type", json!(g.group_type)),
            ],
        )
    }

    pub fn meter(m: &MeterStats) -> Value {
        let w = emitted(|b| m.emit(b));
        let bands: Vec<Value> = m
            .band_stats
            .iter()
            .map(|s| {
                class(
                    "OFPMeterBandStats",
                    vec![
                        ("byte_band_count", json!(s.byte_band_count)),
                        ("packet_band_count", json!(s.packet_band_count)),
                    ],
                )
            })
            .collect();
        class(
            "OFPMeterStats",
            vec![
                ("band_stats", Value::Array(bands)),
                ("byte_in_count", json!(m.byte_in_count)),
                ("duration_nsec", json!(m.duration_nsec)),
                ("duration_sec", json!(m.duration_sec)),
                ("flow_count", json!(m.flow_count)),
                ("len", be16(&w, 4)),
                ("meter_id", json!(m.meter_id)),
                ("packet_in_count", json!(m.packet_in_count)),
            ],
        )
    }

    pub fn meter_config(m: &MeterConfig) -> Value {
        let w = emitted(|b| m.emit(b));
        class(
            "OFPMeterConfigStats",
            vec![
                ("bands", meter_bands(&m.bands)),
                ("flags", json!(m.flags)),
                ("length", be16(&w, 0)),
                ("meter_id", json!(m.meter_id)),
            ],
        )
    }
}
