//! The network description: which VMs exist, where they are plugged in, which
//! tenant (VLAN) each belongs to, which trunks carry which tenants, and which
//! tenants may route to each other. Read from TOML (keys documented in
//! `deploy/controller/README.md`), validated whole on load so that the plan
//! (`crate::plan`) never has to second-guess it: every error names the entry
//! it is about.

use ofproto::MacAddr;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// The cookie on every flow the controller owns when the file names none: "tf" + 1.
pub const DEFAULT_COOKIE: u64 = 0x7466_0000_0000_0001;
/// Where the controller listens when the file names neither `listen` nor `connect`.
pub const DEFAULT_LISTEN: &str = "ptcp:6653";
/// Idle timeout of an l2-learning flow when the file names none (seconds).
pub const DEFAULT_L2_IDLE_TIMEOUT: u16 = 60;
/// The bridge a description without any `[[bridge]]` table describes.
pub const DEFAULT_BRIDGE: &str = "br0";
/// Highest physical port number OpenFlow 1.3 allows (`OFPP_MAX`).
const OFPP_MAX: u32 = 0xffff_ff00;
/// Interface names are at most 15 bytes on Linux (IFNAMSIZ - 1), and the
/// OpenFlow port name field holds 15 plus a NUL.
const MAX_PORT_NAME: usize = 15;

/// A whole, validated network description.
#[derive(Clone, Debug, PartialEq)]
pub struct NetDesc {
    pub controller: ControllerSection,
    pub bridges: Vec<BridgeDesc>,
    pub tenants: Vec<Tenant>,
    pub vms: Vec<VmDesc>,
    pub trunks: Vec<Trunk>,
    pub policy: Policy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ControllerSection {
    /// Passive endpoints the switches connect to, e.g. `ptcp:6653`, `ptcp:6653:127.0.0.1`.
    pub listen: Vec<String>,
    /// Switch listeners the controller connects to, e.g. `tcp:127.0.0.1:6634`.
    pub connect: Vec<String>,
    pub app: App,
    /// Every flow the controller installs carries it, so a resync after a
    /// reconnect can tell its flows from anyone else's.
    pub cookie: u64,
    pub metrics: Option<SocketAddr>,
    /// Idle timeout of the flows the l2-learning app installs (seconds).
    pub l2_idle_timeout: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    /// Proactive per-VM flows from the description (the seed walkthrough, automated).
    VmFlows,
    /// Reactive MAC learning from PACKET_IN (like Ryu's simple_switch_13).
    L2Learning,
}

/// A switch port, by OpenFlow number or by interface name (resolved through
/// PORT_DESC / PORT_STATUS by the runtime, through `--port NAME=NUM` by `check`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortRef {
    Number(u32),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => write!(f, "{s:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeDesc {
    pub name: String,
    /// `None`: this (only) bridge matches whatever switch connects.
    pub datapath_id: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub name: String,
    /// Always `Some` after validation: tenants exist only in tenant mode,
    /// where each needs its VLAN (flat mode has no tenants at all).
    pub vlan: Option<u16>,
    pub subnet4: Option<(Ipv4Addr, u8)>,
    pub gateway4: Option<Ipv4Addr>,
    pub subnet6: Option<(Ipv6Addr, u8)>,
    pub gateway6: Option<Ipv6Addr>,
    /// The MAC the gateway answers ARP/ND with and routed frames leave with.
    pub gateway_mac: MacAddr,
}

impl Tenant {
    /// Whether the tenant is a routing endpoint (has a v4 or v6 gateway).
    pub fn has_gateway(&self) -> bool {
        self.gateway4.is_some() || self.gateway6.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmDesc {
    pub name: String,
    pub bridge: String,
    pub mac: MacAddr,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    pub port: PortRef,
    /// The tenant's name; empty in flat mode (no tenants declared).
    pub tenant: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trunk {
    pub bridge: String,
    pub port: PortRef,
    /// Tenant names, in the order written, without duplicates.
    pub tenants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    /// Unordered pairs of tenants allowed to route to each other; each pair
    /// once, as written.
    pub allow: Vec<(String, String)>,
}

impl Policy {
    /// Whether tenants `a` and `b` may route to each other (either order).
    pub fn allows(&self, a: &str, b: &str) -> bool {
        self.allow
            .iter()
            .any(|(x, y)| (x == a && y == b) || (x == b && y == a))
    }
}

/// A description that cannot be used; the message names the entry (and, from
/// [`NetDesc::load`], the file).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DescError(pub String);

impl NetDesc {
    /// Parses and validates a description.
    pub fn parse(text: &str) -> Result<NetDesc, DescError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| DescError(toml_message(&e)))?;
        raw.validate().map_err(DescError)
    }

    /// Reads, parses and validates the description in `path`; errors start with the path.
    pub fn load(path: &Path) -> Result<NetDesc, DescError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DescError(format!("{}: {e}", path.display())))?;
        NetDesc::parse(&text).map_err(|e| DescError(format!("{}: {}", path.display(), e.0)))
    }

    /// Flat mode: no tenants, every VM in one network, single table.
    pub fn is_flat(&self) -> bool {
        self.tenants.is_empty()
    }

    /// The bridge a switch with datapath id `dpid` is: the one declaring that
    /// id, or the only bridge when it declares none.
    pub fn bridge_for_dpid(&self, dpid: u64) -> Option<&BridgeDesc> {
        if let Some(b) = self.bridges.iter().find(|b| b.datapath_id == Some(dpid)) {
            return Some(b);
        }
        match self.bridges.as_slice() {
            [only] if only.datapath_id.is_none() => Some(only),
            _ => None,
        }
    }

    pub fn bridge(&self, name: &str) -> Option<&BridgeDesc> {
        self.bridges.iter().find(|b| b.name == name)
    }

    pub fn tenant(&self, name: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.name == name)
    }

    /// The gateway MAC to answer with when a host on `bridge` asks (ARP or ND) for `ip`, if `ip` is a tenant gateway address.
    pub fn gateway_mac(&self, ip: IpAddr) -> Option<MacAddr> {
        self.tenants
            .iter()
            .find(|t| match ip {
                IpAddr::V4(a) => t.gateway4 == Some(a),
                IpAddr::V6(a) => t.gateway6 == Some(a),
            })
            .map(|t| t.gateway_mac)
    }
}

