//! tapflowd's configuration: a TOML file (`--config FILE`) and/or flags for
//! one bridge (flags override the file). Everything is validated here, before
//! anything is created, so a bad configuration fails startup with a message
//! naming the problem and leaves nothing behind.
//!
//! ```toml
//! rundir = "/run/tapflow"        # sockets: BRIDGE.mgmt, tapflowd.ctl
//! statedir = "/var/lib/tapflow"  # ports remembered across restarts
//! metrics = "127.0.0.1:9310"     # Prometheus /metrics
//! metrics_flows = ["cookie=0x10/0xff", "table=3"]  # per-flow series (opt-in)
//! # TLS identity for ssl:/pssl: targets (all three, as OVS's --private-key,
//! # --certificate, --ca-cert; one per daemon, as OVS's SSL table)
//! private_key = "/etc/tapflow/pki/switch-privkey.pem"
//! certificate = "/etc/tapflow/pki/switch-cert.pem"
//! ca_cert = "/etc/tapflow/pki/controllerca/cacert.pem"
//!
//! [[bridge]]
//! name = "br0"
//! datapath_id = "0x1"            # 1-16 hex digits; default derived from the name
//! fail_mode = "secure"           # standalone (default) | secure
//! table_miss = "drop"            # drop (default) | controller
//! controllers = ["tcp:127.0.0.1:6653"]   # or ssl:HOST[:PORT]
//! listen = ["ptcp:6653"]                  # or pssl:[PORT][:IP]
//! ports = ["tap1:1", "tap2:2"]   # IFNAME[:OFPORT]
//! # IFNAME:QUEUE[:min=RATE][,max=RATE], bit/s with k/M/G; queue 0 (the
//! # default queue) is always there (dataplane/queues.rs)
//! queues = ["tap1:1:max=10M", "tap1:2:min=1M,max=100M"]
//! ```

pub use crate::dataplane::queues::QueueSpec;
use crate::ofconn::TlsFiles;
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub const DEFAULT_RUNDIR: &str = "/run/tapflow";
pub const DEFAULT_STATEDIR: &str = "/var/lib/tapflow";
/// Highest OpenFlow port number a physical/logical port may have (`OFPP_MAX`).
pub const OFPORT_MAX: u32 = ofproto::consts::OFPP_MAX;

/// A configuration error: names the setting and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Without reachable controllers, forward like a learning switch.
    #[default]
    Standalone,
    /// Only flows forward, always.
    Secure,
}

impl FromStr for FailMode {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "standalone" => Ok(FailMode::Standalone),
            "secure" => Ok(FailMode::Secure),
            _ => err(format!("fail mode '{s}' is not one of: standalone, secure")),
        }
    }
}

/// What happens to a packet no flow (and no table-miss entry) matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TableMiss {
    /// OF1.3's default.
    #[default]
    Drop,
    /// PACKET_IN with reason NO_MATCH (switch configuration the spec allows).
    Controller,
}

impl FromStr for TableMiss {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "drop" => Ok(TableMiss::Drop),
            "controller" => Ok(TableMiss::Controller),
            _ => err(format!("table miss '{s}' is not one of: drop, controller")),
        }
    }
}

/// `IFNAME[:OFPORT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub ifname: String,
    pub ofport: Option<u32>,
}

impl FromStr for PortSpec {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let (name, num) = match s.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        };
        check_ifname(name).map_err(|e| ConfigError(format!("port '{s}': {}", e.0)))?;
        let ofport = match num {
            None => None,
            Some(p) => {
                let n: u32 = p.parse().map_err(|_| {
                    ConfigError(format!("port '{s}': OpenFlow port '{p}' is not a number"))
                })?;
                if n == 0 || n > OFPORT_MAX {
                    return err(format!(
                        "port '{s}': OpenFlow port {n} out of range 1..{OFPORT_MAX:#x}"
                    ));
                }
                Some(n)
            }
        };
        Ok(PortSpec {
            ifname: name.to_string(),
            ofport,
        })
    }
}

/// Linux interface names: 1-15 bytes, no '/', whitespace or ':'.
pub fn check_ifname(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.len() > 15 {
        return err(format!(
            "interface name '{name}' must be 1 to 15 characters"
        ));
    }
    if name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return err(format!("interface name '{name}' has a forbidden character"));
    }
    Ok(())
}

