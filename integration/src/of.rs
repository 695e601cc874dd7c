//! OpenFlow from the tests' side: [`Of`] wraps `datapath`'s blocking client
//! with the few requests the tests make; [`RawOf`] speaks bytes, for the
//! malformed messages a well-behaved client cannot send.

use datapath::ofconn::{ClientError, OfClient, Target};
use ofproto::consts::*;
use ofproto::message::{FlowMod, PacketOut};
use ofproto::multipart::{
    FlowStats, FlowStatsRequest, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use ofproto::port::PortDesc;
use ofproto::text::{parse_flow, FlowCommand};
use ofproto::Message;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// A FLOW_MOD from ovs-ofctl syntax (`add-flow` semantics).
pub fn flow(text: &str) -> FlowMod {
    flow_cmd(text, FlowCommand::Add)
}

/// A FLOW_MOD from ovs-ofctl syntax for command `cmd`.
pub fn flow_cmd(text: &str, cmd: FlowCommand) -> FlowMod {
    parse_flow(text, cmd).unwrap_or_else(|e| panic!("bad flow {text:?}: {e}"))
}

/// A connected OpenFlow 1.3 client (switch-facing: our side is the
/// controller), on a private current-thread runtime.
pub struct Of {
    rt: tokio::runtime::Runtime,
    pub c: OfClient,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl Of {
    /// Connects to `target` (`unix:PATH`, `tcp:HOST:PORT`), retrying for a
    /// few seconds while the listener comes up.
    pub fn connect(target: &str) -> Of {
        let t: Target = target
            .parse()
            .unwrap_or_else(|e| panic!("bad target {target}: {e:?}"));
        let rt = runtime();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rt.block_on(OfClient::connect(&t)) {
                Ok(c) => {
                    let mut of = Of { rt, c };
                    // The switch's HELLO comes before it has read ours; a
                    // barrier reply means the connection is fully up (and
                    // will get the asynchronous messages it is due).
                    of.try_barrier()
                        .unwrap_or_else(|e| panic!("{target}: first barrier: {e}"));
                    return of;
                }
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot connect to {target}: {e}"),
            }
        }
    }

    /// HELLO exchange over a connection the switch opened to us.
    pub fn from_tcp(stream: std::net::TcpStream) -> io::Result<Of> {
        let rt = runtime();
        let name = format!("switch at {}", stream.peer_addr()?);
        stream.set_nonblocking(true)?;
        let c = rt.block_on(async {
            let s = tokio::net::TcpStream::from_std(stream)?;
            OfClient::from_stream(s, name).await
        })?;
        Ok(Of { rt, c })
    }

    /// Sets how long requests wait for their reply.
    pub fn set_timeout(&mut self, d: Duration) {
        self.c.set_timeout(d);
    }

    pub fn request(&mut self, m: Message) -> Result<Message, ClientError> {
        self.rt.block_on(self.c.request(m))
    }

    pub fn multipart(
        &mut self,
        req: MultipartRequest,
    ) -> Result<Vec<ofproto::multipart::MultipartReply>, ClientError> {
        self.rt.block_on(self.c.multipart(req))
    }

    pub fn try_send(&mut self, m: Message) -> Result<u32, ClientError> {
        self.rt.block_on(self.c.send(m))
    }

    pub fn try_barrier(&mut self) -> Result<(), ClientError> {
        self.rt.block_on(self.c.barrier())
    }

    /// The next unclaimed message within `d`; None on timeout.
    pub fn recv_timeout(&mut self, d: Duration) -> Result<Option<(u32, Message)>, ClientError> {
        let c = &mut self.c;
        self.rt
            .block_on(async { tokio::time::timeout(d, c.recv()).await.ok().transpose() })
    }

    pub fn flush(&mut self) -> Result<(), ClientError> {
        self.rt.block_on(self.c.flush())
    }

    /// Sends a FLOW_MOD and a barrier; Err holds the switch's error(s).
    pub fn try_flow_mod(&mut self, fm: FlowMod) -> Result<(), ClientError> {
        self.try_send(Message::FlowMod(fm))?;
        self.try_barrier()
    }

    /// Adds a flow (ovs-ofctl syntax) and waits for the barrier reply.
    pub fn add_flow(&mut self, text: &str) {
        self.try_flow_mod(flow(text))
            .unwrap_or_else(|e| panic!("add-flow {text:?}: {e}"));
    }

    /// A FLOW_MOD of command `cmd` (ovs-ofctl syntax), then a barrier.
    pub fn flow_mod(&mut self, text: &str, cmd: FlowCommand) {
        self.try_flow_mod(flow_cmd(text, cmd))
            .unwrap_or_else(|e| panic!("flow mod {text:?}: {e}"));
    }

    pub fn barrier(&mut self) {
        self.try_barrier().expect("barrier");
    }

    pub fn send(&mut self, m: Message) -> u32 {
        self.try_send(m).expect("send")
    }

    /// PACKET_OUT of `frame` from `in_port` with `actions`, then a barrier.
    pub fn packet_out(
        &mut self,
        in_port: u32,
        actions: Vec<ofproto::action::Action>,
        frame: &[u8],
    ) {
        self.try_send(Message::PacketOut(PacketOut {
            buffer_id: OFP_NO_BUFFER,
            in_port,
            actions,
            data: bytes::Bytes::copy_from_slice(frame),
        }))
        .expect("send PACKET_OUT");
        self.try_barrier().expect("PACKET_OUT + barrier");
    }

    /// Every flow of every table.
    pub fn dump_flows(&mut self) -> Vec<FlowStats> {
        let parts = self
            .multipart(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::Flow(FlowStatsRequest::default()),
            })
            .expect("OFPMP_FLOW");
        let mut v = Vec::new();
        for p in parts {
            if let MultipartReplyBody::Flow(f) = p.body {
                v.extend(f);
            }
        }
        v
    }

    /// OFPMP_PORT_STATS of every port.
    pub fn port_stats(&mut self) -> Vec<ofproto::multipart::PortStats> {
        let parts = self
            .multipart(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::PortStats(Default::default()),
            })
            .expect("OFPMP_PORT_STATS");
        let mut v = Vec::new();
        for p in parts {
            if let MultipartReplyBody::PortStats(s) = p.body {
                v.extend(s);
            }
        }
        v
    }

    /// OFPMP_PORT_DESC.
    pub fn port_desc(&mut self) -> Vec<PortDesc> {
        let parts = self
            .multipart(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::PortDesc,
            })
            .expect("OFPMP_PORT_DESC");
        let mut v = Vec::new();
        for p in parts {
            if let MultipartReplyBody::PortDesc(d) = p.body {
                v.extend(d);
            }
        }
        v
    }

    /// The next message matching `pred` within `timeout` (others skipped).
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.recv_timeout(left) {
                Ok(Some((_, m))) if pred(&m) => return Some(m),
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(ClientError::Decode { .. }) => {}
                Err(e) => panic!("connection failed while waiting: {e}"),
            }
        }
    }

    /// Every message that arrives within `d`.
    pub fn collect_for(&mut self, d: Duration) -> Vec<Message> {
        let mut v = Vec::new();
        let deadline = Instant::now() + d;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.recv_timeout(left) {
                Ok(Some((_, m))) => v.push(m),
                Ok(None) => break,
                Err(ClientError::Decode { .. }) => {}
                Err(e) => panic!("connection failed while collecting: {e}"),
            }
        }
        v
    }

    /// ECHO_REQUEST → ECHO_REPLY with the same payload: the connection lives.
    pub fn echo(&mut self) -> bool {
        let payload = bytes::Bytes::from_static(b"still there?");
        matches!(
            self.request(Message::EchoRequest(payload.clone())),
            Ok(Message::EchoReply(p)) if p == payload
        )
    }
}

