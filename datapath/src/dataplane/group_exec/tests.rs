//! Group and meter execution: the pure choices (select hashing and weights,
//! fast-failover) on made-up liveness, and the real worker on in-memory
//! ports (the same `Worker::process` the threads run, cache included).

use super::*;
use crate::dataplane::tests::MemPort;
use crate::dataplane::worker::Worker;
use crate::dataplane::{Datapath, DatapathConfig};
use crate::packet::{parse_frame, FlowKey};
use crate::pipeline::clock;
use crate::pipeline::groups::{GroupBucket, PacketCounter};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::port::Offloads;
use ofproto::text::{
    parse_flow, parse_group_cmd, parse_meter_cmd, FlowCommand, GroupCommand, MeterCommand,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

// ---------------------------------------------------------------------------
// Pure choices
// ---------------------------------------------------------------------------

struct FakeLive {
    down: HashSet<u32>,
    groups: HashMap<u32, Group>,
}

impl Liveness for FakeLive {
    fn port_live(&self, p: u32) -> bool {
        !self.down.contains(&p)
    }
    fn group(&self, id: u32) -> Option<&Group> {
        self.groups.get(&id)
    }
}

fn bucket(weight: u16, watch_port: u32, watch_group: u32) -> GroupBucket {
    GroupBucket {
        weight,
        watch_port,
        watch_group,
        actions: vec![],
        mutates: false,
        counters: PacketCounter::default(),
    }
}

fn group(ty: u8, buckets: Vec<GroupBucket>) -> Group {
    Group {
        id: 1,
        group_type: ty,
        buckets: buckets.into_boxed_slice(),
        counters: Default::default(),
        created: 0,
    }
}

fn live(down: &[u32]) -> FakeLive {
    FakeLive {
        down: down.iter().copied().collect(),
        groups: HashMap::new(),
    }
}

fn choose(l: &FakeLive, g: &Group, hash: u64) -> Vec<usize> {
    choose_buckets(l, g, || hash).iter().collect()
}

/// A well-spread hash per "flow" number.
fn h(i: u64) -> u64 {
    mix(i, 0x2545_f491_4f6c_dd1d)
}

#[test]
fn select_spreads_by_weight_and_is_stable_per_flow() {
    let g = group(
        OFPGT_SELECT,
        vec![
            bucket(1, OFPP_ANY, OFPG_ANY),
            bucket(1, OFPP_ANY, OFPG_ANY),
            bucket(2, OFPP_ANY, OFPG_ANY),
        ],
    );
    let l = live(&[]);
    let mut counts = [0u32; 3];
    for i in 0..40_000 {
        let c = choose(&l, &g, h(i));
        assert_eq!(c.len(), 1);
        assert_eq!(c, choose(&l, &g, h(i)), "same flow, same bucket");
        counts[c[0]] += 1;
    }
    // Expected 10 000 / 10 000 / 20 000: within 5 %.
    for (i, want) in [(0, 10_000.0), (1, 10_000.0), (2, 20_000.0)] {
        let got = f64::from(counts[i]);
        assert!((got - want).abs() / want < 0.05, "bucket {i}: {counts:?}");
    }
}

#[test]
fn select_skips_dead_buckets_and_moves_only_their_flows() {
    let g = group(
        OFPGT_SELECT,
        vec![
            bucket(1, 1, OFPG_ANY),
            bucket(1, 2, OFPG_ANY),
            bucket(1, 3, OFPG_ANY),
        ],
    );
    let all_up = live(&[]);
    let two_down = live(&[2]);
    let mut moved = 0;
    for i in 0..3000 {
        let before = choose(&all_up, &g, h(i))[0];
        let after = choose(&two_down, &g, h(i))[0];
        assert_ne!(after, 1, "a dead bucket gets nothing");
        if before != 1 {
            assert_eq!(before, after, "flows of live buckets stay put");
        } else {
            moved += 1;
        }
    }
    assert!(moved > 800 && moved < 1200, "{moved}");
    assert!(choose(&live(&[1, 2, 3]), &g, 5).is_empty());
}

#[test]
fn select_weight_zero_gets_nothing_unless_all_are_zero() {
    let l = live(&[]);
    let g = group(
        OFPGT_SELECT,
        vec![bucket(0, OFPP_ANY, OFPG_ANY), bucket(3, OFPP_ANY, OFPG_ANY)],
    );
    assert!((0..1000).all(|i| choose(&l, &g, h(i)) == vec![1]));
    let g = group(
        OFPGT_SELECT,
        vec![bucket(0, OFPP_ANY, OFPG_ANY), bucket(0, OFPP_ANY, OFPG_ANY)],
    );
    assert!((0..100).all(|i| choose(&l, &g, h(i)) == vec![1]));
}

#[test]
fn fast_failover_takes_the_first_live_bucket_by_port_and_group() {
    let mut l = live(&[]);
    // Group 7 is live while port 9 is.
    l.groups
        .insert(7, group(OFPGT_FF, vec![bucket(0, 9, OFPG_ANY)]));
    let g = group(
        OFPGT_FF,
        vec![
            bucket(0, 1, OFPG_ANY),
            bucket(0, OFPP_ANY, 7),
            bucket(0, 3, OFPG_ANY),
        ],
    );
    assert_eq!(choose(&l, &g, 0), vec![0]);
    l.down.insert(1);
    assert_eq!(choose(&l, &g, 0), vec![1]);
    l.down.insert(9);
    assert_eq!(choose(&l, &g, 0), vec![2]);
    l.down.insert(3);
    assert!(choose(&l, &g, 0).is_empty());
    l.down.remove(&1);
    assert_eq!(choose(&l, &g, 0), vec![0]);
}

#[test]
fn all_and_indirect_take_every_bucket() {
    let l = live(&[1]);
    let g = group(
        OFPGT_ALL,
        vec![bucket(0, OFPP_ANY, OFPG_ANY), bucket(0, OFPP_ANY, OFPG_ANY)],
    );
    assert_eq!(choose(&l, &g, 0), vec![0, 1]);
    let g = group(OFPGT_INDIRECT, vec![bucket(0, OFPP_ANY, OFPG_ANY)]);
    assert_eq!(choose(&l, &g, 0), vec![0]);
}

#[test]
fn flow_hash_covers_the_five_tuple_and_ethernet_for_non_ip() {
    let key = |f: &[u8]| {
        let mut k = FlowKey::ZERO;
        let info = parse_frame(f, 1, &mut k);
        (k, info.l3)
    };
    let a = key(&udp(1, 2, 1000, 53));
    let b = key(&udp(1, 2, 1001, 53));
    let c = key(&udp(1, 2, 1000, 53));
    assert_ne!(flow_hash(&a.0, a.1), flow_hash(&b.0, b.1));
    assert_eq!(flow_hash(&a.0, a.1), flow_hash(&c.0, c.1));
    // The Ethernet source does not matter for IP...
    let d = key(&udp(9, 2, 1000, 53));
    assert_eq!(flow_hash(&a.0, a.1), flow_hash(&d.0, d.1));
    // ...but does for non-IP.
    let e1 = key(&eth_frame(1, 2, 0x88b5));
    let e2 = key(&eth_frame(3, 2, 0x88b5));
    assert_ne!(flow_hash(&e1.0, e1.1), flow_hash(&e2.0, e2.1));
}

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

fn mac(n: u8) -> [u8; 6] {
    [2, 0, 0, 0, 0, n]
}

fn eth_frame(src: u8, dst: u8, et: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&mac(dst));
    f.extend_from_slice(&mac(src));
    f.extend_from_slice(&et.to_be_bytes());
    f.extend_from_slice(&[0u8; 46]);
    f
}