/// `--datapath-id HEX`: 1-16 hex digits, with or without 0x, zero-extended.
pub fn parse_datapath_id(s: &str) -> Result<u64, ConfigError> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if h.is_empty() || h.len() > 16 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return err(format!(
            "datapath id '{s}' must be 1 to 16 hex digits (optionally 0x-prefixed)"
        ));
    }
    Ok(u64::from_str_radix(h, 16).expect("checked hex digits"))
}

/// The default datapath id: stable for a bridge name (FNV-1a, 48 bits, as
/// OVS derives its default from a 48-bit MAC), never zero.
pub fn default_datapath_id(bridge: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bridge.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & 0xffff_ffff_ffff).max(1)
}

/// One bridge, fully resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    pub name: String,
    pub datapath_id: u64,
    pub fail_mode: FailMode,
    pub table_miss: TableMiss,
    pub ports: Vec<PortSpec>,
    /// Active OpenFlow targets (`tcp:HOST[:PORT]`, `ssl:HOST[:PORT]`), kept
    /// as text and parsed by the connection layer, which owns that syntax.
    pub controllers: Vec<String>,
    /// Passive listeners (`ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]`).
    pub listen: Vec<String>,
    /// PACKET_INs per second the data plane may send (0 = no limit), so a
    /// miss storm cannot starve forwarding or the controller.
    pub packet_in_rate: u32,
    /// Queues besides each port's default queue 0.
    pub queues: Vec<QueueSpec>,
    /// Flow entries each table may hold (`OFPFMFC_TABLE_FULL` beyond it);
    /// a controller may lower it per table with a TABLE_FEATURES set.
    pub max_flows_per_table: usize,
}

/// Default PACKET_IN rate limit per bridge (packets per second).
pub const DEFAULT_PACKET_IN_RATE: u32 = 1000;

/// The whole daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonConfig {
    pub rundir: PathBuf,
    pub statedir: PathBuf,
    pub metrics: Option<String>,
    /// Flows with per-flow metrics (`--metrics-flows`; none by default).
    pub metrics_flows: Vec<crate::metrics::FlowSpec>,
    pub bridges: Vec<BridgeConfig>,
    /// The TLS identity of `ssl:`/`pssl:` targets; all three files are given
    /// or none (checked here; the files are read at startup).
    pub tls: Option<TlsFiles>,
}

// --- the TOML file -----------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    rundir: Option<PathBuf>,
    statedir: Option<PathBuf>,
    metrics: Option<String>,
    #[serde(default)]
    metrics_flows: Vec<String>,
    private_key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    ca_cert: Option<PathBuf>,
    #[serde(default)]
    bridge: Vec<FileBridge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBridge {
    name: String,
    datapath_id: Option<String>,
    fail_mode: Option<String>,
    table_miss: Option<String>,
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    controllers: Vec<String>,
    #[serde(default)]
    listen: Vec<String>,
    packet_in_rate: Option<u32>,
    #[serde(default)]
    queues: Vec<String>,
    max_flows_per_table: Option<usize>,
}

/// Flags for one bridge; each set flag overrides the file.
#[derive(Clone, Debug, Default)]
pub struct BridgeFlags {
    pub bridge: Option<String>,
    pub datapath_id: Option<String>,
    pub ports: Vec<String>,
    pub controllers: Vec<String>,
    pub listen: Vec<String>,
    pub fail_mode: Option<String>,
    pub table_miss: Option<String>,
    pub packet_in_rate: Option<u32>,
    pub max_flows_per_table: Option<usize>,
    /// `--queue`: replaces the file's `queues` when given.
    pub queues: Vec<String>,
    pub rundir: Option<PathBuf>,
    pub statedir: Option<PathBuf>,
    pub metrics: Option<String>,
    /// Replaces the file's `metrics_flows` when given.
    pub metrics_flows: Vec<String>,
    /// `--private-key`, `--certificate`, `--ca-cert`: each replaces the
    /// file's `private_key`, `certificate`, `ca_cert`.
    pub private_key: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
}

