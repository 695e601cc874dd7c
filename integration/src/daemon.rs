//! A `tapflowd` per test: spawned from the workspace's build, ready when its
//! `.mgmt` socket exists, stopped (SIGTERM, then SIGKILL) on Drop. Its
//! stderr goes to a log file that is printed when the test panics.

use crate::{Names, TempDir};
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long startup may take (a debug build creating TAPs on a busy 2-core
/// machine is not instant).
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags for one bridge.
#[derive(Clone, Debug)]
pub struct DaemonBuilder {
    pub bridge: String,
    pub ports: Vec<String>,
    pub fail_mode: Option<String>,
    pub listen: Vec<String>,
    pub controllers: Vec<String>,
    pub table_miss: Option<String>,
    pub extra: Vec<String>,
}

impl DaemonBuilder {
    /// Bridge `bridge`, no ports, default fail mode.
    pub fn new(bridge: &str) -> DaemonBuilder {
        DaemonBuilder {
            bridge: bridge.to_string(),
            ports: Vec::new(),
            fail_mode: None,
            listen: Vec::new(),
            controllers: Vec::new(),
            table_miss: None,
            extra: Vec::new(),
        }
    }

    /// `--port IFNAME:OFPORT`.
    pub fn port(mut self, ifname: &str, ofport: u32) -> Self {
        self.ports.push(format!("{ifname}:{ofport}"));
        self
    }

    /// `--port IFNAME` (number chosen by the daemon).
    pub fn port_auto(mut self, ifname: &str) -> Self {
        self.ports.push(ifname.to_string());
        self
    }

    pub fn secure(mut self) -> Self {
        self.fail_mode = Some("secure".into());
        self
    }

    pub fn standalone(mut self) -> Self {
        self.fail_mode = Some("standalone".into());
        self
    }

    /// `--listen ptcp:PORT:127.0.0.1`.
    pub fn listen_tcp(mut self, port: u16) -> Self {
        self.listen.push(format!("ptcp:{port}:127.0.0.1"));
        self
    }

    /// `--controller tcp:127.0.0.1:PORT`.
    pub fn controller_tcp(mut self, port: u16) -> Self {
        self.controllers.push(format!("tcp:127.0.0.1:{port}"));
        self
    }

    pub fn table_miss(mut self, mode: &str) -> Self {
        self.table_miss = Some(mode.to_string());
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.extra.push(a.to_string());
        self
    }

    fn args(&self, rundir: &Path, statedir: &Path) -> Vec<String> {
        let mut a = vec!["--bridge".to_string(), self.bridge.clone()];
        for p in &self.ports {
            a.push("--port".into());
            a.push(p.clone());
        }
        if let Some(m) = &self.fail_mode {
            a.push("--fail-mode".into());
            a.push(m.clone());
        }
        for l in &self.listen {
            a.push("--listen".into());
            a.push(l.clone());
        }
        for c in &self.controllers {
            a.push("--controller".into());
            a.push(c.clone());
        }
        if let Some(t) = &self.table_miss {
            a.push("--table-miss".into());
            a.push(t.clone());
        }
        a.push("--rundir".into());
        a.push(rundir.display().to_string());
        a.push("--statedir".into());
        a.push(statedir.display().to_string());
        a.extend(self.extra.iter().cloned());
        a
    }

    /// Runs the daemon expecting it to fail at startup; returns its exit
    /// status and stderr (panics if it is still running after 20 s, after
    /// killing it). The run/state directories are in `dir`.
    pub fn run_expect_exit(&self, dir: &Path) -> (ExitStatus, String) {
        let args = self.args(&dir.join("run"), &dir.join("state"));
        let mut child = Command::new(crate::bin("tapflowd"))
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tapflowd");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .expect("stderr")
                    .read_to_string(&mut err)
                    .ok();
                return (status, err);
            }
            if Instant::now() >= deadline {
                // SAFETY: signalling our own child.
                unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                let _ = child.wait();
                panic!("tapflowd {} did not exit within 20 s", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the daemon in a fresh directory (run and state dirs inside it)
    /// and waits until it is ready. Panics (showing its log) if it exits or
    /// is not ready within [`READY_TIMEOUT`].
    pub fn spawn(self, names: &Names) -> Daemon {
        let dir = TempDir::new(names, "d");
        let mut d = Daemon {
            rundir: dir.path().join("run"),
            statedir: dir.path().join("state"),
            log: dir.path().join("tapflowd.log"),
            dir,
            builder: self,
            child: None,
        };
        d.start();
        d
    }
}

pub struct Daemon {
    pub builder: DaemonBuilder,
    pub rundir: PathBuf,
    pub statedir: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    // Dropped last: holds the log and the run/state directories.
    dir: TempDir,
}

impl Daemon {
    pub fn bridge(&self) -> &str {
        &self.builder.bridge
    }

    /// `RUNDIR/BRIDGE.mgmt`.
    pub fn mgmt_path(&self) -> PathBuf {
        self.rundir.join(format!("{}.mgmt", self.builder.bridge))
    }

    /// `unix:RUNDIR/BRIDGE.mgmt`, the target for ovs-ofctl and tapflow.
    pub fn mgmt_target(&self) -> String {
        format!("unix:{}", self.mgmt_path().display())
    }

    /// `RUNDIR/tapflowd.ctl`.
    pub fn ctl_path(&self) -> PathBuf {
        self.rundir.join("tapflowd.ctl")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `["--rundir", RUNDIR]`, to put before a `tapflow` verb.
    pub fn rundir_args(&self) -> Vec<String> {
        vec!["--rundir".into(), self.rundir.display().to_string()]
    }

    /// `tapflow --rundir RUNDIR ARGS...`.
    pub fn tapflow<I, S>(&self, args: I) -> std::process::Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> =
            self.rundir_args().into_iter().map(Into::into).collect();
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        crate::tapflow(all)
    }

    /// [`Daemon::tapflow`], panicking unless it exits 0; returns stdout.
    pub fn tapflow_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<std::ffi::OsString> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.tapflow(&args);
        if !out.status.success() {
            panic!(
                "`tapflow --rundir {} {}` failed ({}):\n{}{}\n--- tapflowd log ---\n{}",
                self.rundir.display(),
                args.iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log_text()
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything the daemon wrote to stderr so far (all runs).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Spawns the daemon with the builder's flags and the same directories,
    /// and waits until it is ready.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "tapflowd already running");
        let _ = std::fs::remove_file(self.mgmt_path());
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open log");
        let args = self.builder.args(&self.rundir, &self.statedir);
        let mut cmd = Command::new(crate::bin("tapflowd"));
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        // A log file, not a terminal: no colour codes.
        cmd.env("NO_COLOR", "1");
        // SAFETY: prctl is async-signal-safe. If the test process dies
        // without running destructors, the daemon gets SIGTERM and cleans up.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn tapflowd: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.mgmt_path().exists() {
                return;
            }
            let c = self.child.as_mut().expect("child");
            if let Some(status) = c.try_wait().expect("try_wait") {
                self.child = None;
                panic!(
                    "tapflowd {} exited ({status}) before it was ready:\n{}",
                    args.join(" "),
                    self.log_text()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "tapflowd {} not ready ({} missing) after {:?}:\n{}",
                    args.join(" "),
                    self.mgmt_path().display(),
                    READY_TIMEOUT,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits up to 10 s (SIGKILL after that). Returns the exit
    /// status, or None if it was not running.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = c.try_wait().expect("try_wait") {
                return Some(s);
            }
            if Instant::now() >= deadline {
                eprintln!("tapflowd did not exit 10 s after SIGTERM; killing it");
                let _ = c.kill();
                return c.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops and starts again with the same flags and state directory.
    pub fn restart(&mut self) {
        let s = self.stop();
        assert!(
            s.map(|s| s.success()).unwrap_or(true),
            "tapflowd exited with {s:?} on SIGTERM:\n{}",
            self.log_text()
        );
        self.start();
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let status = self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- tapflowd log ({}; exit {status:?}) ---\n{}--- end of tapflowd log ---",
                self.builder.bridge,
                self.log_text()
            );
        }
    }
}
