//! OVS-style connection targets and the tasks that serve them.
//!
//! Active (we connect): `tcp:HOST[:PORT]` and `ssl:HOST[:PORT]` (IP literal
//! or host name; IPv6 in brackets, `tcp:[::1]:6653`; default port 6653) and
//! `unix:PATH`. [`spawn_active`] reconnects forever with exponential backoff
//! (1 s doubling to 8 s, as OVS), reset once a connection gets through HELLO
//! negotiation.
//!
//! Passive (we listen): `ptcp:[PORT][:IP]` and `pssl:[PORT][:IP]` (default
//! port 6653, default IP 127.0.0.1 — note OVS's default is all addresses; we
//! only listen wider when told; IPv6 as `ptcp:6653:[::1]`) and `punix:PATH`.
//! [`spawn_listener`] binds synchronously so that a daemon fails its startup
//! with a clear message; a unix socket is created with mode 0600, a stale
//! socket file left by a crash is replaced, and a socket another live process
//! listens on is refused.
//!
//! `ssl:`/`pssl:` run TLS with mutual certificate authentication
//! ([`super::tls`]); they need a [`TlsContext`] (`--private-key`,
//! `--certificate`, `--ca-cert`). On a `pssl:` listener each handshake runs
//! in its own task within [`ConnConfig::hello_timeout`], so a peer that is
//! refused, or stalls, delays nobody else; only a peer whose certificate
//! chains to the CA becomes an OpenFlow connection.

use super::conn::{serve, ConnConfig};
use super::tls::{describe_handshake_error, TlsContext};
use crate::bridge::{BridgeEvent, ConnId, ConnKind};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

/// The IANA OpenFlow port.
pub const DEFAULT_OFP_PORT: u16 = 6653;

/// Where to connect: `tcp:HOST[:PORT]`, `ssl:HOST[:PORT]` or `unix:PATH`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `host` is a name or an IP literal (IPv6 without brackets).
    Tcp {
        host: String,
        port: u16,
    },
    /// TLS over TCP; `host` as for `Tcp`.
    Ssl {
        host: String,
        port: u16,
    },
    Unix(PathBuf),
}

impl Target {
    /// Whether connecting needs a [`TlsContext`].
    pub fn is_tls(&self) -> bool {
        matches!(self, Target::Ssl { .. })
    }
}

/// Where to listen: `ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]` or `punix:PATH`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListenTarget {
    Tcp(SocketAddr),
    /// TLS over TCP.
    Ssl(SocketAddr),
    Unix(PathBuf),
}

impl ListenTarget {
    /// Whether listening needs a [`TlsContext`].
    pub fn is_tls(&self) -> bool {
        matches!(self, ListenTarget::Ssl(_))
    }
}

/// A target string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad target '{}': {}", self.input, self.reason)
    }
}

impl std::error::Error for TargetError {}

fn bad(input: &str, reason: impl Into<String>) -> TargetError {
    TargetError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    if s.is_empty() {
        return Err("missing port after ':'".into());
    }
    s.parse::<u16>()
        .map_err(|_| format!("bad port '{s}' (expected 0-65535)"))
}

fn parse_path(rest: &str) -> Result<PathBuf, String> {
    if rest.is_empty() {
        Err("missing path".into())
    } else {
        Ok(PathBuf::from(rest))
    }
}

/// `HOST[:PORT]` with `[v6]` brackets.
fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    if s.is_empty() {
        return Err("missing host".into());
    }
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let Some((h, after)) = inner.split_once(']') else {
            return Err("missing ']' after IPv6 address".into());
        };
        if h.parse::<Ipv6Addr>().is_err() {
            return Err(format!("'{h}' is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err(format!("unexpected '{p}' after ']'")),
            },
        };
        (h, port)
    } else if s.matches(':').count() > 1 {
        return Err("IPv6 addresses need brackets, e.g. tcp:[::1]:6653".into());
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("bad host '{host}'"));
    }
    let port = match port {
        None => DEFAULT_OFP_PORT,
        Some(p) => parse_port(p)?,
    };
    if port == 0 {
        return Err("port 0 cannot be connected to".into());
    }
    Ok((host.to_string(), port))
}

