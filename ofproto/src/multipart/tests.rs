//! Cross-cutting multipart tests: every type in both directions, error codes,
//! golden vectors, decoding never panics, and the emit → parse property.

use super::*;
use crate::action::Action;
use crate::error::{
    ErrorCode, OFPBIC_UNKNOWN_INST, OFPBIC_UNSUP_INST, OFPBMC_BAD_PREREQ, OFPBMC_BAD_TYPE,
    OFPET_BAD_INSTRUCTION, OFPET_BAD_MATCH, OFPTFFC_BAD_LEN,
};
use crate::group::Bucket;
use crate::instruction::Instruction;
use crate::meter::MeterBand;
use crate::oxm::{Match, OxmField, OFPXMC_OPENFLOW_BASIC};
use crate::wire::MacAddr;
use bytes::Bytes;
use std::net::Ipv4Addr;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn emit_req(r: &MultipartRequest) -> BytesMut {
    let mut buf = BytesMut::new();
    r.emit_body(&mut buf);
    buf
}

fn emit_rep(r: &MultipartReply) -> BytesMut {
    let mut buf = BytesMut::new();
    r.emit_body(&mut buf);
    buf
}

fn req_err(b: &[u8]) -> ErrorCode {
    MultipartRequest::parse_body(b).unwrap_err().code
}

fn rep_err(b: &[u8]) -> ErrorCode {
    MultipartReply::parse_body(b).unwrap_err().code
}

/// Multipart header + body.
fn mp(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + body.len());
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(body);
    v
}

fn sample_match() -> Match {
    Match {
        fields: vec![
            OxmField::InPort(1),
            OxmField::EthType(0x0800),
            OxmField::Ipv4Dst(Ipv4Addr::new(10, 10, 10, 12), None),
        ],
    }
}

fn sample_flow_request() -> FlowStatsRequest {
    FlowStatsRequest {
        table_id: 0,
        out_port: 2,
        out_group: OFPG_ANY,
        cookie: 0xabcd,
        cookie_mask: 0xffff,
        match_: sample_match(),
    }
}

fn sample_flow_stats(priority: u16) -> FlowStats {
    FlowStats {
        table_id: 0,
        duration_sec: 358,
        duration_nsec: 115277000,
        priority,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: 0,
        cookie: 0,
        packet_count: 0,
        byte_count: 0,
        match_: sample_match(),
        instructions: vec![Instruction::ApplyActions(vec![Action::Output {
            port: 2,
            max_len: 0xffe5,
        }])],
    }
}

fn sample_table_features() -> TableFeatures {
    TableFeatures {
        table_id: 3,
        name: "Flow Table 0x03".into(),
        metadata_match: u64::MAX,
        metadata_write: u64::MAX,
        config: 0,
        max_entries: 16777216,
        properties: vec![
            TableFeatureProp::Instructions(vec![InstructionId::new(1), InstructionId::new(4)]),
            TableFeatureProp::NextTables(vec![4, 5, 6]),
            TableFeatureProp::ApplyActions(vec![ActionId::new(0), ActionId::experimenter(0x2320)]),
            TableFeatureProp::Match(vec![
                OxmId::new(OFPXMC_OPENFLOW_BASIC, 0, false, 4),
                OxmId::new_experimenter(1, false, 4, 0x4f4e4600),
            ]),
            TableFeatureProp::Experimenter(ExperimenterProp {
                experimenter: 101,
                exp_type: 2,
                data: Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 2]),
            }),
        ],
    }
}