/// The gateway MAC of a tenant that names none: locally administered unicast
/// `02:74:66:00:VV:VV` ("tf" and the VLAN), so it is stable across restarts
/// and distinct per tenant. Without a VLAN, the last two bytes are a hash of
/// the name instead.
pub fn default_gateway_mac(name: &str, vlan: Option<u16>) -> MacAddr {
    let tail = vlan.unwrap_or_else(|| {
        // FNV-1a, folded to 16 bits: deterministic across builds, unlike std's hasher.
        let mut h: u32 = 0x811c_9dc5;
        for b in name.bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        ((h >> 16) ^ (h & 0xffff)) as u16
    });
    let [hi, lo] = tail.to_be_bytes();
    MacAddr([0x02, 0x74, 0x66, 0x00, hi, lo])
}

/// toml's message without its trailing newline (it already quotes the line).
fn toml_message(e: &toml::de::Error) -> String {
    e.to_string().trim_end().to_string()
}

// ---------------------------------------------------------------------------
// The file as written. Strings stay strings until validation so that a bad
// value's message can name the entry it belongs to.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    controller: RawController,
    #[serde(default)]
    bridge: Vec<RawBridge>,
    #[serde(default)]
    tenant: Vec<RawTenant>,
    #[serde(default)]
    vm: Vec<RawVm>,
    #[serde(default)]
    trunk: Vec<RawTrunk>,
    #[serde(default)]
    policy: RawPolicy,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawController {
    listen: Option<Vec<String>>,
    connect: Option<Vec<String>>,
    app: Option<String>,
    cookie: Option<toml::Value>,
    metrics: Option<String>,
    l2_idle_timeout: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBridge {
    name: String,
    datapath_id: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    name: String,
    vlan: Option<i64>,
    subnet: Option<String>,
    gateway: Option<String>,
    subnet6: Option<String>,
    gateway6: Option<String>,
    gateway_mac: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVm {
    name: String,
    bridge: Option<String>,
    mac: String,
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Vec<String>,
    port: toml::Value,
    tenant: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrunk {
    bridge: Option<String>,
    port: toml::Value,
    tenants: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    allow: Vec<Vec<String>>,
}

// ---------------------------------------------------------------------------
// Value parsers: `what` is the entry and key, for the message.

fn parse_u64_value(what: &str, v: &toml::Value) -> Result<u64, String> {
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        toml::Value::String(s) => {
            let t = s.trim();
            let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(&h.replace('_', ""), 16),
                None => t.replace('_', "").parse(),
            };
            r.map_err(|_| format!("{what}: {s:?} is not a number (write e.g. \"0x1\" or 1)"))
        }
        other => Err(format!(
            "{what}: {other} is not a non-negative number (write e.g. \"0x1\" or 1)"
        )),
    }
}

fn parse_port(what: &str, v: &toml::Value) -> Result<PortRef, String> {
    match v {
        toml::Value::Integer(n) if (1..=i64::from(OFPP_MAX)).contains(n) => {
            Ok(PortRef::Number(*n as u32))
        }
        toml::Value::Integer(n) => Err(format!(
            "{what}: port {n} out of range (1..={OFPP_MAX}, or an interface name)"
        )),
        toml::Value::String(s) if s.is_empty() => Err(format!("{what}: port name is empty")),
        toml::Value::String(s) if s.len() > MAX_PORT_NAME => Err(format!(
            "{what}: port name {s:?} is longer than {MAX_PORT_NAME} bytes"
        )),
        toml::Value::String(s) => match s.parse::<u32>() {
            // "3" is port 3 written as a string, not an interface called "3".
            Ok(n) => parse_port(what, &toml::Value::Integer(i64::from(n))),
            Err(_) => Ok(PortRef::Name(s.clone())),
        },
        other => Err(format!(
            "{what}: port {other} is neither a port number nor an interface name"
        )),
    }
}

fn parse_mac(what: &str, s: &str) -> Result<MacAddr, String> {
    let m: MacAddr = s
        .parse()
        .map_err(|_| format!("{what}: malformed MAC address {s:?} (expected xx:xx:xx:xx:xx:xx)"))?;
    if m.is_multicast() {
        return Err(format!(
            "{what}: {m} is a multicast/broadcast address, not a host's MAC"
        ));
    }
    if m == MacAddr::ZERO {
        return Err(format!("{what}: 00:00:00:00:00:00 is not a host's MAC"));
    }
    Ok(m)
}

fn parse_v4(what: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| format!("{what}: malformed IPv4 address {s:?}"))
}

fn parse_v6(what: &str, s: &str) -> Result<Ipv6Addr, String> {
    s.parse()
        .map_err(|_| format!("{what}: malformed IPv6 address {s:?}"))
}

fn split_cidr<'a>(what: &str, s: &'a str) -> Result<(&'a str, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("{what}: malformed CIDR {s:?} (expected ADDRESS/LENGTH)"))?;
    let len = l
        .parse::<u8>()
        .map_err(|_| format!("{what}: malformed CIDR {s:?}: bad prefix length {l:?}"))?;
    Ok((a, len))
}

fn parse_cidr4(what: &str, s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (a, len) = split_cidr(what, s)?;
    let a: Ipv4Addr = a
        .parse()
        .map_err(|_| format!("{what}: malformed CIDR {s:?}: bad IPv4 address {a:?}"))?;
    if len > 32 {
        return Err(format!(
            "{what}: malformed CIDR {s:?}: prefix length above 32"
        ));
    }
    let net = Ipv4Addr::from(u32::from(a) & mask4(len));
    if net != a {
        return Err(format!(
            "{what}: {s:?} has host bits set (the network is {net}/{len})"
        ));
    }
    Ok((a, len))
}

fn parse_cidr6(what: &str, s: &str) -> Result<(Ipv6Addr, u8), String> {
    let (a, len) = split_cidr(what, s)?;
    let a: Ipv6Addr = a
        .parse()
        .map_err(|_| format!("{what}: malformed CIDR {s:?}: bad IPv6 address {a:?}"))?;
    if len > 128 {
        return Err(format!(
            "{what}: malformed CIDR {s:?}: prefix length above 128"
        ));
    }
    let net = Ipv6Addr::from(u128::from(a) & mask6(len));
    if net != a {
        return Err(format!(
            "{what}: {s:?} has host bits set (the network is {net}/{len})"
        ));
    }
    Ok((a, len))
}

