//! The real os-ken (Ryu's successor; `os-ken<4`, since 4.x dropped
//! osken-manager) running a `simple_switch_13` app through the real
//! `osken-manager`, as tapflowd's controller in secure mode: it installs the
//! table-miss flow, learns MACs from PACKET_INs, and installs per-pair
//! flows; both VMs ping each other and the learned flows show in
//! `tapflow dump-flows`.
//!
//! The app: `os_ken.app.simple_switch_13` when the installed os-ken ships it
//! (1.x did; 2.x and 3.x dropped the sample apps from the package), else
//! `integration/osken/simple_switch_13.py`, the same behavior written for
//! this test.
//!
//! os-ken lives in a venv (`.ci/run` creates it):
//!   python3 -m venv /opt/tapflow-ci/osken
//!   /opt/tapflow-ci/osken/bin/pip install 'os-ken<4'
//! or wherever `$TAPFLOW_OSKEN_VENV` points. Without it the test prints a
//! notice and returns.

use integration::{require_root, wait_until, Names, TwoVms, IP1, IP2};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn osken_manager() -> Option<PathBuf> {
    let venv = std::env::var_os("TAPFLOW_OSKEN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tapflow-ci/osken"));
    let bin = venv.join("bin/osken-manager");
    if bin.exists() {
        Some(bin)
    } else {
        eprintln!(
            "NOTICE: {} not found: os-ken test skipped (python3 -m venv {v} && {v}/bin/pip install 'os-ken<4')",
            bin.display(),
            v = venv.display()
        );
        None
    }
}

/// The genuine sample app if this os-ken has it, else ours.
fn simple_switch_13(osken_manager: &std::path::Path) -> String {
    let venv = osken_manager
        .parent()
        .and_then(|p| p.parent())
        .expect("venv");
    let shipped = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|py| {
            py.path()
                .join("site-packages/os_ken/app/simple_switch_13.py")
                .exists()
        });
    if shipped {
        "os_ken.app.simple_switch_13".into()
    } else {
        concat!(env!("CARGO_MANIFEST_DIR"), "/osken/simple_switch_13.py").into()
    }
}

/// osken-manager, stopped on Drop; its log printed if the test panicked.
struct OsKen {
    child: Child,
    log: PathBuf,
}

impl OsKen {
    fn start(bin: &PathBuf, app: &str, port: u16, names: &Names) -> OsKen {
        let log = std::env::temp_dir().join(format!("{}-osken.log", names.base()));
        let f = std::fs::File::create(&log).expect("osken log");
        let mut cmd = Command::new(bin);
        cmd.args([
            "--ofp-listen-host",
            "127.0.0.1",
            "--ofp-tcp-listen-port",
            &port.to_string(),
            app,
        ])
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
        let mut o = OsKen { child, log };
        let up = wait_until(30 * SEC, Duration::from_millis(100), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up && o.child.try_wait().ok().flatten().is_none(),
            "osken-manager is not listening on {port}:\n{}",
            o.log_text()
        );
        o
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OsKen {
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
            eprintln!("--- osken-manager log ---\n{}--- end ---", self.log_text());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

#[test]
fn osken_simple_switch_13_learns_and_both_vms_ping() {
    require_root!();
    let Some(bin) = osken_manager() else {
        return;
    };
    let port = integration::free_tcp_port();
    let names = Names::new();
    let app = simple_switch_13(&bin);
    eprintln!("osken-manager {} with {app}", bin.display());
    let osken = OsKen::start(&bin, &app, port, &names);
    let bed = TwoVms::start(|b| b.secure().controller_tcp(port));
    let br = bed.bridge().to_string();

    // simple_switch_13 installs the table-miss flow once it sees FEATURES_REPLY.
    let miss = wait_until(15 * SEC, Duration::from_millis(200), || {
        bed.d
            .tapflow_ok(["dump-flows", &br])
            .contains("priority=0 actions=CONTROLLER:65535")
    });
    assert!(
        miss,
        "no table-miss flow from simple_switch_13:\n{}\n--- tapflowd ---\n{}\n--- os-ken ---\n{}",
        bed.d.tapflow_ok(["dump-flows", &br]),
        bed.d.log_text(),
        osken.log_text()
    );

    assert!(
        bed.vm1.ping(IP2, 5, SEC),
        "vm1 -> vm2 through simple_switch_13\n--- os-ken ---\n{}",
        osken.log_text()
    );
    assert!(
        bed.vm2.ping(IP1, 5, SEC),
        "vm2 -> vm1 through simple_switch_13"
    );
    assert_eq!(bed.vm1.ping_replies(IP2, 3, SEC), 3);
    bed.vm1
        .tcp_echo(&bed.vm2, 5001, 128 * 1024, 20 * SEC)
        .expect("TCP through simple_switch_13's flows");

    let (m1, m2) = (bed.vm1.mac_str(), bed.vm2.mac_str());
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    eprintln!("{dump}");
    let learned = |src: &str, dst: &str, out: u32| {
        dump.lines().any(|l| {
            l.contains("priority=1,")
                && l.contains(&format!("dl_src={src}"))
                && l.contains(&format!("dl_dst={dst}"))
                && l.ends_with(&format!("actions=output:{out}"))
        })
    };
    assert!(
        learned(&m1, &m2, 2),
        "learned flow vm1 -> vm2 (output:2):\n{dump}"
    );
    assert!(
        learned(&m2, &m1, 1),
        "learned flow vm2 -> vm1 (output:1):\n{dump}"
    );
    // The learned flows carry the traffic now, not PACKET_IN.
    assert!(
        integration::n_packets(&dump, &[&format!("dl_src={m1}"), &format!("dl_dst={m2}")])
            .unwrap_or(0)
            > 0,
        "{dump}"
    );
    drop(bed);
    drop(osken);
}
