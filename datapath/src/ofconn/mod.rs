//! The OpenFlow channel: one tokio task per connection, the transports that
//! create connections (active `tcp:`/`ssl:`/`unix:` with reconnect, passive
//! `ptcp:`/`pssl:`/`punix:` listeners), and a small client for the CLI and
//! tests.
//!
//! - [`conn`]: [`run_connection`] owns one stream: HELLO negotiation (OpenFlow
//!   1.3 only), echo and inactivity probe, framing and decode errors, and the
//!   [`BridgeEvent`](crate::bridge::BridgeEvent) traffic to and from its bridge.
//! - [`transport`]: OVS-style target strings ([`Target`], [`ListenTarget`]),
//!   [`spawn_active`] and [`spawn_listener`].
//! - [`tls`]: [`TlsContext`] — the certificates of `ssl:`/`pssl:`, mutual
//!   authentication against a CA, as OVS.
//! - [`client`]: [`OfClient`] (async) and [`BlockingClient`] — request/reply,
//!   multipart collection, barrier with error collection, as ovs-ofctl does.

pub mod client;
pub mod conn;
mod frame;
pub mod tls;
pub mod transport;

#[cfg(test)]
mod tests;

pub use client::{BlockingClient, ClientError, OfClient, RequestError};
pub use conn::{run_connection, ConnConfig};
pub use tls::{TlsContext, TlsError, TlsFiles};
pub use transport::{
    bind_listener, bind_listener_with, connect, connect_with, spawn_active, spawn_active_tls,
    spawn_active_with, spawn_listener, BoundListener, ListenTarget, OfStream, Target, TargetError,
    DEFAULT_OFP_PORT,
};