fn split_scheme(s: &str) -> Result<(&str, &str), TargetError> {
    s.split_once(':').ok_or_else(|| {
        bad(
            s,
            "expected TYPE:ARGS, e.g. tcp:127.0.0.1:6653, ssl:127.0.0.1:6653, unix:/run/tapflow/br0.mgmt",
        )
    })
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, TargetError> {
        let (scheme, rest) = split_scheme(s)?;
        match scheme {
            "tcp" => {
                let (host, port) = parse_host_port(rest).map_err(|r| bad(s, r))?;
                Ok(Target::Tcp { host, port })
            }
            "ssl" => {
                let (host, port) = parse_host_port(rest).map_err(|r| bad(s, r))?;
                Ok(Target::Ssl { host, port })
            }
            "unix" => Ok(Target::Unix(parse_path(rest).map_err(|r| bad(s, r))?)),
            "ptcp" | "punix" | "pssl" => Err(bad(
                s,
                format!(
                    "'{scheme}:' is a listening target; connect with tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH"
                ),
            )),
            _ => Err(bad(
                s,
                format!("unknown connection type '{scheme}' (expected tcp:, ssl: or unix:)"),
            )),
        }
    }
}

impl FromStr for ListenTarget {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, TargetError> {
        let (scheme, rest) = split_scheme(s)?;
        match scheme {
            "ptcp" => Ok(ListenTarget::Tcp(
                parse_port_ip(scheme, rest).map_err(|r| bad(s, r))?,
            )),
            "pssl" => Ok(ListenTarget::Ssl(
                parse_port_ip(scheme, rest).map_err(|r| bad(s, r))?,
            )),
            "punix" => Ok(ListenTarget::Unix(parse_path(rest).map_err(|r| bad(s, r))?)),
            "tcp" | "unix" | "ssl" => Err(bad(
                s,
                format!(
                    "'{scheme}:' is an active target; listen with ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH"
                ),
            )),
            _ => Err(bad(
                s,
                format!("unknown listening type '{scheme}' (expected ptcp:, pssl: or punix:)"),
            )),
        }
    }
}

/// `[PORT][:IP]` of `ptcp:`/`pssl:`. The port has no ':', so everything
/// after the first ':' is the address (brackets optional for IPv6).
fn parse_port_ip(scheme: &str, rest: &str) -> Result<SocketAddr, String> {
    let (port_s, ip_s) = match rest.split_once(':') {
        Some((p, ip)) => (p, ip),
        None => (rest, ""),
    };
    let port = if port_s.is_empty() {
        DEFAULT_OFP_PORT
    } else {
        parse_port(port_s)?
    };
    let ip = if ip_s.is_empty() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        let bare = ip_s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(ip_s);
        bare.parse::<IpAddr>().map_err(|_| {
            format!(
                "'{ip_s}' is not an IP address ({scheme}: takes an address to listen on, not a host name)"
            )
        })?
    };
    Ok(SocketAddr::new(ip, port))
}

fn fmt_host_port(f: &mut fmt::Formatter<'_>, scheme: &str, host: &str, port: u16) -> fmt::Result {
    if host.contains(':') {
        write!(f, "{scheme}:[{host}]:{port}")
    } else {
        write!(f, "{scheme}:{host}:{port}")
    }
}

fn fmt_port_ip(f: &mut fmt::Formatter<'_>, scheme: &str, a: &SocketAddr) -> fmt::Result {
    match a {
        SocketAddr::V4(a) => write!(f, "{scheme}:{}:{}", a.port(), a.ip()),
        SocketAddr::V6(a) => write!(f, "{scheme}:{}:[{}]", a.port(), a.ip()),
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } => fmt_host_port(f, "tcp", host, *port),
            Target::Ssl { host, port } => fmt_host_port(f, "ssl", host, *port),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl fmt::Display for ListenTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenTarget::Tcp(a) => fmt_port_ip(f, "ptcp", a),
            ListenTarget::Ssl(a) => fmt_port_ip(f, "pssl", a),
            ListenTarget::Unix(p) => write!(f, "punix:{}", p.display()),
        }
    }
}

/// A byte stream an OpenFlow connection can run over.
pub trait OfStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> OfStream for T {}

fn with_context(e: io::Error, what: impl fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// The error for a TLS target without a [`TlsContext`].
fn tls_missing(target: impl fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{target} needs a private key, a certificate and a CA certificate (--private-key, --certificate, --ca-cert)"),
    )
}

/// Opens a stream to `target` (no OpenFlow yet); `ssl:` targets are refused
/// (they need [`connect_with`] and a [`TlsContext`]).
pub async fn connect(target: &Target) -> io::Result<Box<dyn OfStream>> {
    connect_with(target, None).await
}

async fn tcp_connect(host: &str, port: u16, target: &Target) -> io::Result<tokio::net::TcpStream> {
    let s = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| with_context(e, target))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// Opens a stream to `target` (no OpenFlow yet), running the TLS handshake
