//! Shared helpers for the end-to-end tests in `tests/`: real network
//! namespaces standing in for VMs, TAP and veth ports, a `tapflowd` per test,
//! and the clients that drive it (the real `ovs-ofctl`, our `tapflow` CLI,
//! and `datapath::ofconn::OfClient`).
//!
//! Every test needs root (namespaces, TAPs, raw sockets). Without it a test
//! prints a notice and returns ([`require_root!`]); CI runs as root.
//!
//! Everything a test creates is named from one [`Names`] (`tfi<pid>_<n>` plus
//! a short role suffix, at most 15 characters as interface names must be)
//! and removed by a guard's `Drop`, also when the test fails or panics:
//! [`Daemon`] (SIGTERM, then SIGKILL; its log is printed when the test
//! panicked), [`Netns`] (`ip netns del`), [`Link`] (`ip link del`), [`TempDir`].
//! Declare the daemon after the namespaces so it is stopped first.
//!
//! No extra packages are needed beyond `iproute2`: ping and the TCP echo run
//! in-process on sockets created inside the namespace ([`in_netns`]).

pub mod bed;
pub mod controller;
pub mod daemon;
pub mod netns;
pub mod of;
pub mod ovs;
pub mod packet;
pub mod prometheus;
pub mod traffic;
pub mod vm;

pub use bed::{TwoVms, IP1, IP2};
pub use daemon::{Daemon, DaemonBuilder};
pub use netns::{in_netns, Link, Netns};
pub use vm::{TcpEchoServer, Vm};

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// True when running as root; otherwise prints why `test` does nothing.
pub fn is_root_or_notice(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    eprintln!("NOTICE: {test} needs root (namespaces, TAPs, raw sockets); skipped");
    false
}

/// Returns from the calling test (after a notice) unless we are root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::is_root_or_notice(module_path!()) {
            return;
        }
    };
}

/// Unique names for one test's namespaces, interfaces and bridges.
pub struct Names {
    base: String,
}

impl Names {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Names {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Names {
            base: format!("tfi{}_{}", std::process::id(), n),
        }
    }

    /// `<base><suffix>`; panics past the 15-character interface name limit.
    pub fn name(&self, suffix: &str) -> String {
        let s = format!("{}{}", self.base, suffix);
        assert!(s.len() <= 15, "name {s:?} is longer than 15 characters");
        s
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Path of a workspace binary (`tapflowd`, `tapflow`). The first call builds
/// `datapath`'s binaries in the profile this test binary was built with
/// (a no-op when they are fresh), unless `TAPFLOW_BIN_DIR` names a directory
/// holding already-built ones.
pub fn bin(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("TAPFLOW_BIN_DIR") {
            return PathBuf::from(d);
        }
        // target/<profile>/deps/<test>-<hash>
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let release = profile_dir.file_name() == Some(OsStr::new("release"));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "datapath", "--bins"]);
        if release {
            cmd.arg("--release");
        }
        cmd.current_dir(workspace_root());
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build -p datapath --bins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir
    });
    let p = dir.join(name);
    assert!(p.exists(), "{} does not exist", p.display());
    p
}

/// Runs a command, returning its output (never panics on a non-zero exit).
pub fn run<I, S>(program: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command and panics (showing its stderr) unless it succeeds.
pub fn run_ok<I, S>(program: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let out = run(program, args.iter());
    if !out.status.success() {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        panic!(
            "`{program} {}` failed ({}):\n{}{}",
            shown.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ip ARGS...`, checked.
pub fn ip<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_ok("ip", args)
}

/// True if interface `name` exists in our (the root) namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Our `tapflow` CLI.
pub fn tapflow<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let p = bin("tapflow");
    run(p.to_str().expect("utf-8 path"), args)
}

/// Like [`tapflow`], panicking unless it exits 0; returns stdout.
pub fn tapflow_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let p = bin("tapflow");
    run_ok(p.to_str().expect("utf-8 path"), args)
}

/// Whether the real `ovs-ofctl` is installed; prints a notice once if not
/// (`.ci/run` installs it, so CI always runs the tests that need it).
pub fn have_ovs_ofctl() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        let ok = Command::new("ovs-ofctl")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!(
                "NOTICE: ovs-ofctl is not installed (apt-get install openvswitch-common); \
                 tests that drive tapflowd with it are skipped"
            );
        }
        ok
    })
}

/// `ovs-ofctl -O OpenFlow13 ARGS...` (the caller checks [`have_ovs_ofctl`]).
pub fn ovs_ofctl<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut all: Vec<std::ffi::OsString> = vec!["-O".into(), "OpenFlow13".into()];
    all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
    run("ovs-ofctl", all)
}

/// [`ovs_ofctl`], panicking unless it exits 0; returns stdout.
pub fn ovs_ofctl_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = ovs_ofctl(&args);
    if !out.status.success() {
        panic!(
            "`ovs-ofctl -O OpenFlow13 {}` failed ({}):\n{}{}",
            args.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` every `every` until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, every: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// The `n_packets` of the first `dump-flows` line containing every one of
/// `needles` (ovs-ofctl or tapflow output).
pub fn n_packets(dump: &str, needles: &[&str]) -> Option<u64> {
    let line = dump
        .lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))?;
    let v = line.split("n_packets=").nth(1)?;
    v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A directory under /tmp removed (with everything in it) on Drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(names: &Names, what: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{}-{what}", names.base()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
