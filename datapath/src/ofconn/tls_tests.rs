//! TLS over loopback with certificates made at test time by the `openssl`
//! CLI (tests skip with a NOTICE without it): loading errors, mutual
//! authentication on a `pssl:` listener, the `ssl:` client refusing a switch
//! outside the CA, no host-name check, and the active side.

use super::*;
use crate::bridge::{BridgeEvent, ConnKind};
use crate::ofconn::transport::{bind_listener_with, spawn_active_tls, ListenTarget, Target};
use crate::ofconn::{ConnConfig, OfClient};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// A CA, `switch` and `controller` certificates it signed, and a
    /// self-signed `rogue`; `None` (with a NOTICE) without openssl.
    fn new() -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("NOTICE: openssl not found; skipping TLS test");
            return None;
        }
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tf-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let d = &pki.dir;
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        )
        .unwrap();
        let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=tapflow test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
        openssl(d, &ca);
        for (i, name) in ["switch", "controller"].into_iter().enumerate() {
            let (key, csr, cert) = (
                format!("{name}-key.pem"),
                format!("{name}.csr"),
                format!("{name}.pem"),
            );
            let subj = format!("/CN={name} (no host name)");
            let mut req = vec!["req", "-new", "-nodes"];
            req.extend(ec);
            req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(d, &req);
            let serial = (i + 2).to_string();
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca-key.pem",
                    "-set_serial",
                    &serial,
                    "-days",
                    "2",
                    "-extfile",
                    "leaf.ext",
                    "-out",
                    &cert,
                ],
            );
        }
        let mut rogue = vec!["req", "-x509", "-nodes", "-days", "2"];
        rogue.extend(ec);
        rogue.extend([
            "-keyout",
            "rogue-key.pem",
            "-out",
            "rogue.pem",
            "-subj",
            "/CN=rogue",
            // An end-entity certificate, as a self-made switch or controller
            // certificate would be (openssl's default here is a CA).
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ]);
        openssl(d, &rogue);
        Some(pki)
    }

    fn files(&self, who: &str) -> TlsFiles {
        TlsFiles {
            private_key: self.dir.join(format!("{who}-key.pem")),
            certificate: self.dir.join(format!("{who}.pem")),
            ca_cert: self.dir.join("ca.pem"),
        }
    }

    fn ctx(&self, who: &str) -> Arc<TlsContext> {
        Arc::new(TlsContext::load(&self.files(who)).unwrap())
    }
}

#[test]
fn loading_names_the_file_that_is_wrong() {
    let Some(pki) = Pki::new() else { return };
    let good = pki.files("switch");
    assert!(TlsContext::load(&good).is_ok());

    let missing = TlsFiles {
        ca_cert: pki.dir.join("nope.pem"),
        ..good.clone()
    };
    let e = TlsContext::load(&missing).unwrap_err().0;
    assert!(
        e.starts_with("CA certificate ") && e.contains("nope.pem") && e.contains("No such file"),
        "{e}"
    );

    // A certificate where the key should be.
    let swapped = TlsFiles {
        private_key: good.certificate.clone(),
        ..good.clone()
    };
    let e = TlsContext::load(&swapped).unwrap_err().0;
    assert!(
        e.starts_with("private key ") && e.contains("no PEM private key"),
        "{e}"
    );

    // A key where the certificate should be.
    let swapped = TlsFiles {
        certificate: good.private_key.clone(),
        ..good.clone()
    };
    let e = TlsContext::load(&swapped).unwrap_err().0;
    assert!(
        e.starts_with("certificate ") && e.contains("no PEM 'CERTIFICATE'"),
        "{e}"
    );

    // Someone else's key.
    let mismatched = TlsFiles {
        private_key: pki.files("controller").private_key,
        ..good
    };
    let e = TlsContext::load(&mismatched).unwrap_err().0;
    assert!(e.contains("do not go together"), "{e}");
}

/// A `pssl:0` listener with the switch's identity; returns its `ssl:`
/// target and the bridge side of its connections.
fn pssl_switch(ctx: Arc<TlsContext>) -> (Target, mpsc::Receiver<BridgeEvent>) {
    let (tx, rx) = mpsc::channel(64);
    let bound = bind_listener_with(&"pssl:0".parse().unwrap(), Some(ctx)).unwrap();
    let ListenTarget::Ssl(a) = bound.local().clone() else {
        panic!("{:?}", bound.local())
    };
    assert_eq!(
        bound.local().to_string(),
        format!("pssl:{}:127.0.0.1", a.port())
    );
    let cfg = ConnConfig {
        hello_timeout: Duration::from_secs(5),
        ..ConnConfig::default()
    };
    bound.spawn(ConnKind::Primary, tx, Arc::new(AtomicU64::new(1)), cfg);
    let target = format!("ssl:127.0.0.1:{}", a.port()).parse().unwrap();
    (target, rx)
}

