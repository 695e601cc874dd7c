//! One OpenFlow 1.3 connection to a switch, from the controller's side:
//! HELLO negotiation, FEATURES_REQUEST, request/reply by xid, multipart
//! collection, and ECHO in both directions.
//!
//! Messages the switch sends on its own (PACKET_IN, PORT_STATUS,
//! FLOW_REMOVED, errors for requests nobody waits on) that arrive while a
//! caller waits for a reply are kept in order and handed out by
//! [`OfConn::recv`] afterwards, so a convergence round never loses them.

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use ofproto::codec::{OfpCodec, OfpFrame};
use ofproto::consts::{
    OFPMPF_REPLY_MORE, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPRR_DELETE, OFPRR_GROUP_DELETE,
    OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT, OFPR_ACTION, OFPR_NO_MATCH,
};
use ofproto::error::OFPHFC_INCOMPATIBLE;
use ofproto::message::{AsyncConfig, ErrorMsg, FeaturesReply, Hello};
use ofproto::multipart::{MultipartReplyBody, MultipartRequest, MultipartRequestBody};
use ofproto::{Message, OFP_VERSION};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{timeout_at, Instant};
use tokio_util::codec::Framed;
use tracing::{debug, warn};

/// How long the switch has for HELLO and for each reply we wait on.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Silence after which we send an ECHO_REQUEST (OVS's inactivity probe is 5 s).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// Silence after which the switch is considered gone (a probe went unanswered).
pub const DEAD_AFTER: Duration = Duration::from_secs(15);

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("connection closed by the switch")]
    Closed,
    #[error("no {0} within {1:?}")]
    Timeout(&'static str, Duration),
    #[error("version negotiation failed: {0}")]
    Hello(String),
    #[error("switch refused {what}: {code}")]
    Refused { what: &'static str, code: String },
    #[error("switch silent for {0:?} (echo request unanswered)")]
    Silent(Duration),
}

/// The switch's answer to a request, when it is an error rather than a reply.
pub fn describe_error(e: &ErrorMsg) -> String {
    match e {
        ErrorMsg::Standard { code, .. } => code.to_string(),
        ErrorMsg::Experimenter {
            exp_type,
            experimenter,
            ..
        } => format!("experimenter error {exp_type} (experimenter {experimenter:#x})"),
    }
}

pub struct OfConn<S> {
    framed: Framed<S, OfpCodec>,
    next_xid: u32,
    /// Messages read while waiting for a reply, for [`OfConn::recv`].
    deferred: VecDeque<(u32, Message)>,
    /// When the switch last sent anything.
    last_rx: Instant,
    /// An ECHO_REQUEST of ours is out and nothing came since.
    probe_sent: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> OfConn<S> {
    /// HELLO both ways (we offer 1.3 only, in a version bitmap), then
    /// FEATURES_REQUEST. Returns the connection and the switch's features.
    pub async fn handshake(stream: S) -> Result<(OfConn<S>, FeaturesReply), ConnError> {
        let mut c = OfConn {
            framed: Framed::new(stream, OfpCodec),
            next_xid: 1,
            deferred: VecDeque::new(),
            last_rx: Instant::now(),
            probe_sent: false,
        };
        c.send(Message::Hello(Hello::with_versions(&[OFP_VERSION])))
            .await?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let frame = c.read_frame(deadline, "HELLO").await?;
        if let Err(why) = check_hello(&frame) {
            // OFPET_HELLO_FAILED carries an ASCII explanation, not the message.
            let _ = c
                .send(Message::Error(ErrorMsg::Standard {
                    code: OFPHFC_INCOMPATIBLE,
                    data: Bytes::from(why.clone()),
                }))
                .await;
            return Err(ConnError::Hello(why));
        }
        let xid = c.send(Message::FeaturesRequest).await?;
        let features = match c.await_reply(xid, "FEATURES_REPLY").await? {
            Message::FeaturesReply(f) => f,
            other => {
                return Err(ConnError::Hello(format!(
                    "expected FEATURES_REPLY, got {}",
                    other.type_name()
                )))
            }
        };
        // The asynchronous messages we act on, asked for explicitly: a
        // primary connection gets them by default, but a service connection
        // (a switch's BRIDGE.mgmt socket we dialed, as with OVS) only when
        // it asks.
        c.send(Message::SetAsync(wanted_async())).await?;
        Ok((c, features))
    }

    fn take_xid(&mut self) -> u32 {
        let x = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        x
    }

    /// Queues `msg` with `xid` in the write buffer (flushing first only if
    /// the buffer is full).
    async fn enqueue(&mut self, xid: u32, msg: Message) -> io::Result<()> {
        poll_fn(|cx| Sink::<(u32, Message)>::poll_ready(Pin::new(&mut self.framed), cx)).await?;
        Pin::new(&mut self.framed).start_send((xid, msg))
    }

    /// Queues `msg` without flushing; returns its xid. [`OfConn::flush`] sends.
    pub async fn feed(&mut self, msg: Message) -> io::Result<u32> {
        let xid = self.take_xid();
        self.enqueue(xid, msg).await?;
        Ok(xid)
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| Sink::<(u32, Message)>::poll_flush(Pin::new(&mut self.framed), cx)).await
    }

    /// Answers a request from the switch: the reply carries its xid.
    async fn reply(&mut self, xid: u32, msg: Message) -> io::Result<()> {
        self.enqueue(xid, msg).await?;
        self.flush().await
    }

    /// Sends one message now; returns its xid.
    pub async fn send(&mut self, msg: Message) -> io::Result<u32> {
        let xid = self.feed(msg).await?;
        self.flush().await?;
        Ok(xid)
    }

    /// The next frame off the wire (cancel safe: the codec keeps partial
    /// frames in its buffer).
    async fn next_frame(&mut self) -> Result<OfpFrame, ConnError> {
        match poll_fn(|cx| Pin::new(&mut self.framed).poll_next(cx)).await {
            Some(Ok(f)) => {
                self.last_rx = Instant::now();
                self.probe_sent = false;
                Ok(f)
            }
            Some(Err(e)) => Err(e.into()),
            None => Err(ConnError::Closed),
        }
    }

    async fn read_frame(
        &mut self,
        deadline: Instant,
        what: &'static str,
    ) -> Result<OfpFrame, ConnError> {
        timeout_at(deadline, self.next_frame())
            .await
            .map_err(|_| ConnError::Timeout(what, REPLY_TIMEOUT))?
    }

    /// What a frame from the switch is for the caller: ECHO_REQUEST is
    /// answered here, ECHO_REPLY only proves liveness, and a message that
    /// does not decode is logged and skipped (the switch's bug; the
    /// connection can go on).
    async fn accept(&mut self, frame: OfpFrame) -> Result<Option<(u32, Message)>, ConnError> {
        match frame.decode() {
            Ok(Message::EchoRequest(data)) => {
                self.reply(frame.xid(), Message::EchoReply(data)).await?;
                Ok(None)
            }
            Ok(Message::EchoReply(_)) => Ok(None),
            Ok(m) => Ok(Some((frame.xid(), m))),
            Err(e) => {
                warn!(
                    "undecodable message from the switch (type {}, xid {}): {e}",
                    frame.header.msg_type,
                    frame.xid()
                );
                Ok(None)
            }
        }
    }

    /// Reads until the reply to `xid` arrives; other messages are deferred.
    /// An OFPT_ERROR for `xid` is [`ConnError::Refused`].
    pub async fn await_reply(
        &mut self,
        xid: u32,
        what: &'static str,
    ) -> Result<Message, ConnError> {
        self.await_reply_with(xid, what, |_, m| Some(m)).await
    }

    /// Reads until the reply to `xid` arrives, handing every other message to
    /// `other`, which returns it if it did not want it (it is then deferred
    /// for [`OfConn::recv`]). An OFPT_ERROR for `xid` is [`ConnError::Refused`].
    pub async fn await_reply_with(
        &mut self,
        xid: u32,
        what: &'static str,
        mut other: impl FnMut(u32, Message) -> Option<Message>,
    ) -> Result<Message, ConnError> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let frame = self.read_frame(deadline, what).await?;
            let Some((x, m)) = self.accept(frame).await? else {
                continue;
            };
            if x == xid {
                return match m {
                    Message::Error(e) => Err(ConnError::Refused {
                        what,
                        code: describe_error(&e),
                    }),
                    m => Ok(m),
                };
            }
            if let Some(m) = other(x, m) {
                self.defer(x, m);
            }
        }
    }

    /// Sends a multipart request and collects every reply part (the switch
    /// sets OFPMPF_REPLY_MORE on all but the last).
    pub async fn multipart(
        &mut self,
        body: MultipartRequestBody,
        what: &'static str,
    ) -> Result<Vec<MultipartReplyBody>, ConnError> {
        let xid = self
            .send(Message::MultipartRequest(MultipartRequest {
                flags: 0,
                body,
            }))
            .await?;
        let mut parts = Vec::new();
        loop {
            match self.await_reply(xid, what).await? {
                Message::MultipartReply(r) => {
                    parts.push(r.body);
                    if r.flags & OFPMPF_REPLY_MORE == 0 {
                        return Ok(parts);
                    }
                }
                other => {
                    warn!(
                        "unexpected {} with the xid of our {what} request",
                        other.type_name()
                    );
                }
            }
        }
    }

    fn defer(&mut self, xid: u32, m: Message) {
        debug!("deferred {} (xid {xid})", m.type_name());
        self.deferred.push_back((xid, m));
    }

    /// The next message the switch sent on its own (deferred ones first).
    /// Sends an ECHO_REQUEST after [`PROBE_INTERVAL`] of silence and gives
    /// up after [`DEAD_AFTER`]. Cancel safe.
    pub async fn recv(&mut self) -> Result<(u32, Message), ConnError> {
        if let Some(m) = self.deferred.pop_front() {
            return Ok(m);
        }
        loop {
            let dead_at = self.last_rx + DEAD_AFTER;
            let probe_at = self.last_rx + PROBE_INTERVAL;
            let wake = if !self.probe_sent { probe_at } else { dead_at };
            match timeout_at(wake, self.next_frame()).await {
                Ok(frame) => {
                    if let Some(m) = self.accept(frame?).await? {
                        return Ok(m);
                    }
                }
                Err(_) if !self.probe_sent => {
                    self.probe_sent = true;
                    self.send(Message::EchoRequest(Bytes::new())).await?;
                }
                Err(_) => return Err(ConnError::Silent(DEAD_AFTER)),
            }
        }
    }
}

