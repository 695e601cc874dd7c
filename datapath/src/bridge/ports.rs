//! A bridge's ports: opening them (TAP we create, or an existing interface
//! attached through AF_PACKET), their OpenFlow numbers, the state file that
//! keeps those numbers across restarts, and their `ofp_port` descriptions.
//!
//! ## Port numbers
//! A number given in the configuration (`--port tap1:7`) or with
//! `add-port ... ofport=N` is honored (a number already in use is refused).
//! Others are remembered from the state file when the port was on the bridge
//! before, else allocated lowest-free from 1. `LOCAL` (`OFPP_LOCAL`) is the
//! bridge's own TAP, named after the bridge as in OVS.
//!
//! ## The state file `STATEDIR/BRIDGE.ports`
//! ```json
//! {"version":1,"ports":[{"name":"tap1","ofport":1,"kind":"tap"},
//!                       {"name":"vnet0","ofport":2,"kind":"system"}]}
//! ```
//! Every port on the bridge but LOCAL, rewritten atomically (temporary file,
//! fsync, rename) whenever the set changes. On startup the configured ports
//! come up with their remembered numbers, and ports added at run time come
//! back too: a remembered `tap` port is created again, a remembered `system`
//! port is attached if its interface exists — if not, it is skipped with a
//! warning (never replaced by a TAP of that name) and stays remembered, so a
//! later restart with the interface present brings it back with its number.
//! An unreadable state file is reported and ignored (the switch comes up).

use crate::config::PortSpec;
use crate::port::{LinkEvent, LinkMonitor, Port, SystemPort, TapOpts, TapPort};
use ofproto::consts::*;
use ofproto::port::PortDesc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Speed we report for every port (kbps): what OVS says of a TAP.
pub const PORT_SPEED_KBPS: u32 = 10_000_000;
/// `curr`/`advertised` features we report.
pub const PORT_FEATURES: u32 = OFPPF_10GB_FD | OFPPF_COPPER;
/// The `OFPPC_*` bits PORT_MOD may change.
pub const SUPPORTED_CONFIG: u32 =
    OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD | OFPPC_NO_PACKET_IN;

/// How a port's interface came to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortKind {
    /// A TAP we created and hold; removed when the port goes.
    Tap,
    /// An existing interface attached through AF_PACKET.
    System,
    /// The bridge's own TAP (`OFPP_LOCAL`).
    Local,
}

impl PortKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PortKind::Tap => "tap",
            PortKind::System => "system",
            PortKind::Local => "internal",
        }
    }
}

/// What to do when opening an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenHow {
    /// A missing interface becomes a TAP we create; an existing one is
    /// attached (never opened through /dev/net/tun).
    Auto,
    /// Attach an existing interface; fail if it is missing.
    AttachOnly,
    /// The bridge's LOCAL port: a TAP named after the bridge, created up.
    Local,
}

/// An opened port.
pub struct OpenedPort {
    pub port: Arc<dyn Port>,
    pub kind: PortKind,
}

/// Creates and attaches interfaces and watches their link state. The real
/// one is [`SystemBackend`]; tests use a fake.
pub trait PortBackend: Send + Sync {
    /// Opens `ifname` to be OpenFlow port `ofport` and starts watching its
    /// link state (events carry `ofport` as their key). Errors say what
    /// failed without naming the port (the caller does): `cannot create TAP:
    /// Operation not permitted`.
    fn open(&self, ifname: &str, ofport: u32, how: OpenHow) -> Result<OpenedPort, String>;
    /// Stops watching `ofport`.
    fn forget(&self, ofport: u32);
    /// Whether link events arrive by themselves; if not, the bridge polls
    /// [`Port::link_state`] every second.
    fn pushes_link_events(&self) -> bool;
}

/// TAPs through /dev/net/tun, system ports through AF_PACKET, link state
/// from the netlink [`LinkMonitor`] (when it cannot start, e.g. without
/// CAP_NET_ADMIN for other namespaces, the bridge polls instead).
pub struct SystemBackend {
    monitor: Option<LinkMonitor>,
}

