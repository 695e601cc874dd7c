//! `ofp-print`: any OpenFlow message as readable text, in the shape
//! `ovs-ofctl ofp-print` gives it (a `NAME (OF1.3) (xid=0x…):` line, then the
//! body). Flow matches and actions use the ovs-ofctl syntax of [`crate::text`].

use crate::action::Action;
use crate::consts::*;
use crate::error::ErrorCode;
use crate::header::Header;
use crate::instruction::Instruction;
use crate::message::{ErrorMsg, HelloElem, Message};
use crate::multipart::{MultipartReplyBody as Rep, MultipartRequestBody as Req};
use crate::port::PortDesc;
use crate::text;
use std::fmt::Write;

/// Decodes one message (header included) and prints it. A message that does
/// not decode prints its header, the error, and a hex dump.
pub fn ofp_print(buf: &[u8]) -> String {
    let header = match Header::parse(buf) {
        Ok((_, h)) => h,
        Err(_) => {
            return format!(
                "OpenFlow packet too short (only {} bytes):\n{}",
                buf.len(),
                hex_dump(buf)
            )
        }
    };
    match Message::decode(buf) {
        Ok((xid, msg)) => format_message(header.version, xid, &msg),
        Err(e) => {
            let name = msg_type_name(header.msg_type).unwrap_or("OFPT_UNKNOWN");
            let mut s = format!(
                "{name} ({}) (xid={:#x}): ***decode error: {e}***\n",
                version_name(header.version),
                header.xid
            );
            s += &hex_dump(buf);
            s
        }
    }
}

/// `OF1.3` for wire version 4, and so on.
pub fn version_name(v: u8) -> String {
    match v {
        1..=6 => format!("OF1.{}", v - 1),
        _ => format!("OF0x{v:02x}"),
    }
}

/// The name ovs-ofctl gives a message in its first line.
pub fn message_name(msg: &Message) -> String {
    match msg {
        Message::MultipartRequest(r) => format!("{} request", stats_name(r.mp_type())),
        Message::MultipartReply(r) => format!("{} reply", stats_name(r.mp_type())),
        m => msg_type_name(m.msg_type())
            .unwrap_or("OFPT_UNKNOWN")
            .to_string(),
    }
}

fn stats_name(mp_type: u16) -> &'static str {
    match mp_type {
        OFPMP_DESC => "OFPST_DESC",
        OFPMP_FLOW => "OFPST_FLOW",
        OFPMP_AGGREGATE => "OFPST_AGGREGATE",
        OFPMP_TABLE => "OFPST_TABLE",
        OFPMP_PORT_STATS => "OFPST_PORT",
        OFPMP_QUEUE => "OFPST_QUEUE",
        OFPMP_GROUP => "OFPST_GROUP",
        OFPMP_GROUP_DESC => "OFPST_GROUP_DESC",
        OFPMP_GROUP_FEATURES => "OFPST_GROUP_FEATURES",
        OFPMP_METER => "OFPST_METER",
        OFPMP_METER_CONFIG => "OFPST_METER_CONFIG",
        OFPMP_METER_FEATURES => "OFPST_METER_FEATURES",
        OFPMP_TABLE_FEATURES => "OFPST_TABLE_FEATURES",
        OFPMP_PORT_DESC => "OFPST_PORT_DESC",
        _ => "OFPST_EXPERIMENTER",
    }
}

/// Prints a decoded message: the header line, then the body.
pub fn format_message(version: u8, xid: u32, msg: &Message) -> String {
    let mut s = format!(
        "{} ({}) (xid={:#x}):",
        message_name(msg),
        version_name(version),
        xid
    );
    // Writing to a String cannot fail.
    let _ = write_body(&mut s, msg);
    s
}

