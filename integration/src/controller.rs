//! `tapflow-controller` in the end-to-end tests: a guard for the process
//! ([`Controller`]: stopped on Drop, its log printed when the test
//! panicked), `check` and `dump-flows` as comparable line sets, and the
//! tenant network the tests build ([`TenantNet`], [`TapflowdBridges`]):
//! VMs of three tenants on two bridges joined by a trunk.
//!
//! ```text
//!   bridge br-test (dpid 0xa1)                       bridge far (dpid 0xf0)
//!   port 1 (by name) vm-blue1  10.0.10.11 blue       port 1 far-blue  10.0.10.21 blue
//!   port 2           vm-blue2  10.0.10.12 blue       port 2 far-green 10.0.30.21 green
//!   port 3 (by name) vm-red1   10.0.20.11 red
//!   port 4           vm-green1 10.0.30.11 green
//!   port 5 (by name) trunk ==== blue, red, green ==== port 10 (by name) trunk
//! ```
//!
//! Tenants blue (VLAN 10), red (20), green (30), each with a gateway `.1`
//! the controller answers ARP for; the policy allows blue <-> red only.
//! Every VM has a default route via its tenant's gateway. The trunk carries
//! red too although no red VM is on far: routing happens on the sender's
//! bridge, so far-blue's replies to vm-red1 leave far already in red.
//!
//! The far side of the trunk is a second switch rather than a host with
//! VLAN subinterfaces because the kernels these tests run on may lack
//! 802.1Q (and bridge) support; a second switch the same controller
//! drives also exercises trunks between bridges.

use crate::vm::{mac_str, Vm};
use crate::{in_netns, wait_until, Daemon, DaemonBuilder, Link, Names, TempDir};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The cookie the descriptions use (the controller's default).
pub const COOKIE: u64 = 0x7466_0000_0000_0001;
/// `dump-flows` filter for our flows only.
pub fn cookie_filter() -> String {
    format!("cookie={COOKIE:#x}/-1")
}

/// The controller binary, built (once per test process, in this test
/// binary's profile) unless `TAPFLOW_BIN_DIR` names a directory with it.
pub fn controller_bin() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if std::env::var_os("TAPFLOW_BIN_DIR").is_some() {
            return;
        }
        // Where `bin` finds the workspace's binaries tells the profile.
        let dir = crate::bin("tapflowd")
            .parent()
            .expect("target/<profile>")
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "controller-sim", "--bins"]);
        if dir.file_name() == Some(std::ffi::OsStr::new("release")) {
            cmd.arg("--release");
        }
        cmd.current_dir(crate::workspace_root());
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build -p controller-sim --bins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    crate::bin("tapflow-controller")
}

/// The flow lines of `dump-flows --no-stats` output (tapflow's or
/// ovs-ofctl's), with the `cookie=...,` prefix removed: comparable with
/// [`check_by_bridge`].
pub fn flow_lines(dump: &str) -> BTreeSet<String> {
    dump.lines()
        .filter(|l| l.contains("actions="))
        .map(|l| {
            // dump-flows separates the leading fields with ", " (`cookie=C,
            // table=T, priority=...`); add-flow syntax (check) has `table=T,priority=`.
            let l = l.trim();
            let l = match l.strip_prefix("cookie=") {
                Some(rest) => rest.split_once(", ").map(|(_, r)| r).unwrap_or(rest),
                None => l,
            };
            match l.strip_prefix("table=").and_then(|r| r.split_once(", ")) {
                Some((t, rest)) => format!("table={t},{rest}"),
                None => l.to_string(),
            }
        })
        .collect()
}

/// Lines in one set and not the other, for an assertion message.
pub fn set_diff(want: &BTreeSet<String>, got: &BTreeSet<String>) -> String {
    let mut s = String::new();
    for l in want.difference(got) {
        s.push_str(&format!("  missing: {l}\n"));
    }
    for l in got.difference(want) {
        s.push_str(&format!("  extra:   {l}\n"));
    }
    s
}

/// A running `tapflow-controller run`; SIGTERM (then SIGKILL) on Drop.
pub struct Controller {
    child: Option<Child>,
    args: Vec<String>,
    netns: Option<String>,
    log: PathBuf,
    desc: PathBuf,
    // Last: the log and the description live in it.
    dir: TempDir,
}