impl SystemBackend {
    /// Link events go to `links`.
    pub fn new(links: mpsc::UnboundedSender<LinkEvent>) -> SystemBackend {
        let monitor = match LinkMonitor::spawn(move |e| {
            let _ = links.send(e);
        }) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!("link monitor unavailable ({e}); polling port state every second");
                None
            }
        };
        SystemBackend { monitor }
    }
}

/// Whether an interface of that name exists in our namespace.
pub fn interface_exists(ifname: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(ifname) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated string.
    unsafe { libc::if_nametoindex(c.as_ptr()) != 0 }
}

/// An io::Error as a short phrase: without Rust's ` (os error N)` suffix.
pub fn io_phrase(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

impl PortBackend for SystemBackend {
    fn open(&self, ifname: &str, ofport: u32, how: OpenHow) -> Result<OpenedPort, String> {
        let exists = interface_exists(ifname);
        match how {
            OpenHow::Local | OpenHow::Auto if !exists || how == OpenHow::Local => {
                // With a virtio-net header and checksum/TSO offloads, frames
                // keep their offload metadata: 64 KB GSO segments from a
                // system port (a QEMU guest, a veth) cross whole instead of
                // being dropped at a TAP that cannot take them.
                let opts = TapOpts {
                    vnet_hdr: true,
                    ..TapOpts::default()
                };
                let tap = TapPort::create(ifname, &opts)
                    .map_err(|e| format!("cannot create TAP: {}", io_phrase(&e)))?;
                if let Some(m) = &self.monitor {
                    m.watch_tap(ofport, &tap);
                }
                let kind = if how == OpenHow::Local {
                    PortKind::Local
                } else {
                    PortKind::Tap
                };
                Ok(OpenedPort {
                    port: Arc::new(tap),
                    kind,
                })
            }
            _ => {
                if !exists {
                    return Err("no such interface".into());
                }
                let sp = SystemPort::attach(ifname)
                    .map_err(|e| format!("cannot attach: {}", io_phrase(&e)))?;
                if let Some(m) = &self.monitor {
                    m.watch_name(ofport, ifname);
                }
                Ok(OpenedPort {
                    port: Arc::new(sp),
                    kind: PortKind::System,
                })
            }
        }
    }

    fn forget(&self, ofport: u32) {
        if let Some(m) = &self.monitor {
            m.unwatch(ofport);
        }
    }

    fn pushes_link_events(&self) -> bool {
        self.monitor.is_some()
    }
}

// --- numbering ------------------------------------------------------------------

/// One remembered port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntry {
    pub name: String,
    pub ofport: u32,
    pub kind: PortKind,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    ports: Vec<StateEntry>,
}

/// A port to bring up at startup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPort {
    pub name: String,
    pub ofport: u32,
    /// From the configuration: must come up, or startup fails.
    pub configured: bool,
    /// How to open it: configured and remembered `tap` ports `Auto`,
    /// remembered `system` ports `AttachOnly`.
    pub how: OpenHow,
}

/// Lowest free number in 1..=OFPP_MAX.
pub fn lowest_free(used: &BTreeSet<u32>) -> Option<u32> {
    let mut want = 1u32;
    for &n in used.range(1..=OFPP_MAX) {
        if n > want {
            break;
        }
        if n == want {
            want += 1;
        }
    }
    (want <= OFPP_MAX).then_some(want)
}

