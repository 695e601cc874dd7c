//! Data-plane tests: hermetic (no root, no devices). [`MemPort`] is a port
//! in memory — a queue of frames to receive, a record of frames sent, and
//! an eventfd that polls readable while frames are queued — so the same
//! tests run the real worker code either synchronously (a [`Worker`]
//! driven from the test thread: deterministic) or on real worker threads.

use super::worker::{EventFd, Worker};
use super::*;
use crate::packet::parse_frame;
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::port::{LinkState, MacAddr as PortMac, Offloads, PacketBatch, TxMeta, VnetHdr};
use ofproto::text::{parse_flow, FlowCommand};
use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::Condvar;
use std::time::Instant;
use tokio::sync::mpsc;

// ---------------------------------------------------------------------------
// MemPort
// ---------------------------------------------------------------------------

pub(crate) struct MemPort {
    name: String,
    mac: PortMac,
    rx: Mutex<VecDeque<(Vec<u8>, VnetHdr)>>,
    sent: Mutex<Vec<(Vec<u8>, VnetHdr)>>,
    sent_cv: Condvar,
    ready: EventFd,
    offloads: Offloads,
}

impl MemPort {
    pub fn new(name: &str, offloads: Offloads) -> Arc<MemPort> {
        let n = name.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        Arc::new(MemPort {
            name: name.into(),
            mac: PortMac([0x02, 0, 0, 0, 0, n]),
            rx: Mutex::new(VecDeque::new()),
            sent: Mutex::new(Vec::new()),
            sent_cv: Condvar::new(),
            ready: EventFd::new().unwrap(),
            offloads,
        })
    }

    pub fn inject(&self, frame: &[u8]) {
        self.inject_with(frame, VnetHdr::NONE);
    }

    pub fn inject_with(&self, frame: &[u8], vh: VnetHdr) {
        self.rx.lock().unwrap().push_back((frame.to_vec(), vh));
        self.ready.signal();
    }

    /// Frames sent so far (and forgets them).
    pub fn take(&self) -> Vec<Vec<u8>> {
        self.take_with_meta().into_iter().map(|f| f.0).collect()
    }

    pub fn take_with_meta(&self) -> Vec<(Vec<u8>, VnetHdr)> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }

    /// Waits until at least `n` frames were sent, then takes them.
    pub fn wait_take(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut g = self.sent.lock().unwrap();
        while g.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            g = self.sent_cv.wait_timeout(g, left).unwrap().0;
        }
        std::mem::take(&mut *g).into_iter().map(|f| f.0).collect()
    }
}

impl Port for MemPort {
    fn recv_batch(&self, bufs: &mut PacketBatch) -> io::Result<usize> {
        // Reset readiness first; re-arm if frames are left (an inject
        // after this point signals again).
        self.ready.drain();
        bufs.clear();
        let mut q = self.rx.lock().unwrap();
        while bufs.len() < bufs.capacity() {
            let Some((f, vh)) = q.pop_front() else { break };
            assert!(bufs.push(&f, vh));
        }
        if !q.is_empty() {
            self.ready.signal();
        }
        Ok(bufs.len())
    }

    fn send(&self, frame: &[u8], meta: &TxMeta) -> io::Result<()> {
        if meta.offload.is_gso() && !self.offloads.accepts(&meta.offload) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "GSO"));
        }
        self.sent
            .lock()
            .unwrap()
            .push((frame.to_vec(), meta.offload));
        self.sent_cv.notify_all();
        Ok(())
    }

    fn fd(&self) -> RawFd {
        self.ready.fd()
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn hw_addr(&self) -> PortMac {
        self.mac
    }

    fn link_state(&self) -> LinkState {
        LinkState::UP
    }

    fn tx_offloads(&self) -> Offloads {
        self.offloads
    }
}

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0, 0, n]
}

const BCAST: [u8; 6] = [0xff; 6];

fn eth(dst: [u8; 6], src: [u8; 6], et: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend(dst);
    f.extend(src);
    f.extend(et.to_be_bytes());
    f.extend(payload);
    f
}

fn arp_req(src: u8, spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0, 1, 0x08, 0, 6, 4, 0, 1];
    p.extend(mac(src));
    p.extend(spa);
    p.extend([0; 6]);
    p.extend(tpa);
    eth(BCAST, mac(src), 0x0806, &p)
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

fn ipv4(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    ttl: u8,
    l4: &[u8],
) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend(((20 + l4.len()) as u16).to_be_bytes());
    h.extend([0, 0, 0x40, 0, ttl, proto, 0, 0]);
    h.extend(src);
    h.extend(dst);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend(l4);
    eth(dst_mac, src_mac, 0x0800, &h)
}

fn icmp(src: u8, dst: u8, sip: [u8; 4], dip: [u8; 4]) -> Vec<u8> {
    let mut l4 = vec![8, 0, 0, 0, 0, 1, 0, 1];
    l4.extend([0xab; 32]);
    let c = csum(&l4);
    l4[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(mac(dst), mac(src), sip, dip, 1, 64, &l4)
}

fn udp_ttl(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    sip: [u8; 4],
    dip: [u8; 4],
    sport: u16,
    dport: u16,
    ttl: u8,
) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend(sport.to_be_bytes());
    l4.extend(dport.to_be_bytes());
    l4.extend(16u16.to_be_bytes());
    l4.extend([0, 0]);
    l4.extend(*b"payload!");
    ipv4(dst_mac, src_mac, sip, dip, 17, ttl, &l4)
}

fn udp(src: u8, dst: u8, sip: [u8; 4], dip: [u8; 4], dport: u16) -> Vec<u8> {
    udp_ttl(mac(dst), mac(src), sip, dip, 40000, dport, 64)
}

/// Inserts an 802.1Q tag with `vid` as the new outermost tag.
fn tagged(mut f: Vec<u8>, vid: u16) -> Vec<u8> {
    let tag = [0x81, 0x00, (vid >> 8) as u8, vid as u8];
    f.splice(12..12, tag);
    f
}

fn ipv6_frame(src: u8, dst: u8) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
    p.extend([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, src]);
    p.extend([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, dst]);
    p.extend([0, 1, 0, 2, 0, 8, 0, 0]);
    eth(mac(dst), mac(src), 0x86dd, &p)
}

const A: [u8; 4] = [10, 10, 10, 11];
const B: [u8; 4] = [10, 10, 10, 12];
const C: [u8; 4] = [10, 10, 10, 13];

fn eth_dst_of(f: &[u8]) -> [u8; 6] {
    f[..6].try_into().unwrap()
}

fn vid_of(f: &[u8]) -> Option<u16> {
    (f[12..14] == [0x81, 0x00]).then(|| u16::from_be_bytes([f[14], f[15]]) & 0xfff)
}

// ---------------------------------------------------------------------------
// Test bed
// ---------------------------------------------------------------------------

struct Bed {
    pipeline: Pipeline,
    dp: Arc<Datapath>,
    pins: mpsc::Receiver<PacketInEvent>,
    ports: Vec<(u32, Arc<MemPort>)>,
    worker: Worker,
}

fn cfg(table_miss: TableMiss) -> DatapathConfig {
    DatapathConfig {
        bridge: "br-test".into(),
        table_miss,
        packet_in_rate: 0,
    }
}

impl Bed {
    /// Ports 1..=n.
    fn new(n: u32) -> Bed {
        Bed::with(n, TableMiss::Drop, 1024)
    }

    fn with(n: u32, table_miss: TableMiss, pin_queue: usize) -> Bed {
        let pipeline = Pipeline::new(PipelineConfig::default());
        let (tx, pins) = mpsc::channel(pin_queue);
        let dp = Datapath::new(cfg(table_miss), pipeline.reader(), tx);
        let mut ports = Vec::new();
        for p in 1..=n {
            let mp = MemPort::new(&format!("mem{p}"), Offloads::NONE);
            dp.add_port(p, mp.clone());
            ports.push((p, mp));
        }
        let worker = Worker::new(Arc::clone(&dp), 0, 1);
        Bed {
            pipeline,
            dp,
            pins,
            ports,
            worker,
        }
    }

    fn port(&self, p: u32) -> &Arc<MemPort> {
        &self.ports.iter().find(|x| x.0 == p).expect("port").1
    }

    fn add_port(&mut self, p: u32, offloads: Offloads) -> Arc<MemPort> {
        let mp = MemPort::new(&format!("mem{p}"), offloads);
        self.dp.add_port(p, mp.clone());
        self.ports.push((p, mp.clone()));
        mp
    }

    fn try_flow(&mut self, text: &str) -> Result<(), String> {
        let fm = parse_flow(text, FlowCommand::Add).map_err(|e| format!("{e:?}"))?;
        self.pipeline
            .apply_flow_mod(&fm, clock::now())
            .map_err(|e| format!("{e:?}"))?;
        self.pipeline.publish();
        Ok(())
    }