/// One hand-built request of every type.
fn every_request() -> Vec<MultipartRequest> {
    use MultipartRequestBody as B;
    let bodies = vec![
        B::Desc,
        B::Flow(sample_flow_request()),
        B::Aggregate(FlowStatsRequest::default()),
        B::Table,
        B::PortStats(PortStatsRequest { port_no: 7 }),
        B::Queue(QueueStatsRequest {
            port_no: 7,
            queue_id: 1,
        }),
        B::Group(GroupStatsRequest { group_id: 1 }),
        B::GroupDesc,
        B::GroupFeatures,
        B::Meter(MeterStatsRequest { meter_id: 100 }),
        B::MeterConfig(MeterConfigRequest::default()),
        B::MeterFeatures,
        B::TableFeatures(vec![sample_table_features(), TableFeatures::default()]),
        B::PortDesc,
        B::Experimenter(ExperimenterMultipart {
            experimenter: 0x4f4e4600,
            exp_type: 1870,
            data: Bytes::from_static(b"monitor!"),
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| MultipartRequest {
            flags: (n % 2) as u16,
            body,
        })
        .collect()
}

/// One hand-built reply of every type.
fn every_reply() -> Vec<MultipartReply> {
    use MultipartReplyBody as B;
    let bodies = vec![
        B::Desc(Desc {
            mfr_desc: "mfr".into(),
            hw_desc: "hw".into(),
            sw_desc: "sw".into(),
            serial_num: "serial".into(),
            dp_desc: "dp".into(),
        }),
        B::Flow(vec![sample_flow_stats(65535), sample_flow_stats(0)]),
        B::Aggregate(AggregateStats {
            packet_count: 7,
            byte_count: 574,
            flow_count: 6,
        }),
        B::Table(vec![
            TableStats {
                table_id: 0,
                active_count: 4,
                lookup_count: 4,
                matched_count: 4,
            },
            TableStats::default(),
        ]),
        B::PortStats(vec![PortStats {
            port_no: 7,
            tx_packets: 4,
            tx_bytes: 336,
            ..PortStats::default()
        }]),
        B::Queue(vec![QueueStats {
            port_no: 7,
            queue_id: 1,
            ..QueueStats::default()
        }]),
        B::Group(vec![GroupStats {
            group_id: 1,
            ref_count: 2,
            packet_count: 123,
            byte_count: 12345,
            duration_sec: 9,
            duration_nsec: 609036000,
            bucket_stats: vec![BucketCounter {
                packet_count: 234,
                byte_count: 2345,
            }],
        }]),
        B::GroupDesc(vec![GroupDesc {
            group_type: crate::consts::OFPGT_ALL,
            group_id: 1,
            buckets: vec![Bucket {
                weight: 1,
                watch_port: 1,
                watch_group: 1,
                actions: vec![Action::Output {
                    port: 2,
                    max_len: 0xffff,
                }],
            }],
        }]),
        B::GroupFeatures(GroupFeatures {
            types: 15,
            capabilities: 5,
            max_groups: [16777216; 4],
            actions: [67082241; 4],
        }),
        B::Meter(vec![MeterStats {
            meter_id: 100,
            duration_nsec: 480000,
            band_stats: vec![MeterBandStats::default()],
            ..MeterStats::default()
        }]),
        B::MeterConfig(vec![MeterConfig {
            flags: 14,
            meter_id: 100,
            bands: vec![MeterBand::Drop {
                rate: 1000,
                burst_size: 10,
            }],
        }]),
        B::MeterFeatures(MeterFeatures {
            max_meter: 16777216,
            band_types: 2147483654,
            capabilities: 15,
            max_bands: 255,
            max_color: 0,
        }),
        B::TableFeatures(vec![sample_table_features()]),
        B::PortDesc(vec![crate::port::PortDesc {
            port_no: 7,
            hw_addr: MacAddr([0xf2, 0x0b, 0xa4, 0xd0, 0x3f, 0x70]),
            name: "Port7".into(),
            config: 0,
            state: 4,
            curr: 10248,
            advertised: 10240,
            supported: 10248,
            peer: 10248,
            curr_speed: 5000,
            max_speed: 5000,
        }]),
        B::Experimenter(ExperimenterMultipart {
            experimenter: 0xdeadbeaf,
            exp_type: 0xcafe7777,
            data: Bytes::from_static(b"testdata99999999"),
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| MultipartReply {
            flags: (n % 2) as u16,
            body,
        })
        .collect()
}

const ALL_TYPES: [u16; 15] = [
    OFPMP_DESC,
    OFPMP_FLOW,
    OFPMP_AGGREGATE,
    OFPMP_TABLE,
    OFPMP_PORT_STATS,
    OFPMP_QUEUE,
    OFPMP_GROUP,
    OFPMP_GROUP_DESC,
    OFPMP_GROUP_FEATURES,
    OFPMP_METER,
    OFPMP_METER_CONFIG,
    OFPMP_METER_FEATURES,
    OFPMP_TABLE_FEATURES,
    OFPMP_PORT_DESC,
    OFPMP_EXPERIMENTER,
];

// ---------------------------------------------------------------------------
// Round trips of hand-built values
// ---------------------------------------------------------------------------

#[test]
fn every_request_type_round_trips() {
    let all = every_request();
    let types: Vec<u16> = all.iter().map(MultipartRequest::mp_type).collect();
    assert_eq!(types, ALL_TYPES);
    for r in &all {
        let buf = emit_req(r);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), r.mp_type());
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), r.flags);
        assert_eq!(&buf[4..8], &[0; 4]);
        let back = MultipartRequest::parse_body(&buf)
            .unwrap_or_else(|e| panic!("{:?}: {e}", multipart_type_name(r.mp_type())));
        assert_eq!(&back, r);
        assert_eq!(emit_req(&back), buf);
        back.validate().unwrap();
    }
}

#[test]
fn every_reply_type_round_trips() {
    let all = every_reply();
    let types: Vec<u16> = all.iter().map(MultipartReply::mp_type).collect();
    assert_eq!(types, ALL_TYPES);
    for r in &all {
        let buf = emit_rep(r);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), r.mp_type());
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), r.flags);
        let back = MultipartReply::parse_body(&buf)
            .unwrap_or_else(|e| panic!("{:?}: {e}", multipart_type_name(r.mp_type())));
        assert_eq!(&back, r);
        assert_eq!(emit_rep(&back), buf);
        back.validate().unwrap();
    }
}

#[test]
fn empty_list_replies_round_trip() {
    use MultipartReplyBody as B;
    for body in [
        B::Flow(vec![]),
        B::Table(vec![]),
        B::PortStats(vec![]),
        B::Queue(vec![]),
        B::Group(vec![]),
        B::GroupDesc(vec![]),
        B::Meter(vec![]),
        B::MeterConfig(vec![]),
        B::TableFeatures(vec![]),
        B::PortDesc(vec![]),
    ] {
        let r = MultipartReply {
            flags: OFPMPF_REPLY_MORE,
            body,
        };
        let buf = emit_rep(&r);
        assert_eq!(buf.len(), 8);
        assert_eq!(MultipartReply::parse_body(&buf).unwrap(), r);
        assert!(r.more());
    }
}