impl DaemonConfig {
    /// Builds the configuration from an optional TOML text (`file` names it
    /// in errors) and the flags.
    pub fn load(toml_text: Option<(&str, &str)>, flags: &BridgeFlags) -> Result<Self, ConfigError> {
        let file: FileConfig = match toml_text {
            Some((path, text)) => toml::from_str(text)
                .map_err(|e| ConfigError(format!("{path}: {}", e.to_string().trim_end())))?,
            None => FileConfig::default(),
        };
        let mut bridges = Vec::new();
        for b in file.bridge {
            let rate = b.packet_in_rate;
            let queues = b.queues;
            let max_flows = b.max_flows_per_table;
            let mut r = resolve_bridge(
                b.name,
                b.datapath_id,
                b.fail_mode,
                b.table_miss,
                b.ports,
                b.controllers,
                b.listen,
            )?;
            r.packet_in_rate = rate.unwrap_or(DEFAULT_PACKET_IN_RATE);
            r.max_flows_per_table = check_max_flows(&r.name, max_flows)?;
            r.queues = resolve_queues(&r, &queues)?;
            bridges.push(r);
        }
        let has_bridge_flags = flags.bridge.is_some()
            || flags.packet_in_rate.is_some()
            || flags.max_flows_per_table.is_some()
            || !flags.queues.is_empty()
            || flags.datapath_id.is_some()
            || !flags.ports.is_empty()
            || !flags.controllers.is_empty()
            || !flags.listen.is_empty()
            || flags.fail_mode.is_some()
            || flags.table_miss.is_some();
        if has_bridge_flags {
            // Flags describe one bridge: the one named by --bridge, else the
            // file's only bridge, else a new one.
            let name = match (&flags.bridge, bridges.len()) {
                (Some(n), _) => n.clone(),
                (None, 1) => bridges[0].name.clone(),
                (None, 0) => return err("--bridge NAME is required (no bridge in a config file)"),
                (None, _) => {
                    return err("the config file has several bridges: say which one the flags are for with --bridge NAME")
                }
            };
            let base = bridges.iter().position(|b| b.name == name);
            let mut merged = {
                let b = base.map(|i| bridges[i].clone());
                let pick =
                    |flag: &Option<String>, from_file: Option<String>| flag.clone().or(from_file);
                resolve_bridge(
                    name.clone(),
                    pick(
                        &flags.datapath_id,
                        b.as_ref().map(|b| format!("{:x}", b.datapath_id)),
                    ),
                    pick(
                        &flags.fail_mode,
                        b.as_ref().map(|b| match b.fail_mode {
                            FailMode::Standalone => "standalone".into(),
                            FailMode::Secure => "secure".into(),
                        }),
                    ),
                    pick(
                        &flags.table_miss,
                        b.as_ref().map(|b| match b.table_miss {
                            TableMiss::Drop => "drop".into(),
                            TableMiss::Controller => "controller".into(),
                        }),
                    ),
                    override_list(
                        &flags.ports,
                        b.as_ref().map(|b| {
                            b.ports
                                .iter()
                                .map(|p| match p.ofport {
                                    Some(n) => format!("{}:{n}", p.ifname),
                                    None => p.ifname.clone(),
                                })
                                .collect()
                        }),
                    ),
                    override_list(
                        &flags.controllers,
                        b.as_ref().map(|b| b.controllers.clone()),
                    ),
                    override_list(&flags.listen, b.as_ref().map(|b| b.listen.clone())),
                )?
            };
            merged.packet_in_rate = flags
                .packet_in_rate
                .or(base.map(|i| bridges[i].packet_in_rate))
                .unwrap_or(DEFAULT_PACKET_IN_RATE);
            merged.max_flows_per_table = check_max_flows(
                &merged.name,
                flags
                    .max_flows_per_table
                    .or(base.map(|i| bridges[i].max_flows_per_table)),
            )?;
            let queues = override_list(
                &flags.queues,
                base.map(|i| bridges[i].queues.iter().map(|q| q.to_string()).collect()),
            );
            merged.queues = resolve_queues(&merged, &queues)?;
            match base {
                Some(i) => bridges[i] = merged,
                None => bridges.push(merged),
            }
        }
        if bridges.is_empty() {
            return err(
                "no bridge configured: give --bridge NAME or a config file with [[bridge]]",
            );
        }
        let mut names = HashSet::new();
        let mut dpids = HashSet::new();
        let mut ifnames = HashSet::new();
        for b in &bridges {
            if !names.insert(b.name.as_str()) {
                return err(format!("bridge '{}' is configured twice", b.name));
            }
            if !dpids.insert(b.datapath_id) {
                return err(format!(
                    "bridge '{}': datapath id {:016x} is already used by another bridge",
                    b.name, b.datapath_id
                ));
            }
            for p in &b.ports {
                if !ifnames.insert(p.ifname.as_str()) {
                    return err(format!(
                        "interface '{}' is configured as a port twice",
                        p.ifname
                    ));
                }
            }
        }
        let tls = resolve_tls(
            &bridges,
            flags.private_key.clone().or(file.private_key),
            flags.certificate.clone().or(file.certificate),
            flags.ca_cert.clone().or(file.ca_cert),
        )?;
        Ok(DaemonConfig {
            tls,
            rundir: flags
                .rundir
                .clone()
                .or(file.rundir)
                .unwrap_or_else(|| DEFAULT_RUNDIR.into()),
            statedir: flags
                .statedir
                .clone()
                .or(file.statedir)
                .unwrap_or_else(|| DEFAULT_STATEDIR.into()),
            metrics: flags.metrics.clone().or(file.metrics),
            metrics_flows: override_list(&flags.metrics_flows, Some(file.metrics_flows))
                .iter()
                .map(|s| s.parse())
                .collect::<Result<_, _>>()?,
            bridges,
        })
    }
}