    fn flow(&mut self, text: &str) {
        self.try_flow(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    fn flows(&mut self, texts: &[&str]) {
        for t in texts {
            self.flow(t);
        }
    }

    fn del_flows(&mut self, text: &str) {
        let fm = parse_flow(text, FlowCommand::Delete).unwrap();
        self.pipeline.apply_flow_mod(&fm, clock::now()).unwrap();
        self.pipeline.publish();
    }

    /// Receives `frames` on port `p` (one batch if they fit) and processes them.
    fn send_many(&mut self, p: u32, frames: &[Vec<u8>]) {
        for f in frames {
            self.port(p).inject(f);
        }
        let e = Arc::clone(self.dp.ports.load().get(p).unwrap());
        while self.worker.poll_port(&e).unwrap() > 0 {}
    }

    fn send(&mut self, p: u32, frame: &[u8]) {
        self.send_many(p, &[frame.to_vec()]);
    }

    /// Frames each port sent, by port, and forgets them.
    fn sent(&self) -> Vec<(u32, Vec<Vec<u8>>)> {
        self.ports
            .iter()
            .map(|(p, m)| (*p, m.take()))
            .filter(|x| !x.1.is_empty())
            .collect()
    }

    fn sent_to(&self, p: u32) -> Vec<Vec<u8>> {
        self.port(p).take()
    }

    fn packet_ins(&mut self) -> Vec<PacketInEvent> {
        let mut v = Vec::new();
        while let Ok(e) = self.pins.try_recv() {
            v.push(e);
        }
        v
    }

    /// (packets, bytes) of the flow with `cookie`.
    fn flow_counts(&self, cookie: u64) -> (u64, u64) {
        let snap = self.pipeline.snapshot();
        for t in 0..=254u8 {
            if let Some(e) = snap
                .table(t)
                .and_then(|ts| ts.iter().find(|e| e.cookie == cookie))
            {
                return (e.packet_count(), e.byte_count());
            }
        }
        panic!("no flow with cookie {cookie:#x}")
    }

    fn table_counts(&self, t: u8) -> (u64, u64) {
        let s = &self.pipeline.table_stats()[usize::from(t)];
        (s.lookup_count, s.matched_count)
    }
}

fn seed_flows(bed: &mut Bed) {
    bed.flows(&[
        "cookie=0x1,priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
        "cookie=0x2,priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
        "cookie=0x3,priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
        "cookie=0x4,priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
        "cookie=0x5,priority=90,ip,nw_dst=10.10.10.11 actions=output:1",
        "cookie=0x6,priority=90,ip,nw_dst=10.10.10.12 actions=output:2",
    ]);
}

// ---------------------------------------------------------------------------
// Forwarding basics
// ---------------------------------------------------------------------------

#[test]
fn seed_flows_forward_arp_icmp_ip_between_two_ports_and_nothing_else() {
    let mut bed = Bed::new(3);
    seed_flows(&mut bed);
    let arp = arp_req(11, A, B);
    bed.send(1, &arp);
    assert_eq!(bed.sent(), vec![(2, vec![arp.clone()])]);
    let ping = icmp(11, 12, A, B);
    bed.send(1, &ping);
    assert_eq!(bed.sent(), vec![(2, vec![ping])]);
    let back = udp(12, 11, B, A, 53);
    bed.send(2, &back);
    assert_eq!(bed.sent(), vec![(1, vec![back])]);
    // Not covered by a flow: ARP for another address, IPv6, IP elsewhere.
    bed.send(1, &arp_req(11, A, C));
    bed.send(1, &ipv6_frame(11, 12));
    bed.send(3, &udp(13, 14, C, [10, 10, 10, 14], 80));
    assert_eq!(bed.sent(), vec![]);
    assert_eq!(bed.dp.stats().table_miss_dropped, 3);
    // Same again: now from the flow cache.
    bed.send(1, &arp);
    bed.send(1, &arp_req(11, A, C));
    assert_eq!(bed.sent(), vec![(2, vec![arp])]);
    assert!(bed.dp.stats().cache_hits >= 2);
}

#[test]
fn flow_table_and_port_counters_count_packets_and_bytes() {
    let mut bed = Bed::new(2);
    seed_flows(&mut bed);
    let ping = icmp(11, 12, A, B);
    let len = ping.len() as u64;
    // Single packets (slow path, then cache) and a batch of 4 (cache).
    bed.send(1, &ping);
    bed.send(1, &ping);
    bed.send_many(1, &vec![ping.clone(); 4]);
    bed.send(1, &ipv6_frame(11, 12)); // a miss
    assert_eq!(bed.flow_counts(0x4), (6, 6 * len));
    assert_eq!(bed.flow_counts(0x6), (0, 0));
    assert_eq!(bed.table_counts(0), (7, 6));
    let c1 = bed.dp.port_counters(1).unwrap();
    let c2 = bed.dp.port_counters(2).unwrap();
    assert_eq!(c1.rx_packets, 7);
    assert_eq!(c1.rx_bytes, 6 * len + ipv6_frame(11, 12).len() as u64);
    assert_eq!(c1.tx_packets, 0);
    assert_eq!((c2.tx_packets, c2.tx_bytes), (6, 6 * len));
    assert_eq!(bed.sent_to(2).len(), 6);
    assert_eq!(bed.dp.port_counters(9), None);
}

// ---------------------------------------------------------------------------
// Instructions and the action set
// ---------------------------------------------------------------------------

#[test]
fn goto_table_and_write_metadata_steer_the_next_table() {
    let mut bed = Bed::new(3);
    bed.flows(&[
        "table=0,priority=10,in_port=1 actions=write_metadata:0x5/0xff,goto_table:2",
        "table=0,priority=10,in_port=2 actions=write_metadata:0x7,goto_table:1",
        "table=1,priority=10,metadata=0x7 actions=output:3",
        "table=2,priority=10,metadata=0x5/0xff actions=output:2",
        "table=2,priority=5 actions=output:1",
    ]);
    bed.send(1, &udp(11, 12, A, B, 53));
    assert_eq!(bed.sent_to(2).len(), 1);
    bed.send(2, &udp(12, 11, B, A, 53));
    assert_eq!(bed.sent_to(3).len(), 1);
    assert_eq!(bed.sent(), vec![]);
    assert_eq!(bed.table_counts(1), (1, 1));
    assert_eq!(bed.table_counts(2), (1, 1));
}

#[test]
fn write_metadata_is_in_the_packet_in_match() {
    let mut bed = Bed::new(2);
    bed.flows(&[
        "table=0,priority=10 actions=write_metadata:0xab00/0xff00,goto_table:3",
        "cookie=0x33,table=3,priority=10 actions=CONTROLLER:64",
    ]);
    bed.send(1, &udp(11, 12, A, B, 53));
    let p = bed.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].reason, OFPR_ACTION);
    assert_eq!((p[0].table_id, p[0].cookie), (3, 0x33));
    assert_eq!(
        p[0].match_,
        Match::new(vec![
            ofproto::oxm::OxmField::InPort(1),
            ofproto::oxm::OxmField::Metadata(0xab00, None)
        ])
    );
}

#[test]
fn action_set_executes_in_spec_order_not_written_order() {
    use ofproto::instruction::Instruction;
    use ofproto::oxm::OxmField;
    let mut bed = Bed::new(3);
    // Written order: output, set vid, push tag, rewrite ip_dst (the text
    // syntax refuses this order, so the FLOW_MOD is built by hand). Spec
    // order: push_vlan, then the set_fields (so the VID lands in the new
    // tag), output last.
    let mut fm = parse_flow("priority=10,udp actions=drop", FlowCommand::Add).unwrap();
    fm.instructions = vec![Instruction::WriteActions(vec![
        out(2),
        Action::SetField(OxmField::VlanVid(0x1000 | 10, None)),
        Action::PushVlan(0x8100),
        Action::SetField(OxmField::Ipv4Dst([10, 0, 0, 99].into(), None)),
    ])];
    bed.pipeline.apply_flow_mod(&fm, clock::now()).unwrap();
    bed.pipeline.publish();
    for _ in 0..2 {
        bed.send(1, &udp(11, 12, A, B, 53));
        let out = bed.sent_to(2);
        assert_eq!(out.len(), 1);
        assert_eq!(vid_of(&out[0]), Some(10));
        let mut k = FlowKey::default();
        parse_frame(&out[0], 2, &mut k);
        assert_eq!(
            k.get_field(ofproto::oxm::OFPXMT_OFB_IPV4_DST),
            &[10, 0, 0, 99]
        );
    }
    let t = bed.dp.trace(1, &udp(11, 12, A, B, 53));
    assert_eq!(
        t.final_actions,
        "push_vlan:0x8100,set_field:4106->vlan_vid,set_field:10.0.0.99->ip_dst,output:2"
    );
}

#[test]
fn later_write_actions_replace_same_type_and_field_and_clear_actions_empties_the_set() {
    let mut bed = Bed::new(4);
    bed.flows(&[
        "table=0,priority=10,udp,tp_dst=53 actions=write_actions(output:2,set_field:10.0.0.1->ip_dst),goto_table:1",
        "table=0,priority=10,udp,tp_dst=80 actions=write_actions(output:2),goto_table:2",
        "table=1,priority=10,ip actions=write_actions(output:3,set_field:10.0.0.2->ip_dst)",
        "table=2,priority=10 actions=clear_actions",
    ]);
    bed.send(1, &udp(11, 12, A, B, 53));
    let s = bed.sent();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, 3);
    let mut k = FlowKey::default();
    parse_frame(&s[0].1[0], 3, &mut k);
    assert_eq!(
        k.get_field(ofproto::oxm::OFPXMT_OFB_IPV4_DST),
        &[10, 0, 0, 2]
    );
    // Table 2 cleared what table 0 wrote: dropped.
    bed.send(1, &udp(11, 12, A, B, 80));
    assert_eq!(bed.sent(), vec![]);
}

