//! One OpenFlow connection: a task that owns the stream.
//!
//! Life of a connection ([`run_connection`]):
//! 1. Send our HELLO (version 0x04, version bitmap {1.3}) at once, then read
//!    the peer's first message within [`ConnConfig::hello_timeout`]. It must be
//!    a HELLO that allows 1.3 (see `frame::negotiate`); otherwise the peer
//!    gets `OFPET_HELLO_FAILED`/`OFPHFC_INCOMPATIBLE` with an ASCII reason and
//!    the connection closes. The bridge never hears of such a connection.
//! 2. [`BridgeEvent::ConnUp`] hands the bridge a [`ConnHandle`]; from then on
//!    a reader and a writer run side by side:
//!    - reader: ECHO_REQUEST is answered here (same xid and payload),
//!      ECHO_REPLY and extra HELLOs are consumed, a message whose version is
//!      not 0x04 gets `OFPBRC_BAD_VERSION`, a message that fails to decode
//!      gets its `WireError`'s code; both errors carry the first 64 bytes and
//!      the connection goes on. Every other message becomes a
//!      [`BridgeEvent::Request`], in arrival order. A framing error (header
//!      length below 8) or EOF ends the connection.
//!    - writer: drains the connection's own replies (echo, errors) and the
//!      bridge's [`Outbound`] queue, encoding a batch of messages into one
//!      buffer and writing it with one flush.
//!    - inactivity probe: after [`ConnConfig::probe_interval`] with nothing
//!      received, send ECHO_REQUEST; after another interval of silence, close.
//! 3. On close, [`BridgeEvent::ConnDown`] exactly once (also if the task is
//!    aborted: a drop guard sends it).
//!
//! The bridge closes a connection by dropping every clone of its
//! `ConnHandle::tx`: the writer ends once the queue is drained.

use super::frame::{encode_checked, hello_failed, negotiate, our_hello, FrameReader};
use crate::bridge::{BridgeEvent, ConnHandle, ConnId, ConnKind, Outbound};
use bytes::{Bytes, BytesMut};
use ofproto::codec::OfpFrame;
use ofproto::error::OFPBRC_BAD_VERSION;
use ofproto::message::ErrorMsg;
use ofproto::{Message, WireError, OFP_VERSION};
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{timeout, timeout_at, Instant};
use tracing::{debug, info, warn};

/// A connection event: info for primary connections, debug for service
/// ones (every `tapflow`/`ovs-ofctl` command opens one or more; at info they
/// would drown the controller's events).
macro_rules! event {
    ($kind:expr, $($arg:tt)+) => {
        if $kind == ConnKind::Primary {
            info!($($arg)+)
        } else {
            debug!($($arg)+)
        }
    };
}

/// Tunables of a connection (and of the reconnect loop of active ones).
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// Inactivity probe: after this long without receiving anything, send an
    /// ECHO_REQUEST; after as long again, disconnect. `None` disables it.
    /// Default 5 s, as OVS.
    pub probe_interval: Option<Duration>,
    /// How long the peer has to send its HELLO. Default 10 s.
    pub hello_timeout: Duration,
    /// Capacity of [`ConnHandle::tx`]. Default 1024 messages.
    pub outbound_capacity: usize,
    /// Active connections: first wait before reconnecting (doubles per
    /// failure). Default 1 s, as OVS.
    pub backoff_min: Duration,
    /// Active connections: cap of the reconnect wait. Default 8 s, as OVS.
    pub backoff_max: Duration,
    /// Active connections: give up a TCP connect after this long. Default 10 s.
    pub connect_timeout: Duration,
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            probe_interval: Some(Duration::from_secs(5)),
            hello_timeout: Duration::from_secs(10),
            outbound_capacity: 1024,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(8),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Most messages encoded into one write.
const WRITE_BATCH_MSGS: usize = 256;
/// Stop adding to a batch once the buffer holds this much.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// Longest we spend saying goodbye (HELLO_FAILED error, shutdown).
const CLOSE_GRACE: Duration = Duration::from_millis(500);
/// Room for the connection's own replies (echo, errors, probes).
const CTRL_QUEUE: usize = 64;

