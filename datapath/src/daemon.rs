//! `tapflowd`'s process life: flags, run directory, detaching, pidfile,
//! systemd readiness, signals, and a clean shutdown. What a bridge is and
//! does lives in `crate::bridge`; this file only starts and stops them.
//!
//! Startup is all-or-nothing: every bridge, port and listener comes up, then
//! the `.mgmt` sockets appear and readiness is signalled; any failure prints
//! a message naming the problem, undoes what was created, and exits 2.

use crate::config::{BridgeFlags, DaemonConfig};
use clap::Parser;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags. Names and forms are fixed: scripts depend on them.
#[derive(Parser, Debug)]
#[command(
    name = "tapflowd",
    version,
    about = "The tapflow OpenFlow 1.3 switch daemon"
)]
pub struct Flags {
    /// TOML config file (bridges, ports, controllers); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bridge name (one bridge from flags).
    #[arg(long, value_name = "NAME")]
    pub bridge: Option<String>,
    /// 1-16 hex digits, with or without 0x; default derived from the bridge name.
    #[arg(long = "datapath-id", value_name = "HEX")]
    pub datapath_id: Option<String>,
    /// IFNAME[:OFPORT]; a missing interface is created as a TAP, an existing
    /// one is attached through AF_PACKET. Repeatable.
    #[arg(long = "port", value_name = "IFNAME[:OFPORT]")]
    pub ports: Vec<String>,
    /// tcp:HOST[:PORT] or ssl:HOST[:PORT] (default port 6653). Repeatable.
    #[arg(long = "controller", value_name = "TARGET")]
    pub controllers: Vec<String>,
    /// ptcp:[PORT][:IP] or pssl:[PORT][:IP] (default 6653 on 127.0.0.1). Repeatable.
    #[arg(long = "listen", value_name = "TARGET")]
    pub listen: Vec<String>,
    /// ssl:/pssl: our private key (PEM), as OVS's --private-key.
    #[arg(long = "private-key", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// ssl:/pssl: our certificate (PEM), as OVS's --certificate.
    #[arg(long = "certificate", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// ssl:/pssl: the CA certificate(s) a peer's certificate must be signed
    /// by (PEM), as OVS's --ca-cert. Peers without one are refused.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// standalone (default) or secure.
    #[arg(long = "fail-mode", value_name = "MODE")]
    pub fail_mode: Option<String>,
    /// drop (default, per OF1.3) or controller (PACKET_IN with reason NO_MATCH).
    #[arg(long = "table-miss", value_name = "MODE")]
    pub table_miss: Option<String>,
    /// PACKET_INs per second the bridge may send (0 = no limit; default 1000).
    #[arg(long = "packet-in-rate", value_name = "N")]
    pub packet_in_rate: Option<u32>,
    /// Flow entries each table may hold (OFPFMFC_TABLE_FULL beyond it; default 1048576).
    #[arg(long = "max-flows-per-table", value_name = "N")]
    pub max_flows_per_table: Option<usize>,
    /// A queue besides the default queue 0 of a port: IFNAME:QUEUE with
    /// optional :min=RATE,max=RATE in bit/s (k/M/G suffixes); max is
    /// enforced by dropping, min is only reported. Repeatable.
    #[arg(long = "queue", value_name = "IFNAME:QUEUE[:min=RATE][,max=RATE]")]
    pub queues: Vec<String>,
    /// Sockets live here (created mode 0700); default /run/tapflow.
    #[arg(long, value_name = "DIR", env = "TAPFLOW_RUNDIR")]
    pub rundir: Option<PathBuf>,
    /// Ports are remembered here across restarts; default /var/lib/tapflow.
    #[arg(long, value_name = "DIR")]
    pub statedir: Option<PathBuf>,
    /// Serve Prometheus text at http://HOST:PORT/metrics.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics: Option<String>,
    /// Per-flow metrics for the flows SPEC selects: cookie=VALUE[/MASK]
    /// and/or table=N (comma-separated, all must hold). Repeatable: a flow
    /// any SPEC selects is exported. None by default.
    #[arg(long = "metrics-flows", value_name = "SPEC")]
    pub metrics_flows: Vec<String>,
    /// Write the daemon's pid here (default RUNDIR/tapflowd.pid when given without a value).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub pidfile: Option<PathBuf>,
    /// Run in the background once ready (the parent exits 0 when startup
    /// succeeded, 2 when it failed).
    #[arg(long)]
    pub detach: bool,
}

