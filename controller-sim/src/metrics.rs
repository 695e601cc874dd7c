//! The controller's counters and their Prometheus text exposition at
//! `/metrics`, served by a tiny HTTP/1.x responder: one request head per
//! connection (at most [`MAX_HEAD`] bytes within [`READ_TIMEOUT`]), one
//! response, `Connection: close`. `GET`/`HEAD /metrics` → 200; another
//! method there → 405; any other path → 404; an unreadable head → 400.
//! A framework would be larger than this whole file for one route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tracing::{debug, info};

/// What Prometheus expects of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const MAX_HEAD: usize = 8 * 1024;
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Every number the controller exports. Shared by all tasks; counters are
/// atomics, the per-switch convergence times sit behind a mutex held only to
/// copy them.
#[derive(Debug, Default)]
pub struct Metrics {
    pub switches_connected: AtomicI64,
    pub flows_installed: AtomicU64,
    pub flows_removed: AtomicU64,
    pub packet_in: AtomicU64,
    pub packet_out: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_error: AtomicU64,
    /// Last convergence duration per datapath id, for connected switches.
    convergence: Mutex<BTreeMap<u64, Duration>>,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    pub fn flows_installed(&self, n: u64) {
        add(&self.flows_installed, n);
    }

    pub fn flows_removed(&self, n: u64) {
        add(&self.flows_removed, n);
    }

    pub fn packet_in(&self) {
        add(&self.packet_in, 1);
    }

    pub fn packet_out(&self) {
        add(&self.packet_out, 1);
    }

    pub fn reload(&self, ok: bool) {
        add(
            if ok {
                &self.reloads_ok
            } else {
                &self.reloads_error
            },
            1,
        );
    }

    pub fn converged(&self, dpid: u64, took: Duration) {
        self.convergence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dpid, took);
    }

    /// A switch connected; the returned guard counts it until dropped.
    pub fn switch_connected(self: &Arc<Self>, dpid: u64) -> SwitchGuard {
        self.switches_connected.fetch_add(1, Ordering::Relaxed);
        SwitchGuard {
            metrics: Arc::clone(self),
            dpid,
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(2048);
        let mut one = |name: &str, kind: &str, help: &str, value: String| {
            let _ = write!(
                s,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed).to_string();
        one(
            "tapflow_controller_switches_connected",
            "gauge",
            "Switches connected (past the OpenFlow handshake).",
            self.switches_connected.load(Ordering::Relaxed).to_string(),
        );
        one(
            "tapflow_controller_flows_installed_total",
            "counter",
            "Flows the controller added (convergence and learning).",
            get(&self.flows_installed),
        );
        one(
            "tapflow_controller_flows_removed_total",
            "counter",
            "Flows the controller deleted or replaced during convergence.",
            get(&self.flows_removed),
        );
        one(
            "tapflow_controller_packet_in_total",
            "counter",
            "PACKET_IN messages received.",
            get(&self.packet_in),
        );
        one(
            "tapflow_controller_packet_out_total",
            "counter",
            "PACKET_OUT messages sent.",
            get(&self.packet_out),
        );
        let _ = write!(
            s,
            "# HELP tapflow_controller_convergence_seconds Duration of the last convergence \
             (trigger to BARRIER_REPLY), per connected switch.\n\
             # TYPE tapflow_controller_convergence_seconds gauge\n"
        );
        let conv = self
            .convergence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (dpid, took) in conv {
            let _ = writeln!(
                s,
                "tapflow_controller_convergence_seconds{{datapath_id=\"{dpid:016x}\"}} {}",
                took.as_secs_f64()
            );
        }
        let _ = write!(
            s,
            "# HELP tapflow_controller_reloads_total Reloads of the network description, by result.\n\
             # TYPE tapflow_controller_reloads_total counter\n\
             tapflow_controller_reloads_total{{result=\"ok\"}} {}\n\
             tapflow_controller_reloads_total{{result=\"error\"}} {}\n",
            get(&self.reloads_ok),
            get(&self.reloads_error)
        );
        s
    }
}

/// Counts one connected switch; dropping it uncounts the switch and its
/// convergence series.
#[derive(Debug)]
pub struct SwitchGuard {
    metrics: Arc<Metrics>,
    dpid: u64,
}

impl Drop for SwitchGuard {
    fn drop(&mut self) {
        self.metrics
            .switches_connected
            .fetch_sub(1, Ordering::Relaxed);
        // Another connection from the same datapath may still be up; its
        // next convergence puts the series back.
        self.metrics
            .convergence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.dpid);
    }
}

