//! `tapflow-controller run`: loads the description, binds the listeners and
//! the metrics endpoint (failing the start with a clear message if one
//! cannot be bound), then runs one task per listener, per dial target, the
//! reloader and the metrics responder until SIGTERM or SIGINT.

use crate::desc::NetDesc;
use crate::listen::{dial, ConnectAddr, ListenAddr, Listener};
use crate::metrics::{self, Metrics};
use crate::reload::Reloader;
use crate::switch::Shared;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tracing::info;

/// What the command line says (the file fills in what it leaves out).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub file: PathBuf,
    /// Replace the file's `listen` and `connect` when either is given.
    pub listen: Vec<String>,
    pub connect: Vec<String>,
    /// Replaces the file's `metrics`.
    pub metrics: Option<SocketAddr>,
    pub watch: bool,
}

/// Where to listen and whom to dial: the command line's when it names
/// any, else the file's.
fn endpoints(
    opts: &RunOptions,
    desc: &NetDesc,
) -> Result<(Vec<ListenAddr>, Vec<ConnectAddr>), String> {
    let (listen, connect) = if opts.listen.is_empty() && opts.connect.is_empty() {
        (&desc.controller.listen, &desc.controller.connect)
    } else {
        (&opts.listen, &opts.connect)
    };
    let listen = listen
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<ListenAddr>, String>>()?;
    let connect = connect
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<ConnectAddr>, String>>()?;
    if listen.is_empty() && connect.is_empty() {
        return Err("nothing to listen on and nothing to connect to".into());
    }
    Ok((listen, connect))
}

/// Runs the controller until SIGTERM/SIGINT. Startup errors come back as
/// the message to print.
pub async fn run(opts: RunOptions) -> Result<(), String> {
    let desc = NetDesc::load(&opts.file).map_err(|e| e.to_string())?;
    let (listen, connect) = endpoints(&opts, &desc)?;
    let metrics_addr = opts.metrics.or(desc.controller.metrics);

    let mut listeners = Vec::new();
    for l in &listen {
        listeners.push(Listener::bind(l).await?);
    }
    let metrics_listener = match metrics_addr {
        Some(a) => Some(metrics::bind(a).await?),
        None => None,
    };
    // Handlers before the first log line: a signal that comes as soon as we
    // say we are up must not find its default action (termination).
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let hup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP: {e}"))?;

    info!(
        "tapflow-controller: {} (app {:?}, cookie {:#x}, {} bridges, {} tenants, {} VMs)",
        opts.file.display(),
        desc.controller.app,
        desc.controller.cookie,
        desc.bridges.len(),
        desc.tenants.len(),
        desc.vms.len()
    );
    let m = Metrics::new();
    let (tx, rx) = watch::channel(Arc::new(desc));
    let shared = Shared {
        desc: rx,
        metrics: Arc::clone(&m),
    };
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(Reloader::new(opts.file.clone(), tx, Arc::clone(&m)).run(hup, opts.watch));
    if let Some(l) = metrics_listener {
        tasks.spawn(metrics::serve(l, Arc::clone(&m)));
    }
    for l in listeners {
        tasks.spawn(l.serve(shared.clone()));
    }
    for c in connect {
        tasks.spawn(dial(c, shared.clone()));
    }
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: exiting"),
        _ = int.recv() => info!("SIGINT: exiting"),
    }
    tasks.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(toml: &str) -> NetDesc {
        NetDesc::parse(toml).unwrap()
    }

    #[test]
    fn command_line_endpoints_replace_the_files() {
        let d =
            desc("[controller]\nlisten = [\"ptcp:7000\"]\nconnect = [\"tcp:127.0.0.1:7001\"]\n");
        let file_only = RunOptions::default();
        let (l, c) = endpoints(&file_only, &d).unwrap();
        assert_eq!(l, vec!["ptcp:7000".parse().unwrap()]);
        assert_eq!(c, vec!["tcp:127.0.0.1:7001".parse().unwrap()]);
        let cli = RunOptions {
            connect: vec!["unix:/tmp/x.mgmt".into()],
            ..RunOptions::default()
        };
        let (l, c) = endpoints(&cli, &d).unwrap();
        assert!(l.is_empty(), "--connect alone means: do not listen");
        assert_eq!(c, vec![ConnectAddr::Unix("/tmp/x.mgmt".into())]);
        let bad = RunOptions {
            listen: vec!["tcp:1".into()],
            ..RunOptions::default()
        };
        assert!(endpoints(&bad, &d).is_err());
    }
}