/// The TLS files: all three or none. Missing ones are an error when given
/// partly, or when a bridge has an `ssl:`/`pssl:` target; the message names
/// the flags (and config keys) to add.
fn resolve_tls(
    bridges: &[BridgeConfig],
    private_key: Option<PathBuf>,
    certificate: Option<PathBuf>,
    ca_cert: Option<PathBuf>,
) -> Result<Option<TlsFiles>, ConfigError> {
    if let (Some(private_key), Some(certificate), Some(ca_cert)) =
        (&private_key, &certificate, &ca_cert)
    {
        return Ok(Some(TlsFiles {
            private_key: private_key.clone(),
            certificate: certificate.clone(),
            ca_cert: ca_cert.clone(),
        }));
    }
    let missing: Vec<(&str, &str)> = [
        (private_key.is_none(), ("--private-key", "private_key")),
        (certificate.is_none(), ("--certificate", "certificate")),
        (ca_cert.is_none(), ("--ca-cert", "ca_cert")),
    ]
    .into_iter()
    .filter_map(|(m, names)| m.then_some(names))
    .collect();
    let flags = missing.iter().map(|m| m.0).collect::<Vec<_>>().join(", ");
    let keys = missing.iter().map(|m| m.1).collect::<Vec<_>>().join(", ");
    let tls_user = bridges.iter().find_map(|b| {
        b.controllers
            .iter()
            .find(|t| t.starts_with("ssl:"))
            .map(|t| format!("bridge '{}': controller {t}", b.name))
            .or_else(|| {
                b.listen
                    .iter()
                    .find(|t| t.starts_with("pssl:"))
                    .map(|t| format!("bridge '{}': listen {t}", b.name))
            })
    });
    match tls_user {
        Some(who) => err(format!(
            "{who} needs a TLS private key, certificate and CA certificate: \
             {flags} missing ({keys} in the config file)"
        )),
        None if missing.len() < 3 => err(format!(
            "TLS files are given only in part: {flags} missing ({keys} in the config file); \
             ssl:/pssl: targets need all three"
        )),
        None => Ok(None),
    }
}

/// Parses a bridge's queues: each on one of its ports, each once.
fn resolve_queues(b: &BridgeConfig, queues: &[String]) -> Result<Vec<QueueSpec>, ConfigError> {
    let ctx = |e: ConfigError| ConfigError(format!("bridge '{}': {}", b.name, e.0));
    let mut out = Vec::new();
    for s in queues {
        let q: QueueSpec = s.parse().map_err(ctx)?;
        if !b.ports.iter().any(|p| p.ifname == q.ifname) {
            return Err(ctx(ConfigError(format!(
                "queue '{s}': '{}' is not one of the bridge's ports",
                q.ifname
            ))));
        }
        out.push(q);
    }
    crate::dataplane::queues::check_queue_specs(&out).map_err(ctx)?;
    Ok(out)
}

/// A repeatable flag given at least once replaces the file's list.
fn override_list(flag: &[String], file: Option<Vec<String>>) -> Vec<String> {
    if flag.is_empty() {
        file.unwrap_or_default()
    } else {
        flag.to_vec()
    }
}

