//! Tests of the OpenFlow channel: connection task over in-memory duplex
//! streams (paused time where timers matter), transports over real loopback
//! TCP and unix sockets, the client against a fake bridge, and — when it is
//! installed — the real `ovs-ofctl` against our listener.

use super::conn::ConnConfig;
use super::frame::FrameReader;
use super::transport::Backoff;
use super::*;
use crate::bridge::{BridgeEvent, ConnHandle, ConnId, ConnKind, Outbound};
use bytes::Bytes;
use ofproto::codec::OfpFrame;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::message::{ErrorMsg, FeaturesReply, FlowMod, Hello, HelloElem, SwitchConfig};
use ofproto::multipart::{
    ActionId, Desc, FlowStats, FlowStatsRequest, InstructionId, MultipartReply, MultipartReplyBody,
    MultipartRequest, MultipartRequestBody, OxmId, TableFeatureProp, TableFeatures,
};
use ofproto::port::PortDesc;
use ofproto::{Header, MacAddr, Message};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{duplex, AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

// ---------------------------------------------------------------- helpers

/// The far end of a connection, speaking raw OpenFlow bytes.
struct Peer<S> {
    rd: FrameReader<ReadHalf<S>>,
    wr: WriteHalf<S>,
}

impl<S: AsyncRead + AsyncWrite> Peer<S> {
    fn new(s: S) -> Self {
        let (r, w) = tokio::io::split(s);
        Peer {
            rd: FrameReader::new(r),
            wr: w,
        }
    }

    async fn send_raw(&mut self, b: &[u8]) {
        self.wr.write_all(b).await.unwrap();
        self.wr.flush().await.unwrap();
    }

    async fn send(&mut self, xid: u32, m: &Message) {
        self.send_raw(&m.encode_to_vec(xid)).await;
    }

    async fn frame(&mut self) -> OfpFrame {
        tokio::time::timeout(Duration::from_secs(30), self.rd.next())
            .await
            .expect("peer: timed out waiting for a frame")
            .expect("peer: read error")
            .expect("peer: unexpected EOF")
    }

    async fn msg(&mut self) -> (Header, Message) {
        // Any version: HELLO_FAILED errors come in the peer's version.
        let f = self.frame().await;
        let m =
            Message::decode_body(f.header.msg_type, &f.raw[8..]).expect("peer: undecodable frame");
        (f.header, m)
    }

    /// True once the other side has closed (EOF or reset).
    async fn closed(&mut self) -> bool {
        match tokio::time::timeout(Duration::from_secs(30), self.rd.next()).await {
            Ok(Ok(None)) | Ok(Err(_)) => true,
            Ok(Ok(Some(f))) => panic!("expected EOF, got {:?}", f.header),
            Err(_) => false,
        }
    }

    /// Reads our HELLO and checks it is version 4 with bitmap {1.3}.
    async fn expect_our_hello(&mut self) {
        let (h, m) = self.msg().await;
        assert_eq!(h.version, 4);
        assert_eq!(
            m,
            Message::Hello(Hello {
                elements: vec![HelloElem::VersionBitmap(vec![0x10])]
            })
        );
    }
}

fn hello_bytes(version: u8, versions: Option<&[u8]>, xid: u32) -> Vec<u8> {
    let h = match versions {
        Some(v) => Hello::with_versions(v),
        None => Hello::default(),
    };
    let mut v = Message::Hello(h).encode_to_vec(xid);
    v[0] = version;
    v
}

fn fast_cfg() -> ConnConfig {
    ConnConfig::default()
}

const ID: ConnId = 7;

/// A connection task over a duplex; returns the peer end and the bridge side.
fn start(
    cfg: ConnConfig,
) -> (
    Peer<DuplexStream>,
    mpsc::Receiver<BridgeEvent>,
    JoinHandle<()>,
) {
    let (a, b) = duplex(256 * 1024);
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(run_connection(
        a,
        ConnKind::Primary,
        "test:peer".into(),
        ID,
        tx,
        cfg,
    ));
    (Peer::new(b), rx, task)
}

/// [`start`] and a successful HELLO exchange.
async fn up(
    cfg: ConnConfig,
) -> (
    Peer<DuplexStream>,
    mpsc::Receiver<BridgeEvent>,
    ConnHandle,
    JoinHandle<()>,
) {
    let (mut peer, mut rx, task) = start(cfg);
    peer.expect_our_hello().await;
    peer.send_raw(&hello_bytes(4, Some(&[1, 4]), 1)).await;
    let h = match rx.recv().await {
        Some(BridgeEvent::ConnUp(h)) => h,
        other => panic!("expected ConnUp, got {other:?}"),
    };
    (peer, rx, h, task)
}

async fn next_event(rx: &mut mpsc::Receiver<BridgeEvent>) -> Option<BridgeEvent> {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("timed out waiting for a bridge event")
}

/// After a close: exactly one ConnDown, then the channel ends.
async fn expect_down_once(rx: &mut mpsc::Receiver<BridgeEvent>) {
    match next_event(rx).await {
        Some(BridgeEvent::ConnDown(id)) => assert_eq!(id, ID),
        other => panic!("expected ConnDown, got {other:?}"),
    }
    assert!(next_event(rx).await.is_none(), "more events after ConnDown");
}

fn expect_error(m: &Message) -> (ErrorCode, Bytes) {
    match m {
        Message::Error(ErrorMsg::Standard { code, data }) => (*code, data.clone()),
        other => panic!("expected OFPT_ERROR, got {other:?}"),
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "tf-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------- fake bridge

/// Name of a request for logs: `OFPT_MULTIPART_REQUEST(PortDesc)`.
fn describe(m: &Message) -> String {
    match m {
        Message::MultipartRequest(r) => {
            let body = format!("{:?}", r.body);
            let kind = body.split(['(', ' ']).next().unwrap_or("?").to_string();
            format!("{}({kind})", m.type_name())
        }
        _ => m.type_name().to_string(),
    }
}

fn flow(priority: u16) -> FlowStats {
    FlowStats {
        priority,
        packet_count: u64::from(priority),
        ..Default::default()
    }
}

/// What the fake bridge answers: FEATURES, GET_CONFIG, BARRIER, DESC, FLOW
/// (split in two parts with MORE), PORT_DESC, TABLE_FEATURES; FLOW_MOD to
/// table 200 fails with OFPFMFC_BAD_TABLE_ID, other FLOW_MODs are silent.
fn answer(msg: &Message, raw: &[u8]) -> Vec<Message> {
    let err = |code| {
        vec![Message::Error(ErrorMsg::Standard {
            code,
            data: Bytes::copy_from_slice(&raw[..raw.len().min(64)]),
        })]
    };
    match msg {
        Message::FeaturesRequest => vec![Message::FeaturesReply(FeaturesReply {
            datapath_id: 0x1234,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0x4f,
            reserved: 0,
        })],
        Message::GetConfigRequest => vec![Message::GetConfigReply(SwitchConfig {
            flags: 0,
            miss_send_len: 128,
        })],
        Message::BarrierRequest => vec![Message::BarrierReply],
        Message::FlowMod(fm) if fm.table_id == 200 => err(OFPFMFC_BAD_TABLE_ID),
        Message::FlowMod(_) | Message::SetConfig(_) => vec![],
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
                MultipartRequestBody::Flow(_) => vec![
                    Message::MultipartReply(MultipartReply {
                        flags: OFPMPF_REPLY_MORE,
                        body: MultipartReplyBody::Flow(vec![flow(100), flow(200)]),
                    }),
                    Message::MultipartReply(MultipartReply {
                        flags: 0,
                        body: MultipartReplyBody::Flow(vec![flow(300)]),
                    }),
                ],
                MultipartRequestBody::PortDesc => one(MultipartReplyBody::PortDesc(vec![
                    PortDesc {
                        port_no: 1,
                        hw_addr: MacAddr([2, 0, 0, 0, 0, 1]),
                        name: "p1".into(),
                        ..Default::default()
                    },
                    PortDesc {
                        port_no: OFPP_LOCAL,
                        hw_addr: MacAddr([2, 0, 0, 0, 0, 0xfe]),
                        name: "br0".into(),
                        ..Default::default()
                    },
                ])),
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
                _ => err(OFPBRC_BAD_MULTIPART),
            }
        }
        _ => err(OFPBRC_BAD_TYPE),
    }
}

/// A bridge owner task that answers with [`answer`] and logs every request.
fn fake_bridge(mut rx: mpsc::Receiver<BridgeEvent>) -> (Arc<Mutex<Vec<String>>>, JoinHandle<()>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let task = tokio::spawn(async move {
        let mut conns: HashMap<ConnId, ConnHandle> = HashMap::new();
        while let Some(ev) = rx.recv().await {
            match ev {
                BridgeEvent::ConnUp(h) => {
                    l.lock().unwrap().push(format!("up {}", h.peer));
                    conns.insert(h.id, h);
                }
                BridgeEvent::ConnDown(id) => {
                    l.lock().unwrap().push("down".into());
                    conns.remove(&id);
                }
                BridgeEvent::Request {
                    conn,
                    xid,
                    msg,
                    raw,
                } => {
                    l.lock().unwrap().push(describe(&msg));
                    let Some(h) = conns.get(&conn) else { continue };
                    for reply in answer(&msg, &raw) {
                        let _ = h.tx.send(Outbound::Msg { xid, msg: reply }).await;
                    }
                }
            }
        }
    });
    (log, task)
}

/// A listener on `listen` served by a fake bridge.
fn fake_switch(listen: &ListenTarget) -> (ListenTarget, Arc<Mutex<Vec<String>>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(256);
    let (log, _bridge) = fake_bridge(rx);
    let bound = bind_listener(listen).unwrap();
    let local = bound.local().clone();
    let task = bound.spawn(
        ConnKind::Primary,
        tx,
        Arc::new(AtomicU64::new(1)),
        ConnConfig::default(),
    );
    (local, log, task)
}

fn tcp_target(l: &ListenTarget) -> Target {
    match l {
        ListenTarget::Tcp(a) => Target::Tcp {
            host: a.ip().to_string(),
            port: a.port(),
        },
        ListenTarget::Ssl(a) => Target::Ssl {
            host: a.ip().to_string(),
            port: a.port(),
        },
        ListenTarget::Unix(p) => Target::Unix(p.clone()),
    }
}

// ------------------------------------------------------ HELLO negotiation

#[tokio::test(start_paused = true)]
async fn hello_negotiation_matrix() {
    // A HELLO whose version bitmap element has a length of 6 (not whole words).
    let mut malformed = vec![4, 0, 0, 16, 0, 0, 0, 1];
    malformed.extend_from_slice(&[0, 1, 0, 6, 0, 0, 0, 0]);
    let cases: Vec<(&str, Vec<u8>, Result<(), u8>)> = vec![
        ("bitmap with 1.3", hello_bytes(4, Some(&[1, 4]), 1), Ok(())),
        (
            "bitmap 1.0-1.2, no 1.3",
            hello_bytes(3, Some(&[1, 2, 3]), 1),
            Err(3),
        ),
        ("no bitmap, version 4", hello_bytes(4, None, 1), Ok(())),
        ("no bitmap, version 1", hello_bytes(1, None, 1), Err(1)),
        ("no bitmap, version 5", hello_bytes(5, None, 1), Ok(())),
        (
            "version 6 with bitmap 1.0-1.5 (os-ken)",
            hello_bytes(6, Some(&[1, 2, 3, 4, 5, 6]), 1),
            Ok(()),
        ),
        (
            "version 6 with bitmap 1.4-1.5",
            hello_bytes(6, Some(&[5, 6]), 1),
            Err(4),
        ),
        (
            "first message FEATURES_REQUEST",
            Message::FeaturesRequest.encode_to_vec(1),
            Err(4),
        ),
        ("malformed HELLO", malformed, Err(4)),
    ];
    for (name, bytes, want) in cases {
        let (mut peer, mut rx, task) = start(fast_cfg());
        peer.expect_our_hello().await;
        peer.send_raw(&bytes).await;
        match want {
            Ok(()) => {
                match next_event(&mut rx).await {
                    Some(BridgeEvent::ConnUp(h)) => {
                        assert_eq!(
                            (h.id, h.kind, h.peer.as_str()),
                            (ID, ConnKind::Primary, "test:peer"),
                            "{name}"
                        );
                    }
                    other => panic!("{name}: expected ConnUp, got {other:?}"),
                }
                drop(peer);
                expect_down_once(&mut rx).await;
            }
            Err(err_version) => {
                let (h, m) = peer.msg().await;
                let (code, data) = expect_error(&m);
                assert_eq!(code, OFPHFC_INCOMPATIBLE, "{name}");
                assert_eq!(
                    h.version, err_version,
                    "{name}: error in the peer's version"
                );
                assert_eq!(h.xid, 1, "{name}");
                let text = std::str::from_utf8(&data).expect("ASCII reason");
                assert!(
                    !text.is_empty() && text.bytes().all(|b| (0x20..0x7f).contains(&b)),
                    "{name}: reason {text:?}"
                );
                assert!(peer.closed().await, "{name}: connection not closed");
                drop(peer);
                assert!(
                    next_event(&mut rx).await.is_none(),
                    "{name}: bridge heard of it"
                );
            }
        }
        task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn hello_failure_reason_names_the_versions() {
    let (mut peer, _rx, _task) = start(fast_cfg());
    peer.expect_our_hello().await;
    peer.send_raw(&hello_bytes(3, Some(&[1, 3]), 9)).await;
    let (_, m) = peer.msg().await;
    let (_, data) = expect_error(&m);
    assert_eq!(
        std::str::from_utf8(&data).unwrap(),
        "We support OpenFlow 1.3, you support OpenFlow 1.0, OpenFlow 1.2; no common versions."
    );
}

#[tokio::test(start_paused = true)]
async fn no_hello_within_timeout_closes() {
    let (mut peer, mut rx, task) = start(fast_cfg());
    let t0 = Instant::now();
    peer.expect_our_hello().await;
    assert!(peer.closed().await);
    assert_eq!(t0.elapsed().as_secs(), 10);
    assert!(next_event(&mut rx).await.is_none());
    task.await.unwrap();
}

// ------------------------------------------------- after negotiation

#[tokio::test]
async fn echo_request_is_answered_and_echo_reply_consumed() {
    let (mut peer, mut rx, _h, _task) = up(fast_cfg()).await;
    peer.send(
        0x55,
        &Message::EchoRequest(Bytes::from_static(b"are you there")),
    )
    .await;
    let (h, m) = peer.msg().await;
    assert_eq!(h.xid, 0x55);
    assert_eq!(m, Message::EchoReply(Bytes::from_static(b"are you there")));
    peer.send(9, &Message::EchoReply(Bytes::new())).await;
    peer.send(10, &Message::BarrierRequest).await;
    // The echo reply was not forwarded: the next event is the barrier.
    match next_event(&mut rx).await {
        Some(BridgeEvent::Request { xid, msg, .. }) => {
            assert_eq!((xid, msg), (10, Message::BarrierRequest))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wrong_version_after_negotiation_gets_bad_version_and_connection_continues() {
    let (mut peer, mut rx, _h, _task) = up(fast_cfg()).await;
    // A 100-byte ECHO_REQUEST in version 5: data must be its first 64 bytes.
    let mut v = Message::EchoRequest(Bytes::from(vec![0xab; 92])).encode_to_vec(0x77);
    v[0] = 5;
    peer.send_raw(&v).await;
    let (h, m) = peer.msg().await;
    let (code, data) = expect_error(&m);
    assert_eq!((h.version, h.xid, code), (4, 0x77, OFPBRC_BAD_VERSION));
    assert_eq!(&data[..], &v[..64]);
    // A short one in version 1, and a HELLO in version 3.
    let mut v = Message::FeaturesRequest.encode_to_vec(0x78);
    v[0] = 1;
    peer.send_raw(&v).await;
    let (_, m) = peer.msg().await;
    assert_eq!(expect_error(&m), (OFPBRC_BAD_VERSION, Bytes::from(v)));
    peer.send_raw(&hello_bytes(3, None, 0x79)).await;
    let (h, m) = peer.msg().await;
    assert_eq!((h.xid, expect_error(&m).0), (0x79, OFPBRC_BAD_VERSION));
    // Still up.
    peer.send(0x80, &Message::FeaturesRequest).await;
    match next_event(&mut rx).await {
        Some(BridgeEvent::Request { xid, msg, .. }) => {
            assert_eq!((xid, msg), (0x80, Message::FeaturesRequest))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn undecodable_messages_get_their_error_code_and_connection_continues() {
    let (mut peer, mut rx, _h, _task) = up(fast_cfg()).await;
    let mut cases: Vec<(&str, Vec<u8>, ErrorCode)> = Vec::new();
    // FLOW_MOD cut short.
    let mut v = vec![4, OFPT_FLOW_MOD, 0, 18, 0, 0, 0, 1];
    v.extend_from_slice(&[0; 10]);
    cases.push(("short flow mod", v, OFPBRC_BAD_LEN));
    // Unknown message type.
    cases.push((
        "unknown type",
        vec![4, 99, 0, 8, 0, 0, 0, 2],
        OFPBRC_BAD_TYPE,
    ));
    // Multipart request of an unknown type.
    let mut v = vec![4, OFPT_MULTIPART_REQUEST, 0, 16, 0, 0, 0, 3];
    v.extend_from_slice(&[0x77, 0x77, 0, 0, 0, 0, 0, 0]);
    cases.push(("unknown multipart", v, OFPBRC_BAD_MULTIPART));
    // A 120-byte FLOW_MOD whose match claims an OXM longer than the match.
    let mut fm = Message::FlowMod(FlowMod::default()).encode_to_vec(4);
    fm.resize(120, 0);
    fm[2..4].copy_from_slice(&120u16.to_be_bytes());
    // match: type OXM, length 70, then a 4-byte OXM header claiming 255 bytes.
    fm[48..52].copy_from_slice(&[0, 1, 0, 70]);
    fm[52..56].copy_from_slice(&[0x80, 0, 0, 255]);
    let code = Message::decode(&fm).unwrap_err().code;
    cases.push(("bad match in a long flow mod", fm, code));
    for (name, bytes, code) in &cases {
        assert_eq!(
            Message::decode(bytes).unwrap_err().code,
            *code,
            "{name}: the codec's own verdict"
        );
        peer.send_raw(bytes).await;
        let (h, m) = peer.msg().await;
        let (got, data) = expect_error(&m);
        assert_eq!(got, *code, "{name}");
        assert_eq!(
            h.xid,
            u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
            "{name}"
        );
        assert_eq!(&data[..], &bytes[..bytes.len().min(64)], "{name}");
    }
    peer.send(0x99, &Message::GetConfigRequest).await;
    match next_event(&mut rx).await {
        Some(BridgeEvent::Request { xid, msg, .. }) => {
            assert_eq!((xid, msg), (0x99, Message::GetConfigRequest))
        }
        other => panic!("nothing else may reach the bridge first: {other:?}"),
    }
}

#[tokio::test]
async fn requests_reach_the_bridge_in_order_with_raw_bytes() {
    let (mut peer, mut rx, _h, _task) = up(fast_cfg()).await;
    let msgs: Vec<Message> = (0..60)
        .map(|i| match i % 4 {
            0 => Message::FeaturesRequest,
            1 => Message::BarrierRequest,
            2 => Message::GetConfigRequest,
            _ => Message::MultipartRequest(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::Flow(FlowStatsRequest::default()),
            }),
        })
        .collect();
    // All in one write: the reader must cut them apart.
    let mut all = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        all.extend(m.encode_to_vec(1000 + i as u32));
    }
    peer.send_raw(&all).await;
    for (i, m) in msgs.iter().enumerate() {
        match next_event(&mut rx).await {
            Some(BridgeEvent::Request {
                conn,
                xid,
                msg,
                raw,
            }) => {
                assert_eq!(conn, ID);
                assert_eq!(xid, 1000 + i as u32);
                assert_eq!(&msg, m);
                assert_eq!(&raw[..], &m.encode_to_vec(xid)[..]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn outbound_messages_are_written_in_order() {
    let (mut peer, _rx, h, _task) = up(fast_cfg()).await;
    let n = 500u32;
    let tx = h.tx.clone();
    tokio::spawn(async move {
        for i in 0..n {
            let o = if i % 3 == 0 {
                Outbound::Raw(Bytes::from(Message::BarrierReply.encode_to_vec(i)))
            } else {
                Outbound::Msg {
                    xid: i,
                    msg: Message::EchoRequest(Bytes::from(i.to_be_bytes().to_vec())),
                }
            };
            tx.send(o).await.unwrap();
        }
    });
    for i in 0..n {
        let (hd, m) = peer.msg().await;
        assert_eq!(hd.xid, i);
        if i % 3 == 0 {
            assert_eq!(m, Message::BarrierReply);
        } else {
            assert_eq!(
                m,
                Message::EchoRequest(Bytes::from(i.to_be_bytes().to_vec()))
            );
        }
    }
}

#[tokio::test]
async fn oversized_outbound_message_is_dropped_not_fatal() {
    let (mut peer, _rx, h, _task) = up(fast_cfg()).await;
    h.tx.send(Outbound::Msg {
        xid: 1,
        msg: Message::EchoReply(Bytes::from(vec![0; 70_000])),
    })
    .await
    .unwrap();
    h.tx.send(Outbound::Msg {
        xid: 2,
        msg: Message::BarrierReply,
    })
    .await
    .unwrap();
    let (hd, m) = peer.msg().await;
    assert_eq!((hd.xid, m), (2, Message::BarrierReply));
}

#[tokio::test]
async fn peer_close_sends_conn_down_once() {
    let (peer, mut rx, _h, task) = up(fast_cfg()).await;
    drop(peer);
    expect_down_once(&mut rx).await;
    task.await.unwrap();
}

#[tokio::test]
async fn framing_error_closes_the_connection() {
    let (mut peer, mut rx, _h, task) = up(fast_cfg()).await;
    peer.send_raw(&[4, OFPT_BARRIER_REQUEST, 0, 4, 0, 0, 0, 1])
        .await;
    assert!(peer.closed().await);
    expect_down_once(&mut rx).await;
    task.await.unwrap();
}

#[tokio::test]
async fn bridge_dropping_the_handle_closes_after_pending_output() {
    let (mut peer, mut rx, h, task) = up(fast_cfg()).await;
    h.tx.send(Outbound::Msg {
        xid: 5,
        msg: Message::BarrierReply,
    })
    .await
    .unwrap();
    drop(h);
    let (hd, m) = peer.msg().await;
    assert_eq!((hd.xid, m), (5, Message::BarrierReply));
    assert!(peer.closed().await);
    expect_down_once(&mut rx).await;
    task.await.unwrap();
}

#[tokio::test]
async fn aborted_connection_still_reports_conn_down() {
    let (_peer, mut rx, _h, task) = up(fast_cfg()).await;
    task.abort();
    let _ = task.await;
    expect_down_once(&mut rx).await;
}

// ------------------------------------------------------ inactivity probe

#[tokio::test(start_paused = true)]
async fn silence_gets_a_probe_then_a_close() {
    let (mut peer, mut rx, _h, task) = up(fast_cfg()).await;
    let t0 = Instant::now();
    let (hd, m) = peer.msg().await;
    assert_eq!(m, Message::EchoRequest(Bytes::new()));
    assert_eq!(hd.version, 4);
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
    assert!(peer.closed().await);
    assert_eq!(t0.elapsed(), Duration::from_secs(10));
    expect_down_once(&mut rx).await;
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn answered_probes_keep_the_connection_up() {
    let (mut peer, mut rx, _h, _task) = up(fast_cfg()).await;
    let t0 = Instant::now();
    for _ in 0..6 {
        let (hd, m) = peer.msg().await;
        assert_eq!(m, Message::EchoRequest(Bytes::new()));
        // Answer late, just before the close deadline.
        tokio::time::sleep(Duration::from_millis(4900)).await;
        peer.send(hd.xid, &Message::EchoReply(Bytes::new())).await;
    }
    assert!(t0.elapsed() >= Duration::from_secs(55));
    // Any traffic counts, not only echo replies.
    tokio::time::sleep(Duration::from_secs(4)).await;
    peer.send(1, &Message::BarrierRequest).await;
    assert!(matches!(
        next_event(&mut rx).await,
        Some(BridgeEvent::Request { .. })
    ));
    let t1 = Instant::now();
    let (_, m) = peer.msg().await;
    assert_eq!(m, Message::EchoRequest(Bytes::new()));
    assert_eq!(t1.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn peer_that_stops_reading_is_dropped() {
    // A 4 KiB pipe: our output backs up as soon as the peer stops reading,
    // while the peer keeps talking (so the inactivity probe stays quiet).
    let (a, b) = duplex(4096);
    let (tx, mut rx) = mpsc::channel(16);
    let _task = tokio::spawn(run_connection(
        a,
        ConnKind::Primary,
        "test:peer".into(),
        ID,
        tx,
        fast_cfg(),
    ));
    let mut peer = Peer::new(b);
    peer.expect_our_hello().await;
    peer.send_raw(&hello_bytes(4, None, 1)).await;
    let Some(BridgeEvent::ConnUp(h)) = next_event(&mut rx).await else {
        panic!()
    };
    let Peer {
        rd: _keep_open,
        mut wr,
    } = peer;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let m = Message::EchoReply(Bytes::new()).encode_to_vec(0);
            if wr.write_all(&m).await.is_err() {
                break;
            }
        }
    });
    let t0 = Instant::now();
    h.tx.send(Outbound::Raw(Bytes::from(vec![0u8; 64 * 1024])))
        .await
        .unwrap();
    match next_event(&mut rx).await {
        Some(BridgeEvent::ConnDown(id)) => assert_eq!(id, ID),
        other => panic!("{other:?}"),
    }
    // Twice the probe interval without progress.
    assert_eq!(t0.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn probe_can_be_disabled() {
    let cfg = ConnConfig {
        probe_interval: None,
        ..ConnConfig::default()
    };
    let (mut peer, _rx, _h, _task) = up(cfg).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    peer.send(3, &Message::EchoRequest(Bytes::new())).await;
    let (hd, m) = peer.msg().await;
    assert_eq!((hd.xid, m), (3, Message::EchoReply(Bytes::new())));
}

// -------------------------------------------------------------- targets

#[test]
fn targets_parse() {
    let ok: &[(&str, Target)] = &[
        (
            "tcp:127.0.0.1",
            Target::Tcp {
                host: "127.0.0.1".into(),
                port: 6653,
            },
        ),
        (
            "tcp:10.0.0.1:6633",
            Target::Tcp {
                host: "10.0.0.1".into(),
                port: 6633,
            },
        ),
        (
            "tcp:ctl.example.org:1",
            Target::Tcp {
                host: "ctl.example.org".into(),
                port: 1,
            },
        ),
        (
            "tcp:[::1]",
            Target::Tcp {
                host: "::1".into(),
                port: 6653,
            },
        ),
        (
            "tcp:[fe80::1]:7000",
            Target::Tcp {
                host: "fe80::1".into(),
                port: 7000,
            },
        ),
        (
            "unix:/run/tapflow/br0.mgmt",
            Target::Unix("/run/tapflow/br0.mgmt".into()),
        ),
    ];
    for (s, want) in ok {
        assert_eq!(&s.parse::<Target>().unwrap(), want, "{s}");
    }
    assert_eq!(ok[4].1.to_string(), "tcp:[fe80::1]:7000");
    assert_eq!(ok[0].1.to_string(), "tcp:127.0.0.1:6653");
    assert_eq!(ok[5].1.to_string(), "unix:/run/tapflow/br0.mgmt");
    let bad: &[(&str, &str)] = &[
        ("tcp:", "bad target 'tcp:': missing host"),
        ("tcp::6653", "bad target 'tcp::6653': missing host"),
        ("tcp:1.2.3.4:", "bad target 'tcp:1.2.3.4:': missing port after ':'"),
        ("tcp:1.2.3.4:99999", "bad target 'tcp:1.2.3.4:99999': bad port '99999' (expected 0-65535)"),
        ("tcp:1.2.3.4:0", "bad target 'tcp:1.2.3.4:0': port 0 cannot be connected to"),
        ("tcp:::1", "bad target 'tcp:::1': IPv6 addresses need brackets, e.g. tcp:[::1]:6653"),
        ("tcp:[::1", "bad target 'tcp:[::1': missing ']' after IPv6 address"),
        ("tcp:[nothost]:1", "bad target 'tcp:[nothost]:1': 'nothost' is not an IPv6 address"),
        ("tcp:[::1]x", "bad target 'tcp:[::1]x': unexpected 'x' after ']'"),
        ("unix:", "bad target 'unix:': missing path"),
        ("ptcp:6653", "bad target 'ptcp:6653': 'ptcp:' is a listening target; connect with tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH"),
        ("udp:1.2.3.4", "bad target 'udp:1.2.3.4': unknown connection type 'udp' (expected tcp:, ssl: or unix:)"),
        ("br0", "bad target 'br0': expected TYPE:ARGS, e.g. tcp:127.0.0.1:6653, ssl:127.0.0.1:6653, unix:/run/tapflow/br0.mgmt"),
    ];
    for (s, want) in bad {
        assert_eq!(s.parse::<Target>().unwrap_err().to_string(), *want, "{s}");
    }
}

#[test]
fn listen_targets_parse() {
    let sa = |s: &str| ListenTarget::Tcp(s.parse::<SocketAddr>().unwrap());
    let ok: &[(&str, ListenTarget)] = &[
        ("ptcp:", sa("127.0.0.1:6653")),
        ("ptcp:6633", sa("127.0.0.1:6633")),
        ("ptcp:0", sa("127.0.0.1:0")),
        ("ptcp:6653:0.0.0.0", sa("0.0.0.0:6653")),
        ("ptcp::10.1.2.3", sa("10.1.2.3:6653")),
        ("ptcp:6653:[::1]", sa("[::1]:6653")),
        ("ptcp:6653:::", sa("[::]:6653")),
        (
            "punix:/run/tapflow/br0.mgmt",
            ListenTarget::Unix("/run/tapflow/br0.mgmt".into()),
        ),
    ];
    for (s, want) in ok {
        assert_eq!(&s.parse::<ListenTarget>().unwrap(), want, "{s}");
    }
    assert_eq!(ok[5].1.to_string(), "ptcp:6653:[::1]");
    assert_eq!(ok[1].1.to_string(), "ptcp:6633:127.0.0.1");
    let bad: &[(&str, &str)] = &[
        ("ptcp:x", "bad target 'ptcp:x': bad port 'x' (expected 0-65535)"),
        ("ptcp:1:localhost", "bad target 'ptcp:1:localhost': 'localhost' is not an IP address (ptcp: takes an address to listen on, not a host name)"),
        ("punix:", "bad target 'punix:': missing path"),
        ("tcp:1.2.3.4", "bad target 'tcp:1.2.3.4': 'tcp:' is an active target; listen with ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH"),
        ("pudp:1", "bad target 'pudp:1': unknown listening type 'pudp' (expected ptcp:, pssl: or punix:)"),
    ];
    for (s, want) in bad {
        assert_eq!(
            s.parse::<ListenTarget>().unwrap_err().to_string(),
            *want,
            "{s}"
        );
    }
}

#[test]
fn backoff_doubles_to_the_cap_and_resets() {
    let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
    let secs: Vec<u64> = (0..6).map(|_| b.next_wait().as_secs()).collect();
    assert_eq!(secs, [1, 2, 4, 8, 8, 8]);
    b.reset();
    assert_eq!(b.next_wait(), Duration::from_secs(1));
    assert_eq!(ConnConfig::default().backoff_min, Duration::from_secs(1));
    assert_eq!(ConnConfig::default().backoff_max, Duration::from_secs(8));
}

// ----------------------------------------------------------- transports

#[tokio::test]
async fn passive_tcp_listener_on_an_ephemeral_port() {
    let (tx, mut rx) = mpsc::channel(16);
    let bound = bind_listener(&"ptcp:0".parse().unwrap()).unwrap();
    let ListenTarget::Tcp(addr) = bound.local().clone() else {
        panic!()
    };
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    let ids = Arc::new(AtomicU64::new(40));
    let _l = bound.spawn(ConnKind::Primary, tx, ids.clone(), ConnConfig::default());
    let target = tcp_target(&ListenTarget::Tcp(addr));
    let c1 = OfClient::connect(&target).await.unwrap();
    let c2 = OfClient::connect(&target).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        match next_event(&mut rx).await {
            Some(BridgeEvent::ConnUp(h)) => {
                assert!(h.peer.starts_with("tcp:127.0.0.1:"), "{}", h.peer);
                assert_eq!(h.kind, ConnKind::Primary);
                seen.push(h.id);
            }
            other => panic!("{other:?}"),
        }
    }
    seen.sort();
    assert_eq!(seen, [40, 41]);
    drop((c1, c2));
}

#[tokio::test]
async fn listener_bind_errors_are_synchronous_and_clear() {
    let (tx, _rx) = mpsc::channel(1);
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let l: ListenTarget = format!("ptcp:{port}:127.0.0.1").parse().unwrap();
    let err = spawn_listener(l, ConnKind::Primary, tx, Arc::new(AtomicU64::new(1))).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on ptcp:{port}:127.0.0.1: ")),
        "{err}"
    );
}

/// Active connection to a port nobody listens on yet, with backoff 100 ms
/// doubling to 3.2 s: after the listener appears it connects; after that
/// connection drops, the backoff is back at 100 ms, so the next connection
/// comes far sooner than the 3.2 s it had reached.
#[tokio::test]
async fn active_connection_retries_with_backoff_and_reconnects() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target: Target = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let cfg = ConnConfig {
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(3200),
        ..ConnConfig::default()
    };
    let active = spawn_active_with(
        target,
        ConnKind::Primary,
        tx,
        Arc::new(AtomicU64::new(1)),
        cfg,
    );
    // Attempts at ~0, 0.1, 0.3, 0.7, 1.5 s, then 3.1 s: the listener appears
    // in the middle of the 1.6 s wait.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let t_listen = Instant::now();
    let (s, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .unwrap()
        .unwrap();
    assert!(
        t_listen.elapsed() > Duration::from_millis(300),
        "connected after {:?}: no backoff?",
        t_listen.elapsed()
    );
    let mut peer = Peer::new(s);
    peer.expect_our_hello().await;
    peer.send_raw(&hello_bytes(4, None, 1)).await;
    let first = match next_event(&mut rx).await {
        Some(BridgeEvent::ConnUp(h)) => {
            assert_eq!(h.peer, format!("tcp:127.0.0.1:{port}"));
            h.id
        }
        other => panic!("{other:?}"),
    };
    drop(peer);
    assert!(matches!(next_event(&mut rx).await, Some(BridgeEvent::ConnDown(id)) if id == first));
    let t_drop = Instant::now();
    let (s, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .unwrap()
        .unwrap();
    assert!(
        t_drop.elapsed() < Duration::from_millis(1500),
        "reconnected after {:?}: backoff not reset",
        t_drop.elapsed()
    );
    let mut peer = Peer::new(s);
    peer.expect_our_hello().await;
    peer.send_raw(&hello_bytes(4, Some(&[4]), 1)).await;
    match next_event(&mut rx).await {
        Some(BridgeEvent::ConnUp(h)) => assert_eq!(h.id, first + 1),
        other => panic!("{other:?}"),
    }
    active.abort();
}

#[tokio::test]
async fn active_connection_stops_when_the_bridge_is_gone() {
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let cfg = ConnConfig {
        backoff_min: Duration::from_millis(10),
        ..ConnConfig::default()
    };
    let h = spawn_active_with(
        "unix:/nonexistent/tapflow.sock".parse().unwrap(),
        ConnKind::Primary,
        tx,
        Arc::new(AtomicU64::new(1)),
        cfg,
    );
    tokio::time::timeout(Duration::from_secs(5), h)
        .await
        .unwrap()
        .unwrap();
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[tokio::test]
async fn unix_listener_is_0600_and_serves_clients() {
    let dir = TempDir::new("mode");
    let path = dir.path("br0.mgmt");
    let (tx, mut rx) = mpsc::channel(16);
    let bound = bind_listener(&ListenTarget::Unix(path.clone())).unwrap();
    assert_eq!(mode(&path), 0o600);
    // Nothing left behind from the private bind directory.
    let entries: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, [std::ffi::OsString::from("br0.mgmt")]);
    let l = bound.spawn(
        ConnKind::Service,
        tx,
        Arc::new(AtomicU64::new(1)),
        ConnConfig::default(),
    );
    let c = OfClient::connect(&Target::Unix(path.clone()))
        .await
        .unwrap();
    match next_event(&mut rx).await {
        Some(BridgeEvent::ConnUp(h)) => {
            assert_eq!(h.kind, ConnKind::Service);
            assert_eq!(h.peer, format!("unix:{}", path.display()));
        }
        other => panic!("{other:?}"),
    }
    drop(c);
    // Stopping the listener removes its socket file.
    l.abort();
    let _ = l.await;
    assert!(!path.exists());
}

#[tokio::test]
async fn stale_unix_socket_is_replaced_but_a_live_one_is_refused() {
    let dir = TempDir::new("stale");
    let path = dir.path("br0.mgmt");
    // Stale: a socket file whose listener is gone (as after a crash).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let (local, _log, l) = fake_switch(&ListenTarget::Unix(path.clone()));
    assert_eq!(mode(&path), 0o600);
    let mut c = OfClient::connect(&tcp_target(&local)).await.unwrap();
    assert!(matches!(
        c.request(Message::FeaturesRequest).await.unwrap(),
        Message::FeaturesReply(_)
    ));

    // Live: our listener above still serves the path.
    let err = bind_listener(&ListenTarget::Unix(path.clone())).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(
        err.to_string()
            .contains("another process is listening on this socket"),
        "{err}"
    );
    // ...and it still works.
    assert!(matches!(
        c.request(Message::FeaturesRequest).await.unwrap(),
        Message::FeaturesReply(_)
    ));
    l.abort();

    // Not a socket: refused, left alone.
    let file = dir.path("file");
    std::fs::write(&file, b"data").unwrap();
    let err = bind_listener(&ListenTarget::Unix(file.clone())).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&file).unwrap(), b"data");
}

// --------------------------------------------------------------- client

#[tokio::test]
async fn client_request_multipart_and_barrier_against_a_fake_bridge() {
    let (local, log, _l) = fake_switch(&"ptcp:0".parse().unwrap());
    let mut c = OfClient::connect(&tcp_target(&local)).await.unwrap();

    match c.request(Message::FeaturesRequest).await.unwrap() {
        Message::FeaturesReply(f) => assert_eq!(f.datapath_id, 0x1234),
        other => panic!("{other:?}"),
    }

    let parts = c
        .multipart(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Flow(FlowStatsRequest::default()),
        })
        .await
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].flags & OFPMPF_REPLY_MORE, OFPMPF_REPLY_MORE);
    assert_eq!(parts[1].flags & OFPMPF_REPLY_MORE, 0);
    let prios: Vec<u16> = parts
        .iter()
        .flat_map(|p| match &p.body {
            MultipartReplyBody::Flow(f) => f.iter().map(|f| f.priority).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(prios, [100, 200, 300]);

    let bad = || {
        Message::FlowMod(FlowMod {
            table_id: 200,
            ..Default::default()
        })
    };
    let good = || Message::FlowMod(FlowMod::default());

    // request(): an OFPT_ERROR reply is an error.
    match c.request(bad()).await {
        Err(ClientError::OpenFlow { code, data }) => {
            assert_eq!(code, OFPFMFC_BAD_TABLE_ID);
            assert_eq!(data[1], OFPT_FLOW_MOD);
            let e = ClientError::OpenFlow { code, data };
            assert_eq!(
                e.to_string(),
                "OFPET_FLOW_MOD_FAILED OFPFMFC_BAD_TABLE_ID (for OFPT_FLOW_MOD)"
            );
        }
        other => panic!("{other:?}"),
    }

    // send() + barrier(): the errors of earlier requests come back together.
    let x1 = c.send(bad()).await.unwrap();
    let _x2 = c.send(good()).await.unwrap();
    let x3 = c.send(bad()).await.unwrap();
    match c.barrier().await {
        Err(ClientError::Rejected(errs)) => {
            assert_eq!(errs.iter().map(|e| e.xid).collect::<Vec<_>>(), [x1, x3]);
            assert!(errs.iter().all(|e| e.code == OFPFMFC_BAD_TABLE_ID));
            let msg = ClientError::Rejected(errs).to_string();
            assert!(msg.starts_with("2 requests failed; xid "), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    c.send(good()).await.unwrap();
    c.barrier().await.unwrap();

    // A reply to a send() stays available to recv().
    let xf = c.send(Message::FeaturesRequest).await.unwrap();
    c.barrier().await.unwrap();
    let (xid, m) = c.recv().await.unwrap();
    assert_eq!(xid, xf);
    assert!(matches!(m, Message::FeaturesReply(_)));

    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen[1..],
        [
            "OFPT_FEATURES_REQUEST",
            "OFPT_MULTIPART_REQUEST(Flow)",
            "OFPT_FLOW_MOD",
            "OFPT_FLOW_MOD",
            "OFPT_FLOW_MOD",
            "OFPT_FLOW_MOD",
            "OFPT_BARRIER_REQUEST",
            "OFPT_FLOW_MOD",
            "OFPT_BARRIER_REQUEST",
            "OFPT_FEATURES_REQUEST",
            "OFPT_BARRIER_REQUEST",
        ]
    );
    assert!(seen[0].starts_with("up tcp:127.0.0.1:"));
}

/// The switch side of a client test, speaking raw bytes over a duplex.
async fn raw_switch() -> (Peer<DuplexStream>, JoinHandle<std::io::Result<OfClient>>) {
    let (a, b) = duplex(64 * 1024);
    let client = tokio::spawn(OfClient::from_stream(a, "test-switch"));
    let mut peer = Peer::new(b);
    peer.expect_our_hello().await;
    (peer, client)
}

#[tokio::test]
async fn client_answers_echo_while_waiting_for_a_reply() {
    let (mut sw, client) = raw_switch().await;
    sw.send_raw(&hello_bytes(4, Some(&[1, 4]), 1)).await;
    let mut c = client.await.unwrap().unwrap();
    let req = tokio::spawn(async move {
        let r = c.request(Message::FeaturesRequest).await;
        (c, r)
    });
    let (h, m) = sw.msg().await;
    assert_eq!(m, Message::FeaturesRequest);
    sw.send(0x99, &Message::EchoRequest(Bytes::from_static(b"ping")))
        .await;
    let (eh, em) = sw.msg().await;
    assert_eq!(
        (eh.xid, em),
        (0x99, Message::EchoReply(Bytes::from_static(b"ping")))
    );
    // An unrelated async message first, then the reply.
    sw.send(0, &Message::BarrierReply).await;
    sw.send(h.xid, &Message::FeaturesReply(FeaturesReply::default()))
        .await;
    let (mut c, r) = req.await.unwrap();
    assert_eq!(r.unwrap(), Message::FeaturesReply(FeaturesReply::default()));
    assert_eq!(c.recv().await.unwrap(), (0, Message::BarrierReply));
}

#[tokio::test(start_paused = true)]
async fn client_times_out_with_a_clear_error() {
    let (mut sw, client) = raw_switch().await;
    sw.send_raw(&hello_bytes(4, None, 1)).await;
    let mut c = client.await.unwrap().unwrap();
    let t0 = Instant::now();
    let err = c.request(Message::FeaturesRequest).await.unwrap_err();
    assert_eq!(t0.elapsed(), Duration::from_secs(10));
    assert_eq!(
        err.to_string(),
        "test-switch: timed out after 10 s waiting for the reply to OFPT_FEATURES_REQUEST"
    );
    let _ = sw.msg().await;
}

#[tokio::test]
async fn client_refuses_a_peer_without_1_3() {
    let (mut sw, client) = raw_switch().await;
    sw.send_raw(&hello_bytes(1, None, 1)).await;
    let err = client.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(
        err.to_string()
            .starts_with("test-switch: OpenFlow version negotiation failed"),
        "{err}"
    );
    // The client told the switch why, in the switch's version.
    let (h, m) = sw.msg().await;
    assert_eq!(h.version, 1);
    assert_eq!(expect_error(&m).0, OFPHFC_INCOMPATIBLE);
}

#[tokio::test]
async fn client_reports_a_hello_failed_error() {
    let (mut sw, client) = raw_switch().await;
    sw.send(
        1,
        &Message::Error(ErrorMsg::Standard {
            code: OFPHFC_EPERM,
            data: Bytes::from_static(b"go away"),
        }),
    )
    .await;
    let err = client.await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "test-switch: peer refused the connection: OFPET_HELLO_FAILED OFPHFC_EPERM: go away"
    );
}

#[tokio::test]
async fn client_connect_errors_name_the_target() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t: Target = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let err = OfClient::connect(&t).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("tcp:127.0.0.1:{port}: ")),
        "{err}"
    );
    let err = OfClient::connect(&"unix:/nonexistent/x.mgmt".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("unix:/nonexistent/x.mgmt: "),
        "{err}"
    );
}

#[test]
fn blocking_client_works_outside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let local = rt.block_on(async {
        let (local, _log, _l) = fake_switch(&"ptcp:0".parse().unwrap());
        local
    });
    let mut c = BlockingClient::connect(&tcp_target(&local)).unwrap();
    assert!(matches!(
        c.request(Message::FeaturesRequest).unwrap(),
        Message::FeaturesReply(_)
    ));
    let parts = c
        .multipart(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortDesc,
        })
        .unwrap();
    assert_eq!(parts.len(), 1);
    c.send(Message::FlowMod(FlowMod {
        table_id: 200,
        ..Default::default()
    }))
    .unwrap();
    assert!(matches!(c.barrier(), Err(ClientError::Rejected(e)) if e.len() == 1));
    assert!(c.recv_timeout(Duration::from_millis(50)).unwrap().is_none());
}

// ------------------------------------------------------ real ovs-ofctl

/// Runs `ovs-ofctl -O OpenFlow13 ARGS...`, returning (success, stdout, stderr).
async fn ovs_ofctl(args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["-O", "OpenFlow13"];
    all.extend_from_slice(args);
    ovs_ofctl_raw(&all).await
}

async fn ovs_ofctl_raw(args: &[&str]) -> (bool, String, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("ovs-ofctl")
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("ovs-ofctl hung")
    .expect("running ovs-ofctl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `show`, `dump-flows` and `add-flow` by the real ovs-ofctl against our
/// listener (unix and tcp) with a fake bridge. Skipped, with a notice, when
/// ovs-ofctl is not installed (`apt-get install openvswitch-common`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ovs_ofctl_talks_to_our_listener() {
    if std::process::Command::new("ovs-ofctl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: ovs-ofctl not installed; skipping ovs_ofctl_talks_to_our_listener");
        return;
    }
    let dir = TempDir::new("ovs");
    let sock = dir.path("br0.mgmt");
    let (_, ulog, _ul) = fake_switch(&ListenTarget::Unix(sock.clone()));
    let (tcp, tlog, _tl) = fake_switch(&"ptcp:0".parse().unwrap());
    let ListenTarget::Tcp(addr) = tcp else {
        panic!()
    };
    let unix_t = format!("unix:{}", sock.display());
    let tcp_t = format!("tcp:127.0.0.1:{}", addr.port());

    for (t, log) in [(&unix_t, &ulog), (&tcp_t, &tlog)] {
        log.lock().unwrap().clear();
        let (ok, out, err) = ovs_ofctl(&["-vvconn:dbg", "show", t]).await;
        assert!(ok, "ovs-ofctl show {t} failed:\n{out}\n{err}");
        assert!(out.contains("dpid:0000000000001234"), "{out}");
        assert!(out.contains("1(p1): addr:02:00:00:00:00:01"), "{out}");
        assert!(out.contains("LOCAL(br0)"), "{out}");
        eprintln!(
            "--- ovs-ofctl show {t}: bridge saw {:?}",
            log.lock().unwrap()
        );
        eprintln!("--- ovs-ofctl show vconn log:\n{err}");
    }

    ulog.lock().unwrap().clear();
    let (ok, out, err) = ovs_ofctl(&["dump-flows", &unix_t]).await;
    assert!(ok, "dump-flows failed:\n{out}\n{err}");
    assert_eq!(out.matches("actions=drop").count(), 3, "{out}");
    assert!(out.contains("priority=300"), "{out}");
    eprintln!(
        "--- ovs-ofctl dump-flows: bridge saw {:?}\n{out}",
        ulog.lock().unwrap()
    );

    ulog.lock().unwrap().clear();
    let (ok, out, err) = ovs_ofctl(&[
        "-vvconn:dbg",
        "add-flow",
        &unix_t,
        "priority=5,actions=drop",
    ])
    .await;
    assert!(ok, "add-flow failed:\n{out}\n{err}");
    eprintln!(
        "--- ovs-ofctl add-flow (ok): bridge saw {:?}\n{err}",
        ulog.lock().unwrap()
    );

    ulog.lock().unwrap().clear();
    let (ok, out, err) =
        ovs_ofctl(&["add-flow", &unix_t, "table=200,priority=5,actions=drop"]).await;
    assert!(!ok, "add-flow to table 200 should fail:\n{out}\n{err}");
    assert!(err.contains("OFPFMFC_BAD_TABLE_ID"), "{err}");
    eprintln!(
        "--- ovs-ofctl add-flow (rejected): bridge saw {:?}\nstderr: {err}",
        ulog.lock().unwrap()
    );

    // Without -O, ovs-ofctl offers OpenFlow 1.0 only: refused, and it says why.
    let (ok, out, err) = ovs_ofctl_raw(&["show", &unix_t]).await;
    assert!(!ok, "show without -O should fail:\n{out}\n{err}");
    assert!(err.contains("version negotiation failed"), "{err}");
    eprintln!("--- ovs-ofctl show without -O:\n{err}");
}