fn write_body(s: &mut String, msg: &Message) -> std::fmt::Result {
    match msg {
        Message::Hello(h) => {
            for e in &h.elements {
                match e {
                    HelloElem::VersionBitmap(words) => {
                        let versions: Vec<String> = (0..words.len() * 32)
                            .filter(|&b| words[b / 32] & (1 << (b % 32)) != 0)
                            .map(|b| format!("{b:#04x}"))
                            .collect();
                        write!(s, "\n version bitmap: {}", versions.join(", "))?;
                    }
                    HelloElem::Unknown { ty, data } => {
                        write!(s, "\n unknown element type {ty} ({} bytes)", data.len())?
                    }
                }
            }
        }
        Message::Error(e) => write_error(s, e)?,
        Message::EchoRequest(d) | Message::EchoReply(d) => {
            write!(s, " {} bytes of payload", d.len())?;
            if !d.is_empty() {
                write!(s, "\n{}", hex_dump(d).trim_end())?;
            }
        }
        Message::Experimenter(x) => write!(
            s,
            " experimenter={:#x} exp_type={} ({} bytes of data)",
            x.experimenter,
            x.exp_type,
            x.data.len()
        )?,
        Message::FeaturesRequest
        | Message::GetConfigRequest
        | Message::BarrierRequest
        | Message::BarrierReply
        | Message::GetAsyncRequest => {}
        Message::FeaturesReply(f) => {
            write!(s, " dpid:{:016x}", f.datapath_id)?;
            write!(s, "\nn_tables:{}, n_buffers:{}", f.n_tables, f.n_buffers)?;
            if f.auxiliary_id != 0 {
                write!(s, ", auxiliary_id:{}", f.auxiliary_id)?;
            }
            write!(s, "\ncapabilities:{}", capability_names(f.capabilities))?;
        }
        Message::GetConfigReply(c) | Message::SetConfig(c) => {
            let frags = match c.flags & OFPC_FRAG_MASK {
                OFPC_FRAG_NORMAL => "normal",
                OFPC_FRAG_DROP => "drop",
                OFPC_FRAG_REASM => "reassemble",
                _ => "nx-match",
            };
            write!(s, " frags={frags} miss_send_len={}", c.miss_send_len)?;
        }
        Message::PacketIn(p) => {
            let reason = match p.reason {
                OFPR_NO_MATCH => "no_match",
                OFPR_ACTION => "action",
                OFPR_INVALID_TTL => "invalid_ttl",
                _ => "unknown",
            };
            write!(
                s,
                " table_id={} cookie={:#x} total_len={} {} (via {reason}) data_len={}",
                p.table_id,
                p.cookie,
                p.total_len,
                text::format_match(&p.match_),
                p.data.len()
            )?;
            if p.buffer_id != OFP_NO_BUFFER {
                write!(s, " buffer={:#010x}", p.buffer_id)?;
            }
            if !p.data.is_empty() {
                write!(s, "\n{}", hex_dump(&p.data).trim_end())?;
            }
        }
        Message::FlowRemoved(r) => {
            let reason = match r.reason {
                OFPRR_IDLE_TIMEOUT => "idle",
                OFPRR_HARD_TIMEOUT => "hard",
                OFPRR_DELETE => "delete",
                OFPRR_GROUP_DELETE => "group_delete",
                _ => "unknown",
            };
            write!(
                s,
                " {} reason={reason} table_id={} cookie:{:#x} duration{}s idle{} hard{} pkts{} bytes{}",
                text::format_match_with_priority(r.priority, &r.match_),
                r.table_id,
                r.cookie,
                duration(r.duration_sec, r.duration_nsec),
                r.idle_timeout,
                r.hard_timeout,
                r.packet_count,
                r.byte_count
            )?;
        }
        Message::PortStatus(p) => {
            let reason = match p.reason {
                OFPPR_ADD => "ADD",
                OFPPR_DELETE => "DEL",
                OFPPR_MODIFY => "MOD",
                _ => "UNKNOWN",
            };
            write!(s, " {reason}:")?;
            write_port(s, &p.desc)?;
        }
        Message::PacketOut(p) => {
            write!(
                s,
                " in_port={} actions={}",
                port_name(p.in_port),
                actions_text(&p.actions)
            )?;
            if p.buffer_id == OFP_NO_BUFFER {
                write!(s, " data_len={}", p.data.len())?;
                if !p.data.is_empty() {
                    write!(s, "\n{}", hex_dump(&p.data).trim_end())?;
                }
            } else {
                write!(s, " buffer={:#010x}", p.buffer_id)?;
            }
        }
        Message::FlowMod(f) => write!(s, " {}", text::format_flow_mod(f))?,
        Message::GroupMod(g) => {
            let cmd = match g.command {
                OFPGC_ADD => "ADD",
                OFPGC_MODIFY => "MOD",
                OFPGC_DELETE => "DEL",
                _ => "UNKNOWN",
            };
            write!(s, "\n {cmd} {}", text::format_group(g))?;
        }
        Message::PortMod(p) => write!(
            s,
            " port: {}: addr:{}\n     config: {:#x}\n     mask:   {:#x}\n     advertise: {:#x}",
            port_name(p.port_no),
            p.hw_addr,
            p.config,
            p.mask,
            p.advertise
        )?,
        Message::TableMod(t) => write!(
            s,
            " table_id={} config={:#x}",
            table_name(t.table_id),
            t.config
        )?,
        Message::MultipartRequest(r) => {
            if r.flags != 0 {
                write!(s, " flags={:#x}", r.flags)?;
            }
            write_mp_request(s, &r.body)?;
        }
        Message::MultipartReply(r) => {
            if r.flags & OFPMPF_REPLY_MORE != 0 {
                write!(s, " flags=[more]")?;
            }
            write_mp_reply(s, &r.body)?;
        }
        Message::QueueGetConfigRequest(q) => write!(s, " port={}", port_name(q.port))?,
        Message::QueueGetConfigReply(q) => {
            write!(s, " port={}", port_name(q.port))?;
            for queue in &q.queues {
                write!(s, "\nqueue {}:", queue.queue_id)?;
                for p in &queue.properties {
                    match p {
                        crate::queue::QueueProp::MinRate(r) => write!(s, " min_rate:{}", rate(*r))?,
                        crate::queue::QueueProp::MaxRate(r) => write!(s, " max_rate:{}", rate(*r))?,
                        crate::queue::QueueProp::Experimenter { experimenter, data } => {
                            write!(s, " experimenter:{experimenter:#x}({} bytes)", data.len())?
                        }
                        crate::queue::QueueProp::Unknown { property, data } => {
                            write!(s, " property{property}({} bytes)", data.len())?
                        }
                    }
                }
            }
        }
        Message::RoleRequest(r) | Message::RoleReply(r) => {
            let role = match r.role {
                OFPCR_ROLE_NOCHANGE => "nochange",
                OFPCR_ROLE_EQUAL => "equal",
                OFPCR_ROLE_MASTER => "master",
                OFPCR_ROLE_SLAVE => "slave",
                _ => "unknown",
            };
            write!(s, " role={role}")?;
            if r.role != OFPCR_ROLE_NOCHANGE && r.role != OFPCR_ROLE_EQUAL {
                write!(s, " generation_id={}", r.generation_id)?;
            }
        }
        Message::GetAsyncReply(a) | Message::SetAsync(a) => {
            for (i, who) in ["master", "slave"].iter().enumerate() {
                write!(
                    s,
                    "\n {who}:\n       PACKET_IN: {:#x}\n     PORT_STATUS: {:#x}\n    FLOW_REMOVED: {:#x}",
                    a.packet_in_mask[i], a.port_status_mask[i], a.flow_removed_mask[i]
                )?;
            }
        }
        Message::MeterMod(m) => {
            let cmd = match m.command {
                OFPMC_ADD => "ADD",
                OFPMC_MODIFY => "MOD",
                OFPMC_DELETE => "DEL",
                _ => "UNKNOWN",
            };
            write!(s, " {cmd} {}", text::format_meter(m))?;
        }
    }
    Ok(())
}