/// Why a connection ended (for the close log line).
#[derive(Debug)]
enum Close {
    PeerClosed,
    Io(std::io::Error),
    ProbeTimeout(Duration),
    WriteStalled(Duration),
    BridgeGone,
    BridgeClosed,
}

impl fmt::Display for Close {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Close::PeerClosed => write!(f, "peer closed the connection"),
            Close::Io(e) => write!(f, "{e}"),
            Close::ProbeTimeout(d) => write!(
                f,
                "no response to inactivity probe after {} s, disconnecting",
                d.as_secs_f64()
            ),
            Close::WriteStalled(d) => write!(
                f,
                "peer has not read for {} s, output stalled, disconnecting",
                d.as_secs_f64()
            ),
            Close::BridgeGone => write!(f, "bridge stopped"),
            Close::BridgeClosed => write!(f, "closed by the bridge"),
        }
    }
}

/// Runs one OpenFlow connection to completion (see the module docs).
///
/// `peer` names the other end in logs and in [`ConnHandle::peer`]
/// (`tcp:10.0.0.1:40512`, `unix:/run/tapflow/br0.mgmt`).
pub async fn run_connection<S>(
    stream: S,
    kind: ConnKind,
    peer: String,
    id: ConnId,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    cfg: ConnConfig,
) where
    S: AsyncRead + AsyncWrite,
{
    serve(stream, kind, peer, id, bridge_tx, cfg).await;
}

/// [`run_connection`], telling whether HELLO negotiation succeeded (the
/// reconnect loop resets its backoff then).
pub(crate) async fn serve<S>(
    stream: S,
    kind: ConnKind,
    peer: String,
    id: ConnId,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    cfg: ConnConfig,
) -> bool
where
    S: AsyncRead + AsyncWrite,
{
    let (rd, mut wr) = tokio::io::split(stream);
    let mut reader = FrameReader::new(rd);
    let mut xids = XidGen::default();

    // 1. HELLO exchange.
    let hello = Bytes::from(our_hello().encode_to_vec(xids.next()));
    if let Err(e) = write_flush(&mut wr, &hello).await {
        info!(conn = id, peer = %peer, "closed before HELLO: {e}");
        return false;
    }
    let first = match timeout(cfg.hello_timeout, reader.next()).await {
        Ok(Ok(Some(f))) => f,
        Ok(Ok(None)) => {
            info!(conn = id, peer = %peer, "peer closed the connection before sending HELLO");
            return false;
        }
        Ok(Err(e)) => {
            info!(conn = id, peer = %peer, "connection failed before HELLO: {e}");
            return false;
        }
        Err(_) => {
            info!(conn = id, peer = %peer, "no HELLO within {:?}, disconnecting", cfg.hello_timeout);
            return false;
        }
    };
    if let Err(reason) = negotiate(&first) {
        warn!(conn = id, peer = %peer, "version negotiation failed: {reason}");
        // Bounded: a peer that does not read must not hold the task.
        let _ = timeout(
            CLOSE_GRACE,
            write_flush(&mut wr, &hello_failed(&first, &reason)),
        )
        .await;
        // FIN after the error, then read a little: closing with unread input
        // would send RST, and the peer could lose the error before reading it.
        let _ = timeout(CLOSE_GRACE, wr.shutdown()).await;
        let _ = timeout(CLOSE_GRACE, async {
            while let Ok(Some(_)) = reader.next().await {}
        })
        .await;
        return false;
    }

    // 2. Up: hand the bridge our handle.
    let (out_tx, out_rx) = mpsc::channel(cfg.outbound_capacity.max(1));
    let handle = ConnHandle {
        id,
        kind,
        peer: peer.clone(),
        tx: out_tx,
    };
    if bridge_tx.send(BridgeEvent::ConnUp(handle)).await.is_err() {
        info!(conn = id, peer = %peer, "bridge stopped, closing new connection");
        return true;
    }
    let down = DownGuard {
        id,
        tx: Some(bridge_tx.clone()),
    };
    event!(kind, conn = id, peer = %peer, "OpenFlow 1.3 connection up");

    let (ctrl_tx, ctrl_rx) = mpsc::channel::<Bytes>(CTRL_QUEUE);
    let stall = cfg.probe_interval.map(|p| p * 2);
    let reason = tokio::select! {
        r = read_loop(&mut reader, id, &bridge_tx, &ctrl_tx, &mut xids, cfg.probe_interval) => r,
        w = write_loop(&mut wr, ctrl_rx, out_rx, id, stall) => w,
    };
    let _ = timeout(CLOSE_GRACE, wr.shutdown()).await;
    event!(kind, conn = id, peer = %peer, "connection closed: {reason}");
    down.fire().await;
    true
}