#[test]
fn apply_actions_output_sends_the_packet_as_it_is_at_that_point() {
    let mut bed = Bed::new(3);
    bed.flow("priority=10,udp actions=output:2,set_field:52:54:00:00:00:99->eth_dst,output:3");
    for round in 0..3 {
        // Rounds 1 and 2 come from the cache (copy vs in-place sends).
        let f = udp(11, 12, A, B, 53);
        bed.send_many(1, &[f.clone(), f.clone()]);
        let to2 = bed.sent_to(2);
        let to3 = bed.sent_to(3);
        assert_eq!(to2, vec![f.clone(), f.clone()], "round {round}");
        assert_eq!(to3.len(), 2);
        assert_eq!(eth_dst_of(&to3[0]), mac(0x99));
        assert_eq!(&to3[0][6..], &f[6..]);
    }
}

#[test]
fn apply_then_write_semantics_apply_changes_now_write_at_the_end() {
    let mut bed = Bed::new(3);
    bed.flows(&[
        // Apply rewrites now, so table 1 matches the new nw_dst; the write
        // happens at the end, after table 1's apply_actions output.
        "table=0,priority=10,udp actions=set_field:10.0.0.7->ip_dst,write_actions(set_field:10.0.0.8->ip_dst,output:3),goto_table:1",
        "table=1,priority=10,udp,nw_dst=10.0.0.7 actions=output:2",
    ]);
    bed.send(1, &udp(11, 12, A, B, 53));
    let dst = |f: &[u8]| {
        let mut k = FlowKey::default();
        parse_frame(f, 0, &mut k);
        k.get_field(ofproto::oxm::OFPXMT_OFB_IPV4_DST).to_vec()
    };
    let to2 = bed.sent_to(2);
    let to3 = bed.sent_to(3);
    assert_eq!(dst(&to2[0]), vec![10, 0, 0, 7]);
    assert_eq!(dst(&to3[0]), vec![10, 0, 0, 8]);
}

// ---------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------

#[test]
fn output_to_the_ingress_port_is_suppressed_but_in_port_is_allowed() {
    let mut bed = Bed::new(2);
    bed.flows(&[
        "priority=10,udp,tp_dst=53 actions=output:1",
        "priority=10,udp,tp_dst=80 actions=IN_PORT",
        "priority=10,udp,tp_dst=81 actions=output:1,output:2",
    ]);
    bed.send(1, &udp(11, 12, A, B, 53));
    assert_eq!(bed.sent(), vec![]);
    bed.send(1, &udp(11, 12, A, B, 80));
    assert_eq!(bed.sent_to(1).len(), 1);
    bed.send(1, &udp(11, 12, A, B, 81));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn flood_and_all_go_everywhere_but_ingress_and_skip_no_fwd_down_and_link_down_ports() {
    let mut bed = Bed::new(6);
    bed.flows(&[
        "priority=10,udp,tp_dst=1 actions=FLOOD",
        "priority=10,udp,tp_dst=2 actions=ALL",
    ]);
    bed.dp.set_port_config(4, OFPPC_NO_FWD);
    bed.dp.set_port_config(5, OFPPC_PORT_DOWN);
    bed.dp.set_port_state(6, OFPPS_LINK_DOWN);
    for dport in [1, 2] {
        for _ in 0..2 {
            bed.send(2, &udp(11, 12, A, B, dport));
            let got: Vec<u32> = bed.sent().iter().map(|x| x.0).collect();
            assert_eq!(got, vec![1, 3], "tp_dst {dport}");
        }
    }
    // The bits are live: clearing NO_FWD takes effect for cached flows too.
    bed.dp.set_port_config(4, 0);
    bed.send(2, &udp(11, 12, A, B, 1));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![1, 3, 4]
    );
}

#[test]
fn no_fwd_port_gets_nothing_even_by_direct_output() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10 actions=output:2");
    bed.dp.set_port_config(2, OFPPC_NO_FWD);
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent(), vec![]);
}

#[test]
fn no_recv_and_port_down_drop_what_the_port_receives() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10 actions=output:2");
    for cfg in [OFPPC_NO_RECV, OFPPC_PORT_DOWN] {
        bed.dp.set_port_config(1, cfg);
        bed.send(1, &udp(11, 12, A, B, 1));
        assert_eq!(bed.sent(), vec![]);
    }
    let c = bed.dp.port_counters(1).unwrap();
    assert_eq!((c.rx_packets, c.rx_dropped), (2, 2));
    bed.dp.set_port_config(1, 0);
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent_to(2).len(), 1);
}

#[test]
fn output_to_a_port_that_does_not_exist_is_dropped_quietly() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10 actions=output:7,output:2");
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn local_port_is_an_output_like_any_other() {
    let mut bed = Bed::new(1);
    let local = bed.add_port(OFPP_LOCAL, Offloads::NONE);
    bed.flow("priority=10 actions=LOCAL");
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(local.take().len(), 1);
}

#[test]
fn removed_port_is_no_longer_an_output_and_its_addresses_are_forgotten() {
    let mut bed = Bed::new(3);
    bed.flow("priority=10 actions=NORMAL");
    bed.send(3, &udp(13, 11, C, A, 1)); // learn mac 13 on port 3
    bed.sent();
    assert!(bed.dp.mac_table().iter().any(|e| e.port == 3));
    let removed = bed.dp.remove_port(3).unwrap();
    assert_eq!(removed.name(), "mem3");
    assert!(bed.dp.mac_table().iter().all(|e| e.port != 3));
    bed.send(1, &udp(11, 13, A, C, 1)); // unknown now: flood to 2 only
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
    assert!(bed.dp.remove_port(3).is_none());
}

// ---------------------------------------------------------------------------
// CONTROLLER, table miss, PACKET_IN
// ---------------------------------------------------------------------------

#[test]
fn controller_output_cuts_data_to_max_len_and_no_buffer_sends_everything() {
    let mut bed = Bed::new(2);
    bed.flows(&[
        "cookie=0x10,priority=10,udp,tp_dst=1 actions=CONTROLLER:20",
        "cookie=0x11,priority=10,udp,tp_dst=2 actions=CONTROLLER",
        "cookie=0x12,table=0,priority=10,udp,tp_dst=3 actions=output:2,CONTROLLER:0",
    ]);
    let f1 = udp(11, 12, A, B, 1);
    bed.send(1, &f1);
    let p = bed.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].reason, p[0].table_id, p[0].cookie),
        (OFPR_ACTION, 0, 0x10)
    );
    assert_eq!(&p[0].data[..], &f1[..20]);
    assert_eq!(usize::from(p[0].total_len), f1.len());
    assert_eq!(
        p[0].match_,
        Match::new(vec![ofproto::oxm::OxmField::InPort(1)])
    );
    let f2 = udp(11, 12, A, B, 2);
    bed.send(1, &f2);
    let p = bed.packet_ins();
    assert_eq!(&p[0].data[..], &f2[..]);
    bed.send(1, &udp(11, 12, A, B, 3));
    let p = bed.packet_ins();
    assert_eq!((p.len(), p[0].data.len()), (1, 0));
    assert_eq!(bed.sent_to(2).len(), 1);
    assert_eq!(bed.dp.stats().packet_in_sent, 3);
}

#[test]
fn table_miss_drops_or_sends_no_match_packet_in_with_miss_send_len() {
    let mut bed = Bed::with(2, TableMiss::Drop, 64);
    bed.flow("table=0,priority=10,udp actions=goto_table:4");
    let f = udp(11, 12, A, B, 1);
    bed.send(1, &f);
    assert!(bed.packet_ins().is_empty());
    assert_eq!(bed.dp.stats().table_miss_dropped, 1);
    // Switch to controller mode: takes effect for the cached verdict too.
    bed.dp.set_table_miss(TableMiss::Controller);
    bed.send(1, &f);
    let p = bed.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].reason, OFPR_NO_MATCH);
    assert_eq!(p[0].table_id, 4);
    assert_eq!(p[0].cookie, u64::MAX);
    assert_eq!(
        p[0].data.len(),
        usize::from(DEFAULT_MISS_SEND_LEN).min(f.len())
    );
    bed.dp.set_miss_send_len(14);
    bed.send(1, &f);
    assert_eq!(bed.packet_ins()[0].data.len(), 14);
    bed.dp.set_miss_send_len(OFPCML_NO_BUFFER);
    bed.send(1, &ipv6_frame(11, 12));
    let p = bed.packet_ins();
    assert_eq!(
        (p[0].table_id, p[0].data.len()),
        (0, ipv6_frame(11, 12).len())
    );
}

