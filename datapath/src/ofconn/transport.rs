//! OVS-style connection targets and the tasks that serve them.
//!
//! Active (we connect): `tcp:HOST[:PORT]` (IP literal or host name; IPv6 in
//! brackets, `tcp:[::1]:6653`; default port 6653) and `unix:PATH`.
//! [`spawn_active`] reconnects forever with exponential backoff (1 s doubling
//! to 8 s, as OVS), reset once a connection gets through HELLO negotiation.
//!
//! Passive (we listen): `ptcp:[PORT][:IP]` (default port 6653, default IP
//! 127.0.0.1 — note OVS's default is all addresses; we only listen wider when
//! told; IPv6 as `ptcp:6653:[::1]`) and `punix:PATH`. [`spawn_listener`] binds
//! synchronously so that a daemon fails its startup with a clear message; a
//! unix socket is created with mode 0600, a stale socket file left by a crash
//! is replaced, and a socket another live process listens on is refused.

use super::conn::{serve, ConnConfig};
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

/// Where to connect: `tcp:HOST[:PORT]` or `unix:PATH`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `host` is a name or an IP literal (IPv6 without brackets).
    Tcp {
        host: String,
        port: u16,
    },
    Unix(PathBuf),
}

/// Where to listen: `ptcp:[PORT][:IP]` or `punix:PATH`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListenTarget {
    Tcp(SocketAddr),
    Unix(PathBuf),
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
            "expected TYPE:ARGS, e.g. tcp:127.0.0.1:6653, unix:/run/tapflow/br0.mgmt",
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
            "unix" => Ok(Target::Unix(parse_path(rest).map_err(|r| bad(s, r))?)),
            "ptcp" | "punix" | "pssl" => Err(bad(
                s,
                format!(
                    "'{scheme}:' is a listening target; connect with tcp:HOST[:PORT] or unix:PATH"
                ),
            )),
            "ssl" => Err(bad(s, "ssl: is not supported yet")),
            _ => Err(bad(
                s,
                format!("unknown connection type '{scheme}' (expected tcp: or unix:)"),
            )),
        }
    }
}

impl FromStr for ListenTarget {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, TargetError> {
        let (scheme, rest) = split_scheme(s)?;
        match scheme {
            "ptcp" => {
                // The port has no ':', so everything after the first ':' is
                // the address (brackets optional for IPv6).
                let (port_s, ip_s) = match rest.split_once(':') {
                    Some((p, ip)) => (p, ip),
                    None => (rest, ""),
                };
                let port = if port_s.is_empty() {
                    DEFAULT_OFP_PORT
                } else {
                    parse_port(port_s).map_err(|r| bad(s, r))?
                };
                let ip = if ip_s.is_empty() {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    let bare = ip_s
                        .strip_prefix('[')
                        .and_then(|x| x.strip_suffix(']'))
                        .unwrap_or(ip_s);
                    bare.parse::<IpAddr>().map_err(|_| {
                        bad(
                            s,
                            format!("'{ip_s}' is not an IP address (ptcp: takes an address to listen on, not a host name)"),
                        )
                    })?
                };
                Ok(ListenTarget::Tcp(SocketAddr::new(ip, port)))
            }
            "punix" => Ok(ListenTarget::Unix(parse_path(rest).map_err(|r| bad(s, r))?)),
            "tcp" | "unix" | "ssl" => Err(bad(
                s,
                format!(
                    "'{scheme}:' is an active target; listen with ptcp:[PORT][:IP] or punix:PATH"
                ),
            )),
            "pssl" => Err(bad(s, "pssl: is not supported yet")),
            _ => Err(bad(
                s,
                format!("unknown listening type '{scheme}' (expected ptcp: or punix:)"),
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl fmt::Display for ListenTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenTarget::Tcp(SocketAddr::V4(a)) => write!(f, "ptcp:{}:{}", a.port(), a.ip()),
            ListenTarget::Tcp(SocketAddr::V6(a)) => write!(f, "ptcp:{}:[{}]", a.port(), a.ip()),
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

/// Opens a stream to `target` (no OpenFlow yet). TCP gets TCP_NODELAY:
/// OpenFlow is request/response with small messages.
/// Errors name the target: `tcp:10.0.0.1:6653: Connection refused (os error 111)`.
pub async fn connect(target: &Target) -> io::Result<Box<dyn OfStream>> {
    match target {
        Target::Tcp { host, port } => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| with_context(e, target))?;
            let _ = s.set_nodelay(true);
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
    tokio::spawn(async move {
        let mut backoff = Backoff::new(cfg.backoff_min, cfg.backoff_max);
        let mut failures = 0u32;
        loop {
            if bridge_tx.is_closed() {
                info!(remote = %target, "bridge stopped, no more connection attempts");
                return;
            }
            match tokio::time::timeout(cfg.connect_timeout, connect(&target)).await {
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
    Unix(tokio::net::UnixListener, SocketFileGuard),
}

impl fmt::Debug for BoundListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoundListener({})", self.local)
    }
}

/// Binds `listen` now (must run inside a tokio runtime). Errors say what
/// could not be listened on and why.
pub fn bind_listener(listen: &ListenTarget) -> io::Result<BoundListener> {
    match listen {
        ListenTarget::Tcp(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|e| with_context(e, format_args!("cannot listen on {listen}")))?;
            l.set_nonblocking(true)?;
            let local = ListenTarget::Tcp(l.local_addr()?);
            let l = tokio::net::TcpListener::from_std(l)?;
            Ok(BoundListener {
                inner: ListenerInner::Tcp(l),
                local,
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