/// A controller listening on 127.0.0.1 for tapflowd's `--controller`.
pub struct FakeController {
    pub listener: std::net::TcpListener,
    pub port: u16,
}

impl FakeController {
    /// Listens on a free port.
    pub fn listen() -> FakeController {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        FakeController { listener, port }
    }

    /// Listens on `port` (one chosen earlier and given to tapflowd).
    pub fn listen_on(port: u16) -> FakeController {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        FakeController { listener, port }
    }

    /// The switch's next connection (HELLO exchanged) within `timeout`.
    pub fn accept(&self, timeout: Duration) -> Option<Of> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    let mut of = Of::from_tcp(s).expect("HELLO with the switch");
                    of.try_barrier().expect("first barrier with the switch");
                    return Some(of);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

/// Byte-level OpenFlow connection (HELLO done by [`RawOf::connect`]).
pub struct RawOf {
    s: Box<dyn ReadWrite>,
    buf: Vec<u8>,
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

/// One message as received: the header fields and the whole message.
#[derive(Clone, Debug)]
pub struct RawMsg {
    pub version: u8,
    pub msg_type: u8,
    pub xid: u32,
    pub raw: Vec<u8>,
}

impl RawMsg {
    /// For an OFPT_ERROR: (type, code, data).
    pub fn error(&self) -> Option<(u16, u16, &[u8])> {
        (self.msg_type == OFPT_ERROR && self.raw.len() >= 12).then(|| {
            (
                u16::from_be_bytes([self.raw[8], self.raw[9]]),
                u16::from_be_bytes([self.raw[10], self.raw[11]]),
                &self.raw[12..],
            )
        })
    }
}

/// An 8-byte OpenFlow 1.3 header.
pub fn header(msg_type: u8, length: u16, xid: u32) -> Vec<u8> {
    let mut h = vec![OFP_VERSION_13, msg_type];
    h.extend_from_slice(&length.to_be_bytes());
    h.extend_from_slice(&xid.to_be_bytes());
    h
}

const OFP_VERSION_13: u8 = 4;

/// HELLO with a version bitmap holding only 1.3.
pub fn hello_13(xid: u32) -> Vec<u8> {
    let mut h = header(OFPT_HELLO, 16, xid);
    h.extend_from_slice(&[0, 1, 0, 8, 0, 0, 0, 0x10]);
    h
}

impl RawOf {
    /// Connects without the HELLO exchange.
    pub fn connect_no_hello(target: &str) -> io::Result<RawOf> {
        let s: Box<dyn ReadWrite> = if let Some(p) = target.strip_prefix("unix:") {
            let s = std::os::unix::net::UnixStream::connect(p)?;
            s.set_read_timeout(Some(Duration::from_millis(100)))?;
            Box::new(s)
        } else if let Some(hp) = target.strip_prefix("tcp:") {
            let s = std::net::TcpStream::connect(hp)?;
            s.set_read_timeout(Some(Duration::from_millis(100)))?;
            s.set_nodelay(true)?;
            Box::new(s)
        } else {
            return Err(io::Error::other(format!("unsupported target {target}")));
        };
        Ok(RawOf { s, buf: Vec::new() })
    }

