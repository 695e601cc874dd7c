//! A private Open vSwitch per test, run by hand (no init scripts, no
//! `ovs-ctl`): its own database, sockets and logs in a temp directory, its
//! `ovs-vswitchd` in a network namespace of its own, userspace (`netdev`)
//! bridges only. Used as the reference a tapflowd is compared against, and
//! by benchmarks that need an OVS on the same machine.
//!
//! ```text
//! DIR/conf.db        ovsdb-tool create DIR/conf.db /usr/share/openvswitch/vswitch.ovsschema
//! DIR/db.sock        ovsdb-server --remote=punix:DIR/db.sock --unixctl=DIR/ovsdb-server.ctl \
//!                      --pidfile=DIR/ovsdb-server.pid --log-file=DIR/ovsdb-server.log DIR/conf.db
//!                    ovs-vsctl --db=unix:DIR/db.sock --no-wait init
//! DIR/ovs-vswitchd.ctl  ip netns exec NS ovs-vswitchd unix:DIR/db.sock \
//!                      --unixctl=DIR/ovs-vswitchd.ctl --pidfile=... --log-file=...
//!                    ovs-vsctl ... add-br BR -- set bridge BR datapath_type=netdev \
//!                      fail-mode=secure protocols=OpenFlow13
//! DIR/BR.mgmt        each bridge's OpenFlow management socket (OVS_RUNDIR=DIR)
//! DIR/*.log, *.out   the daemons' logs and stderr (tails printed when a test panics)
//! ```
//!
//! Every OVS command gets `OVS_RUNDIR`, `OVS_DBDIR`, `OVS_LOGDIR` and
//! `OVS_SYSCONFDIR` pointing at DIR, and every socket, pid file and log is
//! also named explicitly, so nothing reads or writes the system's
//! `/var/run/openvswitch`, `/etc/openvswitch` or `/var/log/openvswitch`.
//! (`OVS_PKGDATADIR` stays the system's: it only holds read-only schemas.)
//!
//! Why a namespace: the userspace datapath always creates a TAP named
//! `ovs-netdev` plus one per bridge, so two OVS instances in one namespace
//! collide; and at startup `ovs-vswitchd` deletes every kernel datapath of
//! its namespace that its database does not list, which in the root
//! namespace would include those of a system OVS. [`OvsBuilder::root_netns`]
//! opts out (only do that when nothing else runs OVS on the machine).
//!
//! The daemons are not `--detach`ed: they are this process's children with
//! `PR_SET_PDEATHSIG`, so a test run that dies without unwinding does not
//! leave them behind. [`Ovs`]'s Drop asks each to exit (`ovs-appctl exit`),
//! kills it if it doesn't, deletes the namespace (and the TAPs in it) and
//! the directory.
//!
//! Needs Debian's `openvswitch-switch` (`ovsdb-server`, `ovs-vswitchd`,
//! `ovs-vsctl`, `ovs-appctl`, `ovsdb-tool`); see [`have_ovs`].
//!
//! ```no_run
//! # use integration::{Names, ovs::Ovs};
//! let names = Names::new();
//! let ovs = Ovs::builder(&names)
//!     .other_config("userspace-tso-enable", "true") // read at startup
//!     .bridge(&names.name("ob"))
//!     .start();
//! let br = names.name("ob");
//! let ofport = ovs.add_port(&br, &names.name("p1"), &[("type", "tap")], Some(1));
//! assert_eq!(ofport, 1);
//! integration::ovs_ofctl_ok(["dump-flows", &ovs.mgmt_target(&br)]);
//! ```

use crate::{Names, Netns, TempDir};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where Debian's `openvswitch-common` puts the database schema.
pub const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// How long each daemon may take to come up, and `ovs-vsctl` may wait for
/// `ovs-vswitchd` to apply a change.
pub const OVS_TIMEOUT: Duration = Duration::from_secs(30);

