//! Re-reading the network description on SIGHUP, or when its modification
//! time changes (`--watch`, polled every second).
//!
//! A file that does not load is logged with the problem it has and changes
//! nothing: the switches keep their flows and the previous description
//! stays in force. A good one replaces the description every switch task
//! follows, and each reconverges.
//!
//! What the running process was started with cannot change by reload:
//! listeners, dial targets, the metrics address, the app and the cookie
//! (a new cookie would orphan every installed flow). A reload that changes
//! them keeps the old values and says so; the rest of the file applies.

use crate::desc::NetDesc;
use crate::metrics::Metrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::Signal;
use tokio::sync::watch;
use tracing::{info, warn};

/// How often `--watch` looks at the file's modification time.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

pub struct Reloader {
    path: PathBuf,
    tx: watch::Sender<Arc<NetDesc>>,
    metrics: Arc<Metrics>,
}

fn mtime(path: &PathBuf) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Reloader {
    pub fn new(path: PathBuf, tx: watch::Sender<Arc<NetDesc>>, metrics: Arc<Metrics>) -> Reloader {
        Reloader { path, tx, metrics }
    }

    /// The description in force.
    pub fn current(&self) -> Arc<NetDesc> {
        self.tx.borrow().clone()
    }

    /// Loads the file; on success it becomes the description in force.
    /// On failure nothing changes and the error is returned (and logged).
    pub fn reload(&self, why: &str) -> Result<(), String> {
        let mut new = match NetDesc::load(&self.path) {
            Ok(d) => d,
            Err(e) => {
                self.metrics.reload(false);
                // One log line per event: a TOML error quotes the line over
                // several.
                let one_line = e
                    .to_string()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                warn!("reload ({why}) failed, keeping the previous description: {one_line}");
                return Err(one_line);
            }
        };
        let old = self.current();
        keep_startup_settings(&old, &mut new);
        self.metrics.reload(true);
        if *old == new {
            info!("reload ({why}): {} unchanged", self.path.display());
        } else {
            info!(
                "reload ({why}): {} loaded ({} bridges, {} tenants, {} VMs); reconverging",
                self.path.display(),
                new.bridges.len(),
                new.tenants.len(),
                new.vms.len()
            );
        }
        // Sent even when unchanged: a reload is also how an operator asks
        // for a reconvergence (after someone edited our flows by hand).
        self.tx.send_replace(Arc::new(new));
        Ok(())
    }

    /// Reloads on every signal `hup` delivers (SIGHUP: register it before
    /// the process announces it is up, or an early SIGHUP kills it) and,
    /// with `watch`, whenever the file's modification time changes. Runs
    /// until the task is dropped.
    pub async fn run(self, mut hup: Signal, watch: bool) {
        let mut seen = mtime(&self.path);
        let mut tick = tokio::time::interval(WATCH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                Some(()) = hup.recv() => {
                    seen = mtime(&self.path);
                    let _ = self.reload("SIGHUP");
                }
                _ = tick.tick(), if watch => {
                    let now = mtime(&self.path);
                    if now != seen {
                        seen = now;
                        if now.is_some() {
                            let _ = self.reload("file changed");
                        } else {
                            warn!("{} is gone; keeping the previous description", self.path.display());
                        }
                    }
                }
                // The signal driver is gone: the runtime is shutting down.
                else => return,
            }
        }
    }
}

