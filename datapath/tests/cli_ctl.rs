//! End to end: the `tapflow` control-socket verbs (`add-port`, `del-port`,
//! `trace`, `snoop`, `version`, `list-bridges`) against a fake
//! `RUNDIR/tapflowd.ctl` speaking tapflowd's newline-delimited JSON.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A fake tapflowd control socket in a private run directory.
struct FakeCtl {
    dir: PathBuf,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Drop for FakeCtl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn answer(req: &Value) -> Vec<Value> {
    let bridge = req["bridge"].as_str().unwrap_or("");
    if req["cmd"] != "version" && req["cmd"] != "list-bridges" && bridge != "br0" {
        return vec![json!({"ok": false, "error": format!("no bridge named {bridge}")})];
    }
    match req["cmd"].as_str().unwrap_or("") {
        "version" => vec![json!({"ok": true, "version": "9.8.7"})],
        "list-bridges" => vec![json!({"ok": true, "bridges": [
            {"name": "br1", "datapath_id": "00000000000000bb", "ports": []},
            {"name": "br0", "datapath_id": "00000000000000aa", "ports": []},
        ]})],
        "add-port" if req["port"] == "bad0" => {
            vec![json!({"ok": false, "error": "bad0: Operation not permitted (os error 1)"})]
        }
        "add-port" => {
            vec![json!({"ok": true, "ofport": req.get("ofport").cloned().unwrap_or(json!(7))})]
        }
        "del-port" => vec![json!({"ok": true, "ofport": 3})],
        "trace" => vec![json!({
            "ok": true, "bridge": "br0", "flow": req["flow"], "key": "icmp,in_port=1,nw_dst=10.10.10.12",
            "steps": [
                {"table_id": 0, "flow": "priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
                 "cookie": "0x0", "actions": ["output:2"]},
            ],
            "datapath_actions": "output:2", "outputs": ["2"],
        })],
        "snoop" => vec![
            json!({"ok": true}),
            json!({"line": "tcp:127.0.0.1:40022 -> br0: OFPT_BARRIER_REQUEST (OF1.3) (xid=0x5):"}),
            json!({"line": "br0 -> tcp:127.0.0.1:40022: OFPT_BARRIER_REPLY (OF1.3) (xid=0x5):"}),
        ],
        _ => vec![json!({"ok": false, "error": "unknown command"})],
    }
}

impl FakeCtl {
    fn start() -> FakeCtl {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tapflow-cli-ctl-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let l = UnixListener::bind(dir.join("tapflowd.ctl")).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { return };
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut w = c.try_clone().unwrap();
                    let mut line = String::new();
                    let mut rd = BufReader::new(c);
                    while matches!(rd.read_line(&mut line), Ok(n) if n > 0) {
                        let req: Value = serde_json::from_str(&line).unwrap();
                        log.lock().unwrap().push(req.clone());
                        for resp in answer(&req) {
                            let _ = writeln!(w, "{resp}");
                        }
                        if req["cmd"] == "snoop" {
                            return; // the stream ends when the daemon closes
                        }
                        line.clear();
                    }
                });
            }
        });
        FakeCtl { dir, requests }
    }

    fn rundir(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn tapflow(ctl: &FakeCtl, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tapflow"))
        .args(args)
        .env("TAPFLOW_RUNDIR", ctl.rundir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(r: &Run) -> &str {
    assert_eq!(
        r.code, 0,
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        r.code, r.stdout, r.stderr
    );
    &r.stdout
}

#[test]
fn add_port_and_del_port_send_the_documented_requests() {
    let c = FakeCtl::start();
    assert_eq!(
        ok(&tapflow(&c, &["add-port", "br0", "tap3", "ofport=3"])),
        ""
    );
    assert_eq!(ok(&tapflow(&c, &["add-port", "br0", "tap4"])), "");
    assert_eq!(ok(&tapflow(&c, &["del-port", "br0", "tap3"])), "");
    assert_eq!(
        c.requests(),
        [
            json!({"cmd": "add-port", "bridge": "br0", "port": "tap3", "ofport": 3}),
            json!({"cmd": "add-port", "bridge": "br0", "port": "tap4"}),
            json!({"cmd": "del-port", "bridge": "br0", "port": "tap3"}),
        ]
    );
}

#[test]
fn daemon_errors_are_printed_verbatim_with_exit_1() {
    let c = FakeCtl::start();
    let r = tapflow(&c, &["add-port", "br0", "bad0"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "tapflow: bad0: Operation not permitted (os error 1)\n"
    );
    let r = tapflow(&c, &["del-port", "br9", "tap1"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "tapflow: no bridge named br9\n");
}

#[test]
fn usage_errors_send_nothing() {
    let c = FakeCtl::start();
    for args in [
        &["add-port", "tcp:127.0.0.1:6653", "tap3"][..],
        &["add-port", "br0", "tap3", "ofport=0"],
        &["add-port", "br0", "not/a/name"],
        &["trace", "br0", "in_port=1,icmp,nw_dst=10.10.10"],
        &["snoop", "unix:/run/tapflow/br0.mgmt"],
    ] {
        let r = tapflow(&c, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    assert!(c.requests().is_empty(), "{:?}", c.requests());
}

#[test]
fn trace_prints_tables_and_datapath_actions_or_the_json() {
    let c = FakeCtl::start();
    let flow = "in_port=1,icmp,nw_dst=10.10.10.12";
    let out = ok(&tapflow(&c, &["trace", "br0", flow])).to_string();
    assert_eq!(
        out,
        "Flow: icmp,in_port=1,nw_dst=10.10.10.12

bridge(\"br0\")
-------------
 0. priority=100,icmp,nw_dst=10.10.10.12, cookie 0x0
    output:2

Datapath actions: output:2
outputs: 2
"
    );
    assert_eq!(
        c.requests()[0],
        json!({"cmd": "trace", "bridge": "br0", "flow": flow})
    );
    let raw = ok(&tapflow(&c, &["trace", "br0", flow, "--json"])).to_string();
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["datapath_actions"], "output:2");
    assert_eq!(raw.lines().count(), 1);
}

#[test]
fn snoop_prints_lines_until_the_daemon_closes() {
    let c = FakeCtl::start();
    let out = ok(&tapflow(&c, &["snoop", "br0"])).to_string();
    assert_eq!(
        out,
        "tcp:127.0.0.1:40022 -> br0: OFPT_BARRIER_REQUEST (OF1.3) (xid=0x5):\n\
         br0 -> tcp:127.0.0.1:40022: OFPT_BARRIER_REPLY (OF1.3) (xid=0x5):\n"
    );
    assert_eq!(c.requests(), [json!({"cmd": "snoop", "bridge": "br0"})]);
    let r = tapflow(&c, &["snoop", "br9"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "tapflow: no bridge named br9\n")
    );
}

#[test]
fn version_and_list_bridges() {
    let c = FakeCtl::start();
    assert_eq!(
        ok(&tapflow(&c, &["version"])),
        format!("tapflow {}\ntapflowd 9.8.7\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(ok(&tapflow(&c, &["list-bridges"])), "br0\nbr1\n");
}

#[test]
fn no_daemon_is_a_clear_failure() {
    let c = FakeCtl::start();
    std::fs::remove_file(c.dir.join("tapflowd.ctl")).unwrap();
    let r = tapflow(&c, &["list-bridges"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot reach tapflowd at"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("tapflowd.ctl"), "{}", r.stderr);
}