/// Where OVS tool `name` is: on PATH, else in /usr/sbin, /usr/bin,
/// /usr/local/sbin or /usr/local/bin (the daemons live in sbin, which a
/// non-login PATH may lack); the bare name if none has it.
pub fn ovs_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let fallback = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];
    std::env::split_paths(&path)
        .chain(fallback.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Whether the OVS daemons and tools are installed; prints a notice once if
/// not (`.ci/run` installs `openvswitch-switch`).
pub fn have_ovs() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        let tools = [
            "ovsdb-tool",
            "ovsdb-server",
            "ovs-vswitchd",
            "ovs-vsctl",
            "ovs-appctl",
        ];
        let missing: Vec<&str> = tools
            .iter()
            .copied()
            .filter(|t| {
                !Command::new(ovs_tool(t))
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false)
            })
            .collect();
        let schema = Path::new(VSWITCH_SCHEMA).exists();
        if !missing.is_empty() || !schema {
            eprintln!(
                "NOTICE: Open vSwitch is not installed (missing: {}{}; \
                 apt-get install openvswitch-switch); tests that compare with OVS are skipped",
                missing.join(" "),
                if schema { "" } else { " vswitch.ovsschema" }
            );
            return false;
        }
        true
    })
}

/// One bridge to create at startup (see [`OvsBuilder::bridge_with`]).
#[derive(Clone, Debug)]
pub struct BridgeSpec {
    pub name: String,
    /// `set bridge NAME KEY=VALUE` settings; defaults are
    /// `datapath_type=netdev fail-mode=secure protocols=OpenFlow13`.
    pub settings: Vec<(String, String)>,
}

impl BridgeSpec {
    pub fn new(name: &str) -> BridgeSpec {
        BridgeSpec {
            name: name.to_string(),
            settings: vec![
                ("datapath_type".into(), "netdev".into()),
                ("fail-mode".into(), "secure".into()),
                ("protocols".into(), "OpenFlow13".into()),
            ],
        }
    }

    /// Sets (or replaces) one `set bridge` column, e.g.
    /// `("fail-mode", "standalone")` or `("other_config:hwaddr", "\"02:..\"")`.
    pub fn set(mut self, key: &str, value: &str) -> BridgeSpec {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.to_string(), value.to_string()));
        self
    }
}

/// What to start.
pub struct OvsBuilder {
    dir: TempDir,
    ns_name: String,
    root_netns: bool,
    other_config: Vec<(String, String)>,
    bridges: Vec<BridgeSpec>,
    vswitchd_args: Vec<String>,
}

impl OvsBuilder {
    /// `Open_vSwitch . other_config:KEY=VALUE`, set before `ovs-vswitchd`
    /// starts (some keys, such as `userspace-tso-enable`, are only read
    /// then). See also [`Ovs::set_other_config`].
    pub fn other_config(mut self, key: &str, value: &str) -> Self {
        self.other_config.retain(|(k, _)| k != key);
        self.other_config.push((key.to_string(), value.to_string()));
        self
    }

    /// A userspace bridge in secure mode speaking OpenFlow 1.3 only.
    pub fn bridge(self, name: &str) -> Self {
        self.bridge_with(BridgeSpec::new(name))
    }

    pub fn bridge_with(mut self, spec: BridgeSpec) -> Self {
        self.bridges.push(spec);
        self
    }

    /// Runs `ovs-vswitchd` in the root network namespace instead of a
    /// private one (see the module doc for why that is not the default).
    pub fn root_netns(mut self) -> Self {
        self.root_netns = true;
        self
    }

    /// An extra `ovs-vswitchd` argument, e.g. `-vdpif_netdev:file:dbg`.
    pub fn vswitchd_arg(mut self, a: &str) -> Self {
        self.vswitchd_args.push(a.to_string());
        self
    }