/// Binds the endpoint (errors name the address).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("metrics {addr}: {e}"))
}

/// Serves `/metrics` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    if let Ok(a) = listener.local_addr() {
        info!("metrics endpoint: http://{a}/metrics");
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let m = Arc::clone(&metrics);
                tokio::spawn(async move {
                    if let Err(e) = respond(stream, &m).await {
                        debug!("metrics {peer}: {e}");
                    }
                });
            }
            Err(e) => {
                // Out of fds and the like: wait instead of spinning.
                debug!("metrics accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads a request head: up to the blank line, or `None` if the client
/// closed, was too slow or sent too much.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                return Some(());
            }
            if head.len() > MAX_HEAD {
                return None;
            }
        }
    };
    timeout(READ_TIMEOUT, read).await.ok().flatten()?;
    Some(head)
}

/// Status line, extra headers and body for a request line.
fn route(request_line: &str, metrics: &Metrics) -> (&'static str, &'static str, String, bool) {
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return ("400 Bad Request", "", "bad request line\n".into(), false);
    };
    if !version.starts_with("HTTP/1.") {
        return ("400 Bad Request", "", "HTTP/1.x only\n".into(), false);
    }
    let path = target.split('?').next().unwrap_or(target);
    if path != "/metrics" {
        return ("404 Not Found", "", "try /metrics\n".into(), false);
    }
    match method {
        "GET" => ("200 OK", "", metrics.render(), false),
        "HEAD" => ("200 OK", "", metrics.render(), true),
        _ => (
            "405 Method Not Allowed",
            "Allow: GET, HEAD\r\n",
            "GET or HEAD\n".into(),
            false,
        ),
    }
}

async fn respond(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let (status, extra, body, head_only) = match read_head(&mut stream).await {
        Some(head) => {
            let text = String::from_utf8_lossy(&head);
            let line = text.lines().next().unwrap_or("");
            route(line, metrics)
        }
        None => ("400 Bad Request", "", "no request\n".into(), false),
    };
    let ctype = if status.starts_with("200") {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    timeout(WRITE_TIMEOUT, async {
        stream.write_all(out.as_bytes()).await?;
        stream.shutdown().await
    })
    .await
    .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_has_every_series_with_help_and_type() {
        let m = Metrics::new();
        let g = m.switch_connected(1);
        m.flows_installed(5);
        m.flows_removed(2);
        m.packet_in();
        m.packet_out();
        m.reload(false);
        m.converged(1, Duration::from_micros(2500));
        let text = m.render();
        for line in [
            "tapflow_controller_switches_connected 1",
            "tapflow_controller_flows_installed_total 5",
            "tapflow_controller_flows_removed_total 2",
            "tapflow_controller_packet_in_total 1",
            "tapflow_controller_packet_out_total 1",
            "tapflow_controller_convergence_seconds{datapath_id=\"0000000000000001\"} 0.0025",
            "tapflow_controller_reloads_total{result=\"ok\"} 0",
            "tapflow_controller_reloads_total{result=\"error\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
        }
        // Every sample's family has HELP and TYPE before it.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        }
        drop(g);
        let text = m.render();
        assert!(text.contains("tapflow_controller_switches_connected 0"));
        assert!(
            !text.contains("datapath_id="),
            "gone with its switch:\n{text}"
        );
    }

    #[test]
    fn routes() {
        let m = Metrics::default();
        assert_eq!(route("GET /metrics HTTP/1.1", &m).0, "200 OK");
        assert_eq!(route("GET /metrics?x=1 HTTP/1.0", &m).0, "200 OK");
        assert!(route("HEAD /metrics HTTP/1.1", &m).3);
        assert_eq!(
            route("POST /metrics HTTP/1.1", &m).0,
            "405 Method Not Allowed"
        );
        assert_eq!(route("GET / HTTP/1.1", &m).0, "404 Not Found");
        assert_eq!(route("GET", &m).0, "400 Bad Request");
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let m = Metrics::new();
        m.packet_in();
        let l = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(serve(l, Arc::clone(&m)));
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut resp = String::new();
        c.read_to_string(&mut resp).await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(resp.contains("tapflow_controller_packet_in_total 1\n"));
        server.abort();
    }
}