/// The reader side after negotiation; returns why the connection ends.
async fn read_loop<R: AsyncRead + Unpin>(
    reader: &mut FrameReader<R>,
    id: ConnId,
    bridge_tx: &mpsc::Sender<BridgeEvent>,
    ctrl_tx: &mpsc::Sender<Bytes>,
    xids: &mut XidGen,
    probe: Option<Duration>,
) -> Close {
    let mut probing = false;
    let mut deadline = probe.map(|p| Instant::now() + p);
    loop {
        let next = match deadline {
            None => reader.next().await,
            Some(d) => match timeout_at(d, reader.next()).await {
                Ok(r) => r,
                Err(_) => {
                    let p = probe.expect("deadline implies probe");
                    if probing {
                        return Close::ProbeTimeout(p * 2);
                    }
                    debug!(
                        conn = id,
                        "idle {} s, sending inactivity probe",
                        p.as_secs_f64()
                    );
                    probing = true;
                    let echo = Message::EchoRequest(Bytes::new()).encode_to_vec(xids.next());
                    // A full queue means the writer is stuck; the close
                    // deadline below still applies.
                    let _ = ctrl_tx.try_send(Bytes::from(echo));
                    deadline = Some(Instant::now() + p);
                    continue;
                }
            },
        };
        let frame = match next {
            Ok(Some(f)) => f,
            Ok(None) => return Close::PeerClosed,
            Err(e) => return Close::Io(e),
        };
        probing = false;
        deadline = probe.map(|p| Instant::now() + p);
        if let Some(reply) = answer_locally(&frame, id) {
            match reply {
                Local::Send(b) => {
                    if ctrl_tx.send(b).await.is_err() {
                        return Close::PeerClosed;
                    }
                }
                Local::Consumed => {}
            }
            continue;
        }
        let msg = match frame.decode() {
            Ok(m) => m,
            Err(e) => {
                debug!(conn = id, xid = frame.xid(), "undecodable message: {e}");
                if ctrl_tx.send(error_reply(&e, &frame)).await.is_err() {
                    return Close::PeerClosed;
                }
                continue;
            }
        };
        let ev = BridgeEvent::Request {
            conn: id,
            xid: frame.xid(),
            msg,
            raw: frame.raw,
        };
        if bridge_tx.send(ev).await.is_err() {
            return Close::BridgeGone;
        }
    }
}

enum Local {
    Send(Bytes),
    Consumed,
}

/// What the connection handles itself: wrong versions, echo, extra HELLOs.
fn answer_locally(frame: &OfpFrame, id: ConnId) -> Option<Local> {
    use ofproto::consts::{OFPT_ECHO_REPLY, OFPT_ECHO_REQUEST, OFPT_HELLO};
    if frame.header.version != OFP_VERSION {
        debug!(
            conn = id,
            version = frame.header.version,
            "message with wrong version"
        );
        let e = WireError::new(
            OFPBRC_BAD_VERSION,
            format!(
                "version 0x{:02x} after negotiating 0x04",
                frame.header.version
            ),
        );
        return Some(Local::Send(error_reply(&e, frame)));
    }
    match frame.header.msg_type {
        OFPT_ECHO_REQUEST => {
            let payload = frame.raw.slice(8..);
            let reply = Message::EchoReply(payload).encode_to_vec(frame.xid());
            Some(Local::Send(Bytes::from(reply)))
        }
        OFPT_ECHO_REPLY => Some(Local::Consumed),
        OFPT_HELLO => {
            debug!(conn = id, "ignoring HELLO after negotiation");
            Some(Local::Consumed)
        }
        _ => None,
    }
}