fn resolve_bridge(
    name: String,
    datapath_id: Option<String>,
    fail_mode: Option<String>,
    table_miss: Option<String>,
    ports: Vec<String>,
    controllers: Vec<String>,
    listen: Vec<String>,
) -> Result<BridgeConfig, ConfigError> {
    check_ifname(&name).map_err(|e| ConfigError(format!("bridge name: {}", e.0)))?;
    let ctx = |e: ConfigError| ConfigError(format!("bridge '{name}': {}", e.0));
    let datapath_id = match datapath_id {
        Some(s) => parse_datapath_id(&s).map_err(ctx)?,
        None => default_datapath_id(&name),
    };
    let mut specs = Vec::new();
    let mut ofports = HashSet::new();
    let mut ifnames = HashSet::new();
    for p in ports {
        let spec: PortSpec = p.parse().map_err(ctx)?;
        if spec.ifname == name {
            return Err(ctx(ConfigError(format!(
                "port '{}' has the bridge's own name (that is its LOCAL port)",
                spec.ifname
            ))));
        }
        if !ifnames.insert(spec.ifname.clone()) {
            return Err(ctx(ConfigError(format!(
                "port '{}' is listed twice",
                spec.ifname
            ))));
        }
        if let Some(n) = spec.ofport {
            if !ofports.insert(n) {
                return Err(ctx(ConfigError(format!(
                    "OpenFlow port {n} is given to two ports"
                ))));
            }
        }
        specs.push(spec);
    }
    Ok(BridgeConfig {
        fail_mode: fail_mode
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ctx)?
            .unwrap_or_default(),
        table_miss: table_miss
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ctx)?
            .unwrap_or_default(),
        name,
        datapath_id,
        ports: specs,
        controllers,
        listen,
        packet_in_rate: DEFAULT_PACKET_IN_RATE,
        queues: Vec::new(),
        max_flows_per_table: DEFAULT_MAX_FLOWS_PER_TABLE,
    })
}

/// Default capacity of each flow table.
pub const DEFAULT_MAX_FLOWS_PER_TABLE: usize = crate::pipeline::flow_table::DEFAULT_MAX_ENTRIES;

