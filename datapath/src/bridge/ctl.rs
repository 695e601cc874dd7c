//! The control socket `RUNDIR/tapflowd.ctl`: what OpenFlow cannot say.
//!
//! A unix stream socket, mode 0600 (root only, like the `.mgmt` sockets).
//! The protocol is newline-delimited JSON: the client writes one request
//! object per line, the daemon answers each with one response object on one
//! line, in order; a connection may carry any number of requests. Every
//! response has `"ok"`: `true` with the result fields, or `false` with
//! `"error"`, a message for humans. Lines over 64 KiB are refused.
//!
//! | request | response on success |
//! |---|---|
//! | `{"cmd":"version"}` | `{"ok":true,"version":"0.1.0"}` |
//! | `{"cmd":"list-bridges"}` | `{"ok":true,"bridges":[{"name":"br0","datapath_id":"00000000000000aa","fail_mode":"secure","fail_open":false,"flows":3,"ports":[{"ofport":1,"name":"tap1","kind":"tap","link":"up"},{"ofport":"LOCAL","name":"br0","kind":"internal","link":"up"}],"connections":[{"id":4,"peer":"tcp:127.0.0.1:40022","kind":"primary","role":"equal"}]}]}` |
//! | `{"cmd":"add-port","bridge":"br0","port":"tap3"}` (optional `"ofport":3`) | `{"ok":true,"ofport":3}` |
//! | `{"cmd":"del-port","bridge":"br0","port":"tap3"}` (a name or a number) | `{"ok":true,"ofport":3}` |
//! | `{"cmd":"trace","bridge":"br0","flow":"in_port=1,icmp,nw_dst=10.10.10.12"}` | `{"ok":true,"bridge":"br0","flow":"in_port=1,icmp,nw_dst=10.10.10.12","key":"...","steps":[{"table_id":0,"flow":"priority=100,icmp,nw_dst=10.10.10.12 actions=output:2","cookie":"0x0","actions":["output:2"]}],"datapath_actions":"output:2","outputs":["2"]}` (a miss: `"flow":null`; `actions` are the data plane's notes for that table) |
//! | `{"cmd":"snoop","bridge":"br0"}` | `{"ok":true}`, then one `{"line":"TEXT"}` object per OpenFlow message to or from the bridge's connections, decoded as `ovs-ofctl ofp-print` would (`"tcp:127.0.0.1:40022 -> br0: OFPT_FLOW_MOD (OF1.3) (xid=0x5): ADD ..."`), until the client closes the connection |
//!
//! Failures look like `{"ok":false,"error":"no bridge named br9"}`.
//!
//! `trace` takes the flow in ovs-ofctl match syntax (`in_port` may be a port
//! name); the frame traced is the smallest one with the described header
//! fields. Echo requests/replies are answered by the connection tasks and
//! do not appear in `snoop`.

use super::openflow::{BridgeInfo, Command};
use crate::bridge::event::ConnKind;
use crate::config::FailMode;
use crate::dataplane::Trace;
use serde::Deserialize;
use serde_json::{json, Value};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// The socket's file name under the run directory.
pub const CTL_SOCKET: &str = "tapflowd.ctl";
/// Longest request line.
pub const MAX_LINE: usize = 64 * 1024;
/// Snoop lines buffered per client before lines are dropped.
const SNOOP_QUEUE: usize = 4096;

/// A request.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum CtlRequest {
    Version,
    ListBridges,
    AddPort {
        bridge: String,
        port: String,
        #[serde(default)]
        ofport: Option<u32>,
    },
    DelPort {
        bridge: String,
        port: String,
    },
    Trace {
        bridge: String,
        flow: String,
    },
    Snoop {
        bridge: String,
    },
}

/// Parses one request line.
pub fn parse_request(line: &str) -> Result<CtlRequest, String> {
    serde_json::from_str(line.trim()).map_err(|e| format!("bad request: {e}"))
}

fn fail(msg: impl Into<String>) -> Value {
    json!({"ok": false, "error": msg.into()})
}

