//! Starting and stopping every bridge of the daemon.
//!
//! [`start_all`] first reads the TLS files of `ssl:`/`pssl:` targets and
//! binds the `--metrics` address (so a bad certificate or a taken port fails
//! startup before any device exists), then brings each bridge up in this
//! order: its targets are parsed (nothing is created for a bad one); its
//! ports (LOCAL, then the configured and remembered ones); the pipeline
//! (with the standalone NORMAL flow when no controller is configured) and
//! the data plane; `--listen` listeners (bound now, so a bind error fails
//! startup); the owner task; active controllers. Then, once per daemon, the
//! control socket `RUNDIR/tapflowd.ctl`; the metrics endpoint starts
//! serving; the port state files; and last, once everything else is up,
//! each bridge's `RUNDIR/BRIDGE.mgmt` socket — its appearance means ready.
//!
//! Any failure undoes everything created so far (TAPs we created go away
//! with their fds, sockets are removed, tasks and threads stopped) and
//! returns a message naming the problem:
//! `port tap1: cannot create TAP: Operation not permitted`,
//! `listen ptcp:6653:127.0.0.1: address already in use`,
//! `metrics 127.0.0.1:9310: address already in use`.

use super::ctl::{self, CtlBridge, CtlServer, CTL_SOCKET};
use super::dp::{real_dataplane, DataplaneFactory, WorkerSet};
use super::event::{BridgeEvent, ConnKind};
use super::failmode::{installs_normal_flow, normal_flow};
use super::openflow::{Bridge, BridgeChannels, BridgeSettings, Command};
use super::ports::{
    io_phrase, load_state, plan_ports, state_path, OpenHow, PortBackend, PortEntry, PortKind,
    Ports, StateEntry, SystemBackend,
};
use crate::config::{BridgeConfig, DaemonConfig};
use crate::dataplane::DatapathConfig;
use crate::metrics::{BridgeSource, FlowSelect, MetricsServer, Scraper};
use crate::ofconn::{
    bind_listener, bind_listener_with, spawn_active_tls, ConnConfig, ListenTarget, Target,
    TlsContext,
};
use crate::pipeline::{clock, Pipeline, PipelineConfig};
use crate::port::LinkEvent;
use ofproto::consts::OFPP_LOCAL;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Makes a bridge's port backend; link events go to the sender.
pub type PortBackendFactory =
    Arc<dyn Fn(mpsc::UnboundedSender<LinkEvent>) -> Arc<dyn PortBackend> + Send + Sync>;

pub use crate::config::DEFAULT_PACKET_IN_RATE;
/// Queue of BridgeEvents into a bridge's owner task.
const EVENT_QUEUE: usize = 1024;
/// Queue of PACKET_INs from the data plane.
const PACKET_IN_QUEUE: usize = 1024;

/// How the daemon is built; [`Default`] is production. Tests swap the data
/// plane and ports for fakes and shorten the timers.
#[derive(Clone)]
pub struct RuntimeOptions {
    pub dataplane: DataplaneFactory,
    pub ports: PortBackendFactory,
    pub conn: ConnConfig,
    /// Fail-open after this long without a controller; default 3 × the
    /// inactivity probe interval (15 s).
    pub fail_open_after: Option<Duration>,
    /// Overrides every bridge's configured PACKET_IN rate (tests).
    pub packet_in_rate: Option<u32>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            dataplane: real_dataplane(),
            ports: Arc::new(|links| Arc::new(SystemBackend::new(links)) as Arc<dyn PortBackend>),
            conn: ConnConfig::default(),
            fail_open_after: None,
            packet_in_rate: None,
        }
    }
}

impl RuntimeOptions {
    fn fail_open_after(&self) -> Duration {
        self.fail_open_after
            .unwrap_or_else(|| 3 * self.conn.probe_interval.unwrap_or(Duration::from_secs(5)))
    }
}

/// One running bridge.
struct BridgeRunning {
    name: String,
    commands: mpsc::Sender<Command>,
    /// Kept until the `.mgmt` socket is up, then dropped.
    events: Option<mpsc::Sender<BridgeEvent>>,
    ids: Arc<AtomicU64>,
    owner: Option<JoinHandle<()>>,
    listeners: Vec<(ListenTarget, JoinHandle<()>)>,
    actives: Vec<JoinHandle<()>>,
    mgmt: Option<JoinHandle<()>>,
    workers: Option<Box<dyn WorkerSet>>,
}