#[test]
fn table_miss_entry_sends_packet_in_with_reason_no_match_and_its_cookie() {
    let mut bed = Bed::new(2);
    bed.flows(&[
        "cookie=0xfeed,table=0,priority=0 actions=CONTROLLER:65535",
        "cookie=0xbeef,table=0,priority=1,udp actions=CONTROLLER:65535",
    ]);
    bed.send(1, &arp_req(11, A, B));
    bed.send(1, &udp(11, 12, A, B, 1));
    let p = bed.packet_ins();
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].reason, p[0].cookie), (OFPR_NO_MATCH, 0xfeed));
    assert_eq!((p[1].reason, p[1].cookie), (OFPR_ACTION, 0xbeef));
}

#[test]
fn no_packet_in_on_the_ingress_port_suppresses_packet_ins() {
    let mut bed = Bed::with(2, TableMiss::Controller, 64);
    bed.flow("priority=10,udp actions=CONTROLLER:128");
    bed.dp.set_port_config(1, OFPPC_NO_PACKET_IN);
    bed.send(1, &udp(11, 12, A, B, 1));
    bed.send(1, &ipv6_frame(11, 12)); // table miss
    assert!(bed.packet_ins().is_empty());
    assert_eq!(bed.dp.stats().packet_in_suppressed, 2);
    bed.send(2, &udp(12, 11, B, A, 1));
    assert_eq!(bed.packet_ins().len(), 1);
}

#[test]
fn packet_in_rate_limit_drops_and_counts_and_forwarding_goes_on() {
    let mut bed = Bed::new(2);
    bed.dp.set_packet_in_rate(20); // burst 2
    bed.flows(&[
        "priority=10,udp,tp_dst=1 actions=CONTROLLER:64",
        "priority=10,udp,tp_dst=2 actions=output:2",
    ]);
    let storm: Vec<Vec<u8>> = (0..200).map(|_| udp(11, 12, A, B, 1)).collect();
    let t0 = Instant::now();
    bed.send_many(1, &storm);
    bed.send(1, &udp(11, 12, A, B, 2));
    let elapsed = t0.elapsed().as_secs_f64();
    let sent = bed.packet_ins().len() as u64;
    let allowed = 2 + (elapsed * 20.0).ceil() as u64;
    assert!(
        sent >= 2 && sent <= allowed,
        "{sent} packet-ins in {elapsed}s"
    );
    let st = bed.dp.stats();
    assert_eq!(st.packet_in_sent, sent);
    assert_eq!(st.packet_in_rate_dropped, 200 - sent);
    assert_eq!(bed.sent_to(2).len(), 1);
}

#[test]
fn full_packet_in_queue_drops_and_counts_without_blocking() {
    let mut bed = Bed::with(2, TableMiss::Controller, 4);
    let frames: Vec<Vec<u8>> = (0..10).map(|_| udp(11, 12, A, B, 1)).collect();
    bed.send_many(1, &frames);
    let st = bed.dp.stats();
    assert_eq!((st.packet_in_sent, st.packet_in_queue_dropped), (4, 6));
    assert_eq!(bed.packet_ins().len(), 4);
}

#[test]
fn dec_ttl_at_ttl_1_drops_or_sends_invalid_ttl_packet_in_when_asked() {
    let mut bed = Bed::new(3);
    bed.flow("cookie=0x77,priority=10,udp actions=output:3,dec_ttl,output:2");
    let live = udp_ttl(mac(12), mac(11), A, B, 1, 1, 64);
    let dying = udp_ttl(mac(12), mac(11), A, B, 1, 1, 1);
    for _ in 0..2 {
        bed.send(1, &live);
        let to2 = bed.sent_to(2);
        assert_eq!(to2.len(), 1);
        assert_eq!(to2[0][14 + 8], 63);
        bed.send(1, &dying);
        // Output before dec_ttl happened; after it, nothing.
        assert_eq!(bed.sent_to(3).len(), 2);
        assert!(bed.sent_to(2).is_empty());
    }
    assert_eq!(bed.dp.stats().invalid_ttl_dropped, 2);
    assert!(bed.packet_ins().is_empty());
    bed.dp.set_invalid_ttl_to_controller(true);
    bed.send(1, &dying);
    let p = bed.packet_ins();
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].reason, p[0].table_id, p[0].cookie),
        (OFPR_INVALID_TTL, 0, 0x77)
    );
}

#[test]
fn group_action_drops_and_counts_until_groups_exist() {
    let mut bed = Bed::new(3);
    bed.flows(&[
        "priority=10,udp,tp_dst=1 actions=group:1,output:2",
        "priority=10,udp,tp_dst=2 actions=write_actions(group:1,output:3)",
    ]);
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
    // In the action set the group wins over output.
    bed.send(1, &udp(11, 12, A, B, 2));
    assert_eq!(bed.sent(), vec![]);
    assert_eq!(bed.dp.stats().group_dropped, 2);
}

// ---------------------------------------------------------------------------
// Offload metadata
// ---------------------------------------------------------------------------

#[test]
fn offload_metadata_goes_through_and_gso_to_a_port_without_offloads_is_dropped() {
    let mut bed = Bed::new(2);
    let tso = bed.add_port(3, Offloads::ALL);
    bed.flows(&[
        "priority=10,udp actions=output:2,output:3",
        "priority=10,tcp actions=output:2,output:3",
    ]);
    // Partial checksum: both ports get the frame with the metadata intact
    // (a port without csum offload finishes it in its own send).
    let f = udp(11, 12, A, B, 1);
    let vh = VnetHdr::NONE.with_csum(34, 6);
    bed.port(1).inject_with(&f, vh);
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    bed.worker.poll_port(&e).unwrap();
    assert_eq!(bed.port(2).take_with_meta(), vec![(f.clone(), vh)]);
    assert_eq!(tso.take_with_meta(), vec![(f.clone(), vh)]);
    // GSO: only the port that can segment gets it.
    let gso = VnetHdr {
        gso_type: VnetHdr::GSO_TCPV4,
        gso_size: 1448,
        hdr_len: 54,
        ..VnetHdr::NONE.with_csum(34, 16)
    };
    let mut t = f.clone();
    t[14 + 9] = 6;
    bed.port(1).inject_with(&t, gso);
    bed.worker.poll_port(&e).unwrap();
    assert!(bed.port(2).take().is_empty());
    assert_eq!(tso.take_with_meta().len(), 1);
    assert_eq!(bed.dp.port_counters(2).unwrap().tx_dropped, 1);
}

/// A TCP GSO super-frame as a virtio-net guest hands it over: 3 000 bytes
/// of payload, gso_size 1 448, partial checksum.
fn tcp_gso_frame() -> (Vec<u8>, VnetHdr) {
    let mut l4 = vec![
        0x9c, 0x40, 0x14, 0x51, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x50, 0x18, 1, 0,
    ];
    l4.extend([0, 0, 0, 0]);
    l4.extend((0..3000).map(|i| i as u8));
    let f = ipv4(mac(12), mac(11), A, B, 6, 64, &l4);
    let meta = VnetHdr {
        gso_type: VnetHdr::GSO_TCPV4,
        gso_size: 1448,
        hdr_len: 54,
        ..VnetHdr::NONE.with_csum(34, 16)
    };
    (f, meta)
}

#[test]
fn gso_to_a_port_without_offloads_is_segmented_in_software() {
    let mut bed = Bed::new(2);
    let tso = bed.add_port(3, Offloads::ALL);
    bed.flow("priority=10,tcp actions=set_field:10.0.0.99->ip_dst,output:2,output:3");
    let (f, meta) = tcp_gso_frame();
    bed.port(1).inject_with(&f, meta);
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    bed.worker.poll_port(&e).unwrap();
    // The TSO port gets the super-frame whole, offload state kept.
    let whole = tso.take_with_meta();
    assert_eq!(whole.len(), 1);
    assert!(whole[0].1.is_gso());
    // The port without offloads gets three wire-sized segments with valid
    // checksums, rewritten as the flow says.
    let segs = bed.port(2).take_with_meta();
    assert_eq!(segs.len(), 3, "3 000 bytes at MSS 1 448");
    let mut payload = Vec::new();
    for (s, m) in &segs {
        assert!(!m.is_gso() && !m.needs_csum(), "plain frames");
        assert!(s.len() <= 14 + 20 + 20 + 1448);
        assert_eq!(&s[30..34], &[10, 0, 0, 99], "set_field applied");
        assert_eq!(csum(&s[14..34]), 0, "IPv4 header checksum");
        let mut pseudo = s[26..34].to_vec();
        pseudo.extend([0, 6]);
        pseudo.extend(((s.len() - 34) as u16).to_be_bytes());
        pseudo.extend(&s[34..]);
        assert_eq!(csum(&pseudo), 0, "TCP checksum");
        payload.extend_from_slice(&s[54..]);
    }
    assert_eq!(payload, f[54..], "payload intact and in order");
    assert_eq!(bed.dp.port_counters(2).unwrap().tx_dropped, 0);
}