/// A bridge as the control socket reaches it.
#[derive(Clone)]
pub struct CtlBridge {
    pub name: String,
    pub commands: mpsc::Sender<Command>,
}

fn find<'a>(bridges: &'a [CtlBridge], name: &str) -> Result<&'a CtlBridge, Value> {
    bridges
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| fail(format!("no bridge named {name}")))
}

async fn ask<T>(
    b: &CtlBridge,
    make: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, Value> {
    let (tx, rx) = oneshot::channel();
    b.commands
        .send(make(tx))
        .await
        .map_err(|_| fail(format!("bridge {} is stopping", b.name)))?;
    rx.await
        .map_err(|_| fail(format!("bridge {} did not answer", b.name)))
}

fn port_no(n: u32) -> Value {
    match ofproto::text::format_port(n) {
        s if s.parse::<u32>().is_ok() => json!(n),
        s => json!(s),
    }
}

/// `list-bridges` entry.
pub fn info_json(i: &BridgeInfo) -> Value {
    json!({
        "name": i.name,
        "datapath_id": format!("{:016x}", i.datapath_id),
        "fail_mode": match i.fail_mode { FailMode::Standalone => "standalone", FailMode::Secure => "secure" },
        "fail_open": i.fail_open,
        "flows": i.flows,
        "ports": i.ports.iter().map(|(n, name, kind, up)| json!({
            "ofport": port_no(*n),
            "name": name,
            "kind": kind.as_str(),
            "link": if *up { "up" } else { "down" },
        })).collect::<Vec<_>>(),
        "connections": i.connections.iter().map(|(id, peer, kind, role)| json!({
            "id": id,
            "peer": peer,
            "kind": match kind { ConnKind::Primary => "primary", ConnKind::Service => "service" },
            "role": match *role {
                ofproto::consts::OFPCR_ROLE_MASTER => "master",
                ofproto::consts::OFPCR_ROLE_SLAVE => "slave",
                _ => "equal",
            },
        })).collect::<Vec<_>>(),
    })
}

/// `trace` response for `flow` on `bridge`.
pub fn trace_json(bridge: &str, flow: &str, t: &Trace) -> Value {
    json!({
        "ok": true,
        "bridge": bridge,
        "flow": flow,
        "key": t.key,
        "steps": t.steps.iter().map(|s| json!({
            "table_id": s.table_id,
            "flow": s.flow,
            "cookie": format!("{:#x}", s.cookie),
            "actions": s.notes,
        })).collect::<Vec<_>>(),
        "datapath_actions": t.final_actions,
        "outputs": t.outputs,
    })
}

/// Answers one request (not `snoop`, which takes over the connection).
pub async fn handle(req: CtlRequest, bridges: &[CtlBridge]) -> Value {
    let r: Result<Value, Value> = async {
        match req {
            CtlRequest::Version => Ok(json!({"ok": true, "version": env!("CARGO_PKG_VERSION")})),
            CtlRequest::ListBridges => {
                let mut v = Vec::new();
                for b in bridges {
                    let info = ask(b, |reply| Command::Info { reply }).await?;
                    v.push(info_json(&info));
                }
                Ok(json!({"ok": true, "bridges": v}))
            }
            CtlRequest::AddPort {
                bridge,
                port,
                ofport,
            } => {
                let b = find(bridges, &bridge)?;
                let n = ask(b, |reply| Command::AddPort {
                    name: port,
                    ofport,
                    reply,
                })
                .await?
                .map_err(fail)?;
                Ok(json!({"ok": true, "ofport": port_no(n)}))
            }
            CtlRequest::DelPort { bridge, port } => {
                let b = find(bridges, &bridge)?;
                let n = ask(b, |reply| Command::DelPort { name: port, reply })
                    .await?
                    .map_err(fail)?;
                Ok(json!({"ok": true, "ofport": port_no(n)}))
            }
            CtlRequest::Trace { bridge, flow } => {
                let b = find(bridges, &bridge)?;
                let t = ask(b, |reply| Command::Trace {
                    flow: flow.clone(),
                    reply,
                })
                .await?
                .map_err(fail)?;
                Ok(trace_json(&bridge, &flow, &t))
            }
            CtlRequest::Snoop { .. } => Err(fail("snoop is handled by the connection")),
        }
    }
    .await;
    r.unwrap_or_else(|e| e)
}

/// Binds `path` mode 0600, replacing a stale socket (one nobody listens on);
/// refuses a path that is something else or in use.
pub fn bind(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    if let Ok(md) = std::fs::symlink_metadata(path) {
        if !md.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the path exists and is not a socket",
            ));
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another process is listening on it (is tapflowd already running?)",
                ))
            }
            Err(_) => std::fs::remove_file(path)?,
        }
    }
    let l = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// The running control socket.