impl Controller {
    /// Writes `desc` to a file and starts `tapflow-controller run FILE ARGS`
    /// (inside namespace `netns` if given); returns once it has bound its
    /// listeners and metrics endpoint.
    pub fn start(names: &Names, desc: &str, args: &[String], netns: Option<&str>) -> Controller {
        let dir = TempDir::new(names, "ctl");
        let path = dir.path().join("network.toml");
        std::fs::write(&path, desc).expect("write description");
        let mut c = Controller {
            child: None,
            args: args.to_vec(),
            netns: netns.map(str::to_string),
            log: dir.path().join("controller.log"),
            desc: path,
            dir,
        };
        c.spawn();
        c
    }

    pub fn desc_path(&self) -> &Path {
        &self.desc
    }

    /// Replaces the description file (a reload picks it up).
    pub fn write_desc(&self, text: &str) {
        // Write then rename, so a --watch poll never reads half a file.
        let tmp = self.dir.path().join("network.toml.new");
        std::fs::write(&tmp, text).expect("write description");
        std::fs::rename(&tmp, &self.desc).expect("rename description");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many log lines contain `needle` (all runs).
    pub fn count_log(&self, needle: &str) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// The last log line containing `needle` (empty if none).
    pub fn last_log(&self, needle: &str) -> String {
        self.log_text()
            .lines()
            .rev()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until at least `n` log lines contain `needle`.
    pub fn wait_log(&self, needle: &str, n: usize, timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(50), || {
            self.count_log(needle) >= n
        })
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "controller already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open log");
        let started_before = self.count_log("tapflow-controller: ");
        let bin = controller_bin();
        let mut cmd = match &self.netns {
            // `ip netns exec` execs the program: the child is the controller.
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.arg("run")
            .arg(&self.desc)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .env("NO_COLOR", "1");
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        // SAFETY: prctl is async-signal-safe; the controller dies with us.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        self.child = Some(cmd.spawn().expect("spawn tapflow-controller"));
        // It logs its first line once listeners and metrics are bound.
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.count_log("tapflow-controller: ") <= started_before {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!(
                    "tapflow-controller exited ({st}) at startup:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tapflow-controller not up after 30 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn signal(&self, sig: i32) {
        let pid = self.pid().expect("controller running");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid as i32, sig) };
    }

    /// `systemctl reload`'s way: SIGHUP.
    pub fn hup(&self) {
        self.signal(libc::SIGHUP);
    }

    /// SIGTERM, then SIGKILL after 10 s; the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        // SAFETY: signalling our own child.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                let _ = c.kill();
                return c.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts again with the same arguments and description file.
    pub fn restart(&mut self) {
        let st = self.stop();
        assert!(
            st.map(|s| s.success()).unwrap_or(true),
            "tapflow-controller exited with {st:?} on SIGTERM:\n{}",
            self.log_text()
        );
        self.spawn();
    }

    /// `GET /metrics` from `addr` (inside the controller's namespace).
    pub fn metrics(&self, addr: &str) -> String {
        let addr = addr.to_string();
        let get = move || -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(&addr)?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        };
        let resp = match &self.netns {
            Some(ns) => in_netns(ns, get),
            None => get(),
        }
        .unwrap_or_else(|e| panic!("GET /metrics: {e}\n{}", self.log_text()));
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_string()
    }
}

/// The value of one sample (`name{labels}` exactly as exposed).
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

impl Drop for Controller {
    fn drop(&mut self) {
        let st = self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- tapflow-controller log (exit {st:?}) ---\n{}--- end of tapflow-controller log ---",
                self.log_text()
            );
        }
    }
}

/// One endpoint of the tenant network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: &'static str,
    pub tenant: &'static str,
    pub ip: Ipv4Addr,
    /// Only vm-blue1 and vm-red1 also have IPv6 (routed via `gateway6`).
    pub ip6: Option<Ipv6Addr>,
    pub mac: [u8; 6],
}

