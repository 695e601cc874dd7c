//! proptest strategies producing well-formed multipart requests and replies
//! of every type (values that survive emit → parse unchanged).

use super::*;
use crate::group::arb::bucket;
use crate::instruction::arb::{instruction_list, instruction_set};
use crate::meter::arb::band;
use crate::oxm::arb::valid_match;
use crate::port::arb::port_desc;
use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Printable ASCII that fits a NUL-padded field of `n` bytes.
fn cstring(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{0,{}}}", n - 1)).unwrap()
}

pub fn flow_stats_request() -> impl Strategy<Value = FlowStatsRequest> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        valid_match(),
    )
        .prop_map(
            |(table_id, out_port, out_group, cookie, cookie_mask, match_)| FlowStatsRequest {
                table_id,
                out_port,
                out_group,
                cookie,
                cookie_mask,
                match_,
            },
        )
}

pub fn flow_stats() -> impl Strategy<Value = FlowStats> {
    (
        (any::<u8>(), any::<u32>(), any::<u32>(), any::<u16>()),
        (any::<u16>(), any::<u16>(), any::<u16>()),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        valid_match(),
        prop_oneof![instruction_set(), instruction_list()],
    )
        .prop_map(
            |(
                (table_id, duration_sec, duration_nsec, priority),
                (idle_timeout, hard_timeout, flags),
                (cookie, packet_count, byte_count),
                match_,
                instructions,
            )| FlowStats {
                table_id,
                duration_sec,
                duration_nsec,
                priority,
                idle_timeout,
                hard_timeout,
                flags,
                cookie,
                packet_count,
                byte_count,
                match_,
                instructions,
            },
        )
}

pub fn desc() -> impl Strategy<Value = Desc> {
    (
        cstring(256),
        cstring(256),
        cstring(256),
        cstring(32),
        cstring(256),
    )
        .prop_map(|(mfr_desc, hw_desc, sw_desc, serial_num, dp_desc)| Desc {
            mfr_desc,
            hw_desc,
            sw_desc,
            serial_num,
            dp_desc,
        })
}

pub fn aggregate_stats() -> impl Strategy<Value = AggregateStats> {
    (any::<u64>(), any::<u64>(), any::<u32>()).prop_map(|(packet_count, byte_count, flow_count)| {
        AggregateStats {
            packet_count,
            byte_count,
            flow_count,
        }
    })
}

pub fn table_stats() -> impl Strategy<Value = TableStats> {
    (any::<u8>(), any::<u32>(), any::<u64>(), any::<u64>()).prop_map(
        |(table_id, active_count, lookup_count, matched_count)| TableStats {
            table_id,
            active_count,
            lookup_count,
            matched_count,
        },
    )
}

pub fn port_stats() -> impl Strategy<Value = PortStats> {
    (any::<u32>(), any::<[u64; 12]>(), any::<u32>(), any::<u32>()).prop_map(
        |(port_no, c, duration_sec, duration_nsec)| PortStats {
            port_no,
            rx_packets: c[0],
            tx_packets: c[1],
            rx_bytes: c[2],
            tx_bytes: c[3],
            rx_dropped: c[4],
            tx_dropped: c[5],
            rx_errors: c[6],
            tx_errors: c[7],
            rx_frame_err: c[8],
            rx_over_err: c[9],
            rx_crc_err: c[10],
            collisions: c[11],
            duration_sec,
            duration_nsec,
        },
    )
}

pub fn queue_stats() -> impl Strategy<Value = QueueStats> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<[u64; 3]>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(port_no, queue_id, c, duration_sec, duration_nsec)| QueueStats {
                port_no,
                queue_id,
                tx_bytes: c[0],
                tx_packets: c[1],
                tx_errors: c[2],
                duration_sec,
                duration_nsec,
            },
        )
}

pub fn group_stats() -> impl Strategy<Value = GroupStats> {
    (
        any::<[u32; 4]>(),
        any::<[u64; 2]>(),
        vec(any::<[u64; 2]>(), 0..4),
    )
        .prop_map(|(w, c, buckets)| GroupStats {
            group_id: w[0],
            ref_count: w[1],
            packet_count: c[0],
            byte_count: c[1],
            duration_sec: w[2],
            duration_nsec: w[3],
            bucket_stats: buckets
                .into_iter()
                .map(|[packet_count, byte_count]| BucketCounter {
                    packet_count,
                    byte_count,
                })
                .collect(),
        })
}

