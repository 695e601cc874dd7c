//! Prometheus metrics: `tapflowd --metrics HOST:PORT` serves the text
//! exposition format at `http://HOST:PORT/metrics`.
//!
//! ## How a scrape works
//! The endpoint ([`http`]) sends each bridge's owner task a
//! `Command::Metrics`; the owner task, which owns the pipeline, the port
//! registry and the connections, answers with one [`BridgeMetrics`] read
//! in a single step: port counters and link state, per-table counters,
//! per-controller counters ([`ControllerStats`]), the data plane's event
//! counters, and the per-flow counters of the flows `--metrics-flows`
//! selects ([`select`]). The endpoint then renders everything ([`expo`])
//! off the runtime's worker threads.
//!
//! ## Cost
//! Without `--metrics-flows` a scrape never walks the flow tables: the
//! owner task reads 255 table counter pairs, one counter block per port
//! and the controller counters, whatever the number of flows; the output
//! has a line per port, per non-idle table and per controller. Per-flow
//! series exist only for flows the operator selects by cookie or table.
//!
//! ## Families (names are public interface)
//! | family | type | labels |
//! | --- | --- | --- |
//! | `tapflow_bridge_up` | gauge | bridge |
//! | `tapflow_port_{rx,tx}_{packets,bytes,dropped,errors}_total` | counter | bridge, port, port_name |
//! | `tapflow_port_up` | gauge | bridge, port, port_name |
//! | `tapflow_table_lookups_total`, `tapflow_table_matches_total` | counter | bridge, table |
//! | `tapflow_table_active_flows` | gauge | bridge, table |
//! | `tapflow_controller_connected` | gauge | bridge, target |
//! | `tapflow_controller_messages_{in,out,dropped}_total` | counter | bridge, target |
//! | `tapflow_packet_in_sent_total` | counter | bridge |
//! | `tapflow_packet_in_dropped_total` | counter | bridge, reason |
//! | `tapflow_flow_cache_{hits,misses}_total` | counter | bridge |
//! | `tapflow_flow_{packets,bytes}_total` | counter | bridge, table, cookie, priority, match |
//!
//! `port` is the OpenFlow port number as ovs-ofctl prints it (`1`,
//! `LOCAL`); `cookie` is hex (`0x10`); `match` is ovs-ofctl syntax without
//! the priority (`arp,arp_tpa=10.10.10.12`), so a Grafana table can show
//! dump-flows' n_packets/n_bytes per flow.

pub mod expo;
pub mod http;
pub mod select;
pub mod snapshot;

#[cfg(test)]
mod tests;

pub use http::{bind, BridgeSource, MetricsServer, Scraper, CONTENT_TYPE};
pub use select::{FlowSample, FlowSelect, FlowSpec};
pub use snapshot::{
    table_samples, BridgeMetrics, ControllerSample, ControllerStats, PortSample, TableSample,
};
