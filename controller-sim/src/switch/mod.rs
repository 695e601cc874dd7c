//! One task per connected switch. It owns the connection, what it knows of
//! the switch's ports and (app `l2-learning`) its MAC table, and follows the
//! shared network description: it converges the switch's flows on connect,
//! on a port change that matters, and on every successful reload, and
//! answers PACKET_INs for its app.

pub mod conn;
pub mod converge;
#[cfg(test)]
mod fake_switch;
pub mod flowkey;
pub mod ports;

use crate::apps::l2_learning::L2Learning;
use crate::apps::router_arp;
use crate::desc::{App, NetDesc};
use crate::metrics::Metrics;
use crate::plan::{self, PlannedFlow};
use conn::{describe_error, ConnError, OfConn};
use ofproto::action::Action;
use ofproto::consts::{OFPPR_ADD, OFPPR_DELETE, OFPP_CONTROLLER, OFP_NO_BUFFER};
use ofproto::message::{PacketIn, PacketOut, PortStatus};
use ofproto::multipart::{FlowStats, MultipartReplyBody, MultipartRequestBody};
use ofproto::oxm::OxmField;
use ofproto::Message;
use ports::{is_up, Ports};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// What every switch task shares: the current description (replaced whole
/// by a successful reload) and the metrics.
#[derive(Clone)]
pub struct Shared {
    pub desc: watch::Receiver<Arc<NetDesc>>,
    pub metrics: Arc<Metrics>,
}

/// How a connection ended.
#[derive(Debug)]
pub struct Ended {
    /// The switch got through HELLO and FEATURES (a dialer resets its backoff).
    pub handshaken: bool,
    pub reason: ConnError,
}

/// `0000000000000001`, as OVS prints a datapath id.
pub fn dpid_str(dpid: u64) -> String {
    format!("{dpid:016x}")
}

/// Serves one switch connection until it ends.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: &str,
    shared: Shared,
) -> Ended {
    let (conn, features) = match OfConn::handshake(stream).await {
        Ok(x) => x,
        Err(reason) => {
            return Ended {
                handshaken: false,
                reason,
            }
        }
    };
    let dpid = features.datapath_id;
    let _counted = shared.metrics.switch_connected(dpid);
    let mut desc_rx = shared.desc.clone();
    let desc = desc_rx.borrow_and_update().clone();
    let mut s = Session {
        conn,
        dpid,
        peer: peer.to_string(),
        ports: Ports::default(),
        l2: L2Learning::default(),
        desc,
        metrics: shared.metrics,
    };
    let Err(reason) = s.run(&mut desc_rx).await;
    info!("switch {} ({peer}) disconnected: {reason}", dpid_str(dpid));
    Ended {
        handshaken: true,
        reason,
    }
}

struct Session<S> {
    conn: OfConn<S>,
    dpid: u64,
    peer: String,
    ports: Ports,
    l2: L2Learning,
    desc: Arc<NetDesc>,
    metrics: Arc<Metrics>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// Serves the switch until the connection fails (the only way out).
    async fn run(
        &mut self,
        desc_rx: &mut watch::Receiver<Arc<NetDesc>>,
    ) -> Result<Infallible, ConnError> {
        self.start().await?;
        loop {
            let trigger = tokio::select! {
                m = self.conn.recv() => {
                    let (xid, m) = m?;
                    self.handle(xid, m).await?
                }
                changed = desc_rx.changed() => {
                    // The reloader gone means the process is shutting down.
                    changed.map_err(|_| ConnError::Closed)?;
                    self.desc = desc_rx.borrow_and_update().clone();
                    Some("reload")
                }
            };
            if let Some(why) = trigger {
                self.converge(why, Instant::now()).await?;
            }
        }
    }

    /// PORT_DESC, then the first convergence.
    async fn start(&mut self) -> Result<(), ConnError> {
        let started = Instant::now();
        let parts = self
            .conn
            .multipart(MultipartRequestBody::PortDesc, "port desc reply")
            .await?;
        let descs = parts.into_iter().flat_map(|p| match p {
            MultipartReplyBody::PortDesc(v) => v,
            _ => Vec::new(),
        });
        self.ports = Ports::from_desc(descs);
        match (
            self.desc.controller.app,
            self.desc.bridge_for_dpid(self.dpid),
        ) {
            (App::VmFlows, None) => warn!(
                "switch {} connected from {} ({} ports) is no [[bridge]] of the description \
                 (none has its datapath_id): it gets none of our flows",
                dpid_str(self.dpid),
                self.peer,
                self.ports.len()
            ),
            (_, b) => info!(
                "switch {} connected from {} (bridge {}, {} ports)",
                dpid_str(self.dpid),
                self.peer,
                b.map(|b| b.name.as_str()).unwrap_or("-"),
                self.ports.len()
            ),
        }
        self.converge("connect", started).await
    }

