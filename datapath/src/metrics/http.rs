//! The `/metrics` HTTP endpoint: a deliberately tiny HTTP/1.x server on
//! tokio. Each connection sends one request head (request line + headers,
//! at most [`MAX_REQUEST_HEAD`] bytes, within [`READ_TIMEOUT`]), gets one
//! response with `Connection: close`, and is closed. Request bodies are
//! never read (nothing here accepts one).
//!
//! - `GET /metrics` (a query string is ignored) → 200, Prometheus text
//!   with content type [`CONTENT_TYPE`]; `HEAD` → the same headers.
//! - Any other path → 404; another method on `/metrics` → 405 with `Allow`.
//! - Malformed request line → 400; head too large → 431; too slow → 408.
//!
//! At most [`MAX_CONNECTIONS`] connections are served at once; further
//! ones wait in the kernel's accept queue. Why not hyper/axum: one route,
//! one method, no keep-alive, no body — the whole server is smaller than
//! the code that would configure a framework, and adds no dependency.

use super::expo;
use super::select::FlowSelect;
use super::snapshot::BridgeMetrics;
use crate::bridge::openflow::Command;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{timeout, timeout_at, Instant};
use tracing::{debug, info, warn};

/// Exactly what Prometheus expects of the text format (Prometheus 3
/// refuses a scrape whose content type it cannot tell).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The longest request head read; longer → 431.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Time a client has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to take the response.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Time the bridges have to answer a scrape (Prometheus' default scrape
/// timeout is 10 s).
pub const BRIDGE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;

/// Binds the endpoint's socket. `addr` is `HOST:PORT` (`127.0.0.1:9310`,
/// `[::1]:9310`, `localhost:9310`); errors name it:
/// `metrics 127.0.0.1:9310: address already in use`.
pub async fn bind(addr: &str) -> Result<TcpListener, String> {
    let well_formed = addr
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if !well_formed {
        return Err(format!(
            "metrics {addr}: expected HOST:PORT (e.g. 127.0.0.1:9310)"
        ));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("metrics {addr}: {}", phrase(&e)))
}

/// `Address already in use (os error 98)` → `address already in use`.
fn phrase(e: &std::io::Error) -> String {
    let s = crate::bridge::ports::io_phrase(e);
    let mut c = s.chars();
    match (c.next(), c.clone().next()) {
        (Some(f), Some(g)) if f.is_uppercase() && g.is_lowercase() => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s,
    }
}

/// A bridge the endpoint asks for numbers.
#[derive(Clone, Debug)]
pub struct BridgeSource {
    pub name: String,
    pub commands: mpsc::Sender<Command>,
}

/// Collects every bridge's [`BridgeMetrics`] and renders them.
#[derive(Clone, Debug)]
pub struct Scraper {
    bridges: Arc<Vec<BridgeSource>>,
    flows: Arc<FlowSelect>,
    timeout: Duration,
}

impl Scraper {
    pub fn new(bridges: Vec<BridgeSource>, flows: FlowSelect) -> Scraper {
        Scraper {
            bridges: Arc::new(bridges),
            flows: Arc::new(flows),
            timeout: BRIDGE_TIMEOUT,
        }
    }

    /// Asks every bridge at once (each owner task answers from its own
    /// state, so bridges do not wait on each other); a bridge that does not
    /// answer within the timeout is reported as `tapflow_bridge_up 0`.
    pub async fn collect(&self) -> (Vec<BridgeMetrics>, Vec<String>) {
        let deadline = Instant::now() + self.timeout;
        let mut waiting = Vec::with_capacity(self.bridges.len());
        for b in self.bridges.iter() {
            let (tx, rx) = oneshot::channel();
            let cmd = Command::Metrics {
                flows: Arc::clone(&self.flows),
                reply: tx,
            };
            let sent = matches!(timeout_at(deadline, b.commands.send(cmd)).await, Ok(Ok(())));
            waiting.push((b, sent.then_some(rx)));
        }
        let (mut got, mut silent) = (Vec::new(), Vec::new());
        for (b, rx) in waiting {
            let answer = match rx {
                Some(rx) => timeout_at(deadline, rx).await.ok().and_then(Result::ok),
                None => None,
            };
            match answer {
                Some(m) => got.push(m),
                None => {
                    warn!(bridge = %b.name, "metrics: the bridge did not answer in time");
                    silent.push(b.name.clone());
                }
            }
        }
        (got, silent)
    }

