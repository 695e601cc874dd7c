//! The real Faucet (`pip install faucet`, on os-ken 3.x) drives tapflowd in
//! secure fail mode, with Gauge polling the same bridge as a second
//! controller. Three namespace VMs on TAP ports 1..3:
//!
//! 1. one VLAN holds all three ports → every VM pings every other;
//! 2. faucet.yaml moves port 3 to a second VLAN, SIGHUP → VM3 is isolated
//!    from VM1/VM2 while VM1↔VM2 still work;
//! 3. back to one VLAN, SIGHUP → all ping again.
//!
//! Run once with Faucet's default `hardware: "Open vSwitch"` profile
//! (multi-table pipeline, goto_table, VLAN push/pop, metadata-free) and once
//! with `"Open vSwitch TFM"`, which first sends a TABLE_FEATURES set
//! naming and sizing tables 0..253 (the form Open vSwitch accepts) and then
//! the same flows. Gauge's text outputs must fill with port and flow-table
//! stats of the bridge.
//!
//! Faucet lives in a venv (`.ci/run` creates it):
//!   python3 -m venv /opt/tapflow-ci/faucet
//!   /opt/tapflow-ci/faucet/bin/pip install faucet
//! or wherever `$TAPFLOW_FAUCET_VENV` points. Without it the test prints a
//! notice and returns.

use integration::vm::mac;
use integration::{require_root, wait_until, DaemonBuilder, Names, TempDir, Vm};
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(200);
/// The datapath id tapflowd announces and faucet.yaml names.
const DPID: u64 = 0x7af1_0000_0000_0001;
const DP_NAME: &str = "tfsw";
const IPS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(10, 10, 10, 11),
    Ipv4Addr::new(10, 10, 10, 12),
    Ipv4Addr::new(10, 10, 10, 13),
];
/// Faucet's VLAN ids; `set_field:(0x1000|vid)->vlan_vid` in its flows.
const VID_BLUE: u16 = 100;
const VID_RED: u16 = 200;

fn faucet_venv() -> Option<PathBuf> {
    let venv = std::env::var_os("TAPFLOW_FAUCET_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tapflow-ci/faucet"));
    if venv.join("bin/faucet").exists() && venv.join("bin/osken-manager").exists() {
        Some(venv)
    } else {
        eprintln!(
            "NOTICE: no Faucet in {v}: Faucet test skipped (python3 -m venv {v} && {v}/bin/pip install faucet)",
            v = venv.display()
        );
        None
    }
}

/// One os-ken app of the Faucet package (`faucet.faucet` or `faucet.gauge`)
/// run by hand the way the `faucet`/`gauge` scripts do (osken-manager with
/// the app module; settings from `FAUCET_*`/`GAUGE_*` variables), stopped on
/// Drop; its logs printed if the test panicked.
struct OsKenApp {
    child: Child,
    /// What osken-manager prints, and the app's own log.
    logs: Vec<PathBuf>,
}

impl OsKenApp {
    fn start(venv: &Path, app: &str, port: u16, env: &[(String, String)], out: &Path) -> OsKenApp {
        let f = std::fs::File::create(out).expect("osken-manager output file");
        let mut cmd = Command::new(venv.join("bin/osken-manager"));
        cmd.args([
            "--ofp-listen-host",
            "127.0.0.1",
            "--ofp-tcp-listen-port",
            &port.to_string(),
            app,
        ])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(f.try_clone().expect("dup"))
        .stderr(f);
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn osken-manager");
        let mut logs = vec![out.to_path_buf()];
        logs.extend(
            env.iter()
                .filter(|(k, _)| k.ends_with("_LOG"))
                .map(|(_, v)| PathBuf::from(v)),
        );
        let mut a = OsKenApp { child, logs };
        let up = wait_until(60 * SEC, Duration::from_millis(100), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up && a.child.try_wait().ok().flatten().is_none(),
            "{app} is not listening on {port}:\n{}",
            a.log_text()
        );
        a
    }

