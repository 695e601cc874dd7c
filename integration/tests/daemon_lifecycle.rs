//! tapflowd's process life: a startup failure is a message naming the
//! problem, exit code 2 and nothing half-created left behind; SIGTERM is a
//! clean exit that removes the TAPs it created; a stale socket left by a
//! crash does not stop the next start.

use integration::of::Of;
use integration::{link_exists, require_root, wait_until, DaemonBuilder, Link, Names, TempDir};
use std::time::Duration;

#[test]
fn startup_failure_exits_2_and_leaves_nothing_behind() {
    require_root!();
    let n = Names::new();
    let dir = TempDir::new(&n, "d");
    let (a, b) = (n.name("a"), n.name("b"));
    let _ga = Link::adopt(&a);
    let _gb = Link::adopt(&b);
    let br = n.name("br");
    let _gbr = Link::adopt(&br);

    // Two ports asking for the same number: refused before anything exists.
    let (status, err) = DaemonBuilder::new(&br)
        .port(&a, 1)
        .port(&b, 1)
        .run_expect_exit(dir.path());
    assert_eq!(status.code(), Some(2), "duplicate ofport: {err}");
    assert!(
        err.contains("port 1") || err.contains(&a),
        "names the problem: {err}"
    );
    assert!(!link_exists(&a) && !link_exists(&b) && !link_exists(&br));

    // A listener that cannot bind, after the TAPs were made: they go again.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (status, err) = DaemonBuilder::new(&br)
        .port(&a, 1)
        .port(&b, 2)
        .listen_tcp(port)
        .run_expect_exit(dir.path());
    assert_eq!(status.code(), Some(2), "listener port in use: {err}");
    assert!(err.contains(&port.to_string()), "names the listener: {err}");
    assert!(
        !link_exists(&a) && !link_exists(&b) && !link_exists(&br),
        "TAPs created before the failure are removed"
    );
    assert!(
        !dir.path().join("run").join(format!("{br}.mgmt")).exists(),
        "no .mgmt socket after a failed start"
    );
}

#[test]
fn sigterm_is_a_clean_exit_that_removes_our_taps() {
    require_root!();
    let n = Names::new();
    let (a, b) = (n.name("a"), n.name("b"));
    let _ga = Link::adopt(&a);
    let _gb = Link::adopt(&b);
    let mut d = DaemonBuilder::new(&n.name("br"))
        .secure()
        .port(&a, 1)
        .port(&b, 2)
        .spawn(&n);
    assert!(link_exists(&a) && link_exists(&b) && link_exists(d.bridge()));
    let status = d.stop().expect("was running");
    assert!(status.success(), "SIGTERM: exit {status}\n{}", d.log_text());
    assert!(
        wait_until(
            Duration::from_secs(2),
            Duration::from_millis(50),
            || !link_exists(&a) && !link_exists(&b) && !link_exists(d.bridge())
        ),
        "the TAPs tapflowd created (and LOCAL) are gone after it exits"
    );
}

#[test]
fn a_stale_socket_from_a_crash_is_replaced() {
    require_root!();
    let n = Names::new();
    let dir = TempDir::new(&n, "stale");
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    let br = n.name("br");
    let _gbr = Link::adopt(&br);
    let mgmt = run.join(format!("{br}.mgmt"));
    // A socket file nobody listens on, as a crashed daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(&mgmt).unwrap());
    assert!(mgmt.exists());
    let mut child = std::process::Command::new(integration::bin("tapflowd"))
        .args(["--bridge", &br, "--fail-mode", "secure", "--rundir"])
        .arg(&run)
        .arg("--statedir")
        .arg(dir.path().join("state"))
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let up = wait_until(Duration::from_secs(20), Duration::from_millis(50), || {
        std::os::unix::net::UnixStream::connect(&mgmt).is_ok()
    });
    let alive = child.try_wait().unwrap().is_none();
    if up && alive {
        let mut of = Of::connect(&format!("unix:{}", mgmt.display()));
        assert!(of.echo());
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(
        up && alive,
        "tapflowd did not replace the stale socket:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}

/// `--detach --pidfile`: the parent returns 0 only once the daemon is ready
/// (its `.mgmt` socket exists at that moment), the pidfile names the live
/// daemon, and SIGTERM removes pidfile, sockets and TAPs.
#[test]
fn detach_returns_when_ready_and_the_pidfile_names_the_daemon() {
    require_root!();
    let n = Names::new();
    let dir = TempDir::new(&n, "d");
    let (a, br) = (n.name("a"), n.name("br"));
    let _ga = Link::adopt(&a);
    let _gbr = Link::adopt(&br);
    let run = dir.path().join("run");
    let pidfile = dir.path().join("tapflowd.pid");
    let status = std::process::Command::new(integration::bin("tapflowd"))
        .args(["--bridge", &br, "--fail-mode", "secure", "--detach"])
        .args(["--port", &format!("{a}:1")])
        .arg("--rundir")
        .arg(&run)
        .arg("--statedir")
        .arg(dir.path().join("state"))
        .arg("--pidfile")
        .arg(&pidfile)
        .status()
        .expect("run tapflowd");
    assert!(status.success(), "--detach parent: {status}");
    // Ready before the parent returned: no waiting here.
    assert!(
        run.join(format!("{br}.mgmt")).exists(),
        ".mgmt exists when --detach returns"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pidfile written")
        .trim()
        .parse()
        .expect("pidfile holds a pid");
    // The daemon is alive and is not our child (it detached).
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "pid {pid} is alive");
    assert!(link_exists(&a) && link_exists(&br));
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(
        wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            let alive = unsafe { libc::kill(pid, 0) };
            alive != 0
        }),
        "daemon exits on SIGTERM"
    );
    assert!(!pidfile.exists(), "pidfile removed on exit");
    assert!(
        !run.join(format!("{br}.mgmt")).exists(),
        ".mgmt removed on exit"
    );
    assert!(
        wait_until(Duration::from_secs(2), Duration::from_millis(50), || {
            !link_exists(&a) && !link_exists(&br)
        }),
        "TAPs removed on exit"
    );
}

/// Under systemd (`Type=notify`), READY=1 arrives on `$NOTIFY_SOCKET` once
/// the `.mgmt` socket exists.
#[test]
fn sd_notify_ready_is_sent_once_ready() {
    require_root!();
    let n = Names::new();
    let dir = TempDir::new(&n, "d");
    let br = n.name("br");
    let _gbr = Link::adopt(&br);
    let notify = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&notify).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let run = dir.path().join("run");
    let mut child = std::process::Command::new(integration::bin("tapflowd"))
        .args(["--bridge", &br, "--fail-mode", "secure"])
        .arg("--rundir")
        .arg(&run)
        .arg("--statedir")
        .arg(dir.path().join("state"))
        .env("NOTIFY_SOCKET", &notify)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn tapflowd");
    let mut buf = [0u8; 256];
    let got = sock.recv(&mut buf);
    let mgmt_existed = run.join(format!("{br}.mgmt")).exists();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let n = got.expect("READY=1 within 20 s");
    assert_eq!(&buf[..n], b"READY=1\n");
    assert!(mgmt_existed, ".mgmt exists when READY=1 is sent");
}