/// `max_flows_per_table`: at least 1 (a table that can hold nothing would
/// refuse even the table-miss entry); default [`DEFAULT_MAX_FLOWS_PER_TABLE`].
fn check_max_flows(bridge: &str, v: Option<usize>) -> Result<usize, ConfigError> {
    match v {
        Some(0) => Err(ConfigError(format!(
            "bridge '{bridge}': max_flows_per_table must be at least 1"
        ))),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_MAX_FLOWS_PER_TABLE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(bridge: &str) -> BridgeFlags {
        BridgeFlags {
            bridge: Some(bridge.into()),
            ..Default::default()
        }
    }

    #[test]
    fn datapath_id_forms() {
        assert_eq!(parse_datapath_id("1").unwrap(), 1);
        assert_eq!(parse_datapath_id("0x00000000000000ff").unwrap(), 0xff);
        assert_eq!(parse_datapath_id("ffffffffffffffff").unwrap(), u64::MAX);
        for bad in ["", "0x", "12345678901234567", "xyz", "-1"] {
            assert!(parse_datapath_id(bad).is_err(), "{bad}");
        }
        assert_eq!(default_datapath_id("br0"), default_datapath_id("br0"));
        assert_ne!(default_datapath_id("br0"), default_datapath_id("br1"));
        assert!(default_datapath_id("br0") < 1 << 48);
    }

    #[test]
    fn port_specs() {
        assert_eq!(
            "tap1:7".parse::<PortSpec>().unwrap(),
            PortSpec {
                ifname: "tap1".into(),
                ofport: Some(7)
            }
        );
        assert_eq!("vnet0".parse::<PortSpec>().unwrap().ofport, None);
        assert!("tap1:0"
            .parse::<PortSpec>()
            .unwrap_err()
            .0
            .contains("out of range"));
        assert!("tap1:4294967040".parse::<PortSpec>().is_ok()); // OFPP_MAX
        assert!("tap1:4294967041".parse::<PortSpec>().is_err());
        assert!("tap1:x"
            .parse::<PortSpec>()
            .unwrap_err()
            .0
            .contains("not a number"));
        assert!("a-very-long-interface".parse::<PortSpec>().is_err());
    }

    #[test]
    fn flags_alone_make_one_bridge_with_defaults() {
        let mut f = flags("br0");
        f.ports = vec!["tap1:1".into(), "tap2:2".into()];
        let c = DaemonConfig::load(None, &f).unwrap();
        assert_eq!(c.rundir, PathBuf::from(DEFAULT_RUNDIR));
        let b = &c.bridges[0];
        assert_eq!(b.fail_mode, FailMode::Standalone);
        assert_eq!(b.table_miss, TableMiss::Drop);
        assert_eq!(b.datapath_id, default_datapath_id("br0"));
        assert_eq!(b.ports.len(), 2);
    }

    #[test]
    fn the_deploy_tenant_and_trunk_configs_load() {
        for (file, ports, dpid) in [("tenants.toml", 3, None), ("trunk.toml", 4, Some(1u64))] {
            let path = format!("{}/../deploy/config/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("deploy config");
            let c = DaemonConfig::load(Some((&path, &text)), &BridgeFlags::default())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let b = &c.bridges[0];
            assert_eq!(b.fail_mode, FailMode::Secure, "{file}");
            assert_eq!(b.ports.len(), ports, "{file}");
            assert_eq!(b.controllers, ["tcp:127.0.0.1:6653"], "{file}");
            if let Some(d) = dpid {
                assert_eq!(b.datapath_id, d, "{file}");
            }
        }
    }

    #[test]
    fn queues_from_file_and_flags_with_named_errors() {
        let toml = r#"
            [[bridge]]
            name = "br0"
            ports = ["tap1:1", "tap2:2"]
            queues = ["tap1:1:max=10M", "tap2:5:min=1M,max=2M"]
        "#;
        let c = DaemonConfig::load(Some(("t.toml", toml)), &BridgeFlags::default()).unwrap();
        let q = &c.bridges[0].queues;
        assert_eq!(q.len(), 2);
        assert_eq!((q[0].ifname.as_str(), q[0].queue_id), ("tap1", 1));
        assert_eq!(q[0].max_rate, Some(10_000_000));
        assert_eq!(q[1].min_rate, Some(1_000_000));
        // --queue replaces the file's list.
        let f = BridgeFlags {
            queues: vec!["tap2:3:max=1G".into()],
            ..Default::default()
        };
        let c = DaemonConfig::load(Some(("t.toml", toml)), &f).unwrap();
        assert_eq!(c.bridges[0].queues.len(), 1);
        assert_eq!(c.bridges[0].queues[0].queue_id, 3);
        // Flags alone.
        let mut f = flags("br1");
        f.ports = vec!["tap1".into()];
        f.queues = vec!["tap1:1:max=5M".into()];
        assert_eq!(
            DaemonConfig::load(None, &f).unwrap().bridges[0]
                .queues
                .len(),
            1
        );
        for (q, want) in [
            (
                "tap9:1",
                "bridge 'br1': queue 'tap9:1': 'tap9' is not one of the bridge's ports",
            ),
            (
                "tap1:1:max=x",
                "bridge 'br1': queue 'tap1:1:max=x': rate 'x'",
            ),
            (
                "tap1:0",
                "bridge 'br1': queue 'tap1:0': queue id 0 cannot be configured",
            ),
        ] {
            f.queues = vec![q.into()];
            let e = DaemonConfig::load(None, &f).unwrap_err().0;
            assert!(e.starts_with(want), "{q}: {e}");
        }
        f.queues = vec!["tap1:1".into(), "tap1:1:max=1M".into()];
        let e = DaemonConfig::load(None, &f).unwrap_err().0;
        assert!(
            e.contains("queue 1 of port 'tap1' is configured twice"),
            "{e}"
        );
        let bad = r#"
            [[bridge]]
            name = "br0"
            ports = ["tap1:1"]
            queues = ["tap1:1:speed=1M"]
        "#;
        let e = DaemonConfig::load(Some(("t.toml", bad)), &BridgeFlags::default()).unwrap_err();
        assert!(e.0.contains("unknown key 'speed'"), "{}", e.0);
    }

    #[test]
    fn duplicate_ports_and_numbers_are_refused() {
        let mut f = flags("br0");
        f.ports = vec!["tap1:1".into(), "tap2:1".into()];
        assert!(DaemonConfig::load(None, &f)
            .unwrap_err()
            .0
            .contains("OpenFlow port 1 is given to two"));
        f.ports = vec!["tap1".into(), "tap1:2".into()];
        assert!(DaemonConfig::load(None, &f)
            .unwrap_err()
            .0
            .contains("listed twice"));
    }

    #[test]
    fn flags_override_the_file() {
        let toml = r#"
            rundir = "/tmp/tf"
            [[bridge]]
            name = "br0"
            datapath_id = "0x2a"
            fail_mode = "secure"
            ports = ["tap1:1"]
            listen = ["ptcp:6653"]
        "#;
        let f = BridgeFlags {
            fail_mode: Some("standalone".into()),
            ports: vec!["tap9:9".into()],
            ..Default::default()
        };
        let c = DaemonConfig::load(Some(("t.toml", toml)), &f).unwrap();
        assert_eq!(c.rundir, PathBuf::from("/tmp/tf"));
        let b = &c.bridges[0];
        assert_eq!(b.datapath_id, 0x2a);
        assert_eq!(b.fail_mode, FailMode::Standalone);
        assert_eq!(b.ports[0].ifname, "tap9");
        assert_eq!(b.listen, vec!["ptcp:6653".to_string()]);
    }

    #[test]
    fn metrics_flows_come_from_flags_or_the_file_and_bad_ones_are_named() {
        use crate::metrics::FlowSpec;
        let toml = "metrics_flows = [\"table=3\"]\n[[bridge]]\nname = \"br0\"\n";
        let c = DaemonConfig::load(Some(("t.toml", toml)), &BridgeFlags::default()).unwrap();
        assert_eq!(
            c.metrics_flows,
            vec![FlowSpec {
                table: Some(3),
                cookie: None
            }]
        );
        let mut f = flags("br0");
        f.metrics_flows = vec!["cookie=0x10/0xff".into(), "table=1,cookie=7".into()];
        let c = DaemonConfig::load(Some(("t.toml", toml)), &f).unwrap();
        assert_eq!(
            c.metrics_flows,
            vec![
                FlowSpec {
                    table: None,
                    cookie: Some((0x10, 0xff))
                },
                FlowSpec {
                    table: Some(1),
                    cookie: Some((7, u64::MAX))
                },
            ]
        );
        f.metrics_flows = vec!["table=1".into(), "cookie=0xzz".into()];
        let e = DaemonConfig::load(None, &f).unwrap_err();
        assert!(e.0.contains("'cookie=0xzz'"), "{e}");
        let none = DaemonConfig::load(None, &flags("br0")).unwrap();
        assert!(none.metrics_flows.is_empty());
    }

    #[test]
    fn the_deploy_example_config_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/config/seed.toml");
        let text = std::fs::read_to_string(path).expect("deploy/config/seed.toml");
        let c = DaemonConfig::load(Some((path, &text)), &BridgeFlags::default()).unwrap();
        assert_eq!(c.metrics.as_deref(), Some("127.0.0.1:9310"));
        let b = &c.bridges[0];
        assert_eq!((b.name.as_str(), b.fail_mode), ("br0", FailMode::Secure));
        assert_eq!(b.ports.len(), 2);
    }

    #[test]
    fn max_flows_per_table_from_file_and_flag_and_zero_refused() {
        let toml = "[[bridge]]\nname='br0'\nmax_flows_per_table=500\n";
        let c = DaemonConfig::load(Some(("t", toml)), &BridgeFlags::default()).unwrap();
        assert_eq!(c.bridges[0].max_flows_per_table, 500);
        let f = BridgeFlags {
            max_flows_per_table: Some(7),
            ..Default::default()
        };
        let c = DaemonConfig::load(Some(("t", toml)), &f).unwrap();
        assert_eq!(c.bridges[0].max_flows_per_table, 7);
        let c = DaemonConfig::load(
            Some(("t", "[[bridge]]\nname='b'\n")),
            &BridgeFlags::default(),
        )
        .unwrap();
        assert_eq!(
            c.bridges[0].max_flows_per_table,
            DEFAULT_MAX_FLOWS_PER_TABLE
        );
        let zero = "[[bridge]]\nname='br0'\nmax_flows_per_table=0\n";
        let e = DaemonConfig::load(Some(("t", zero)), &BridgeFlags::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("max_flows_per_table must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn packet_in_rate_from_file_and_flag() {
        let toml = "[[bridge]]\nname='br0'\npacket_in_rate=50\n";
        let c = DaemonConfig::load(Some(("t", toml)), &BridgeFlags::default()).unwrap();
        assert_eq!(c.bridges[0].packet_in_rate, 50);
        let f = BridgeFlags {
            packet_in_rate: Some(0),
            ..Default::default()
        };
        let c = DaemonConfig::load(Some(("t", toml)), &f).unwrap();
        assert_eq!(c.bridges[0].packet_in_rate, 0);
        let c = DaemonConfig::load(None, &flags("br1")).unwrap();
        assert_eq!(c.bridges[0].packet_in_rate, DEFAULT_PACKET_IN_RATE);
    }

    #[test]
    fn tls_files_come_from_flags_or_the_file() {
        let toml = "private_key = '/f/key.pem'\ncertificate = '/f/cert.pem'\n\
                    ca_cert = '/f/ca.pem'\n[[bridge]]\nname = 'br0'\n\
                    controllers = ['ssl:10.0.0.1']\nlisten = ['pssl:6654']\n";
        let c = DaemonConfig::load(Some(("t", toml)), &BridgeFlags::default()).unwrap();
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                private_key: "/f/key.pem".into(),
                certificate: "/f/cert.pem".into(),
                ca_cert: "/f/ca.pem".into(),
            })
        );
        let f = BridgeFlags {
            certificate: Some("/x/cert.pem".into()),
            ..Default::default()
        };
        let c = DaemonConfig::load(Some(("t", toml)), &f).unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(tls.certificate, PathBuf::from("/x/cert.pem"));
        assert_eq!(tls.private_key, PathBuf::from("/f/key.pem"));
        // No TLS files and no ssl targets: no TLS.
        assert_eq!(DaemonConfig::load(None, &flags("br0")).unwrap().tls, None);
    }

    #[test]
    fn ssl_targets_without_tls_files_name_what_is_missing() {
        let mut f = flags("br0");
        f.controllers = vec!["tcp:10.0.0.2".into(), "ssl:10.0.0.1:6653".into()];
        let e = DaemonConfig::load(None, &f).unwrap_err();
        assert_eq!(
            e.0,
            "bridge 'br0': controller ssl:10.0.0.1:6653 needs a TLS private key, certificate \
             and CA certificate: --private-key, --certificate, --ca-cert missing \
             (private_key, certificate, ca_cert in the config file)"
        );
        let mut f = flags("br0");
        f.listen = vec!["pssl:6653:127.0.0.1".into()];
        f.private_key = Some("/k.pem".into());
        f.certificate = Some("/c.pem".into());
        let e = DaemonConfig::load(None, &f).unwrap_err();
        assert!(
            e.0.starts_with("bridge 'br0': listen pssl:6653:127.0.0.1 needs")
                && e.0
                    .contains(": --ca-cert missing (ca_cert in the config file)"),
            "{e}"
        );
        // Given in part without any ssl target: still a mistake.
        let mut f = flags("br0");
        f.ca_cert = Some("/ca.pem".into());
        let e = DaemonConfig::load(None, &f).unwrap_err();
        assert!(
            e.0.starts_with(
                "TLS files are given only in part: --private-key, --certificate missing"
            ),
            "{e}"
        );
        // The file's keys count as given.
        let toml = "private_key='/k'\ncertificate='/c'\n[[bridge]]\nname='br0'\n";
        let mut f = BridgeFlags {
            ca_cert: Some("/ca.pem".into()),
            ..Default::default()
        };
        f.controllers = vec!["ssl:h".into()];
        assert!(DaemonConfig::load(Some(("t", toml)), &f)
            .unwrap()
            .tls
            .is_some());
    }

    #[test]
    fn bad_file_names_the_problem() {
        let e = DaemonConfig::load(
            Some(("t.toml", "[[bridge]]\nname='br0'\nfail_mode='open'")),
            &BridgeFlags::default(),
        )
        .unwrap_err();
        assert!(
            e.0.contains("bridge 'br0'") && e.0.contains("fail mode 'open'"),
            "{e}"
        );
        let e = DaemonConfig::load(
            Some(("t.toml", "[[bridge]]\nname='br0'\nbogus=1")),
            &BridgeFlags::default(),
        )
        .unwrap_err();
        assert!(e.0.starts_with("t.toml:") && e.0.contains("bogus"), "{e}");
        let e = DaemonConfig::load(None, &BridgeFlags::default()).unwrap_err();
        assert!(e.0.contains("no bridge configured"), "{e}");
        let two = "[[bridge]]\nname='a'\n[[bridge]]\nname='b'\n";
        let f = BridgeFlags {
            ports: vec!["tap1".into()],
            ..Default::default()
        };
        assert!(DaemonConfig::load(Some(("t", two)), &f)
            .unwrap_err()
            .0
            .contains("--bridge NAME"));
    }
}