#[test]
fn vlan_push_on_a_gso_frame_keeps_offsets_for_tso_and_segments_for_the_rest() {
    let mut bed = Bed::new(2);
    let tso = bed.add_port(3, Offloads::ALL);
    bed.flow("priority=10,tcp actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:2,output:3");
    let (f, meta) = tcp_gso_frame();
    bed.port(1).inject_with(&f, meta);
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    bed.worker.poll_port(&e).unwrap();
    // TSO port: one tagged super-frame, checksum offsets moved by the tag.
    let whole = tso.take_with_meta();
    assert_eq!(whole.len(), 1);
    assert_eq!(vid_of(&whole[0].0), Some(5));
    assert_eq!(whole[0].1.csum_start, 38);
    assert_eq!(whole[0].1.hdr_len, 58);
    // Port without offloads: tagged segments with valid checksums.
    let segs = bed.port(2).take_with_meta();
    assert_eq!(segs.len(), 3);
    for (s, _) in &segs {
        assert_eq!(vid_of(s), Some(5));
        assert_eq!(csum(&s[18..38]), 0, "IPv4 header checksum behind the tag");
        let mut pseudo = s[30..38].to_vec();
        pseudo.extend([0, 6]);
        pseudo.extend(((s.len() - 38) as u16).to_be_bytes());
        pseudo.extend(&s[38..]);
        assert_eq!(csum(&pseudo), 0, "TCP checksum behind the tag");
    }
}

#[test]
fn packet_in_of_a_gso_frame_sends_its_segments() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10,tcp actions=CONTROLLER:65535");
    let (f, meta) = tcp_gso_frame();
    bed.port(1).inject_with(&f, meta);
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    bed.worker.poll_port(&e).unwrap();
    let p = bed.packet_ins();
    assert_eq!(p.len(), 3, "one PACKET_IN per segment");
    for pi in &p {
        assert!(pi.data.len() <= 14 + 20 + 20 + 1448);
        assert_eq!(csum(&pi.data[14..34]), 0);
    }
}

#[test]
fn vlan_push_keeps_partial_checksum_offsets_in_step() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10,udp actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:2");
    let f = udp(11, 12, A, B, 1);
    bed.port(1).inject_with(&f, VnetHdr::NONE.with_csum(34, 6));
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    bed.worker.poll_port(&e).unwrap();
    let out = bed.port(2).take_with_meta();
    assert_eq!(vid_of(&out[0].0), Some(5));
    assert_eq!(out[0].1.csum_start, 38);
}

// ---------------------------------------------------------------------------
// NORMAL and fail-open
// ---------------------------------------------------------------------------