fn write_error(s: &mut String, e: &ErrorMsg) -> std::fmt::Result {
    match e {
        ErrorMsg::Standard { code, data } => {
            match code.code_name() {
                Some(n) => write!(s, " {n}")?,
                None => write!(s, " {}", ErrorCode::to_string(code))?,
            }
            write_offending(s, data)?;
        }
        ErrorMsg::Experimenter {
            exp_type,
            experimenter,
            data,
        } => {
            write!(s, " experimenter={experimenter:#x} exp_type={exp_type}")?;
            if !data.is_empty() {
                write!(s, "\n{}", hex_dump(data).trim_end())?;
            }
        }
    }
    Ok(())
}

/// The request an error refers to: decoded when it is whole, otherwise
/// marked as truncated and dumped in hex (as ovs-ofctl does).
fn write_offending(s: &mut String, data: &[u8]) -> std::fmt::Result {
    if data.is_empty() {
        return Ok(());
    }
    if let Ok((_, h)) = Header::parse(data) {
        if h.length as usize == data.len() {
            if let Ok((xid, m)) = Message::decode(data) {
                return write!(s, "\n{}", format_message(h.version, xid, &m));
            }
        } else if (h.length as usize) > data.len() {
            write!(
                s,
                "\n(***truncated to {} bytes from {}***)",
                data.len(),
                h.length
            )?;
        }
    }
    write!(s, "\n{}", hex_dump(data).trim_end())
}