fn mask4(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

fn in4((net, len): (Ipv4Addr, u8), a: Ipv4Addr) -> bool {
    u32::from(a) & mask4(len) == u32::from(net)
}

fn in6((net, len): (Ipv6Addr, u8), a: Ipv6Addr) -> bool {
    u128::from(a) & mask6(len) == u128::from(net)
}

/// `ptcp:PORT[:IP]` or `punix:PATH`.
fn check_listen(s: &str) -> Result<(), String> {
    if let Some(rest) = s.strip_prefix("ptcp:") {
        let (port, ip) = match rest.split_once(':') {
            Some((p, ip)) => (p, Some(ip)),
            None => (rest, None),
        };
        if port.parse::<u16>().is_err() {
            return Err(format!("[controller] listen {s:?}: bad port {port:?}"));
        }
        if let Some(ip) = ip {
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            if ip.parse::<IpAddr>().is_err() {
                return Err(format!("[controller] listen {s:?}: bad IP address {ip:?}"));
            }
        }
        return Ok(());
    }
    if s.strip_prefix("punix:").is_some_and(|p| !p.is_empty()) {
        return Ok(());
    }
    Err(format!(
        "[controller] listen {s:?}: expected ptcp:PORT[:IP] or punix:PATH"
    ))
}

/// `tcp:HOST:PORT` or `unix:PATH`.
fn check_connect(s: &str) -> Result<(), String> {
    if let Some(rest) = s.strip_prefix("tcp:") {
        match rest.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => return Ok(()),
            _ => {
                return Err(format!(
                    "[controller] connect {s:?}: expected tcp:HOST:PORT"
                ))
            }
        }
    }
    if s.strip_prefix("unix:").is_some_and(|p| !p.is_empty()) {
        return Ok(());
    }
    Err(format!(
        "[controller] connect {s:?}: expected tcp:HOST:PORT or unix:PATH"
    ))
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what}: name is empty"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{what} {name:?}: name has whitespace or control characters"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------

impl RawController {
    fn validate(self) -> Result<ControllerSection, String> {
        let mut listen = self.listen.unwrap_or_default();
        let connect = self.connect.unwrap_or_default();
        if listen.is_empty() && connect.is_empty() {
            listen.push(DEFAULT_LISTEN.to_string());
        }
        for s in &listen {
            check_listen(s)?;
        }
        for s in &connect {
            check_connect(s)?;
        }
        let app = match self.app.as_deref() {
            None | Some("vm-flows") => App::VmFlows,
            Some("l2-learning") => App::L2Learning,
            Some(other) => {
                return Err(format!(
                    "[controller] app {other:?}: expected \"vm-flows\" or \"l2-learning\""
                ))
            }
        };
        let cookie = match &self.cookie {
            None => DEFAULT_COOKIE,
            Some(v) => parse_u64_value("[controller] cookie", v)?,
        };
        if cookie == 0 || cookie == u64::MAX {
            return Err(format!(
                "[controller] cookie {cookie:#x}: must be neither 0 (every other flow has it) nor 0xffffffffffffffff (reserved)"
            ));
        }
        let metrics = match &self.metrics {
            None => None,
            Some(s) => Some(s.parse::<SocketAddr>().map_err(|_| {
                format!("[controller] metrics {s:?}: expected IP:PORT, e.g. \"127.0.0.1:9121\"")
            })?),
        };
        let l2_idle_timeout = match self.l2_idle_timeout {
            None => DEFAULT_L2_IDLE_TIMEOUT,
            Some(t) => u16::try_from(t).map_err(|_| {
                format!("[controller] l2_idle_timeout {t}: out of range (0..=65535 seconds)")
            })?,
        };
        Ok(ControllerSection {
            listen,
            connect,
            app,
            cookie,
            metrics,
            l2_idle_timeout,
        })
    }
}

impl RawFile {
    fn validate(self) -> Result<NetDesc, String> {
        let controller = self.controller.validate()?;
        let bridges = validate_bridges(self.bridge)?;
        let tenants = validate_tenants(self.tenant)?;
        let vms = validate_vms(self.vm, &bridges, &tenants)?;
        let trunks = validate_trunks(self.trunk, &bridges, &tenants)?;
        check_ports_unique(&vms, &trunks)?;
        let policy = validate_policy(self.policy, &tenants)?;
        Ok(NetDesc {
            controller,
            bridges,
            tenants,
            vms,
            trunks,
            policy,
        })
    }
}

fn validate_bridges(raw: Vec<RawBridge>) -> Result<Vec<BridgeDesc>, String> {
    if raw.is_empty() {
        return Ok(vec![BridgeDesc {
            name: DEFAULT_BRIDGE.to_string(),
            datapath_id: None,
        }]);
    }
    let several = raw.len() > 1;
    let mut out: Vec<BridgeDesc> = Vec::new();
    for b in raw {
        check_name("bridge", &b.name)?;
        let what = format!("bridge {:?}", b.name);
        if out.iter().any(|o| o.name == b.name) {
            return Err(format!("{what}: declared twice"));
        }
        let datapath_id = match &b.datapath_id {
            None if several => {
                return Err(format!(
                    "{what}: datapath_id is required when there are several bridges (it tells them apart)"
                ))
            }
            None => None,
            Some(v) => Some(parse_u64_value(&format!("{what}: datapath_id"), v)?),
        };
        if let Some(d) = datapath_id {
            if let Some(o) = out.iter().find(|o| o.datapath_id == Some(d)) {
                return Err(format!(
                    "{what}: datapath_id {d:#018x} already used by bridge {:?}",
                    o.name
                ));
            }
        }
        out.push(BridgeDesc {
            name: b.name,
            datapath_id,
        });
    }
    Ok(out)
}

