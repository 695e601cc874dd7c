//! `--metrics-flows SPEC`: which flows get per-flow series.
//!
//! A spec is one or more comma-separated conditions that must all hold:
//! `cookie=VALUE[/MASK]` (hex with `0x`, or decimal; no mask = exact) and
//! `table=N` (0-254). The flag is repeatable; a flow is exported when any
//! spec selects it. Without a spec no flow is exported, so 100k installed
//! flows cost nothing per scrape.
//!
//! ```text
//! --metrics-flows cookie=0x10/0xff          # the controller's flows
//! --metrics-flows table=3                   # everything in table 3
//! --metrics-flows table=0,cookie=0x2a       # both must hold
//! ```

use crate::config::ConfigError;
use crate::pipeline::{FlowEntry, Pipeline};
use ofproto::consts::OFPTT_MAX;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One `--metrics-flows` spec: every condition given must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FlowSpec {
    pub table: Option<u8>,
    /// (value, mask); `value` has no bits outside `mask`.
    pub cookie: Option<(u64, u64)>,
}

impl FlowSpec {
    pub fn matches(&self, e: &FlowEntry) -> bool {
        self.table.is_none_or(|t| t == e.table_id)
            && self.cookie.is_none_or(|(v, m)| e.cookie_matches(v, m))
    }
}

impl fmt::Display for FlowSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(t) = self.table {
            write!(f, "table={t}")?;
            sep = ",";
        }
        match self.cookie {
            Some((v, u64::MAX)) => write!(f, "{sep}cookie={v:#x}"),
            Some((v, m)) => write!(f, "{sep}cookie={v:#x}/{m:#x}"),
            None => Ok(()),
        }
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

impl FromStr for FlowSpec {
    type Err = ConfigError;

    /// Errors name the spec: `metrics flows 'table=300': table 300 is not 0-254`.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = |why: String| ConfigError(format!("metrics flows '{s}': {why}"));
        let mut spec = FlowSpec::default();
        if s.trim().is_empty() {
            return Err(bad(
                "empty; expected cookie=VALUE[/MASK] and/or table=N".into()
            ));
        }
        for cond in s.split(',').map(str::trim) {
            let (k, v) = cond
                .split_once('=')
                .ok_or_else(|| bad(format!("'{cond}' is not cookie=VALUE[/MASK] or table=N")))?;
            match k.trim() {
                "table" => {
                    if spec.table.is_some() {
                        return Err(bad("table given twice".into()));
                    }
                    let t = v
                        .trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|t| *t <= OFPTT_MAX)
                        .ok_or_else(|| bad(format!("table '{v}' is not a table number 0-254")))?;
                    spec.table = Some(t);
                }
                "cookie" => {
                    if spec.cookie.is_some() {
                        return Err(bad("cookie given twice".into()));
                    }
                    let (val, mask) = match v.split_once('/') {
                        Some((a, b)) => (a.trim(), Some(b.trim())),
                        None => (v.trim(), None),
                    };
                    let value = parse_u64(val)
                        .ok_or_else(|| bad(format!("cookie '{val}' is not a 64-bit number")))?;
                    let mask = match mask {
                        None => u64::MAX,
                        Some(m) => parse_u64(m).ok_or_else(|| {
                            bad(format!("cookie mask '{m}' is not a 64-bit number"))
                        })?,
                    };
                    if value & !mask != 0 {
                        // Almost certainly a typo (`0x110/0xff`): say so
                        // rather than silently ignore the extra bits.
                        return Err(bad(format!(
                            "cookie {value:#x} has bits outside its mask {mask:#x}"
                        )));
                    }
                    spec.cookie = Some((value, mask));
                }
                other => {
                    return Err(bad(format!(
                        "unknown condition '{other}' (expected cookie= or table=)"
                    )))
                }
            }
        }
        Ok(spec)
    }
}

/// Every spec the operator gave; a flow is exported when any selects it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowSelect {
    specs: Vec<FlowSpec>,
}

/// One exported flow, with its counters read by the owner task.
#[derive(Clone, Debug)]
pub struct FlowSample {
    pub entry: Arc<FlowEntry>,
    pub packets: u64,
    pub bytes: u64,
}

impl FlowSelect {
    pub fn new(specs: Vec<FlowSpec>) -> FlowSelect {
        FlowSelect { specs }
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn specs(&self) -> &[FlowSpec] {
        &self.specs
    }

    pub fn matches(&self, e: &FlowEntry) -> bool {
        self.specs.iter().any(|s| s.matches(e))
    }

    /// The selected flows of `pipeline` (the owner's tables), in no
    /// particular order ([`sort_flows`] orders them).
    ///
    /// Cost: nothing without specs; with specs that all name a table, only
    /// those tables are walked; otherwise every entry is tested (a cookie
    /// compare each), and only the selected ones are copied (an `Arc` and
    /// two counter loads). Formatting happens later, off the owner task.
    pub fn collect(&self, pipeline: &Pipeline) -> Vec<FlowSample> {
        if self.specs.is_empty() {
            return Vec::new();
        }
        let mut tables: Option<Vec<u8>> = Some(Vec::new());
        for s in &self.specs {
            match (s.table, tables.as_mut()) {
                (Some(t), Some(v)) => v.push(t),
                _ => tables = None,
            }
        }
        let mut out = Vec::new();
        let mut take = |e: &Arc<FlowEntry>| {
            if self.matches(e) {
                out.push(FlowSample {
                    entry: Arc::clone(e),
                    packets: e.packet_count(),
                    bytes: e.byte_count(),
                });
            }
        };
        match tables {
            Some(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                for t in ids.into_iter().filter_map(|id| pipeline.table(id)) {
                    t.iter().for_each(&mut take);
                }
            }
            None => {
                for t in pipeline.tables().filter(|t| !t.is_empty()) {
                    t.iter().for_each(&mut take);
                }
            }
        }
        out
    }
}

/// Orders flows by table, then priority (highest first), then entry id
/// (install order) — done by the endpoint, not the owner task.
pub fn sort_flows(flows: &mut [FlowSample]) {
    flows.sort_unstable_by_key(|f| {
        let e = &f.entry;
        (e.table_id, std::cmp::Reverse(e.priority), e.id)
    });
}
