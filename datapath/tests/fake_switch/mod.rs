//! A tiny fake OpenFlow 1.3 switch for the CLI tests: a unix socket listener
//! (one thread per connection, blocking I/O) that says HELLO, answers
//! FEATURES, GET_CONFIG, BARRIER, ECHO and the multipart requests `show`,
//! `dump-*` and the real `ovs-ofctl add-flow` send, records every message it
//! receives, and answers a FLOW_MOD with priority 666 with
//! `OFPT_ERROR OFPBMC_BAD_PREREQ` (carrying the whole request, as OVS does).
//!
//! Its replies are fixed, so that `tapflow` and `ovs-ofctl` can be compared
//! line by line against it.

#![allow(dead_code)]

use ofproto::consts::*;
use ofproto::error::{ErrorCode, OFPBMC_BAD_PREREQ, OFPBRC_BAD_MULTIPART, OFPBRC_BAD_TYPE};
use ofproto::message::{ErrorMsg, FeaturesReply, FlowMod, Hello, HelloElem, SwitchConfig};
use ofproto::multipart::{
    ActionId, Desc, FlowStats, InstructionId, MultipartReply, MultipartReplyBody,
    MultipartRequestBody, OxmId, PortStats, TableFeatureProp, TableFeatures, TableStats,
};
use ofproto::port::PortDesc;
use ofproto::text::{parse_flow, FlowCommand};
use ofproto::{MacAddr, Message};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The priority the fake switch refuses with `OFPBMC_BAD_PREREQ`.
pub const REJECTED_PRIORITY: u16 = 666;
pub const DPID: u64 = 0x0000_5e00_5300_0001;

pub struct FakeSwitch {
    dir: PathBuf,
    sock: PathBuf,
    log: Arc<Mutex<Vec<(u32, Message)>>>,
}