fn csum(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// UDP 10.0.0.1:sport -> 10.0.0.2:dport, DSCP `dscp`, 64 bytes of payload.
fn udp_dscp(src: u8, dst: u8, sport: u16, dport: u16, dscp: u8) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&mac(dst));
    f.extend_from_slice(&mac(src));
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let payload = [0xabu8; 64];
    let total = 20 + 8 + payload.len();
    let mut ip = vec![
        0x45,
        dscp << 2,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        1,
        10,
        0,
        0,
        2,
    ];
    let c = csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&payload);
    f
}

fn udp(src: u8, dst: u8, sport: u16, dport: u16) -> Vec<u8> {
    udp_dscp(src, dst, sport, dport, 0)
}

// ---------------------------------------------------------------------------
// The worker on in-memory ports
// ---------------------------------------------------------------------------

struct GBed {
    pipeline: Pipeline,
    dp: Arc<Datapath>,
    ports: Vec<(u32, Arc<MemPort>)>,
    worker: Worker,
    _pins: tokio::sync::mpsc::Receiver<crate::dataplane::PacketInEvent>,
}

impl GBed {
    fn new(n: u32) -> GBed {
        let pipeline = Pipeline::new(PipelineConfig::default());
        let (tx, pins) = tokio::sync::mpsc::channel(64);
        let dp = Datapath::new(
            DatapathConfig {
                bridge: "br-g".into(),
                table_miss: crate::config::TableMiss::Drop,
                packet_in_rate: 0,
            },
            pipeline.reader(),
            tx,
        );
        let mut ports = Vec::new();
        for p in 1..=n {
            let mp = MemPort::new(&format!("g{p}"), Offloads::NONE);
            dp.add_port(p, mp.clone());
            ports.push((p, mp));
        }
        let worker = Worker::new(Arc::clone(&dp), 0, 1);
        GBed {
            pipeline,
            dp,
            ports,
            worker,
            _pins: pins,
        }
    }

