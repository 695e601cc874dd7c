//! An OpenFlow 1.3 client for the CLI (`tapflow dump-flows br0`) and tests.
//!
//! [`OfClient`] does the HELLO exchange, then request/reply by xid:
//! - [`OfClient::request`]: one request, its one reply (an `OFPT_ERROR` with
//!   that xid is [`ClientError::OpenFlow`]);
//! - [`OfClient::multipart`]: collects replies until one without
//!   `OFPMPF_REPLY_MORE`;
//! - [`OfClient::send`] + [`OfClient::barrier`]: fire several requests, then a
//!   BARRIER_REQUEST; every `OFPT_ERROR` for an earlier xid that arrives
//!   before the barrier reply is returned ([`ClientError::Rejected`]) — how
//!   `ovs-ofctl add-flow` detects failures;
//! - [`OfClient::recv`]: the next message not claimed by a request (async
//!   messages, replies to `send`), for snoop-like tools.
//!
//! Echo requests from the peer are answered transparently, and while output
//! is pending the client keeps reading, so a peer that answers while we are
//! still sending (errors for a long batch of flow mods) cannot deadlock us.
//! Waiting for a reply times out after [`OfClient::timeout`] (default 10 s)
//! with an error that names the target.
//!
//! [`BlockingClient`] wraps it with a private current-thread runtime.

use super::frame::{encode_checked, hello_failed, negotiate, our_hello, version_name, FrameReader};
use super::tls::{describe_tls_error, is_tls_error, TlsContext};
use super::transport::{connect_with, OfStream, Target};
use bytes::{Buf, Bytes, BytesMut};
use ofproto::codec::OfpFrame;
use ofproto::consts::{OFPMPF_REPLY_MORE, OFPT_ECHO_REQUEST, OFPT_ERROR};
use ofproto::error::{ErrorCode, OFPET_HELLO_FAILED};
use ofproto::message::ErrorMsg;
use ofproto::multipart::{MultipartReply, MultipartRequest};
use ofproto::{Message, WireError, OFP_VERSION};
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::time::Instant;
use tracing::debug;

/// Default wait for a reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Unclaimed messages kept for [`OfClient::recv`]; older ones are dropped.
const MAX_PENDING: usize = 4096;
/// [`OfClient::send`] writes out once this much is buffered.
const SEND_FLUSH_BYTES: usize = 64 * 1024;

/// One `OFPT_ERROR` answering a request sent with [`OfClient::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    pub xid: u32,
    pub code: ErrorCode,
    /// Usually the first 64 bytes of the failed request.
    pub data: Bytes,
}

#[derive(Debug)]
pub enum ClientError {
    Io(io::Error),
    /// No reply in time.
    Timeout {
        target: String,
        waiting_for: String,
        after: Duration,
    },
    /// The peer closed the connection.
    Closed {
        target: String,
    },
    /// The peer answered the request with `OFPT_ERROR`.
    OpenFlow {
        code: ErrorCode,
        data: Bytes,
    },
    /// Errors for requests sent before a barrier.
    Rejected(Vec<RequestError>),
    /// A reply for our xid that does not decode.
    Decode {
        xid: u32,
        error: WireError,
    },
    /// A reply for our xid of the wrong type.
    Unexpected {
        xid: u32,
        expected: &'static str,
        got: &'static str,
    },
}

