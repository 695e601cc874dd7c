//! TLS end to end, with certificates made at test time by the `openssl` CLI
//! using the commands `deploy/tls/README.md` gives operators (RSA 2048, as
//! ovs-pki makes them): a CA, a switch and a controller certificate it
//! signed, and a self-signed "rogue" one. The openssl CLI rather than a
//! Rust crate (rcgen): it is what operators run, so the documented commands
//! are what gets tested, and it adds no dependency.
//!
//! - `pssl:`: our CLI with the controller certificate dumps flows; with the
//!   rogue one it is refused with a message saying so, and tapflowd logs
//!   the refusal and goes on serving; the real `ovs-ofctl` (OpenSSL) works
//!   against us too (skipped with a NOTICE without ovs-ofctl).
//! - `ssl:`: tapflowd connects to a Python `ssl` server (OpenSSL, requiring
//!   a client certificate from the CA): the HELLO arrives over TLS; a
//!   controller whose certificate the CA did not sign gets no byte of
//!   OpenFlow, and tapflowd logs why.
//! - startup: ssl targets without the files, or with a file that is not
//!   there, fail startup naming what is missing.

use integration::{
    free_tcp_port, have_ovs_ofctl, ovs_ofctl, require_root, tapflow, wait_until, DaemonBuilder,
    Names, TempDir,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// Certificates in a temporary directory.
struct Pki {
    dir: TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// `None` (with a NOTICE) without the openssl CLI.
    fn new(names: &Names) -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("NOTICE: the openssl CLI is not installed; TLS test skipped");
            return None;
        }
        let dir = TempDir::new(names, "pki");
        let d = dir.path();
        // The CA (deploy/tls/README.md, step 1).
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3650",
                "-keyout",
                "ca-privkey.pem",
                "-out",
                "cacert.pem",
                "-subj",
                "/CN=tapflow test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
        )
        .unwrap();
        // A switch and a controller certificate (step 2).
        for name in ["switch", "controller"] {
            let (key, req, cert) = (
                format!("{name}-privkey.pem"),
                format!("{name}-req.pem"),
                format!("{name}-cert.pem"),
            );
            let subj = format!("/CN={name}");
            openssl(
                d,
                &[
                    "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &req, "-subj",
                    &subj,
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &req,
                    "-CA",
                    "cacert.pem",
                    "-CAkey",
                    "ca-privkey.pem",
                    "-CAcreateserial",
                    "-days",
                    "3650",
                    "-extfile",
                    "leaf.ext",
                    "-out",
                    &cert,
                ],
            );
        }
        // Someone's own self-signed certificate.
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3650",
                "-keyout",
                "rogue-privkey.pem",
                "-out",
                "rogue-cert.pem",
                "-subj",
                "/CN=controller",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ],
        );
        Some(Pki { dir })
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn key(&self, who: &str) -> PathBuf {
        self.path(&format!("{who}-privkey.pem"))
    }

    fn cert(&self, who: &str) -> PathBuf {
        self.path(&format!("{who}-cert.pem"))
    }

    fn ca(&self) -> PathBuf {
        self.path("cacert.pem")
    }

    /// `--private-key K --certificate C --ca-cert CA` for `who`.
    fn flags(&self, who: &str) -> Vec<String> {
        vec![
            "--private-key".into(),
            self.key(who).display().to_string(),
            "--certificate".into(),
            self.cert(who).display().to_string(),
            "--ca-cert".into(),
            self.ca().display().to_string(),
        ]
    }
}