#[test]
fn empty_table_features_request_is_a_read_request() {
    let r = MultipartRequest::parse_body(&mp(OFPMP_TABLE_FEATURES, &[])).unwrap();
    assert_eq!(r.body, MultipartRequestBody::TableFeatures(vec![]));
}

#[test]
fn unknown_flag_bits_are_kept() {
    let r = MultipartRequest {
        flags: 0xfffe,
        body: MultipartRequestBody::Desc,
    };
    let back = MultipartRequest::parse_body(&emit_req(&r)).unwrap();
    assert_eq!(back.flags, 0xfffe);
    assert!(!back.more());
}

#[test]
fn multipart_type_names_cover_every_type() {
    for t in ALL_TYPES {
        let name = multipart_type_name(t).unwrap();
        assert!(name.starts_with("OFPMP_"), "{name}");
    }
    assert_eq!(
        multipart_type_name(OFPMP_PORT_STATS),
        Some("OFPMP_PORT_STATS")
    );
    assert_eq!(multipart_type_name(14), None);
    assert_eq!(multipart_type_name(0xfffe), None);
}

// ---------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------

#[test]
fn unknown_multipart_type_is_bad_multipart() {
    for t in [14u16, 15, 0x100, 0xfffe] {
        assert_eq!(req_err(&mp(t, &[])), OFPBRC_BAD_MULTIPART);
        assert_eq!(rep_err(&mp(t, &[0; 16])), OFPBRC_BAD_MULTIPART);
    }
}

#[test]
fn truncated_multipart_header_is_bad_len() {
    for n in 0..8 {
        assert_eq!(req_err(&[0u8; 8][..n]), OFPBRC_BAD_LEN);
        assert_eq!(rep_err(&[0u8; 8][..n]), OFPBRC_BAD_LEN);
    }
}

#[test]
fn body_on_empty_request_types_is_bad_len() {
    for t in [
        OFPMP_DESC,
        OFPMP_TABLE,
        OFPMP_GROUP_DESC,
        OFPMP_GROUP_FEATURES,
        OFPMP_METER_FEATURES,
        OFPMP_PORT_DESC,
    ] {
        assert!(MultipartRequest::parse_body(&mp(t, &[])).is_ok());
        assert_eq!(req_err(&mp(t, &[0])), OFPBRC_BAD_LEN, "type {t}");
        assert_eq!(req_err(&mp(t, &[0; 8])), OFPBRC_BAD_LEN, "type {t}");
    }
}

#[test]
fn fixed_request_bodies_reject_short_and_trailing_bytes() {
    for (t, len) in [
        (OFPMP_PORT_STATS, 8),
        (OFPMP_QUEUE, 8),
        (OFPMP_GROUP, 8),
        (OFPMP_METER, 8),
        (OFPMP_METER_CONFIG, 8),
    ] {
        assert!(MultipartRequest::parse_body(&mp(t, &vec![0; len])).is_ok());
        assert_eq!(
            req_err(&mp(t, &vec![0; len - 1])),
            OFPBRC_BAD_LEN,
            "type {t}"
        );
        assert_eq!(
            req_err(&mp(t, &vec![0; len + 1])),
            OFPBRC_BAD_LEN,
            "type {t}"
        );
        assert_eq!(req_err(&mp(t, &[])), OFPBRC_BAD_LEN, "type {t}");
    }
    assert_eq!(req_err(&mp(OFPMP_EXPERIMENTER, &[0; 7])), OFPBRC_BAD_LEN);
}

#[test]
fn fixed_reply_bodies_reject_short_and_trailing_bytes() {
    for (t, len) in [
        (OFPMP_DESC, 1056),
        (OFPMP_AGGREGATE, 24),
        (OFPMP_GROUP_FEATURES, 40),
        (OFPMP_METER_FEATURES, 16),
    ] {
        assert!(MultipartReply::parse_body(&mp(t, &vec![0; len])).is_ok());
        assert_eq!(
            rep_err(&mp(t, &vec![0; len - 1])),
            OFPBRC_BAD_LEN,
            "type {t}"
        );
        assert_eq!(
            rep_err(&mp(t, &vec![0; len + 1])),
            OFPBRC_BAD_LEN,
            "type {t}"
        );
        assert_eq!(rep_err(&mp(t, &[])), OFPBRC_BAD_LEN, "type {t}");
    }
    assert_eq!(rep_err(&mp(OFPMP_EXPERIMENTER, &[0; 7])), OFPBRC_BAD_LEN);
}

#[test]
fn fixed_size_reply_lists_must_divide_evenly() {
    for (t, size) in [
        (OFPMP_TABLE, 24),
        (OFPMP_PORT_STATS, 112),
        (OFPMP_QUEUE, 40),
        (OFPMP_PORT_DESC, 64),
    ] {
        let ok = MultipartReply::parse_body(&mp(t, &vec![0; 2 * size])).unwrap();
        assert_eq!(ok.mp_type(), t);
        assert_eq!(rep_err(&mp(t, &vec![0; 2 * size + 1])), OFPBRC_BAD_LEN);
        assert_eq!(rep_err(&mp(t, &vec![0; size - 1])), OFPBRC_BAD_LEN);
    }
}