/// Numbers for the configured ports and the remembered ones (see the module
/// docs): explicit numbers first, then remembered numbers that are still
/// free, then lowest-free. Configured ports come first in the result, in
/// configuration order, then remembered-only ports in file order.
pub fn plan_ports(
    config: &[PortSpec],
    remembered: &[StateEntry],
) -> Result<Vec<PlannedPort>, String> {
    let mut used = BTreeSet::new();
    for p in config {
        if let Some(n) = p.ofport {
            if !used.insert(n) {
                return Err(format!("OpenFlow port {n} is given to two ports"));
            }
        }
    }
    let configured: HashSet<&str> = config.iter().map(|p| p.ifname.as_str()).collect();
    let by_name: BTreeMap<&str, &StateEntry> =
        remembered.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut numbers: Vec<Option<u32>> = config.iter().map(|p| p.ofport).collect();
    for (i, p) in config.iter().enumerate() {
        if numbers[i].is_none() {
            if let Some(e) = by_name.get(p.ifname.as_str()) {
                if valid_ofport(e.ofport) && used.insert(e.ofport) {
                    numbers[i] = Some(e.ofport);
                }
            }
        }
    }
    let extra: Vec<&StateEntry> = remembered
        .iter()
        .filter(|e| !configured.contains(e.name.as_str()) && e.kind != PortKind::Local)
        .collect();
    let mut extra_numbers: Vec<Option<u32>> = Vec::with_capacity(extra.len());
    let mut seen = HashSet::new();
    for e in &extra {
        if !seen.insert(e.name.as_str()) {
            extra_numbers.push(None);
            continue;
        }
        extra_numbers.push((valid_ofport(e.ofport) && used.insert(e.ofport)).then_some(e.ofport));
    }
    let mut out = Vec::new();
    for (p, n) in config.iter().zip(numbers) {
        let n = match n {
            Some(n) => n,
            None => {
                let n = lowest_free(&used).ok_or("no free OpenFlow port number")?;
                used.insert(n);
                n
            }
        };
        out.push(PlannedPort {
            name: p.ifname.clone(),
            ofport: n,
            configured: true,
            how: OpenHow::Auto,
        });
    }
    let mut seen = HashSet::new();
    for (e, n) in extra.iter().zip(extra_numbers) {
        if !seen.insert(e.name.as_str()) {
            continue;
        }
        let n = match n {
            Some(n) => n,
            None => {
                let n = lowest_free(&used).ok_or("no free OpenFlow port number")?;
                used.insert(n);
                n
            }
        };
        out.push(PlannedPort {
            name: e.name.clone(),
            ofport: n,
            configured: false,
            how: if e.kind == PortKind::System {
                OpenHow::AttachOnly
            } else {
                OpenHow::Auto
            },
        });
    }
    Ok(out)
}

/// 1..=OFPP_MAX.
pub fn valid_ofport(n: u32) -> bool {
    (1..=OFPP_MAX).contains(&n)
}

/// `STATEDIR/BRIDGE.ports`.
pub fn state_path(statedir: &Path, bridge: &str) -> PathBuf {
    statedir.join(format!("{bridge}.ports"))
}

/// Reads the remembered ports; a missing file is none, an unreadable one is
/// reported and treated as none.
pub fn load_state(path: &Path) -> Vec<StateEntry> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(
                "cannot read port state {}: {e}; starting without it",
                path.display()
            );
            return Vec::new();
        }
    };
    match serde_json::from_str::<StateFile>(&text) {
        Ok(f) => f.ports,
        Err(e) => {
            tracing::warn!(
                "port state {} is not valid ({e}); starting without it",
                path.display()
            );
            Vec::new()
        }
    }
}