/// A tapflowd with `who`'s identity and the given targets.
fn tls_daemon(names: &Names, pki: &Pki, targets: &[(&str, String)]) -> integration::Daemon {
    let mut b = DaemonBuilder::new(&names.name("br")).secure();
    for (flag, t) in targets {
        b = b.arg(flag).arg(t);
    }
    for a in pki.flags("switch") {
        b = b.arg(&a);
    }
    b.spawn(names)
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn pssl_serves_certificates_from_the_ca_and_refuses_others() {
    require_root!();
    let names = Names::new();
    let Some(pki) = Pki::new(&names) else { return };
    let port = free_tcp_port();
    let d = tls_daemon(
        &names,
        &pki,
        &[("--listen", format!("pssl:{port}:127.0.0.1"))],
    );
    d.tapflow_ok([
        "add-flow",
        d.bridge(),
        "priority=5,ip,nw_dst=10.9.8.7 actions=drop",
    ]);
    let target = format!("ssl:127.0.0.1:{port}");
    let dump = |who: &str| {
        let mut a = pki.flags(who);
        a.extend(["dump-flows".to_string(), target.clone()]);
        tapflow(a)
    };

    let out = dump("controller");
    let (o, e) = text(&out);
    assert!(
        out.status.success(),
        "good certificate: {e}\n{}",
        d.log_text()
    );
    assert!(
        o.contains("priority=5,ip,nw_dst=10.9.8.7 actions=drop"),
        "{o}"
    );

    // A self-signed certificate: refused during the handshake.
    let out = dump("rogue");
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "rogue certificate: {o}{e}");
    assert!(
        e.contains(&target) && e.contains("TLS") && e.contains("refused our certificate"),
        "{e}"
    );
    assert!(
        wait_until(5 * SEC, Duration::from_millis(50), || {
            d.log_text().contains("connection refused: TLS handshake failed: the peer's certificate is not signed by our CA")
        }),
        "the refusal and its reason are logged:\n{}",
        d.log_text()
    );

    // No key files at all: a usage error, nothing sent.
    let out = tapflow(["dump-flows", target.as_str()]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("needs --private-key, --certificate, --ca-cert"),
        "{e}"
    );

    // Still serving after the refusals.
    let out = dump("controller");
    assert!(out.status.success(), "after refusals: {}", text(&out).1);

    if have_ovs_ofctl() {
        let ofctl = |who: &str| {
            ovs_ofctl([
                format!("--private-key={}", pki.key(who).display()),
                format!("--certificate={}", pki.cert(who).display()),
                format!("--ca-cert={}", pki.ca().display()),
                "dump-flows".into(),
                target.clone(),
            ])
        };
        let out = ofctl("controller");
        let (o, e) = text(&out);
        assert!(
            out.status.success(),
            "ovs-ofctl over TLS: {e}\n{}",
            d.log_text()
        );
        assert!(
            o.contains("priority=5,ip,nw_dst=10.9.8.7 actions=drop"),
            "{o}"
        );
        let out = ofctl("rogue");
        assert!(
            !out.status.success(),
            "ovs-ofctl with the rogue certificate: {:?}",
            text(&out)
        );
    }
}

/// A TLS controller in Python (OpenSSL): requires a client certificate
/// from the CA, prints `port N` once listening, then per connection
/// `OK <the first 8 bytes in hex>` or `ERROR <why>`.
const PY_TLS_SERVER: &str = r#"
import socket, ssl, sys
cert, key, ca = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print("port", ls.getsockname()[1], flush=True)
while True:
    s, _ = ls.accept()
    s.settimeout(10)
    try:
        t = ctx.wrap_socket(s, server_side=True)
        hdr = b""
        while len(hdr) < 8:
            b = t.recv(8 - len(hdr))
            if not b:
                break
            hdr += b
        print("OK", hdr.hex(), flush=True)
        t.close()
    except Exception as e:
        print("ERROR", str(e).replace("\n", " "), flush=True)
        s.close()
"#;