/// Puts back into `new` what only a restart may change, warning for each.
fn keep_startup_settings(old: &NetDesc, new: &mut NetDesc) {
    let (o, n) = (&old.controller, &mut new.controller);
    if n.listen != o.listen || n.connect != o.connect {
        warn!("reload: [controller] listen/connect changed; that takes a restart (keeping the current ones)");
        n.listen = o.listen.clone();
        n.connect = o.connect.clone();
    }
    if n.metrics != o.metrics {
        warn!(
            "reload: [controller] metrics changed; that takes a restart (keeping the current one)"
        );
        n.metrics = o.metrics;
    }
    if n.app != o.app {
        warn!(
            "reload: [controller] app changed; that takes a restart (keeping {:?})",
            o.app
        );
        n.app = o.app;
    }
    if n.cookie != o.cookie {
        warn!(
            "reload: [controller] cookie changed; that takes a restart (keeping {:#x}: a new cookie would orphan the installed flows)",
            o.cookie
        );
        n.cookie = o.cookie;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[vm]]
name = "vm1"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
port = 1
"#;

    const BETTER: &str = r#"
[controller]
cookie = "0x1234"

[[vm]]
name = "vm1"
mac = "52:54:00:00:00:01"
ipv4 = "10.10.10.11"
port = 1

[[vm]]
name = "vm2"
mac = "52:54:00:00:00:02"
ipv4 = "10.10.10.12"
port = 2
"#;

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn setup(name: &str) -> (Tmp, Reloader, watch::Receiver<Arc<NetDesc>>, Arc<Metrics>) {
        let path = std::env::temp_dir().join(format!(
            "tapflow-controller-reload-{name}-{}.toml",
            std::process::id()
        ));
        std::fs::write(&path, GOOD).unwrap();
        let first = NetDesc::load(&path).unwrap();
        let (tx, rx) = watch::channel(Arc::new(first));
        let m = Metrics::new();
        let r = Reloader::new(path.clone(), tx, Arc::clone(&m));
        (Tmp(path), r, rx, m)
    }

    #[test]
    fn a_bad_file_keeps_the_description_in_force() {
        let (tmp, r, mut rx, m) = setup("bad");
        let before = r.current();
        std::fs::write(
            &tmp.0,
            "[[vm]]\nname = \"vm1\"\nmac = \"not-a-mac\"\nport = 1\n",
        )
        .unwrap();
        let e = r.reload("test").unwrap_err();
        assert!(
            e.contains(&tmp.0.display().to_string()),
            "names the file: {e}"
        );
        assert!(e.contains("mac"), "names the problem: {e}");
        assert!(!rx.has_changed().unwrap(), "switch tasks are not woken");
        assert!(Arc::ptr_eq(&before, &r.current()));
        assert!(m
            .render()
            .contains("tapflow_controller_reloads_total{result=\"error\"} 1"));

        std::fs::remove_file(&tmp.0).unwrap();
        assert!(r.reload("test").is_err(), "a missing file too");
        assert!(Arc::ptr_eq(&before, &rx.borrow_and_update()));
    }

    #[tokio::test]
    async fn watch_reloads_when_the_file_changes() {
        let (tmp, r, mut rx, m) = setup("watch");
        let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).unwrap();
        let task = tokio::spawn(r.run(hup, true));
        // Let the task record the current modification time first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::fs::write(&tmp.0, BETTER).unwrap();
        let changed = tokio::time::timeout(WATCH_INTERVAL * 5, rx.changed()).await;
        assert!(matches!(changed, Ok(Ok(()))), "no reload within 5 polls");
        assert_eq!(rx.borrow_and_update().vms.len(), 2);
        assert!(m
            .render()
            .contains("tapflow_controller_reloads_total{result=\"ok\"} 1"));
        task.abort();
    }

    #[test]
    fn a_good_file_replaces_it_but_not_the_cookie() {
        let (tmp, r, mut rx, m) = setup("good");
        let cookie = r.current().controller.cookie;
        std::fs::write(&tmp.0, BETTER).unwrap();
        r.reload("test").unwrap();
        assert!(rx.has_changed().unwrap());
        let now = rx.borrow_and_update().clone();
        assert_eq!(now.vms.len(), 2);
        assert_eq!(now.controller.cookie, cookie, "the cookie takes a restart");
        assert!(m
            .render()
            .contains("tapflow_controller_reloads_total{result=\"ok\"} 1"));
    }
}
