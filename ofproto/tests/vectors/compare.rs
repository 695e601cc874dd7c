//! Key-by-key comparison of our JSON with os-ken's, reporting the JSON path of
//! the first difference, plus the identity rules for content the codec keeps
//! opaque (see the rules at the top of `vectors.rs`), base64, and the
//! re-derivation of os-ken's decoded `Packet` from raw packet bytes.

use serde_json::{json, Map, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

pub const ONF_EXPERIMENTER_ID: u32 = 0x4f4e_4600;

/// os-ken's names of the OpenFlow-basic (class 0x8000) OXM fields, indexed by
/// field number (OF1.3.5 §7.2.3.7).
pub const BASIC_OXM_NAMES: [&str; 40] = [
    "in_port",
    "in_phy_port",
    "metadata",
    "eth_dst",
    "eth_src",
    "eth_type",
    "vlan_vid",
    "vlan_pcp",
    "ip_dscp",
    "ip_ecn",
    "ip_proto",
    "ipv4_src",
    "ipv4_dst",
    "tcp_src",
    "tcp_dst",
    "udp_src",
    "udp_dst",
    "sctp_src",
    "sctp_dst",
    "icmpv4_type",
    "icmpv4_code",
    "arp_op",
    "arp_spa",
    "arp_tpa",
    "arp_sha",
    "arp_tha",
    "ipv6_src",
    "ipv6_dst",
    "ipv6_flabel",
    "icmpv6_type",
    "icmpv6_code",
    "ipv6_nd_target",
    "ipv6_nd_sll",
    "ipv6_nd_tll",
    "mpls_label",
    "mpls_tc",
    "mpls_bos",
    "pbb_isid",
    "tunnel_id",
    "ipv6_exthdr",
];

/// Non-basic OXMs whose os-ken name we know: (class, field, ONF exp_type, name).
/// NXM_1 numbers as in Open vSwitch's `meta-flow.h`; `reg0`..`reg15` are
/// NXM_1 fields 0..15 and handled in [`nonbasic_name`].
const NONBASIC_NAMES: &[(u16, u8, Option<u16>, &str)] = &[
    (0x0001, 31, None, "tun_ipv4_src"),
    (0x0001, 32, None, "tun_ipv4_dst"),
    (0x0001, 33, None, "pkt_mark"),
    (0x0001, 37, None, "conj_id"),
    (0x0001, 105, None, "ct_state"),
    (0x0001, 106, None, "ct_zone"),
    (0x0001, 107, None, "ct_mark"),
    (0xffff, 0, Some(2560), "pbb_uca"),
];

/// Value sizes (bytes) of the non-basic fields whose JSON value is a number.
const NONBASIC_SIZES: &[(&str, usize)] = &[
    ("pkt_mark", 4),
    ("conj_id", 4),
    ("ct_state", 4),
    ("ct_zone", 2),
    ("ct_mark", 4),
    ("pbb_uca", 1),
    ("tun_id", 8),
];

fn nonbasic_name(class: u16, field: u8, exp_type: Option<u16>) -> Option<String> {
    if class == 0x0001 && field < 16 {
        return Some(format!("reg{field}"));
    }
    NONBASIC_NAMES
        .iter()
        .find(|(c, f, e, _)| *c == class && *f == field && *e == exp_type)
        .map(|(_, _, _, n)| n.to_string())
}

/// (value bytes, mask bytes) of a non-basic OXM body: class 0xffff bodies
/// start with the experimenter id (and, for ONF, a 2-byte exp_type).
pub fn nonbasic_oxm_value_len(class: u16, hasmask: bool, body: &[u8]) -> (usize, Option<usize>) {
    let hdr = match class {
        0xffff if body.len() >= 6 && body[..4] == ONF_EXPERIMENTER_ID.to_be_bytes() => 6,
        0xffff => 4,
        _ => 0,
    };
    let payload = body.len().saturating_sub(hdr);
    if hasmask {
        (payload / 2, Some(payload / 2))
    } else {
        (payload, None)
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The `size` wire bytes of a non-basic field's JSON value (a number, or an
/// address string).
fn json_value_bytes(v: &Value, size: usize) -> Option<Vec<u8>> {
    if let Some(n) = v.as_u64() {
        let b = n.to_be_bytes();
        return (size <= 8).then(|| b[8 - size..].to_vec());
    }
    let s = v.as_str()?;
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(a.octets().to_vec());
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some(a.octets().to_vec());
    }
    s.split(':')
        .map(|x| u8::from_str_radix(x, 16).ok())
        .collect()
}

// ---------------------------------------------------------------- base64

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Python's `base64.b64encode`.
pub fn b64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------- comparison

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}...", &s[..120])
    } else {
        s
    }
}