    /// Creates the database, starts both daemons and the bridges. Panics
    /// (with the logs) if any step fails; whatever was started is stopped.
    pub fn start(self) -> Ovs {
        let dir = self.dir;
        let ns = if self.root_netns {
            None
        } else {
            Some(Netns::new(&self.ns_name))
        };
        let mut ovs = Ovs {
            bridges: Vec::new(),
            ovsdb: None,
            vswitchd: None,
            ns,
            dir,
        };
        let db = ovs.path("conf.db");
        ovs.cmd_ok(
            "ovsdb-tool",
            [
                OsStr::new("create"),
                db.as_os_str(),
                OsStr::new(VSWITCH_SCHEMA),
            ],
        );

        // ovsdb-server: ready once its socket exists (bound and listening).
        let mut a: Vec<OsString> = vec![
            arg("--remote=punix:", &ovs.db_sock()),
            arg("--pidfile=", &ovs.path("ovsdb-server.pid")),
            arg("--unixctl=", &ovs.ovsdb_ctl()),
            arg("--log-file=", &ovs.path("ovsdb-server.log")),
        ];
        a.push(db.into());
        let child = ovs.spawn_daemon("ovsdb-server", &a, false);
        ovs.ovsdb = Some(child);
        let sock = ovs.db_sock();
        ovs.wait_for(
            || sock.exists(),
            &format!("ovsdb-server: {} to appear", sock.display()),
        );
        ovs.vsctl_ok(["--no-wait", "init"]);
        if !self.other_config.is_empty() {
            let mut set: Vec<String> = vec![
                "--no-wait".into(),
                "set".into(),
                "Open_vSwitch".into(),
                ".".into(),
            ];
            for (k, v) in &self.other_config {
                set.push(format!("other_config:{k}={v}"));
            }
            ovs.vsctl_ok(&set);
        }

        // ovs-vswitchd: ready once it has applied the first bridge (ovs-vsctl
        // without --no-wait waits for that) and the bridge's .mgmt exists.
        let mut a: Vec<OsString> = vec![
            arg("unix:", &ovs.db_sock()),
            arg("--pidfile=", &ovs.path("ovs-vswitchd.pid")),
            arg("--unixctl=", &ovs.vswitchd_ctl()),
            arg("--log-file=", &ovs.path("ovs-vswitchd.log")),
        ];
        a.extend(self.vswitchd_args.iter().map(OsString::from));
        let in_ns = ovs.ns.is_some();
        let child = ovs.spawn_daemon("ovs-vswitchd", &a, in_ns);
        ovs.vswitchd = Some(child);
        let ctl = ovs.vswitchd_ctl();
        ovs.wait_for(
            || ctl.exists(),
            &format!("ovs-vswitchd: {} to appear", ctl.display()),
        );
        for spec in &self.bridges {
            ovs.add_bridge_with(spec);
        }
        ovs
    }
}

fn arg(prefix: &str, p: &Path) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(p.as_os_str());
    s
}

/// A running private Open vSwitch; stopped and removed on Drop.
pub struct Ovs {
    bridges: Vec<String>,
    ovsdb: Option<Child>,
    vswitchd: Option<Child>,
    // Dropped after the daemons are stopped (in Drop), in this order.
    ns: Option<Netns>,
    dir: TempDir,
}

impl Ovs {
    /// Names derive from `names` (`<base>-ovs` directory, `<base>ovs`
    /// namespace).
    pub fn builder(names: &Names) -> OvsBuilder {
        OvsBuilder {
            dir: TempDir::new(names, "ovs"),
            ns_name: names.name("ovs"),
            root_netns: false,
            other_config: Vec::new(),
            bridges: Vec::new(),
            vswitchd_args: Vec::new(),
        }
    }

    /// The directory holding the database, sockets and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// The namespace `ovs-vswitchd` runs in (None with `root_netns`). Ports
    /// OVS creates itself (`type=tap`, `type=internal`) appear there.
    pub fn netns(&self) -> Option<&Netns> {
        self.ns.as_ref()
    }

    pub fn db_sock(&self) -> PathBuf {
        self.path("db.sock")
    }

    /// `unix:DIR/db.sock`, for `ovs-vsctl --db=`.
    pub fn db_target(&self) -> String {
        format!("unix:{}", self.db_sock().display())
    }

    pub fn ovsdb_ctl(&self) -> PathBuf {
        self.path("ovsdb-server.ctl")
    }

    pub fn vswitchd_ctl(&self) -> PathBuf {
        self.path("ovs-vswitchd.ctl")
    }

    /// `DIR/BRIDGE.mgmt`, the bridge's OpenFlow management socket.
    pub fn mgmt_path(&self, bridge: &str) -> PathBuf {
        self.path(&format!("{bridge}.mgmt"))
    }

    /// `unix:DIR/BRIDGE.mgmt`, the target for ovs-ofctl and tapflow.
    pub fn mgmt_target(&self, bridge: &str) -> String {
        format!("unix:{}", self.mgmt_path(bridge).display())
    }

    pub fn bridges(&self) -> &[String] {
        &self.bridges
    }

    /// Both daemons' logs so far.
    pub fn log_text(&self) -> String {
        self.log_tail(usize::MAX)
    }