/// Writes the remembered ports atomically (temporary file, fsync, rename),
/// creating the state directory if needed.
pub fn save_state(path: &Path, ports: &[StateEntry]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string(&StateFile {
        version: 1,
        ports: ports.to_vec(),
    })
    .map_err(io::Error::other)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

// --- the registry -----------------------------------------------------------------

/// One port on the bridge.
pub struct PortEntry {
    pub ofport: u32,
    pub name: String,
    pub kind: PortKind,
    pub port: Arc<dyn Port>,
    /// `OFPPC_*` bits set by PORT_MOD.
    pub config: u32,
    /// From the link monitor (or polling): LINK_DOWN in `ofp_port.state`.
    pub link_down: bool,
    pub added: Instant,
}

impl PortEntry {
    pub fn new(ofport: u32, name: &str, opened: OpenedPort) -> PortEntry {
        let link_down = opened.port.link_state().is_link_down();
        PortEntry {
            ofport,
            name: name.to_string(),
            kind: opened.kind,
            port: opened.port,
            config: 0,
            link_down,
            added: Instant::now(),
        }
    }

    pub fn hw_addr(&self) -> ofproto::MacAddr {
        ofproto::MacAddr(self.port.hw_addr().0)
    }

    pub fn state(&self) -> u32 {
        if self.link_down {
            OFPPS_LINK_DOWN
        } else {
            OFPPS_LIVE
        }
    }

    /// `ofp_port`.
    pub fn desc(&self) -> PortDesc {
        PortDesc {
            port_no: self.ofport,
            hw_addr: self.hw_addr(),
            name: self.name.clone(),
            config: self.config,
            state: self.state(),
            curr: PORT_FEATURES,
            advertised: PORT_FEATURES,
            supported: 0,
            peer: 0,
            curr_speed: PORT_SPEED_KBPS,
            max_speed: PORT_SPEED_KBPS,
        }
    }
}

/// The ports of one bridge, by OpenFlow number (LOCAL sorts last).
pub struct Ports {
    pub entries: BTreeMap<u32, PortEntry>,
    /// Remembered ports that could not come up (see the module docs); kept
    /// in the state file.
    pub parked: Vec<StateEntry>,
    pub state_file: Option<PathBuf>,
}

impl Ports {
    pub fn new(state_file: Option<PathBuf>) -> Ports {
        Ports {
            entries: BTreeMap::new(),
            parked: Vec::new(),
            state_file,
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&PortEntry> {
        self.entries.values().find(|e| e.name == name)
    }

    /// Numbers in use, including parked ones.
    pub fn used(&self) -> BTreeSet<u32> {
        self.entries
            .keys()
            .copied()
            .chain(self.parked.iter().map(|e| e.ofport))
            .collect()
    }

    /// What the state file holds.
    pub fn state_entries(&self) -> Vec<StateEntry> {
        let mut v: Vec<StateEntry> = self
            .entries
            .values()
            .filter(|e| e.kind != PortKind::Local)
            .map(|e| StateEntry {
                name: e.name.clone(),
                ofport: e.ofport,
                kind: e.kind,
            })
            .collect();
        v.extend(self.parked.iter().cloned());
        v.sort_by_key(|e| e.ofport);
        v
    }

    /// Rewrites the state file (no-op without one).
    pub fn save(&self) -> io::Result<()> {
        match &self.state_file {
            Some(p) => save_state(p, &self.state_entries()),
            None => Ok(()),
        }
    }

    /// The number for a port added at run time: `requested` if valid and
    /// free, else the lowest free one.
    pub fn number_for(&self, name: &str, requested: Option<u32>) -> Result<u32, String> {
        let used = self.used();
        match requested {
            Some(n) if !valid_ofport(n) => {
                Err(format!("OpenFlow port {n} out of range 1..{OFPP_MAX:#x}"))
            }
            Some(n) => {
                if let Some(e) = self.entries.get(&n) {
                    Err(format!("OpenFlow port {n} is in use by {}", e.name))
                } else if let Some(e) = self.parked.iter().find(|e| e.ofport == n && e.name != name)
                {
                    Err(format!("OpenFlow port {n} is remembered for {}", e.name))
                } else {
                    Ok(n)
                }
            }
            None => {
                if let Some(e) = self.parked.iter().find(|e| e.name == name) {
                    return Ok(e.ofport);
                }
                lowest_free(&used).ok_or_else(|| "no free OpenFlow port number".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, n: Option<u32>) -> PortSpec {
        PortSpec {
            ifname: name.into(),
            ofport: n,
        }
    }

    fn st(name: &str, n: u32, kind: PortKind) -> StateEntry {
        StateEntry {
            name: name.into(),
            ofport: n,
            kind,
        }
    }

    fn numbers(p: &[PlannedPort]) -> Vec<(&str, u32)> {
        p.iter().map(|p| (p.name.as_str(), p.ofport)).collect()
    }

    #[test]
    fn lowest_free_skips_used_numbers() {
        assert_eq!(lowest_free(&BTreeSet::new()), Some(1));
        assert_eq!(lowest_free(&[1, 2, 4].into_iter().collect()), Some(3));
        assert_eq!(lowest_free(&[2, 3].into_iter().collect()), Some(1));
        assert_eq!(lowest_free(&[1, OFPP_LOCAL].into_iter().collect()), Some(2));
    }

    #[test]
    fn explicit_numbers_are_honored_and_others_fill_from_one() {
        let p = plan_ports(&[spec("a", None), spec("b", Some(1)), spec("c", None)], &[]).unwrap();
        assert_eq!(numbers(&p), vec![("a", 2), ("b", 1), ("c", 3)]);
        assert!(p.iter().all(|p| p.configured && p.how == OpenHow::Auto));
    }

    #[test]
    fn duplicate_explicit_numbers_are_refused() {
        let e = plan_ports(&[spec("a", Some(3)), spec("b", Some(3))], &[]).unwrap_err();
        assert!(e.contains("OpenFlow port 3"), "{e}");
    }

    #[test]
    fn remembered_numbers_survive_a_restart() {
        let state = [st("b", 5, PortKind::Tap), st("a", 7, PortKind::Tap)];
        let p = plan_ports(&[spec("a", None), spec("b", None), spec("c", None)], &state).unwrap();
        assert_eq!(numbers(&p), vec![("a", 7), ("b", 5), ("c", 1)]);
    }

    #[test]
    fn explicit_number_wins_over_another_ports_remembered_one() {
        let state = [st("a", 1, PortKind::Tap)];
        let p = plan_ports(&[spec("a", None), spec("b", Some(1))], &state).unwrap();
        assert_eq!(numbers(&p), vec![("a", 2), ("b", 1)]);
    }

    #[test]
    fn ports_added_at_run_time_come_back_after_restart() {
        let state = [
            st("tap1", 1, PortKind::Tap),
            st("tap9", 9, PortKind::Tap),
            st("vnet0", 3, PortKind::System),
        ];
        let p = plan_ports(&[spec("tap1", None)], &state).unwrap();
        assert_eq!(numbers(&p), vec![("tap1", 1), ("tap9", 9), ("vnet0", 3)]);
        assert!(!p[1].configured && p[1].how == OpenHow::Auto);
        assert!(!p[2].configured && p[2].how == OpenHow::AttachOnly);
    }

    #[test]
    fn remembered_number_taken_by_config_is_reallocated() {
        let state = [st("old", 2, PortKind::Tap)];
        let p = plan_ports(&[spec("new", Some(2))], &state).unwrap();
        assert_eq!(numbers(&p), vec![("new", 2), ("old", 1)]);
    }

    #[test]
    fn state_file_round_trips_and_is_replaced_atomically() {
        let dir = std::env::temp_dir().join(format!("tapflow-ports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = state_path(&dir.join("sub"), "br0");
        assert_eq!(load_state(&path), vec![]);
        let v = vec![
            st("tap1", 1, PortKind::Tap),
            st("vnet0", 4, PortKind::System),
        ];
        save_state(&path, &v).unwrap();
        assert_eq!(load_state(&path), v);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#""name":"vnet0","ofport":4,"kind":"system""#),
            "{text}"
        );
        save_state(&path, &v[..1]).unwrap();
        assert_eq!(load_state(&path), v[..1].to_vec());
        // Only the state file is left (no temporaries).
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["br0.ports".to_string()]);
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(load_state(&path), vec![]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn io_phrase_drops_the_os_error_suffix() {
        let e = io::Error::from_raw_os_error(libc::EPERM);
        assert_eq!(io_phrase(&e), "Operation not permitted");
        let e = io::Error::other("plain");
        assert_eq!(io_phrase(&e), "plain");
    }
}