fn write_port(s: &mut String, p: &PortDesc) -> std::fmt::Result {
    write!(
        s,
        "\n {}({}): addr:{}\n     config:     {}\n     state:      {}",
        port_name(p.port_no),
        p.name,
        p.hw_addr,
        bit_names(p.config, PORT_CONFIG_NAMES),
        bit_names(p.state, PORT_STATE_NAMES),
    )?;
    for (label, v) in [
        ("current", p.curr),
        ("advertised", p.advertised),
        ("supported", p.supported),
        ("peer", p.peer),
    ] {
        if v != 0 {
            write!(s, "\n     {label:<11} {}", bit_names(v, PORT_FEATURE_NAMES))?;
        }
    }
    write!(
        s,
        "\n     speed: {} Mbps now, {} Mbps max",
        p.curr_speed / 1000,
        p.max_speed / 1000
    )
}

fn write_mp_request(s: &mut String, body: &Req) -> std::fmt::Result {
    match body {
        Req::Flow(r) | Req::Aggregate(r) => {
            let mut parts = Vec::new();
            if r.table_id != OFPTT_ALL {
                parts.push(format!("table_id={}", r.table_id));
            }
            if r.out_port != OFPP_ANY {
                parts.push(format!("out_port={}", port_name(r.out_port)));
            }
            if r.out_group != OFPG_ANY {
                parts.push(format!("out_group={}", r.out_group));
            }
            if r.cookie_mask != 0 {
                parts.push(format!("cookie={:#x}/{:#x}", r.cookie, r.cookie_mask));
            }
            let m = text::format_match(&r.match_);
            if !m.is_empty() {
                parts.push(m);
            }
            if !parts.is_empty() {
                write!(s, " {}", parts.join(" "))?;
            }
        }
        Req::PortStats(p) => write!(s, " port_no={}", port_name(p.port_no))?,
        Req::Queue(q) => write!(
            s,
            " port={} queue={}",
            port_name(q.port_no),
            if q.queue_id == OFPQ_ALL {
                "ALL".to_string()
            } else {
                q.queue_id.to_string()
            }
        )?,
        Req::Group(g) => write!(s, " group_id={}", group_name(g.group_id))?,
        Req::Meter(m) => write!(s, " meter={}", meter_name(m.meter_id))?,
        Req::MeterConfig(m) => write!(s, " meter={}", meter_name(m.meter_id))?,
        Req::TableFeatures(t) => {
            for tf in t {
                write_table_features(s, tf)?;
            }
        }
        Req::Experimenter(x) => write!(
            s,
            " experimenter={:#x} exp_type={} ({} bytes)",
            x.experimenter,
            x.exp_type,
            x.data.len()
        )?,
        Req::Desc
        | Req::Table
        | Req::GroupDesc
        | Req::GroupFeatures
        | Req::MeterFeatures
        | Req::PortDesc => {}
    }
    Ok(())
}

