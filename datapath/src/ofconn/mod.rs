//! The OpenFlow channel: one tokio task per connection, the transports that
//! create connections (active `tcp:`/`unix:` with reconnect, passive `ptcp:`/
//! `punix:` listeners), and a small client for the CLI and tests.
//!
//! - [`conn`]: [`run_connection`] owns one stream: HELLO negotiation (OpenFlow
//!   1.3 only), echo and inactivity probe, framing and decode errors, and the
//!   [`BridgeEvent`](crate::bridge::BridgeEvent) traffic to and from its bridge.
//! - [`transport`]: OVS-style target strings ([`Target`], [`ListenTarget`]),
//!   [`spawn_active`] and [`spawn_listener`].
//! - [`client`]: [`OfClient`] (async) and [`BlockingClient`] — request/reply,
//!   multipart collection, barrier with error collection, as ovs-ofctl does.

pub mod client;
pub mod conn;
mod frame;
pub mod transport;

#[cfg(test)]
mod tests;

pub use client::{BlockingClient, ClientError, OfClient, RequestError};
pub use conn::{run_connection, ConnConfig};
pub use transport::{
    bind_listener, connect, spawn_active, spawn_active_with, spawn_listener, BoundListener,
    ListenTarget, OfStream, Target, TargetError, DEFAULT_OFP_PORT,
};