#[test]
fn variable_entry_lengths_are_checked() {
    // (type, offset of the u16 length, fixed part)
    for (t, at, fixed) in [
        (OFPMP_FLOW, 0usize, 56usize),
        (OFPMP_GROUP, 0, 40),
        (OFPMP_GROUP_DESC, 0, 8),
        (OFPMP_METER, 4, 40),
        (OFPMP_METER_CONFIG, 0, 8),
        (OFPMP_TABLE_FEATURES, 0, 64),
    ] {
        let mut body = vec![0u8; fixed];
        // Length shorter than the fixed part.
        body[at..at + 2].copy_from_slice(&((fixed - 8) as u16).to_be_bytes());
        assert_eq!(rep_err(&mp(t, &body)), OFPBRC_BAD_LEN, "type {t} short");
        // Length past the input.
        body[at..at + 2].copy_from_slice(&((fixed + 8) as u16).to_be_bytes());
        assert_eq!(rep_err(&mp(t, &body)), OFPBRC_BAD_LEN, "type {t} long");
        // Zero length must not loop.
        body[at..at + 2].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(rep_err(&mp(t, &body)), OFPBRC_BAD_LEN, "type {t} zero");
        // Fixed part cut.
        assert_eq!(
            rep_err(&mp(t, &body[..fixed - 1])),
            OFPBRC_BAD_LEN,
            "type {t} cut"
        );
    }
    // Table features requests share the reply's framing.
    let mut body = vec![0u8; 64];
    body[1] = 60;
    assert_eq!(req_err(&mp(OFPMP_TABLE_FEATURES, &body)), OFPBRC_BAD_LEN);
}

#[test]
fn table_feature_property_errors_are_tffc_bad_len() {
    let mut t = TableFeatures::default();
    t.properties
        .push(TableFeatureProp::NextTables(vec![1, 2, 3]));
    let r = MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::TableFeatures(vec![t]),
    };
    let mut buf = emit_req(&r).to_vec();
    // Property length 2 (< 4) inside a well-framed table_features entry.
    buf[8 + 64 + 3] = 2;
    assert_eq!(req_err(&buf), OFPTFFC_BAD_LEN);
    // Property length running past its table_features entry.
    buf[8 + 64 + 3] = 9;
    assert_eq!(req_err(&buf), OFPTFFC_BAD_LEN);
}

#[test]
fn flow_request_match_errors_keep_their_code() {
    let mut buf = emit_req(&MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Flow(FlowStatsRequest::default()),
    })
    .to_vec();
    // ofp_match.type = OFPMT_STANDARD.
    buf[8 + 32 + 1] = 0;
    assert_eq!(req_err(&buf), OFPBMC_BAD_TYPE);
    // No match at all.
    let e = req_err(&buf[..8 + 32]);
    assert_eq!(e.ty, OFPET_BAD_MATCH, "{e}");
    // Trailing bytes after the match.
    buf[8 + 32 + 1] = 1;
    buf.extend_from_slice(&[0; 8]);
    assert_eq!(req_err(&buf), OFPBRC_BAD_LEN);
}

#[test]
fn flow_stats_instruction_errors_keep_their_code() {
    let f = FlowStats {
        instructions: vec![Instruction::GotoTable(1)],
        ..FlowStats::default()
    };
    let mut buf = emit_rep(&MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Flow(vec![f]),
    })
    .to_vec();
    // The instruction starts after the 48-byte fixed part and 8-byte match.
    let at = 8 + 48 + 8;
    assert_eq!(&buf[at..at + 2], &[0, 1]);
    buf[at + 1] = 99; // unknown instruction type
    let e = rep_err(&buf);
    assert_eq!(e.ty, OFPET_BAD_INSTRUCTION, "{e}");
    assert_eq!(e, OFPBIC_UNKNOWN_INST);
}

#[test]
fn validate_runs_match_and_instruction_checks() {
    // ipv4_dst without eth_type=0x0800.
    let bad = Match {
        fields: vec![OxmField::Ipv4Dst(Ipv4Addr::new(10, 0, 0, 1), None)],
    };
    let r = MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Aggregate(FlowStatsRequest {
            match_: bad.clone(),
            ..FlowStatsRequest::default()
        }),
    };
    assert_eq!(r.validate().unwrap_err().code, OFPBMC_BAD_PREREQ);
    // Framing is fine even though the match is invalid.
    assert_eq!(MultipartRequest::parse_body(&emit_req(&r)).unwrap(), r);

    let rep = MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Flow(vec![FlowStats {
            match_: bad,
            ..FlowStats::default()
        }]),
    };
    assert_eq!(rep.validate().unwrap_err().code, OFPBMC_BAD_PREREQ);

    let dup = MultipartReply {
        flags: 0,
        body: MultipartReplyBody::Flow(vec![FlowStats {
            instructions: vec![Instruction::GotoTable(1), Instruction::GotoTable(2)],
            ..FlowStats::default()
        }]),
    };
    assert_eq!(dup.validate().unwrap_err().code, OFPBIC_UNSUP_INST);
}

// ---------------------------------------------------------------------------
// Golden vectors
// ---------------------------------------------------------------------------

const VECTOR_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/of13-vectors/of13/packet"
);