    /// The flows this switch should have, and which of its flows with our
    /// cookie the app manages itself.
    fn desired(&self) -> (Vec<PlannedFlow>, fn(&FlowStats) -> bool) {
        match self.desc.controller.app {
            App::L2Learning => (plan::l2_learning_base(&self.desc), L2Learning::is_learned),
            App::VmFlows => match self.desc.bridge_for_dpid(self.dpid) {
                Some(b) => (plan::plan(&self.desc, b, &self.ports.view()), |_| false),
                // Not in the description (any more): it should hold none of ours.
                None => (Vec::new(), |_| false),
            },
        }
    }

    async fn converge(&mut self, why: &str, started: Instant) -> Result<(), ConnError> {
        let (desired, keep) = self.desired();
        let cookie = self.desc.controller.cookie;
        let o = converge::converge(&mut self.conn, cookie, &desired, keep, started).await?;
        self.metrics.converged(self.dpid, o.took);
        self.metrics.flows_installed(o.added as u64);
        self.metrics.flows_removed((o.deleted + o.replaced) as u64);
        info!(
            "switch {} converged ({why}): {} flows planned, {} unchanged, {} added ({} replacing), {} deleted{} in {:.1} ms",
            dpid_str(self.dpid),
            desired.len(),
            o.unchanged,
            o.added,
            o.replaced,
            o.deleted,
            if o.refused > 0 {
                format!(", {} REFUSED", o.refused)
            } else {
                String::new()
            },
            o.took.as_secs_f64() * 1e3
        );
        Ok(())
    }

    /// One message the switch sent on its own; returns a convergence trigger.
    async fn handle(&mut self, xid: u32, m: Message) -> Result<Option<&'static str>, ConnError> {
        match m {
            Message::PortStatus(ps) => Ok(self.port_status(&ps)),
            Message::PacketIn(pi) => {
                self.metrics.packet_in();
                self.packet_in(&pi).await?;
                Ok(None)
            }
            Message::FlowRemoved(fr) => {
                if fr.cookie == self.desc.controller.cookie {
                    if let Some(mac) = self.l2.flow_removed(&fr) {
                        debug!("switch {}: forgot {mac}", dpid_str(self.dpid));
                    }
                }
                Ok(None)
            }
            Message::Error(e) => {
                warn!(
                    "switch {} sent an error for xid {xid}: {}",
                    dpid_str(self.dpid),
                    describe_error(&e)
                );
                Ok(None)
            }
            m => {
                debug!("switch {}: ignored {}", dpid_str(self.dpid), m.type_name());
                Ok(None)
            }
        }
    }

    fn port_status(&mut self, ps: &PortStatus) -> Option<&'static str> {
        let changed = self.ports.apply(ps);
        let what = match ps.reason {
            OFPPR_ADD => "added",
            OFPPR_DELETE => "deleted",
            _ if is_up(&ps.desc) => "up",
            _ => "down",
        };
        if changed {
            info!(
                "switch {}: port {}({}) {what}",
                dpid_str(self.dpid),
                ps.desc.name,
                ps.desc.port_no
            );
            Some("port status")
        } else {
            None
        }
    }

    async fn packet_in(&mut self, pi: &PacketIn) -> Result<(), ConnError> {
        let in_port = pi.match_.fields.iter().find_map(|f| match f {
            OxmField::InPort(p) => Some(*p),
            _ => None,
        });
        let out: Vec<Message> = match self.desc.controller.app {
            App::VmFlows => {
                let Some(in_port) = in_port else {
                    return Ok(());
                };
                let desc = &self.desc;
                match router_arp::answer(&pi.data, |ip| desc.gateway_mac(ip)) {
                    Some(a) => {
                        debug!(
                            "switch {}: {} on port {} asked for {}: {}",
                            dpid_str(self.dpid),
                            a.asker,
                            self.ports.describe(in_port),
                            a.asked_for,
                            a.gateway_mac
                        );
                        vec![Message::PacketOut(PacketOut {
                            buffer_id: OFP_NO_BUFFER,
                            in_port: OFPP_CONTROLLER,
                            actions: vec![Action::Output {
                                port: in_port,
                                max_len: 0,
                            }],
                            data: a.frame.into(),
                        })]
                    }
                    None => Vec::new(),
                }
            }
            App::L2Learning => {
                let r = self.l2.packet_in(
                    pi,
                    self.desc.controller.cookie,
                    self.desc.controller.l2_idle_timeout,
                );
                if let Some((mac, port)) = r.learned {
                    debug!(
                        "switch {}: learned {mac} on port {}",
                        dpid_str(self.dpid),
                        self.ports.describe(port)
                    );
                }
                r.messages
            }
        };
        if out.is_empty() {
            return Ok(());
        }
        for m in out {
            match &m {
                Message::PacketOut(_) => self.metrics.packet_out(),
                Message::FlowMod(_) => self.metrics.flows_installed(1),
                _ => {}
            }
            self.conn.feed(m).await?;
        }
        self.conn.flush().await?;
        Ok(())
    }
}
