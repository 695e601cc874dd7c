//! The owner task of one bridge: the single place where the switch's state
//! changes. It exclusively owns the [`Pipeline`], the port registry and the
//! connections' roles and asynchronous configuration, and handles, in one
//! loop:
//!
//! - [`BridgeEvent`]s from the connection tasks (requests in arrival order);
//! - PACKET_INs from the data plane;
//! - link state changes of ports (→ PORT_STATUS);
//! - a 1 s timer: flow expiry (→ FLOW_REMOVED), fail-open, link polling when
//!   no link monitor runs;
//! - [`Command`]s from the control socket (add/del port, trace, snoop, info)
//!   and from the metrics endpoint (a counter snapshot, `crate::metrics`).
//!
//! ## Publication and BARRIER
//! FLOW_MODs change the owner's tables only; [`Pipeline::publish`] makes
//! them visible to the data plane. The loop applies every request already
//! queued (up to [`BATCH`]) and publishes once the queue is drained, so a
//! burst of FLOW_MODs costs one publish. A BARRIER, PACKET_OUT, multipart
//! request and trace publish first: the BARRIER_REPLY is queued only after
//! the new snapshot is in place, and workers load the snapshot after every
//! read, so the first frame read after the reply sees every earlier flow.
//!
//! ## Sending
//! Everything goes out with `try_send` on the connection's queue: a peer
//! that does not read cannot stall the bridge. Asynchronous messages to a
//! full queue are dropped (and counted in the log); a reply that does not
//! fit means the peer stopped reading its replies, and the connection is
//! closed.

use super::conns::{AsyncKind, Conn, Roles};
use super::dp::DataplaneOps;
use super::event::{BridgeEvent, ConnHandle, ConnId, ConnKind, Outbound};
use super::failmode::should_fail_open;
use super::multipart::{self as mp, N_TABLES_ADVERTISED};
use super::ports::{OpenHow, PortBackend, PortEntry, PortKind, Ports, SUPPORTED_CONFIG};
use super::trace::{trace_input, TraceInput};
use crate::config::FailMode;
use crate::dataplane::{PacketInEvent, Trace};
use crate::metrics::{BridgeMetrics, ControllerStats, FlowSelect, PortSample};
use crate::pipeline::table_config::TableConfigs;
use crate::pipeline::{Nanos, Pipeline, RemovedFlow};
use crate::port::LinkEvent;
use bytes::Bytes;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::instruction::Instruction;
use ofproto::message::{
    ErrorMsg, FeaturesReply, FlowMod, PacketIn, PacketOut, PortMod, PortStatus, RoleMsg,
    SwitchConfig, TableMod,
};
use ofproto::multipart::{
    MultipartReplyBody as RB, MultipartRequest, MultipartRequestBody as QB, PortStats,
    TableFeatures, OFP_PORT_STATS_LEN,
};
use ofproto::oxm::OxmField;
use ofproto::port::OFP_PORT_LEN;
use ofproto::{Message, WireError, OFP_VERSION};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, info, warn};

mod group_meter;
mod queues;
mod table_features;

/// Most queued requests applied before publishing anyway.
pub const BATCH: usize = 1024;
/// Least time between two publications the owner loop makes on its own
/// (BARRIER, PACKET_OUT, multipart requests and trace still publish at
/// once). A publish is cheap, but the first write after it to each shard of
/// the classifier copies that shard, so under a stream of FLOW_MODs
/// publishing after every drained batch copied most of the table over and
/// over (60 % of the owner's time at 100 k flows). Spacing publications
/// bounds that cost per second instead of per message; a lone FLOW_MOD
/// after a quiet spell is still published immediately. The spacing grows
/// with the table ([`publish_spacing`]): the part of a publish that copies
/// shard directories is proportional to the number of flows.
pub const PUBLISH_SPACING: Duration = Duration::from_millis(2);

/// [`PUBLISH_SPACING`] plus 1 ms per 50 000 installed flows, at most 20 ms
/// (at a million flows the directory copies alone took a third of the
/// owner's time with a fixed 2 ms).
pub fn publish_spacing(flows: usize) -> Duration {
    let extra = Duration::from_millis((flows / 50_000) as u64);
    (PUBLISH_SPACING + extra).min(Duration::from_millis(20))
}

/// Settings of one bridge the owner task needs.
#[derive(Clone, Debug)]
pub struct BridgeSettings {
    pub name: String,
    pub datapath_id: u64,
    pub fail_mode: FailMode,
    /// `--controller` or `--listen` given (see [`super::failmode`]).
    pub controllers_configured: bool,
    /// Fail-open after this long without a primary connection (3 × the
    /// inactivity probe interval).
    pub fail_open_after: Duration,
    /// Capacity of each table, for TABLE_FEATURES.
    pub max_entries: u32,
}