    /// Connects and exchanges HELLOs (ours with a 1.3-only bitmap).
    pub fn connect(target: &str) -> io::Result<RawOf> {
        let mut r = RawOf::connect_no_hello(target)?;
        r.send(&hello_13(1))?;
        let m = r
            .recv(Duration::from_secs(10))?
            .ok_or_else(|| io::Error::other("no HELLO from the switch"))?;
        if m.msg_type != OFPT_HELLO {
            return Err(io::Error::other(format!(
                "first message is type {}",
                m.msg_type
            )));
        }
        Ok(r)
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.s.write_all(bytes)?;
        self.s.flush()
    }

    /// The next message (echo requests are answered and skipped), None on
    /// timeout; Err(UnexpectedEof) when the switch closed the connection.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Option<RawMsg>> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.buf.len() >= 8 {
                let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                if len < 8 {
                    return Err(io::Error::other(format!("switch sent a length of {len}")));
                }
                if self.buf.len() >= len {
                    let raw: Vec<u8> = self.buf.drain(..len).collect();
                    let m = RawMsg {
                        version: raw[0],
                        msg_type: raw[1],
                        xid: u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]),
                        raw,
                    };
                    if m.msg_type == OFPT_ECHO_REQUEST {
                        let mut reply = m.raw.clone();
                        reply[1] = OFPT_ECHO_REPLY;
                        self.send(&reply)?;
                        continue;
                    }
                    return Ok(Some(m));
                }
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            let mut tmp = [0u8; 65536];
            match self.s.read(&mut tmp) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next message with `xid` (others skipped), within `timeout`.
    pub fn recv_xid(&mut self, xid: u32, timeout: Duration) -> io::Result<Option<RawMsg>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = match deadline.checked_duration_since(Instant::now()) {
                Some(l) => l,
                None => return Ok(None),
            };
            match self.recv(left)? {
                Some(m) if m.xid == xid => return Ok(Some(m)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// ECHO_REQUEST with `xid` answered by an ECHO_REPLY with the same data.
    pub fn echo(&mut self, xid: u32) -> bool {
        let mut m = header(OFPT_ECHO_REQUEST, 12, xid);
        m.extend_from_slice(b"ping");
        if self.send(&m).is_err() {
            return false;
        }
        matches!(
            self.recv_xid(xid, Duration::from_secs(5)),
            Ok(Some(r)) if r.msg_type == OFPT_ECHO_REPLY && r.raw[8..] == *b"ping"
        )
    }
}

/// The bytes of a message encoded by ofproto (header included).
pub fn encode(m: &Message, xid: u32) -> Vec<u8> {
    m.encode_to_vec(xid)
}