fn write_mp_reply(s: &mut String, body: &Rep) -> std::fmt::Result {
    match body {
        Rep::Desc(d) => write!(
            s,
            "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: {}",
            d.mfr_desc, d.hw_desc, d.sw_desc, d.serial_num, d.dp_desc
        )?,
        Rep::Flow(flows) => {
            for f in flows {
                write!(s, "\n{}", text::format_flow_stats(f))?;
            }
        }
        Rep::Aggregate(a) => write!(
            s,
            " packet_count={} byte_count={} flow_count={}",
            a.packet_count, a.byte_count, a.flow_count
        )?,
        Rep::Table(tables) => {
            write!(s, " {} tables", tables.len())?;
            for t in tables {
                write!(
                    s,
                    "\n  {}: active={}, lookup={}, matched={}",
                    t.table_id, t.active_count, t.lookup_count, t.matched_count
                )?;
            }
        }
        Rep::PortStats(ports) => {
            write!(s, " {} ports", ports.len())?;
            for p in ports {
                write!(
                    s,
                    "\n  port {:>2}: rx pkts={}, bytes={}, drop={}, errs={}, frame={}, over={}, crc={}\n           tx pkts={}, bytes={}, drop={}, errs={}, coll={}\n           duration={}s",
                    port_name(p.port_no),
                    p.rx_packets,
                    p.rx_bytes,
                    p.rx_dropped,
                    p.rx_errors,
                    p.rx_frame_err,
                    p.rx_over_err,
                    p.rx_crc_err,
                    p.tx_packets,
                    p.tx_bytes,
                    p.tx_dropped,
                    p.tx_errors,
                    p.collisions,
                    duration(p.duration_sec, p.duration_nsec)
                )?;
            }
        }
        Rep::Queue(queues) => {
            write!(s, " {} queues", queues.len())?;
            for q in queues {
                write!(
                    s,
                    "\n  port {} queue {}: bytes={}, pkts={}, errors={}, duration={}s",
                    port_name(q.port_no),
                    q.queue_id,
                    q.tx_bytes,
                    q.tx_packets,
                    q.tx_errors,
                    duration(q.duration_sec, q.duration_nsec)
                )?;
            }
        }
        Rep::Group(groups) => {
            for g in groups {
                write!(
                    s,
                    "\n group_id={},duration={}s,ref_count={},packet_count={},byte_count={}",
                    g.group_id,
                    duration(g.duration_sec, g.duration_nsec),
                    g.ref_count,
                    g.packet_count,
                    g.byte_count
                )?;
                for (i, b) in g.bucket_stats.iter().enumerate() {
                    write!(
                        s,
                        ",bucket{i}:packet_count={},byte_count={}",
                        b.packet_count, b.byte_count
                    )?;
                }
            }
        }
        Rep::GroupDesc(groups) => {
            for g in groups {
                let gm = crate::group::GroupMod {
                    command: OFPGC_ADD,
                    group_type: g.group_type,
                    group_id: g.group_id,
                    buckets: g.buckets.clone(),
                };
                write!(s, "\n {}", text::format_group(&gm))?;
            }
        }
        Rep::GroupFeatures(f) => write!(
            s,
            "\n Group table:\n    Types:  {:#x}\n    Capabilities: {:#x}\n    max_groups: {:?}\n    actions: {:?}",
            f.types, f.capabilities, f.max_groups, f.actions
        )?,
        Rep::Meter(meters) => {
            for m in meters {
                write!(
                    s,
                    "\nmeter:{} flow_count:{} packet_in_count:{} byte_in_count:{} duration:{}s bands:",
                    m.meter_id,
                    m.flow_count,
                    m.packet_in_count,
                    m.byte_in_count,
                    duration(m.duration_sec, m.duration_nsec)
                )?;
                for (i, b) in m.band_stats.iter().enumerate() {
                    write!(
                        s,
                        "\n{i}: packet_count:{} byte_count:{}",
                        b.packet_band_count, b.byte_band_count
                    )?;
                }
            }
        }
        Rep::MeterConfig(configs) => {
            for c in configs {
                let mm = crate::meter::MeterMod {
                    command: OFPMC_ADD,
                    flags: c.flags,
                    meter_id: c.meter_id,
                    bands: c.bands.clone(),
                };
                write!(s, "\n{}", text::format_meter(&mm))?;
            }
        }
        Rep::MeterFeatures(f) => write!(
            s,
            "\nmax_meter:{} max_bands:{} max_color:{}\nband_types: {:#x}\ncapabilities: {:#x}",
            f.max_meter, f.max_bands, f.max_color, f.band_types, f.capabilities
        )?,
        Rep::TableFeatures(t) => {
            for tf in t {
                write_table_features(s, tf)?;
            }
        }
        Rep::PortDesc(ports) => {
            for p in ports {
                write_port(s, p)?;
            }
        }
        Rep::Experimenter(x) => write!(
            s,
            " experimenter={:#x} exp_type={} ({} bytes)",
            x.experimenter,
            x.exp_type,
            x.data.len()
        )?,
    }
    Ok(())
}