impl BridgeRunning {
    async fn stop(mut self) {
        if let Some(m) = self.mgmt.take() {
            m.abort();
            let _ = m.await; // the socket file goes with the listener
        }
        for (_, l) in self.listeners.drain(..) {
            l.abort();
            let _ = l.await;
        }
        for a in self.actives.drain(..) {
            a.abort();
            let _ = a.await;
        }
        self.events = None;
        let _ = self.commands.send(Command::Shutdown).await;
        if let Some(o) = self.owner.take() {
            let _ = o.await;
        }
        if let Some(w) = self.workers.take() {
            let _ = tokio::task::spawn_blocking(move || w.stop()).await;
        }
        info!(bridge = %self.name, "bridge shut down");
    }
}

/// Everything [`start_all`] started.
pub struct Running {
    bridges: Vec<BridgeRunning>,
    ctl: Option<CtlServer>,
    /// `--metrics`: serving from the end of startup to the start of shutdown.
    metrics: Option<MetricsServer>,
}

impl Running {
    /// Stops workers, closes connections, removes sockets and drops the
    /// ports (TAPs we created disappear unless persistent).
    pub async fn shutdown(mut self) {
        // Readiness goes first: the .mgmt sockets, then the control socket
        // and the metrics endpoint (before the bridges it asks go away).
        for b in &mut self.bridges {
            if let Some(m) = b.mgmt.take() {
                m.abort();
                let _ = m.await;
            }
        }
        if let Some(c) = self.ctl.take() {
            c.stop().await;
        }
        if let Some(m) = self.metrics.take() {
            m.stop().await;
        }
        for b in self.bridges.drain(..).rev() {
            b.stop().await;
        }
    }

    /// The bound `--metrics` address (port 0 resolved).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::local_addr)
    }

    /// The bound `--listen` addresses of `bridge` (`ptcp:0` resolved).
    pub fn listeners(&self, bridge: &str) -> Vec<ListenTarget> {
        self.bridges
            .iter()
            .filter(|b| b.name == bridge)
            .flat_map(|b| b.listeners.iter().map(|(t, _)| t.clone()))
            .collect()
    }
}

/// Starts every configured bridge (see the module docs).
pub async fn start_all(cfg: &DaemonConfig) -> Result<Running, String> {
    start_all_with(cfg, RuntimeOptions::default()).await
}

/// [`start_all`] with explicit options.
pub async fn start_all_with(cfg: &DaemonConfig, opts: RuntimeOptions) -> Result<Running, String> {
    // The TLS files are read first: a bad one fails startup before anything
    // exists.
    let tls = match &cfg.tls {
        Some(files) => Some(Arc::new(
            TlsContext::load(files).map_err(|e| format!("TLS: {e}"))?,
        )),
        None => None,
    };
    // The metrics address is bound before anything is created (nothing to
    // undo if it is taken) and served once the bridges exist.
    let metrics_listener = match &cfg.metrics {
        Some(addr) => Some(crate::metrics::bind(addr).await?),
        None => {
            if !cfg.metrics_flows.is_empty() {
                warn!("metrics flows are selected but no metrics address is given; ignored");
            }
            None
        }
    };
    let mut running = Running {
        bridges: Vec::new(),
        ctl: None,
        metrics: None,
    };
    for b in &cfg.bridges {
        match start_bridge(b, cfg, &opts, tls.as_ref()).await {
            Ok(br) => running.bridges.push(br),
            Err(e) => {
                running.shutdown().await;
                return Err(e);
            }
        }
    }
    let ctl_path = cfg.rundir.join(CTL_SOCKET);
    let served = ctl::bind(&ctl_path).and_then(|l| {
        let bridges = running
            .bridges
            .iter()
            .map(|b| CtlBridge {
                name: b.name.clone(),
                commands: b.commands.clone(),
            })
            .collect();
        CtlServer::spawn(l, ctl_path.clone(), bridges)
    });
    match served {
        Ok(s) => running.ctl = Some(s),
        Err(e) => {
            running.shutdown().await;
            return Err(format!(
                "control socket {}: {}",
                ctl_path.display(),
                io_phrase(&e)
            ));
        }
    }
    if let Some(l) = metrics_listener {
        let bridges = running
            .bridges
            .iter()
            .map(|b| BridgeSource {
                name: b.name.clone(),
                commands: b.commands.clone(),
            })
            .collect();
        let flows = FlowSelect::new(cfg.metrics_flows.clone());
        running.metrics = Some(MetricsServer::spawn(l, Scraper::new(bridges, flows)));
    }
    for b in &running.bridges {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let saved = match b.commands.send(Command::SavePorts { reply: tx }).await {
            Ok(()) => rx
                .await
                .unwrap_or_else(|_| Err(std::io::Error::other("bridge stopped"))),
            Err(_) => Err(std::io::Error::other("bridge stopped")),
        };
        if let Err(e) = saved {
            let path = state_path(&cfg.statedir, &b.name);
            let msg = format!("port state {}: {}", path.display(), io_phrase(&e));
            running.shutdown().await;
            return Err(msg);
        }
    }
    for i in 0..running.bridges.len() {
        let b = &mut running.bridges[i];
        let path = cfg.rundir.join(format!("{}.mgmt", b.name));
        let target = ListenTarget::Unix(path.clone());
        let events = b.events.take().expect("set at start");
        match bind_listener(&target) {
            Ok(l) => {
                // As OVS: no echo probes on the management socket, where a
                // CLI may sit idle (snoop, a script between commands).
                let mut service = opts.conn.clone();
                service.probe_interval = None;
                b.mgmt = Some(l.spawn(ConnKind::Service, events, b.ids.clone(), service));
            }
            Err(e) => {
                let msg = format!(
                    "management socket {}: {}",
                    path.display(),
                    tidy_bind_error(&target, &e)
                );
                running.shutdown().await;
                return Err(msg);
            }
        }
    }
    Ok(running)
}

