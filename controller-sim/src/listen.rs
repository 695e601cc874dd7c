//! Where switches come from: passive listeners (`ptcp:PORT[:IP]`,
//! `punix:PATH`) accept switch connections, active targets (`tcp:HOST:PORT`,
//! `unix:PATH`: a switch's passive listener) are dialed and redialed with
//! backoff. Every connection gets its own switch task.
//!
//! `ptcp:` listens on 127.0.0.1 unless an address is given, as tapflowd
//! does: a controller that programs a host's switch has no business being
//! reachable from elsewhere unless told (`ptcp:6653:0.0.0.0`).

use crate::switch::{self, Shared};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tracing::{info, warn};

/// The IANA OpenFlow port.
pub const DEFAULT_OFP_PORT: u16 = 6653;
/// Redial backoff: first wait, doubling up to the maximum (as OVS).
pub const BACKOFF_MIN: Duration = Duration::from_secs(1);
pub const BACKOFF_MAX: Duration = Duration::from_secs(8);

/// Where to listen for switches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A switch to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectAddr {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// `[::1]` → `::1`; anything else as is.
fn unbracket(s: &str) -> &str {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s)
}

fn port_of(s: &str, what: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .map_err(|_| format!("{what}: {s:?} is not a port number"))
}

impl FromStr for ListenAddr {
    type Err = String;

    /// `ptcp:[PORT][:IP]` or `punix:PATH`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("punix:") {
            if path.is_empty() {
                return Err(format!("{s}: punix: needs a path"));
            }
            return Ok(ListenAddr::Unix(path.into()));
        }
        let Some(rest) = s.strip_prefix("ptcp:") else {
            return Err(format!(
                "{s}: expected ptcp:PORT[:IP] or punix:PATH to listen on"
            ));
        };
        let (port, ip) = match rest.split_once(':') {
            Some((p, ip)) => (p, Some(unbracket(ip))),
            None => (rest, None),
        };
        let port = if port.is_empty() {
            DEFAULT_OFP_PORT
        } else {
            port_of(port, s)?
        };
        let ip = match ip {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(ip) => ip
                .parse()
                .map_err(|_| format!("{s}: {ip:?} is not an IP address"))?,
        };
        Ok(ListenAddr::Tcp(SocketAddr::new(ip, port)))
    }
}

impl FromStr for ConnectAddr {
    type Err = String;