fn write_table_features(s: &mut String, t: &crate::multipart::TableFeatures) -> std::fmt::Result {
    write!(
        s,
        "\n  table {}:\n    name=\"{}\"\n    metadata: match={:#x} write={:#x}\n    max_entries={}\n    properties: {}",
        t.table_id,
        t.name,
        t.metadata_match,
        t.metadata_write,
        t.max_entries,
        t.properties.len()
    )
}

/// ovs-ofctl's action text for a bare action list (PACKET_OUT, buckets).
pub fn actions_text(actions: &[Action]) -> String {
    text::format_actions(&[Instruction::ApplyActions(actions.to_vec())])
}

/// A port number as ovs-ofctl prints it: reserved ports by name.
pub fn port_name(p: u32) -> String {
    reserved_port_name(p).map_or_else(|| p.to_string(), str::to_string)
}

fn table_name(t: u8) -> String {
    if t == OFPTT_ALL {
        "all".into()
    } else {
        t.to_string()
    }
}

fn group_name(g: u32) -> String {
    match g {
        OFPG_ALL => "ALL".into(),
        OFPG_ANY => "ANY".into(),
        _ => g.to_string(),
    }
}

fn meter_name(m: u32) -> String {
    match m {
        OFPM_ALL => "ALL".into(),
        OFPM_CONTROLLER => "CONTROLLER".into(),
        OFPM_SLOWPATH => "SLOWPATH".into(),
        _ => m.to_string(),
    }
}

fn rate(r: u16) -> String {
    if r > 1000 {
        "disabled".into()
    } else {
        format!("{}.{}%", r / 10, r % 10)
    }
}

fn duration(sec: u32, nsec: u32) -> String {
    format!("{}.{:03}", sec, nsec / 1_000_000)
}

const CAPABILITY_NAMES: &[(u32, &str)] = &[
    (OFPC_FLOW_STATS, "FLOW_STATS"),
    (OFPC_TABLE_STATS, "TABLE_STATS"),
    (OFPC_PORT_STATS, "PORT_STATS"),
    (OFPC_GROUP_STATS, "GROUP_STATS"),
    (OFPC_IP_REASM, "IP_REASM"),
    (OFPC_QUEUE_STATS, "QUEUE_STATS"),
    (OFPC_PORT_BLOCKED, "PORT_BLOCKED"),
];
const PORT_CONFIG_NAMES: &[(u32, &str)] = &[
    (OFPPC_PORT_DOWN, "PORT_DOWN"),
    (OFPPC_NO_RECV, "NO_RECV"),
    (OFPPC_NO_FWD, "NO_FWD"),
    (OFPPC_NO_PACKET_IN, "NO_PACKET_IN"),
];
const PORT_STATE_NAMES: &[(u32, &str)] = &[
    (OFPPS_LINK_DOWN, "LINK_DOWN"),
    (OFPPS_BLOCKED, "BLOCKED"),
    (OFPPS_LIVE, "LIVE"),
];
const PORT_FEATURE_NAMES: &[(u32, &str)] = &[
    (OFPPF_10MB_HD, "10MB-HD"),
    (OFPPF_10MB_FD, "10MB-FD"),
    (OFPPF_100MB_HD, "100MB-HD"),
    (OFPPF_100MB_FD, "100MB-FD"),
    (OFPPF_1GB_HD, "1GB-HD"),
    (OFPPF_1GB_FD, "1GB-FD"),
    (OFPPF_10GB_FD, "10GB-FD"),
    (OFPPF_40GB_FD, "40GB-FD"),
    (OFPPF_100GB_FD, "100GB-FD"),
    (OFPPF_1TB_FD, "1TB-FD"),
    (OFPPF_OTHER, "OTHER"),
    (OFPPF_COPPER, "COPPER"),
    (OFPPF_FIBER, "FIBER"),
    (OFPPF_AUTONEG, "AUTO_NEG"),
    (OFPPF_PAUSE, "AUTO_PAUSE"),
    (OFPPF_PAUSE_ASYM, "AUTO_PAUSE_ASYM"),
];