#[test]
fn normal_floods_unknown_learns_and_then_forwards_unicast() {
    let mut bed = Bed::new(4);
    bed.flow("priority=0 actions=NORMAL");
    // 11 on port 1 asks for 12: broadcast floods.
    bed.send(1, &arp_req(11, A, B));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    // 12 (port 3) answers 11 unicast: 11 was learned on port 1.
    bed.send(3, &udp(12, 11, B, A, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![1]);
    // Now both are known.
    for _ in 0..3 {
        bed.send(1, &udp(11, 12, A, B, 1));
        assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
    }
    // Unknown unicast floods; a frame to a MAC behind its own port is dropped.
    bed.send(1, &udp(11, 99, A, C, 1));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    bed.send(3, &udp(11, 12, A, B, 1)); // 11 moved to port 3...
    assert_eq!(bed.sent(), vec![]); // ...and 12 is on port 3 too.
    let t = bed.dp.mac_table();
    assert_eq!(
        t.iter().map(|e| (e.mac.0, e.port)).collect::<Vec<_>>(),
        vec![(mac(11), 3), (mac(12), 3)]
    );
    // A move is followed.
    bed.send(2, &udp(12, 11, B, A, 1));
    bed.sent();
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn normal_forgets_addresses_after_the_aging_time() {
    let mut bed = Bed::new(3);
    bed.dp.set_mac_aging(Duration::from_millis(400));
    bed.flow("priority=0 actions=NORMAL");
    bed.send(2, &udp(12, 11, B, A, 1));
    bed.sent();
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(bed.dp.mac_table().iter().all(|e| e.mac.0 != mac(12)));
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[test]
fn normal_keeps_vlans_apart() {
    let mut bed = Bed::new(4);
    bed.flow("priority=0 actions=NORMAL");
    // 12 lives on VLAN 10 behind port 2 and on VLAN 20 behind port 3.
    bed.send(2, &tagged(udp(12, 11, B, A, 1), 10));
    bed.send(3, &tagged(udp(12, 11, B, A, 1), 20));
    bed.sent();
    bed.send(1, &tagged(udp(11, 12, A, B, 1), 10));
    let s = bed.sent();
    assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
    assert_eq!(vid_of(&s[0].1[0]), Some(10), "the tag goes through");
    bed.send(1, &tagged(udp(11, 12, A, B, 1), 20));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
    // Untagged and VLAN 30: not learned there, flooded.
    bed.send(1, &udp(11, 12, A, B, 1));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    bed.send(1, &tagged(udp(11, 12, A, B, 1), 30));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let vlans: Vec<u16> = bed
        .dp
        .mac_table()
        .iter()
        .filter(|e| e.mac.0 == mac(12))
        .map(|e| e.vlan_vid)
        .collect();
    assert_eq!(vlans, vec![0x1000 | 10, 0x1000 | 20]);
}

#[test]
fn fail_open_forwards_with_normal_and_ignores_the_flow_tables() {
    let mut bed = Bed::with(3, TableMiss::Controller, 64);
    bed.flow("cookie=0x9,priority=10 actions=output:3");
    bed.dp.set_fail_open(true);
    bed.send(1, &arp_req(11, A, B));
    assert_eq!(
        bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![2, 3]
    );
    bed.send(2, &udp(12, 11, B, A, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![1]);
    assert_eq!(bed.flow_counts(0x9), (0, 0));
    assert!(bed.packet_ins().is_empty());
    bed.dp.set_fail_open(false);
    bed.send(2, &udp(12, 11, B, A, 1));
    assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
}

// ---------------------------------------------------------------------------
// Flow cache
// ---------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

fn random_flow(r: &mut Rng) -> String {
    let table = r.below(4) as u8;
    let mut m: Vec<String> = vec![
        format!("table={table}"),
        format!("priority={}", r.below(5) * 10),
    ];
    match r.below(5) {
        0 => m.push("ip".into()),
        1 => m.push("udp".into()),
        2 => m.push("arp".into()),
        _ => {}
    }
    let is_ip = m.iter().any(|x| x == "ip" || x == "udp");
    if r.below(3) == 0 {
        m.push(format!("in_port={}", 1 + r.below(4)));
    }
    if is_ip && r.below(2) == 0 {
        m.push(format!("nw_dst=10.0.0.{}", 1 + r.below(4)));
    }
    if m.iter().any(|x| x == "udp") && r.below(2) == 0 {
        m.push(format!("tp_dst={}", r.pick(&[53, 80, 443])));
    }
    if r.below(3) == 0 {
        m.push(format!("metadata={:#x}", r.below(3)));
    }
    if r.below(4) == 0 {
        m.push(format!("dl_vlan={}", 1 + r.below(2)));
    }
    let mut acts: Vec<String> = Vec::new();
    let n = 1 + r.below(3);
    let action = |r: &mut Rng, is_ip: bool| -> String {
        match r.below(14) {
            0 | 1 => format!("output:{}", 1 + r.below(4)),
            2 if is_ip => format!("set_field:10.0.0.{}->ip_dst", 1 + r.below(4)),
            3 => format!("set_field:52:54:00:00:00:{:02x}->eth_src", r.below(4)),
            4 => "push_vlan:0x8100,set_field:4097->vlan_vid".into(),
            5 => "pop_vlan".into(),
            6 if is_ip => "dec_ttl".into(),
            7 => "CONTROLLER:64".into(),
            8 => "NORMAL".into(),
            9 => r.pick(&["FLOOD", "ALL", "IN_PORT"]).to_string(),
            10 => "group:1".into(),
            _ => format!("output:{}", 1 + r.below(4)),
        }
    };
    for _ in 0..n {
        acts.push(action(r, is_ip));
    }
    if r.below(3) == 0 {
        let w: Vec<String> = (0..1 + r.below(2)).map(|_| action(r, is_ip)).collect();
        acts.push(format!("write_actions({})", w.join(",")));
    }
    if r.below(6) == 0 {
        acts.push("clear_actions".into());
    }
    if r.below(3) == 0 {
        acts.push(format!("write_metadata:{:#x}/0xff", r.below(3)));
    }
    if table < 3 && r.below(2) == 0 {
        acts.push(format!(
            "goto_table:{}",
            table + 1 + r.below(3 - u64::from(table)) as u8
        ));
    }
    format!("{} actions={}", m.join(","), acts.join(","))
}

fn random_frame(r: &mut Rng) -> Vec<u8> {
    let ip = |r: &mut Rng| [10, 0, 0, 1 + r.below(4) as u8];
    let (s, d) = (1 + r.below(4) as u8, 1 + r.below(4) as u8);
    let f = match r.below(4) {
        0 => arp_req(s, ip(r), ip(r)),
        1 => icmp(s, d, ip(r), ip(r)),
        _ => udp_ttl(
            mac(d),
            mac(s),
            ip(r),
            ip(r),
            1000,
            *r.pick(&[53, 80, 443, 8080]),
            *r.pick(&[64, 64, 2, 1]),
        ),
    };
    match r.below(3) {
        0 => tagged(f, 1 + r.below(2) as u16),
        1 => tagged(tagged(f, 1 + r.below(2) as u16), 1 + r.below(2) as u16),
        _ => f,
    }
}

/// Frames sent per port; packet-ins (reason, table, cookie, data, match);
/// flow and table counters.
type Observed = (
    Vec<(u32, Vec<Vec<u8>>)>,
    Vec<(u8, u8, u64, Vec<u8>, Match)>,
    Vec<(u64, u64)>,
);

/// Everything observable about one bed, for comparing.
fn observe(bed: &mut Bed, flows: &[String]) -> Observed {
    let out = bed.sent();
    let pins = bed
        .packet_ins()
        .into_iter()
        .map(|p| (p.reason, p.table_id, p.cookie, p.data.to_vec(), p.match_))
        .collect();
    let snap = bed.pipeline.snapshot();
    let mut counts = Vec::new();
    for (i, _) in flows.iter().enumerate() {
        let cookie = 0x1000 + i as u64;
        for t in 0..4u8 {
            if let Some(e) = snap
                .table(t)
                .and_then(|ts| ts.iter().find(|e| e.cookie == cookie))
            {
                counts.push((e.packet_count(), e.byte_count()));
            }
        }
    }
    for t in 0..4u8 {
        counts.push(bed.table_counts(t));
    }
    (out, pins, counts)
}

#[test]
fn flow_cache_gives_the_same_results_as_the_uncached_path_for_random_flows_and_packets() {
    let mut r = Rng(0x5eed_cafe_f00d_d00d);
    let mut total_hits = 0;
    let mut installed = 0;
    for round in 0..12 {
        let mut cached = Bed::with(4, TableMiss::Controller, 100_000);
        let mut uncached = Bed::with(4, TableMiss::Controller, 100_000);
        uncached.worker.no_cache = true;
        let mut flows = Vec::new();
        let add_flows =
            |r: &mut Rng, n: usize, flows: &mut Vec<String>, a: &mut Bed, b: &mut Bed| {
                for _ in 0..n {
                    let text = format!("cookie={:#x},{}", 0x1000 + flows.len(), random_flow(r));
                    let ra = a.try_flow(&text);
                    let rb = b.try_flow(&text);
                    assert_eq!(ra.is_ok(), rb.is_ok());
                    flows.push(text);
                }
            };
        add_flows(&mut r, 30, &mut flows, &mut cached, &mut uncached);
        // A pool, so keys repeat and the cache gets hits.
        let pool: Vec<Vec<u8>> = (0..24).map(|_| random_frame(&mut r)).collect();
        for step in 0..60 {
            let port = 1 + r.below(4) as u32;
            let frames: Vec<Vec<u8>> = (0..1 + r.below(12))
                .map(|_| r.pick(&pool).clone())
                .collect();
            cached.send_many(port, &frames);
            uncached.send_many(port, &frames);
            let (a, b) = (observe(&mut cached, &flows), observe(&mut uncached, &flows));
            assert_eq!(a, b, "round {round} step {step} flows {flows:#?}");
            if step % 10 == 9 {
                // A publish in the middle: the cache must not serve stale verdicts.
                add_flows(&mut r, 3, &mut flows, &mut cached, &mut uncached);
            }
        }
        assert_eq!(uncached.dp.stats().cache_hits, 0);
        total_hits += cached.dp.stats().cache_hits;
        installed += cached.pipeline.len();
    }
    assert!(
        total_hits > 1000,
        "the cache was exercised: {total_hits} hits"
    );
    assert!(
        installed > 12 * 20,
        "the random flows were mostly valid: {installed}"
    );
}

#[test]
fn first_packet_after_a_publish_uses_the_new_flow_1000_times() {
    let mut bed = Bed::new(2);
    let f = udp(11, 12, A, B, 53);
    for i in 0..1000u32 {
        let b = i.to_be_bytes();
        bed.flow(&format!(
            "priority=10,udp actions=set_field:02:00:{:02x}:{:02x}:{:02x}:{:02x}->eth_dst,output:2",
            b[0], b[1], b[2], b[3]
        ));
        bed.send(1, &f);
        let out = bed.sent_to(2);
        assert_eq!(out.len(), 1, "iteration {i}");
        assert_eq!(
            eth_dst_of(&out[0]),
            [2, 0, b[0], b[1], b[2], b[3]],
            "iteration {i}"
        );
    }
    assert!(bed.worker.cache.len() <= 2);
}

#[test]
fn deleting_a_flow_takes_effect_for_cached_packets() {
    let mut bed = Bed::new(2);
    bed.flow("priority=10,udp actions=output:2");
    let f = udp(11, 12, A, B, 53);
    bed.send(1, &f);
    bed.send(1, &f);
    assert_eq!(bed.sent_to(2).len(), 2);
    bed.del_flows("udp");
    bed.send(1, &f);
    assert_eq!(bed.sent(), vec![]);
}

#[test]
fn pop_of_an_inner_tag_before_a_lookup_is_not_cached_by_outer_key_alone() {
    let mut bed = Bed::new(3);
    bed.flows(&[
        "table=0,priority=10,dl_vlan=1 actions=pop_vlan,goto_table:1",
        "table=1,priority=10,dl_vlan=7 actions=output:2",
        "table=1,priority=10,dl_vlan=8 actions=output:3",
    ]);
    // Same outer tag (so the same key), different inner tags.
    for _ in 0..3 {
        bed.send(1, &tagged(tagged(udp(11, 12, A, B, 1), 7), 1));
        assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
        bed.send(1, &tagged(tagged(udp(11, 12, A, B, 1), 8), 1));
        assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
    }
    assert!(bed.dp.stats().cache_uncacheable >= 6);
}

#[test]
fn packets_with_equal_keys_but_different_tag_depth_are_cached_apart() {
    let mut bed = Bed::new(3);
    bed.flows(&[
        "table=0,priority=10,dl_vlan=1 actions=pop_vlan,goto_table:1",
        "table=1,priority=10,vlan_tci=0x0000/0x1000 actions=output:2",
        "table=1,priority=10,dl_vlan=7 actions=output:3",
    ]);
    // One tag vs. two tags with the same outer one: the flow keys are
    // equal (the key holds the outer tag only), the results are not.
    let one = tagged(udp(11, 12, A, B, 1), 1);
    let two = tagged(tagged(udp(11, 12, A, B, 1), 7), 1);
    let (mut k1, mut k2) = (FlowKey::default(), FlowKey::default());
    parse_frame(&one, 1, &mut k1);
    parse_frame(&two, 1, &mut k2);
    assert_eq!(k1, k2);
    for _ in 0..3 {
        bed.send(1, &one);
        assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![2]);
        bed.send(1, &two);
        assert_eq!(bed.sent().iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
    }
}

#[test]
fn flow_cache_is_bounded() {
    let mut bed = Bed::new(2);
    bed.dp.set_flow_cache_capacity(16);
    bed.worker = Worker::new(Arc::clone(&bed.dp), 0, 1);
    bed.flow("priority=10,udp actions=output:2");
    for p in 0..100u16 {
        bed.send(1, &udp(11, 12, A, B, p));
        assert!(bed.worker.cache.len() <= 16);
    }
    assert_eq!(bed.sent_to(2).len(), 100);
    assert_eq!(bed.flow_counts(0).0, 100);
}

// ---------------------------------------------------------------------------
// PACKET_OUT
// ---------------------------------------------------------------------------

fn out(port: u32) -> Action {
    Action::Output { port, max_len: 0 }
}

#[test]
fn packet_out_runs_its_actions_and_output_table_runs_the_pipeline() {
    let mut bed = Bed::new(3);
    bed.flow("cookie=0x5,priority=10,in_port=1,udp actions=output:3");
    let f = udp(11, 12, A, B, 1);
    bed.dp
        .packet_out(
            OFPP_CONTROLLER,
            &[
                out(2),
                Action::SetField(ofproto::oxm::OxmField::EthDst(MacAddr(mac(0x42)), None)),
                out(1),
            ],
            &f,
        )
        .unwrap();
    assert_eq!(bed.sent_to(2), vec![f.clone()]);
    assert_eq!(eth_dst_of(&bed.sent_to(1)[0]), mac(0x42));
    // TABLE with in_port 1: the flow sends to 3; the next action sees the
    // packet unchanged by the pipeline.
    bed.dp
        .packet_out(1, &[out(OFPP_TABLE), out(2)], &f)
        .unwrap();
    assert_eq!(bed.sent_to(3), vec![f.clone()]);
    assert_eq!(bed.sent_to(2), vec![f.clone()]);
    assert_eq!(bed.flow_counts(0x5).0, 1);
    // Ingress rules apply: output to in_port is suppressed, IN_PORT works.
    bed.dp
        .packet_out(2, &[out(2), out(OFPP_IN_PORT)], &f)
        .unwrap();
    assert_eq!(bed.sent_to(2).len(), 1);
    assert_eq!(bed.dp.port_counters(2).unwrap().tx_packets, 3);
}

#[test]
fn packet_out_checks_in_port_and_ignores_outputs_to_missing_ports() {
    let bed = Bed::new(2);
    let f = udp(11, 12, A, B, 1);
    for bad in [
        OFPP_IN_PORT,
        OFPP_TABLE,
        OFPP_NORMAL,
        OFPP_FLOOD,
        OFPP_ALL,
        0xffff_ff10,
    ] {
        let e = bed.dp.packet_out(bad, &[out(2)], &f).unwrap_err();
        assert_eq!(e.code, OFPBRC_BAD_PORT, "{bad:#x}");
    }
    bed.dp.packet_out(OFPP_ANY, &[out(9), out(2)], &f).unwrap();
    bed.dp.packet_out(OFPP_LOCAL, &[out(2)], &f).unwrap();
    bed.dp.packet_out(77, &[out(OFPP_FLOOD)], &f).unwrap();
    assert_eq!(bed.sent_to(2).len(), 3);
    assert_eq!(bed.sent_to(1).len(), 1);
}

#[test]
fn packet_out_to_controller_and_table_miss_make_packet_ins() {
    let mut bed = Bed::with(2, TableMiss::Controller, 16);
    let f = udp(11, 12, A, B, 1);
    bed.dp
        .packet_out(
            OFPP_CONTROLLER,
            &[
                Action::Output {
                    port: OFPP_CONTROLLER,
                    max_len: 10,
                },
                out(OFPP_TABLE),
            ],
            &f,
        )
        .unwrap();
    let p = bed.packet_ins();
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].reason, p[0].data.len()), (OFPR_ACTION, 10));
    assert_eq!((p[1].reason, p[1].table_id), (OFPR_NO_MATCH, 0));
    assert_eq!(
        p[1].match_,
        Match::new(vec![ofproto::oxm::OxmField::InPort(OFPP_CONTROLLER)])
    );
}

// ---------------------------------------------------------------------------
// trace
// ---------------------------------------------------------------------------

#[test]
fn trace_shows_each_table_its_flow_the_notes_and_the_final_actions() {
    let mut bed = Bed::new(2);
    bed.flows(&[
        "cookie=0xa,table=0,priority=10,in_port=1,ip actions=write_metadata:0x5/0xff,goto_table:1",
        "cookie=0xb,table=1,priority=20,metadata=0x5/0xff,ip,nw_dst=10.10.10.12 actions=set_field:52:54:00:00:00:02->eth_dst,write_actions(output:2)",
    ]);
    let f = icmp(11, 12, A, B);
    let t = bed.dp.trace(1, &f);
    assert!(t.key.starts_with("icmp,in_port=1,"), "{}", t.key);
    assert!(t.key.contains("nw_dst=10.10.10.12"), "{}", t.key);
    assert_eq!(t.steps.len(), 2, "{t:#?}");
    assert_eq!(t.steps[0].table_id, 0);
    assert_eq!(t.steps[0].cookie, 0xa);
    assert_eq!(
        t.steps[0].flow.as_deref(),
        Some("priority=10,ip,in_port=1 actions=write_metadata:0x5/0xff,goto_table:1")
    );
    assert!(
        t.steps[0].notes.iter().any(|n| n == "goto_table:1"),
        "{t:#?}"
    );
    assert!(
        t.steps[0].notes.iter().any(|n| n.contains("metadata=0x5")),
        "{t:#?}"
    );
    assert_eq!(t.steps[1].table_id, 1);
    assert_eq!(t.steps[1].cookie, 0xb);
    let flow1 = t.steps[1].flow.as_deref().unwrap();
    assert!(
        flow1.starts_with("priority=20,") && flow1.contains("nw_dst=10.10.10.12"),
        "{flow1}"
    );
    assert!(
        flow1.ends_with("actions=set_field:52:54:00:00:00:02->eth_dst,write_actions(output:2)"),
        "{flow1}"
    );
    assert!(
        t.steps[1]
            .notes
            .iter()
            .any(|n| n == "set_field:52:54:00:00:00:02->eth_dst"),
        "{t:#?}"
    );
    assert!(
        t.steps[1].notes.iter().any(|n| n == "action set: output:2"),
        "{t:#?}"
    );
    assert_eq!(
        t.final_actions,
        "set_field:52:54:00:00:00:02->eth_dst,output:2"
    );
    assert_eq!(t.outputs, vec!["2".to_string()]);
    // A miss in table 1 for another destination.
    let t = bed.dp.trace(1, &icmp(11, 13, A, C));
    assert_eq!(t.steps.len(), 2);
    assert_eq!(t.steps[1].flow, None);
    assert_eq!(t.final_actions, "drop");
    assert_eq!(t.outputs, vec!["drop".to_string()]);
}

#[test]
fn trace_has_no_side_effects() {
    let mut bed = Bed::with(3, TableMiss::Controller, 16);
    bed.flows(&[
        "cookie=0x1,priority=10,udp actions=NORMAL,CONTROLLER:64",
        "cookie=0x2,priority=10,tcp actions=output:2",
    ]);
    let t = bed.dp.trace(1, &udp(11, 12, A, B, 1));
    assert_eq!(t.outputs, vec!["2", "3", "CONTROLLER"]);
    let t = bed.dp.trace(1, &ipv6_frame(11, 12));
    assert_eq!(t.outputs, vec!["CONTROLLER"]);
    assert_eq!(t.final_actions, "CONTROLLER:128");
    assert!(bed.sent().is_empty());
    assert!(bed.packet_ins().is_empty());
    assert!(bed.dp.mac_table().is_empty());
    assert_eq!(bed.flow_counts(0x1), (0, 0));
    assert_eq!(bed.table_counts(0), (0, 0));
    assert_eq!(bed.dp.port_counters(2).unwrap(), PortCounters::default());
    assert_eq!(bed.dp.stats(), DatapathStats::default());
}

#[test]
fn trace_key_builds_a_frame_from_the_key_and_traces_it_like_the_frame() {
    let mut bed = Bed::new(3);
    seed_flows(&mut bed);
    bed.flow("priority=200,udp,tp_dst=53,vlan_tci=0x1000/0x1000 actions=pop_vlan,output:3");
    for (port, f) in [
        (1, arp_req(11, A, B)),
        (1, icmp(11, 12, A, B)),
        (2, udp(12, 11, B, A, 80)),
        (1, tagged(udp(11, 12, A, B, 53), 5)),
        (1, ipv6_frame(11, 12)),
    ] {
        let mut k = FlowKey::default();
        parse_frame(&f, port, &mut k);
        let by_key = bed.dp.trace_key(&k);
        let by_frame = bed.dp.trace(port, &f);
        assert_eq!(by_key, by_frame);
    }
    let mut k = FlowKey::default();
    parse_frame(&tagged(udp(11, 12, A, B, 53), 5), 1, &mut k);
    assert_eq!(bed.dp.trace_key(&k).outputs, vec!["3"]);
}

#[test]
fn trace_says_why_when_the_tables_are_skipped() {
    let bed = Bed::new(2);
    bed.dp.set_fail_open(true);
    let t = bed.dp.trace(1, &arp_req(11, A, B));
    assert_eq!(t.steps[0].table_id, OFPTT_ALL);
    assert!(t.steps[0].notes[0].contains("fail-open"));
    assert_eq!(t.outputs, vec!["2"]);
    bed.dp.set_fail_open(false);
    bed.dp.set_port_config(1, OFPPC_NO_RECV);
    let t = bed.dp.trace(1, &arp_req(11, A, B));
    assert!(t.steps[0].notes[0].contains("NO_RECV"));
    assert_eq!(t.outputs, vec!["drop"]);
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

fn threaded(
    n_ports: u32,
) -> (
    Pipeline,
    Arc<Datapath>,
    Vec<Arc<MemPort>>,
    mpsc::Receiver<PacketInEvent>,
) {
    let pipeline = Pipeline::new(PipelineConfig::default());
    let (tx, rx) = mpsc::channel(64);
    let dp = Datapath::new(cfg(TableMiss::Drop), pipeline.reader(), tx);
    let ports = (1..=n_ports)
        .map(|p| {
            let m = MemPort::new(&format!("t{p}"), Offloads::NONE);
            dp.add_port(p, m.clone());
            m
        })
        .collect();
    (pipeline, dp, ports, rx)
}

fn add(pipeline: &mut Pipeline, text: &str) {
    let fm = parse_flow(text, FlowCommand::Add).unwrap();
    pipeline.apply_flow_mod(&fm, clock::now()).unwrap();
    pipeline.publish();
}

fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

#[test]
fn workers_start_and_stop_cleanly_and_can_restart() {
    let (_p, dp, _ports, _rx) = threaded(3);
    let w = dp.start(3).unwrap();
    assert_eq!(w.len(), 3);
    // Each thread names itself as it starts.
    let want: Vec<String> = (0..3).map(|k| format!("tapflow-dp-{k}")).collect();
    let t0 = Instant::now();
    while !want.iter().all(|n| thread_names().contains(n)) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{:?}",
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        dp.start(1).unwrap_err().kind(),
        io::ErrorKind::AlreadyExists
    );
    let t0 = Instant::now();
    w.stop();
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "stop is prompt: {:?}",
        t0.elapsed()
    );
    assert!(dp.lock_wakers().is_empty());
    let w = dp.start(1).unwrap();
    drop(w); // Drop joins too.
    assert!(dp.lock_wakers().is_empty());
    dp.start(2).unwrap().stop();
}

