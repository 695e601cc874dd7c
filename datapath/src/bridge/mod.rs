//! A bridge: the owner task of one switch's authoritative state (flow
//! tables, ports, connections' roles) on the control plane, and the
//! daemon-level plumbing around it.
//!
//! - [`event`]: the fixed interface to the connection tasks.
//! - [`openflow`]: the owner task ([`Bridge`]) — every OpenFlow request,
//!   PACKET_IN/PORT_STATUS/FLOW_REMOVED delivery, expiry, fail-open.
//! - [`conns`]: per-connection role and async configuration, role election.
//! - [`ports`]: opening ports, OpenFlow numbering, the state file.
//! - [`failmode`]: standalone/secure decisions.
//! - [`multipart`]: reply splitting, DESC and TABLE_FEATURES.
//! - [`trace`]: a match description → a frame to trace.
//! - [`dp`]: the data-plane calls the owner makes, as a trait.
//! - [`ctl`]: the JSON control socket `RUNDIR/tapflowd.ctl`.
//! - [`runtime`]: starting and stopping all bridges (`start_all`).

pub mod conns;
pub mod ctl;
pub mod dp;
pub mod event;
pub mod failmode;
pub mod multipart;
pub mod openflow;
pub mod ports;
pub mod runtime;
pub mod trace;

#[cfg(test)]
mod tests;

pub use event::{BridgeEvent, ConnHandle, ConnId, ConnKind, Outbound};
pub use openflow::{Bridge, BridgeSettings, Command};