fn python() -> Option<PathBuf> {
    for p in ["python3", "/opt/tapflow-ci/osken/bin/python"] {
        let ok = Command::new(p)
            .args(["-c", "import ssl"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(PathBuf::from(p));
        }
    }
    eprintln!("NOTICE: no python3 with the ssl module; TLS controller test skipped");
    None
}

/// The Python TLS controller, killed on Drop; its output lines collected.
struct PyTls {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl PyTls {
    fn start(py: &Path, pki: &Pki, who: &str) -> PyTls {
        let mut child = Command::new(py)
            .args(["-c", PY_TLS_SERVER])
            .arg(pki.cert(who))
            .arg(pki.key(who))
            .arg(pki.ca())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn python");
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        let mut p = PyTls {
            child,
            lines,
            port: 0,
        };
        assert!(
            wait_until(10 * SEC, Duration::from_millis(20), || {
                !p.lines.lock().unwrap().is_empty()
            }),
            "python TLS server did not start"
        );
        let first = p.lines.lock().unwrap()[0].clone();
        p.port = first
            .strip_prefix("port ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{first}"));
        p
    }

    fn seen(&self) -> Vec<String> {
        self.lines.lock().unwrap()[1..].to_vec()
    }
}

impl Drop for PyTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ssl_controller_gets_hello_over_tls_and_a_rogue_controller_gets_nothing() {
    require_root!();
    let names = Names::new();
    let Some(pki) = Pki::new(&names) else { return };
    let Some(py) = python() else { return };
    let good = PyTls::start(&py, &pki, "controller");
    let rogue = PyTls::start(&py, &pki, "rogue");
    let d = tls_daemon(
        &names,
        &pki,
        &[
            ("--controller", format!("ssl:127.0.0.1:{}", rogue.port)),
            ("--controller", format!("ssl:127.0.0.1:{}", good.port)),
        ],
    );

    // OpenFlow 1.3 HELLO (version 4, type 0) over TLS.
    assert!(
        wait_until(15 * SEC, Duration::from_millis(50), || {
            good.seen().iter().any(|l| l.starts_with("OK 0400"))
        }),
        "good controller: {:?}\n{}",
        good.seen(),
        d.log_text()
    );
    // The rogue controller is refused (tapflowd retries: 1 s, 2 s, ...).
    assert!(
        wait_until(15 * SEC, Duration::from_millis(50), || rogue.seen().len()
            >= 2),
        "rogue controller: {:?}\n{}",
        rogue.seen(),
        d.log_text()
    );
    let seen = rogue.seen();
    assert!(
        seen.iter().all(|l| l.starts_with("ERROR")),
        "no OpenFlow byte for the rogue controller: {seen:?}"
    );
    assert!(seen.iter().any(|l| l.contains("unknown ca")), "{seen:?}");
    let log = d.log_text();
    assert!(
        log.contains(&format!(
            "ssl:127.0.0.1:{}: TLS handshake failed: the peer's certificate is not signed by our CA",
            rogue.port
        )),
        "{log}"
    );
    assert!(
        good.seen().iter().all(|l| l.starts_with("OK")),
        "{:?}",
        good.seen()
    );
}

#[test]
fn ssl_targets_without_usable_tls_files_fail_startup() {
    let names = Names::new();
    let dir = TempDir::new(&names, "d");
    let (status, err) = DaemonBuilder::new(&names.name("br"))
        .arg("--controller")
        .arg("ssl:127.0.0.1:6653")
        .arg("--ca-cert")
        .arg("/nonexistent/ca.pem")
        .run_expect_exit(dir.path());
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("controller ssl:127.0.0.1:6653 needs a TLS private key")
            && err.contains("--private-key, --certificate missing"),
        "{err}"
    );
    let (status, err) = DaemonBuilder::new(&names.name("br"))
        .arg("--listen")
        .arg("pssl:0")
        .arg("--private-key")
        .arg("/nonexistent/key.pem")
        .arg("--certificate")
        .arg("/nonexistent/cert.pem")
        .arg("--ca-cert")
        .arg("/nonexistent/ca.pem")
        .run_expect_exit(dir.path());
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("TLS: private key /nonexistent/key.pem: No such file"),
        "{err}"
    );
}