/// PACKET_IN for table-miss and output-to-CONTROLLER, every PORT_STATUS,
/// every FLOW_REMOVED; as master/equal (the first word), nothing as slave.
pub fn wanted_async() -> AsyncConfig {
    let bit = |b: u8| 1u32 << b;
    AsyncConfig {
        packet_in_mask: [bit(OFPR_NO_MATCH) | bit(OFPR_ACTION), 0],
        port_status_mask: [bit(OFPPR_ADD) | bit(OFPPR_DELETE) | bit(OFPPR_MODIFY), 0],
        flow_removed_mask: [
            bit(OFPRR_IDLE_TIMEOUT)
                | bit(OFPRR_HARD_TIMEOUT)
                | bit(OFPRR_DELETE)
                | bit(OFPRR_GROUP_DELETE),
            0,
        ],
    }
}

/// Accepts the switch's HELLO if it allows OpenFlow 1.3: its version bitmap
/// includes 0x04, or (without a bitmap) its header version is 0x04 or newer.
fn check_hello(frame: &OfpFrame) -> Result<(), String> {
    let hello = match Message::decode_with_header(&frame.raw) {
        Ok((_, Message::Hello(h))) => h,
        Ok((_, m)) => return Err(format!("expected HELLO first, got {}", m.type_name())),
        Err(e) => return Err(format!("bad HELLO: {e}")),
    };
    let ok = match hello.versions() {
        Some(v) => v.contains(&OFP_VERSION),
        None => frame.header.version >= OFP_VERSION,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "switch does not speak OpenFlow 1.3 (HELLO version 0x{:02x}, bitmap {:?})",
            frame.header.version,
            hello.versions().unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake_switch::FakeSwitch;
    use super::*;
    use bytes::BytesMut;

    fn frame_of(version: u8, hello: &Hello) -> OfpFrame {
        let mut b = BytesMut::new();
        Message::Hello(hello.clone()).encode(7, &mut b);
        b[0] = version;
        let mut codec = OfpCodec;
        tokio_util::codec::Decoder::decode(&mut codec, &mut b)
            .unwrap()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn handshake_then_echo_both_ways_then_silence_ends_the_connection() {
        let (ours, mut sw) = FakeSwitch::pair();
        let ctl = tokio::spawn(async move {
            let (mut c, f) = OfConn::handshake(ours).await.expect("handshake");
            assert_eq!(f.datapath_id, 0xa1);
            // Nothing but echoes arrive: recv ends only when the switch
            // goes silent.
            c.recv().await.map(|_| ())
        });
        let (_, hello) = sw.next().await;
        assert!(matches!(&hello, Message::Hello(h) if h.versions() == Some(vec![4])));
        sw.send(1, Message::Hello(Hello::with_versions(&[1, 4])))
            .await;
        let (xid, m) = sw.next().await;
        assert_eq!(m, Message::FeaturesRequest);
        let features = FeaturesReply {
            datapath_id: 0xa1,
            n_tables: 254,
            ..FeaturesReply::default()
        };
        sw.send(xid, Message::FeaturesReply(features)).await;
        assert_eq!(sw.next().await.1, Message::SetAsync(wanted_async()));

        // The switch's echo is answered with its data and xid.
        sw.send(77, Message::EchoRequest(Bytes::from_static(b"hi")))
            .await;
        assert_eq!(
            sw.next().await,
            (77, Message::EchoReply(Bytes::from_static(b"hi")))
        );
        // Silence: the controller probes after PROBE_INTERVAL...
        let before = Instant::now();
        let (_, probe) = sw.next().await;
        assert!(matches!(probe, Message::EchoRequest(_)), "{probe:?}");
        assert!(before.elapsed() >= PROBE_INTERVAL);
        // ...and, unanswered, gives up at DEAD_AFTER.
        let end = ctl.await.unwrap();
        assert!(matches!(end, Err(ConnError::Silent(_))), "{end:?}");
        assert!(before.elapsed() >= DEAD_AFTER);
    }

    #[tokio::test(start_paused = true)]
    async fn a_switch_without_13_gets_hello_failed() {
        let (ours, mut sw) = FakeSwitch::pair();
        let ctl = tokio::spawn(async move { OfConn::handshake(ours).await.map(|_| ()) });
        sw.next().await;
        sw.send(1, Message::Hello(Hello::with_versions(&[1]))).await;
        match sw.next().await.1 {
            Message::Error(ErrorMsg::Standard { code, data }) => {
                assert_eq!(code, OFPHFC_INCOMPATIBLE);
                assert!(String::from_utf8_lossy(&data).contains("OpenFlow 1.3"));
            }
            m => panic!("{m:?}"),
        }
        assert!(matches!(ctl.await.unwrap(), Err(ConnError::Hello(_))));
    }

    #[test]
    fn hello_with_13_in_the_bitmap_is_accepted_whatever_the_header_says() {
        assert!(check_hello(&frame_of(6, &Hello::with_versions(&[1, 4, 6]))).is_ok());
        assert!(check_hello(&frame_of(4, &Hello::default())).is_ok());
        assert!(check_hello(&frame_of(5, &Hello::default())).is_ok());
    }

    #[test]
    fn hello_without_13_is_refused() {
        let e = check_hello(&frame_of(4, &Hello::with_versions(&[1, 2]))).unwrap_err();
        assert!(e.contains("does not speak OpenFlow 1.3"), "{e}");
        assert!(check_hello(&frame_of(1, &Hello::default())).is_err());
    }
}
