//! What a TARGET argument names: a tapflowd bridge (its `RUNDIR/NAME.mgmt`
//! socket, and `RUNDIR/tapflowd.ctl` for the control verbs), or an explicit
//! OpenFlow endpoint `unix:PATH` / `tcp:HOST[:PORT]` / `ssl:HOST[:PORT]`
//! (tapflowd or OVS). A bare path to a socket
//! (`/var/run/openvswitch/br0.mgmt`) is taken as `unix:PATH`, as ovs-ofctl
//! does. `ssl:` needs `--private-key`, `--certificate` and `--ca-cert`
//! ([`tls_context`]); they are ignored for other targets, as ovs-ofctl
//! ignores them.

use super::CliError;
use crate::ofconn::{Target, TlsContext, TlsFiles};
use std::path::{Path, PathBuf};

/// tapflowd's default run directory (`--rundir`, `TAPFLOW_RUNDIR`).
pub const DEFAULT_RUNDIR: &str = "/run/tapflow";

/// The control socket's file name in the run directory.
pub const CTL_SOCKET: &str = "tapflowd.ctl";

/// A resolved TARGET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A tapflowd bridge by name, reached through its `.mgmt` socket.
    Bridge { name: String, mgmt: PathBuf },
    /// An explicit endpoint, as written.
    Endpoint(Target),
}

impl Resolved {
    pub fn openflow_target(&self) -> Target {
        match self {
            Resolved::Bridge { mgmt, .. } => Target::Unix(mgmt.clone()),
            Resolved::Endpoint(t) => t.clone(),
        }
    }
}

/// `--private-key`, `--certificate`, `--ca-cert` as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    pub private_key: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
}

/// The TLS context for `target`: `None` unless it is `ssl:`, which needs all
/// three files (a usage error names the missing flags); a file that cannot
/// be used is a failure naming the file.
pub fn tls_context(target: &Target, o: &TlsOptions) -> Result<Option<TlsContext>, CliError> {
    if !target.is_tls() {
        return Ok(None);
    }
    let (Some(private_key), Some(certificate), Some(ca_cert)) =
        (&o.private_key, &o.certificate, &o.ca_cert)
    else {
        let missing: Vec<&str> = [
            (o.private_key.is_none(), "--private-key"),
            (o.certificate.is_none(), "--certificate"),
            (o.ca_cert.is_none(), "--ca-cert"),
        ]
        .into_iter()
        .filter_map(|(m, flag)| m.then_some(flag))
        .collect();
        return Err(CliError::Usage(format!(
            "{target} needs {} (our key, our certificate, and the CA that signed the switch's certificate)",
            missing.join(", ")
        )));
    };
    let files = TlsFiles {
        private_key: private_key.clone(),
        certificate: certificate.clone(),
        ca_cert: ca_cert.clone(),
    };
    TlsContext::load(&files)
        .map(Some)
        .map_err(|e| CliError::Failed(format!("{target}: {e}")))
}

/// Whether `s` can be a bridge name: what tapflowd accepts as an interface
/// name (IFNAMSIZ-1 bytes, no '/', ':' or whitespace).
pub fn is_bridge_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && c != b'/' && c != b':')
}

/// Resolves TARGET for the OpenFlow verbs.
pub fn resolve(target: &str, rundir: &Path) -> Result<Resolved, CliError> {
    if target.contains(':') {
        return target
            .parse::<Target>()
            .map(Resolved::Endpoint)
            .map_err(|e| CliError::Usage(e.to_string()));
    }
    if target.contains('/') {
        return Ok(Resolved::Endpoint(Target::Unix(PathBuf::from(target))));
    }
    if !is_bridge_name(target) {
        return Err(CliError::Usage(format!(
            "'{target}' is not a bridge name, unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]"
        )));
    }
    Ok(Resolved::Bridge {
        name: target.to_string(),
        mgmt: rundir.join(format!("{target}.mgmt")),
    })
}

/// Resolves BRIDGE for the control-socket verbs, which only tapflowd has.
pub fn bridge_for_ctl(verb: &str, bridge: &str) -> Result<String, CliError> {
    if bridge.contains(':') || bridge.contains('/') {
        return Err(CliError::Usage(format!(
            "{verb} needs a tapflowd bridge name; {bridge} is an OpenFlow target \
             (the control verbs go through tapflowd's control socket, \
             found with --rundir/TAPFLOW_RUNDIR)"
        )));
    }
    if !is_bridge_name(bridge) {
        return Err(CliError::Usage(format!(
            "{verb}: '{bridge}' is not a bridge name"
        )));
    }
    Ok(bridge.to_string())
}

/// The control socket in `rundir`.
pub fn ctl_socket(rundir: &Path) -> PathBuf {
    rundir.join(CTL_SOCKET)
}