/// Requests from the control socket.
#[derive(Debug)]
pub enum Command {
    /// Adds interface `name` (created as a TAP if missing); replies the
    /// OpenFlow port number.
    AddPort {
        name: String,
        ofport: Option<u32>,
        reply: oneshot::Sender<Result<u32, String>>,
    },
    /// Removes a port by name (or number); replies its number.
    DelPort {
        name: String,
        reply: oneshot::Sender<Result<u32, String>>,
    },
    /// Traces a flow in ovs-ofctl match syntax.
    Trace {
        flow: String,
        reply: oneshot::Sender<Result<Trace, String>>,
    },
    /// Streams the bridge's OpenFlow traffic as text until `tx` closes.
    Snoop {
        tx: mpsc::Sender<String>,
    },
    Info {
        reply: oneshot::Sender<BridgeInfo>,
    },
    /// Writes the port state file (at the end of startup: a failed start
    /// leaves the previous file alone).
    SavePorts {
        reply: oneshot::Sender<std::io::Result<()>>,
    },
    /// The metrics endpoint's scrape: every counter of the bridge, read in
    /// one step (see [`Bridge::metrics`]), with per-flow counters only for
    /// the flows `flows` selects.
    Metrics {
        flows: Arc<FlowSelect>,
        reply: oneshot::Sender<BridgeMetrics>,
    },
    /// Stops the owner task (dropping every connection handle closes the
    /// connections).
    Shutdown,
}

/// What `list-bridges` shows.
#[derive(Clone, Debug)]
pub struct BridgeInfo {
    pub name: String,
    pub datapath_id: u64,
    pub fail_mode: FailMode,
    pub fail_open: bool,
    /// (ofport, name, kind, link up)
    pub ports: Vec<(u32, String, PortKind, bool)>,
    /// (id, peer, kind, role)
    pub connections: Vec<(ConnId, String, ConnKind, u32)>,
    pub flows: usize,
}

/// The owner task's inputs.
pub struct BridgeChannels {
    pub events: mpsc::Receiver<BridgeEvent>,
    pub packet_in: mpsc::Receiver<PacketInEvent>,
    pub links: mpsc::UnboundedReceiver<LinkEvent>,
    pub commands: mpsc::Receiver<Command>,
}

/// The flow-table clock (`crate::pipeline::clock::now` in production).
pub type Clock = Arc<dyn Fn() -> Nanos + Send + Sync>;

/// One bridge's authoritative state.
pub struct Bridge {
    s: BridgeSettings,
    pipeline: Pipeline,
    dp: Arc<dyn DataplaneOps>,
    ports: Ports,
    backend: Arc<dyn PortBackend>,
    conns: BTreeMap<ConnId, Conn>,
    roles: Roles,
    /// SET_CONFIG flags (fragment handling; only FRAG_NORMAL is accepted).
    switch_flags: u16,
    /// What the data plane was last told.
    dp_miss_send_len: u16,
    fail_open: bool,
    invalid_ttl_to_controller: bool,
    /// Since when no primary connection is up.
    disconnected_since: Instant,
    snoopers: Vec<mpsc::Sender<String>>,
    clock: Clock,
    /// What each table may hold (TABLE_FEATURES; see `table_features`).
    tables: TableConfigs,
    /// The TABLE_FEATURES reply for `tables`, built on first use.
    features: Option<Arc<Vec<TableFeatures>>>,
    /// TABLE_FEATURES set requests still receiving parts (REQ_MORE): xid
    /// and the entries so far, per connection.
    pending_features: BTreeMap<ConnId, (u32, Vec<TableFeatures>)>,
    dropped_async: u64,
    /// Per-controller message counters for the metrics endpoint.
    ctl_stats: ControllerStats,
}

fn werr(code: ErrorCode, reason: impl Into<std::borrow::Cow<'static, str>>) -> WireError {
    WireError::new(code, reason)
}

impl Bridge {
    pub fn new(
        settings: BridgeSettings,
        pipeline: Pipeline,
        dp: Arc<dyn DataplaneOps>,
        ports: Ports,
        backend: Arc<dyn PortBackend>,
    ) -> Bridge {
        let max_entries = settings.max_entries;
        Bridge {
            s: settings,
            pipeline,
            dp,
            ports,
            backend,
            conns: BTreeMap::new(),
            roles: Roles::default(),
            switch_flags: OFPC_FRAG_NORMAL,
            dp_miss_send_len: OFP_DEFAULT_MISS_SEND_LEN,
            fail_open: false,
            invalid_ttl_to_controller: false,
            disconnected_since: Instant::now(),
            snoopers: Vec::new(),
            clock: Arc::new(crate::pipeline::clock::now),
            tables: TableConfigs::new(max_entries),
            features: None,
            pending_features: BTreeMap::new(),
            dropped_async: 0,
            ctl_stats: ControllerStats::default(),
        }
    }

    /// Names the controller targets the metrics endpoint reports (also
    /// while disconnected): active targets as `Target` prints them (the
    /// peer name their connections carry) and bound `--listen` addresses.
    pub fn set_controller_targets(&mut self, active: &[String], listeners: &[String]) {
        self.ctl_stats.set_targets(active, listeners);
    }