pub struct CtlServer {
    task: JoinHandle<()>,
    path: PathBuf,
    ino: Option<(u64, u64)>,
}

impl CtlServer {
    /// Serves `listener` (from [`bind`], at `path`) for `bridges`.
    pub fn spawn(
        listener: std::os::unix::net::UnixListener,
        path: PathBuf,
        bridges: Vec<CtlBridge>,
    ) -> io::Result<CtlServer> {
        let ino = std::fs::symlink_metadata(&path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        let listener = UnixListener::from_std(listener)?;
        let bridges = Arc::new(bridges);
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((s, _)) => {
                        tokio::spawn(serve(s, bridges.clone()));
                    }
                    Err(e) => {
                        warn!("control socket accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(CtlServer { task, path, ino })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting and removes the socket file (if still ours).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        if let (Ok(md), Some((dev, ino))) = (std::fs::symlink_metadata(&self.path), self.ino) {
            if md.dev() == dev && md.ino() == ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Reads one line of at most [`MAX_LINE`] bytes; None at EOF.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = r
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "request line too long",
        ));
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

async fn write_json<W: tokio::io::AsyncWrite + Unpin>(w: &mut W, v: &Value) -> io::Result<()> {
    let mut s = v.to_string();
    s.push('\n');
    w.write_all(s.as_bytes()).await?;
    w.flush().await
}

async fn serve(s: UnixStream, bridges: Arc<Vec<CtlBridge>>) {
    let (rd, mut wr) = s.into_split();
    let mut rd = BufReader::new(rd);
    loop {
        let line = match read_line(&mut rd).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                let _ = write_json(&mut wr, &fail(e.to_string())).await;
                return;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let req = match parse_request(&line) {
            Ok(r) => r,
            Err(e) => {
                if write_json(&mut wr, &fail(e)).await.is_err() {
                    return;
                }
                continue;
            }
        };
        debug!("control request: {req:?}");
        if let CtlRequest::Snoop { bridge } = req {
            snoop(&bridge, &bridges, rd, wr).await;
            return;
        }
        let resp = handle(req, &bridges).await;
        if write_json(&mut wr, &resp).await.is_err() {
            return;
        }
    }
}

async fn snoop(
    bridge: &str,
    bridges: &[CtlBridge],
    mut rd: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut wr: tokio::net::unix::OwnedWriteHalf,
) {
    let b = match find(bridges, bridge) {
        Ok(b) => b,
        Err(v) => {
            let _ = write_json(&mut wr, &v).await;
            return;
        }
    };
    let (tx, mut rx) = mpsc::channel(SNOOP_QUEUE);
    if b.commands.send(Command::Snoop { tx }).await.is_err() {
        let _ = write_json(&mut wr, &fail(format!("bridge {bridge} is stopping"))).await;
        return;
    }
    if write_json(&mut wr, &json!({"ok": true})).await.is_err() {
        return;
    }
    let mut sink = [0u8; 512];
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(l) => {
                    if write_json(&mut wr, &json!({"line": l})).await.is_err() {
                        return;
                    }
                }
                None => return, // bridge gone
            },
            n = rd.read(&mut sink) => match n {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // anything the client writes now is ignored
            },
        }
    }
}