    /// The last `n` lines of each daemon's log and output.
    pub fn log_tail(&self, n: usize) -> String {
        let mut s = String::new();
        for f in [
            "ovsdb-server.log",
            "ovsdb-server.out",
            "ovs-vswitchd.log",
            "ovs-vswitchd.out",
        ] {
            let t = std::fs::read_to_string(self.path(f)).unwrap_or_default();
            let lines: Vec<&str> = t.lines().collect();
            if !lines.is_empty() {
                let skip = lines.len().saturating_sub(n);
                let cut = if skip > 0 { " (last lines)" } else { "" };
                s.push_str(&format!("--- {f}{cut} ---\n"));
                for l in &lines[skip..] {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    /// A command with this instance's OVS_* environment.
    fn command(&self, program: &str) -> Command {
        let mut c = if program.starts_with("ovs") {
            Command::new(ovs_tool(program))
        } else {
            Command::new(program)
        };
        for v in ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"] {
            c.env(v, self.dir.path());
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs an OVS tool with this instance's environment, unchecked.
    pub fn cmd<I, S>(&self, program: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// [`Ovs::cmd`], panicking (with the daemons' logs) unless it exits 0;
    /// returns stdout.
    pub fn cmd_ok<I, S>(&self, program: &str, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.cmd(program, &args);
        if !out.status.success() {
            panic!(
                "`{program} {}` failed ({}):\n{}{}\n{}",
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

    /// `ovs-vsctl --db=unix:DIR/db.sock --timeout=30 ARGS...`, unchecked.
    pub fn vsctl<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd("ovs-vsctl", self.vsctl_args(args))
    }

    /// [`Ovs::vsctl`], checked; returns stdout.
    pub fn vsctl_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd_ok("ovs-vsctl", self.vsctl_args(args))
    }

    fn vsctl_args<I, S>(&self, args: I) -> Vec<OsString>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec![
            format!("--db={}", self.db_target()).into(),
            format!("--timeout={}", OVS_TIMEOUT.as_secs()).into(),
        ];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        all
    }

    /// `ovs-appctl -t DIR/ovs-vswitchd.ctl ARGS...`, checked; returns stdout
    /// (e.g. `["dpif/show"]`, `["ofproto/trace", br, flow]`).
    pub fn appctl<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec!["-t".into(), self.vswitchd_ctl().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self.cmd_ok("ovs-appctl", all)
    }

    /// `set Open_vSwitch . other_config:KEY=VALUE`, waiting for
    /// `ovs-vswitchd` to apply it. Keys read only at startup (such as
    /// `userspace-tso-enable`) go to [`OvsBuilder::other_config`] instead.
    pub fn set_other_config(&self, key: &str, value: &str) {
        self.vsctl_ok([
            "set".to_string(),
            "Open_vSwitch".into(),
            ".".into(),
            format!("other_config:{key}={value}"),
        ]);
    }

    /// `get Open_vSwitch . COLUMN` (e.g. `other_config`, `dpdk_initialized`),
    /// trimmed.
    pub fn get_open_vswitch(&self, column: &str) -> String {
        self.vsctl_ok(["get", "Open_vSwitch", ".", column])
            .trim()
            .to_string()
    }

    /// A userspace, secure, OpenFlow 1.3 bridge; returns once its `.mgmt`
    /// socket accepts connections.
    pub fn add_bridge(&mut self, name: &str) {
        self.add_bridge_with(&BridgeSpec::new(name));
    }

    pub fn add_bridge_with(&mut self, spec: &BridgeSpec) {
        let mut a: Vec<String> = vec![
            "add-br".into(),
            spec.name.clone(),
            "--".into(),
            "set".into(),
            "bridge".into(),
            spec.name.clone(),
        ];
        a.extend(spec.settings.iter().map(|(k, v)| format!("{k}={v}")));
        self.vsctl_ok(&a);
        self.bridges.push(spec.name.clone());
        let mgmt = self.mgmt_path(&spec.name);
        self.wait_for(
            || std::os::unix::net::UnixStream::connect(&mgmt).is_ok(),
            &format!(
                "bridge {}: {} to accept connections",
                spec.name,
                mgmt.display()
            ),
        );
    }

    /// `add-port BRIDGE IFNAME -- set interface IFNAME KEY=VALUE...`
    /// (`ofport_request=N` when `ofport` is given), waiting until
    /// `ovs-vswitchd` has it; returns the OpenFlow port number. With
    /// `("type", "tap")` OVS creates the TAP itself, in [`Ovs::netns`];
    /// without a type the interface (e.g. a veth end) must already exist
    /// where ovs-vswitchd runs.
    pub fn add_port(
        &self,
        bridge: &str,
        ifname: &str,
        iface: &[(&str, &str)],
        ofport: Option<u32>,
    ) -> u32 {
        let mut a: Vec<String> = vec!["add-port".into(), bridge.into(), ifname.into()];
        let mut sets: Vec<String> = iface.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some(n) = ofport {
            sets.push(format!("ofport_request={n}"));
        }
        if !sets.is_empty() {
            a.extend(["--".into(), "set".into(), "interface".into(), ifname.into()]);
            a.extend(sets);
        }
        self.vsctl_ok(&a);
        let n = self.ofport(ifname);
        assert!(
            n > 0,
            "OVS could not add port {ifname} (ofport {n}): {}\n{}",
            self.vsctl_ok(["get", "interface", ifname, "error"]).trim(),
            self.log_text()
        );
        n
    }

    /// `del-port BRIDGE IFNAME`.
    pub fn del_port(&self, bridge: &str, ifname: &str) {
        self.vsctl_ok(["del-port", bridge, ifname]);
    }

    /// The interface's OpenFlow port number (-1 or 0 while OVS has none).
    pub fn ofport(&self, ifname: &str) -> u32 {
        let s = self.vsctl_ok(["get", "interface", ifname, "ofport"]);
        let v: i64 = s.trim().parse().unwrap_or(-1);
        u32::try_from(v).unwrap_or(0)
    }

    /// `ip -n NS ARGS...` in OVS's namespace (plain `ip` with `root_netns`).
    pub fn ip<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        match &self.ns {
            Some(ns) => ns.ip(args),
            None => crate::ip(args),
        }
    }

    /// Starts `program args` as our child with stdout/stderr to DIR/NAME.out
    /// (inside OVS's namespace when `in_ns`), dying with us.
    fn spawn_daemon(&self, program: &str, args: &[OsString], in_ns: bool) -> Child {
        let out = File::create(self.path(&format!("{program}.out"))).expect("create .out");
        let mut cmd = match (&self.ns, in_ns) {
            // `ip netns exec` execs the program (no fork), so the child is
            // the daemon itself; it also remounts /sys for the namespace.
            (Some(ns), true) => {
                let mut c = self.command("ip");
                c.args([
                    OsStr::new("netns"),
                    OsStr::new("exec"),
                    OsStr::new(ns.name()),
                ]);
                c.arg(ovs_tool(program));
                c
            }
            _ => self.command(program),
        };
        cmd.args(args)
            .stdout(out.try_clone().expect("dup .out"))
            .stderr(out);
        // SAFETY: prctl is async-signal-safe. If the test process dies
        // without running destructors, the daemon gets SIGTERM.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {program}: {e}"))
    }

    /// Polls `ready` until it holds; panics (with the logs) if a daemon
    /// exits first or [`OVS_TIMEOUT`] passes.
    fn wait_for(&mut self, mut ready: impl FnMut() -> bool, what: &str) {
        let deadline = Instant::now() + OVS_TIMEOUT;
        loop {
            if ready() {
                return;
            }
            let mut exited = None;
            for (name, c) in [
                ("ovsdb-server", &mut self.ovsdb),
                ("ovs-vswitchd", &mut self.vswitchd),
            ] {
                if let Some(st) = c.as_mut().and_then(|ch| ch.try_wait().expect("try_wait")) {
                    *c = None;
                    exited = Some((name, st));
                }
            }
            if let Some((name, st)) = exited {
                panic!(
                    "{name} exited ({st}) while waiting for {what}:\n{}",
                    self.log_text()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {OVS_TIMEOUT:?} waiting for {what}:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `ovs-appctl -t CTL exit`, then waits up to 10 s (SIGKILL after that).
    fn stop_daemon(&self, child: Option<Child>, ctl: &Path, name: &str) {
        let Some(mut c) = child else { return };
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        let _ = self
            .command("ovs-appctl")
            .args([
                OsStr::new("-t"),
                ctl.as_os_str(),
                OsStr::new("--timeout=5"),
                OsStr::new("exit"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match c.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => {}
            }
            if Instant::now() >= deadline {
                eprintln!("{name} did not exit 10 s after `ovs-appctl exit`; killing it");
                let _ = c.kill();
                let _ = c.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- Open vSwitch logs ({}) ---\n{}--- end of Open vSwitch logs ---",
                self.dir.path().display(),
                self.log_tail(40)
            );
        }
        let v = self.vswitchd.take();
        self.stop_daemon(v, &self.vswitchd_ctl(), "ovs-vswitchd");
        let d = self.ovsdb.take();
        self.stop_daemon(d, &self.ovsdb_ctl(), "ovsdb-server");
        // Then the namespace (with any TAP left in it), then the directory.
        self.ns.take();
    }
}
