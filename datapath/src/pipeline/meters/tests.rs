use super::*;
use crate::pipeline::{Pipeline, PipelineConfig, NANOS_PER_SEC};
use ofproto::text::{parse_meter_cmd, MeterCommand};

fn mm(text: &str) -> MeterMod {
    parse_meter_cmd(text, MeterCommand::Add).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

fn apply(t: &mut MeterTable, m: &MeterMod) -> Result<MeterModOutcome, ErrorCode> {
    t.apply(m, 0).map_err(|e| e.code)
}

fn drop_band(rate: u32, burst_size: u32) -> MeterBand {
    MeterBand::Drop { rate, burst_size }
}

#[test]
fn add_modify_delete_and_delete_all() {
    let mut t = MeterTable::default();
    apply(&mut t, &mm("meter=1,kbps,bands=type=drop,rate=1000")).unwrap();
    apply(
        &mut t,
        &mm("meter=2,pktps,burst,bands=type=drop,rate=10,burst_size=5"),
    )
    .unwrap();
    assert!(t.take_dirty());
    let m = MeterMod {
        command: OFPMC_MODIFY,
        ..mm("meter=1,kbps,bands=type=drop,rate=2000")
    };
    apply(&mut t, &m).unwrap();
    assert_eq!(t.get(1).unwrap().bands[0].rate, 2000);
    let del = |id| MeterMod {
        command: OFPMC_DELETE,
        meter_id: id,
        ..MeterMod::default()
    };
    assert_eq!(apply(&mut t, &del(1)).unwrap().deleted, vec![1]);
    assert!(apply(&mut t, &del(9)).unwrap().deleted.is_empty());
    apply(&mut t, &mm("meter=3,kbps,bands=type=drop,rate=1")).unwrap();
    assert_eq!(apply(&mut t, &del(OFPM_ALL)).unwrap().deleted, vec![2, 3]);
    assert!(t.is_empty());
}

/// Every METER_MOD error code this table gives, each from a minimal case.
#[test]
fn every_error_code() {
    let mut t = MeterTable::new(MeterLimits {
        max_meters: 2,
        max_bands: 2,
    });
    apply(&mut t, &mm("meter=1,kbps,bands=type=drop,rate=1000")).unwrap();
    let base = mm("meter=5,kbps,bands=type=drop,rate=1000");
    let with = |f: &dyn Fn(&mut MeterMod)| {
        let mut m = base.clone();
        f(&mut m);
        m
    };
    let cases: Vec<(MeterMod, ErrorCode)> = vec![
        (
            mm("meter=1,kbps,bands=type=drop,rate=5"),
            OFPMMFC_METER_EXISTS,
        ),
        (with(&|m| m.meter_id = 0), OFPMMFC_INVALID_METER),
        (with(&|m| m.meter_id = OFPM_MAX + 1), OFPMMFC_INVALID_METER),
        (
            with(&|m| m.meter_id = OFPM_CONTROLLER),
            OFPMMFC_INVALID_METER,
        ),
        (with(&|m| m.command = OFPMC_MODIFY), OFPMMFC_UNKNOWN_METER),
        (with(&|m| m.command = 7), OFPMMFC_BAD_COMMAND),
        (
            with(&|m| m.flags = OFPMF_KBPS | OFPMF_PKTPS),
            OFPMMFC_BAD_FLAGS,
        ),
        (with(&|m| m.flags = 0x10), OFPMMFC_BAD_FLAGS),
        (with(&|m| m.bands = vec![drop_band(0, 0)]), OFPMMFC_BAD_RATE),
        (
            with(&|m| {
                m.flags |= OFPMF_BURST;
                m.bands = vec![drop_band(10, 0)];
            }),
            OFPMMFC_BAD_BURST,
        ),
        (
            with(&|m| {
                m.bands = vec![MeterBand::Experimenter {
                    rate: 1,
                    burst_size: 0,
                    experimenter: 0x2320,
                    data: Default::default(),
                }]
            }),
            OFPMMFC_BAD_BAND,
        ),
        (
            with(&|m| {
                m.bands = vec![MeterBand::DscpRemark {
                    rate: 10,
                    burst_size: 0,
                    prec_level: 0,
                }]
            }),
            OFPMMFC_BAD_BAND_VALUE,
        ),
        (
            with(&|m| {
                m.bands = vec![MeterBand::DscpRemark {
                    rate: 10,
                    burst_size: 0,
                    prec_level: 4,
                }]
            }),
            OFPMMFC_BAD_BAND_VALUE,
        ),
        (
            with(&|m| m.bands = vec![drop_band(1, 0); 3]),
            OFPMMFC_OUT_OF_BANDS,
        ),
    ];
    for (m, want) in cases {
        assert_eq!(apply(&mut t, &m).map(|_| ()), Err(want), "{m:?}");
    }
    assert_eq!(t.len(), 1);
    apply(&mut t, &base).unwrap();
    assert_eq!(
        apply(&mut t, &mm("meter=6,kbps,bands=type=drop,rate=1")).map(|_| ()),
        Err(OFPMMFC_OUT_OF_METERS)
    );
    // Neither KBPS nor PKTPS: a kbps meter (as OVS).
    let mut t = MeterTable::default();
    apply(&mut t, &with(&|m| m.flags = 0)).unwrap();
    assert!(!t.get(5).unwrap().is_pktps());
}

const S: u64 = NANOS_PER_SEC;

#[test]
fn token_bucket_starts_full_and_refills_at_the_rate() {
    // 1000 units/s, 100 units of burst.
    let b = TokenBucket::new(1000, 100);
    let t0 = 10 * S;
    assert!(b.take(100, t0));
    assert!(!b.take(1, t0), "empty after the burst");
    // 10 ms later: 10 units.
    assert!(!b.take(11, t0 + S / 100));
    assert!(b.take(10, t0 + S / 100));
    assert!(!b.take(1, t0 + S / 100));
    // Long idle: capped at the burst.
    assert!(!b.take(101, t0 + 100 * S));
    assert!(b.take(100, t0 + 100 * S));
    // A packet larger than the burst never fits.
    let small = TokenBucket::new(1000, 10);
    assert!(!small.take(11, 1000 * S));
}

/// Offered at twice the rate for 10 s (simulated clock): what passes is
/// rate × 10 s + burst, within one packet.
#[test]
fn token_bucket_passes_rate_times_time_plus_burst() {
    let rate_bps = 10_000_000u64; // 10 Mbit/s
    let burst_bits = 1_000_000u64;
    let b = TokenBucket::new(rate_bps, burst_bits);
    let pkt_bits = 1000 * 8;
    // 2 × rate: one 1000-byte packet every 400 µs.
    let gap = S * pkt_bits / (2 * rate_bps);
    let (mut passed, mut t) = (0u64, 5 * S);
    let end = t + 10 * S;
    while t < end {
        if b.take(pkt_bits, t) {
            passed += pkt_bits;
        }
        t += gap;
    }
    let want = rate_bps * 10 + burst_bits;
    assert!(
        passed.abs_diff(want) <= pkt_bits,
        "passed {passed} bits, want {want}"
    );
}

#[test]
fn highest_exceeded_band_applies_and_counts() {
    let mut t = MeterTable::default();
    // pktps: band 10/s remarks, band 20/s drops; bursts of 1 packet.
    let m = MeterMod {
        command: OFPMC_ADD,
        flags: OFPMF_PKTPS | OFPMF_BURST,
        meter_id: 1,
        bands: vec![
            MeterBand::DscpRemark {
                rate: 10,
                burst_size: 1,
                prec_level: 1,
            },
            drop_band(20, 1),
        ],
    };
    t.apply(&m, 0).unwrap();
    let meter = t.get(1).unwrap();
    let now = 3 * S;
    assert!(
        meter.meter(100, now, true).is_none(),
        "first packet: both buckets full"
    );
    // Second packet at once: both empty → the higher rate (drop) applies.
    assert_eq!(
        meter.meter(100, now, true).unwrap().action,
        BandAction::Drop
    );
    // 60 ms later the 20/s bucket has a packet again (50 ms), the 10/s
    // one not (100 ms): remark.
    assert_eq!(
        meter.meter(100, now + 60_000_000, true).unwrap().action,
        BandAction::DscpRemark(1)
    );
    let s = meter.stats(0, now);
    assert_eq!((s.packet_in_count, s.byte_in_count), (3, 300));
    assert_eq!(s.band_stats[0].packet_band_count, 1);
    assert_eq!(s.band_stats[1].packet_band_count, 1);
}

#[test]
fn burst_defaults_to_one_second_of_rate_without_the_burst_flag() {
    let mut t = MeterTable::default();
    // 5 packets/s, burst_size ignored without OFPMF_BURST.
    let m = MeterMod {
        command: OFPMC_ADD,
        flags: OFPMF_PKTPS,
        meter_id: 1,
        bands: vec![drop_band(5, 1000)],
    };
    t.apply(&m, 0).unwrap();
    let meter = t.get(1).unwrap();
    let passed = (0..20)
        .filter(|_| meter.meter(64, S, true).is_none())
        .count();
    assert_eq!(passed, 5);
}

#[test]
fn dscp_remark_raises_drop_precedence_capped() {
    // AF11 (10) +1 → AF12 (12); AF12 +1 → AF13 (14); AF13 stays.
    assert_eq!(remark_dscp(10, 1), 12);
    assert_eq!(remark_dscp(12, 1), 14);
    assert_eq!(remark_dscp(14, 1), 14);
    assert_eq!(remark_dscp(10, 2), 14);
    // Best effort (0): precedence bits 0 → 1 → DSCP 2.
    assert_eq!(remark_dscp(0, 1), 2);
    // EF (46 = 0b101110): precedence bits already 3.
    assert_eq!(remark_dscp(46, 3), 46);
}

#[test]
fn pipeline_removes_flows_of_deleted_meters_and_counts_flows() {
    let mut p = Pipeline::new(PipelineConfig::default());
    let flow = |t: &str| ofproto::text::parse_flow(t, ofproto::text::FlowCommand::Add).unwrap();
    p.apply_meter_mod(&mm("meter=1,kbps,bands=type=drop,rate=1000"), 0)
        .unwrap();
    p.apply_meter_mod(&mm("meter=2,kbps,bands=type=drop,rate=1000"), 0)
        .unwrap();
    for f in [
        "priority=1,in_port=1 actions=meter:1,output:2",
        "priority=2,in_port=1 actions=meter:1,output:3",
        "priority=3,in_port=1 actions=meter:2,output:3",
    ] {
        p.apply_flow_mod(&flow(f), 0).unwrap();
    }
    let s = p.meter_stats(OFPM_ALL, 0);
    assert_eq!(
        s.iter()
            .map(|m| (m.meter_id, m.flow_count))
            .collect::<Vec<_>>(),
        vec![(1, 2), (2, 1)]
    );
    p.publish();
    assert!(p.snapshot().meters().get(2).is_some());
    let del = MeterMod {
        command: OFPMC_DELETE,
        meter_id: 1,
        ..MeterMod::default()
    };
    let (_, removed) = p.apply_meter_mod(&del, 0).unwrap();
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|r| r.reason == OFPRR_DELETE));
    assert_eq!(p.len(), 1);
    p.publish();
    assert!(p.snapshot().meters().get(1).is_none());
}

#[test]
fn features_name_bands_flags_and_limits() {
    let f = MeterTable::new(MeterLimits {
        max_meters: 7,
        max_bands: 3,
    })
    .features();
    assert_eq!(f.max_meter, 7);
    assert_eq!(f.max_bands, 3);
    assert_eq!(f.band_types, 0b110);
    assert_eq!(f.capabilities, 0xf);
}