fn capability_names(bits: u32) -> String {
    let names = bit_names(bits, CAPABILITY_NAMES);
    if names == "0" {
        String::new()
    } else {
        format!(" {names}")
    }
}

/// Set bits by name, unknown ones in hex, `0` when none.
fn bit_names(bits: u32, names: &[(u32, &str)]) -> String {
    let mut out: Vec<String> = names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known: u32 = names.iter().map(|(b, _)| b).fold(0, |a, b| a | b);
    if bits & !known != 0 {
        out.push(format!("{:#x}", bits & !known));
    }
    if out.is_empty() {
        "0".into()
    } else {
        out.join(" ")
    }
}

/// Hex dump in ovs-ofctl's layout: offset, 16 bytes (a `-` after the 8th),
/// then the printable characters.
pub fn hex_dump(data: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let _ = write!(s, "{:08x} ", i * 16);
        for j in 0..16 {
            let sep = if j == 8 { '-' } else { ' ' };
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(s, "{}{b:02x}", if j == 0 { ' ' } else { sep });
                }
                None => s.push_str("   "),
            }
        }
        s.push_str(" |");
        s.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        s.push_str("|\n");
    }
    s
}

/// Parses the hex `tapflow ofp-print` accepts: digits with optional
/// whitespace, `0x` prefix, and `:`/`-` separators.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b':' && *c != b'-')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}): each byte needs two",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|t| u8::from_str_radix(t, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "invalid hex byte '{}' at byte {i}",
                        String::from_utf8_lossy(p)
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{FlowMod, SwitchConfig};

    #[test]
    fn prints_header_line_with_version_and_xid() {
        let m = Message::BarrierRequest;
        assert_eq!(
            ofp_print(&m.encode_to_vec(0x2a)),
            "OFPT_BARRIER_REQUEST (OF1.3) (xid=0x2a):"
        );
        let c = Message::GetConfigReply(SwitchConfig {
            flags: 0,
            miss_send_len: 128,
        });
        assert_eq!(
            ofp_print(&c.encode_to_vec(1)),
            "OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x1): frags=normal miss_send_len=128"
        );
    }

    #[test]
    fn error_prints_code_name_and_decoded_request() {
        let fm = Message::FlowMod(FlowMod {
            priority: 100,
            buffer_id: OFP_NO_BUFFER,
            out_port: OFPP_ANY,
            out_group: OFPG_ANY,
            ..Default::default()
        });
        let req = fm.encode_to_vec(2);
        let err = Message::Error(ErrorMsg::Standard {
            code: crate::error::OFPBMC_BAD_PREREQ,
            data: req.into(),
        });
        let out = ofp_print(&err.encode_to_vec(2));
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("OFPT_ERROR (OF1.3) (xid=0x2): OFPBMC_BAD_PREREQ")
        );
        assert!(lines
            .next()
            .unwrap()
            .starts_with("OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD"));
    }

    #[test]
    fn undecodable_message_prints_error_and_dump() {
        let out = ofp_print(&[4, 14, 0, 9, 0, 0, 0, 1, 0]);
        assert!(out.starts_with("OFPT_FLOW_MOD (OF1.3) (xid=0x1): ***decode error: OFPET_BAD_REQUEST OFPBRC_BAD_LEN"), "{out}");
        assert!(
            out.contains("00000000  04 0e 00 09 00 00 00 01-00"),
            "{out}"
        );
        assert!(ofp_print(&[4]).starts_with("OpenFlow packet too short"));
    }

    #[test]
    fn every_golden_vector_prints_without_panicking() {
        let dir = crate::testdata::of13_dir().join("packet");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).expect("vectors folder") {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let out = ofp_print(&bytes);
            assert!(!out.is_empty());
            if !bytes.is_empty() {
                assert!(!out.contains("decode error"), "{}: {out}", p.display());
            }
            n += 1;
        }
        assert!(n > 100);
    }

    #[test]
    fn hex_input_forms() {
        assert_eq!(
            parse_hex("0x0400 0008:0000-0001").unwrap(),
            vec![4, 0, 0, 8, 0, 0, 0, 1]
        );
        assert!(parse_hex("040").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("'zz'"));
    }
}