impl FakeSwitch {
    /// Listens on a fresh socket in a private directory under the temp dir.
    pub fn start() -> FakeSwitch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tapflow-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("br0.mgmt");
        FakeSwitch::start_at(dir, sock)
    }

    /// Listens on `sock` (its directory must exist); `dir` is removed on drop.
    pub fn start_at(dir: PathBuf, sock: PathBuf) -> FakeSwitch {
        let _ = std::fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let l = l.clone();
                std::thread::spawn(move || serve(conn, l));
            }
        });
        FakeSwitch { dir, sock, log }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `unix:PATH`.
    pub fn target(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    /// Everything received so far (HELLOs included), oldest first.
    pub fn received(&self) -> Vec<Message> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// [`FakeSwitch::received`] with each message's xid.
    pub fn received_with_xids(&self) -> Vec<(u32, Message)> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }

    pub fn flow_mods(&self) -> Vec<FlowMod> {
        self.received()
            .into_iter()
            .filter_map(|m| match m {
                Message::FlowMod(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    /// The received messages' type names, HELLO and ECHO left out.
    pub fn kinds(&self) -> Vec<String> {
        self.received()
            .iter()
            .filter(|m| !matches!(m, Message::Hello(_) | Message::EchoReply(_)))
            .map(ofproto::print::message_name)
            .collect()
    }
}

impl Drop for FakeSwitch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(mut s: UnixStream, log: Arc<Mutex<Vec<(u32, Message)>>>) {
    let hello = Message::Hello(Hello {
        elements: vec![HelloElem::VersionBitmap(vec![1 << 4])],
    });
    if s.write_all(&hello.encode_to_vec(1)).is_err() {
        return;
    }
    loop {
        let mut hdr = [0u8; 8];
        if s.read_exact(&mut hdr).is_err() {
            return;
        }
        let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize;
        let mut raw = hdr.to_vec();
        raw.resize(len.max(8), 0);
        if s.read_exact(&mut raw[8..]).is_err() {
            return;
        }
        let xid = u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let msg = match Message::decode(&raw) {
            Ok((_, m)) => m,
            Err(e) => {
                eprintln!("fake switch: undecodable message: {e}");
                continue;
            }
        };
        log.lock().unwrap().push((xid, msg.clone()));
        let mut out = Vec::new();
        for reply in answer(&msg, &raw) {
            out.extend(reply.encode_to_vec(xid));
        }
        if !out.is_empty() && s.write_all(&out).is_err() {
            return;
        }
    }
}

fn error(code: ErrorCode, raw: &[u8]) -> Vec<Message> {
    vec![Message::Error(ErrorMsg::Standard {
        code,
        data: bytes::Bytes::copy_from_slice(raw),
    })]
}

fn port(no: u32, name: &str, mac: u8, config: u32, state: u32, curr: u32, speed: u32) -> PortDesc {
    PortDesc {
        port_no: no,
        hw_addr: MacAddr([0x02, 0, 0, 0, 0, mac]),
        name: name.into(),
        config,
        state,
        curr,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: speed,
        max_speed: 0,
    }
}

/// The ports `show` and `dump-ports-desc` print (LOCAL first on the wire:
/// ovs-ofctl sorts them by number).
pub fn ports() -> Vec<PortDesc> {
    vec![
        port(
            OFPP_LOCAL,
            "br0",
            0xfe,
            OFPPC_PORT_DOWN,
            OFPPS_LINK_DOWN,
            0,
            0,
        ),
        port(
            2,
            "tap2",
            2,
            0,
            OFPPS_LIVE,
            OFPPF_10GB_FD | OFPPF_COPPER,
            10_000_000,
        ),
        port(1, "tap1", 1, 0, 0, OFPPF_10GB_FD | OFPPF_COPPER, 10_000_000),
    ]
}

/// (flow text, duration sec, nsec, packets, bytes), in the order the switch
/// returns them: not sorted by anything.
pub const FLOWS: &[(&str, u32, u32, u64, u64)] = &[
    (
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
        12,
        345_000_000,
        3,
        126,
    ),
    ("priority=0 actions=drop", 100, 0, 7, 686),
    (
        "cookie=0x5,table=1,idle_timeout=30,priority=200,ip,nw_dst=10.10.10.12 actions=output:2",
        5,
        1_000_000,
        0,
        0,
    ),
    (
        "priority=300,icmp,nw_dst=10.10.10.11 actions=output:1",
        1,
        500_000_000,
        10,
        980,
    ),
    (
        "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
        12,
        345_000_000,
        4,
        168,
    ),
];

pub fn flow_stats() -> Vec<FlowStats> {
    FLOWS
        .iter()
        .map(|&(text, sec, nsec, packets, bytes)| {
            let fm = parse_flow(text, FlowCommand::Add).unwrap();
            FlowStats {
                table_id: fm.table_id,
                duration_sec: sec,
                duration_nsec: nsec,
                priority: fm.priority,
                idle_timeout: fm.idle_timeout,
                hard_timeout: fm.hard_timeout,
                flags: fm.flags,
                cookie: fm.cookie,
                packet_count: packets,
                byte_count: bytes,
                match_: fm.match_,
                instructions: fm.instructions,
            }
        })
        .collect()
}

fn port_stats(no: u32, k: u64) -> PortStats {
    PortStats {
        port_no: no,
        rx_packets: 10 * k,
        tx_packets: 20 * k,
        rx_bytes: 1000 * k,
        tx_bytes: 2000 * k,
        rx_dropped: k,
        tx_dropped: 0,
        rx_errors: 0,
        tx_errors: 0,
        rx_frame_err: 0,
        rx_over_err: 0,
        rx_crc_err: 0,
        collisions: 0,
        duration_sec: 42,
        duration_nsec: 250_000_000,
    }
}

fn answer(msg: &Message, raw: &[u8]) -> Vec<Message> {
    match msg {
        Message::Hello(_) | Message::EchoReply(_) => vec![],
        Message::EchoRequest(d) => vec![Message::EchoReply(d.clone())],
        Message::FeaturesRequest => vec![Message::FeaturesReply(FeaturesReply {
            datapath_id: DPID,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS,
            reserved: 0,
        })],
        Message::GetConfigRequest => vec![Message::GetConfigReply(SwitchConfig {
            flags: 0,
            miss_send_len: 0,
        })],
        Message::BarrierRequest => vec![Message::BarrierReply],
        Message::FlowMod(fm) if fm.priority == REJECTED_PRIORITY => error(OFPBMC_BAD_PREREQ, raw),
        Message::FlowMod(_) | Message::PacketOut(_) | Message::SetConfig(_) => vec![],
        Message::MultipartRequest(r) => {
            let one = |body| vec![Message::MultipartReply(MultipartReply { flags: 0, body })];
            match &r.body {
                MultipartRequestBody::Desc => one(MultipartReplyBody::Desc(Desc {
                    mfr_desc: "tapflow".into(),
                    hw_desc: "fake".into(),
                    sw_desc: "test".into(),
                    serial_num: "1".into(),
                    dp_desc: "br0".into(),
                })),
                MultipartRequestBody::Flow(req) => {
                    let flows: Vec<FlowStats> = flow_stats()
                        .into_iter()
                        .filter(|f| req.table_id == OFPTT_ALL || f.table_id == req.table_id)
                        .collect();
                    // Two parts, as a switch with many flows sends them.
                    let (a, b) = flows.split_at(flows.len().min(2));
                    vec![
                        Message::MultipartReply(MultipartReply {
                            flags: OFPMPF_REPLY_MORE,
                            body: MultipartReplyBody::Flow(a.to_vec()),
                        }),
                        Message::MultipartReply(MultipartReply {
                            flags: 0,
                            body: MultipartReplyBody::Flow(b.to_vec()),
                        }),
                    ]
                }
                MultipartRequestBody::PortDesc => one(MultipartReplyBody::PortDesc(ports())),
                MultipartRequestBody::PortStats(req) => {
                    let all = vec![
                        port_stats(OFPP_LOCAL, 0),
                        port_stats(1, 1),
                        port_stats(2, 2),
                    ];
                    one(MultipartReplyBody::PortStats(
                        all.into_iter()
                            .filter(|p| req.port_no == OFPP_ANY || p.port_no == req.port_no)
                            .collect(),
                    ))
                }
                MultipartRequestBody::Table => one(MultipartReplyBody::Table(
                    (0..4u8)
                        .map(|t| TableStats {
                            table_id: t,
                            active_count: if t < 2 { 2 + u32::from(t) } else { 0 },
                            lookup_count: if t == 0 { 100 } else { 0 },
                            matched_count: if t == 0 { 90 } else { 0 },
                        })
                        .collect(),
                )),
                MultipartRequestBody::TableFeatures(t) if t.is_empty() => {
                    // ovs-ofctl refuses a reply without the 8 required properties.
                    let oxm = || vec![OxmId::new(0x8000, 0, false, 4)]; // in_port
                    one(MultipartReplyBody::TableFeatures(vec![TableFeatures {
                        table_id: 0,
                        name: "classifier".into(),
                        max_entries: 1_000_000,
                        properties: vec![
                            TableFeatureProp::Instructions(vec![InstructionId::new(4)]),
                            TableFeatureProp::NextTables(vec![]),
                            TableFeatureProp::WriteActions(vec![]),
                            TableFeatureProp::ApplyActions(vec![ActionId::new(0)]),
                            TableFeatureProp::Match(oxm()),
                            TableFeatureProp::Wildcards(oxm()),
                            TableFeatureProp::WriteSetfield(vec![]),
                            TableFeatureProp::ApplySetfield(vec![]),
                        ],
                        ..Default::default()
                    }]))
                }
                _ => error(OFPBRC_BAD_MULTIPART, &raw[..raw.len().min(64)]),
            }
        }
        _ => error(OFPBRC_BAD_TYPE, &raw[..raw.len().min(64)]),
    }
}