    fn group(&mut self, text: &str, cmd: GroupCommand) {
        let gm = parse_group_cmd(text, cmd).unwrap();
        self.pipeline
            .apply_group_mod(&gm, clock::now(), |_| Ok(()))
            .unwrap();
        self.pipeline.publish();
    }

    fn meter(&mut self, text: &str) {
        let mm = parse_meter_cmd(text, MeterCommand::Add).unwrap();
        self.pipeline.apply_meter_mod(&mm, clock::now()).unwrap();
        self.pipeline.publish();
    }

    fn flow(&mut self, text: &str) {
        let fm = parse_flow(text, FlowCommand::Add).unwrap();
        self.pipeline.apply_flow_mod(&fm, clock::now()).unwrap();
        self.pipeline.publish();
    }

    fn send_many(&mut self, p: u32, frames: &[Vec<u8>]) {
        let port = &self.ports.iter().find(|x| x.0 == p).unwrap().1;
        for f in frames {
            port.inject(f);
        }
        let e = Arc::clone(self.dp.ports.load().get(p).unwrap());
        while self.worker.poll_port(&e).unwrap() > 0 {}
    }

    fn sent_to(&self, p: u32) -> Vec<Vec<u8>> {
        self.ports.iter().find(|x| x.0 == p).unwrap().1.take()
    }
}

#[test]
fn all_group_sends_to_every_bucket_and_counts() {
    let mut bed = GBed::new(4);
    bed.group(
        "group_id=1,type=all,bucket=output:2,bucket=output:3,bucket=push_vlan:0x8100,set_field:4097->vlan_vid,output:4",
        GroupCommand::Add,
    );
    bed.flow("priority=1,in_port=1 actions=group:1,output:2");
    let f = udp(1, 2, 1, 2);
    bed.send_many(1, &[f.clone(), f.clone()]);
    // Port 2: the bucket's copy and the flow's own output, untouched.
    assert_eq!(bed.sent_to(2), vec![f.clone(); 4]);
    assert_eq!(bed.sent_to(3), vec![f.clone(); 2]);
    let tagged = bed.sent_to(4);
    assert_eq!(tagged.len(), 2);
    assert_eq!(
        &tagged[0][12..14],
        &[0x81, 0x00],
        "bucket 3 pushed a tag on its copy"
    );
    let s = bed.pipeline.group_stats(1, clock::now());
    assert_eq!((s[0].packet_count, s[0].ref_count), (2, 1));
    assert!(s[0].bucket_stats.iter().all(|b| b.packet_count == 2));
    assert!(
        bed.dp.stats().cache_hits >= 1,
        "the second frame hit the cache"
    );
}

#[test]
fn select_group_uses_every_bucket_and_keeps_each_flow_on_one() {
    let mut bed = GBed::new(4);
    bed.group(
        "group_id=1,type=select,bucket=output:2,bucket=output:3,bucket=output:4",
        GroupCommand::Add,
    );
    bed.flow("priority=1,in_port=1 actions=group:1");
    let frames: Vec<Vec<u8>> = (0..300).map(|i| udp(1, 2, 1000 + i, 53)).collect();
    bed.send_many(1, &frames);
    let mut port_of = HashMap::new();
    for p in 2..=4 {
        let got = bed.sent_to(p);
        assert!(got.len() > 50, "port {p} got {}", got.len());
        for f in got {
            port_of.insert(f, p);
        }
    }
    assert_eq!(port_of.len(), 300);
    // Again (cache hits now): every flow to the same port as before.
    bed.send_many(1, &frames);
    for p in 2..=4 {
        for f in bed.sent_to(p) {
            assert_eq!(port_of[&f], p);
        }
    }
}