/// A connection failure, said the way an operator can act on it.
pub fn connect_error(r: &Resolved, rundir: &Path, e: &std::io::Error) -> CliError {
    use std::io::ErrorKind;
    match r {
        Resolved::Bridge { name, mgmt } => match e.kind() {
            ErrorKind::NotFound => CliError::Failed(format!(
                "{name} is not a tapflowd bridge: {} does not exist \
                 (is tapflowd running with this bridge? it looks in {}; \
                 set --rundir or TAPFLOW_RUNDIR if it runs elsewhere)",
                mgmt.display(),
                rundir.display()
            )),
            ErrorKind::ConnectionRefused => CliError::Failed(format!(
                "{name}: nobody listens on {} (tapflowd not running? a stale socket?)",
                mgmt.display()
            )),
            ErrorKind::PermissionDenied => CliError::Failed(format!(
                "{name}: {}: permission denied (the bridge socket is root-only)",
                mgmt.display()
            )),
            _ => CliError::Failed(format!("{name}: {e}")),
        },
        Resolved::Endpoint(_) => CliError::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_names_map_to_mgmt_sockets_in_the_rundir() {
        let r = resolve("br0", Path::new("/run/tapflow")).unwrap();
        assert_eq!(
            r,
            Resolved::Bridge {
                name: "br0".into(),
                mgmt: PathBuf::from("/run/tapflow/br0.mgmt")
            }
        );
        assert_eq!(
            r.openflow_target(),
            Target::Unix(PathBuf::from("/run/tapflow/br0.mgmt"))
        );
        let r = resolve("br-int.1", Path::new("/tmp/rd")).unwrap();
        assert_eq!(
            r.openflow_target().to_string(),
            "unix:/tmp/rd/br-int.1.mgmt"
        );
    }

    #[test]
    fn explicit_endpoints_are_used_as_written() {
        let rd = Path::new("/run/tapflow");
        assert_eq!(
            resolve("tcp:127.0.0.1:6653", rd).unwrap(),
            Resolved::Endpoint(Target::Tcp {
                host: "127.0.0.1".into(),
                port: 6653
            })
        );
        assert_eq!(
            resolve("tcp:[::1]", rd)
                .unwrap()
                .openflow_target()
                .to_string(),
            "tcp:[::1]:6653"
        );
        assert_eq!(
            resolve("unix:/var/run/openvswitch/br0.mgmt", rd).unwrap(),
            Resolved::Endpoint(Target::Unix("/var/run/openvswitch/br0.mgmt".into()))
        );
        assert_eq!(
            resolve("/var/run/openvswitch/br0.mgmt", rd).unwrap(),
            Resolved::Endpoint(Target::Unix("/var/run/openvswitch/br0.mgmt".into()))
        );
    }

    #[test]
    fn bad_targets_are_usage_errors() {
        let rd = Path::new("/run/tapflow");
        for t in [
            "ptcp:6653",
            "pssl:6653",
            "ssl:",
            "tcp:",
            "foo:bar",
            "",
            "a-name-much-too-long-for-a-bridge",
        ] {
            assert!(
                matches!(resolve(t, rd), Err(CliError::Usage(_))),
                "{t}: {:?}",
                resolve(t, rd)
            );
        }
    }

    #[test]
    fn ssl_endpoints_parse_and_need_all_three_tls_files() {
        let rd = Path::new("/run/tapflow");
        let r = resolve("ssl:127.0.0.1:6654", rd).unwrap();
        let t = r.openflow_target();
        assert_eq!(
            t,
            Target::Ssl {
                host: "127.0.0.1".into(),
                port: 6654
            }
        );
        assert_eq!(
            resolve("ssl:[::1]", rd)
                .unwrap()
                .openflow_target()
                .to_string(),
            "ssl:[::1]:6653"
        );
        let CliError::Usage(m) = tls_context(&t, &TlsOptions::default()).unwrap_err() else {
            panic!()
        };
        assert!(
            m.starts_with("ssl:127.0.0.1:6654 needs --private-key, --certificate, --ca-cert"),
            "{m}"
        );
        let some = TlsOptions {
            private_key: Some("/k.pem".into()),
            ca_cert: Some("/ca.pem".into()),
            certificate: None,
        };
        let CliError::Usage(m) = tls_context(&t, &some).unwrap_err() else {
            panic!()
        };
        assert!(
            m.starts_with("ssl:127.0.0.1:6654 needs --certificate ("),
            "{m}"
        );
        // Files that are not there: a failure naming the file.
        let all = TlsOptions {
            certificate: Some("/nonexistent/c.pem".into()),
            ..some.clone()
        };
        let CliError::Failed(m) = tls_context(&t, &all).unwrap_err() else {
            panic!()
        };
        assert!(m.contains("/k.pem"), "{m}");
        // Other targets ignore the flags, as ovs-ofctl does.
        let tcp = resolve("tcp:127.0.0.1", rd).unwrap().openflow_target();
        assert!(tls_context(&tcp, &all).unwrap().is_none());
        let unix = resolve("br0", rd).unwrap().openflow_target();
        assert!(tls_context(&unix, &TlsOptions::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn control_verbs_refuse_openflow_targets() {
        assert_eq!(bridge_for_ctl("add-port", "br0").unwrap(), "br0");
        let CliError::Usage(m) = bridge_for_ctl("add-port", "tcp:127.0.0.1:6653").unwrap_err()
        else {
            panic!()
        };
        assert!(
            m.starts_with(
                "add-port needs a tapflowd bridge name; tcp:127.0.0.1:6653 is an OpenFlow target"
            ),
            "{m}"
        );
        assert!(matches!(
            bridge_for_ctl("trace", "unix:/x/br0.mgmt"),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            bridge_for_ctl("snoop", "/x/br0.mgmt"),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn missing_bridge_socket_says_where_it_looked() {
        let rd = Path::new("/nonexistent-rundir");
        let r = resolve("br9", rd).unwrap();
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        let CliError::Failed(m) = connect_error(&r, rd, &e) else {
            panic!()
        };
        assert!(
            m.contains("/nonexistent-rundir/br9.mgmt does not exist"),
            "{m}"
        );
        assert!(m.contains("TAPFLOW_RUNDIR"), "{m}");
    }
}
