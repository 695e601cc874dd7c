//! What a bridge's owner task hands the metrics endpoint
//! ([`BridgeMetrics`], built in one go by `Bridge::metrics` on
//! `Command::Metrics`), and the per-controller counters the owner task
//! keeps for it ([`ControllerStats`]).

use super::select::FlowSample;
use crate::bridge::event::{ConnHandle, ConnId, ConnKind};
use crate::dataplane::{DatapathStats, PortCounters};
use crate::pipeline::Pipeline;
use std::collections::HashMap;

/// One port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSample {
    pub ofport: u32,
    pub name: String,
    /// Link up (no `OFPPS_LINK_DOWN`).
    pub up: bool,
    pub counters: PortCounters,
}

/// One table that has flows or has been looked up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableSample {
    pub table_id: u8,
    pub active: u64,
    pub lookups: u64,
    pub matches: u64,
}

/// One controller target (see [`ControllerStats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerSample {
    pub target: String,
    /// Connections up for this target now.
    pub connections: u32,
    pub messages_in: u64,
    pub messages_out: u64,
    /// Asynchronous messages not sent because the connection's queue was full.
    pub messages_dropped: u64,
}

/// Everything one scrape reports for one bridge, read by its owner task in
/// one step (so the numbers belong together).
#[derive(Clone, Debug, Default)]
pub struct BridgeMetrics {
    pub bridge: String,
    /// By OpenFlow port number.
    pub ports: Vec<PortSample>,
    /// Only tables with flows or lookups (254 idle tables × bridges would
    /// otherwise dominate the output).
    pub tables: Vec<TableSample>,
    pub controllers: Vec<ControllerSample>,
    pub datapath: DatapathStats,
    /// Only what `--metrics-flows` selects.
    pub flows: Vec<FlowSample>,
}

/// The tables worth reporting: flows installed or lookups counted.
pub fn table_samples(pipeline: &Pipeline) -> Vec<TableSample> {
    pipeline
        .tables()
        .filter_map(|t| {
            let s = TableSample {
                table_id: t.id(),
                active: t.len() as u64,
                lookups: t.counters().lookups(),
                matches: t.counters().matched(),
            };
            (s.active != 0 || s.lookups != 0).then_some(s)
        })
        .collect()
}

/// Per-controller counters, kept by the owner task (a few integer adds per
/// message; nothing on the data path).
///
/// Series are per *target*, not per connection, so they survive reconnects
/// and do not multiply with ephemeral peer ports:
/// - an active target (`tcp:HOST:PORT`) is matched by the connection's
///   peer name, which the connection layer sets to the target itself;
/// - connections accepted by `--listen` count under the listener's address
///   (`ptcp:6653:127.0.0.1`); a bridge with several listeners cannot tell
///   which one accepted a connection, so its passive connections count
///   under all listener names joined by `,`;
/// - a primary connection matching neither (only possible in tests) gets a
///   series named by its peer, dropped when it closes.
///
/// Service connections (`BRIDGE.mgmt`, the CLI) are not controllers and are
/// not counted. Messages are counted where the bridge sees them: requests
/// it handles in, replies and asynchronous messages queued out; HELLO and
/// ECHO, answered by the connection task itself, are not included.
#[derive(Debug, Default)]
pub struct ControllerStats {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    passive: Option<usize>,
    conns: HashMap<ConnId, usize>,
}

#[derive(Debug)]
struct Slot {
    configured: bool,
    s: ControllerSample,
}

impl ControllerStats {
    /// The configured targets: active ones as `Target` prints them, and
    /// the bound `--listen` addresses. They are reported even while down.
    pub fn set_targets(&mut self, active: &[String], listeners: &[String]) {
        let mut add = |target: String| {
            self.slots.push(Some(Slot {
                configured: true,
                s: ControllerSample {
                    target,
                    ..Default::default()
                },
            }));
            self.slots.len() - 1
        };
        for t in active {
            add(t.clone());
        }
        if !listeners.is_empty() {
            self.passive = Some(add(listeners.join(",")));
        }
    }

    fn slot(&mut self, id: ConnId) -> Option<&mut ControllerSample> {
        let i = *self.conns.get(&id)?;
        self.slots[i].as_mut().map(|s| &mut s.s)
    }

    pub fn conn_up(&mut self, h: &ConnHandle) {
        if h.kind != ConnKind::Primary {
            return;
        }
        let passive = self.passive;
        let found = self.slots.iter().enumerate().position(|(i, s)| {
            Some(i) != passive
                && s.as_ref()
                    .is_some_and(|s| s.configured && s.s.target == h.peer)
        });
        let i = match found.or(passive) {
            Some(i) => i,
            None => {
                let slot = Some(Slot {
                    configured: false,
                    s: ControllerSample {
                        target: h.peer.clone(),
                        ..Default::default()
                    },
                });
                match self.free.pop() {
                    Some(i) => {
                        self.slots[i] = slot;
                        i
                    }
                    None => {
                        self.slots.push(slot);
                        self.slots.len() - 1
                    }
                }
            }
        };
        if let Some(s) = self.slots[i].as_mut() {
            s.s.connections += 1;
        }
        self.conns.insert(h.id, i);
    }

    pub fn conn_down(&mut self, id: ConnId) {
        let Some(i) = self.conns.remove(&id) else {
            return;
        };
        let gone = match self.slots[i].as_mut() {
            Some(s) => {
                s.s.connections = s.s.connections.saturating_sub(1);
                !s.configured && s.s.connections == 0
            }
            None => false,
        };
        if gone {
            self.slots[i] = None;
            self.free.push(i);
        }
    }

    /// A request from `id` reached the bridge.
    pub fn message_in(&mut self, id: ConnId) {
        if let Some(s) = self.slot(id) {
            s.messages_in += 1;
        }
    }

    /// A message to `id` was queued.
    pub fn message_out(&mut self, id: ConnId) {
        if let Some(s) = self.slot(id) {
            s.messages_out += 1;
        }
    }

    /// An asynchronous message to `id` was dropped (queue full).
    pub fn message_dropped(&mut self, id: ConnId) {
        if let Some(s) = self.slot(id) {
            s.messages_dropped += 1;
        }
    }

    pub fn samples(&self) -> Vec<ControllerSample> {
        self.slots.iter().flatten().map(|s| s.s.clone()).collect()
    }
}