    /// The `/metrics` body. Rendering (which formats per-flow matches when
    /// flows are opted in) runs on the blocking pool, not on the runtime's
    /// few worker threads.
    pub async fn scrape(&self) -> String {
        let (mut got, silent) = self.collect().await;
        tokio::task::spawn_blocking(move || {
            for b in &mut got {
                super::select::sort_flows(&mut b.flows);
            }
            expo::render(&got, &silent)
        })
        .await
        .unwrap_or_default()
    }
}

/// The running endpoint; [`MetricsServer::stop`] (or dropping it) closes
/// the socket and every connection.
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    pub fn spawn(listener: TcpListener, scraper: Scraper) -> MetricsServer {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        info!("metrics endpoint: http://{addr}/metrics");
        MetricsServer {
            addr,
            task: tokio::spawn(serve(listener, scraper)),
        }
    }

    /// The bound address (`:0` resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, scraper: Scraper) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Aborting this task drops the set, which aborts every connection.
    let mut conns = JoinSet::new();
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        while conns.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, peer)) => {
                let scraper = scraper.clone();
                conns.spawn(async move {
                    let _permit = permit;
                    handle(stream, peer, &scraper).await;
                });
            }
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                warn!("metrics: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What the request head asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Metrics { head_only: bool },
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

/// Routes a request head (`GET /metrics HTTP/1.1\r\nHost: …`).
pub fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        return Route::BadRequest;
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if method.is_empty() || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Route::BadRequest;
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if path != "/metrics" {
        return Route::NotFound;
    }
    match method {
        "GET" => Route::Metrics { head_only: false },
        "HEAD" => Route::Metrics { head_only: true },
        _ => Route::MethodNotAllowed,
    }
}

enum HeadError {
    TooLarge,
    Closed,
}

/// Reads until the blank line that ends the head; returns its length.
async fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, HeadError> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = head_end(buf) {
            return Ok(end);
        }
        if buf.len() >= MAX_REQUEST_HEAD {
            return Err(HeadError::TooLarge);
        }
        let want = chunk.len().min(MAX_REQUEST_HEAD - buf.len());
        match s.read(&mut chunk[..want]).await {
            Ok(0) | Err(_) => return Err(HeadError::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The end of `\r\n\r\n` (or a bare `\n\n`), if present.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
}

async fn handle(mut s: TcpStream, peer: SocketAddr, scraper: &Scraper) {
    let mut buf = Vec::with_capacity(512);
    let head = timeout(READ_TIMEOUT, read_head(&mut s, &mut buf)).await;
    let route = match head {
        Ok(Ok(n)) => route(&buf[..n]),
        Ok(Err(HeadError::Closed)) => return,
        Ok(Err(HeadError::TooLarge)) => {
            let _ = respond(
                &mut s,
                "431 Request Header Fields Too Large",
                "",
                "request head too large\n",
                false,
            )
            .await;
            return linger(s).await;
        }
        Err(_) => {
            let _ = respond(
                &mut s,
                "408 Request Timeout",
                "",
                "request head not received in time\n",
                false,
            )
            .await;
            return linger(s).await;
        }
    };
    debug!(%peer, ?route, "metrics request");
    let res = match route {
        Route::Metrics { head_only } => {
            let body = scraper.scrape().await;
            respond(&mut s, "200 OK", "", &body, head_only).await
        }
        Route::NotFound => {
            respond(
                &mut s,
                "404 Not Found",
                "",
                "not found: metrics are at /metrics\n",
                false,
            )
            .await
        }
        Route::MethodNotAllowed => {
            respond(
                &mut s,
                "405 Method Not Allowed",
                "Allow: GET, HEAD\r\n",
                "method not allowed: use GET\n",
                false,
            )
            .await
        }
        Route::BadRequest => respond(&mut s, "400 Bad Request", "", "bad request\n", false).await,
    };
    if let Err(e) = res {
        debug!(%peer, "metrics: response not delivered: {e}");
    }
    linger(s).await;
}

async fn respond(
    s: &mut TcpStream,
    status: &str,
    extra_headers: &str,
    body: &str,
    head_only: bool,
) -> std::io::Result<()> {
    let content_type = if status.starts_with("200") {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        s.write_all(head.as_bytes()).await?;
        if !head_only {
            s.write_all(body.as_bytes()).await?;
        }
        s.flush().await
    };
    timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Half-closes and discards what the client still sends (a request body,
/// say) for a moment, so closing does not reset the connection before the
/// client has read the response.
async fn linger(mut s: TcpStream) {
    if s.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut left = 64 * 1024usize;
        while left > 0 {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = timeout(Duration::from_secs(1), drain).await;
}