/// `cannot listen on ptcp:6653:127.0.0.1: Address already in use (os error 98)`
/// → `address already in use`.
fn tidy_bind_error(target: &ListenTarget, e: &std::io::Error) -> String {
    let s = io_phrase(e);
    let prefix = format!("cannot listen on {target}: ");
    let s = s.strip_prefix(&prefix).unwrap_or(&s);
    let mut c = s.chars();
    match (c.next(), c.clone().next()) {
        (Some(f), Some(g)) if f.is_uppercase() && g.is_lowercase() => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_string(),
    }
}

async fn start_bridge(
    b: &BridgeConfig,
    cfg: &DaemonConfig,
    opts: &RuntimeOptions,
    tls: Option<&Arc<TlsContext>>,
) -> Result<BridgeRunning, String> {
    // Targets first: a bad one must not leave devices behind.
    let mut listen = Vec::new();
    for s in &b.listen {
        let t: ListenTarget = s.parse().map_err(|e| format!("bridge {}: {e}", b.name))?;
        listen.push(t);
    }
    let mut controllers = Vec::new();
    for s in &b.controllers {
        let t: Target = s.parse().map_err(|e| format!("bridge {}: {e}", b.name))?;
        controllers.push(t);
    }

    // Ports: LOCAL, then configured and remembered ones.
    let state_file = state_path(&cfg.statedir, &b.name);
    let remembered = load_state(&state_file);
    let plan = plan_ports(&b.ports, &remembered).map_err(|e| format!("bridge {}: {e}", b.name))?;
    let (link_tx, link_rx) = mpsc::unbounded_channel();
    let backend = (opts.ports)(link_tx);
    let mut ports = Ports::new(Some(state_file.clone()));
    let local = backend
        .open(&b.name, OFPP_LOCAL, OpenHow::Local)
        .map_err(|e| format!("LOCAL port {}: {e}", b.name))?;
    ports
        .entries
        .insert(OFPP_LOCAL, PortEntry::new(OFPP_LOCAL, &b.name, local));
    for p in plan {
        match backend.open(&p.name, p.ofport, p.how) {
            Ok(o) => {
                info!(bridge = %b.name, port = %p.name, ofport = p.ofport, kind = o.kind.as_str(), "port up");
                ports
                    .entries
                    .insert(p.ofport, PortEntry::new(p.ofport, &p.name, o));
            }
            Err(e) if !p.configured => {
                warn!(bridge = %b.name, port = %p.name, "remembered port not restored: {e}");
                let kind = remembered
                    .iter()
                    .find(|r| r.name == p.name)
                    .map_or(PortKind::System, |r| r.kind);
                ports.parked.push(StateEntry {
                    name: p.name,
                    ofport: p.ofport,
                    kind,
                });
            }
            Err(e) => return Err(format!("port {}: {e}", p.name)),
        }
    }
    // Written at the end of startup (Command::SavePorts); fail early if
    // the state directory cannot be made.
    std::fs::create_dir_all(&cfg.statedir).map_err(|e| {
        format!(
            "state directory {}: {}",
            cfg.statedir.display(),
            io_phrase(&e)
        )
    })?;

    // Pipeline and data plane.
    let pcfg = PipelineConfig {
        max_entries_per_table: b.max_flows_per_table,
    };
    let max_entries = pcfg.max_entries_per_table.min(u32::MAX as usize) as u32;
    let mut pipeline = Pipeline::new(pcfg);
    let controllers_configured = !b.controllers.is_empty() || !b.listen.is_empty();
    if installs_normal_flow(b.fail_mode, controllers_configured) {
        pipeline
            .apply_flow_mod(&normal_flow(), clock::now())
            .map_err(|e| format!("bridge {}: NORMAL flow: {e}", b.name))?;
    }
    pipeline.publish();
    let (pin_tx, pin_rx) = mpsc::channel(PACKET_IN_QUEUE);
    let started = (opts.dataplane)(
        DatapathConfig {
            bridge: b.name.clone(),
            table_miss: b.table_miss,
            packet_in_rate: opts.packet_in_rate.unwrap_or(b.packet_in_rate),
        },
        pipeline.reader(),
        pin_tx,
    )
    .map_err(|e| format!("bridge {}: {e}", b.name))?;
    for e in ports.entries.values() {
        started.ops.add_port(e.ofport, e.port.clone());
        started.ops.set_port_state(e.ofport, e.state());
    }
    started.ops.configure_queues(&b.queues);
    let mut workers = Some(started.workers);

    // Listeners: bound before anything else can fail.
    let mut bound = Vec::new();
    for t in &listen {
        match bind_listener_with(t, tls.cloned()) {
            Ok(l) => bound.push(l),
            Err(e) => {
                let msg = format!("listen {t}: {}", tidy_bind_error(t, &e));
                drop(bound);
                if let Some(w) = workers.take() {
                    let _ = tokio::task::spawn_blocking(move || w.stop()).await;
                }
                return Err(msg);
            }
        }
    }

    // The owner task.
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let settings = BridgeSettings {
        name: b.name.clone(),
        datapath_id: b.datapath_id,
        fail_mode: b.fail_mode,
        controllers_configured,
        fail_open_after: opts.fail_open_after(),
        max_entries,
    };
    let mut bridge = Bridge::new(settings, pipeline, started.ops, ports, backend);
    // Named in the metrics endpoint's per-controller series.
    let active: Vec<String> = controllers.iter().map(Target::to_string).collect();
    let passive: Vec<String> = bound.iter().map(|l| l.local().to_string()).collect();
    bridge.set_controller_targets(&active, &passive);
    let owner = tokio::spawn(bridge.run(BridgeChannels {
        events: ev_rx,
        packet_in: pin_rx,
        links: link_rx,
        commands: cmd_rx,
    }));
    let ids = Arc::new(AtomicU64::new(1));
    let listeners = bound
        .into_iter()
        .map(|l| {
            let local = l.local().clone();
            let h = l.spawn(
                ConnKind::Primary,
                ev_tx.clone(),
                ids.clone(),
                opts.conn.clone(),
            );
            (local, h)
        })
        .collect();
    let actives = controllers
        .into_iter()
        .map(|t| {
            spawn_active_tls(
                t,
                ConnKind::Primary,
                ev_tx.clone(),
                ids.clone(),
                opts.conn.clone(),
                tls.cloned(),
            )
        })
        .collect();
    info!(
        bridge = %b.name,
        datapath_id = %format!("{:016x}", b.datapath_id),
        fail_mode = ?b.fail_mode,
        "bridge up"
    );
    Ok(BridgeRunning {
        name: b.name.clone(),
        commands: cmd_tx,
        events: Some(ev_tx),
        ids,
        owner: Some(owner),
        listeners,
        actives,
        mgmt: None,
        workers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_read_as_phrases() {
        let t: ListenTarget = "ptcp:6653:127.0.0.1".parse().unwrap();
        let e = std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "cannot listen on {t}: {}",
                std::io::Error::from_raw_os_error(libc::EADDRINUSE)
            ),
        );
        assert_eq!(tidy_bind_error(&t, &e), "address already in use");
    }
}