/// for `ssl:` with `tls`. TCP gets TCP_NODELAY: OpenFlow is request/response
/// with small messages. Errors name the target:
/// `tcp:10.0.0.1:6653: Connection refused (os error 111)`,
/// `ssl:10.0.0.1:6653: TLS handshake failed: the peer's certificate is not
/// signed by our CA (--ca-cert) (…)`.
pub async fn connect_with(
    target: &Target,
    tls: Option<&TlsContext>,
) -> io::Result<Box<dyn OfStream>> {
    match target {
        Target::Tcp { host, port } => Ok(Box::new(tcp_connect(host, *port, target).await?)),
        Target::Ssl { host, port } => {
            let tls = tls.ok_or_else(|| tls_missing(target))?;
            let s = tcp_connect(host, *port, target).await?;
            let peer = s.peer_addr().map_err(|e| with_context(e, target))?.ip();
            let s = tls.connect(host, peer, s).await.map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{target}: {}", describe_handshake_error(&e)),
                )
            })?;
            Ok(Box::new(s))
        }
        Target::Unix(p) => {
            let s = tokio::net::UnixStream::connect(p)
                .await
                .map_err(|e| with_context(e, target))?;
            Ok(Box::new(s))
        }
    }
}

/// The reconnect wait: `min`, doubling per failure, capped at `max`.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    cur: Option<Duration>,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            cur: None,
        }
    }

    /// The wait before the next attempt.
    pub(crate) fn next_wait(&mut self) -> Duration {
        let d = match self.cur {
            None => self.min,
            Some(c) => (c * 2).min(self.max),
        };
        self.cur = Some(d);
        d
    }

    pub(crate) fn reset(&mut self) {
        self.cur = None;
    }
}

/// Connects to `target` as a controller connection, forever: on failure or
/// disconnect, waits (1 s doubling to 8 s; back to 1 s after a connection
/// that got through HELLO) and tries again. Stops when the bridge's event
/// channel is closed, or when the handle is aborted.
pub fn spawn_active(
    target: Target,
    kind: ConnKind,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    ids: Arc<AtomicU64>,
) -> JoinHandle<()> {
    spawn_active_with(target, kind, bridge_tx, ids, ConnConfig::default())
}

/// [`spawn_active`] with explicit tunables.
pub fn spawn_active_with(
    target: Target,
    kind: ConnKind,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    ids: Arc<AtomicU64>,
    cfg: ConnConfig,
) -> JoinHandle<()> {
    spawn_active_tls(target, kind, bridge_tx, ids, cfg, None)
}

/// [`spawn_active_with`] with the TLS context `ssl:` targets need (without
/// one, every attempt fails and says so).
pub fn spawn_active_tls(
    target: Target,
    kind: ConnKind,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    ids: Arc<AtomicU64>,
    cfg: ConnConfig,
    tls: Option<Arc<TlsContext>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Backoff::new(cfg.backoff_min, cfg.backoff_max);
        let mut failures = 0u32;
        loop {
            if bridge_tx.is_closed() {
                info!(remote = %target, "bridge stopped, no more connection attempts");
                return;
            }
            let attempt = connect_with(&target, tls.as_deref());
            match tokio::time::timeout(cfg.connect_timeout, attempt).await {
                Ok(Ok(stream)) => {
                    failures = 0;
                    let id: ConnId = ids.fetch_add(1, Ordering::Relaxed);
                    debug!(conn = id, remote = %target, "connected");
                    let up = serve(
                        stream,
                        kind,
                        target.to_string(),
                        id,
                        bridge_tx.clone(),
                        cfg.clone(),
                    )
                    .await;
                    if up {
                        backoff.reset();
                    }
                }
                Ok(Err(e)) => {
                    failures += 1;
                    log_failure(&target, failures, &e.to_string());
                }
                Err(_) => {
                    failures += 1;
                    log_failure(
                        &target,
                        failures,
                        &format!(
                            "{target}: connection timed out after {:?}",
                            cfg.connect_timeout
                        ),
                    );
                }
            }
            let wait = backoff.next_wait();
            debug!(remote = %target, "waiting {wait:?} before reconnecting");
            tokio::time::sleep(wait).await;
        }
    })
}

/// One info line for the first failures, then one every 8 (a dead
/// controller must not fill the log).
fn log_failure(target: &Target, failures: u32, e: &str) {
    if failures <= 3 || failures % 8 == 0 {
        info!(remote = %target, failures, "connection attempt failed: {e}");
    } else {
        debug!(remote = %target, failures, "connection attempt failed: {e}");
    }
}