pub const BLUE1: Host = Host {
    name: "vm-blue1",
    tenant: "blue",
    ip: Ipv4Addr::new(10, 0, 10, 11),
    ip6: Some(Ipv6Addr::new(0xfd00, 0x10, 0, 0, 0, 0, 0, 0x11)),
    mac: [0x02, 0x7f, 0, 0, 0, 0x11],
};
pub const BLUE2: Host = Host {
    name: "vm-blue2",
    tenant: "blue",
    ip: Ipv4Addr::new(10, 0, 10, 12),
    ip6: None,
    mac: [0x02, 0x7f, 0, 0, 0, 0x12],
};
pub const RED1: Host = Host {
    name: "vm-red1",
    tenant: "red",
    ip: Ipv4Addr::new(10, 0, 20, 11),
    ip6: Some(Ipv6Addr::new(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x11)),
    mac: [0x02, 0x7f, 0, 0, 0, 0x21],
};
pub const GREEN1: Host = Host {
    name: "vm-green1",
    tenant: "green",
    ip: Ipv4Addr::new(10, 0, 30, 11),
    ip6: None,
    mac: [0x02, 0x7f, 0, 0, 0, 0x31],
};
pub const FAR_BLUE: Host = Host {
    name: "far-blue",
    tenant: "blue",
    ip: Ipv4Addr::new(10, 0, 10, 21),
    ip6: None,
    mac: [0x02, 0x7f, 0, 0, 0, 0x1a],
};
pub const FAR_GREEN: Host = Host {
    name: "far-green",
    tenant: "green",
    ip: Ipv4Addr::new(10, 0, 30, 21),
    ip6: None,
    mac: [0x02, 0x7f, 0, 0, 0, 0x3a],
};

/// Every host, in the order of [`Ports::placement`] and `Ports::vms`.
pub fn hosts() -> [Host; 6] {
    [BLUE1, BLUE2, RED1, GREEN1, FAR_BLUE, FAR_GREEN]
}

/// `gateway` of a tenant (`.1` of its /24).
pub fn gateway(tenant: &str) -> Ipv4Addr {
    match tenant {
        "blue" => Ipv4Addr::new(10, 0, 10, 1),
        "red" => Ipv4Addr::new(10, 0, 20, 1),
        "green" => Ipv4Addr::new(10, 0, 30, 1),
        t => panic!("no tenant {t}"),
    }
}

/// `gateway6` of a tenant that has one (blue and red: `fd00:V::1`).
pub fn gateway6(tenant: &str) -> Option<Ipv6Addr> {
    match tenant {
        "blue" => Some(Ipv6Addr::new(0xfd00, 0x10, 0, 0, 0, 0, 0, 1)),
        "red" => Some(Ipv6Addr::new(0xfd00, 0x20, 0, 0, 0, 0, 0, 1)),
        _ => None,
    }
}

/// The policy: same tenant, or blue <-> red (routed).
pub fn allowed(a: &str, b: &str) -> bool {
    a == b || matches!((a, b), ("blue", "red") | ("red", "blue"))
}

/// Datapath ids of the two bridges.
pub const DPID: u64 = 0xa1;
pub const FAR_DPID: u64 = 0xf0;
/// Bridge names in the description.
pub const BRIDGE: &str = "br-test";
pub const FAR_BRIDGE: &str = "far";
/// OpenFlow port numbers of the trunk ends.
pub const TRUNK_PORT: u32 = 5;
pub const FAR_TRUNK_PORT: u32 = 10;

/// The interface names of the switches' ports.
#[derive(Clone, Debug)]
pub struct Ports {
    /// Bridge ports 1..=4 (VMs), then far ports 1 and 2 (VMs), in [`hosts`] order.
    pub vms: [String; 6],
    /// The trunk's ends: port 5 of the bridge, port 10 of far.
    pub trunk: String,
    pub far_trunk: String,
}

impl Ports {
    pub fn new(names: &Names) -> Ports {
        Ports {
            vms: ["t1", "t2", "t3", "t4", "f1", "f2"].map(|s| names.name(s)),
            trunk: names.name("tk"),
            far_trunk: names.name("fk"),
        }
    }