/// Every multipart vector (OFPT type 18 or 19) in the README's index.
const MULTIPART_VECTORS: [&str; 31] = [
    "4-0-ofp_desc_reply",
    "4-11-ofp_flow_stats_request",
    "4-12-ofp_flow_stats_reply",
    "4-24-ofp_desc_request",
    "4-25-ofp_aggregate_stats_request",
    "4-26-ofp_aggregate_stats_reply",
    "4-27-ofp_table_stats_request",
    "4-28-ofp_table_stats_reply",
    "4-29-ofp_port_stats_request",
    "4-30-ofp_port_stats_reply",
    "4-31-ofp_group_features_request",
    "4-32-ofp_group_features_reply",
    "4-33-ofp_group_desc_request",
    "4-34-ofp_group_desc_reply",
    "4-37-ofp_queue_stats_request",
    "4-38-ofp_queue_stats_reply",
    "4-47-ofp_meter_config_request",
    "4-48-ofp_meter_config_reply",
    "4-49-ofp_meter_stats_request",
    "4-50-ofp_meter_stats_reply",
    "4-51-ofp_meter_features_request",
    "4-52-ofp_meter_features_reply",
    "4-53-ofp_port_desc_request",
    "4-54-ofp_port_desc_reply",
    "4-55-ofp_table_features_request",
    "4-56-ofp_table_features_reply",
    "4-57-ofp_group_stats_request",
    "4-58-ofp_group_stats_reply",
    "4-61-ofp_experimenter_request",
    "4-62-ofp_experimenter_reply",
    "4-63-onf_flow_monitor_request",
];

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{VECTOR_DIR}/{name}.packet");
    let b = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(b[0], 4, "{name}: not OF1.3");
    assert_eq!(u16::from_be_bytes([b[2], b[3]]) as usize, b.len(), "{name}");
    b
}

fn json(name: &str) -> serde_json::Value {
    let path = format!("{VECTOR_DIR}/../json/{name}.packet.json");
    let s = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&s).unwrap()
}

enum Decoded {
    Req(MultipartRequest),
    Rep(MultipartReply),
}

/// Decodes a vector, re-encodes it and checks the bytes are identical.
fn golden(name: &str) -> Decoded {
    let b = vector(name);
    let body = &b[8..];
    let mut out = BytesMut::new();
    let d = match b[1] {
        OFPT_MULTIPART_REQUEST => {
            let r = MultipartRequest::parse_body(body).unwrap_or_else(|e| panic!("{name}: {e}"));
            r.emit_body(&mut out);
            Decoded::Req(r)
        }
        OFPT_MULTIPART_REPLY => {
            let r = MultipartReply::parse_body(body).unwrap_or_else(|e| panic!("{name}: {e}"));
            r.emit_body(&mut out);
            Decoded::Rep(r)
        }
        t => panic!("{name}: OFPT type {t} is not multipart"),
    };
    if &out[..] != body {
        let at = out.iter().zip(body).position(|(a, b)| a != b);
        panic!(
            "{name}: re-encoding differs (lengths {} vs {}, first difference at body offset {at:?})",
            out.len(),
            body.len()
        );
    }
    d
}

fn golden_req(name: &str) -> MultipartRequest {
    match golden(name) {
        Decoded::Req(r) => r,
        Decoded::Rep(_) => panic!("{name} is a reply"),
    }
}

fn golden_rep(name: &str) -> MultipartReply {
    match golden(name) {
        Decoded::Rep(r) => r,
        Decoded::Req(_) => panic!("{name} is a request"),
    }
}

macro_rules! golden_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                golden($name);
            }
        )*
        #[test]
        fn golden_list_matches_the_macro() {
            let names: Vec<&str> = vec![$($name),*];
            assert_eq!(names, MULTIPART_VECTORS);
        }
    };
}

golden_tests! {
    golden_4_0_desc_reply_round_trips => "4-0-ofp_desc_reply",
    golden_4_11_flow_stats_request_round_trips => "4-11-ofp_flow_stats_request",
    golden_4_12_flow_stats_reply_round_trips => "4-12-ofp_flow_stats_reply",
    golden_4_24_desc_request_round_trips => "4-24-ofp_desc_request",
    golden_4_25_aggregate_stats_request_round_trips => "4-25-ofp_aggregate_stats_request",
    golden_4_26_aggregate_stats_reply_round_trips => "4-26-ofp_aggregate_stats_reply",
    golden_4_27_table_stats_request_round_trips => "4-27-ofp_table_stats_request",
    golden_4_28_table_stats_reply_round_trips => "4-28-ofp_table_stats_reply",
    golden_4_29_port_stats_request_round_trips => "4-29-ofp_port_stats_request",
    golden_4_30_port_stats_reply_round_trips => "4-30-ofp_port_stats_reply",
    golden_4_31_group_features_request_round_trips => "4-31-ofp_group_features_request",
    golden_4_32_group_features_reply_round_trips => "4-32-ofp_group_features_reply",
    golden_4_33_group_desc_request_round_trips => "4-33-ofp_group_desc_request",
    golden_4_34_group_desc_reply_round_trips => "4-34-ofp_group_desc_reply",
    golden_4_37_queue_stats_request_round_trips => "4-37-ofp_queue_stats_request",
    golden_4_38_queue_stats_reply_round_trips => "4-38-ofp_queue_stats_reply",
    golden_4_47_meter_config_request_round_trips => "4-47-ofp_meter_config_request",
    golden_4_48_meter_config_reply_round_trips => "4-48-ofp_meter_config_reply",
    golden_4_49_meter_stats_request_round_trips => "4-49-ofp_meter_stats_request",
    golden_4_50_meter_stats_reply_round_trips => "4-50-ofp_meter_stats_reply",
    golden_4_51_meter_features_request_round_trips => "4-51-ofp_meter_features_request",
    golden_4_52_meter_features_reply_round_trips => "4-52-ofp_meter_features_reply",
    golden_4_53_port_desc_request_round_trips => "4-53-ofp_port_desc_request",
    golden_4_54_port_desc_reply_round_trips => "4-54-ofp_port_desc_reply",
    golden_4_55_table_features_request_round_trips => "4-55-ofp_table_features_request",
    golden_4_56_table_features_reply_round_trips => "4-56-ofp_table_features_reply",
    golden_4_57_group_stats_request_round_trips => "4-57-ofp_group_stats_request",
    golden_4_58_group_stats_reply_round_trips => "4-58-ofp_group_stats_reply",
    golden_4_61_experimenter_request_round_trips => "4-61-ofp_experimenter_request",
    golden_4_62_experimenter_reply_round_trips => "4-62-ofp_experimenter_reply",
    golden_4_63_onf_flow_monitor_request_round_trips => "4-63-onf_flow_monitor_request",
}