/// `OFPT_ERROR` for `err` with the request's xid and first 64 bytes.
fn error_reply(err: &WireError, frame: &OfpFrame) -> Bytes {
    let msg = Message::Error(ErrorMsg::for_request(err, &frame.raw));
    Bytes::from(msg.encode_to_vec(frame.xid()))
}

/// The writer side: batches from the control and bridge queues.
async fn write_loop<W: AsyncWrite + Unpin>(
    wr: &mut W,
    mut ctrl_rx: mpsc::Receiver<Bytes>,
    mut out_rx: mpsc::Receiver<Outbound>,
    id: ConnId,
    stall: Option<Duration>,
) -> Close {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut out_open = true;
    loop {
        if !out_open {
            // The bridge dropped its handles: write what is left, then close.
            while let Ok(b) = ctrl_rx.try_recv() {
                buf.extend_from_slice(&b);
            }
            if let Err(close) = write_batch(wr, &buf, stall).await {
                return close;
            }
            return Close::BridgeClosed;
        }
        tokio::select! {
            biased;
            Some(b) = ctrl_rx.recv() => buf.extend_from_slice(&b),
            o = out_rx.recv() => match o {
                Some(o) => encode_outbound(o, &mut buf, id),
                None => { out_open = false; continue; }
            },
        }
        let mut n = 1;
        while n < WRITE_BATCH_MSGS && buf.len() < WRITE_BATCH_BYTES {
            if let Ok(b) = ctrl_rx.try_recv() {
                buf.extend_from_slice(&b);
            } else {
                match out_rx.try_recv() {
                    Ok(o) => encode_outbound(o, &mut buf, id),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        out_open = false;
                        break;
                    }
                }
            }
            n += 1;
        }
        if buf.is_empty() {
            continue;
        }
        if let Err(close) = write_batch(wr, &buf, stall).await {
            return close;
        }
        buf.clear();
    }
}

/// Writes and flushes one batch; a peer that reads nothing for `stall` is
/// dropped.
async fn write_batch<W: AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &[u8],
    stall: Option<Duration>,
) -> Result<(), Close> {
    if buf.is_empty() {
        return Ok(());
    }
    let res = match stall {
        Some(s) => match timeout(s, write_flush(wr, buf)).await {
            Ok(r) => r,
            Err(_) => return Err(Close::WriteStalled(s)),
        },
        None => write_flush(wr, buf).await,
    };
    res.map_err(Close::Io)
}

fn encode_outbound(o: Outbound, buf: &mut BytesMut, id: ConnId) {
    match o {
        Outbound::Raw(b) => buf.extend_from_slice(&b),
        Outbound::Msg { xid, msg } => {
            if let Err(len) = encode_checked(xid, &msg, buf) {
                // A bridge bug (e.g. an unsplit multipart reply), not the peer's.
                warn!(
                    conn = id,
                    xid,
                    "dropping outbound {} of {len} bytes: over the 65535-byte OpenFlow limit",
                    msg.type_name()
                );
            }
        }
    }
}

async fn write_flush<W: AsyncWrite + Unpin>(wr: &mut W, b: &[u8]) -> std::io::Result<()> {
    wr.write_all(b).await?;
    wr.flush().await
}

/// Xids of the messages the connection originates (HELLO, probes).
#[derive(Default)]
struct XidGen(u32);

impl XidGen {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

/// Sends `ConnDown` exactly once: by [`DownGuard::fire`] on a normal close,
/// or from `Drop` if the connection's future is dropped (task aborted).
struct DownGuard {
    id: ConnId,
    tx: Option<mpsc::Sender<BridgeEvent>>,
}

impl DownGuard {
    async fn fire(mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(BridgeEvent::ConnDown(self.id)).await;
        }
    }
}

impl Drop for DownGuard {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        match tx.try_send(BridgeEvent::ConnDown(self.id)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(ev)) => {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        let _ = tx.send(ev).await;
                    });
                }
            }
        }
    }
}