#[test]
fn fast_failover_follows_port_state_on_cached_flows() {
    let mut bed = GBed::new(3);
    bed.group(
        "group_id=1,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3",
        GroupCommand::Add,
    );
    bed.flow("priority=1,in_port=1 actions=group:1");
    let f = udp(1, 2, 7, 7);
    bed.send_many(1, std::slice::from_ref(&f));
    assert_eq!(bed.sent_to(2).len(), 1);
    // Link down on port 2: the cached verdict now goes to port 3.
    bed.dp.set_port_state(2, OFPPS_LINK_DOWN);
    bed.send_many(1, std::slice::from_ref(&f));
    assert_eq!((bed.sent_to(2).len(), bed.sent_to(3).len()), (0, 1));
    bed.dp.set_port_state(2, 0);
    bed.dp.set_port_config(3, OFPPC_PORT_DOWN);
    bed.send_many(1, std::slice::from_ref(&f));
    assert_eq!((bed.sent_to(2).len(), bed.sent_to(3).len()), (1, 0));
    bed.dp.set_port_config(2, OFPPC_PORT_DOWN);
    bed.send_many(1, &[f]);
    assert_eq!((bed.sent_to(2).len(), bed.sent_to(3).len()), (0, 0));
}

#[test]
fn modified_group_takes_effect_for_cached_flows_and_chains_work() {
    let mut bed = GBed::new(4);
    bed.group(
        "group_id=2,type=indirect,bucket=output:4",
        GroupCommand::Add,
    );
    bed.group(
        "group_id=1,type=indirect,bucket=output:2",
        GroupCommand::Add,
    );
    bed.flow("priority=1,in_port=1 actions=group:1");
    let f = udp(1, 2, 7, 7);
    bed.send_many(1, std::slice::from_ref(&f));
    assert_eq!(bed.sent_to(2).len(), 1);
    bed.group(
        "group_id=1,type=indirect,bucket=group:2",
        GroupCommand::Modify,
    );
    bed.send_many(1, std::slice::from_ref(&f));
    assert_eq!((bed.sent_to(2).len(), bed.sent_to(4).len()), (0, 1));
}

#[test]
fn meter_drops_above_its_rate_on_cache_hits_too() {
    let mut bed = GBed::new(2);
    // 10 packets/s, burst 5: of 50 frames at once, 5 pass.
    bed.meter("meter=1,pktps,burst,bands=type=drop,rate=10,burst_size=5");
    bed.flow("priority=1,in_port=1 actions=meter:1,output:2");
    let frames: Vec<Vec<u8>> = (0..50).map(|_| udp(1, 2, 7, 7)).collect();
    bed.send_many(1, &frames);
    assert_eq!(bed.sent_to(2).len(), 5);
    assert_eq!(bed.dp.stats().meter_dropped, 45);
    let s = bed.pipeline.meter_stats(1, clock::now());
    assert_eq!((s[0].packet_in_count, s[0].flow_count), (50, 1));
    assert_eq!(s[0].band_stats[0].packet_band_count, 45);
}

#[test]
fn dscp_remark_band_rewrites_dscp_with_a_valid_checksum() {
    let mut bed = GBed::new(2);
    bed.meter("meter=1,pktps,burst,bands=type=dscp_remark,rate=1,burst_size=1,prec_level=1");
    bed.flow("priority=1,in_port=1 actions=meter:1,output:2");
    // AF11 (DSCP 10): the first passes as is, the second becomes AF12.
    let frames = vec![udp_dscp(1, 2, 7, 7, 10), udp_dscp(1, 2, 7, 7, 10)];
    bed.send_many(1, &frames);
    let got = bed.sent_to(2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][15] >> 2, 10);
    assert_eq!(got[1][15] >> 2, 12);
    assert_eq!(csum(&got[1][14..34]), 0, "IPv4 header checksum still valid");
}