fn validate_tenants(raw: Vec<RawTenant>) -> Result<Vec<Tenant>, String> {
    let mut out: Vec<Tenant> = Vec::new();
    for t in raw {
        check_name("tenant", &t.name)?;
        let what = format!("tenant {:?}", t.name);
        if out.iter().any(|o| o.name == t.name) {
            return Err(format!("{what}: declared twice"));
        }
        let vlan = match t.vlan {
            None => {
                return Err(format!(
                    "{what}: vlan is required (tenants are told apart by their VLAN; leave out all tenants for a flat network)"
                ))
            }
            Some(v) if (1..=4094).contains(&v) => v as u16,
            Some(v) => return Err(format!("{what}: vlan {v} out of range (1..=4094)")),
        };
        if let Some(o) = out.iter().find(|o| o.vlan == Some(vlan)) {
            return Err(format!(
                "{what}: vlan {vlan} already used by tenant {:?}",
                o.name
            ));
        }
        let subnet4 = t
            .subnet
            .as_deref()
            .map(|s| parse_cidr4(&format!("{what}: subnet"), s))
            .transpose()?;
        let gateway4 = t
            .gateway
            .as_deref()
            .map(|s| parse_v4(&format!("{what}: gateway"), s))
            .transpose()?;
        let subnet6 = t
            .subnet6
            .as_deref()
            .map(|s| parse_cidr6(&format!("{what}: subnet6"), s))
            .transpose()?;
        let gateway6 = t
            .gateway6
            .as_deref()
            .map(|s| parse_v6(&format!("{what}: gateway6"), s))
            .transpose()?;
        match (subnet4, gateway4) {
            (None, Some(g)) => {
                return Err(format!(
                    "{what}: gateway {g} needs a subnet (subnet = \"A.B.C.D/LEN\")"
                ))
            }
            (Some(net), Some(g)) if !in4(net, g) => {
                return Err(format!(
                    "{what}: gateway {g} is outside its subnet {}/{}",
                    net.0, net.1
                ))
            }
            _ => {}
        }
        match (subnet6, gateway6) {
            (None, Some(g)) => return Err(format!("{what}: gateway6 {g} needs a subnet6")),
            (Some(net), Some(g)) if !in6(net, g) => {
                return Err(format!(
                    "{what}: gateway6 {g} is outside its subnet6 {}/{}",
                    net.0, net.1
                ))
            }
            _ => {}
        }
        for o in &out {
            if let Some(g) = gateway4.filter(|g| o.gateway4 == Some(*g)) {
                return Err(format!(
                    "{what}: gateway {g} already used by tenant {:?}",
                    o.name
                ));
            }
            if let Some(g) = gateway6.filter(|g| o.gateway6 == Some(*g)) {
                return Err(format!(
                    "{what}: gateway6 {g} already used by tenant {:?}",
                    o.name
                ));
            }
        }
        let gateway_mac = match &t.gateway_mac {
            Some(s) => parse_mac(&format!("{what}: gateway_mac"), s)?,
            None => default_gateway_mac(&t.name, Some(vlan)),
        };
        out.push(Tenant {
            name: t.name,
            vlan: Some(vlan),
            subnet4,
            gateway4,
            subnet6,
            gateway6,
            gateway_mac,
        });
    }
    Ok(out)
}

fn resolve_bridge(
    what: &str,
    named: Option<String>,
    bridges: &[BridgeDesc],
) -> Result<String, String> {
    match named {
        Some(b) if bridges.iter().any(|x| x.name == b) => Ok(b),
        Some(b) => Err(format!("{what}: unknown bridge {b:?}")),
        None if bridges.len() == 1 => Ok(bridges[0].name.clone()),
        None => Err(format!(
            "{what}: bridge is required when there are several bridges"
        )),
    }
}