fn single(m: &Map<String, Value>) -> Option<(&String, &Value)> {
    if m.len() == 1 {
        m.iter().next()
    } else {
        None
    }
}

fn class_matches(patterns: &str, name: &str) -> bool {
    // `*` (at most one per pattern) stands for any run of characters.
    patterns.split('|').any(|p| match p.split_once('*') {
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
        None => name == p,
    })
}

/// The path of the first difference between `ours` and `json` (os-ken's), or
/// `None` when they agree. `path` is the JSON path of both values.
pub fn first_difference(ours: &Value, json: &Value, path: &str) -> Option<String> {
    match (ours, json) {
        (Value::Object(o), Value::Object(j)) => {
            if let Some((k, inner)) = single(o).filter(|(k, _)| k.starts_with('?')) {
                return wildcard(&k[1..], inner, j, path);
            }
            for k in j.keys() {
                if !o.contains_key(k) {
                    return Some(format!("{path}: json has key \"{k}\", ours does not"));
                }
            }
            for (k, v) in o {
                match j.get(k) {
                    None => return Some(format!("{path}: ours has key \"{k}\", json does not")),
                    Some(jv) => {
                        if let Some(d) = first_difference(v, jv, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            None
        }
        (Value::Array(o), Value::Array(j)) => {
            for (i, (a, b)) in o.iter().zip(j).enumerate() {
                if let Some(d) = first_difference(a, b, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (o.len() != j.len())
                .then(|| format!("{path}: ours has {} entries, json {}", o.len(), j.len()))
        }
        // os-ken decoded the packet data of a few messages into protocol
        // headers; decode our bytes the same way and compare that.
        (Value::String(s), Value::Object(j)) if j.contains_key("Packet") => match b64_decode(s) {
            Some(bytes) => first_difference(&packet_json(&bytes), json, path),
            None => Some(format!("{path}: ours is not base64: {s}")),
        },
        _ if ours == json => None,
        _ => Some(format!(
            "{path}: ours {}, json {}",
            short(ours),
            short(json)
        )),
    }
}

/// Our value is a wildcard object: the json class must match one of
/// `patterns`; then only the keys we give are compared (`key?`: only if
/// json has it; `@key`: a derived check).
fn wildcard(patterns: &str, ours: &Value, json: &Map<String, Value>, path: &str) -> Option<String> {
    let Some((jclass, jinner)) = single(json) else {
        return Some(format!(
            "{path}: json is not a single-class object: {}",
            short(&Value::Object(json.clone()))
        ));
    };
    if !class_matches(patterns, jclass) {
        return Some(format!(
            "{path}: json class {jclass} is not one of {patterns}"
        ));
    }
    let path = format!("{path}.{jclass}");
    let (Value::Object(o), Value::Object(j)) = (ours, jinner) else {
        return Some(format!("{path}: not an object"));
    };
    if patterns == "OXMTlv" {
        return nonbasic_oxm(o, j, &path);
    }
    for (k, v) in o {
        if let Some(special) = k.strip_prefix('@') {
            if let Some(d) = derived_check(special, v, jclass, j, &path) {
                return Some(d);
            }
            continue;
        }
        let (key, optional) = match k.strip_suffix('?') {
            Some(key) => (key, true),
            None => (k.as_str(), false),
        };
        match j.get(key) {
            None if optional => {}
            None => return Some(format!("{path}: json has no key \"{key}\" (identity key)")),
            Some(jv) => {
                if let Some(d) = first_difference(v, jv, &format!("{path}.{key}")) {
                    return Some(d);
                }
            }
        }
    }
    None
}

/// `@body_len`: the experimenter body size os-ken's decoded body implies.
fn derived_check(
    what: &str,
    ours: &Value,
    jclass: &str,
    j: &Map<String, Value>,
    path: &str,
) -> Option<String> {
    assert_eq!(what, "body_len", "unknown derived check @{what}");
    let want = match jclass {
        // onf_flow_monitor_request: 16 fixed bytes, then the match's OXMs
        // (os-ken reports OFPMatch.length = 4 + their length) padded to 8.
        "ONFFlowMonitorStatsRequest" => {
            let entries = j.get("body")?.as_array()?;
            let mut n = 0u64;
            for e in entries {
                let len = e
                    .pointer("/ONFFlowMonitorRequest/match/OFPMatch/length")?
                    .as_u64()?;
                let oxms = len.saturating_sub(4);
                n += 16 + oxms.div_ceil(8) * 8;
            }
            n
        }
        _ => return None,
    };
    (ours.as_u64() != Some(want)).then(|| {
        format!("{path}: experimenter body is {ours} bytes, json's decoded body implies {want}")
    })
}

/// Size in bytes of a non-basic field's JSON value.
fn json_value_size(name: &str, v: &Value) -> Result<usize, String> {
    if let Some(s) = v.as_str() {
        if s.parse::<Ipv4Addr>().is_ok() {
            return Ok(4);
        }
        if s.parse::<Ipv6Addr>().is_ok() {
            return Ok(16);
        }
        if s.split(':').count() == 6 {
            return Ok(6);
        }
        return Err(format!("cannot size the string value {s:?} of {name}"));
    }
    let n = v
        .as_u64()
        .ok_or_else(|| format!("value of {name} is not a number: {v}"))?;
    let size = if name.starts_with("reg") && name[3..].parse::<u8>().is_ok() {
        4
    } else {
        NONBASIC_SIZES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                format!("no byte size known for non-basic field {name}: add it to NONBASIC_SIZES")
            })?
    };
    if size < 8 && n >> (8 * size) != 0 {
        return Err(format!("{name} value {n} does not fit its {size} bytes"));
    }
    Ok(size)
}

/// A non-basic OXM: json must name a non-basic field (the one we expect where
/// we know the number), with a mask iff ours has one, and the value/mask
/// sizes must agree with the TLV's payload.
fn nonbasic_oxm(o: &Map<String, Value>, j: &Map<String, Value>, path: &str) -> Option<String> {
    let name = match j.get("field").and_then(Value::as_str) {
        Some(n) => n,
        None => return Some(format!("{path}.field: json has no field name")),
    };
    if BASIC_OXM_NAMES.contains(&name) {
        return Some(format!(
            "{path}.field: json has the OpenFlow-basic field {name}, ours a non-basic OXM (class {}, field {})",
            o["class"], o["field"]
        ));
    }
    let class = o["class"].as_u64().unwrap_or(0) as u16;
    let field = o["field"].as_u64().unwrap_or(0) as u8;
    let exp_type = o["exp_type"].as_u64().map(|e| e as u16);
    if let Some(known) = nonbasic_name(class, field, exp_type) {
        if known != name {
            return Some(format!(
                "{path}.field: ours is {known} (class {class:#06x}, field {field}), json {name}"
            ));
        }
    }
    let jmask = j.get("mask").unwrap_or(&Value::Null);
    if jmask.is_null() != o["mask_len"].is_null() {
        return Some(format!(
            "{path}.mask: ours has {}a mask, json mask is {jmask}",
            if o["mask_len"].is_null() { "no " } else { "" }
        ));
    }
    let value = j.get("value").unwrap_or(&Value::Null);
    match json_value_size(name, value) {
        Err(e) => return Some(format!("{path}.value: {e}")),
        Ok(size) => {
            if o["value_len"] != json!(size) {
                return Some(format!(
                    "{path}.value: ours is {} bytes, json's {name} is {size}",
                    o["value_len"]
                ));
            }
            if !jmask.is_null() && o["mask_len"] != json!(size) {
                return Some(format!(
                    "{path}.mask: ours is {} bytes, json's {name} is {size}",
                    o["mask_len"]
                ));
            }
            // Beyond identity, and cheap: the raw value (and mask) bytes.
            for (key, jv) in [("value", value), ("mask", jmask)] {
                if jv.is_null() {
                    continue;
                }
                let want = json_value_bytes(jv, size).map(|b| hex(&b));
                let ours = &o[format!("{key}_hex").as_str()];
                if want.as_deref() != ours.as_str() {
                    return Some(format!(
                        "{path}.{key}: ours 0x{}, json {jv}",
                        ours.as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------- packet data

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn u16at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The bytes decoded as os-ken's `Packet` (ethernet, IPv4, ICMP echo; any
/// other protocol ends the list, which then differs from os-ken's).
pub fn packet_json(b: &[u8]) -> Value {
    let mut protocols = Vec::new();
    if b.len() >= 14 {
        let ethertype = u16at(b, 12);
        protocols.push(json!({"ethernet": {
            "dst": mac(&b[0..6]), "src": mac(&b[6..12]), "ethertype": ethertype,
        }}));
        let ip = &b[14..];
        if ethertype == 0x0800 && ip.len() >= 20 && ip[0] >> 4 == 4 && ip[0] & 0xf == 5 {
            protocols.push(json!({"ipv4": {
                "version": ip[0] >> 4,
                "header_length": ip[0] & 0xf,
                "tos": ip[1],
                "total_length": u16at(ip, 2),
                "identification": u16at(ip, 4),
                "flags": ip[6] >> 5,
                "offset": u16at(ip, 6) & 0x1fff,
                "ttl": ip[8],
                "proto": ip[9],
                "csum": u16at(ip, 10),
                "src": Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]).to_string(),
                "dst": Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]).to_string(),
                "option": null,
            }}));
            let icmp = &ip[20..];
            if ip[9] == 1 && icmp.len() >= 8 && (icmp[0] == 0 || icmp[0] == 8) {
                protocols.push(json!({"icmp": {
                    "type": icmp[0],
                    "code": icmp[1],
                    "csum": u16at(icmp, 2),
                    "data": {"echo": {
                        "id": u16at(icmp, 4),
                        "seq": u16at(icmp, 6),
                        "data": b64(&icmp[8..]),
                    }},
                }}));
            }
        }
    }
    json!({"Packet": {"protocols": protocols}})
}

#[test]
fn base64_matches_python() {
    assert_eq!(b64(b""), "");
    assert_eq!(b64(b"f"), "Zg==");
    assert_eq!(b64(b"fo"), "Zm8=");
    assert_eq!(b64(b"foo"), "Zm9v");
    assert_eq!(b64(b"fugafuga"), "ZnVnYWZ1Z2E=");
    assert_eq!(b64_decode("ZnVnYWZ1Z2E=").unwrap(), b"fugafuga");
    assert_eq!(b64_decode("Zm8=").unwrap(), b"fo");
}

#[test]
fn comparison_reports_the_path() {
    let a = json!({"OFPX": {"a": [1, {"b": 2}]}});
    let b = json!({"OFPX": {"a": [1, {"b": 3}]}});
    assert_eq!(
        first_difference(&a, &b, "$").unwrap(),
        "$.OFPX.a[1].b: ours 2, json 3"
    );
    assert_eq!(first_difference(&a, &a, "$"), None);
    let w = json!({"?NXAction*": {"subtype": 8, "data?": "AA=="}});
    assert_eq!(
        first_difference(
            &w,
            &json!({"NXActionNote": {"subtype": 8, "note": [1]}}),
            "$"
        ),
        None
    );
    assert!(first_difference(&w, &json!({"NXActionNote": {"subtype": 9}}), "$").is_some());
    assert!(first_difference(&w, &json!({"OFPActionOutput": {"subtype": 8}}), "$").is_some());
}