    /// Replaces the flow-table clock (tests).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn is_fail_open(&self) -> bool {
        self.fail_open
    }

    /// Runs the owner loop until [`Command::Shutdown`] (or the command
    /// channel closes).
    pub async fn run(mut self, mut ch: BridgeChannels) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let poll_links = !self.backend.pushes_link_events();
        // Publication pacing (see PUBLISH_SPACING): when the last publish
        // was recent, changes wait for this deadline instead.
        let mut last_publish = tokio::time::Instant::now();
        let mut publish_due: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(publish_due.unwrap_or_else(tokio::time::Instant::now)),
                    if publish_due.is_some() => {}
                c = ch.commands.recv() => match c {
                    None | Some(Command::Shutdown) => break,
                    Some(c) => self.handle_command(c),
                },
                Some(ev) = ch.events.recv() => {
                    self.handle_event(ev);
                    for _ in 1..BATCH {
                        match ch.events.try_recv() {
                            Ok(ev) => self.handle_event(ev),
                            Err(_) => break,
                        }
                    }
                }
                Some(p) = ch.packet_in.recv() => self.packet_in(p),
                Some(l) = ch.links.recv() => self.link_event(&l),
                _ = tick.tick() => {
                    self.tick(Instant::now());
                    if poll_links {
                        self.poll_links();
                    }
                }
            }
            if !self.pipeline.has_unpublished_changes() {
                publish_due = None;
            } else {
                let now = tokio::time::Instant::now();
                let at = last_publish + publish_spacing(self.pipeline.len());
                if now >= at {
                    self.publish();
                    last_publish = now;
                    publish_due = None;
                } else {
                    publish_due = Some(at);
                }
            }
        }
        info!(bridge = %self.s.name, "bridge stopped");
    }

    /// Makes every change so far visible to the data plane.
    pub fn publish(&mut self) {
        if self.pipeline.has_unpublished_changes() {
            self.pipeline.publish();
        }
    }

    fn now(&self) -> Nanos {
        (self.clock)()
    }

    // --- events -------------------------------------------------------------------

    pub fn handle_event(&mut self, ev: BridgeEvent) {
        match ev {
            BridgeEvent::ConnUp(h) => self.conn_up(h),
            BridgeEvent::ConnDown(id) => self.conn_down(id),
            BridgeEvent::Request {
                conn,
                xid,
                msg,
                raw,
            } => self.request(conn, xid, msg, raw),
        }
    }

    fn conn_up(&mut self, h: ConnHandle) {
        let primary = h.kind == ConnKind::Primary;
        debug!(bridge = %self.s.name, conn = h.id, peer = %h.peer, "connection joined the bridge");
        self.ctl_stats.conn_up(&h);
        self.conns.insert(h.id, Conn::new(h));
        if primary && self.fail_open {
            info!(bridge = %self.s.name, "controller connected: leaving fail-open mode");
            self.fail_open = false;
            self.dp.set_fail_open(false);
        }
        self.sync_dataplane_settings();
    }

    fn conn_down(&mut self, id: ConnId) {
        self.ctl_stats.conn_down(id);
        self.pending_features.remove(&id);
        if let Some(c) = self.conns.remove(&id) {
            if c.is_primary() && !self.any_primary() {
                self.disconnected_since = Instant::now();
            }
        }
        self.sync_dataplane_settings();
    }

    fn any_primary(&self) -> bool {
        self.conns.values().any(Conn::is_primary)
    }

    /// The timer: expiry and fail-open.
    pub fn tick(&mut self, now: Instant) {
        let removed = self.pipeline.expire(self.now());
        self.flows_removed(&removed);
        let want = should_fail_open(
            self.s.fail_mode,
            self.s.controllers_configured,
            self.any_primary(),
            now.saturating_duration_since(self.disconnected_since),
            self.s.fail_open_after,
        );
        if want && !self.fail_open {
            warn!(
                bridge = %self.s.name,
                "no controller connected for {} s: fail-open (NORMAL forwarding) until one connects",
                self.s.fail_open_after.as_secs()
            );
            self.fail_open = true;
            self.dp.set_fail_open(true);
        }
    }

    /// Polls every port's link state (when no link monitor pushes events).
    pub fn poll_links(&mut self) {
        let changes: Vec<(u32, bool)> = self
            .ports
            .entries
            .values()
            .filter_map(|e| {
                let down = e.port.link_state().is_link_down();
                (down != e.link_down).then_some((e.ofport, down))
            })
            .collect();
        for (ofport, down) in changes {
            self.set_link(ofport, down);
        }
    }

    /// A link event is taken as a hint: the port's state is queried now.
    /// The monitor reports every change in order, including ones queued
    /// before the port existed (a new TAP is created down, then set up), so
    /// applying events as they come would announce a down/up flap for
    /// every port added; the current state is the truth either way.
    pub fn link_event(&mut self, ev: &LinkEvent) {
        let Some(e) = self.ports.entries.get(&ev.key) else {
            return;
        };
        let down = e.port.link_state().is_link_down();
        if down != ev.state.is_link_down() {
            debug!(bridge = %self.s.name, port = %e.name, "stale link event ignored");
        }
        self.set_link(ev.key, down);
    }

    fn set_link(&mut self, ofport: u32, down: bool) {
        let Some(e) = self.ports.entries.get_mut(&ofport) else {
            return;
        };
        if e.link_down == down {
            return;
        }
        e.link_down = down;
        info!(bridge = %self.s.name, port = %e.name, ofport, "link {}", if down { "down" } else { "up" });
        let desc = e.desc();
        self.dp.set_port_state(ofport, desc.state);
        self.port_status(OFPPR_MODIFY, desc);
    }

    pub fn packet_in(&mut self, p: PacketInEvent) {
        let msg = Message::PacketIn(PacketIn {
            buffer_id: OFP_NO_BUFFER,
            total_len: p.total_len,
            reason: p.reason,
            table_id: p.table_id,
            cookie: p.cookie,
            match_: p.match_,
            data: p.data,
        });
        self.send_async(AsyncKind::PacketIn, p.reason, msg);
    }

    fn flows_removed(&mut self, removed: &[RemovedFlow]) {
        if removed.is_empty() {
            return;
        }
        let now = self.now();
        for r in removed.iter().filter(|r| r.wants_flow_removed()) {
            let msg = Message::FlowRemoved(r.to_flow_removed(now));
            self.send_async(AsyncKind::FlowRemoved, r.reason, msg);
        }
    }

    // --- sending ------------------------------------------------------------------

    fn snoop(&mut self, line: impl FnOnce() -> String) {
        if self.snoopers.is_empty() {
            return;
        }
        let line = line();
        self.snoopers.retain(|tx| match tx.try_send(line.clone()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// A reply to a request; a full queue closes the connection.
    fn reply(&mut self, conn: ConnId, xid: u32, msg: Message) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let peer = c.handle.peer.clone();
        let name = self.s.name.clone();
        self.snoop(|| {
            format!(
                "{name} -> {peer}: {}",
                ofproto::print::format_message(OFP_VERSION, xid, &msg)
            )
        });
        let c = self.conns.get(&conn).expect("checked above");
        match c.handle.tx.try_send(Outbound::Msg { xid, msg }) {
            Ok(()) => self.ctl_stats.message_out(conn),
            Err(mpsc::error::TrySendError::Full(_)) => {
                warn!(
                    bridge = %self.s.name, conn, peer = %c.handle.peer,
                    "peer does not read its replies (queue full): closing the connection"
                );
                // Dropping our handle closes the connection; its task's
                // ConnDown then finds nothing left to do.
                self.conn_down(conn);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn error(&mut self, conn: ConnId, xid: u32, err: &WireError, raw: &[u8]) {
        debug!(bridge = %self.s.name, conn, xid, "refusing request: {err}");
        self.reply(conn, xid, Message::Error(ErrorMsg::for_request(err, raw)));
    }

    /// An asynchronous message to every connection that wants it (xid 0).
    /// PORT_STATUS with `reason` to every connection that wants it.
    fn port_status(&mut self, reason: u8, desc: ofproto::port::PortDesc) {
        self.send_async(
            AsyncKind::PortStatus,
            reason,
            Message::PortStatus(PortStatus { reason, desc }),
        );
    }

    /// Writes the port state file; a failure is logged, not fatal (the
    /// ports work, only a restart would lose them).
    fn save_ports(&self) {
        if let Err(e) = self.ports.save() {
            warn!(bridge = %self.s.name, "cannot save port state: {e}");
        }
    }

    fn send_async(&mut self, kind: AsyncKind, reason: u8, msg: Message) {
        let targets: Vec<ConnId> = self
            .conns
            .values()
            .filter(|c| c.wants(kind, reason))
            .map(|c| c.handle.id)
            .collect();
        if targets.is_empty() {
            return;
        }
        for id in targets {
            let c = &self.conns[&id];
            let peer = c.handle.peer.clone();
            let res = c.handle.tx.try_send(Outbound::Msg {
                xid: 0,
                msg: msg.clone(),
            });
            if res.is_ok() {
                self.ctl_stats.message_out(id);
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = res {
                self.ctl_stats.message_dropped(id);
                self.dropped_async += 1;
                if self.dropped_async.is_power_of_two() {
                    warn!(
                        bridge = %self.s.name, conn = id, peer = %peer,
                        "controller queue full: {} asynchronous messages dropped so far",
                        self.dropped_async
                    );
                }
                continue;
            }
            let name = self.s.name.clone();
            self.snoop(|| {
                format!(
                    "{name} -> {peer}: {}",
                    ofproto::print::format_message(OFP_VERSION, 0, &msg)
                )
            });
        }
    }

    /// Data-plane settings that follow the connections: miss_send_len (the
    /// largest of the connections that receive PACKET_INs; unchanged when
    /// there are none) and whether an invalid TTL goes to the controller
    /// (when any connection's async config asks for OFPR_INVALID_TTL).
    fn sync_dataplane_settings(&mut self) {
        let ttl = self
            .conns
            .values()
            .any(|c| c.wants(AsyncKind::PacketIn, OFPR_INVALID_TTL));
        if ttl != self.invalid_ttl_to_controller {
            self.invalid_ttl_to_controller = ttl;
            self.dp.set_invalid_ttl_to_controller(ttl);
        }
        let max = self
            .conns
            .values()
            .filter(|c| c.gets_async())
            .map(|c| c.miss_send_len)
            .max();
        if let Some(n) = max {
            if n != self.dp_miss_send_len {
                self.dp_miss_send_len = n;
                self.dp.set_miss_send_len(n);
            }
        }
    }

    // --- requests -----------------------------------------------------------------

    fn request(&mut self, id: ConnId, xid: u32, msg: Message, raw: Bytes) {
        let Some(c) = self.conns.get(&id) else {
            return; // closed meanwhile
        };
        let slave = c.is_slave();
        let peer = c.handle.peer.clone();
        let name = self.s.name.clone();
        self.ctl_stats.message_in(id);
        self.snoop(|| {
            format!(
                "{peer} -> {name}: {}",
                ofproto::print::format_message(OFP_VERSION, xid, &msg)
            )
        });
        let state_changing = matches!(
            msg,
            Message::FlowMod(_)
                | Message::PacketOut(_)
                | Message::PortMod(_)
                | Message::TableMod(_)
                | Message::GroupMod(_)
                | Message::MeterMod(_)
        ) || matches!(&msg, Message::MultipartRequest(r)
                if matches!(&r.body, QB::TableFeatures(t) if !t.is_empty()));
        if slave && state_changing {
            let e = werr(
                OFPBRC_IS_SLAVE,
                "a slave controller may not change the switch",
            );
            return self.error(id, xid, &e, &raw);
        }
        let res = match msg {
            Message::FeaturesRequest => {
                let r = Message::FeaturesReply(FeaturesReply {
                    datapath_id: self.s.datapath_id,
                    n_buffers: 0,
                    n_tables: N_TABLES_ADVERTISED,
                    auxiliary_id: 0,
                    capabilities: OFPC_FLOW_STATS
                        | OFPC_TABLE_STATS
                        | OFPC_PORT_STATS
                        | OFPC_GROUP_STATS
                        | OFPC_QUEUE_STATS,
                    reserved: 0,
                });
                self.reply(id, xid, r);
                Ok(())
            }
            Message::GetConfigRequest => {
                let r = Message::GetConfigReply(SwitchConfig {
                    flags: self.switch_flags,
                    miss_send_len: self.conns[&id].miss_send_len,
                });
                self.reply(id, xid, r);
                Ok(())
            }
            Message::SetConfig(c) => self.set_config(id, slave, c),
            Message::FlowMod(fm) => self.flow_mod(&fm),
            Message::PacketOut(po) => self.packet_out(po),
            Message::BarrierRequest => {
                self.publish();
                self.reply(id, xid, Message::BarrierReply);
                Ok(())
            }
            Message::MultipartRequest(r) => self.multipart(id, xid, r),
            Message::PortMod(pm) => self.port_mod(&pm),
            Message::TableMod(tm) => table_mod(&tm),
            Message::RoleRequest(r) => self.role_request(id, xid, r),
            Message::GetAsyncRequest => {
                let r = Message::GetAsyncReply(self.conns[&id].async_cfg);
                self.reply(id, xid, r);
                Ok(())
            }
            Message::SetAsync(a) => {
                let c = self.conns.get_mut(&id).expect("checked above");
                c.async_cfg = a;
                c.async_requested = true;
                self.sync_dataplane_settings();
                Ok(())
            }
            Message::GroupMod(gm) => self.group_mod(&gm),
            Message::MeterMod(mm) => self.meter_mod(&mm),
            Message::QueueGetConfigRequest(q) => {
                self.queue_get_config(&q).map(|r| self.reply(id, xid, r))
            }
            Message::Experimenter(x) => Err(werr(
                OFPBRC_BAD_EXPERIMENTER,
                format!("experimenter {:#010x} is not supported", x.experimenter),
            )),
            // The connection task answers these; never an error for them.
            Message::EchoRequest(d) => {
                self.reply(id, xid, Message::EchoReply(d));
                Ok(())
            }
            Message::Hello(_) | Message::EchoReply(_) => Ok(()),
            // Never answer an error with an error.
            Message::Error(e) => {
                info!(bridge = %self.s.name, conn = id, "peer sent an error: {:?}", e);
                Ok(())
            }
            other => Err(werr(
                OFPBRC_BAD_TYPE,
                format!("{} is not a request a switch handles", other.type_name()),
            )),
        };
        if let Err(e) = res {
            self.error(id, xid, &e, &raw);
        }
    }

    fn set_config(&mut self, id: ConnId, slave: bool, c: SwitchConfig) -> Result<(), WireError> {
        if c.flags & !OFPC_FRAG_MASK != 0 || c.flags & OFPC_FRAG_MASK != OFPC_FRAG_NORMAL {
            return Err(werr(
                OFPSCFC_BAD_FLAGS,
                format!(
                    "config flags {:#x}: only normal fragment handling is supported",
                    c.flags
                ),
            ));
        }
        if !slave {
            self.switch_flags = c.flags;
        }
        let conn = self.conns.get_mut(&id).expect("caller checked");
        conn.miss_send_len = c.miss_send_len;
        self.sync_dataplane_settings();
        Ok(())
    }

    fn flow_mod(&mut self, fm: &FlowMod) -> Result<(), WireError> {
        Message::FlowMod(fm.clone()).validate()?;
        if matches!(fm.command, OFPFC_ADD | OFPFC_MODIFY | OFPFC_MODIFY_STRICT) {
            check_instructions(fm, &self.pipeline)?;
        }
        self.tables.check_flow_mod(fm)?;
        let now = self.now();
        let out = self.pipeline.apply_flow_mod(fm, now)?;
        self.flows_removed(&out.removed);
        if fm.buffer_id != OFP_NO_BUFFER {
            // Applied, as OVS does; the packet it names does not exist.
            return Err(werr(
                OFPBRC_BUFFER_UNKNOWN,
                format!("buffer {:#x}: this switch buffers no packets", fm.buffer_id),
            ));
        }
        Ok(())
    }

    fn packet_out(&mut self, po: PacketOut) -> Result<(), WireError> {
        if po.buffer_id != OFP_NO_BUFFER {
            return Err(werr(
                OFPBRC_BUFFER_UNKNOWN,
                format!("buffer {:#x}: this switch buffers no packets", po.buffer_id),
            ));
        }
        let in_port = match po.in_port {
            OFPP_ANY | OFPP_CONTROLLER => OFPP_CONTROLLER,
            OFPP_LOCAL => OFPP_LOCAL,
            p if p <= OFPP_MAX && p != 0 => p,
            p => {
                return Err(werr(
                    OFPBRC_BAD_PORT,
                    format!("packet_out in_port {p:#x} is not a port"),
                ))
            }
        };
        let groups = self.pipeline.groups();
        check_actions(&po.actions, false, &|g| groups.contains(g))?;
        self.publish();
        self.dp.packet_out(in_port, &po.actions, &po.data)
    }

    fn multipart(&mut self, id: ConnId, xid: u32, r: MultipartRequest) -> Result<(), WireError> {
        Message::MultipartRequest(r.clone()).validate()?;
        self.publish();
        let one = |body| {
            vec![Message::MultipartReply(
                ofproto::multipart::MultipartReply { flags: 0, body },
            )]
        };
        if let Some(msgs) = self.group_meter_multipart(&r.body) {
            for m in msgs {
                self.reply(id, xid, m);
            }
            return Ok(());
        }
        let msgs = match r.body {
            QB::Desc => one(RB::Desc(mp::desc(&self.s.name))),
            QB::Flow(req) => {
                let flows = self.pipeline.flow_stats(&req, self.now())?;
                mp::replies(flows, mp::flow_stats_len, RB::Flow)
            }
            QB::Aggregate(req) => one(RB::Aggregate(self.pipeline.aggregate_stats(&req)?)),
            QB::Table => {
                let mut t = self.pipeline.table_stats();
                t.truncate(usize::from(N_TABLES_ADVERTISED));
                mp::replies(t, |_| ofproto::multipart::OFP_TABLE_STATS_LEN, RB::Table)
            }
            QB::PortStats(req) => {
                let stats = self.port_stats(req.port_no);
                mp::replies(stats, |_| OFP_PORT_STATS_LEN, RB::PortStats)
            }
            QB::PortDesc => {
                let d = self.ports.entries.values().map(PortEntry::desc).collect();
                mp::replies(d, |_| OFP_PORT_LEN, RB::PortDesc)
            }
            QB::TableFeatures(t) => return self.table_features_request(id, xid, r.flags, t),
            QB::Queue(req) => self.queue_stats(&req)?,
            other => {
                return Err(werr(
                    OFPBRC_BAD_MULTIPART,
                    format!(
                        "{} is not supported",
                        ofproto::multipart::multipart_type_name(other.mp_type())
                            .unwrap_or("multipart type")
                    ),
                ))
            }
        };
        for m in msgs {
            self.reply(id, xid, m);
        }
        Ok(())
    }

    fn port_stats(&self, port_no: u32) -> Vec<PortStats> {
        self.ports
            .entries
            .values()
            .filter(|e| port_no == OFPP_ANY || e.ofport == port_no)
            .map(|e| {
                let c = self.dp.port_counters(e.ofport).unwrap_or_default();
                let d = e.added.elapsed();
                PortStats {
                    port_no: e.ofport,
                    rx_packets: c.rx_packets,
                    tx_packets: c.tx_packets,
                    rx_bytes: c.rx_bytes,
                    tx_bytes: c.tx_bytes,
                    rx_dropped: c.rx_dropped,
                    tx_dropped: c.tx_dropped,
                    rx_errors: c.rx_errors,
                    tx_errors: c.tx_errors,
                    rx_frame_err: 0,
                    rx_over_err: 0,
                    rx_crc_err: 0,
                    collisions: 0,
                    duration_sec: d.as_secs().min(u64::from(u32::MAX)) as u32,
                    // Millisecond precision, as OVS reports it.
                    duration_nsec: d.subsec_millis() * 1_000_000,
                }
            })
            .collect()
    }

    fn port_mod(&mut self, pm: &PortMod) -> Result<(), WireError> {
        let Some(e) = self.ports.entries.get_mut(&pm.port_no) else {
            return Err(werr(
                OFPPMFC_BAD_PORT,
                format!("no port {}", ofproto::text::format_port(pm.port_no)),
            ));
        };
        if pm.hw_addr != e.hw_addr() {
            return Err(werr(
                OFPPMFC_BAD_HW_ADDR,
                format!(
                    "port {} has hw_addr {}, not {}",
                    e.name,
                    e.hw_addr(),
                    pm.hw_addr
                ),
            ));
        }
        if pm.mask & !SUPPORTED_CONFIG != 0 {
            return Err(werr(
                OFPPMFC_BAD_CONFIG,
                format!(
                    "config bits {:#x} cannot be changed (supported: PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN)",
                    pm.mask & !SUPPORTED_CONFIG
                ),
            ));
        }
        let current_adv = e.desc().advertised;
        if pm.advertise != 0 && pm.advertise != current_adv {
            return Err(werr(
                OFPPMFC_BAD_ADVERTISE,
                format!("advertised features of {} cannot be changed", e.name),
            ));
        }
        let config = (e.config & !pm.mask) | (pm.config & pm.mask);
        if config == e.config {
            return Ok(());
        }
        e.config = config;
        let (ofport, desc) = (e.ofport, e.desc());
        self.dp.set_port_config(ofport, config);
        self.port_status(OFPPR_MODIFY, desc);
        Ok(())
    }

    fn role_request(&mut self, id: ConnId, xid: u32, r: RoleMsg) -> Result<(), WireError> {
        let c = &self.conns[&id];
        let change = self
            .roles
            .request(c.handle.kind, c.role, r.role, r.generation_id)
            .map_err(|code| {
                let why = if code == OFPRRFC_STALE {
                    format!(
                        "generation_id {} is older than {:?}",
                        r.generation_id, self.roles.generation_id
                    )
                } else if code == OFPRRFC_UNSUP {
                    "service connections take no role".into()
                } else {
                    format!("role {} is not a role", r.role)
                };
                werr(code, why)
            })?;
        if change.demote_others {
            for (other, c) in self.conns.iter_mut() {
                if *other != id && c.role == OFPCR_ROLE_MASTER {
                    info!(bridge = %self.s.name, conn = other, "demoted to slave: another controller became master");
                    c.role = OFPCR_ROLE_SLAVE;
                }
            }
        }
        self.conns.get_mut(&id).expect("checked").role = change.role;
        self.sync_dataplane_settings();
        let reply = Message::RoleReply(RoleMsg {
            role: change.role,
            generation_id: self.roles.reply_generation(),
        });
        self.reply(id, xid, reply);
        Ok(())
    }

    // --- commands -----------------------------------------------------------------

    pub fn handle_command(&mut self, c: Command) {
        match c {
            Command::AddPort {
                name,
                ofport,
                reply,
            } => {
                let _ = reply.send(self.add_port(&name, ofport));
            }
            Command::DelPort { name, reply } => {
                let _ = reply.send(self.del_port(&name));
            }
            Command::Trace { flow, reply } => {
                let _ = reply.send(self.trace(&flow));
            }
            Command::Snoop { tx } => self.snoopers.push(tx),
            Command::Info { reply } => {
                let _ = reply.send(self.info());
            }
            Command::SavePorts { reply } => {
                let _ = reply.send(self.ports.save());
            }
            Command::Metrics { flows, reply } => {
                let _ = reply.send(self.metrics(&flows));
            }
            Command::Shutdown => {}
        }
    }

    /// `add-port`: the port comes up, is announced with PORT_STATUS ADD and
    /// remembered in the state file.
    pub fn add_port(&mut self, name: &str, ofport: Option<u32>) -> Result<u32, String> {
        crate::config::check_ifname(name).map_err(|e| e.0)?;
        if name == self.s.name {
            return Err(format!("{name} is the bridge's own (LOCAL) port"));
        }
        if self.ports.by_name(name).is_some() {
            return Err(format!("{name} is already a port of {}", self.s.name));
        }
        let n = self.ports.number_for(name, ofport)?;
        let opened = self
            .backend
            .open(name, n, OpenHow::Auto)
            .map_err(|e| format!("port {name}: {e}"))?;
        let entry = PortEntry::new(n, name, opened);
        let desc = entry.desc();
        self.dp.add_port(n, entry.port.clone());
        self.dp.set_port_state(n, desc.state);
        info!(bridge = %self.s.name, port = name, ofport = n, kind = entry.kind.as_str(), "port added");
        self.ports.parked.retain(|e| e.name != name);
        self.ports.entries.insert(n, entry);
        self.save_ports();
        self.port_status(OFPPR_ADD, desc);
        Ok(n)
    }

    /// `del-port`: by name or number; LOCAL cannot go.
    pub fn del_port(&mut self, name: &str) -> Result<u32, String> {
        let n = match self.ports.by_name(name) {
            Some(e) => e.ofport,
            None => match name.parse::<u32>() {
                Ok(n) if self.ports.entries.contains_key(&n) => n,
                _ => {
                    if let Some(i) = self.ports.parked.iter().position(|e| e.name == name) {
                        let e = self.ports.parked.remove(i);
                        self.save_ports();
                        return Ok(e.ofport);
                    }
                    return Err(format!("{name} is not a port of {}", self.s.name));
                }
            },
        };
        if n == OFPP_LOCAL {
            return Err(format!("{name} is the bridge's own (LOCAL) port"));
        }
        let mut entry = self.ports.entries.remove(&n).expect("found above");
        self.dp.remove_port(n);
        self.backend.forget(n);
        entry.link_down = true;
        let desc = entry.desc();
        info!(bridge = %self.s.name, port = %entry.name, ofport = n, "port deleted");
        drop(entry); // a TAP we created disappears here (or when the data plane lets go)
        self.save_ports();
        self.port_status(OFPPR_DELETE, desc);
        Ok(n)
    }

    /// `trace`: `in_port` may be given by name.
    pub fn trace(&mut self, flow: &str) -> Result<Trace, String> {
        let text = self.port_names_to_numbers(flow);
        let m = ofproto::text::parse_match(&text).map_err(|e| format!("{flow}: {e}"))?;
        self.publish();
        Ok(match trace_input(&m, OFPP_CONTROLLER) {
            TraceInput::Frame { in_port, frame } => self.dp.trace(in_port, &frame),
            TraceInput::Key(k) => self.dp.trace_key(&k),
        })
    }

    /// `in_port=tap1` → `in_port=1` for this bridge's ports.
    fn port_names_to_numbers(&self, flow: &str) -> String {
        flow.split(',')
            .map(|kv| {
                let t = kv.trim();
                if let Some(v) = t.strip_prefix("in_port=") {
                    if let Some(e) = self.ports.by_name(v) {
                        return format!("in_port={}", ofproto::text::format_port(e.ofport));
                    }
                }
                kv.to_string()
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every counter of the bridge for the metrics endpoint, read here in
    /// one step so the numbers belong together. Costs O(ports + tables)
    /// without per-flow selection; with one, `FlowSelect::collect` walks
    /// only what it must (formatting happens in the endpoint's task).
    pub fn metrics(&self, flows: &FlowSelect) -> BridgeMetrics {
        BridgeMetrics {
            bridge: self.s.name.clone(),
            ports: self
                .ports
                .entries
                .values()
                .map(|e| PortSample {
                    ofport: e.ofport,
                    name: e.name.clone(),
                    up: !e.link_down,
                    counters: self.dp.port_counters(e.ofport).unwrap_or_default(),
                })
                .collect(),
            tables: crate::metrics::table_samples(&self.pipeline),
            controllers: self.ctl_stats.samples(),
            datapath: self.dp.stats(),
            flows: flows.collect(&self.pipeline),
        }
    }

    pub fn info(&self) -> BridgeInfo {
        BridgeInfo {
            name: self.s.name.clone(),
            datapath_id: self.s.datapath_id,
            fail_mode: self.s.fail_mode,
            fail_open: self.fail_open,
            ports: self
                .ports
                .entries
                .values()
                .map(|e| (e.ofport, e.name.clone(), e.kind, !e.link_down))
                .collect(),
            connections: self
                .conns
                .values()
                .map(|c| (c.handle.id, c.handle.peer.clone(), c.handle.kind, c.role))
                .collect(),
            flows: self.pipeline.len(),
        }
    }
}

/// What the datapath cannot take in a FLOW_MOD's (or, with `in_flow`
/// false, a PACKET_OUT's; or a group bucket's) actions, with the spec's
/// codes: argument errors (`Action::check_args`: output to port
/// 0/ANY/unassigned, bad push ethertypes, unsettable fields), output:TABLE
/// outside PACKET_OUT, experimenter actions, and groups that don't exist
/// (`group_exists`): `OFPBAC_BAD_OUT_GROUP`, what OVS says of a missing group.
fn check_actions(
    actions: &[Action],
    in_flow: bool,
    group_exists: &dyn Fn(u32) -> bool,
) -> Result<(), WireError> {
    for a in actions {
        a.check_args()?;
        match a {
            Action::Output {
                port: OFPP_TABLE, ..
            } if in_flow => {
                return Err(werr(
                    OFPBAC_BAD_OUT_PORT,
                    "output:TABLE is only valid in PACKET_OUT",
                ))
            }
            Action::Group(g) if !group_exists(*g) => {
                return Err(werr(
                    OFPBAC_BAD_OUT_GROUP,
                    format!("group {g} does not exist"),
                ))
            }
            Action::Experimenter { experimenter, .. } => {
                return Err(werr(
                    OFPBAC_BAD_EXPERIMENTER,
                    format!("experimenter {experimenter:#010x} actions are not supported"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Actions after which a set_field's prerequisites may hold even if the
/// match does not promise them (the frame's headers changed).
fn changes_headers(a: &Action) -> bool {
    match a {
        Action::PushVlan(_)
        | Action::PopVlan
        | Action::PushMpls(_)
        | Action::PopMpls(_)
        | Action::PushPbb(_)
        | Action::PopPbb => true,
        Action::SetField(f) => matches!(
            f,
            OxmField::EthType(_) | OxmField::IpProto(_) | OxmField::Icmpv6Type(_)
        ),
        _ => false,
    }
}

/// A FLOW_MOD's instructions, for ADD and MODIFY: [`check_actions`], meters
/// (a missing one is `OFPMMFC_INVALID_METER`, as OVS answers), and set_field
/// prerequisites against the flow's match (`OFPBAC_MATCH_INCONSISTENT`),
/// unless an earlier action of the flow changes the headers.
fn check_instructions(fm: &FlowMod, pipeline: &Pipeline) -> Result<(), WireError> {
    let mut headers_changed = false;
    // The action set runs after the apply-actions list.
    let mut lists: Vec<&Vec<Action>> = Vec::new();
    for i in &fm.instructions {
        match i {
            Instruction::Meter(m) if !pipeline.meters().contains(*m) => {
                return Err(werr(
                    OFPMMFC_INVALID_METER,
                    format!("meter {m} does not exist"),
                ))
            }
            Instruction::ApplyActions(a) => lists.insert(0, a),
            Instruction::WriteActions(a) => lists.push(a),
            _ => {}
        }
    }
    let groups = pipeline.groups();
    for list in lists {
        check_actions(list, true, &|g| groups.contains(g))?;
        for a in list {
            if let Action::SetField(f) = a {
                if !headers_changed && !f.prereq().satisfied_by(&fm.match_) {
                    return Err(werr(
                        OFPBAC_MATCH_INCONSISTENT,
                        format!(
                            "set_field {}: the flow's match lacks its prerequisites",
                            f.name()
                        ),
                    ));
                }
            }
            headers_changed |= changes_headers(a);
        }
    }
    Ok(())
}

fn table_mod(tm: &TableMod) -> Result<(), WireError> {
    // No OFPTMFC_BAD_TABLE: every id is one of the 255 tables or OFPTT_ALL.
    if tm.config & !OFPTC_DEPRECATED_MASK != 0 {
        return Err(werr(
            OFPTMFC_BAD_CONFIG,
            format!(
                "table config {:#x} is not an OpenFlow 1.3 setting",
                tm.config
            ),
        ));
    }
    Ok(())
}