#[test]
fn mem_port_round_trip_through_worker_threads() {
    let (mut pipeline, dp, ports, _rx) = threaded(4);
    add(&mut pipeline, "priority=10,in_port=1 actions=output:2");
    add(&mut pipeline, "priority=10,in_port=2 actions=output:1");
    add(&mut pipeline, "priority=10,in_port=3 actions=output:4");
    add(&mut pipeline, "priority=10,in_port=4 actions=output:3");
    let workers = dp.start(2).unwrap();
    let f = udp(11, 12, A, B, 9);
    let g = udp(12, 11, B, A, 9);
    for i in 0..500 {
        ports[0].inject(&f);
        ports[3].inject(&g);
        if i % 7 == 0 {
            ports[1].inject(&g);
        }
    }
    let to2 = ports[1].wait_take(500, Duration::from_secs(10));
    let to3 = ports[2].wait_take(500, Duration::from_secs(10));
    let to1 = ports[0].wait_take(72, Duration::from_secs(10));
    assert_eq!((to2.len(), to3.len(), to1.len()), (500, 500, 72));
    assert!(to2.iter().all(|x| *x == f) && to3.iter().all(|x| *x == g));
    // A port added while running is picked up and served at once.
    let late = MemPort::new("late", Offloads::NONE);
    dp.add_port(5, late.clone());
    add(&mut pipeline, "priority=10,in_port=5 actions=output:1");
    late.inject(&f);
    assert_eq!(ports[0].wait_take(1, Duration::from_secs(5)).len(), 1);
    workers.stop();
    assert_eq!(dp.port_counters(1).unwrap().rx_packets, 500);
    assert_eq!(dp.port_counters(2).unwrap().tx_packets, 500);
    // Stopped: nothing moves any more.
    ports[0].inject(&f);
    std::thread::sleep(Duration::from_millis(50));
    assert!(ports[1].take().is_empty());
}