/// A blocking client for the CLI and tests: one request, one response.
pub fn call(path: &Path, req: &Value) -> io::Result<Value> {
    use std::io::{BufRead, Write};
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    let mut line = req.to_string();
    line.push('\n');
    s.write_all(line.as_bytes())?;
    let mut r = std::io::BufReader::new(s);
    let mut resp = String::new();
    r.read_line(&mut resp)?;
    serde_json::from_str(&resp).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(
            parse_request(r#"{"cmd":"version"}"#).unwrap(),
            CtlRequest::Version
        );
        assert_eq!(
            parse_request(r#"{"cmd":"list-bridges"}"#).unwrap(),
            CtlRequest::ListBridges
        );
        assert_eq!(
            parse_request(r#" {"cmd":"add-port","bridge":"br0","port":"tap3","ofport":3}"#)
                .unwrap(),
            CtlRequest::AddPort {
                bridge: "br0".into(),
                port: "tap3".into(),
                ofport: Some(3)
            }
        );
        assert_eq!(
            parse_request(r#"{"cmd":"add-port","bridge":"br0","port":"tap3"}"#).unwrap(),
            CtlRequest::AddPort {
                bridge: "br0".into(),
                port: "tap3".into(),
                ofport: None
            }
        );
        assert_eq!(
            parse_request(r#"{"cmd":"trace","bridge":"br0","flow":"in_port=1,icmp"}"#).unwrap(),
            CtlRequest::Trace {
                bridge: "br0".into(),
                flow: "in_port=1,icmp".into()
            }
        );
        for bad in [
            "",
            "{}",
            r#"{"cmd":"frobnicate"}"#,
            r#"{"cmd":"add-port","bridge":"br0"}"#,
            r#"{"cmd":"add-port","bridge":"br0","port":"x","ofport":-1}"#,
            "not json",
        ] {
            let e = parse_request(bad).unwrap_err();
            assert!(e.starts_with("bad request"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn unknown_bridge_and_version() {
        let v = handle(CtlRequest::Version, &[]).await;
        assert_eq!(v["ok"], true);
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        let v = handle(
            CtlRequest::DelPort {
                bridge: "br9".into(),
                port: "x".into(),
            },
            &[],
        )
        .await;
        assert_eq!(v, json!({"ok": false, "error": "no bridge named br9"}));
    }

    #[tokio::test]
    async fn add_port_goes_to_the_bridge_and_errors_come_back() {
        let (tx, mut rx) = mpsc::channel(4);
        let bridges = vec![CtlBridge {
            name: "br0".into(),
            commands: tx,
        }];
        let fake = tokio::spawn(async move {
            while let Some(c) = rx.recv().await {
                match c {
                    Command::AddPort {
                        name,
                        ofport,
                        reply,
                    } => {
                        let _ = reply.send(if name == "bad" {
                            Err("port bad: cannot create TAP: Operation not permitted".into())
                        } else {
                            Ok(ofport.unwrap_or(5))
                        });
                    }
                    _ => unreachable!(),
                }
            }
        });
        let ok = handle(
            CtlRequest::AddPort {
                bridge: "br0".into(),
                port: "tap3".into(),
                ofport: None,
            },
            &bridges,
        )
        .await;
        assert_eq!(ok, json!({"ok": true, "ofport": 5}));
        let e = handle(
            CtlRequest::AddPort {
                bridge: "br0".into(),
                port: "bad".into(),
                ofport: None,
            },
            &bridges,
        )
        .await;
        assert_eq!(e["ok"], false);
        assert!(e["error"]
            .as_str()
            .unwrap()
            .contains("Operation not permitted"));
        drop(bridges);
        fake.await.unwrap();
    }

    #[test]
    fn stale_socket_is_replaced_and_a_live_one_refused() {
        let dir = std::env::temp_dir().join(format!("tapflow-ctl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(CTL_SOCKET);
        {
            let _stale = std::os::unix::net::UnixListener::bind(&p).unwrap();
        } // closed: the file stays behind, nobody listens
        let l = bind(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = bind(&p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        drop(l);
        std::fs::write(dir.join("file"), b"x").unwrap();
        assert!(bind(&dir.join("file")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
