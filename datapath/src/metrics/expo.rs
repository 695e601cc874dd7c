//! The Prometheus text exposition format (version 0.0.4), written by hand.
//!
//! Why not the `prometheus` crate's `TextEncoder`: it encodes a registry's
//! `MetricFamily` protobuf structures, so every scrape would first build
//! one `Metric` with a `Vec<LabelPair>` of owned strings per series (100k
//! of them with per-flow series opted in) only to print them. Our numbers
//! are read fresh from the owner tasks on each scrape, never kept in a
//! registry, and the format needs exactly three rules (below), so a
//! writer that appends straight into one `String` is both smaller and
//! cheaper.
//!
//! The rules: each family is one contiguous group, introduced by `# HELP`
//! (backslash and newline escaped) and `# TYPE`; label values escape
//! backslash, double quote and newline; values are decimal.

use super::select::FlowSample;
use super::snapshot::BridgeMetrics;
use std::fmt::Write;

/// `counter` or `gauge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// Appends exposition text to a `String`.
pub struct Writer {
    out: String,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            out: String::with_capacity(16 * 1024),
        }
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Starts a family: `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_into(&mut self.out, help, false);
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push_str(match kind {
            Kind::Counter => " counter\n",
            Kind::Gauge => " gauge\n",
        });
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_into(&mut self.out, v, true);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// One sample whose label set (`{a="b"}`, escaped) is already rendered.
    pub fn sample_with_labels(&mut self, name: &str, labels: &str, value: u64) {
        self.out.push_str(name);
        self.out.push_str(labels);
        let _ = writeln!(self.out, " {value}");
    }
}

/// Escapes `\` and newline, and in label values also `"`.
pub fn escape_into(out: &mut String, s: &str, label_value: bool) {
    if !s
        .bytes()
        .any(|b| b == b'\\' || b == b'\n' || (label_value && b == b'"'))
    {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label_value => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// A family of the output: its name, type, help, and how to produce its
/// samples from one bridge's snapshot.
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    emit: Emit,
}

enum Emit {
    /// Writes the family's samples of one bridge.
    Bridge(fn(&mut Writer, &'static str, &BridgeMetrics)),
    /// A per-flow family: the value of each selected flow (labels are
    /// rendered once per flow and shared by both per-flow families). Left
    /// out entirely when no flow is selected.
    Flow(fn(&FlowSample) -> u64),
}

macro_rules! port_counter {
    ($name:literal, $field:ident, $help:literal) => {
        Family {
            name: $name,
            kind: Kind::Counter,
            help: $help,
            emit: Emit::Bridge(|w, name, b| {
                for p in &b.ports {
                    let port = ofproto::text::format_port(p.ofport);
                    w.sample(
                        name,
                        &[
                            ("bridge", &b.bridge),
                            ("port", &port),
                            ("port_name", &p.name),
                        ],
                        p.counters.$field,
                    );
                }
            }),
        }
    };
}

macro_rules! table_metric {
    ($name:literal, $kind:expr, $field:ident, $help:literal) => {
        Family {
            name: $name,
            kind: $kind,
            help: $help,
            emit: Emit::Bridge(|w, name, b| {
                for t in &b.tables {
                    let table = t.table_id.to_string();
                    w.sample(name, &[("bridge", &b.bridge), ("table", &table)], t.$field);
                }
            }),
        }
    };
}

macro_rules! controller_metric {
    ($name:literal, $kind:expr, $help:literal, $value:expr) => {
        Family {
            name: $name,
            kind: $kind,
            help: $help,
            emit: Emit::Bridge(|w, name, b| {
                for c in &b.controllers {
                    let v: fn(&super::snapshot::ControllerSample) -> u64 = $value;
                    w.sample(name, &[("bridge", &b.bridge), ("target", &c.target)], v(c));
                }
            }),
        }
    };
}

macro_rules! datapath_counter {
    ($name:literal, $help:literal, $value:expr) => {
        Family {
            name: $name,
            kind: Kind::Counter,
            help: $help,
            emit: Emit::Bridge(|w, name, b| {
                let v: fn(&crate::dataplane::DatapathStats) -> u64 = $value;
                w.sample(name, &[("bridge", &b.bridge)], v(&b.datapath));
            }),
        }
    };
}

/// Every family, in output order. Names are public interface: never rename.
const FAMILIES: &[Family] = &[
    port_counter!(
        "tapflow_port_rx_packets_total",
        rx_packets,
        "Packets received on the port (OpenFlow port stats rx_packets)."
    ),
    port_counter!(
        "tapflow_port_tx_packets_total",
        tx_packets,
        "Packets sent on the port (OpenFlow port stats tx_packets)."
    ),
    port_counter!(
        "tapflow_port_rx_bytes_total",
        rx_bytes,
        "Bytes received on the port (OpenFlow port stats rx_bytes)."
    ),
    port_counter!(
        "tapflow_port_tx_bytes_total",
        tx_bytes,
        "Bytes sent on the port (OpenFlow port stats tx_bytes)."
    ),
    port_counter!(
        "tapflow_port_rx_dropped_total",
        rx_dropped,
        "Received packets dropped by the port (OpenFlow port stats rx_dropped)."
    ),
    port_counter!(
        "tapflow_port_tx_dropped_total",
        tx_dropped,
        "Packets to send dropped by the port (OpenFlow port stats tx_dropped)."
    ),
    port_counter!(
        "tapflow_port_rx_errors_total",
        rx_errors,
        "Receive errors on the port (OpenFlow port stats rx_errors)."
    ),
    port_counter!(
        "tapflow_port_tx_errors_total",
        tx_errors,
        "Send errors on the port (OpenFlow port stats tx_errors)."
    ),
    Family {
        name: "tapflow_port_up",
        kind: Kind::Gauge,
        help: "1 when the port's link is up, 0 when it is down (OFPPS_LINK_DOWN).",
        emit: Emit::Bridge(|w, name, b| {
            for p in &b.ports {
                let port = ofproto::text::format_port(p.ofport);
                w.sample(
                    name,
                    &[("bridge", &b.bridge), ("port", &port), ("port_name", &p.name)],
                    u64::from(p.up),
                );
            }
        }),
    },
    table_metric!(
        "tapflow_table_lookups_total",
        Kind::Counter,
        lookups,
        "Packets looked up in the table (OpenFlow table stats lookup_count); only tables with flows or lookups."
    ),
    table_metric!(
        "tapflow_table_matches_total",
        Kind::Counter,
        matches,
        "Packets that matched a flow in the table (OpenFlow table stats matched_count); only tables with flows or lookups."
    ),
    table_metric!(
        "tapflow_table_active_flows",
        Kind::Gauge,
        active,
        "Flows installed in the table (OpenFlow table stats active_count); only tables with flows or lookups."
    ),
    controller_metric!(
        "tapflow_controller_connected",
        Kind::Gauge,
        "1 while a connection to the controller target is up (for a --listen target: any accepted connection), else 0.",
        |c| u64::from(c.connections > 0)
    ),
    controller_metric!(
        "tapflow_controller_messages_in_total",
        Kind::Counter,
        "OpenFlow messages from the controller target handled by the bridge (HELLO and ECHO excluded).",
        |c| c.messages_in
    ),
    controller_metric!(
        "tapflow_controller_messages_out_total",
        Kind::Counter,
        "OpenFlow messages the bridge queued to the controller target: replies and asynchronous messages (HELLO and ECHO excluded).",
        |c| c.messages_out
    ),
    controller_metric!(
        "tapflow_controller_messages_dropped_total",
        Kind::Counter,
        "Asynchronous messages (PACKET_IN, PORT_STATUS, FLOW_REMOVED) to the controller target dropped because its queue was full.",
        |c| c.messages_dropped
    ),
    datapath_counter!(
        "tapflow_packet_in_sent_total",
        "PACKET_INs the data plane passed to the bridge for the controllers.",
        |d| d.packet_in_sent
    ),
    Family {
        name: "tapflow_packet_in_dropped_total",
        kind: Kind::Counter,
        help: "PACKET_INs the data plane dropped: reason=rate_limit (over the per-bridge rate), reason=queue_full (the bridge's queue was full).",
        emit: Emit::Bridge(|w, name, b| {
            let d = &b.datapath;
            for (reason, v) in [
                ("rate_limit", d.packet_in_rate_dropped),
                ("queue_full", d.packet_in_queue_dropped),
            ] {
                w.sample(name, &[("bridge", &b.bridge), ("reason", reason)], v);
            }
        }),
    },
    datapath_counter!(
        "tapflow_flow_cache_hits_total",
        "Packets whose verdict came from a data-plane worker's flow cache.",
        |d| d.cache_hits
    ),
    datapath_counter!(
        "tapflow_flow_cache_misses_total",
        "Packets that missed the flow cache and ran the pipeline (slow path).",
        |d| d.cache_misses
    ),
    Family {
        name: "tapflow_flow_packets_total",
        kind: Kind::Counter,
        help: "Packets that hit the flow (dump-flows n_packets); only flows selected by --metrics-flows.",
        emit: Emit::Flow(|f| f.packets),
    },
    Family {
        name: "tapflow_flow_bytes_total",
        kind: Kind::Counter,
        help: "Bytes of packets that hit the flow (dump-flows n_bytes); only flows selected by --metrics-flows.",
        emit: Emit::Flow(|f| f.bytes),
    },
];

/// The label set of each selected flow: `table`, `cookie` (hex as
/// dump-flows shows it), `priority` and `match` (ovs-ofctl syntax, without
/// priority) — together they identify the flow, so a Grafana table can
/// show dump-flows' n_packets/n_bytes per flow.
fn flow_labels(b: &BridgeMetrics) -> Vec<String> {
    b.flows
        .iter()
        .map(|f| {
            let e = &f.entry;
            let mut l = String::with_capacity(96);
            let _ = write!(
                l,
                "{{bridge=\"{}\",table=\"{}\",cookie=\"{:#x}\",priority=\"{}\",match=\"",
                Escaped(&b.bridge),
                e.table_id,
                e.cookie,
                e.priority
            );
            escape_into(&mut l, &ofproto::text::format_match(&e.match_), true);
            l.push_str("\"}");
            l
        })
        .collect()
}

/// A label value, escaped, for `write!`.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        escape_into(&mut s, self.0, true);
        f.write_str(&s)
    }
}

/// `tapflow_bridge_up`: 1 for a bridge whose owner task answered, 0 for
/// one that did not (its other series are missing from that scrape).
const BRIDGE_UP: (&str, &str) = (
    "tapflow_bridge_up",
    "1 when the bridge's owner task answered this scrape; 0 when it did not (its other series are then missing).",
);

/// The whole `/metrics` body. `silent` names bridges that did not answer.
pub fn render(bridges: &[BridgeMetrics], silent: &[String]) -> String {
    let mut w = Writer::new();
    w.family(BRIDGE_UP.0, Kind::Gauge, BRIDGE_UP.1);
    for b in bridges {
        w.sample(BRIDGE_UP.0, &[("bridge", &b.bridge)], 1);
    }
    for name in silent {
        w.sample(BRIDGE_UP.0, &[("bridge", name)], 0);
    }
    let any_flows = bridges.iter().any(|b| !b.flows.is_empty());
    let flow_labels: Vec<Vec<String>> = if any_flows {
        bridges.iter().map(flow_labels).collect()
    } else {
        Vec::new()
    };
    for f in FAMILIES {
        match f.emit {
            Emit::Bridge(emit) => {
                w.family(f.name, f.kind, f.help);
                for b in bridges {
                    emit(&mut w, f.name, b);
                }
            }
            Emit::Flow(_) if !any_flows => {}
            Emit::Flow(value) => {
                w.family(f.name, f.kind, f.help);
                for (b, labels) in bridges.iter().zip(&flow_labels) {
                    for (flow, l) in b.flows.iter().zip(labels) {
                        w.sample_with_labels(f.name, l, value(flow));
                    }
                }
            }
        }
    }
    w.finish()
}

/// Every family name and type this module can emit (for docs and tests).
pub fn family_names() -> Vec<(&'static str, Kind)> {
    std::iter::once((BRIDGE_UP.0, Kind::Gauge))
        .chain(FAMILIES.iter().map(|f| (f.name, f.kind)))
        .collect()
}