/// `" (for OFPT_FLOW_MOD)"`, or the ASCII text of a HELLO_FAILED error.
fn describe_data(code: ErrorCode, data: &[u8]) -> String {
    if code.ty == OFPET_HELLO_FAILED {
        let text: String = String::from_utf8_lossy(data)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        return if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        };
    }
    match data.get(1).and_then(|&t| ofproto::consts::msg_type_name(t)) {
        Some(name) if data.len() >= 8 => format!(" (for {name})"),
        _ => String::new(),
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "{e}"),
            ClientError::Timeout {
                target,
                waiting_for,
                after,
            } => write!(
                f,
                "{target}: timed out after {} s waiting for {waiting_for}",
                after.as_secs_f64()
            ),
            ClientError::Closed { target } => write!(f, "{target}: connection closed by peer"),
            ClientError::OpenFlow { code, data } => {
                write!(f, "{code}{}", describe_data(*code, data))
            }
            ClientError::Rejected(errs) => {
                let n = errs.len();
                write!(f, "{n} request{} failed", if n == 1 { "" } else { "s" })?;
                for e in errs {
                    write!(
                        f,
                        "; xid {:#x}: {}{}",
                        e.xid,
                        e.code,
                        describe_data(e.code, &e.data)
                    )?;
                }
                Ok(())
            }
            ClientError::Decode { xid, error } => {
                write!(f, "cannot decode the reply to xid {xid:#x}: {error}")
            }
            ClientError::Unexpected { xid, expected, got } => {
                write!(f, "reply to xid {xid:#x} is {got}, expected {expected}")
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io(e) => Some(e),
            ClientError::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

impl From<ClientError> for io::Error {
    fn from(e: ClientError) -> io::Error {
        match e {
            ClientError::Io(e) => e,
            ClientError::Timeout { .. } => io::Error::new(io::ErrorKind::TimedOut, e.to_string()),
            ClientError::Closed { .. } => {
                io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string())
            }
            other => io::Error::other(other.to_string()),
        }
    }
}

fn error_code(e: &ErrorMsg) -> (ErrorCode, Bytes) {
    match e {
        ErrorMsg::Standard { code, data } => (*code, data.clone()),
        ErrorMsg::Experimenter { exp_type, data, .. } => (
            ErrorCode::new(ofproto::error::OFPET_EXPERIMENTER, *exp_type),
            data.clone(),
        ),
    }
}

/// A reply to `xid` other than the `expected` one: the peer's `OFPT_ERROR`,
/// a message of another type, or one that does not decode.
fn not_the_reply(xid: u32, expected: &'static str, got: Result<Message, WireError>) -> ClientError {
    match got {
        Ok(Message::Error(e)) => {
            let (code, data) = error_code(&e);
            ClientError::OpenFlow { code, data }
        }
        Ok(m) => ClientError::Unexpected {
            xid,
            expected,
            got: m.type_name(),
        },
        Err(error) => ClientError::Decode { xid, error },
    }
}

enum Ev {
    Wrote(io::Result<usize>),
    Read(io::Result<Option<OfpFrame>>),
}

/// An OpenFlow 1.3 client connection.
pub struct OfClient {
    target: String,
    rd: FrameReader<ReadHalf<Box<dyn OfStream>>>,
    wr: WriteHalf<Box<dyn OfStream>>,
    /// Encoded, not yet written.
    wbuf: BytesMut,
    next_xid: u32,
    timeout: Duration,
    /// Messages nobody waited for, oldest first.
    pending: VecDeque<(u32, Message)>,
    /// Xids from `send` not yet settled by a barrier.
    outstanding: HashSet<u32>,
}

impl fmt::Debug for OfClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfClient({})", self.target)
    }
}

impl OfClient {
    /// Connects to `target` and exchanges HELLOs (both within the default
    /// timeout). Fails if the peer does not do OpenFlow 1.3.
    pub async fn connect(target: &Target) -> io::Result<OfClient> {
        OfClient::connect_with(target, None).await
    }

