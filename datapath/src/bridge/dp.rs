//! The bridge's view of its data plane: the calls the owner task makes, as
//! a trait so the owner task can be tested with an in-memory fake (no
//! threads, no devices) and the daemon's startup/shutdown paths too.
//!
//! [`Datapath`] implements it by delegation; nothing here adds behavior.

use crate::dataplane::queues::{PortQueues, QueueSpec};
use crate::dataplane::{
    Datapath, DatapathConfig, DatapathStats, PacketInEvent, PortCounters, Trace, Workers,
};
use crate::packet::FlowKey;
use crate::pipeline::SnapshotReader;
use crate::port::Port;
use ofproto::action::Action;
use ofproto::WireError;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the owner task asks of the data plane (see [`Datapath`]'s docs for
/// each call's meaning).
pub trait DataplaneOps: Send + Sync {
    fn add_port(&self, ofport: u32, port: Arc<dyn Port>);
    fn remove_port(&self, ofport: u32) -> Option<Arc<dyn Port>>;
    fn set_port_config(&self, ofport: u32, config: u32);
    fn set_port_state(&self, ofport: u32, state: u32);
    fn port_counters(&self, ofport: u32) -> Option<PortCounters>;
    fn set_miss_send_len(&self, n: u16);
    fn set_fail_open(&self, on: bool);
    fn set_invalid_ttl_to_controller(&self, on: bool);
    fn packet_out(&self, in_port: u32, actions: &[Action], frame: &[u8]) -> Result<(), WireError>;
    fn trace(&self, in_port: u32, frame: &[u8]) -> Trace;
    fn trace_key(&self, key: &FlowKey) -> Trace;
    /// Data-plane event counters (PACKET_IN, flow cache) for the metrics
    /// endpoint. Defaults to zeros so test fakes need not count.
    fn stats(&self) -> DatapathStats {
        DatapathStats::default()
    }
    /// Replaces the per-port queues (`dataplane/queues.rs`); fakes have none.
    fn configure_queues(&self, _specs: &[QueueSpec]) {}
    /// Every port's queues and their counters; fakes have none.
    fn queue_reports(&self) -> Vec<PortQueues> {
        Vec::new()
    }
}

impl DataplaneOps for Datapath {
    fn configure_queues(&self, specs: &[QueueSpec]) {
        Datapath::configure_queues(self, specs)
    }
    fn queue_reports(&self) -> Vec<PortQueues> {
        Datapath::queue_reports(self)
    }
    fn add_port(&self, ofport: u32, port: Arc<dyn Port>) {
        Datapath::add_port(self, ofport, port)
    }
    fn remove_port(&self, ofport: u32) -> Option<Arc<dyn Port>> {
        Datapath::remove_port(self, ofport)
    }
    fn set_port_config(&self, ofport: u32, config: u32) {
        Datapath::set_port_config(self, ofport, config)
    }
    fn set_port_state(&self, ofport: u32, state: u32) {
        Datapath::set_port_state(self, ofport, state)
    }
    fn port_counters(&self, ofport: u32) -> Option<PortCounters> {
        Datapath::port_counters(self, ofport)
    }
    fn set_miss_send_len(&self, n: u16) {
        Datapath::set_miss_send_len(self, n)
    }
    fn set_fail_open(&self, on: bool) {
        Datapath::set_fail_open(self, on)
    }
    fn set_invalid_ttl_to_controller(&self, on: bool) {
        Datapath::set_invalid_ttl_to_controller(self, on)
    }
    fn packet_out(&self, in_port: u32, actions: &[Action], frame: &[u8]) -> Result<(), WireError> {
        Datapath::packet_out(self, in_port, actions, frame)
    }
    fn trace(&self, in_port: u32, frame: &[u8]) -> Trace {
        Datapath::trace(self, in_port, frame)
    }
    fn trace_key(&self, key: &FlowKey) -> Trace {
        Datapath::trace_key(self, key)
    }
    fn stats(&self) -> DatapathStats {
        Datapath::stats(self)
    }
}

/// Running data-plane threads; `stop` joins them (blocking).
pub trait WorkerSet: Send {
    fn stop(self: Box<Self>);
}

impl WorkerSet for Workers {
    fn stop(self: Box<Self>) {
        Workers::stop(*self)
    }
}

/// A started data plane: the handle the owner task calls and its threads.
pub struct StartedDataplane {
    pub ops: Arc<dyn DataplaneOps>,
    pub workers: Box<dyn WorkerSet>,
}

/// Builds and starts a bridge's data plane (the real one:
/// [`real_dataplane`]; tests substitute a fake).
pub type DataplaneFactory = Arc<
    dyn Fn(
            DatapathConfig,
            SnapshotReader,
            mpsc::Sender<PacketInEvent>,
        ) -> Result<StartedDataplane, String>
        + Send
        + Sync,
>;

/// Worker threads per bridge: the target hosts have 2 cores, one of which
/// the control plane and the kernel need.
pub const WORKERS_PER_BRIDGE: usize = 1;

/// [`Datapath::new`] + [`Datapath::start`].
pub fn real_dataplane() -> DataplaneFactory {
    Arc::new(|cfg, reader, packet_in| {
        let dp = Datapath::new(cfg, reader, packet_in);
        let workers = dp
            .start(WORKERS_PER_BRIDGE)
            .map_err(|e| format!("cannot start data plane threads: {e}"))?;
        Ok(StartedDataplane {
            ops: dp,
            workers: Box::new(workers),
        })
    })
}