/// A bound, not yet serving listener. [`BoundListener::local`] tells the
/// real address (useful with `ptcp:0`).
pub struct BoundListener {
    inner: ListenerInner,
    local: ListenTarget,
}

enum ListenerInner {
    Tcp(tokio::net::TcpListener),
    Ssl(tokio::net::TcpListener, Arc<TlsContext>),
    Unix(tokio::net::UnixListener, SocketFileGuard),
}

impl fmt::Debug for BoundListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoundListener({})", self.local)
    }
}

/// Binds `listen` now (must run inside a tokio runtime). Errors say what
/// could not be listened on and why. `pssl:` is refused (it needs
/// [`bind_listener_with`] and a [`TlsContext`]).
pub fn bind_listener(listen: &ListenTarget) -> io::Result<BoundListener> {
    bind_listener_with(listen, None)
}

fn bind_tcp(
    addr: &SocketAddr,
    listen: &ListenTarget,
) -> io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let l = std::net::TcpListener::bind(addr)
        .map_err(|e| with_context(e, format_args!("cannot listen on {listen}")))?;
    l.set_nonblocking(true)?;
    let local = l.local_addr()?;
    Ok((tokio::net::TcpListener::from_std(l)?, local))
}

/// [`bind_listener`] with the TLS context a `pssl:` listener needs.
pub fn bind_listener_with(
    listen: &ListenTarget,
    tls: Option<Arc<TlsContext>>,
) -> io::Result<BoundListener> {
    match listen {
        ListenTarget::Tcp(addr) => {
            let (l, local) = bind_tcp(addr, listen)?;
            Ok(BoundListener {
                inner: ListenerInner::Tcp(l),
                local: ListenTarget::Tcp(local),
            })
        }
        ListenTarget::Ssl(addr) => {
            let tls = tls.ok_or_else(|| tls_missing(listen))?;
            let (l, local) = bind_tcp(addr, listen)?;
            Ok(BoundListener {
                inner: ListenerInner::Ssl(l, tls),
                local: ListenTarget::Ssl(local),
            })
        }
        ListenTarget::Unix(path) => {
            let (l, guard) = bind_unix(path)
                .map_err(|e| with_context(e, format_args!("cannot listen on {listen}")))?;
            l.set_nonblocking(true)?;
            let l = tokio::net::UnixListener::from_std(l)?;
            Ok(BoundListener {
                inner: ListenerInner::Unix(l, guard),
                local: listen.clone(),
            })
        }
    }
}

impl BoundListener {
    /// What was bound (`ptcp:0` resolved to the real port).
    pub fn local(&self) -> &ListenTarget {
        &self.local
    }

    /// Serves the listener: every accepted stream runs [`run_connection`]
    /// (super::run_connection) in its own task, so aborting the returned
    /// handle stops accepting (and removes a unix socket file) without
    /// closing the connections already up. Stops by itself once the
    /// bridge's event channel is closed.
    pub fn spawn(
        self,
        kind: ConnKind,
        bridge_tx: mpsc::Sender<BridgeEvent>,
        ids: Arc<AtomicU64>,
        cfg: ConnConfig,
    ) -> JoinHandle<()> {
        let local = self.local;
        let inner = self.inner;
        tokio::spawn(async move {
            info!(listen = %local, "listening");
            match inner {
                ListenerInner::Tcp(l) => loop {
                    let accepted = tokio::select! {
                        a = l.accept() => a,
                        _ = bridge_tx.closed() => break,
                    };
                    match accepted {
                        Ok((s, addr)) => {
                            let _ = s.set_nodelay(true);
                            start(s, format!("tcp:{addr}"), kind, &bridge_tx, &ids, &cfg);
                        }
                        Err(e) => accept_failed(&local, e).await,
                    }
                },
                ListenerInner::Ssl(l, tls) => loop {
                    let accepted = tokio::select! {
                        a = l.accept() => a,
                        _ = bridge_tx.closed() => break,
                    };
                    match accepted {
                        Ok((s, addr)) => {
                            let _ = s.set_nodelay(true);
                            tokio::spawn(handshake_then_serve(
                                s,
                                addr,
                                local.clone(),
                                tls.clone(),
                                kind,
                                bridge_tx.clone(),
                                ids.clone(),
                                cfg.clone(),
                            ));
                        }
                        Err(e) => accept_failed(&local, e).await,
                    }
                },
                ListenerInner::Unix(l, guard) => loop {
                    let accepted = tokio::select! {
                        a = l.accept() => a,
                        _ = bridge_tx.closed() => break,
                    };
                    match accepted {
                        Ok((s, _)) => {
                            let peer = format!("unix:{}", guard.path.display());
                            start(s, peer, kind, &bridge_tx, &ids, &cfg);
                        }
                        Err(e) => accept_failed(&local, e).await,
                    }
                },
            }
            info!(listen = %local, "bridge stopped, no longer listening");
        })
    }
}

