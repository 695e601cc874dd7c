//! What connections tell a bridge, and what a bridge sends back.
//!
//! Each OpenFlow connection is a task (`crate::ofconn`) that owns its socket,
//! the HELLO handshake, echo/inactivity probing and framing. Everything that
//! touches switch state goes to the bridge's single owner task as a
//! [`BridgeEvent`] over one mpsc channel, so messages are applied in arrival
//! order; replies and async messages come back through the connection's
//! [`ConnHandle::tx`].

use bytes::Bytes;
use ofproto::Message;
use tokio::sync::mpsc;

/// Unique per bridge for the life of the process.
pub type ConnId = u64;

/// How a connection counts (as in OVS).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConnKind {
    /// `--controller` (active) or `--listen` (passive): gets async messages,
    /// takes roles, counts for fail mode.
    Primary,
    /// The `.mgmt` unix socket: async messages only after SET_CONFIG /
    /// SET_ASYNC asks for them; never counts for fail mode.
    Service,
}

/// What a connection task sends out on its socket.
#[derive(Clone, Debug)]
pub enum Outbound {
    Msg {
        xid: u32,
        msg: Message,
    },
    /// Already-encoded bytes (e.g. forwarded frames).
    Raw(Bytes),
}

/// A connection as the bridge sees it.
#[derive(Clone, Debug)]
pub struct ConnHandle {
    pub id: ConnId,
    pub kind: ConnKind,
    /// Peer address for logs (`tcp:127.0.0.1:6653`, `unix:/run/tapflow/br0.mgmt`).
    pub peer: String,
    pub tx: mpsc::Sender<Outbound>,
}

/// Events from connections to their bridge.
#[derive(Debug)]
pub enum BridgeEvent {
    /// HELLO negotiation succeeded.
    ConnUp(ConnHandle),
    /// The connection is gone (closed, failed, or probe timeout).
    ConnDown(ConnId),
    /// A decoded request (anything but HELLO/ECHO, which the connection
    /// answers itself). `raw` is the whole message, for error replies.
    Request {
        conn: ConnId,
        xid: u32,
        msg: Message,
        raw: Bytes,
    },
}