impl Flags {
    fn bridge_flags(&self) -> BridgeFlags {
        BridgeFlags {
            bridge: self.bridge.clone(),
            datapath_id: self.datapath_id.clone(),
            ports: self.ports.clone(),
            controllers: self.controllers.clone(),
            listen: self.listen.clone(),
            fail_mode: self.fail_mode.clone(),
            table_miss: self.table_miss.clone(),
            packet_in_rate: self.packet_in_rate,
            max_flows_per_table: self.max_flows_per_table,
            queues: self.queues.clone(),
            rundir: self.rundir.clone(),
            statedir: self.statedir.clone(),
            metrics: self.metrics.clone(),
            metrics_flows: self.metrics_flows.clone(),
            private_key: self.private_key.clone(),
            certificate: self.certificate.clone(),
            ca_cert: self.ca_cert.clone(),
        }
    }
}

/// Reads and validates the configuration (file + flags).
pub fn load_config(flags: &Flags) -> Result<DaemonConfig, String> {
    let text = match &flags.config {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config file {}: {e}", p.display()))?,
        )),
        None => None,
    };
    DaemonConfig::load(
        text.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
        &flags.bridge_flags(),
    )
    .map_err(|e| e.to_string())
}

/// Creates the run directory mode 0700 (or tightens an existing one we own).
pub fn prepare_rundir(dir: &Path) -> Result<(), String> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => {
            return Err(format!(
                "cannot create run directory {}: {e}",
                dir.display()
            ))
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot set mode 0700 on {}: {e}", dir.display()))
}

/// Tells systemd we are ready, when started as `Type=notify`.
pub fn sd_notify_ready() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sock = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(_) => return,
    };
    let p = path.to_string_lossy();
    // An abstract socket is written with a leading '@'.
    let res = if let Some(name) = p.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|a| sock.send_to_addr(b"READY=1\n", &a))
    } else {
        sock.send_to(b"READY=1\n", &*p)
    };
    if let Err(e) = res {
        tracing::warn!("sd_notify READY failed: {e}");
    }
}

/// The write end of the pipe a detached child reports its startup on.
pub struct DetachGuard(Option<std::fs::File>);

impl DetachGuard {
    /// Startup succeeded: the waiting parent exits 0.
    pub fn ready(&mut self) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(b"ok");
        }
    }
}

/// Forks into the background before any thread exists. The parent waits on
/// a pipe and exits with the child's startup verdict; the child returns.
pub fn detach() -> Result<DetachGuard, String> {
    let mut fds = [0i32; 2];
    // SAFETY: plain pipe(2)/fork(2)/setsid(2) calls on a single-threaded process.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(format!("pipe: {}", std::io::Error::last_os_error()));
        }
        match libc::fork() {
            -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                use std::os::fd::FromRawFd;
                Ok(DetachGuard(Some(std::fs::File::from_raw_fd(fds[1]))))
            }
            _child => {
                libc::close(fds[1]);
                use std::io::Read;
                use std::os::fd::FromRawFd;
                let mut r = std::fs::File::from_raw_fd(fds[0]);
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                // The child printed its own error on stderr if it failed.
                std::process::exit(if buf == b"ok" { 0 } else { 2 });
            }
        }
    }
}

/// Writes the pidfile; removed by [`PidFile`]'s Drop.
pub struct PidFile(PathBuf);

impl PidFile {
    pub fn create(path: PathBuf) -> Result<PidFile, String> {
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pidfile {}: {e}", path.display()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `tapflowd` entry point.
pub fn main() -> ExitCode {
    let flags = match Flags::try_parse() {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    init_logging();
    let config = match load_config(&flags) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if let Err(e) = prepare_rundir(&config.rundir) {
        return fail(&e);
    }
    let mut detached = if flags.detach {
        match detach() {
            Ok(g) => Some(g),
            Err(e) => return fail(&e),
        }
    } else {
        None
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("tapflowd-ctl")
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let running = match crate::bridge::runtime::start_all(&config).await {
            Ok(r) => r,
            Err(e) => return fail(&e),
        };
        let _pidfile = match &flags.pidfile {
            Some(p) => {
                let p = if p.as_os_str().is_empty() {
                    config.rundir.join("tapflowd.pid")
                } else {
                    p.clone()
                };
                match PidFile::create(p) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        running.shutdown().await;
                        return fail(&e);
                    }
                }
            }
            None => None,
        };
        sd_notify_ready();
        if let Some(g) = detached.as_mut() {
            g.ready();
        }
        tracing::info!("tapflowd ready");
        wait_for_signal().await;
        tracing::info!("tapflowd shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("tapflowd: {msg}");
    ExitCode::from(2)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