    /// (host, bridge, OpenFlow port) of each VM.
    pub fn placement() -> [(Host, &'static str, u32); 6] {
        [
            (BLUE1, BRIDGE, 1),
            (BLUE2, BRIDGE, 2),
            (RED1, BRIDGE, 3),
            (GREEN1, BRIDGE, 4),
            (FAR_BLUE, FAR_BRIDGE, 1),
            (FAR_GREEN, FAR_BRIDGE, 2),
        ]
    }

    /// `--port NAME=NUM` for `check`: the ports the description names.
    pub fn check_args(&self) -> Vec<(String, u32)> {
        vec![
            (self.vms[0].clone(), 1),
            (self.vms[2].clone(), 3),
            (self.trunk.clone(), TRUNK_PORT),
            (self.far_trunk.clone(), FAR_TRUNK_PORT),
        ]
    }
}

/// The `[[vm]]` entry of `h` (port given by `port`, a TOML value).
fn vm_entry(h: &Host, bridge: &str, port: &str) -> String {
    let ipv6 = h
        .ip6
        .map(|a| format!("ipv6 = [\"{a}\"]\n"))
        .unwrap_or_default();
    format!(
        "[[vm]]\nname = \"{}\"\nbridge = \"{bridge}\"\nmac = \"{}\"\nipv4 = \"{}\"\n{ipv6}port = {port}\ntenant = \"{}\"\n",
        h.name,
        mac_str(&h.mac),
        h.ip,
        h.tenant
    )
}

/// The description of the tenant network. VMs 1 and 3 and both trunk ends
/// are named by interface (resolved through PORT_DESC), the rest by
/// number. Without `omit`ted hosts.
pub fn tenant_desc(ports: &Ports, metrics: Option<&str>, omit: &[&Host]) -> String {
    let metrics = metrics
        .map(|a| format!("metrics = \"{a}\"\n"))
        .unwrap_or_default();
    let mut s = format!(
        r#"# The integration tests' tenant network (integration/src/controller.rs).
[controller]
{metrics}
[[bridge]]
name = "{BRIDGE}"
datapath_id = "{DPID:#x}"

[[bridge]]
name = "{FAR_BRIDGE}"
datapath_id = "{FAR_DPID:#x}"

[[tenant]]
name = "blue"
vlan = 10
subnet = "10.0.10.0/24"
gateway = "10.0.10.1"
subnet6 = "fd00:10::/64"
gateway6 = "fd00:10::1"

[[tenant]]
name = "red"
vlan = 20
subnet = "10.0.20.0/24"
gateway = "10.0.20.1"
subnet6 = "fd00:20::/64"
gateway6 = "fd00:20::1"

[[tenant]]
name = "green"
vlan = 30
subnet = "10.0.30.0/24"
gateway = "10.0.30.1"

[[trunk]]
bridge = "{BRIDGE}"
port = "{}"
tenants = ["blue", "red", "green"]

[[trunk]]
bridge = "{FAR_BRIDGE}"
port = "{}"
tenants = ["blue", "red", "green"]

[policy]
allow = [["blue", "red"]]

"#,
        ports.trunk, ports.far_trunk
    );
    for (i, (h, bridge, no)) in Ports::placement().into_iter().enumerate() {
        if omit.contains(&&h) {
            continue;
        }
        let port = if i == 0 || i == 2 {
            format!("\"{}\"", ports.vms[i])
        } else {
            no.to_string()
        };
        s.push_str(&vm_entry(&h, bridge, &port));
        s.push('\n');
    }
    s
}

/// `check`'s flows for each bridge of the description.
pub fn check_by_bridge(desc: &Path, ports: &[(String, u32)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut args: Vec<String> = vec!["check".into(), desc.display().to_string()];
    for (n, p) in ports {
        args.push("--port".into());
        args.push(format!("{n}={p}"));
    }
    let out = crate::run_ok(controller_bin().to_str().expect("utf-8"), &args);
    let mut by = BTreeMap::new();
    let mut cur = String::new();
    for l in out.lines() {
        if let Some(b) = l.strip_prefix("# bridge ") {
            cur = b.trim().to_string();
            by.entry(cur.clone()).or_insert_with(BTreeSet::new);
        } else if !l.trim().is_empty() && !l.starts_with('#') {
            by.entry(cur.clone())
                .or_insert_with(BTreeSet::new)
                .insert(l.to_string());
        }
    }
    by
}

/// The VMs of the tenant network, in [`hosts`] order.
pub struct TenantNet {
    pub vms: Vec<(Host, Vm)>,
}

impl TenantNet {
    /// Moves the VMs' interfaces (`ifnames`, in [`hosts`] order, in our
    /// namespace: TAP far ends or veth peers) into fresh namespaces,
    /// configures them and gives each a default route via its tenant's
    /// gateway.
    pub fn build(names: &Names, ifnames: &[String; 6]) -> TenantNet {
        let vms = hosts()
            .into_iter()
            .zip(ifnames)
            .enumerate()
            .map(|(i, (h, ifname))| {
                let vm = Vm::attach(&names.name(&format!("v{}", i + 1)), ifname, h.ip, h.mac);
                vm.ns.ip([
                    "route",
                    "add",
                    "default",
                    "via",
                    &gateway(h.tenant).to_string(),
                ]);
                if let (Some(a), Some(gw6)) = (h.ip6, gateway6(h.tenant)) {
                    vm.ns
                        .sysctl(&format!("net/ipv6/conf/{ifname}/disable_ipv6"), "0");
                    vm.ns.ip([
                        "-6",
                        "addr",
                        "add",
                        &format!("{a}/64"),
                        "dev",
                        ifname,
                        "nodad",
                    ]);
                    vm.ns
                        .ip(["-6", "route", "add", "default", "via", &gw6.to_string()]);
                }
                (h, vm)
            })
            .collect();
        TenantNet { vms }
    }

    pub fn vm(&self, h: &Host) -> &Vm {
        &self
            .vms
            .iter()
            .find(|(x, _)| x == h)
            .unwrap_or_else(|| panic!("no vm {}", h.name))
            .1
    }
}

/// The two bridges as tapflowd daemons (secure mode, ports as in
/// [`Ports`]), joined by a veth pair attached to both as system ports.
/// `with` adds the controller flags to each. Field order is drop order:
/// the daemons stop before the trunk's veth goes.
pub struct TapflowdBridges {
    pub d: Daemon,
    pub far: Daemon,
    pub trunk: Link,
}

impl TapflowdBridges {
    pub fn start(
        names: &Names,
        ports: &Ports,
        with: impl Fn(DaemonBuilder) -> DaemonBuilder,
    ) -> TapflowdBridges {
        let trunk = Link::veth(&ports.trunk, &ports.far_trunk);
        for end in [&ports.trunk, &ports.far_trunk] {
            // No IPv6 chatter of the host's own on the trunk.
            std::fs::write(format!("/proc/sys/net/ipv6/conf/{end}/disable_ipv6"), "1")
                .unwrap_or_else(|e| panic!("disable IPv6 on {end}: {e}"));
            crate::ip(["link", "set", end, "up"]);
        }
        let mut b = DaemonBuilder::new(&names.name("br"))
            .secure()
            .arg("--datapath-id")
            .arg(&format!("{DPID:x}"));
        for (i, p) in ports.vms[..4].iter().enumerate() {
            b = b.port(p, i as u32 + 1);
        }
        let d = with(b.port(&ports.trunk, TRUNK_PORT)).spawn(names);
        let far_names = Names::new();
        let b = DaemonBuilder::new(&names.name("fb"))
            .secure()
            .arg("--datapath-id")
            .arg(&format!("{FAR_DPID:x}"))
            .port(&ports.vms[4], 1)
            .port(&ports.vms[5], 2)
            .port(&ports.far_trunk, FAR_TRUNK_PORT);
        let far = with(b).spawn(&far_names);
        TapflowdBridges { d, far, trunk }
    }

    /// Our flows on each bridge, as `flow_lines`.
    pub fn our_flows(&self) -> BTreeMap<String, BTreeSet<String>> {
        [(BRIDGE, &self.d), (FAR_BRIDGE, &self.far)]
            .into_iter()
            .map(|(name, d)| {
                let dump = d.tapflow_ok(["dump-flows", "--no-stats", d.bridge(), &cookie_filter()]);
                (name.to_string(), flow_lines(&dump))
            })
            .collect()
    }
}

/// One UDP datagram from `a` to `b` (at `b`'s IPv6 address) and its
/// answer back, over IPv6: each side resolves its gateway with neighbor
/// discovery first. Retries for up to 10 s.
pub fn udp6_round_trip(a: (&Host, &Vm), b: (&Host, &Vm), port: u16) -> Result<(), String> {
    let (a_ip, b_ip) = (a.0.ip6.expect("IPv6 host"), b.0.ip6.expect("IPv6 host"));
    let bind = |vm: &Vm, ip: Ipv6Addr, port: u16| {
        let s = vm
            .ns
            .enter(move || UdpSocket::bind(SocketAddrV6::new(ip, port, 0, 0)))
            .map_err(|e| format!("bind [{ip}]:{port}: {e}"))?;
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        Ok::<UdpSocket, String>(s)
    };
    let server = bind(b.1, b_ip, port)?;
    let client = bind(a.1, a_ip, 0)?;
    let to = SocketAddr::V6(SocketAddrV6::new(b_ip, port, 0, 0));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 64];
    while Instant::now() < deadline {
        // Sends fail until the gateway is resolved; keep trying.
        let _ = client.send_to(b"tapflow6", to);
        let Ok((n, from)) = server.recv_from(&mut buf) else {
            continue;
        };
        if &buf[..n] != b"tapflow6" {
            continue;
        }
        let back = Instant::now() + Duration::from_secs(5);
        while Instant::now() < back {
            let _ = server.send_to(b"back6", from);
            if let Ok((n, _)) = client.recv_from(&mut buf) {
                if &buf[..n] == b"back6" {
                    return Ok(());
                }
            }
        }
        return Err(format!(
            "{} got {}'s datagram, the answer never came back",
            b.0.name, a.0.name
        ));
    }
    Err(format!(
        "no datagram from {} reached {} over IPv6",
        a.0.name, b.0.name
    ))
}

/// The MAC `vm` resolved `ip6` to (any state but INCOMPLETE/FAILED).
pub fn neigh6(vm: &Vm, ip6: Ipv6Addr) -> Option<String> {
    let out = vm.ns.ip(["-6", "neigh", "show", &ip6.to_string()]);
    let line = out.lines().next()?;
    if line.contains("FAILED") || line.contains("INCOMPLETE") {
        return None;
    }
    let mut words = line.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next().map(str::to_string)
}

/// One row of the ping matrix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PingResult {
    pub from: &'static str,
    pub to: &'static str,
    pub expected: bool,
    pub got: bool,
}