#[test]
fn golden_list_is_every_multipart_vector_on_disk() {
    let mut on_disk: Vec<String> = std::fs::read_dir(VECTOR_DIR)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".packet")?
                .to_string();
            let b = std::fs::read(&path).ok()?;
            matches!(
                b.get(1),
                Some(&OFPT_MULTIPART_REQUEST) | Some(&OFPT_MULTIPART_REPLY)
            )
            .then_some(name)
        })
        .collect();
    on_disk.sort();
    let mut ours: Vec<String> = MULTIPART_VECTORS.iter().map(|s| s.to_string()).collect();
    ours.sort();
    assert_eq!(on_disk, ours);
}

fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("JSON field {k} missing in {v}"))
}

#[test]
fn golden_desc_reply_strings_match_json() {
    let r = golden_rep("4-0-ofp_desc_reply");
    let j = &json("4-0-ofp_desc_reply")["OFPDescStatsReply"]["body"]["OFPDescStats"];
    let MultipartReplyBody::Desc(d) = r.body else {
        panic!("not DESC: {r:?}")
    };
    assert_eq!(d.mfr_desc, j["mfr_desc"].as_str().unwrap());
    assert_eq!(d.hw_desc, j["hw_desc"].as_str().unwrap());
    assert_eq!(d.sw_desc, j["sw_desc"].as_str().unwrap());
    assert_eq!(d.serial_num, j["serial_num"].as_str().unwrap());
    assert_eq!(d.dp_desc, j["dp_desc"].as_str().unwrap());
    assert_eq!(d.mfr_desc, "mfr");
}

#[test]
fn golden_port_stats_counters_match_json() {
    let r = golden_rep("4-30-ofp_port_stats_reply");
    let j = json("4-30-ofp_port_stats_reply");
    let entries = j["OFPPortStatsReply"]["body"].as_array().unwrap();
    let MultipartReplyBody::PortStats(l) = r.body else {
        panic!("not PORT_STATS: {r:?}")
    };
    assert_eq!(l.len(), entries.len());
    for (p, e) in l.iter().zip(entries) {
        let e = &e["OFPPortStats"];
        assert_eq!(p.port_no as u64, u(e, "port_no"));
        let ours = [
            ("rx_packets", p.rx_packets),
            ("tx_packets", p.tx_packets),
            ("rx_bytes", p.rx_bytes),
            ("tx_bytes", p.tx_bytes),
            ("rx_dropped", p.rx_dropped),
            ("tx_dropped", p.tx_dropped),
            ("rx_errors", p.rx_errors),
            ("tx_errors", p.tx_errors),
            ("rx_frame_err", p.rx_frame_err),
            ("rx_over_err", p.rx_over_err),
            ("rx_crc_err", p.rx_crc_err),
            ("collisions", p.collisions),
            ("duration_sec", p.duration_sec as u64),
            ("duration_nsec", p.duration_nsec as u64),
        ];
        for (k, v) in ours {
            assert_eq!(v, u(e, k), "port {} {k}", p.port_no);
        }
    }
    assert_eq!(l[0].tx_bytes, 336);
    assert_eq!(l[1].rx_packets, 4);
}

#[test]
fn golden_stats_replies_match_json() {
    let r = golden_rep("4-58-ofp_group_stats_reply");
    let j = json("4-58-ofp_group_stats_reply");
    let MultipartReplyBody::Group(g) = r.body else {
        panic!("{r:?}")
    };
    let e = &j["OFPGroupStatsReply"]["body"][0]["OFPGroupStats"];
    assert_eq!(g[0].byte_count, u(e, "byte_count"));
    assert_eq!(g[0].duration_nsec as u64, u(e, "duration_nsec"));
    let bc = &e["bucket_stats"][0]["OFPBucketCounter"];
    assert_eq!(g[0].bucket_stats[0].byte_count, u(bc, "byte_count"));
    assert_eq!(g[0].bucket_stats[0].packet_count, u(bc, "packet_count"));

    let r = golden_rep("4-50-ofp_meter_stats_reply");
    let MultipartReplyBody::Meter(m) = r.body else {
        panic!("{r:?}")
    };
    let e = &json("4-50-ofp_meter_stats_reply")["OFPMeterStatsReply"]["body"][0]["OFPMeterStats"];
    assert_eq!(m[0].meter_id as u64, u(e, "meter_id"));
    assert_eq!(m[0].duration_nsec as u64, u(e, "duration_nsec"));
    assert_eq!(m[0].band_stats.len(), 1);

    let r = golden_rep("4-52-ofp_meter_features_reply");
    let MultipartReplyBody::MeterFeatures(m) = r.body else {
        panic!("{r:?}")
    };
    let e = &json("4-52-ofp_meter_features_reply")["OFPMeterFeaturesStatsReply"]["body"][0]
        ["OFPMeterFeaturesStats"];
    assert_eq!(m.band_types as u64, u(e, "band_types"));
    assert_eq!(m.max_bands as u64, u(e, "max_bands"));

    let r = golden_rep("4-32-ofp_group_features_reply");
    let MultipartReplyBody::GroupFeatures(g) = r.body else {
        panic!("{r:?}")
    };
    assert_eq!(g.actions, [67082241; 4]);
    assert_eq!(g.max_groups, [16777216; 4]);

    let r = golden_rep("4-62-ofp_experimenter_reply");
    let MultipartReplyBody::Experimenter(x) = r.body else {
        panic!("{r:?}")
    };
    assert_eq!(x.experimenter, 3735928495);
    assert_eq!(x.exp_type, 3405674359);
    assert_eq!(&x.data[..], b"testdata99999999");
}