fn validate_vms(
    raw: Vec<RawVm>,
    bridges: &[BridgeDesc],
    tenants: &[Tenant],
) -> Result<Vec<VmDesc>, String> {
    let mut out: Vec<VmDesc> = Vec::new();
    // Every address a VM or gateway holds, and who holds it.
    let mut owner: HashMap<IpAddr, String> = HashMap::new();
    for t in tenants {
        if let Some(g) = t.gateway4 {
            owner.insert(g.into(), format!("tenant {:?} (its gateway)", t.name));
        }
        if let Some(g) = t.gateway6 {
            owner.insert(g.into(), format!("tenant {:?} (its gateway6)", t.name));
        }
    }
    for v in raw {
        check_name("vm", &v.name)?;
        let what = format!("vm {:?}", v.name);
        if out.iter().any(|o| o.name == v.name) {
            return Err(format!("{what}: declared twice"));
        }
        let bridge = resolve_bridge(&what, v.bridge, bridges)?;
        let mac = parse_mac(&format!("{what}: mac"), &v.mac)?;
        if let Some(o) = out.iter().find(|o| o.mac == mac) {
            return Err(format!("{what}: mac {mac} already used by vm {:?}", o.name));
        }
        if let Some(t) = tenants.iter().find(|t| t.gateway_mac == mac) {
            return Err(format!(
                "{what}: mac {mac} is the gateway MAC of tenant {:?}",
                t.name
            ));
        }
        let port = parse_port(&what, &v.port)?;
        let tenant = match (&v.tenant, tenants.is_empty()) {
            (Some(t), _) => match tenants.iter().find(|x| &x.name == t) {
                Some(x) => Some(x),
                None => return Err(format!("{what}: unknown tenant {t:?}")),
            },
            (None, true) => None,
            (None, false) => {
                return Err(format!(
                    "{what}: no tenant, but tenants are declared (flat VMs and tenant VMs cannot be mixed; name its tenant)"
                ))
            }
        };
        let ipv4 = v
            .ipv4
            .as_deref()
            .map(|s| parse_v4(&format!("{what}: ipv4"), s))
            .transpose()?;
        let mut ipv6 = Vec::new();
        for s in &v.ipv6 {
            let a = parse_v6(&format!("{what}: ipv6"), s)?;
            if ipv6.contains(&a) {
                return Err(format!("{what}: ipv6 {a} listed twice"));
            }
            ipv6.push(a);
        }
        if ipv4.is_none() && ipv6.is_empty() {
            return Err(format!(
                "{what}: has no address (ipv4 and/or ipv6); its flows are made from them"
            ));
        }
        if let Some(a) = ipv4 {
            if a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback() {
                return Err(format!("{what}: ipv4 {a} is not a host address"));
            }
        }
        for a in &ipv6 {
            if a.is_unspecified() || a.is_multicast() || a.is_loopback() {
                return Err(format!("{what}: ipv6 {a} is not a host address"));
            }
        }
        if let Some(t) = tenant {
            if let (Some(a), Some(net)) = (ipv4, t.subnet4) {
                if !in4(net, a) {
                    return Err(format!(
                        "{what}: ipv4 {a} is outside the subnet {}/{} of tenant {:?}",
                        net.0, net.1, t.name
                    ));
                }
            }
            if let Some(net) = t.subnet6 {
                for a in &ipv6 {
                    // Link-local addresses are on every link, outside any subnet.
                    if !in6(net, *a) && (a.segments()[0] & 0xffc0) != 0xfe80 {
                        return Err(format!(
                            "{what}: ipv6 {a} is outside the subnet6 {}/{} of tenant {:?}",
                            net.0, net.1, t.name
                        ));
                    }
                }
            }
        }
        let addrs = ipv4
            .map(IpAddr::V4)
            .into_iter()
            .chain(ipv6.iter().map(|a| IpAddr::V6(*a)));
        for a in addrs {
            if let Some(o) = owner.get(&a) {
                return Err(format!("{what}: address {a} already used by {o}"));
            }
            owner.insert(a, what.clone());
        }
        out.push(VmDesc {
            name: v.name,
            bridge,
            mac,
            ipv4,
            ipv6,
            port,
            tenant: tenant.map(|t| t.name.clone()).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn validate_trunks(
    raw: Vec<RawTrunk>,
    bridges: &[BridgeDesc],
    tenants: &[Tenant],
) -> Result<Vec<Trunk>, String> {
    let mut out = Vec::new();
    for (i, t) in raw.into_iter().enumerate() {
        let what = format!("trunk #{} (port {})", i + 1, describe_value(&t.port));
        let bridge = resolve_bridge(&what, t.bridge, bridges)?;
        let port = parse_port(&what, &t.port)?;
        let what = format!("trunk on bridge {bridge:?} port {port}");
        if t.tenants.is_empty() {
            return Err(format!("{what}: carries no tenants (tenants = [\"...\"])"));
        }
        let mut names: Vec<String> = Vec::new();
        for n in t.tenants {
            if !tenants.iter().any(|x| x.name == n) {
                return Err(format!("{what}: unknown tenant {n:?}"));
            }
            if names.contains(&n) {
                return Err(format!("{what}: tenant {n:?} listed twice"));
            }
            names.push(n);
        }
        out.push(Trunk {
            bridge,
            port,
            tenants: names,
        });
    }
    Ok(out)
}

fn describe_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// No two users (VMs, trunks) of one port on one bridge. A port given by
/// number and another by name can still turn out to be the same port; the
/// plan catches that once names are resolved.
fn check_ports_unique(vms: &[VmDesc], trunks: &[Trunk]) -> Result<(), String> {
    let mut used: HashMap<(&str, &PortRef), String> = HashMap::new();
    let users = vms
        .iter()
        .map(|v| (v.bridge.as_str(), &v.port, format!("vm {:?}", v.name)))
        .chain(trunks.iter().map(|t| {
            (
                t.bridge.as_str(),
                &t.port,
                format!("trunk on bridge {:?} port {}", t.bridge, t.port),
            )
        }));
    for (bridge, port, who) in users {
        if let Some(o) = used.get(&(bridge, port)) {
            return Err(format!(
                "{who}: port {port} of bridge {bridge:?} is already used by {o}"
            ));
        }
        used.insert((bridge, port), who);
    }
    Ok(())
}

fn validate_policy(raw: RawPolicy, tenants: &[Tenant]) -> Result<Policy, String> {
    let mut allow: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for pair in raw.allow {
        let what = format!("[policy] allow {pair:?}");
        let [a, b] = <[String; 2]>::try_from(pair).map_err(|_| {
            format!("{what}: expected a pair of tenant names, e.g. [\"blue\", \"red\"]")
        })?;
        if a == b {
            return Err(format!(
                "{what}: a tenant always reaches itself; name two different tenants"
            ));
        }
        for n in [&a, &b] {
            match tenants.iter().find(|t| &t.name == n) {
                None => return Err(format!("{what}: unknown tenant {n:?}")),
                Some(t) if !t.has_gateway() => {
                    return Err(format!(
                    "{what}: tenant {n:?} has no gateway (routing needs gateway and/or gateway6)"
                ))
                }
                Some(_) => {}
            }
        }
        let key = if a < b {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        if seen.insert(key) {
            allow.push((a, b));
        }
    }
    Ok(Policy { allow })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match NetDesc::parse(text) {
            Ok(d) => panic!("accepted: {d:?}"),
            Err(e) => e.0,
        }
    }

    fn ok(text: &str) -> NetDesc {
        NetDesc::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    const VM1: &str =
        "[[vm]]\nname = \"vm1\"\nmac = \"52:54:00:00:00:01\"\nipv4 = \"10.0.10.11\"\nport = 1\n";

    /// Two tenants with gateways, one VM each (ports 1 and 2).
    fn tenants(extra: &str) -> String {
        format!(
            r#"
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
[[vm]]
name = "b1"
mac = "52:54:00:00:10:01"
ipv4 = "10.0.10.11"
ipv6 = ["fd00:10::11"]
port = 1
tenant = "blue"
[[vm]]
name = "r1"
mac = "52:54:00:00:20:01"
ipv4 = "10.0.20.11"
port = 2
tenant = "red"
{extra}"#
        )
    }

    #[test]
    fn empty_file_takes_every_default() {
        let d = ok("");
        assert_eq!(
            d.controller,
            ControllerSection {
                listen: vec!["ptcp:6653".into()],
                connect: vec![],
                app: App::VmFlows,
                cookie: 0x7466_0000_0000_0001,
                metrics: None,
                l2_idle_timeout: 60,
            }
        );
        assert_eq!(
            d.bridges,
            [BridgeDesc {
                name: "br0".into(),
                datapath_id: None
            }]
        );
        assert!(d.tenants.is_empty() && d.vms.is_empty() && d.trunks.is_empty());
        assert!(d.policy.allow.is_empty());
        assert!(d.is_flat());
    }

    #[test]
    fn controller_keys_parse() {
        let d = ok(r#"
[controller]
connect = ["tcp:127.0.0.1:6634", "unix:/run/tapflow/br0.mgmt"]
app = "l2-learning"
cookie = 0x42
metrics = "127.0.0.1:9121"
l2_idle_timeout = 0
"#);
        // connect alone: no default listener.
        assert!(d.controller.listen.is_empty());
        assert_eq!(d.controller.connect.len(), 2);
        assert_eq!(d.controller.app, App::L2Learning);
        assert_eq!(d.controller.cookie, 0x42);
        assert_eq!(
            d.controller.metrics,
            Some("127.0.0.1:9121".parse().unwrap())
        );
        assert_eq!(d.controller.l2_idle_timeout, 0);
        let d = ok("[controller]\nlisten = [\"ptcp:6653:127.0.0.1\", \"ptcp:6654\"]\ncookie = \"0x7466_0000_0000_0002\"\n");
        assert_eq!(d.controller.listen, ["ptcp:6653:127.0.0.1", "ptcp:6654"]);
        assert_eq!(d.controller.cookie, 0x7466_0000_0000_0002);
    }

    #[test]
    fn bad_controller_keys_are_named() {
        assert_eq!(
            err("[controller]\napp = \"hub\"\n"),
            "[controller] app \"hub\": expected \"vm-flows\" or \"l2-learning\""
        );
        assert!(err("[controller]\ncookie = 0\n")
            .starts_with("[controller] cookie 0x0: must be neither 0"));
        assert_eq!(
            err("[controller]\ncookie = \"0xzz\"\n"),
            "[controller] cookie: \"0xzz\" is not a number (write e.g. \"0x1\" or 1)"
        );
        assert_eq!(
            err("[controller]\nmetrics = \"localhost\"\n"),
            "[controller] metrics \"localhost\": expected IP:PORT, e.g. \"127.0.0.1:9121\""
        );
        assert_eq!(
            err("[controller]\nl2_idle_timeout = 70000\n"),
            "[controller] l2_idle_timeout 70000: out of range (0..=65535 seconds)"
        );
        assert_eq!(
            err("[controller]\nlisten = [\"tcp:6653\"]\n"),
            "[controller] listen \"tcp:6653\": expected ptcp:PORT[:IP] or punix:PATH"
        );
        assert_eq!(
            err("[controller]\nlisten = [\"ptcp:99999\"]\n"),
            "[controller] listen \"ptcp:99999\": bad port \"99999\""
        );
        assert_eq!(
            err("[controller]\nconnect = [\"tcp:127.0.0.1\"]\n"),
            "[controller] connect \"tcp:127.0.0.1\": expected tcp:HOST:PORT"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_key_and_line() {
        let e = err("[controller]\nlisen = [\"ptcp:6653\"]\n");
        assert!(
            e.contains("unknown field `lisen`") && e.contains("line 2"),
            "{e}"
        );
        let e = err(&format!("{VM1}vlan = 10\n"));
        assert!(
            e.contains("unknown field `vlan`") && e.contains("line 6"),
            "{e}"
        );
        let e = err("[[vms]]\nname = \"x\"\n");
        assert!(e.contains("unknown field `vms`"), "{e}");
    }

    #[test]
    fn flat_vm_parses_with_its_defaults() {
        let d = ok(&format!("{VM1}ipv6 = [\"fd00::11\"]\n"));
        assert_eq!(
            d.vms,
            [VmDesc {
                name: "vm1".into(),
                bridge: "br0".into(),
                mac: "52:54:00:00:00:01".parse().unwrap(),
                ipv4: Some("10.0.10.11".parse().unwrap()),
                ipv6: vec!["fd00::11".parse().unwrap()],
                port: PortRef::Number(1),
                tenant: String::new(),
            }]
        );
        let d = ok(&VM1.replace("port = 1", "port = \"vnet0\""));
        assert_eq!(d.vms[0].port, PortRef::Name("vnet0".into()));
        let d = ok(&VM1.replace("port = 1", "port = \"7\""));
        assert_eq!(d.vms[0].port, PortRef::Number(7));
    }

    #[test]
    fn malformed_addresses_name_the_vm() {
        assert_eq!(
            err(&VM1.replace("52:54:00:00:00:01", "52:54:00:00:01")),
            "vm \"vm1\": mac: malformed MAC address \"52:54:00:00:01\" (expected xx:xx:xx:xx:xx:xx)"
        );
        assert_eq!(
            err(&VM1.replace("52:54:00:00:00:01", "01:00:5e:00:00:01")),
            "vm \"vm1\": mac: 01:00:5e:00:00:01 is a multicast/broadcast address, not a host's MAC"
        );
        assert_eq!(
            err(&VM1.replace("10.0.10.11", "10.0.10.256")),
            "vm \"vm1\": ipv4: malformed IPv4 address \"10.0.10.256\""
        );
        assert_eq!(
            err(&format!("{VM1}ipv6 = [\"fd00::zz\"]\n")),
            "vm \"vm1\": ipv6: malformed IPv6 address \"fd00::zz\""
        );
        assert_eq!(
            err(&VM1.replace("10.0.10.11", "224.0.0.1")),
            "vm \"vm1\": ipv4 224.0.0.1 is not a host address"
        );
        assert_eq!(
            err(&VM1.replace("ipv4 = \"10.0.10.11\"\n", "")),
            "vm \"vm1\": has no address (ipv4 and/or ipv6); its flows are made from them"
        );
    }

    #[test]
    fn bad_ports_name_the_vm() {
        assert_eq!(
            err(&VM1.replace("port = 1", "port = 0")),
            "vm \"vm1\": port 0 out of range (1..=4294967040, or an interface name)"
        );
        assert_eq!(
            err(&VM1.replace("port = 1", "port = \"a-very-long-interface\"")),
            "vm \"vm1\": port name \"a-very-long-interface\" is longer than 15 bytes"
        );
        assert_eq!(
            err(&VM1.replace("port = 1", "port = true")),
            "vm \"vm1\": port true is neither a port number nor an interface name"
        );
    }

    #[test]
    fn malformed_cidrs_name_the_tenant() {
        let t = |subnet: &str| {
            format!("[[tenant]]\nname = \"blue\"\nvlan = 10\nsubnet = \"{subnet}\"\n")
        };
        assert_eq!(
            err(&t("10.0.10.0")),
            "tenant \"blue\": subnet: malformed CIDR \"10.0.10.0\" (expected ADDRESS/LENGTH)"
        );
        assert_eq!(
            err(&t("10.0.10.0/33")),
            "tenant \"blue\": subnet: malformed CIDR \"10.0.10.0/33\": prefix length above 32"
        );
        assert_eq!(
            err(&t("10.0.10.0/x")),
            "tenant \"blue\": subnet: malformed CIDR \"10.0.10.0/x\": bad prefix length \"x\""
        );
        assert_eq!(
            err(&t("10.0.10.5/24")),
            "tenant \"blue\": subnet: \"10.0.10.5/24\" has host bits set (the network is 10.0.10.0/24)"
        );
        assert_eq!(
            err(&t("10.0.10.0/24").replace("subnet =", "subnet6 =")),
            "tenant \"blue\": subnet6: malformed CIDR \"10.0.10.0/24\": bad IPv6 address \"10.0.10.0\""
        );
        let d = ok(&t("0.0.0.0/0"));
        assert_eq!(d.tenants[0].subnet4, Some((Ipv4Addr::UNSPECIFIED, 0)));
    }

    #[test]
    fn duplicates_are_refused_naming_both_entries() {
        let vm2 = VM1
            .replace("vm1", "vm2")
            .replace("00:01", "00:02")
            .replace(".11", ".12")
            .replace("= 1", "= 2");
        ok(&format!("{VM1}{vm2}"));
        assert_eq!(err(&format!("{VM1}{VM1}")), "vm \"vm1\": declared twice");
        assert_eq!(
            err(&format!("{VM1}{}", vm2.replace("00:02", "00:01"))),
            "vm \"vm2\": mac 52:54:00:00:00:01 already used by vm \"vm1\""
        );
        assert_eq!(
            err(&format!("{VM1}{}", vm2.replace(".12", ".11"))),
            "vm \"vm2\": address 10.0.10.11 already used by vm \"vm1\""
        );
        assert_eq!(
            err(&format!(
                "{VM1}ipv6 = [\"fd00::1\"]\n{vm2}ipv6 = [\"fd00::1\"]\n"
            )),
            "vm \"vm2\": address fd00::1 already used by vm \"vm1\""
        );
        assert_eq!(
            err(&format!("{VM1}ipv6 = [\"fd00::1\", \"fd00::1\"]\n")),
            "vm \"vm1\": ipv6 fd00::1 listed twice"
        );
    }

    #[test]
    fn two_users_of_one_port_are_refused() {
        let vm2 = VM1
            .replace("vm1", "vm2")
            .replace("00:01", "00:02")
            .replace(".11", ".12");
        assert_eq!(
            err(&format!("{VM1}{vm2}")),
            "vm \"vm2\": port 1 of bridge \"br0\" is already used by vm \"vm1\""
        );
        let named = |s: &str| s.replace("port = 1", "port = \"vnet0\"");
        assert_eq!(
            err(&format!("{}{}", named(VM1), named(&vm2))),
            "vm \"vm2\": port \"vnet0\" of bridge \"br0\" is already used by vm \"vm1\""
        );
        assert_eq!(
            err(&tenants("[[trunk]]\nport = 2\ntenants = [\"blue\"]\n")),
            "trunk on bridge \"br0\" port 2: port 2 of bridge \"br0\" is already used by vm \"r1\""
        );
        // The same number on two bridges is two ports.
        let two = "[[bridge]]\nname = \"br0\"\ndatapath_id = 1\n[[bridge]]\nname = \"br1\"\ndatapath_id = 2\n";
        ok(&format!(
            "{two}{}bridge = \"br0\"\n{}bridge = \"br1\"\n",
            VM1, vm2
        ));
    }

    #[test]
    fn tenant_vlans_are_required_in_range_and_unique() {
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\n"),
            "tenant \"blue\": vlan is required (tenants are told apart by their VLAN; leave out all tenants for a flat network)"
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 0\n"),
            "tenant \"blue\": vlan 0 out of range (1..=4094)"
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 4095\n"),
            "tenant \"blue\": vlan 4095 out of range (1..=4094)"
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 10\n[[tenant]]\nname = \"red\"\nvlan = 10\n"),
            "tenant \"red\": vlan 10 already used by tenant \"blue\""
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 10\n[[tenant]]\nname = \"blue\"\nvlan = 11\n"),
            "tenant \"blue\": declared twice"
        );
    }

    #[test]
    fn gateways_must_sit_in_their_subnet() {
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 10\ngateway = \"10.0.10.1\"\n"),
            "tenant \"blue\": gateway 10.0.10.1 needs a subnet (subnet = \"A.B.C.D/LEN\")"
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 10\nsubnet = \"10.0.10.0/24\"\ngateway = \"10.0.11.1\"\n"),
            "tenant \"blue\": gateway 10.0.11.1 is outside its subnet 10.0.10.0/24"
        );
        assert_eq!(
            err("[[tenant]]\nname = \"blue\"\nvlan = 10\nsubnet6 = \"fd00:10::/64\"\ngateway6 = \"fd00:11::1\"\n"),
            "tenant \"blue\": gateway6 fd00:11::1 is outside its subnet6 fd00:10::/64"
        );
        assert_eq!(
            err(&tenants("").replace("10.0.20.", "10.0.10.")),
            "tenant \"red\": gateway 10.0.10.1 already used by tenant \"blue\""
        );
        assert_eq!(
            err(&tenants("").replace("ipv4 = \"10.0.20.11\"", "ipv4 = \"10.0.20.1\"")),
            "vm \"r1\": address 10.0.20.1 already used by tenant \"red\" (its gateway)"
        );
    }

    #[test]
    fn vm_addresses_must_sit_in_their_tenants_subnet() {
        assert_eq!(
            err(&tenants("").replace("10.0.20.11", "10.0.21.11")),
            "vm \"r1\": ipv4 10.0.21.11 is outside the subnet 10.0.20.0/24 of tenant \"red\""
        );
        assert_eq!(
            err(&tenants("").replace("fd00:10::11", "fd00:11::11")),
            "vm \"b1\": ipv6 fd00:11::11 is outside the subnet6 fd00:10::/64 of tenant \"blue\""
        );
        // Link-local addresses are on every link.
        ok(&tenants("").replace("[\"fd00:10::11\"]", "[\"fd00:10::11\", \"fe80::11\"]"));
    }

    #[test]
    fn references_to_unknown_entries_are_refused() {
        assert_eq!(
            err(&tenants("").replace("tenant = \"red\"", "tenant = \"pink\"")),
            "vm \"r1\": unknown tenant \"pink\""
        );
        assert_eq!(
            err(&format!("{VM1}tenant = \"blue\"\n")),
            "vm \"vm1\": unknown tenant \"blue\""
        );
        assert_eq!(
            err(&format!("{VM1}bridge = \"br9\"\n")),
            "vm \"vm1\": unknown bridge \"br9\""
        );
        let two = "[[bridge]]\nname = \"br0\"\ndatapath_id = 1\n[[bridge]]\nname = \"br1\"\ndatapath_id = 2\n";
        assert_eq!(
            err(&format!("{two}{VM1}")),
            "vm \"vm1\": bridge is required when there are several bridges"
        );
        assert_eq!(
            err(&tenants(
                "[[trunk]]\nport = 5\ntenants = [\"blue\", \"pink\"]\n"
            )),
            "trunk on bridge \"br0\" port 5: unknown tenant \"pink\""
        );
        assert_eq!(
            err(&tenants("[[trunk]]\nport = 5\ntenants = []\n")),
            "trunk on bridge \"br0\" port 5: carries no tenants (tenants = [\"...\"])"
        );
        assert_eq!(
            err(&tenants(
                "[[trunk]]\nport = \"up0\"\ntenants = [\"red\", \"red\"]\n"
            )),
            "trunk on bridge \"br0\" port \"up0\": tenant \"red\" listed twice"
        );
        assert_eq!(
            err(&tenants(
                "[[trunk]]\nbridge = \"br9\"\nport = 5\ntenants = [\"red\"]\n"
            )),
            "trunk #1 (port 5): unknown bridge \"br9\""
        );
    }

    #[test]
    fn flat_and_tenant_vms_cannot_mix() {
        let e = err(&tenants(
            &VM1.replace("10.0.10.11", "10.0.10.99")
                .replace("port = 1", "port = 9"),
        ));
        assert_eq!(
            e,
            "vm \"vm1\": no tenant, but tenants are declared (flat VMs and tenant VMs cannot be mixed; name its tenant)"
        );
    }

    #[test]
    fn policy_pairs_need_known_tenants_with_gateways() {
        let d = ok(&tenants(
            "[policy]\nallow = [[\"blue\", \"red\"], [\"red\", \"blue\"]]\n",
        ));
        assert_eq!(d.policy.allow, [("blue".to_string(), "red".to_string())]);
        assert!(d.policy.allows("red", "blue") && d.policy.allows("blue", "red"));
        assert!(!d.policy.allows("blue", "blue"));
        assert_eq!(
            err(&tenants("[policy]\nallow = [[\"blue\", \"pink\"]]\n")),
            "[policy] allow [\"blue\", \"pink\"]: unknown tenant \"pink\""
        );
        assert_eq!(
            err(&tenants("[policy]\nallow = [[\"blue\"]]\n")),
            "[policy] allow [\"blue\"]: expected a pair of tenant names, e.g. [\"blue\", \"red\"]"
        );
        assert_eq!(
            err(&tenants("[policy]\nallow = [[\"blue\", \"blue\"]]\n")),
            "[policy] allow [\"blue\", \"blue\"]: a tenant always reaches itself; name two different tenants"
        );
        let no_gw = tenants("[policy]\nallow = [[\"blue\", \"red\"]]\n")
            .replace("gateway = \"10.0.20.1\"\n", "");
        assert_eq!(
            err(&no_gw),
            "[policy] allow [\"blue\", \"red\"]: tenant \"red\" has no gateway (routing needs gateway and/or gateway6)"
        );
    }

    #[test]
    fn bridges_need_distinct_datapath_ids_when_several() {
        assert_eq!(
            err("[[bridge]]\nname = \"br0\"\n[[bridge]]\nname = \"br1\"\ndatapath_id = 2\n"),
            "bridge \"br0\": datapath_id is required when there are several bridges (it tells them apart)"
        );
        assert_eq!(
            err("[[bridge]]\nname = \"br0\"\ndatapath_id = 2\n[[bridge]]\nname = \"br1\"\ndatapath_id = \"0x2\"\n"),
            "bridge \"br1\": datapath_id 0x0000000000000002 already used by bridge \"br0\""
        );
        assert_eq!(
            err("[[bridge]]\nname = \"br0\"\ndatapath_id = 1\n[[bridge]]\nname = \"br0\"\ndatapath_id = 2\n"),
            "bridge \"br0\": declared twice"
        );
        assert_eq!(
            err("[[bridge]]\nname = \"br0\"\ndatapath_id = \"nope\"\n"),
            "bridge \"br0\": datapath_id: \"nope\" is not a number (write e.g. \"0x1\" or 1)"
        );
        assert_eq!(err("[[bridge]]\nname = \"\"\n"), "bridge: name is empty");
        let d = ok("[[bridge]]\nname = \"br0\"\ndatapath_id = \"0x00000000000000ff\"\n");
        assert_eq!(d.bridges[0].datapath_id, Some(0xff));
        // One bridge with an id: only that switch.
        assert_eq!(d.bridge_for_dpid(0xff).unwrap().name, "br0");
        assert!(d.bridge_for_dpid(1).is_none());
        // One bridge without: any switch.
        assert_eq!(ok("").bridge_for_dpid(1234).unwrap().name, "br0");
    }

    #[test]
    fn gateway_macs_default_per_vlan_and_answer_for_gateway_addresses() {
        let d = ok(&tenants(""));
        assert_eq!(d.tenants[0].gateway_mac.to_string(), "02:74:66:00:00:0a");
        assert_eq!(d.tenants[1].gateway_mac.to_string(), "02:74:66:00:00:14");
        assert_eq!(
            d.gateway_mac("10.0.10.1".parse().unwrap()),
            Some(d.tenants[0].gateway_mac)
        );
        assert_eq!(
            d.gateway_mac("fd00:10::1".parse().unwrap()),
            Some(d.tenants[0].gateway_mac)
        );
        assert_eq!(
            d.gateway_mac("10.0.20.1".parse().unwrap()),
            Some(d.tenants[1].gateway_mac)
        );
        assert_eq!(d.gateway_mac("10.0.10.11".parse().unwrap()), None);
        let d = ok(&tenants("").replace(
            "vlan = 20\n",
            "vlan = 20\ngateway_mac = \"0a:00:00:00:00:01\"\n",
        ));
        assert_eq!(d.tenants[1].gateway_mac.to_string(), "0a:00:00:00:00:01");
        assert_eq!(
            err(&tenants("").replace("52:54:00:00:20:01", "02:74:66:00:00:0a")),
            "vm \"r1\": mac 02:74:66:00:00:0a is the gateway MAC of tenant \"blue\""
        );
        // Without a VLAN the name decides, deterministically.
        assert_eq!(
            default_gateway_mac("x", None),
            default_gateway_mac("x", None)
        );
        assert_ne!(
            default_gateway_mac("x", None),
            default_gateway_mac("y", None)
        );
        assert!(!default_gateway_mac("x", None).is_multicast());
    }

    #[test]
    fn tenant_mode_parses_whole() {
        let d = ok(&tenants(
            "[[trunk]]\nport = \"uplink0\"\ntenants = [\"red\", \"blue\"]\n",
        ));
        assert!(!d.is_flat());
        assert_eq!(
            d.tenants[0].subnet6,
            Some(("fd00:10::".parse().unwrap(), 64))
        );
        assert_eq!(d.tenants[1].gateway6, None);
        assert_eq!(d.vms[1].tenant, "red");
        assert_eq!(
            d.trunks,
            [Trunk {
                bridge: "br0".into(),
                port: PortRef::Name("uplink0".into()),
                tenants: vec!["red".into(), "blue".into()],
            }]
        );
    }

    #[test]
    fn load_errors_start_with_the_path() {
        let p = std::env::temp_dir().join(format!("tfc-desc-{}.toml", std::process::id()));
        std::fs::write(&p, "[[vm]]\nname = \"vm1\"\n").unwrap();
        let e = NetDesc::load(&p).unwrap_err().0;
        std::fs::remove_file(&p).unwrap();
        assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
        assert!(e.contains("missing field `mac`"), "{e}");
        let e = NetDesc::load(Path::new("/nonexistent/x.toml"))
            .unwrap_err()
            .0;
        assert!(e.starts_with("/nonexistent/x.toml: "), "{e}");
    }
}