pub fn group_desc() -> impl Strategy<Value = GroupDesc> {
    (any::<u8>(), any::<u32>(), vec(bucket(), 0..3)).prop_map(|(group_type, group_id, buckets)| {
        GroupDesc {
            group_type,
            group_id,
            buckets,
        }
    })
}

pub fn group_features() -> impl Strategy<Value = GroupFeatures> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<[u32; 4]>(),
        any::<[u32; 4]>(),
    )
        .prop_map(|(types, capabilities, max_groups, actions)| GroupFeatures {
            types,
            capabilities,
            max_groups,
            actions,
        })
}

pub fn meter_stats() -> impl Strategy<Value = MeterStats> {
    (
        any::<[u32; 4]>(),
        any::<[u64; 2]>(),
        vec(any::<[u64; 2]>(), 0..4),
    )
        .prop_map(|(w, c, bands)| MeterStats {
            meter_id: w[0],
            flow_count: w[1],
            packet_in_count: c[0],
            byte_in_count: c[1],
            duration_sec: w[2],
            duration_nsec: w[3],
            band_stats: bands
                .into_iter()
                .map(|[packet_band_count, byte_band_count]| MeterBandStats {
                    packet_band_count,
                    byte_band_count,
                })
                .collect(),
        })
}

pub fn meter_config() -> impl Strategy<Value = MeterConfig> {
    (any::<u16>(), any::<u32>(), vec(band(), 0..4)).prop_map(|(flags, meter_id, bands)| {
        MeterConfig {
            flags,
            meter_id,
            bands,
        }
    })
}

pub fn meter_features() -> impl Strategy<Value = MeterFeatures> {
    (any::<[u32; 3]>(), any::<u8>(), any::<u8>()).prop_map(|(w, max_bands, max_color)| {
        MeterFeatures {
            max_meter: w[0],
            band_types: w[1],
            capabilities: w[2],
            max_bands,
            max_color,
        }
    })
}

pub fn experimenter_multipart() -> impl Strategy<Value = ExperimenterMultipart> {
    (any::<u32>(), any::<u32>(), bytes(64)).prop_map(|(experimenter, exp_type, data)| {
        ExperimenterMultipart {
            experimenter,
            exp_type,
            data,
        }
    })
}

/// Instruction/action id: standard (4 bytes), experimenter (8 bytes), or any
/// type with extra bytes after the header.
fn tl_id() -> impl Strategy<Value = (u16, Bytes)> {
    prop_oneof![
        any::<u16>().prop_map(|ty| (ty, Bytes::new())),
        any::<u32>().prop_map(|e| (0xffff, Bytes::copy_from_slice(&e.to_be_bytes()))),
        (any::<u16>(), bytes(12)),
    ]
}

/// An OXM id as the parser produces it: the experimenter id is present
/// exactly when the class is 0xffff.
pub fn oxm_id() -> impl Strategy<Value = OxmId> {
    prop_oneof![
        any::<u32>()
            .prop_filter("not experimenter class", |h| h >> 16 != 0xffff)
            .prop_map(|header| OxmId {
                header,
                experimenter: None
            }),
        (any::<u16>(), any::<u32>()).prop_map(|(low, e)| OxmId {
            header: 0xffff_0000 | low as u32,
            experimenter: Some(e),
        }),
    ]
}

pub fn experimenter_prop() -> impl Strategy<Value = ExperimenterProp> {
    (any::<u32>(), any::<u32>(), bytes(16)).prop_map(|(experimenter, exp_type, data)| {
        ExperimenterProp {
            experimenter,
            exp_type,
            data,
        }
    })
}