    fn sighup(&self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGHUP) };
    }

    fn log_text(&self) -> String {
        self.logs
            .iter()
            .map(|p| {
                format!(
                    "--- {} ---\n{}",
                    p.display(),
                    std::fs::read_to_string(p).unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Drop for OsKenApp {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        if !wait_until(5 * SEC, Duration::from_millis(50), || {
            self.child.try_wait().ok().flatten().is_some()
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("{}", self.log_text());
        }
    }
}

/// faucet.yaml: ports 1 and 2 in VLAN blue, port 3 in `port3_vid`'s VLAN.
fn faucet_yaml(hardware: &str, port3_vid: u16) -> String {
    let port3 = if port3_vid == VID_BLUE { "blue" } else { "red" };
    let red = if port3_vid == VID_RED {
        format!("  red:\n    vid: {VID_RED}\n")
    } else {
        String::new()
    };
    format!(
        "vlans:\n  blue:\n    vid: {VID_BLUE}\n{red}\
         dps:\n  {DP_NAME}:\n    dp_id: {DPID:#x}\n    hardware: \"{hardware}\"\n    interfaces:\n\
         \x20     1:\n        native_vlan: blue\n\
         \x20     2:\n        native_vlan: blue\n\
         \x20     3:\n        native_vlan: {port3}\n"
    )
}

fn gauge_yaml(faucet_yaml: &Path, port_stats: &Path, flow_dir: &Path) -> String {
    format!(
        "faucet_configs:\n  - {}\n\
         watchers:\n\
         \x20 port_stats_poller:\n    type: port_stats\n    dps: [{DP_NAME}]\n    interval: 1\n    db: port_stats_file\n\
         \x20 flow_table_poller:\n    type: flow_table\n    dps: [{DP_NAME}]\n    interval: 1\n    db: flow_table_dir\n\
         dbs:\n\
         \x20 port_stats_file:\n    type: text\n    file: {}\n\
         \x20 flow_table_dir:\n    type: text\n    path: {}\n",
        faucet_yaml.display(),
        port_stats.display(),
        flow_dir.display()
    )
}

/// Every ordered pair of `vms` pings (each pair gets a few tries: Faucet
/// learns hosts from their first packets).
fn all_ping(vms: &[&Vm]) -> Result<(), String> {
    for a in vms {
        for b in vms {
            if a.ip != b.ip && !a.ping(b.ip, 5, SEC) {
                return Err(format!("{} cannot ping {}", a.ip, b.ip));
            }
        }
    }
    Ok(())
}

/// The rewrite of `vlan_vid` Faucet's vlan table does for untagged frames
/// of `vid` (as `tapflow dump-flows` prints it).
fn push_vid(vid: u16) -> String {
    format!("set_field:{}->vlan_vid", 0x1000 | vid)
}

/// The actions of the vlan-table flows for frames arriving on port 3.
fn port3_vlan_flows(dump: &str) -> Vec<String> {
    dump.lines()
        .filter(|l| l.contains("in_port=3") && l.contains("push_vlan"))
        .map(str::to_string)
        .collect()
}

fn faucet_drives_tapflowd(hardware: &str) {
    let Some(venv) = faucet_venv() else {
        return;
    };
    let names = Names::new();
    let dir = TempDir::new(&names, "faucet");
    let d = dir.path();
    let faucet_conf = d.join("faucet.yaml");
    std::fs::write(&faucet_conf, faucet_yaml(hardware, VID_BLUE)).unwrap();
    let port_stats = d.join("port_stats.txt");
    let flow_dir = d.join("flows");
    std::fs::create_dir_all(&flow_dir).unwrap();
    let gauge_conf = d.join("gauge.yaml");
    std::fs::write(
        &gauge_conf,
        gauge_yaml(&faucet_conf, &port_stats, &flow_dir),
    )
    .unwrap();
    let s = |p: &Path| p.display().to_string();
    let faucet_port = integration::free_tcp_port();
    let faucet = OsKenApp::start(
        &venv,
        "faucet.faucet",
        faucet_port,
        &[
            ("FAUCET_CONFIG".into(), s(&faucet_conf)),
            ("FAUCET_LOG".into(), s(&d.join("faucet.log"))),
            (
                "FAUCET_EXCEPTION_LOG".into(),
                s(&d.join("faucet_exception.log")),
            ),
            (
                "FAUCET_PROMETHEUS_PORT".into(),
                integration::free_tcp_port().to_string(),
            ),
            ("FAUCET_PROMETHEUS_ADDR".into(), "127.0.0.1".into()),
        ],
        &d.join("faucet.out"),
    );
    let gauge_port = integration::free_tcp_port();
    let gauge = OsKenApp::start(
        &venv,
        "faucet.gauge",
        gauge_port,
        &[
            ("GAUGE_CONFIG".into(), s(&gauge_conf)),
            ("GAUGE_LOG".into(), s(&d.join("gauge.log"))),
            (
                "GAUGE_EXCEPTION_LOG".into(),
                s(&d.join("gauge_exception.log")),
            ),
            ("GAUGE_PROMETHEUS_ADDR".into(), "127.0.0.1".into()),
        ],
        &d.join("gauge.out"),
    );

    let taps: Vec<String> = (1..=3).map(|i| names.name(&format!("t{i}"))).collect();
    let mut b = DaemonBuilder::new(&names.name("br"))
        .secure()
        .controller_tcp(faucet_port)
        .controller_tcp(gauge_port)
        .arg("--datapath-id")
        .arg(&format!("{DPID:x}"));
    for (i, t) in taps.iter().enumerate() {
        b = b.port(t, i as u32 + 1);
    }
    let daemon = b.spawn(&names);
    let vms: Vec<Vm> = taps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Vm::attach(
                &names.name(&format!("v{}", i + 1)),
                t,
                IPS[i],
                mac(i as u8 + 1),
            )
        })
        .collect();
    // Drop order, also on panic: the daemon (its TAPs vanish), then the VMs.
    let bed = Bed { daemon, vms };
    let (daemon, vms) = (&bed.daemon, &bed.vms);
    let br = daemon.bridge().to_string();
    let dump = || daemon.tapflow_ok(["dump-flows", &br]);
    let context = |what: &str| {
        format!(
            "{what}\n--- dump-flows ---\n{}\n--- tapflowd ---\n{}\n{}",
            dump(),
            daemon.log_text(),
            faucet.log_text()
        )
    };

    // Faucet programs its pipeline once the switch connects: the vlan
    // table pushes VLAN blue for untagged frames from each port.
    let programmed = wait_until(60 * SEC, POLL, || {
        let flows = port3_vlan_flows(&dump());
        flows.iter().any(|l| l.contains(&push_vid(VID_BLUE)))
    });
    assert!(
        programmed,
        "{}",
        context("Faucet did not program the vlan table")
    );
    // Every message Faucet sent was taken: it logs each OFPT_ERROR.
    let faucet_log = d.join("faucet.log");
    let no_errors = |when: &str| {
        let log = std::fs::read_to_string(&faucet_log).unwrap_or_default();
        assert!(
            !log.contains("OFError"),
            "{}",
            context(&format!("tapflowd refused Faucet's messages ({when})"))
        );
    };
    // The tables as Faucet configured them (the TFM profile names them),
    // read the way ovs-ofctl reads them.
    let features = integration::ovs_ofctl_ok(["dump-table-features", &daemon.mgmt_target()]);
    let names: Vec<&str> = if hardware.contains("TFM") {
        vec!["\"vlan\"", "\"eth_src\"", "\"eth_dst\"", "\"flood\""]
    } else {
        vec!["\"classifier\""]
    };
    for n in names {
        assert!(features.contains(n), "no table {n} in:\n{features}");
    }
    let all: Vec<&Vm> = vms.iter().collect();
    if let Err(e) = all_ping(&all) {
        panic!("{}", context(&format!("one VLAN: {e}")));
    }
    no_errors("one VLAN");

    // Port 3 to VLAN red.
    std::fs::write(&faucet_conf, faucet_yaml(hardware, VID_RED)).unwrap();
    faucet.sighup();
    let moved = wait_until(60 * SEC, POLL, || {
        let flows = port3_vlan_flows(&dump());
        !flows.is_empty() && flows.iter().all(|l| l.contains(&push_vid(VID_RED)))
    });
    assert!(
        moved,
        "{}",
        context("the reload did not move port 3 to VLAN red")
    );
    for vm in vms {
        vm.flush_neigh();
    }
    if let Err(e) = all_ping(&all[..2]) {
        panic!("{}", context(&format!("two VLANs, blue: {e}")));
    }
    no_errors("two VLANs");
    for other in &vms[..2] {
        assert_eq!(
            vms[2].ping_replies(other.ip, 3, SEC),
            0,
            "{}",
            context(&format!("VM3 (VLAN red) reached {}", other.ip))
        );
        assert_eq!(
            other.ping_replies(vms[2].ip, 3, SEC),
            0,
            "{}",
            context(&format!("{} reached VM3 (VLAN red)", other.ip))
        );
    }

    // And back.
    std::fs::write(&faucet_conf, faucet_yaml(hardware, VID_BLUE)).unwrap();
    faucet.sighup();
    let back = wait_until(60 * SEC, POLL, || {
        let flows = port3_vlan_flows(&dump());
        !flows.is_empty() && flows.iter().all(|l| l.contains(&push_vid(VID_BLUE)))
    });
    assert!(
        back,
        "{}",
        context("the reload did not return port 3 to VLAN blue")
    );
    for vm in vms {
        vm.flush_neigh();
    }
    if let Err(e) = all_ping(&all) {
        panic!("{}", context(&format!("one VLAN again: {e}")));
    }
    no_errors("one VLAN again");

    // Gauge, connected all along as the second controller, polled both.
    let gauge_context = |what: &str| {
        let flows: Vec<String> = std::fs::read_dir(&flow_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        format!(
            "{what}\n--- {} ---\n{}\n--- {}: {flows:?}\n--- tapflowd ---\n{}\n{}",
            port_stats.display(),
            std::fs::read_to_string(&port_stats).unwrap_or_default(),
            flow_dir.display(),
            daemon.log_text(),
            gauge.log_text()
        )
    };
    let port_stat_lines = wait_until(30 * SEC, POLL, || {
        let t = std::fs::read_to_string(&port_stats).unwrap_or_default();
        (1..=3).all(|p| t.contains(&format!("{DP_NAME}-{p}-packets-out")))
    });
    assert!(
        port_stat_lines,
        "{}",
        gauge_context("Gauge wrote no port stats for ports 1..3")
    );
    let text = std::fs::read_to_string(&port_stats).unwrap();
    let rx_packets: u64 = text
        .lines()
        .filter(|l| l.contains(&format!("{DP_NAME}-1-packets-in")))
        .filter_map(|l| l.rsplit('\t').next()?.trim().parse().ok())
        .max()
        .unwrap_or(0);
    assert!(
        rx_packets > 0,
        "{}",
        gauge_context(&format!("port 1 received nothing per Gauge:\n{text}"))
    );
    let flow_tables = wait_until(30 * SEC, POLL, || {
        std::fs::read_dir(&flow_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let t = std::fs::read_to_string(e.path()).unwrap_or_default();
                t.contains("OFPFlowStatsReply") && t.contains(&(0x1000 | VID_BLUE).to_string())
            })
    });
    assert!(
        flow_tables,
        "{}",
        gauge_context("Gauge wrote no flow table holding Faucet's flows")
    );
    drop(bed);
    drop(gauge);
    drop(faucet);
}

struct Bed {
    daemon: integration::Daemon,
    vms: Vec<Vm>,
}

#[test]
fn faucet_open_vswitch_profile_vlans_follow_reloads() {
    require_root!();
    faucet_drives_tapflowd("Open vSwitch");
}

#[test]
fn faucet_open_vswitch_tfm_profile_vlans_follow_reloads() {
    require_root!();
    faucet_drives_tapflowd("Open vSwitch TFM");
}