#[test]
fn barrier_guarantee_with_worker_threads_first_frame_after_publish_sees_new_flow() {
    let (mut pipeline, dp, ports, _rx) = threaded(2);
    let workers = dp.start(2).unwrap();
    let f = udp(11, 12, A, B, 53);
    for i in 0..1000u32 {
        let b = i.to_be_bytes();
        // "BARRIER": publish returns, then the frame is sent.
        add(
            &mut pipeline,
            &format!(
                "priority=10,udp actions=set_field:02:00:{:02x}:{:02x}:{:02x}:{:02x}->eth_dst,output:2",
                b[0], b[1], b[2], b[3]
            ),
        );
        ports[0].inject(&f);
        let out = ports[1].wait_take(1, Duration::from_secs(5));
        assert_eq!(out.len(), 1, "iteration {i}");
        assert_eq!(
            eth_dst_of(&out[0]),
            [2, 0, b[0], b[1], b[2], b[3]],
            "iteration {i}"
        );
    }
    workers.stop();
}

#[test]
fn a_port_whose_receive_fails_is_parked_not_spun_on() {
    struct Broken(EventFd, std::sync::atomic::AtomicU64);
    impl Port for Broken {
        fn recv_batch(&self, _: &mut PacketBatch) -> io::Result<usize> {
            self.1.fetch_add(1, Relaxed);
            Err(io::Error::from_raw_os_error(libc::EBADFD))
        }
        fn send(&self, _: &[u8], _: &TxMeta) -> io::Result<()> {
            Err(io::Error::from_raw_os_error(libc::EBADFD))
        }
        fn fd(&self) -> RawFd {
            self.0.fd()
        }
        fn name(&self) -> &str {
            "broken"
        }
        fn hw_addr(&self) -> PortMac {
            PortMac::ZERO
        }
        fn link_state(&self) -> LinkState {
            LinkState::DOWN
        }
    }
    let (mut pipeline, dp, ports, _rx) = threaded(2);
    let broken = Arc::new(Broken(EventFd::new().unwrap(), Default::default()));
    broken.0.signal(); // always readable
    dp.add_port(3, broken.clone());
    add(
        &mut pipeline,
        "priority=10,in_port=1 actions=output:2,output:3",
    );
    let workers = dp.start(1).unwrap();
    let t0 = Instant::now();
    while broken.1.load(Relaxed) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(300));
    let calls = broken.1.load(Relaxed);
    assert!((1..=3).contains(&calls), "{calls} receive attempts");
    // The other ports keep working; sends to the broken one count as dropped.
    ports[0].inject(&udp(11, 12, A, B, 1));
    assert_eq!(ports[1].wait_take(1, Duration::from_secs(5)).len(), 1);
    workers.stop();
    let c = dp.port_counters(3).unwrap();
    assert!(c.rx_errors >= 1 && c.tx_dropped == 1, "{c:?}");
}

// ---------------------------------------------------------------------------
// Cost (ignored; run with
// `cargo test --release -p datapath --lib dataplane::tests::per_packet_cost -- --ignored --nocapture`)
// ---------------------------------------------------------------------------

struct NullPort(EventFd, std::sync::atomic::AtomicU64);

impl Port for NullPort {
    fn recv_batch(&self, _: &mut PacketBatch) -> io::Result<usize> {
        Ok(0)
    }
    fn send(&self, _: &[u8], _: &TxMeta) -> io::Result<()> {
        self.1.fetch_add(1, Relaxed);
        Ok(())
    }
    fn send_batch(&self, frames: &[crate::port::TxFrame<'_>]) -> io::Result<usize> {
        self.1.fetch_add(frames.len() as u64, Relaxed);
        Ok(frames.len())
    }
    fn fd(&self) -> RawFd {
        self.0.fd()
    }
    fn name(&self) -> &str {
        "null"
    }
    fn hw_addr(&self) -> PortMac {
        PortMac::ZERO
    }
    fn link_state(&self) -> LinkState {
        LinkState::UP
    }
}

/// ns per packet processing `frames` (one batch) on port 1 repeatedly.
fn cost(bed: &mut Bed, frames: &[Vec<u8>], no_cache: bool) -> f64 {
    bed.worker.no_cache = no_cache;
    let e = Arc::clone(bed.dp.ports.load().get(1).unwrap());
    let run = |n: usize, w: &mut Worker| {
        for _ in 0..n {
            w.batch.clear();
            for f in frames {
                w.batch.push(f, VnetHdr::NONE);
            }
            w.process(&e);
        }
    };
    run(100, &mut bed.worker);
    let iters = 20_000;
    let t0 = Instant::now();
    run(iters, &mut bed.worker);
    t0.elapsed().as_nanos() as f64 / (iters * frames.len()) as f64
}

#[test]
#[ignore]
fn per_packet_cost() {
    let null_bed = |n_flows: u32| {
        let pipeline = Pipeline::new(PipelineConfig::default());
        let (tx, pins) = mpsc::channel(16);
        let dp = Datapath::new(cfg(TableMiss::Drop), pipeline.reader(), tx);
        for p in 1..=4 {
            dp.add_port(
                p,
                Arc::new(NullPort(EventFd::new().unwrap(), Default::default())),
            );
        }
        let worker = Worker::new(Arc::clone(&dp), 0, 1);
        let mut bed = Bed {
            pipeline,
            dp,
            pins,
            ports: Vec::new(),
            worker,
        };
        for i in 0..n_flows {
            let b = (i + 1).to_be_bytes();
            bed.flow(&format!(
                "table=0,priority=100,ip,nw_dst=172.{}.{}.{} actions=output:2",
                b[1], b[2], b[3]
            ));
            if i % 3 == 0 {
                bed.flow(&format!(
                    "table=1,priority={},udp,nw_src=192.168.{}.{},tp_dst={} actions=output:3",
                    i % 1000,
                    b[2],
                    b[3],
                    i % 60000
                ));
            }
        }
        bed.flow(
            "table=0,priority=10,udp actions=set_field:52:54:00:00:00:99->eth_dst,goto_table:1",
        );
        bed.flow("table=1,priority=5,udp actions=write_metadata:0x1,goto_table:2");
        bed.flow("table=2,priority=5,udp actions=output:2");
        bed.flow("table=0,priority=10,icmp actions=NORMAL");
        bed
    };
    let same_udp: Vec<Vec<u8>> = (0..32).map(|_| udp(1, 2, A, B, 53)).collect();
    let distinct_udp: Vec<Vec<u8>> = (0..32).map(|i| udp(1, 2, A, B, 1000 + i)).collect();
    let icmps: Vec<Vec<u8>> = (0..32).map(|_| icmp(1, 2, A, B)).collect();
    for n in [10u32, 10_000] {
        let mut bed = null_bed(n);
        // Learn mac 2 on port 2 for NORMAL.
        bed.worker.batch.clear();
        bed.worker.batch.push(&icmp(2, 1, B, A), VnetHdr::NONE);
        let e2 = Arc::clone(bed.dp.ports.load().get(2).unwrap());
        bed.worker.process(&e2);
        let a = cost(&mut bed, &same_udp, false);
        let b = cost(&mut bed, &distinct_udp, false);
        let c = cost(&mut bed, &icmps, false);
        let d = cost(&mut bed, &distinct_udp, true);
        eprintln!(
            "{n:>6} flows: 3-table udp, cache hit {a:.0} ns/pkt; 32 keys/batch {b:.0} ns/pkt; \
             NORMAL hit {c:.0} ns/pkt; uncached slow path {d:.0} ns/pkt"
        );
    }
}