/// The next connection the bridge hears of, by peer name.
async fn next_conn_up(rx: &mut mpsc::Receiver<BridgeEvent>) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            Ok(Some(BridgeEvent::ConnUp(h))) => return Some(h.peer.clone()),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn pssl_listener_takes_only_peers_signed_by_the_ca_and_keeps_serving() {
    let Some(pki) = Pki::new() else { return };
    let (target, mut rx) = pssl_switch(pki.ctx("switch"));

    let c = OfClient::connect_with(&target, Some(&pki.ctx("controller")))
        .await
        .expect("a controller signed by the CA gets in");
    let peer = next_conn_up(&mut rx).await.expect("ConnUp");
    assert!(peer.starts_with("ssl:127.0.0.1:"), "{peer}");
    drop(c);

    // A self-signed client: refused in the handshake. With TLS 1.3 the
    // client learns it from the server's alert, while waiting for HELLO.
    let e = OfClient::connect_with(&target, Some(&pki.ctx("rogue")))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{target}: TLS")) && e.contains("refused our certificate"),
        "{e}"
    );
    // A client with no certificate at all.
    let anon = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(CaChainVerifier {
        roots: Arc::new(RootCertStore::empty()),
        algs: rustls::crypto::ring::default_provider().signature_verification_algorithms,
    }))
    .with_no_client_auth();
    let Target::Ssl { port, .. } = target else {
        panic!()
    };
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = ServerName::IpAddress(IpAddr::from([127, 0, 0, 1]).into());
    // The client side may or may not see the handshake fail (TLS 1.3);
    // either way it must never read an OpenFlow byte.
    if let Ok(mut s) = tokio_rustls::TlsConnector::from(Arc::new(anon))
        .connect(name, tcp)
        .await
    {
        let mut buf = [0u8; 8];
        assert!(matches!(s.read(&mut buf).await, Err(_) | Ok(0)));
    }
    // Plain OpenFlow to a pssl: port: no HELLO comes back.
    let e = OfClient::connect(&format!("tcp:127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("closed") || e.to_string().contains("reset"),
        "{e}"
    );
    assert_eq!(next_conn_up(&mut rx).await, None, "nobody refused got in");

    // The listener goes on serving the good ones.
    let _c = OfClient::connect_with(&target, Some(&pki.ctx("controller")))
        .await
        .expect("still serving after refusals");
    assert!(next_conn_up(&mut rx).await.is_some());
}

#[tokio::test]
async fn ssl_client_refuses_a_switch_outside_the_ca_and_ignores_names() {
    let Some(pki) = Pki::new() else { return };
    let (target, _rx) = pssl_switch(pki.ctx("rogue"));
    let e = OfClient::connect_with(&target, Some(&pki.ctx("controller")))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{target}: TLS handshake failed: the peer's certificate is not signed by our CA"
        )),
        "{e}"
    );

    // The switch's certificate names no host; reaching it by IP or by name
    // both work, as with OVS.
    let (target, mut rx) = pssl_switch(pki.ctx("switch"));
    let Target::Ssl { port, .. } = target else {
        panic!()
    };
    for host in ["127.0.0.1", "localhost"] {
        let t: Target = format!("ssl:{host}:{port}").parse().unwrap();
        OfClient::connect_with(&t, Some(&pki.ctx("controller")))
            .await
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(next_conn_up(&mut rx).await.is_some());
    }

    // Without TLS files an ssl: target cannot be used, and says why.
    let e = OfClient::connect(&target).await.unwrap_err().to_string();
    assert!(
        e.contains("needs a private key, a certificate and a CA"),
        "{e}"
    );
    let e = bind_listener_with(&"pssl:0".parse().unwrap(), None).unwrap_err();
    assert!(e.to_string().starts_with("pssl:0:127.0.0.1 needs"), "{e}");
}

/// A TLS controller on loopback (our server side with `who`'s identity):
/// the first 8 bytes each accepted connection sends, or the handshake error.
async fn tls_controller(ctx: Arc<TlsContext>) -> (u16, mpsc::Receiver<Result<[u8; 8], String>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            let r = match ctx.accept(s).await {
                Ok(mut s) => {
                    let mut hdr = [0u8; 8];
                    s.read_exact(&mut hdr)
                        .await
                        .map(|_| hdr)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(describe_handshake_error(&e)),
            };
            if tx.send(r).await.is_err() {
                return;
            }
        }
    });
    (port, rx)
}