    /// [`OfClient::connect`] with the TLS context an `ssl:` target needs.
    pub async fn connect_with(target: &Target, tls: Option<&TlsContext>) -> io::Result<OfClient> {
        let stream = tokio::time::timeout(DEFAULT_TIMEOUT, connect_with(target, tls))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{target}: connection timed out after {} s",
                        DEFAULT_TIMEOUT.as_secs()
                    ),
                )
            })??;
        OfClient::from_stream(stream, target.to_string()).await
    }

    /// The HELLO exchange over an already open stream; `name` is used in
    /// error messages.
    pub async fn from_stream<S: OfStream + 'static>(
        stream: S,
        name: impl Into<String>,
    ) -> io::Result<OfClient> {
        let boxed: Box<dyn OfStream> = Box::new(stream);
        let (rd, wr) = tokio::io::split(boxed);
        let mut c = OfClient {
            target: name.into(),
            rd: FrameReader::new(rd),
            wr,
            wbuf: BytesMut::with_capacity(16 * 1024),
            next_xid: 0,
            timeout: DEFAULT_TIMEOUT,
            pending: VecDeque::new(),
            outstanding: HashSet::new(),
        };
        c.queue(&our_hello())?;
        let deadline = Instant::now() + c.timeout;
        let first = c.frame_by(deadline, "the peer's HELLO").await?;
        if first.header.msg_type == OFPT_ERROR {
            let why = match first.decode() {
                Ok(Message::Error(e)) => {
                    let (code, data) = error_code(&e);
                    format!("{code}{}", describe_data(code, &data))
                }
                _ => "undecodable OFPT_ERROR".into(),
            };
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("{}: peer refused the connection: {why}", c.target),
            ));
        }
        if let Err(reason) = negotiate(&first) {
            // Tell the peer, as the spec asks of whoever finds no common version.
            c.wbuf.extend_from_slice(&hello_failed(&first, &reason));
            let _ = tokio::time::timeout(Duration::from_secs(1), c.flush()).await;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{}: OpenFlow version negotiation failed (peer's HELLO is {}): {reason}",
                    c.target,
                    version_name(first.header.version)
                ),
            ));
        }
        Ok(c)
    }

    /// The target this client talks to, as given.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// How long to wait for a reply.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends `msg` and waits for the reply with the same xid.
    pub async fn request(&mut self, msg: Message) -> Result<Message, ClientError> {
        let what = format!("the reply to {}", msg.type_name());
        let xid = self.queue(&msg)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let f = self.frame_by(deadline, &what).await?;
            if f.xid() != xid {
                self.stash(f);
                continue;
            }
            return match f.decode() {
                Ok(Message::Error(e)) => {
                    let (code, data) = error_code(&e);
                    Err(ClientError::OpenFlow { code, data })
                }
                Ok(m) => Ok(m),
                Err(error) => Err(ClientError::Decode { xid, error }),
            };
        }
    }

    /// Sends a multipart request and collects its replies, up to the first
    /// without `OFPMPF_REPLY_MORE`. The timeout applies to each part.
    pub async fn multipart(
        &mut self,
        req: MultipartRequest,
    ) -> Result<Vec<MultipartReply>, ClientError> {
        let xid = self.queue(&Message::MultipartRequest(req))?;
        let mut parts = Vec::new();
        loop {
            let deadline = Instant::now() + self.timeout;
            let f = self.frame_by(deadline, "a OFPT_MULTIPART_REPLY").await?;
            if f.xid() != xid {
                self.stash(f);
                continue;
            }
            match f.decode() {
                Ok(Message::MultipartReply(r)) => {
                    let more = r.flags & OFPMPF_REPLY_MORE != 0;
                    parts.push(r);
                    if !more {
                        return Ok(parts);
                    }
                }
                other => return Err(not_the_reply(xid, "OFPT_MULTIPART_REPLY", other)),
            }
        }
    }

    /// Queues `msg` without waiting for anything and returns its xid; output
    /// is written once 64 KiB are pending, or by the next call that waits
    /// ([`OfClient::barrier`], [`OfClient::request`], [`OfClient::recv`],
    /// [`OfClient::flush`]). Errors the peer sends for it are collected by
    /// the next [`OfClient::barrier`].
    pub async fn send(&mut self, msg: Message) -> Result<u32, ClientError> {
        let xid = self.queue(&msg)?;
        self.outstanding.insert(xid);
        if self.wbuf.len() >= SEND_FLUSH_BYTES {
            self.flush().await?;
        }
        Ok(xid)
    }

    /// Sends BARRIER_REQUEST and waits for its reply. `OFPT_ERROR`s for
    /// requests from [`OfClient::send`] that arrive first are returned as
    /// [`ClientError::Rejected`] (in arrival order); other replies to them
    /// stay available to [`OfClient::recv`].
    pub async fn barrier(&mut self) -> Result<(), ClientError> {
        let xid = self.queue(&Message::BarrierRequest)?;
        let deadline = Instant::now() + self.timeout;
        let mut errors = Vec::new();
        loop {
            let f = self.frame_by(deadline, "OFPT_BARRIER_REPLY").await?;
            if f.xid() == xid {
                match f.decode() {
                    Ok(Message::BarrierReply) => break,
                    other => return Err(not_the_reply(xid, "OFPT_BARRIER_REPLY", other)),
                }
            }
            if f.header.msg_type == OFPT_ERROR && self.outstanding.contains(&f.xid()) {
                if let Ok(Message::Error(e)) = f.decode() {
                    let (code, data) = error_code(&e);
                    errors.push(RequestError {
                        xid: f.xid(),
                        code,
                        data,
                    });
                    continue;
                }
            }
            self.stash(f);
        }
        self.outstanding.clear();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ClientError::Rejected(errors))
        }
    }

    /// The next message nobody waited for (async messages, replies to
    /// [`OfClient::send`]), with its xid. Waits without a timeout; it is
    /// cancel safe, so wrap it in `tokio::time::timeout` if needed. A message
    /// that does not decode is [`ClientError::Decode`]; calling again goes on.
    pub async fn recv(&mut self) -> Result<(u32, Message), ClientError> {
        if let Some(p) = self.pending.pop_front() {
            return Ok(p);
        }
        let f = self.next_frame().await?;
        match f.decode() {
            Ok(m) => Ok((f.xid(), m)),
            Err(error) => Err(ClientError::Decode {
                xid: f.xid(),
                error,
            }),
        }
    }

    /// Writes everything queued (reading, and keeping, what arrives meanwhile).
    pub async fn flush(&mut self) -> Result<(), ClientError> {
        while !self.wbuf.is_empty() {
            let ev = self.step().await;
            if let Some(f) = self.handle(ev)? {
                self.stash(f);
            }
        }
        self.wr.flush().await?;
        Ok(())
    }

    /// Encodes `msg` with a fresh xid into the output buffer.
    fn queue(&mut self, msg: &Message) -> Result<u32, ClientError> {
        self.next_xid = self.next_xid.wrapping_add(1);
        let xid = self.next_xid;
        encode_checked(xid, msg, &mut self.wbuf).map_err(|len| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} of {len} bytes exceeds the 65535-byte OpenFlow limit",
                    msg.type_name()
                ),
            )
        })?;
        Ok(xid)
    }

    /// Keeps an unclaimed message for `recv`.
    fn stash(&mut self, f: OfpFrame) {
        match f.decode() {
            Ok(m) => {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                }
                self.pending.push_back((f.xid(), m));
            }
            Err(e) => {
                debug!(remote = %self.target, xid = f.xid(), "dropping undecodable message: {e}")
            }
        }
    }

    async fn frame_by(&mut self, deadline: Instant, what: &str) -> Result<OfpFrame, ClientError> {
        match tokio::time::timeout_at(deadline, self.next_frame()).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                target: self.target.clone(),
                waiting_for: what.to_string(),
                after: self.timeout,
            }),
        }
    }

    /// The next frame that is not an echo request, writing pending output
    /// meanwhile. Cancel safe.
    async fn next_frame(&mut self) -> Result<OfpFrame, ClientError> {
        loop {
            let ev = self.step().await;
            if let Some(f) = self.handle(ev)? {
                return Ok(f);
            }
        }
    }

    /// Waits for the next read, or for a write if output is pending.
    async fn step(&mut self) -> Ev {
        if self.wbuf.is_empty() {
            return Ev::Read(self.rd.next().await);
        }
        let (wr, rd, buf) = (&mut self.wr, &mut self.rd, &self.wbuf);
        tokio::select! {
            r = wr.write(buf) => Ev::Wrote(r),
            f = rd.next() => Ev::Read(f),
        }
    }

    /// Applies one step: a write advances the buffer, an echo request is
    /// answered; any other frame is handed back.
    fn handle(&mut self, ev: Ev) -> Result<Option<OfpFrame>, ClientError> {
        let target = &self.target;
        // With TLS 1.3 a server that refuses our certificate says so after
        // our side of the handshake is done: the alert arrives as a read
        // error, typically while we wait for the peer's HELLO.
        let ctx = |e: io::Error| {
            let what = if is_tls_error(&e) {
                format!("TLS: {}", describe_tls_error(&e))
            } else {
                e.to_string()
            };
            ClientError::Io(io::Error::new(e.kind(), format!("{target}: {what}")))
        };
        match ev {
            Ev::Wrote(Ok(0)) => Err(ctx(io::ErrorKind::WriteZero.into())),
            Ev::Wrote(Ok(n)) => {
                self.wbuf.advance(n);
                Ok(None)
            }
            Ev::Wrote(Err(e)) => Err(ctx(e)),
            Ev::Read(Ok(Some(f))) => {
                if f.header.msg_type == OFPT_ECHO_REQUEST && f.header.version == OFP_VERSION {
                    Message::EchoReply(f.raw.slice(8..)).encode(f.xid(), &mut self.wbuf);
                    return Ok(None);
                }
                Ok(Some(f))
            }
            Ev::Read(Ok(None)) => Err(ClientError::Closed {
                target: self.target.clone(),
            }),
            Ev::Read(Err(e)) => Err(ctx(e)),
        }
    }

    /// Flushes and shuts the connection down.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.flush().await?;
        self.wr.shutdown().await?;
        Ok(())
    }
}