pub fn table_feature_prop() -> impl Strategy<Value = TableFeatureProp> {
    use TableFeatureProp as P;
    let ins = || {
        vec(
            tl_id().prop_map(|(ty, data)| InstructionId { ty, data }),
            0..6,
        )
    };
    let acts = || vec(tl_id().prop_map(|(ty, data)| ActionId { ty, data }), 0..6);
    let oxms = || vec(oxm_id(), 0..8);
    let tables = || vec(any::<u8>(), 0..20);
    prop_oneof![
        ins().prop_map(P::Instructions),
        ins().prop_map(P::InstructionsMiss),
        tables().prop_map(P::NextTables),
        tables().prop_map(P::NextTablesMiss),
        acts().prop_map(P::WriteActions),
        acts().prop_map(P::WriteActionsMiss),
        acts().prop_map(P::ApplyActions),
        acts().prop_map(P::ApplyActionsMiss),
        oxms().prop_map(P::Match),
        oxms().prop_map(P::Wildcards),
        oxms().prop_map(P::WriteSetfield),
        oxms().prop_map(P::WriteSetfieldMiss),
        oxms().prop_map(P::ApplySetfield),
        oxms().prop_map(P::ApplySetfieldMiss),
        experimenter_prop().prop_map(P::Experimenter),
        experimenter_prop().prop_map(P::ExperimenterMiss),
        (any::<u16>(), bytes(16))
            .prop_filter("unknown type", |(ty, _)| table_feature_prop_name(*ty)
                .is_none())
            .prop_map(|(ty, data)| P::Unknown { ty, data }),
    ]
}

pub fn table_features() -> impl Strategy<Value = TableFeatures> {
    (
        any::<u8>(),
        cstring(32),
        any::<[u64; 2]>(),
        any::<[u32; 2]>(),
        vec(table_feature_prop(), 0..6),
    )
        .prop_map(|(table_id, name, m, w, properties)| TableFeatures {
            table_id,
            name,
            metadata_match: m[0],
            metadata_write: m[1],
            config: w[0],
            max_entries: w[1],
            properties,
        })
}

pub fn multipart_request_body() -> BoxedStrategy<MultipartRequestBody> {
    use MultipartRequestBody as B;
    prop_oneof![
        Just(B::Desc),
        flow_stats_request().prop_map(B::Flow),
        flow_stats_request().prop_map(B::Aggregate),
        Just(B::Table),
        any::<u32>().prop_map(|port_no| B::PortStats(PortStatsRequest { port_no })),
        (any::<u32>(), any::<u32>())
            .prop_map(|(port_no, queue_id)| B::Queue(QueueStatsRequest { port_no, queue_id })),
        any::<u32>().prop_map(|group_id| B::Group(GroupStatsRequest { group_id })),
        Just(B::GroupDesc),
        Just(B::GroupFeatures),
        any::<u32>().prop_map(|meter_id| B::Meter(MeterStatsRequest { meter_id })),
        any::<u32>().prop_map(|meter_id| B::MeterConfig(MeterConfigRequest { meter_id })),
        Just(B::MeterFeatures),
        vec(table_features(), 0..3).prop_map(B::TableFeatures),
        Just(B::PortDesc),
        experimenter_multipart().prop_map(B::Experimenter),
    ]
    .boxed()
}

pub fn multipart_reply_body() -> BoxedStrategy<MultipartReplyBody> {
    use MultipartReplyBody as B;
    prop_oneof![
        desc().prop_map(B::Desc),
        vec(flow_stats(), 0..4).prop_map(B::Flow),
        aggregate_stats().prop_map(B::Aggregate),
        vec(table_stats(), 0..4).prop_map(B::Table),
        vec(port_stats(), 0..4).prop_map(B::PortStats),
        vec(queue_stats(), 0..4).prop_map(B::Queue),
        vec(group_stats(), 0..4).prop_map(B::Group),
        vec(group_desc(), 0..4).prop_map(B::GroupDesc),
        group_features().prop_map(B::GroupFeatures),
        vec(meter_stats(), 0..4).prop_map(B::Meter),
        vec(meter_config(), 0..4).prop_map(B::MeterConfig),
        meter_features().prop_map(B::MeterFeatures),
        vec(table_features(), 0..3).prop_map(B::TableFeatures),
        vec(port_desc(), 0..4).prop_map(B::PortDesc),
        experimenter_multipart().prop_map(B::Experimenter),
    ]
    .boxed()
}

/// Any multipart request (flags: any 16 bits, kept raw).
pub fn multipart_request() -> impl Strategy<Value = MultipartRequest> {
    (any::<u16>(), multipart_request_body())
        .prop_map(|(flags, body)| MultipartRequest { flags, body })
}

/// Any multipart reply (flags: any 16 bits, kept raw).
pub fn multipart_reply() -> impl Strategy<Value = MultipartReply> {
    (any::<u16>(), multipart_reply_body()).prop_map(|(flags, body)| MultipartReply { flags, body })
}