fn start<S: OfStream + 'static>(
    s: S,
    peer: String,
    kind: ConnKind,
    bridge_tx: &mpsc::Sender<BridgeEvent>,
    ids: &AtomicU64,
    cfg: &ConnConfig,
) {
    let id: ConnId = ids.fetch_add(1, Ordering::Relaxed);
    debug!(conn = id, peer = %peer, "accepted");
    tokio::spawn(serve(s, kind, peer, id, bridge_tx.clone(), cfg.clone()));
}

/// The server side of a `pssl:` connection: the TLS handshake (within the
/// HELLO timeout, so a silent peer cannot hold a task forever), then
/// OpenFlow. A refused peer is logged with the reason and never reaches the
/// bridge.
#[allow(clippy::too_many_arguments)]
async fn handshake_then_serve(
    s: tokio::net::TcpStream,
    addr: SocketAddr,
    local: ListenTarget,
    tls: Arc<TlsContext>,
    kind: ConnKind,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    ids: Arc<AtomicU64>,
    cfg: ConnConfig,
) {
    let peer = format!("ssl:{addr}");
    match tokio::time::timeout(cfg.hello_timeout, tls.accept(s)).await {
        Ok(Ok(stream)) => start(stream, peer, kind, &bridge_tx, &ids, &cfg),
        Ok(Err(e)) => {
            warn!(listen = %local, peer = %peer, "connection refused: {}", describe_handshake_error(&e))
        }
        Err(_) => warn!(
            listen = %local, peer = %peer,
            "connection refused: no TLS handshake within {:?}", cfg.hello_timeout
        ),
    }
}

async fn accept_failed(local: &ListenTarget, e: io::Error) {
    // EMFILE and friends: don't spin.
    warn!(listen = %local, "accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Binds and serves `listen` (see [`BoundListener::spawn`]); the bind happens
/// before this returns, so its error can fail a daemon's startup.
pub fn spawn_listener(
    listen: ListenTarget,
    kind: ConnKind,
    bridge_tx: mpsc::Sender<BridgeEvent>,
    ids: Arc<AtomicU64>,
) -> io::Result<JoinHandle<()>> {
    Ok(bind_listener(&listen)?.spawn(kind, bridge_tx, ids, ConnConfig::default()))
}

/// Removes the socket file when the listener goes, unless another process
/// has replaced it meanwhile (checked by device and inode).
struct SocketFileGuard {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFileGuard {
    fn drop(&mut self) {
        if let Ok(md) = std::fs::symlink_metadata(&self.path) {
            if md.dev() == self.dev && md.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Makes sure `path` is free for us: absent, or a socket nobody listens on.
fn check_socket_path(path: &Path) -> io::Result<()> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !md.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the path exists and is not a socket; not replacing it",
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "another process is listening on this socket",
        )),
        // Nobody listening: a stale socket from a crash, replaced below.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot tell whether the existing socket is in use: {e}"),
        )),
    }
}

/// Binds a unix socket at `path` with mode 0600.
///
/// The socket is bound inside a fresh 0700 directory next to `path`,
/// chmod'ed, then renamed over `path`: nobody can connect while the mode is
/// still the umask's, and a stale socket is replaced atomically. If that
/// route fails (e.g. the temporary path would exceed sun_path's 108 bytes),
/// falls back to unlink + bind + chmod.
fn bind_unix(path: &Path) -> io::Result<(std::os::unix::net::UnixListener, SocketFileGuard)> {
    check_socket_path(path)?;
    let l = match bind_via_private_dir(path) {
        Ok(l) => l,
        Err(e) => {
            debug!(path = %path.display(), "private-dir bind failed ({e}), binding in place");
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let l = std::os::unix::net::UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            l
        }
    };
    let md = std::fs::symlink_metadata(path)?;
    Ok((
        l,
        SocketFileGuard {
            path: path.to_path_buf(),
            dev: md.dev(),
            ino: md.ino(),
        },
    ))
}

fn bind_via_private_dir(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = parent.join(format!(
        ".tf{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let tmp = dir.join("s");
    let res = (|| {
        let l = std::os::unix::net::UnixListener::bind(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, path)?;
        Ok(l)
    })();
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_dir(&dir);
    res
}