    /// `tcp:HOST[:PORT]` (IPv6 in brackets) or `unix:PATH`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(format!("{s}: unix: needs a path"));
            }
            return Ok(ConnectAddr::Unix(path.into()));
        }
        let Some(rest) = s.strip_prefix("tcp:") else {
            return Err(format!(
                "{s}: expected tcp:HOST:PORT or unix:PATH to connect to"
            ));
        };
        let (host, port) = if let Some(after) = rest.strip_prefix('[') {
            let (h, tail) = after
                .split_once(']')
                .ok_or_else(|| format!("{s}: unclosed '['"))?;
            match tail.strip_prefix(':') {
                Some(p) => (h, port_of(p, s)?),
                None if tail.is_empty() => (h, DEFAULT_OFP_PORT),
                None => return Err(format!("{s}: unexpected {tail:?} after the address")),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p, s)?),
                None => (rest, DEFAULT_OFP_PORT),
            }
        };
        if host.is_empty() {
            return Err(format!("{s}: tcp: needs a host"));
        }
        Ok(ConnectAddr::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

/// A bound listener.
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds now, so a bad address fails the start with a clear message.
    /// A leftover unix socket file is replaced.
    pub async fn bind(addr: &ListenAddr) -> Result<Listener, String> {
        match addr {
            ListenAddr::Tcp(a) => TcpListener::bind(a)
                .await
                .map(Listener::Tcp)
                .map_err(|e| format!("listen ptcp:{}:{}: {e}", a.port(), a.ip())),
            ListenAddr::Unix(p) => {
                if std::os::unix::net::UnixStream::connect(p).is_ok() {
                    return Err(format!(
                        "listen punix:{}: another process listens there",
                        p.display()
                    ));
                }
                let _ = std::fs::remove_file(p);
                UnixListener::bind(p)
                    .map(|l| Listener::Unix(l, p.clone()))
                    .map_err(|e| format!("listen punix:{}: {e}", p.display()))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => format!("ptcp:{}:{}", a.port(), a.ip()),
                Err(_) => "ptcp:?".into(),
            },
            Listener::Unix(_, p) => format!("punix:{}", p.display()),
        }
    }

    /// Accepts switches forever, one task each.
    pub async fn serve(self, shared: Shared) {
        let me = self.describe();
        info!("listening for switches on {me}");
        loop {
            let accepted = match &self {
                Listener::Tcp(l) => l.accept().await.map(|(s, peer)| {
                    let _ = s.set_nodelay(true);
                    let shared = shared.clone();
                    let peer = format!("tcp:{peer}");
                    tokio::spawn(async move { run_switch(s, peer, shared).await })
                }),
                Listener::Unix(l, p) => l.accept().await.map(|(s, _)| {
                    let shared = shared.clone();
                    let peer = format!("punix:{}", p.display());
                    tokio::spawn(async move { run_switch(s, peer, shared).await })
                }),
            };
            if let Err(e) = accepted {
                warn!("{me}: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn run_switch<S>(stream: S, peer: String, shared: Shared) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    info!("switch connection: {peer}");
    let ended = switch::serve(stream, &peer, shared).await;
    if !ended.handshaken {
        warn!("{peer}: handshake failed: {}", ended.reason);
    }
    ended.handshaken
}

/// Dials `addr` forever: after a connection ends or fails, waits (1 s
/// doubling to 8 s; back to 1 s after a connection that got through the
/// handshake) and dials again.
pub async fn dial(addr: ConnectAddr, shared: Shared) {
    let name = match &addr {
        ConnectAddr::Tcp { host, port } if host.contains(':') => format!("tcp:[{host}]:{port}"),
        ConnectAddr::Tcp { host, port } => format!("tcp:{host}:{port}"),
        ConnectAddr::Unix(p) => format!("unix:{}", p.display()),
    };
    let mut backoff = BACKOFF_MIN;
    let mut quiet = false;
    loop {
        let handshaken = match &addr {
            ConnectAddr::Tcp { host, port } => {
                match TcpStream::connect((host.as_str(), *port)).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        quiet = false;
                        run_switch(s, name.clone(), shared.clone()).await
                    }
                    Err(e) => {
                        if !quiet {
                            warn!("{name}: connect: {e} (retrying)");
                        }
                        quiet = true;
                        false
                    }
                }
            }
            ConnectAddr::Unix(p) => match UnixStream::connect(p).await {
                Ok(s) => {
                    quiet = false;
                    run_switch(s, name.clone(), shared.clone()).await
                }
                Err(e) => {
                    if !quiet {
                        warn!("{name}: connect: {e} (retrying)");
                    }
                    quiet = true;
                    false
                }
            },
        };
        if handshaken {
            backoff = BACKOFF_MIN;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        let l = |s: &str| s.parse::<ListenAddr>();
        assert_eq!(
            l("ptcp:6653"),
            Ok(ListenAddr::Tcp("127.0.0.1:6653".parse().unwrap()))
        );
        assert_eq!(
            l("ptcp:6000:0.0.0.0"),
            Ok(ListenAddr::Tcp("0.0.0.0:6000".parse().unwrap()))
        );
        assert_eq!(
            l("ptcp:6000:[::1]"),
            Ok(ListenAddr::Tcp("[::1]:6000".parse().unwrap()))
        );
        assert_eq!(
            l("ptcp:"),
            Ok(ListenAddr::Tcp("127.0.0.1:6653".parse().unwrap()))
        );
        assert_eq!(
            l("punix:/run/x.sock"),
            Ok(ListenAddr::Unix("/run/x.sock".into()))
        );
        assert!(l("ptcp:99999").unwrap_err().contains("not a port number"));
        assert!(l("tcp:1.2.3.4:5").unwrap_err().contains("expected ptcp:"));
        assert!(l("ptcp:1:nohost")
            .unwrap_err()
            .contains("not an IP address"));
    }

    #[test]
    fn connect_addresses() {
        let c = |s: &str| s.parse::<ConnectAddr>();
        assert_eq!(
            c("tcp:127.0.0.1:6634"),
            Ok(ConnectAddr::Tcp {
                host: "127.0.0.1".into(),
                port: 6634
            })
        );
        assert_eq!(
            c("tcp:[::1]:6634"),
            Ok(ConnectAddr::Tcp {
                host: "::1".into(),
                port: 6634
            })
        );
        assert_eq!(
            c("tcp:switch1"),
            Ok(ConnectAddr::Tcp {
                host: "switch1".into(),
                port: 6653
            })
        );
        assert_eq!(
            c("unix:/run/br0.mgmt"),
            Ok(ConnectAddr::Unix("/run/br0.mgmt".into()))
        );
        assert!(c("ptcp:6653").unwrap_err().contains("expected tcp:"));
        assert!(c("tcp::6653").unwrap_err().contains("needs a host"));
        assert!(c("tcp:h:x").unwrap_err().contains("not a port number"));
    }
}