/// [`OfClient`] for synchronous callers (the CLI), on a private
/// current-thread runtime. Don't use it from inside an async runtime.
pub struct BlockingClient {
    rt: tokio::runtime::Runtime,
    inner: OfClient,
}

impl BlockingClient {
    pub fn connect(target: &Target) -> io::Result<BlockingClient> {
        BlockingClient::connect_with(target, None)
    }

    /// [`BlockingClient::connect`] with the TLS context an `ssl:` target needs.
    pub fn connect_with(target: &Target, tls: Option<&TlsContext>) -> io::Result<BlockingClient> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let inner = rt.block_on(OfClient::connect_with(target, tls))?;
        Ok(BlockingClient { rt, inner })
    }

    pub fn client(&mut self) -> &mut OfClient {
        &mut self.inner
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.inner.set_timeout(timeout);
    }

    pub fn request(&mut self, msg: Message) -> Result<Message, ClientError> {
        self.rt.block_on(self.inner.request(msg))
    }

    pub fn multipart(&mut self, req: MultipartRequest) -> Result<Vec<MultipartReply>, ClientError> {
        self.rt.block_on(self.inner.multipart(req))
    }

    pub fn send(&mut self, msg: Message) -> Result<u32, ClientError> {
        self.rt.block_on(self.inner.send(msg))
    }

    pub fn barrier(&mut self) -> Result<(), ClientError> {
        self.rt.block_on(self.inner.barrier())
    }

    pub fn recv(&mut self) -> Result<(u32, Message), ClientError> {
        self.rt.block_on(self.inner.recv())
    }

    /// [`OfClient::recv`] with a time limit; `Ok(None)` when it passes.
    pub fn recv_timeout(&mut self, d: Duration) -> Result<Option<(u32, Message)>, ClientError> {
        let inner = &mut self.inner;
        self.rt
            .block_on(async { tokio::time::timeout(d, inner.recv()).await.ok().transpose() })
    }

    pub fn flush(&mut self) -> Result<(), ClientError> {
        self.rt.block_on(self.inner.flush())
    }
}