/// Pings every other host from every host (one thread per source), an
/// allowed pair up to `tries` times, a denied one once, 1 s timeout each.
pub fn ping_matrix(net: &TenantNet, tries: u32) -> Vec<PingResult> {
    let mut rows: Vec<PingResult> = std::thread::scope(|s| {
        let handles: Vec<_> = net
            .vms
            .iter()
            .map(|(from, vm)| {
                s.spawn(move || {
                    hosts()
                        .into_iter()
                        .filter(|to| to != from)
                        .map(|to| {
                            let expected = allowed(from.tenant, to.tenant);
                            let n = if expected { tries } else { 1 };
                            PingResult {
                                from: from.name,
                                to: to.name,
                                expected,
                                got: vm.ping(to.ip, n, Duration::from_secs(1)),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("ping thread"))
            .collect()
    });
    rows.sort();
    rows
}

/// The matrix as a table for the log and assertion messages.
pub fn format_matrix(rows: &[PingResult]) -> String {
    let mut s = String::new();
    for r in rows {
        s.push_str(&format!(
            "  {:10} -> {:10} {:8} {}\n",
            r.from,
            r.to,
            if r.got { "ping" } else { "no reply" },
            if r.got == r.expected {
                "(as the policy says)"
            } else if r.expected {
                "(WRONG: the policy allows it)"
            } else {
                "(WRONG: the policy denies it)"
            }
        ));
    }
    s
}

/// For each host and each host of another tenant its policy denies: with
/// an on-link route to it (so the host ARPs for it directly instead of
/// asking its gateway), a ping gets no reply and ARP never resolves.
/// Returns the pairs where something got through.
pub fn arp_leaks(net: &TenantNet) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = net
            .vms
            .iter()
            .map(|(h, vm)| {
                s.spawn(move || {
                    let mut leaks = Vec::new();
                    let denied: Vec<Host> = hosts()
                        .into_iter()
                        .filter(|d| !allowed(h.tenant, d.tenant))
                        .collect();
                    let route = |verb: &str, d: &Host| {
                        vm.ns
                            .ip(["route", verb, &format!("{}/32", d.ip), "dev", &vm.ifname]);
                    };
                    for d in &denied {
                        route("add", d);
                        if vm.ping(d.ip, 1, Duration::from_secs(1)) {
                            leaks.push(format!("{} pinged {} on-link", h.name, d.name));
                        }
                    }
                    for d in &denied {
                        if let Some(lladdr) = vm.neigh(d.ip) {
                            leaks.push(format!("{} resolved {} to {lladdr}", h.name, d.name));
                        }
                        route("del", d);
                    }
                    vm.flush_neigh();
                    leaks
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("arp thread"))
            .collect()
    })
}

/// `promtool check metrics` on `text`: `None` (after a notice) when promtool
/// is not installed, else its verdict with its output.
pub fn promtool_check(text: &str) -> Option<Result<(), String>> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!(
            "NOTICE: promtool not installed (apt-get install prometheus); metrics lint skipped"
        );
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(said)
    })
}