#[test]
fn golden_requests_match_json() {
    let r = golden_req("4-11-ofp_flow_stats_request");
    assert_eq!(
        r.body,
        MultipartRequestBody::Flow(FlowStatsRequest {
            table_id: 0,
            ..FlowStatsRequest::default()
        })
    );
    let r = golden_req("4-25-ofp_aggregate_stats_request");
    assert_eq!(
        r.body,
        MultipartRequestBody::Aggregate(FlowStatsRequest::default())
    );
    let r = golden_req("4-57-ofp_group_stats_request");
    assert_eq!(
        r.body,
        MultipartRequestBody::Group(GroupStatsRequest { group_id: OFPG_ALL })
    );
    let r = golden_req("4-63-onf_flow_monitor_request");
    let MultipartRequestBody::Experimenter(x) = &r.body else {
        panic!("{r:?}")
    };
    assert_eq!(x.experimenter, ONF_EXPERIMENTER_ID);
    assert_eq!(x.data.len(), 408 - 8 - 8 - 8);
}

fn check_table_features_against_json(tables: &[TableFeatures], j: &serde_json::Value) {
    let entries = j["body"].as_array().unwrap();
    assert_eq!(tables.len(), entries.len());
    for (t, e) in tables.iter().zip(entries) {
        let e = &e["OFPTableFeaturesStats"];
        assert_eq!(t.table_id as u64, u(e, "table_id"));
        assert_eq!(t.name, e["name"].as_str().unwrap());
        assert_eq!(t.max_entries as u64, u(e, "max_entries"));
        assert_eq!(t.metadata_match, u(e, "metadata_match"));
        assert_eq!(t.metadata_write, u(e, "metadata_write"));
        assert_eq!(t.config as u64, u(e, "config"));
        let props = e["properties"].as_array().unwrap();
        assert_eq!(t.properties.len(), props.len(), "table {}", t.table_id);
        for (p, jp) in t.properties.iter().zip(props) {
            let (class, jp) = jp.as_object().unwrap().iter().next().unwrap();
            assert_eq!(p.prop_type() as u64, u(jp, "type"), "{class}");
            match p {
                TableFeatureProp::Instructions(ids) | TableFeatureProp::InstructionsMiss(ids) => {
                    let jids = jp["instruction_ids"].as_array().unwrap();
                    assert_eq!(ids.len(), jids.len());
                    for (id, jid) in ids.iter().zip(jids) {
                        assert_eq!(id.ty as u64, u(&jid["OFPInstructionId"], "type"));
                        assert_eq!(id.wire_len() as u64, u(&jid["OFPInstructionId"], "len"));
                    }
                }
                TableFeatureProp::NextTables(ids) | TableFeatureProp::NextTablesMiss(ids) => {
                    let jids: Vec<u8> = jp["table_ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u8)
                        .collect();
                    assert_eq!(ids, &jids);
                }
                TableFeatureProp::WriteActions(ids)
                | TableFeatureProp::WriteActionsMiss(ids)
                | TableFeatureProp::ApplyActions(ids)
                | TableFeatureProp::ApplyActionsMiss(ids) => {
                    let jids = jp["action_ids"].as_array().unwrap();
                    assert_eq!(ids.len(), jids.len());
                    for (id, jid) in ids.iter().zip(jids) {
                        assert_eq!(id.ty as u64, u(&jid["OFPActionId"], "type"));
                        assert_eq!(id.wire_len() as u64, u(&jid["OFPActionId"], "len"));
                    }
                }
                TableFeatureProp::Match(ids)
                | TableFeatureProp::Wildcards(ids)
                | TableFeatureProp::WriteSetfield(ids)
                | TableFeatureProp::WriteSetfieldMiss(ids)
                | TableFeatureProp::ApplySetfield(ids)
                | TableFeatureProp::ApplySetfieldMiss(ids) => {
                    let jids = jp["oxm_ids"].as_array().unwrap();
                    assert_eq!(ids.len(), jids.len());
                    for (id, jid) in ids.iter().zip(jids) {
                        let jid = &jid["OFPOxmId"];
                        assert_eq!(id.class(), OFPXMC_OPENFLOW_BASIC);
                        assert_eq!(
                            crate::oxm::basic_field_name(id.field()),
                            jid["type"].as_str(),
                            "OXM id {id:?}"
                        );
                        assert_eq!(id.hasmask() as u64, u(jid, "hasmask"));
                        assert_eq!(id.length() as u64, u(jid, "length"));
                    }
                }
                TableFeatureProp::Experimenter(x) | TableFeatureProp::ExperimenterMiss(x) => {
                    assert_eq!(x.experimenter as u64, u(jp, "experimenter"));
                    assert_eq!(x.exp_type as u64, u(jp, "exp_type"));
                    let words: Vec<u64> = x
                        .data
                        .chunks(4)
                        .map(|c| u32::from_be_bytes(c.try_into().unwrap()) as u64)
                        .collect();
                    let jwords: Vec<u64> = jp["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| w.as_u64().unwrap())
                        .collect();
                    assert_eq!(words, jwords);
                }
                TableFeatureProp::Unknown { ty, .. } => panic!("unexpected unknown property {ty}"),
            }
        }
    }
}

#[test]
fn golden_table_features_match_json() {
    let r = golden_rep("4-56-ofp_table_features_reply");
    let j = json("4-56-ofp_table_features_reply");
    let MultipartReplyBody::TableFeatures(tables) = &r.body else {
        panic!("{r:?}")
    };
    check_table_features_against_json(tables, &j["OFPTableFeaturesStatsReply"]);
    assert_eq!(tables.len(), 10);
    assert_eq!(tables[0].name, "私のテーブル");
    assert_eq!(tables[0].max_entries, 16777216);
    assert!(r.more());

    let r = golden_req("4-55-ofp_table_features_request");
    let j = json("4-55-ofp_table_features_request");
    let MultipartRequestBody::TableFeatures(tables) = &r.body else {
        panic!("{r:?}")
    };
    check_table_features_against_json(tables, &j["OFPTableFeaturesStatsRequest"]);
    assert_eq!(tables[0].name, "Flow Table 0x00");
    assert!(r.more());
}

// ---------------------------------------------------------------------------
// Decoding never panics
// ---------------------------------------------------------------------------

/// Decodes `b` both ways; whatever decodes must re-encode to something that
/// decodes again. (Not necessarily to the same value: strings are decoded
/// lossily, so invalid UTF-8 in DESC or a table name changes on re-encoding.)
fn decode_both(b: &[u8]) {
    if let Ok(r) = MultipartRequest::parse_body(b) {
        let _ = r.validate();
        let buf = emit_req(&r);
        if let Err(e) = MultipartRequest::parse_body(&buf) {
            panic!("re-encoded {r:?} does not decode: {e}");
        }
    }
    if let Ok(r) = MultipartReply::parse_body(b) {
        let _ = r.validate();
        let buf = emit_rep(&r);
        if let Err(e) = MultipartReply::parse_body(&buf) {
            panic!("re-encoded {r:?} does not decode: {e}");
        }
    }
}

fn all_samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = MULTIPART_VECTORS
        .iter()
        .map(|n| vector(n)[8..].to_vec())
        .collect();
    v.extend(every_request().iter().map(|r| emit_req(r).to_vec()));
    v.extend(every_reply().iter().map(|r| emit_rep(r).to_vec()));
    v
}

#[test]
fn decoding_any_prefix_never_panics() {
    for s in all_samples() {
        for n in 0..=s.len() {
            decode_both(&s[..n]);
        }
    }
}

/// xorshift64*: deterministic, no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn decoding_random_bytes_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..20_000 {
        let ty = match rng.below(4) {
            0 => rng.next() as u16,
            _ => ALL_TYPES[rng.below(ALL_TYPES.len())],
        };
        let len = rng.below(400);
        let mut body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Small length fields are where the interesting paths are.
        if len >= 2 && rng.below(2) == 0 {
            body[0] = 0;
            body[1] = (rng.below(len + 16) & 0xff) as u8;
        }
        decode_both(&mp(ty, &body));
    }
}