#[tokio::test]
async fn ssl_controller_gets_hello_only_when_both_certificates_check_out() {
    let Some(pki) = Pki::new() else { return };
    let cfg = ConnConfig {
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(50),
        ..ConnConfig::default()
    };

    let (port, mut got) = tls_controller(pki.ctx("controller")).await;
    let (tx, _bridge) = mpsc::channel(16);
    let t: Target = format!("ssl:127.0.0.1:{port}").parse().unwrap();
    let h = spawn_active_tls(
        t,
        ConnKind::Primary,
        tx,
        Arc::new(AtomicU64::new(1)),
        cfg.clone(),
        Some(pki.ctx("switch")),
    );
    let hdr = got.recv().await.unwrap().expect("HELLO over TLS");
    assert_eq!((hdr[0], hdr[1]), (4, ofproto::consts::OFPT_HELLO));
    h.abort();

    // A controller whose certificate the CA did not sign: the switch aborts
    // the handshake, the controller never sees a byte of OpenFlow.
    let (port, mut got) = tls_controller(pki.ctx("rogue")).await;
    let (tx, _bridge) = mpsc::channel(16);
    let t: Target = format!("ssl:127.0.0.1:{port}").parse().unwrap();
    let h = spawn_active_tls(
        t,
        ConnKind::Primary,
        tx,
        Arc::new(AtomicU64::new(1)),
        cfg,
        Some(pki.ctx("switch")),
    );
    for _ in 0..2 {
        let r = got.recv().await.unwrap();
        let e = r.expect_err("no OpenFlow for a rogue controller");
        assert!(e.contains("refused our certificate"), "{e}");
    }
    h.abort();
}

#[test]
fn ssl_and_pssl_targets_parse_as_tcp_and_ptcp_do() {
    let t: Target = "ssl:10.0.0.1".parse().unwrap();
    assert_eq!(
        t,
        Target::Ssl {
            host: "10.0.0.1".into(),
            port: 6653
        }
    );
    assert!(t.is_tls());
    assert_eq!(t.to_string(), "ssl:10.0.0.1:6653");
    let t: Target = "ssl:[::1]:6654".parse().unwrap();
    assert_eq!(t.to_string(), "ssl:[::1]:6654");
    let t: Target = "ssl:ctl.example.org:1".parse().unwrap();
    assert_eq!(t.to_string(), "ssl:ctl.example.org:1");
    assert!(!"tcp:10.0.0.1".parse::<Target>().unwrap().is_tls());

    let l: ListenTarget = "pssl:".parse().unwrap();
    assert_eq!(l, ListenTarget::Ssl("127.0.0.1:6653".parse().unwrap()));
    assert!(l.is_tls());
    assert_eq!(l.to_string(), "pssl:6653:127.0.0.1");
    let l: ListenTarget = "pssl:6654:[::1]".parse().unwrap();
    assert_eq!(l.to_string(), "pssl:6654:[::1]");
    let l: ListenTarget = "pssl::0.0.0.0".parse().unwrap();
    assert_eq!(l.to_string(), "pssl:6653:0.0.0.0");

    for (s, want) in [
        ("ssl:", "bad target 'ssl:': missing host"),
        ("ssl:1.2.3.4:0", "bad target 'ssl:1.2.3.4:0': port 0 cannot be connected to"),
        (
            "pssl:6653",
            "bad target 'pssl:6653': 'pssl:' is a listening target; connect with tcp:HOST[:PORT], ssl:HOST[:PORT] or unix:PATH",
        ),
    ] {
        assert_eq!(s.parse::<Target>().unwrap_err().to_string(), want, "{s}");
    }
    for (s, want) in [
        (
            "pssl:1:localhost",
            "bad target 'pssl:1:localhost': 'localhost' is not an IP address (pssl: takes an address to listen on, not a host name)",
        ),
        ("pssl:x", "bad target 'pssl:x': bad port 'x' (expected 0-65535)"),
        (
            "ssl:1.2.3.4",
            "bad target 'ssl:1.2.3.4': 'ssl:' is an active target; listen with ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH",
        ),
    ] {
        assert_eq!(s.parse::<ListenTarget>().unwrap_err().to_string(), want, "{s}");
    }
}