#[test]
fn decoding_mutated_samples_never_panics() {
    let samples = all_samples();
    let mut rng = Rng(0x0ddb_a115_7e57_0002);
    for _ in 0..3_000 {
        let mut s = samples[rng.below(samples.len())].clone();
        if s.is_empty() {
            continue;
        }
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(s.len());
            s[at] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                2 => s[at].wrapping_add(1 + rng.below(8) as u8),
                _ => rng.next() as u8,
            };
        }
        if rng.below(4) == 0 {
            let n = rng.below(s.len() + 1);
            s.truncate(n);
        }
        decode_both(&s);
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

mod props {
    use super::super::arb::{multipart_reply, multipart_request};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn request_emit_then_parse_is_identity(r in multipart_request()) {
            let buf = emit_req(&r);
            let back = MultipartRequest::parse_body(&buf);
            prop_assert_eq!(back.as_ref(), Ok(&r));
            prop_assert_eq!(emit_req(back.as_ref().unwrap()), buf);
        }

        #[test]
        fn reply_emit_then_parse_is_identity(r in multipart_reply()) {
            let buf = emit_rep(&r);
            let back = MultipartReply::parse_body(&buf);
            prop_assert_eq!(back.as_ref(), Ok(&r));
            prop_assert_eq!(emit_rep(back.as_ref().unwrap()), buf);
        }

        #[test]
        fn any_prefix_of_an_encoding_decodes_without_panic(r in multipart_reply(), cut in any::<prop::sample::Index>()) {
            let buf = emit_rep(&r);
            let n = cut.index(buf.len() + 1);
            decode_both(&buf[..n]);
        }
    }
}
